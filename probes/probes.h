/*
 * probes: live state of services and queues.
 *
 * Probes know nothing of the screen.  They keep the latest state of every
 * configured service (systemd unit, endpoint check, /proc sanity) and queue
 * (Redis, RabbitMQ, command), and call their subscribers when something
 * changed.  The console, `watch` and `status` read the state through the
 * accessors; the structs they get are owned by the probes and valid until
 * the next pass of the loop.
 */
#ifndef LK_PROBES_H
#define LK_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

/* X(enum, json name, bit) */
#define PROBE_SERVICE_FLAGS(X)                  \
	X(SVC_FAILED, "failed")                 \
	X(SVC_INACTIVE, "inactive")             \
	X(SVC_NOT_ENABLED, "not-enabled")       \
	X(SVC_UNHEALTHY, "unhealthy")           \
	X(SVC_DELETED_CWD, "deleted-cwd")       \
	X(SVC_DELETED_EXE, "deleted-exe")       \
	X(SVC_RESTARTING, "restarting")         \
	X(SVC_INSECURE, "insecure")             \
	X(SVC_UNREACHABLE, "unreachable")       \
	X(SVC_STALE, "stale")

#define PROBE_QUEUE_FLAGS(X)                    \
	X(Q_STALLED, "stalled")                 \
	X(Q_PAUSED, "paused")                   \
	X(Q_NO_CONSUMERS, "no-consumers")       \
	X(Q_GROWING, "growing")                 \
	X(Q_STALE, "stale")

enum {
#define PROBE_X(name, text) PROBE_BIT_##name,
	PROBE_SERVICE_FLAGS(PROBE_X)
	PROBE_QUEUE_FLAGS(PROBE_X)
#undef PROBE_X
};
#define PROBE_X(name, text) name = 1u << PROBE_BIT_##name,
enum { PROBE_SERVICE_FLAGS(PROBE_X) PROBE_QUEUE_FLAGS(PROBE_X) };
#undef PROBE_X

/* The JSON names of the flags set in mask, in a fixed order.  Returns how
 * many were written to names (at most max). */
size_t probe_flag_names(unsigned mask, const char **names, size_t max);

/* The same names joined with commas ("stalled,no-consumers"), "-" for
 * none. */
void probe_flags_join(unsigned mask, char *buf, size_t len);

enum probe_health {
	HEALTH_UNKNOWN,		/* not checked yet */
	HEALTH_OK,
	HEALTH_FAILING,
	HEALTH_NONE,		/* no check configured */
};
const char *probe_health_name(enum probe_health h);

enum probe_queue_state {
	QSTATE_UNKNOWN,
	QSTATE_OK,
	QSTATE_WARN,
	QSTATE_CRIT,
	QSTATE_STALLED,
	QSTATE_PAUSED,
};
const char *probe_queue_state_name(enum probe_queue_state s);

#define PROBE_REASON_MAX 256

struct probe_service {
	const char *name;
	const char *unit;
	const char *scope;		/* "user" or "system" */
	/*
	 * The ssh destination the unit lives on, or NULL: this machine.  A
	 * host that cannot be reached (ssh fails, or it does not answer
	 * within ssh_timeout) flags its services unreachable, and stale
	 * when what is shown was read before; the reason says why.
	 */
	const char *host;
	char load[32];			/* "loaded", "not-found", ... ("" unknown) */
	char active[32];		/* "active", "failed", ... */
	char sub[32];			/* "running", "dead", ... */
	char enabled[32];		/* "enabled", "disabled", "static", ... */
	int64_t main_pid;		/* 0: none */
	int64_t restarts;		/* NRestarts */
	/* When the unit entered its active state ("failed" since...), from
	 * systemd's StateChangeTimestamp; 0: unknown (a stopped unit, which
	 * systemd has unloaded and so forgotten). */
	int64_t since_ms;
	enum probe_health health;
	char reason[PROBE_REASON_MAX];	/* why not ok, "" when ok */
	double latency_ms;		/* of the last check, < 0 when none */
	/* Endpoint checks answered so far: a watcher counts failures in a
	 * row by it, however many arrive in one pass or look alike. */
	int64_t checks;
	unsigned flags;
};

struct probe_queue {
	const char *name;
	const char *source;		/* "redis", "rabbitmq", "command" */
	const char *host;		/* where its command runs, or NULL */
	int64_t depth;			/* -1: unknown */
	int64_t consumers;		/* -1: unknown (Redis lists cannot say) */
	int64_t ready;			/* RabbitMQ only; -1: unknown */
	int64_t unacked;		/* RabbitMQ only; -1: unknown */
	double rate_in_per_min;		/* < 0: unknown */
	double rate_out_per_min;	/* < 0: unknown */
	double drain_minutes;		/* < 0: not draining */
	enum probe_queue_state state;
	char reason[PROBE_REASON_MAX];
	unsigned flags;
};

/*
 * The one rule for "needs a look" (rules.c): `status` exits 1 when any
 * service or queue is degraded, the console sorts by severity, worst
 * first, and `watch` raises on it.
 */
bool probe_service_degraded(const struct probe_service *s);
bool probe_queue_degraded(const struct probe_queue *q);

enum {
	PROBE_SEV_OK,		/* nothing to see */
	PROBE_SEV_UNKNOWN,	/* not read or checked yet */
	PROBE_SEV_WARN,		/* works, but will not for long: not-enabled,
				   restarting, a queue over warn */
	PROBE_SEV_BROKEN,	/* does not do its job: inactive, unhealthy,
				   deleted cwd/exe, stalled, paused */
	PROBE_SEV_DOWN,		/* failed, not found, a queue over crit */
};
int probe_service_severity(const struct probe_service *s);
int probe_queue_severity(const struct probe_queue *q);

struct loop;
struct config;
struct store;
struct probes;

/*
 * What one change notification covers: the services and queues whose
 * state differs from the last notification (by index, ascending), and
 * whether services were added (discovery without a config finds units
 * as the manager answers; the state pointers of every service may then
 * have moved).  Valid only during the callback.
 */
struct probes_change {
	const size_t *services;
	size_t nservices;
	const size_t *queues;
	size_t nqueues;
	bool added;
};

/* Called from the loop, at most once a pass, when some state changed. */
typedef void probes_change_cb(struct probes *p,
    const struct probes_change *c, void *data);

/*
 * Sets up probes for everything cfg names (cfg may be NULL: then the
 * current manager's failed units and running services are shown).  store
 * may be NULL; otherwise each cycle's samples are written to it in one
 * transaction.  Nothing is read until probes_start().  Caller owns *out.
 */
enum lk_code probes_new(struct loop *loop, const struct config *cfg,
    struct store *store, struct probes **out, struct lk_err *err);
void probes_free(struct probes **p);

/*
 * Several subscribers may watch one set of probes (the console's views,
 * the watcher's rules); each gets every change.  Returns an id for
 * probes_unsubscribe(), which a callback may call.
 */
int probes_subscribe(struct probes *p, probes_change_cb *cb, void *data);
void probes_unsubscribe(struct probes *p, int id);

/* Starts the first cycle now and one every interval after it. */
void probes_start(struct probes *p);

/* True once every service and queue has been read at least once (or its
 * read failed). */
bool probes_settled(const struct probes *p);

/* The longest any one read may take: how long `status` waits at most. */
int64_t probes_max_wait_ms(const struct probes *p);

size_t probes_service_count(const struct probes *p);
const struct probe_service *probes_service(const struct probes *p, size_t i);
size_t probes_queue_count(const struct probes *p);
const struct probe_queue *probes_queue(const struct probes *p, size_t i);

/* The depths queue i read last, oldest first, at most max of them (-1:
 * the source did not answer then); returns how many.  For sparklines. */
size_t probes_queue_history(const struct probes *p, size_t i,
    int64_t *depths, size_t max);

/* One process of a service's unit, as /proc describes it. */
struct probe_proc {
	long pid;
	char comm[32];
	char cwd[512];		/* "" when it may not be read */
	char exe[512];
	bool cwd_deleted;
	bool exe_deleted;
};

/*
 * The processes of service i's unit now (its cgroup, or its main process),
 * at most max; returns how many.  Reads /proc, which is local and quick:
 * for a detail view, not for a cycle over every service.  For a unit on
 * another host, what the last cycle read there over ssh.
 */
size_t probes_service_procs(const struct probes *p, size_t i,
    struct probe_proc *out, size_t max);

/* Writes the current state to the store's samples now (status does, once
 * it has its answers).  Nothing happens without a store. */
void probes_record_now(struct probes *p);

/* Problems reaching a manager or source that apply to everything, e.g.
 * "systemd user manager: ..."; NULL when none. */
const char *probes_error(const struct probes *p);
/* False while a systemd manager leaves calls unanswered for longer than
 * probes_max_wait_ms() (probes_error() names it): what it manages is not
 * known, which a one-shot check counts as failing. */
bool probes_answered(const struct probes *p);

/*
 * One unit's journal (journal.c), read on the loop without blocking it: the
 * last lines of the unit, then, when following, each new line as journald
 * stores it.  The lines are kept in a ring of the newest ones; the caller
 * reads them by index and escapes them for the terminal itself.
 */
struct probe_journal;

/* Bytes of a message kept; the rest of a longer one is cut. */
#define PROBE_JOURNAL_LINE_MAX 2048
/* The most lines a journal may keep (the ring's size is the caller's). */
#define PROBE_JOURNAL_LINES_MAX 100000

struct probe_journal_line {
	int64_t realtime_us;	/* when journald received it */
	int priority;		/* syslog level, 0 (emerg) to 7 (debug) */
	bool cut;		/* the message was longer than LINE_MAX */
	size_t len;		/* bytes in text */
	/* The message's raw bytes: control characters, invalid UTF-8 and
	 * NUL bytes are all kept; text[len] is a NUL for convenience. */
	const char *text;
};

/*
 * Called from the loop: once when the lines up to the time of opening have
 * all been read, however many passes that took (probe_journal_caught_up()
 * is then true; added counts them, and may be 0); then, when following,
 * each time lines were appended; and once if reading stopped on an error
 * (the status says why).  The added lines are the last `added` of the
 * ring (never more than it holds).  The callback may free the journal.
 */
typedef void probe_journal_cb(struct probe_journal *pj, size_t added,
    void *data);

/*
 * Reads the last `lines` lines of unit (a unit name, "message-bus.service")
 * of the user's or the system's manager (scope "user" or "system"), then
 * follows it: new lines are appended as they come, the oldest dropped, the
 * ring holding `lines` at most (1 to LINES_MAX).  Nothing is read before
 * the loop runs.  Fails (LK_EINPUT) on a bad name, scope or count and
 * (LK_EIO) if the journal cannot be opened at all; a journal that holds
 * nothing of the unit, or nothing this user may read, is not an error: see
 * probe_journal_status().  Caller owns *out.
 */
enum lk_code probe_journal_follow(struct loop *loop, const char *unit,
    const char *scope, size_t lines, probe_journal_cb *cb, void *data,
    struct probe_journal **out, struct lk_err *err);

/*
 * The same without following: the last `lines` lines of the unit up to
 * now, for evidence.  cb is called once, when they have been read (or
 * reading failed); the caller then reads the ring and frees it.
 */
enum lk_code probe_journal_last(struct loop *loop, const char *unit,
    const char *scope, size_t lines, probe_journal_cb *cb, void *data,
    struct probe_journal **out, struct lk_err *err);

/*
 * Another host's journal, read through ssh as its manager is (see
 * rjournal.c): a fixed, read-only journalctl runs there, its arguments
 * quoted.  The same handle and accessors as above; a host that cannot be
 * reached gives no lines and a status that says what ssh said.
 */
struct probe_journal_host {
	const char *host;	/* ssh destination (ssh_config alias) */
	const char *ssh_config;	/* for ssh -F, or NULL */
	int64_t timeout_ms;	/* to connect and answer; 0: none */
	/* The unit's cgroup as its manager reported it, or NULL: finds the
	 * units of a manager journald cannot name (a container's). */
	const char *cgroup;
};
enum lk_code probe_journal_follow_remote(struct loop *loop,
    const struct probe_journal_host *h, const char *unit, const char *scope,
    size_t lines, probe_journal_cb *cb, void *data,
    struct probe_journal **out, struct lk_err *err);
enum lk_code probe_journal_last_remote(struct loop *loop,
    const struct probe_journal_host *h, const char *unit, const char *scope,
    size_t lines, probe_journal_cb *cb, void *data,
    struct probe_journal **out, struct lk_err *err);

/*
 * The journal of service i wherever it lives: this machine's, or its
 * host's through ssh with the configuration's ssh settings.  Followed, or
 * (follow false) the last lines once, as above.
 */
enum lk_code probes_service_journal(struct probes *p, size_t i,
    size_t lines, bool follow, probe_journal_cb *cb, void *data,
    struct probe_journal **out, struct lk_err *err);

/* Stops reading and frees *pj (safe from its own callback); sets *pj to
 * NULL. */
void probe_journal_free(struct probe_journal **pj);

/* The lines in the ring, oldest first (index 0).  Owned by the journal,
 * valid until the loop runs again. */
size_t probe_journal_count(const struct probe_journal *pj);
const struct probe_journal_line *probe_journal_line(
    const struct probe_journal *pj, size_t i);

/* True once the lines up to the time of opening are in the ring. */
bool probe_journal_caught_up(const struct probe_journal *pj);

/*
 * Why the ring holds nothing, once caught up ("journal of
 * message-bus.service: no entries", or that this user may not read the
 * journal, or that there is none), or why reading stopped; NULL
 * otherwise.
 */
const char *probe_journal_status(const struct probe_journal *pj);

#endif
