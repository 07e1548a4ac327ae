/*
 * store: the incident timeline.
 *
 * An append-only, hash-chained log of events in one SQLite file.  Only this
 * module writes SQL.  Every append is committed and fsynced before the call
 * returns: when store_append() says LK_OK the event survives a crash.
 *
 * Incidents are not a mutable table: an incident's title, severity, services,
 * status and milestones are read back from its own events, so the only thing
 * that can be tampered with is the chain, and `verify` checks the chain.
 */
#ifndef LK_STORE_H
#define LK_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/err.h"

struct store;

/* The schema version this build writes and understands. */
#define STORE_SCHEMA_VERSION 2

#define STORE_HASH_HEX 65	/* 64 hex digits and a NUL */

struct store_actor {
	const char *user;	/* required */
	const char *from;	/* SSH client address, or NULL */
	const char *tty;	/* controlling terminal, or NULL */
};

/* An event as read back.  Strings belong to the store and are valid only
 * during the callback that received them. */
struct store_event {
	int64_t seq;
	int64_t ts_ms;
	int64_t incident_id;	/* 0: not tied to an incident */
	int64_t run_id;		/* 0: not part of a run */
	const char *actor_user;
	const char *actor_from;	/* may be NULL */
	const char *actor_tty;	/* may be NULL */
	const char *kind;
	const char *subject;	/* may be NULL */
	const char *message;	/* may be NULL */
	const char *data;	/* JSON text, may be NULL */
	const char *prev_hash;
	const char *hash;
};

typedef int (*store_event_cb)(const struct store_event *ev, void *arg);

/*
 * Kinds of event the store knows (any other is kept and exported as is):
 * incident.opened, incident.note, incident.milestone, incident.evidence
 * (what a watcher, or a person, kept to show what happened: the failing
 * checks, a unit's last journal lines; its message's first line says
 * what it is, the lines after it are the evidence, and the postmortem
 * quotes them whole), state.change, and the runs' run.*, step.*,
 * action.*.
 */

/* What to append.  The store fills in seq, time, actor and hashes. */
struct store_new_event {
	int64_t incident_id;
	int64_t run_id;
	const char *kind;
	const char *subject;
	const char *message;
	const char *data;	/* must be valid JSON text if not NULL */
};

enum store_milestone {
	STORE_DETECTED,
	STORE_ACKNOWLEDGED,
	STORE_MITIGATED,
	STORE_RESOLVED,
	STORE_CLOSED,
	STORE_MILESTONES
};

/* "detected", "acknowledged", ... */
const char *store_milestone_name(enum store_milestone m);
/* The incident status once milestone m is reached: "open", "acknowledged"... */
const char *store_milestone_status(enum store_milestone m);

struct store_incident {
	int64_t id;
	char *title;
	char severity[4];			/* "P1".."P4" */
	const char *status;			/* static string */
	char **services;
	size_t nservices;
	int64_t milestones[STORE_MILESTONES];	/* ms, 0 when not reached */
	/* Set where the time was inferred (by `watch`: the first failing
	 * sample, the checks passing again), not set by a person. */
	bool inferred[STORE_MILESTONES];
	int64_t opened_at;
	int64_t last_event_at;
	char *opened_by;
};

/* Frees *inc and sets it to NULL. */
void store_incident_free(struct store_incident **inc);

/*
 * The default timeline path: $LOOKOUT_DB, else $XDG_STATE_HOME/lookout/
 * timeline.db, else ~/.local/state/lookout/timeline.db.  Returns a string
 * the caller owns.
 */
char *store_default_path(void);

/*
 * Opens (creating if needed, with its directories 0700 and the file 0600) the
 * timeline at path and migrates its schema forward.  A file that is not a
 * database, or one written by a newer lookout, is refused and left untouched.
 * So is one that others could change or redirect: the file must be the
 * invoker's alone (0600) and so must its directory (0700), and every
 * directory above it must be one that only root and the invoker can change
 * (core/trust.h); the error names the path at fault, its owner and mode.
 * The actor is copied and stamped on every event this handle appends.
 */
enum lk_code store_open(const char *path, const struct store_actor *actor,
    struct store **out, struct lk_err *err);
/* The same for a timeline that must exist already: for commands that only
 * read, which create nothing ("no timeline at PATH", LK_ENOTFOUND). */
enum lk_code store_open_existing(const char *path,
    const struct store_actor *actor, struct store **out, struct lk_err *err);

/*
 * The change feed.  A subscriber of STORE_OWN gets the events this handle
 * appends, each once it is durable (`run --json` prints them as they
 * happen).  A subscriber of STORE_ALL gets every event appended to the
 * file from the moment it subscribed, by this handle or by another process
 * (a second engineer's console, a `lookout run` in a script), each once and
 * in seq order: this handle's at their commit, the others' when
 * store_poll() finds them.  History is read with store_event_foreach();
 * an event appended between subscribing and reading it may come both ways,
 * so a subscriber that reads history keeps the highest seq it has shown.
 * Callbacks may append, subscribe and unsubscribe.  Returns an id for
 * store_unsubscribe().
 */
enum store_sub_kind { STORE_OWN, STORE_ALL };
int store_subscribe(struct store *s, enum store_sub_kind kind,
    store_event_cb cb, void *arg);
void store_unsubscribe(struct store *s, int id);

/*
 * Hands the events other processes appended since the last look to the
 * STORE_ALL subscribers.  Costs one read of PRAGMA data_version while
 * nothing changed.  Never waits for a lock: a busy timeline is looked at
 * again next time (LK_OK).
 */
enum lk_code store_poll(struct store *s, struct lk_err *err);

/* Calls store_poll() from a timer on loop every interval_ms (<= 0: 250),
 * until store_unwatch() or store_close(). */
struct loop;
void store_watch(struct store *s, struct loop *loop, int64_t interval_ms);
void store_unwatch(struct store *s);

/* The seq of the last event in the file (0: none). */
int64_t store_head_seq(struct store *s);

/* Writes ev as DESIGN's event object, one line of JSON. */
void store_event_write_json(const struct store_event *ev, FILE *out);

/* Closes *s and sets it to NULL.  Safe on NULL. */
void store_close(struct store **s);

/* The timeline's path as it was given. */
const char *store_path(const struct store *s);
/* Its directory, checked private, as a path without links: where the
 * files that live beside it go (runbook locks). */
const char *store_dir(const struct store *s);

/* Appends one event durably.  *seq (if not NULL) receives its sequence. */
enum lk_code store_append(struct store *s, const struct store_new_event *ev,
    int64_t *seq, struct lk_err *err);

/* Incidents. */
enum lk_code store_incident_open(struct store *s, const char *title,
    const char *severity, const char *const *services, size_t nservices,
    int64_t *id, struct lk_err *err);
/* The same for an incident that a watcher detected at detected_ms (the
 * first failing sample), earlier than it opened it; 0: when it opens. */
enum lk_code store_incident_open_detected(struct store *s, const char *title,
    const char *severity, const char *const *services, size_t nservices,
    int64_t detected_ms, int64_t *id, struct lk_err *err);
enum lk_code store_incident_note(struct store *s, int64_t id, const char *text,
    struct lk_err *err);
/*
 * Records milestone m (acknowledged and later) with an optional text, as
 * set by a person.  A milestone a person already set, or one earlier than
 * a milestone a person set, is refused with LK_ESTATE; one that was only
 * inferred is overridden: a person's word wins.
 */
enum lk_code store_incident_advance(struct store *s, int64_t id,
    enum store_milestone m, const char *text, struct lk_err *err);
/*
 * Records milestone m as inferred, reached at at_ms (0: now): a watcher saw
 * the checks pass again (mitigated), stay healthy (resolved), or a person
 * act on the incident (acknowledged).  Refused with LK_ESTATE when m or a
 * later milestone is already reached, however.
 */
enum lk_code store_incident_infer(struct store *s, int64_t id,
    enum store_milestone m, int64_t at_ms, const char *text,
    struct lk_err *err);
/* Caller owns *out. */
enum lk_code store_incident_get(struct store *s, int64_t id,
    struct store_incident **out, struct lk_err *err);

typedef int (*store_incident_cb)(const struct store_incident *inc, void *arg);

/* Calls cb for every incident, newest first.  cb returns non-zero to stop. */
enum lk_code store_incident_foreach(struct store *s, store_incident_cb cb,
    void *arg, struct lk_err *err);

/* Calls cb for the events of incident id (0: all events) in order. */
enum lk_code store_event_foreach(struct store *s, int64_t incident_id,
    store_event_cb cb, void *arg, struct lk_err *err);

struct store_verify_report {
	bool ok;
	int64_t checked;	/* events whose hash was recomputed */
	int64_t runs_checked;	/* runs whose rows held */
	int64_t bad_seq;	/* first event at fault, 0 if none */
	int64_t last_seq;	/* the chain's end, walked to the end */
	char head_hash[STORE_HASH_HEX];
	char reason[512];	/* one sentence when !ok */
	/* What the journal's witness of the head says, one sentence, or ""
	 * (verify of one incident): found, not found, none to read. */
	char witness[512];
};

/*
 * Walks the whole chain (for incident_id != 0, up to that incident's last
 * event) and names the first event that was edited, deleted or inserted out
 * of order, then the first run whose runs or steps rows do not hold what
 * its events say.  Walked to the end, the chain's head is compared with
 * the last witness of it in the journal: a head witnessed there that the
 * file no longer holds (its newest events deleted and the head row
 * rewritten) or holds otherwise fails the report too.  Without a journal
 * to read, report->witness says so and only the chain counts.  LK_OK
 * means the walk ran; report->ok says whether it held.
 */
enum lk_code store_verify(struct store *s, int64_t incident_id,
    struct store_verify_report *report, struct lk_err *err);

/*
 * Whether the chain vouches for run_id as its rows record it, before a
 * replay or a resume acts on them: its source, SHA-256 and parameters are
 * those of its run.started event, its status and steps those of its
 * later events, and the chain holds from that event to its head (and the
 * head to the journal's witness, if there is one to read).  LK_EINPUT
 * with one sentence saying what differs; the caller names the run.
 */
enum lk_code store_run_vouch(struct store *s, int64_t run_id,
    struct lk_err *err);

/* One probe reading, for "when did it start" and the models' history. */
struct store_sample {
	int64_t ts_ms;
	const char *kind;	/* "service" or "queue" */
	const char *subject;	/* the service or queue name */
	const char *state;	/* "active/running ok", "stalled", ... */
	double value;		/* queue depth, restart count; < 0: none */
	double latency_ms;	/* endpoint check; < 0: none */
	/*
	 * 0: always written.  > 0: a reading whose state and value are those
	 * of the subject's last sample is written only once that sample is
	 * repeat_ms old, so the subject's samples are its changes plus a
	 * pulse that says it was still looked at.
	 */
	int64_t repeat_ms;
};

/*
 * Writes a probe cycle's samples in one transaction (leaving out those that
 * only repeat, see repeat_ms) and drops samples older than keep_ms in the
 * same one.  Samples are not hash-chained and not fsynced: they are
 * measurements, not the record of what people did.
 */
enum lk_code store_samples_add(struct store *s, const struct store_sample *v,
    size_t n, int64_t keep_ms, struct lk_err *err);

/*
 * A watcher's heartbeat: who (e.g. "watch@host[pid]") ended a cycle at
 * ts_ms.  One row per watcher, overwritten each time; not chained.
 */
enum lk_code store_heartbeat(struct store *s, const char *who, int64_t ts_ms,
    struct lk_err *err);
/* A watcher ends a cycle every 15 s at most: one whose last heartbeat is
 * older than this has stopped (the console and `status` say so). */
#define STORE_HEARTBEAT_ALIVE_MS (60 * 1000)

/* The latest heartbeat of any watcher, into who (len bytes) and *ts_ms;
 * *ts_ms is 0 when no watcher ever ran on this timeline. */
enum lk_code store_heartbeat_last(struct store *s, char *who, size_t len,
    int64_t *ts_ms, struct lk_err *err);

/* --- runbook runs ------------------------------------------------------- */

/*
 * A run keeps the exact runbook source, its SHA-256 and the parameters
 * (secrets replaced by where they come from), so a replay runs exactly
 * what ran.  Every call below appends its event and updates the run's
 * row in one transaction.  action.started, step.finished and run.finished
 * are fsynced before the call returns: an action is announced durably
 * before it starts, and a step's outcome before the next step starts.
 * run.started, step.started, action.finished and notes are written
 * without their own fsync; the next of those durable events covers them.
 */
struct store_run_step {
	int idx;
	char *name;
	char *status;		/* started, ok, failed, skipped, aborted,
				   interrupted */
	char *outcome;		/* one line, or NULL */
	int64_t started_at;
	int64_t finished_at;
};

struct store_run {
	int64_t id;
	int64_t incident_id;	/* 0: none */
	int64_t replay_of;	/* 0: not a replay */
	char *runbook;
	char *source;
	char sha256[STORE_HASH_HEX];
	char *params;		/* JSON object */
	bool dry_run;
	char *status;		/* running, succeeded, failed, aborted,
				   interrupted */
	char *message;		/* why it ended, or NULL */
	int64_t started_at;
	int64_t finished_at;
	char *actor;
	struct store_run_step *steps;
	size_t nsteps;
};

void store_run_free(struct store_run **run);

/* SHA-256 of text as 64 hex digits. */
void store_sha256_hex(const char *text, size_t len, char out[STORE_HASH_HEX]);

enum lk_code store_run_begin(struct store *s, const char *runbook,
    const char *source, const char *params_json, int64_t incident_id,
    bool dry_run, int64_t replay_of, int64_t *run_id, struct lk_err *err);
/* Marks an interrupted run as running again, for `run --resume`. */
enum lk_code store_run_resume(struct store *s, int64_t run_id,
    struct lk_err *err);
enum lk_code store_step_begin(struct store *s, int64_t run_id, int idx,
    const char *name, const char *plan, struct lk_err *err);
/* kind is "action.started", "action.finished" or "incident.note" (a
 * runbook's note(), shown in its incident's postmortem); data is JSON or
 * NULL. */
enum lk_code store_action_event(struct store *s, int64_t run_id, int idx,
    const char *kind, const char *subject, const char *message,
    const char *data, struct lk_err *err);
/* host: the other hosts the step's actions ran on (", " between them), or
 * NULL for this machine only; it goes in the event's data and the
 * postmortem's row. */
enum lk_code store_step_finish(struct store *s, int64_t run_id, int idx,
    const char *status, const char *outcome, const char *host,
    struct lk_err *err);
/* status "interrupted" appends run.interrupted, anything else
 * run.finished. */
enum lk_code store_run_finish(struct store *s, int64_t run_id,
    const char *status, const char *message, struct lk_err *err);
/* Caller owns *out. */
enum lk_code store_run_get(struct store *s, int64_t run_id,
    struct store_run **out, struct lk_err *err);
/* Newest first; the runs given to cb carry no source and no steps. */
typedef int (*store_run_cb)(const struct store_run *run, void *arg);
enum lk_code store_run_foreach(struct store *s, store_run_cb cb, void *arg,
    struct lk_err *err);
/* Calls cb for every event of run id in order. */
enum lk_code store_run_events(struct store *s, int64_t run_id,
    store_event_cb cb, void *arg, struct lk_err *err);

/*
 * Calls cb, oldest first, for the samples of subject (kind "service" or
 * "queue") taken at or after since_ms.  The strings are valid only during
 * the callback.  A one-shot `status` primes its models from these, so
 * "none consumed for 5 minutes" can be seen by a command that runs once.
 */
typedef void store_sample_cb(const struct store_sample *v, void *arg);
enum lk_code store_samples_since(struct store *s, const char *kind,
    const char *subject, int64_t since_ms, store_sample_cb *cb, void *arg,
    struct lk_err *err);

/*
 * The same for a subject whose samples are its changes plus a pulse
 * (repeat_ms): first the sample in effect at since_ms, that is its last
 * one before since_ms if that one is at most stale_ms older (the pulse
 * says it still held then), then every one from since_ms on.  A queue
 * that has held 5 messages for an hour has no sample in the last five
 * minutes but the pulse, and its model must still see that none were
 * consumed for an hour.
 */
enum lk_code store_samples_series(struct store *s, const char *kind,
    const char *subject, int64_t since_ms, int64_t stale_ms,
    store_sample_cb *cb, void *arg, struct lk_err *err);

/*
 * The value subject had at at_ms, for samples written on change: that of
 * its last sample at or before at_ms if that one is at most stale_ms older
 * (a pulse shows it was still looked at then) and has a value; else that
 * of its first sample with a value after at_ms.  Sets *ts_ms to that
 * sample's time and *value, or leaves them and returns LK_ENOTFOUND.  Two
 * indexed lookups at most, however many samples there are.
 */
enum lk_code store_sample_value_at(struct store *s, const char *kind,
    const char *subject, int64_t at_ms, int64_t stale_ms, int64_t *ts_ms,
    double *value, struct lk_err *err);

enum store_format { STORE_MD, STORE_JSON, STORE_CSV };

/* Parses "md", "json", "csv". */
enum lk_code store_format_parse(const char *name, enum store_format *f,
    struct lk_err *err);

/* Writes incident id as a postmortem (md), full-fidelity JSON, or CSV. */
enum lk_code store_export(struct store *s, int64_t id, enum store_format f,
    FILE *out, struct lk_err *err);

/* The same into the file at path, written whole or not at all (a
 * temporary file beside it, renamed into place), readable only by its
 * owner.  A link on the way to path that someone else could have planted
 * is not followed (core/trust.h); a link at path is replaced. */
enum lk_code store_export_file(struct store *s, int64_t id,
    enum store_format f, const char *path, struct lk_err *err);

#endif
