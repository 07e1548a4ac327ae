/* Internals shared by the files of store/. Not part of the public API. */
#ifndef LK_STORE_PRIVATE_H
#define LK_STORE_PRIVATE_H

#include <sqlite3.h>

#include "store.h"
#include "../core/util.h"

/* Every statement the store runs, prepared once at open. */
#define STORE_STMTS(X)                                                        \
	X(begin, "BEGIN IMMEDIATE")                                           \
	X(commit, "COMMIT")                                                   \
	X(rollback, "ROLLBACK")                                               \
	X(head, "SELECT seq, hash FROM chain_head WHERE one = 1")             \
	X(insert, "INSERT INTO events(seq, ts, incident_id, run_id,"          \
	    " actor_user, actor_from, actor_tty, kind, subject, message,"     \
	    " data, prev_hash, hash)"                                         \
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")\
	X(set_head, "INSERT INTO chain_head(one, seq, hash) VALUES (1, ?1, ?2)"\
	    " ON CONFLICT(one) DO UPDATE SET seq = excluded.seq,"             \
	    " hash = excluded.hash")                                          \
	X(next_incident, "SELECT coalesce(max(incident_id), 0) + 1"           \
	    " FROM events")                                                   \
	X(incident_ids, "SELECT incident_id FROM events"                      \
	    " WHERE kind = 'incident.opened' ORDER BY incident_id DESC")      \
	X(incident_events, "SELECT seq, ts, kind, subject, message, data,"    \
	    " actor_user FROM events WHERE incident_id = ?1"                  \
	    " AND kind IN ('incident.opened', 'incident.milestone')"          \
	    " ORDER BY seq")                                                  \
	X(incident_last, "SELECT max(ts), max(seq) FROM events"               \
	    " WHERE incident_id = ?1")                                        \
	X(events_all, "SELECT " STORE_EVENT_COLS " FROM events ORDER BY seq") \
	X(events_incident, "SELECT " STORE_EVENT_COLS " FROM events"          \
	    " WHERE incident_id = ?1 ORDER BY seq")                           \
	X(sample_insert, "INSERT INTO samples(ts, kind, subject, state, value,"\
	    " latency_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")                  \
	X(sample_prune, "DELETE FROM samples WHERE ts < ?1")                  \
	X(sample_before, "SELECT ts, kind, state, value FROM samples"         \
	    " WHERE kind = 'service' AND subject = ?1 AND ts <= ?2"           \
	    " ORDER BY ts DESC")                                              \
	X(sample_value_after, "SELECT ts, value FROM samples WHERE kind = ?1" \
	    " AND subject = ?2 AND ts > ?3 AND value IS NOT NULL"            \
	    " ORDER BY ts LIMIT 1")                                           \
	X(sample_value_before, "SELECT ts, value FROM samples"               \
	    " WHERE kind = ?1 AND subject = ?2 AND ts <= ?3 AND ts >= ?4"     \
	    " ORDER BY ts DESC LIMIT 1")                                      \
	X(sample_last, "SELECT ts, state, value FROM samples WHERE kind = ?1" \
	    " AND subject = ?2 ORDER BY ts DESC LIMIT 1")                     \
	X(sample_since, "SELECT ts, state, value, latency_ms FROM samples"    \
	    " WHERE kind = ?1 AND subject = ?2 AND ts >= ?3 ORDER BY ts")     \
	X(sample_prior, "SELECT ts, state, value, latency_ms FROM samples"    \
	    " WHERE kind = ?1 AND subject = ?2 AND ts < ?3 AND ts >= ?4"      \
	    " ORDER BY ts DESC LIMIT 1")                                      \
	X(run_insert, "INSERT INTO runs(incident_id, runbook, source,"         \
	    " source_sha256, params, dry_run, replay_of, status, started_at," \
	    " actor_user) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?8,"  \
	    " ?9)")                                                           \
	X(run_set_status, "UPDATE runs SET status = ?2, finished_at = ?3"     \
	    " WHERE id = ?1")                                                 \
	X(run_get, "SELECT id, incident_id, replay_of, runbook, source,"      \
	    " source_sha256, params, dry_run, status, started_at,"            \
	    " finished_at, actor_user FROM runs WHERE id = ?1")               \
	X(run_list, "SELECT id, incident_id, replay_of, runbook, NULL,"       \
	    " source_sha256, params, dry_run, status, started_at,"            \
	    " finished_at, actor_user FROM runs ORDER BY id DESC")            \
	X(run_message, "SELECT message FROM events WHERE run_id = ?1 AND"     \
	    " kind IN ('run.finished', 'run.interrupted')"                    \
	    " ORDER BY seq DESC LIMIT 1")                                     \
	X(step_upsert, "INSERT INTO steps(run_id, idx, name, status,"         \
	    " started_at) VALUES (?1, ?2, ?3, 'started', ?4)"                 \
	    " ON CONFLICT(run_id, idx) DO UPDATE SET status = 'started',"     \
	    " started_at = excluded.started_at, finished_at = NULL,"          \
	    " outcome = NULL")                                                \
	X(step_finish, "UPDATE steps SET status = ?3, outcome = ?4,"          \
	    " finished_at = ?5 WHERE run_id = ?1 AND idx = ?2")               \
	X(step_name, "SELECT name FROM steps WHERE run_id = ?1 AND idx = ?2") \
	X(step_list, "SELECT idx, name, status, outcome, started_at,"         \
	    " finished_at FROM steps WHERE run_id = ?1 ORDER BY idx")         \
	X(events_range, "SELECT " STORE_EVENT_COLS " FROM events"             \
	    " WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq")                      \
	X(data_version, "PRAGMA data_version")                                \
	X(heartbeat_set, "INSERT INTO heartbeats(who, ts) VALUES (?1, ?2)"    \
	    " ON CONFLICT(who) DO UPDATE SET ts = excluded.ts")               \
	X(heartbeat_last, "SELECT who, ts FROM heartbeats"                    \
	    " ORDER BY ts DESC LIMIT 1")                                      \
	X(events_run, "SELECT " STORE_EVENT_COLS " FROM events"               \
	    " WHERE run_id = ?1 ORDER BY seq")                                \
	X(run_ids, "SELECT id, incident_id FROM runs ORDER BY id")            \
	X(event_hash, "SELECT hash FROM events WHERE seq = ?1")               \
	X(runs_incident, "SELECT id, runbook, source_sha256, params, dry_run,"\
	    " status, started_at, finished_at, actor_user FROM runs"          \
	    " WHERE incident_id = ?1 ORDER BY id")

#define STORE_EVENT_COLS "seq, ts, incident_id, run_id, actor_user,"         \
	" actor_from, actor_tty, kind, subject, message, data, prev_hash, hash"

struct store {
	sqlite3 *db;
	char *path;		/* as given, for messages */
	char *dir;		/* its directory, checked, without links */
	char *actor_user;
	char *actor_from;
	char *actor_tty;
	/* Set after a failed commit: the file's state is unknown until reopened. */
	bool broken;
	int64_t busy_since;	/* when the current wait for the lock began */
	bool lazy;		/* the next commit may skip its fsync */
	int wal_frames;		/* frames in the log after our last commit */
	/* The change feed (feed.c). */
	struct store_sub *subs;
	size_t nsubs;
	int last_sub_id;
	int64_t feed_seq;	/* the last event handed to STORE_ALL */
	int64_t data_version;	/* PRAGMA data_version when last read */
	struct loop *watch_loop;
	long long watch_timer;
	int64_t watch_ms;
	int64_t txn_first_seq;	/* first event appended in this transaction */
	int64_t txn_last_seq;
	bool witness_due;	/* appended since the head was last witnessed */
#define STORE_X(name, sql) sqlite3_stmt *st_##name;
	STORE_STMTS(STORE_X)
#undef STORE_X
};

/* Steps st (bound by the caller, selecting STORE_EVENT_COLS) and calls cb
 * for each row; resets st on every path. */
enum lk_code store_events_from(struct store *s, sqlite3_stmt *st,
    store_event_cb cb, void *arg, struct lk_err *err);

/* Fills ev from a row of STORE_EVENT_COLS. */
void store_event_from_row(sqlite3_stmt *st, struct store_event *ev);

/* Iterates the events of incident id (0: all) from a private statement. */
enum lk_code store_db_error(struct store *s, struct lk_err *err,
    const char *what);

/*
 * One write transaction: begin (waiting for other writers), append any
 * number of events, commit or roll back.  A commit is fsynced unless
 * store_txn_lazy() was called for it: then it is safe from a crash of this
 * process but waits for the next durable commit to be safe from a power
 * cut (in WAL mode that fsync covers everything written before it).
 */
void store_txn_lazy(struct store *s);	/* before store_txn_begin */
enum lk_code store_txn_begin(struct store *s, struct lk_err *err);
void store_txn_rollback(struct store *s);
enum lk_code store_txn_commit(struct store *s, struct lk_err *err);
enum lk_code store_append_locked(struct store *s,
    const struct store_new_event *ev, int64_t *seq, struct lk_err *err);

/* feed.c: hands the events of the transaction just committed to the
 * subscribers.  store.c: the busy handler back on after store_poll. */
void store_feed_committed(struct store *s);
void store_busy_wait_on(struct store *s);

/*
 * witness.c: the chain's head, witnessed outside the file.  store_witness
 * sends it to the journal if this process appended since it last did;
 * store_witness_check compares the last witness the journal holds with
 * the chain that ends at r->last_seq (r->ok: it held), fills r->witness
 * and, when the witnessed head is gone or different, fails r.
 */
void store_witness(struct store *s);
void store_witness_check(struct store *s, struct store_verify_report *r);

/* The canonical hash of an event given its prev_hash. out: 64 hex + NUL. */
void store_event_hash(const struct store_event *ev, struct lk_buf *scratch,
    char out[STORE_HASH_HEX]);

#endif
