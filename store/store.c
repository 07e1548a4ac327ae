/*
 * The timeline file: opening, schema, durable appends and the hash chain.
 */
#include "private.h"
#include "../core/trust.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* How long we wait for another process's write lock before saying so. */
#define BUSY_WAIT_MS 60000

static const char *const schema_v1[] = {
	"CREATE TABLE events ("
	" seq INTEGER PRIMARY KEY,"
	" ts INTEGER NOT NULL,"
	" incident_id INTEGER,"
	" run_id INTEGER,"
	" actor_user TEXT NOT NULL,"
	" actor_from TEXT,"
	" actor_tty TEXT,"
	" kind TEXT NOT NULL,"
	" subject TEXT,"
	" message TEXT,"
	" data TEXT,"
	" prev_hash TEXT NOT NULL,"
	" hash TEXT NOT NULL)",
	"CREATE INDEX events_by_incident ON events(incident_id, seq)",
	"CREATE INDEX events_by_run ON events(run_id, seq)",
	/* The newest event, so deleting the tail of the chain is noticed. */
	"CREATE TABLE chain_head ("
	" one INTEGER PRIMARY KEY CHECK (one = 1),"
	" seq INTEGER NOT NULL,"
	" hash TEXT NOT NULL)",
	"CREATE TABLE runs ("
	" id INTEGER PRIMARY KEY,"
	" incident_id INTEGER,"
	" runbook TEXT NOT NULL,"
	" source TEXT NOT NULL,"
	" source_sha256 TEXT NOT NULL,"
	" params TEXT NOT NULL,"
	" dry_run INTEGER NOT NULL DEFAULT 0,"
	" replay_of INTEGER,"
	" status TEXT NOT NULL,"
	" started_at INTEGER NOT NULL,"
	" finished_at INTEGER,"
	" actor_user TEXT NOT NULL)",
	"CREATE TABLE steps ("
	" run_id INTEGER NOT NULL,"
	" idx INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" started_at INTEGER,"
	" finished_at INTEGER,"
	" outcome TEXT,"
	" PRIMARY KEY (run_id, idx))",
	"CREATE TABLE samples ("
	" ts INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"
	" subject TEXT NOT NULL,"
	" state TEXT,"
	" value REAL,"
	" latency_ms REAL)",
	"CREATE INDEX samples_by_ts ON samples(ts)",
	"CREATE INDEX samples_by_subject ON samples(kind, subject, ts)",
	NULL
};

/*
 * v2: the heartbeat of each process that watches the timeline's services
 * (`lookout watch`), so that the console and `status` can say whether one
 * runs and when its last cycle ended.  One row per watcher, overwritten:
 * a liveness signal, not a record, so it is not chained.
 */
static const char *const schema_v2[] = {
	"CREATE TABLE heartbeats ("
	" who TEXT PRIMARY KEY,"
	" ts INTEGER NOT NULL)",
	NULL
};

/* migrations[v] takes a database at user_version v to v + 1. */
static const char *const *const migrations[] = {
	schema_v1,
	schema_v2,
};

static const char *const milestone_names[] = {
	"detected", "acknowledged", "mitigated", "resolved", "closed"
};

static const char *const milestone_status[] = {
	"open", "acknowledged", "mitigated", "resolved", "closed"
};

const char *
store_milestone_name(enum store_milestone m)
{
	return m < STORE_MILESTONES ? milestone_names[m] : "?";
}

const char *
store_milestone_status(enum store_milestone m)
{
	return m < STORE_MILESTONES ? milestone_status[m] : "?";
}

enum lk_code
store_db_error(struct store *s, struct lk_err *err, const char *what)
{
	int code = sqlite3_extended_errcode(s->db);
	const char *msg = sqlite3_errmsg(s->db);

	if (code == SQLITE_BUSY || (code & 0xff) == SQLITE_BUSY)
		return lk_fail(err, LK_EDB, "%s %s: the timeline is locked by "
		    "another process that has held it for over a minute",
		    what, s->path);
	if ((code & 0xff) == SQLITE_FULL)
		return lk_fail(err, LK_EIO, "%s %s: disk full", what, s->path);
	if ((code & 0xff) == SQLITE_IOERR)
		return lk_fail(err, LK_EIO, "%s %s: i/o error (%s)", what,
		    s->path, sqlite3_errstr(code));
	if ((code & 0xff) == SQLITE_READONLY)
		return lk_fail(err, LK_EIO, "%s %s: the timeline is read-only",
		    what, s->path);
	return lk_fail(err, LK_EDB, "%s %s: %s", what, s->path, msg);
}

char *
store_default_path(void)
{
	const char *env = getenv("LOOKOUT_DB");
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	if (env != NULL && *env != '\0')
		return lk_xstrdup(env);
	if (state != NULL && *state == '/')
		return lk_xasprintf("%s/lookout/timeline.db", state);
	if (home == NULL || *home == '\0')
		home = "/";
	return lk_xasprintf("%s/.local/state/lookout/timeline.db", home);
}

/*
 * What trusting the timeline takes (DESIGN.md, "Trust: a host shared with
 * other users").  SQLite opens the file, and its -wal and -shm files, by
 * name, so the name must keep meaning the file checked here: every
 * directory on the way is one that only root and the invoker can change
 * (TRUST_STABLE), and the timeline's own directory is the invoker's alone
 * (TRUST_PRIVATE), so nobody else can plant a -wal link or a locks
 * directory beside it.  SQLite is given the path without links that the
 * walk found.
 *
 * A directory or file that is open to others is refused, not tightened:
 * whatever others could do while it was open (plant a link, keep an fd
 * open for writing) a chmod now does not undo, and a chmod through a
 * path that someone else redirected would land on their choice of file.
 * The message names the path, its owner and its mode; the operator who
 * knows why it is so decides what to do.
 */
static enum lk_code
prepare_file(const char *path, bool create, char **dirp, char **realp,
    struct lk_err *err)
{
	static const char *const beside[] = { "-wal", "-shm" };
	const char *base;
	char *dir = trust_split(path, &base);
	char *what = lk_xasprintf("open timeline %s", path);
	char ebuf[128];
	enum lk_code code;
	struct stat st;
	int dfd = -1, fd;

	*dirp = *realp = NULL;
	if (dir == NULL) {
		code = lk_fail(err, LK_EUSAGE, "%s: not a file name", what);
		goto done;
	}
	code = trust_open_dir(dir, TRUST_STABLE | TRUST_PRIVATE |
	    (create ? TRUST_CREATE : 0), what, &dfd, dirp, err);
	if (code == LK_ENOTFOUND)
		lk_fail(err, code, "no timeline at %s", path);
	if (code != LK_OK)
		goto done;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT) {
			code = lk_fail(err, LK_EIO, "%s: %s", what,
			    lk_strerror(errno, ebuf, sizeof ebuf));
			goto done;
		}
		if (!create) {
			code = lk_fail(err, LK_ENOTFOUND, "no timeline at %s",
			    path);
			goto done;
		}
		/* Created 0600 before SQLite sees it, so the timeline is
		 * never readable by others, not even for an instant; SQLite
		 * gives the -wal and -shm files the same mode. */
		fd = openat(dfd, base, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST) {
			code = lk_fail(err, LK_EIO, "create timeline %s: %s",
			    path, lk_strerror(errno, ebuf, sizeof ebuf));
			goto done;
		}
		if (fd >= 0)
			close(fd);
		if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			code = lk_fail(err, LK_EIO, "%s: %s", what,
			    lk_strerror(errno, ebuf, sizeof ebuf));
			goto done;
		}
	}
	if ((code = trust_check_file(&st, what, NULL, err)) != LK_OK)
		goto done;
	if (faccessat(dfd, base, R_OK | W_OK, 0) != 0) {
		code = lk_fail(err, LK_EIO, "%s: %s", what,
		    lk_strerror(errno, ebuf, sizeof ebuf));
		goto done;
	}
	/* Left from before the directory was private, they would still be
	 * opened by name. */
	for (size_t i = 0; i < 2; i++) {
		char *name = lk_xasprintf("%s%s", base, beside[i]);
		char *shown = lk_xasprintf("%s%s", path, beside[i]);

		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			code = trust_check_file(&st, what, shown, err);
		free(name);
		free(shown);
		if (code != LK_OK)
			goto done;
	}
	*realp = lk_xasprintf("%s%s%s", *dirp, strcmp(*dirp, "/") ? "/" : "",
	    base);
done:
	if (dfd >= 0)
		close(dfd);
	if (code != LK_OK) {
		free(*dirp);
		*dirp = NULL;
	}
	free(dir);
	free(what);
	return code;
}

/*
 * SQLite's default busy handler backs off up to 100 ms between tries, so a
 * writer that appends in a tight loop starves the others.  Short, jittered
 * sleeps let two engineers' consoles take turns.
 */
static int
busy_wait(void *arg, int count)
{
	struct store *s = arg;
	struct timespec ts = { 0, 0 };
	int64_t now = lk_now_ms();

	if (count == 0)
		s->busy_since = now;
	if (now - s->busy_since > BUSY_WAIT_MS)
		return 0;
	ts.tv_nsec = (200 + rand() % 800) * 1000L;
	nanosleep(&ts, NULL);
	return 1;
}

void
store_busy_wait_on(struct store *s)
{
	sqlite3_busy_handler(s->db, busy_wait, s);
}

static enum lk_code
exec_sql(struct store *s, const char *sql, struct lk_err *err, const char *what)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_db_error(s, err, what);
	return LK_OK;
}

static enum lk_code
read_user_version(struct store *s, int *version, struct lk_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		return LK_OK;
	}
	sqlite3_finalize(st);
	if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_NOTADB)
		return lk_fail(err, LK_EINPUT, "open timeline %s: the file is "
		    "not a lookout timeline (not an SQLite database)", s->path);
	return store_db_error(s, err, "open timeline");
}

static enum lk_code
migrate(struct store *s, struct lk_err *err)
{
	int version;
	const int latest = (int)(sizeof migrations / sizeof migrations[0]);

	if (exec_sql(s, "BEGIN IMMEDIATE", err, "migrate timeline") != LK_OK)
		return err->code;
	/* Read again under the write lock: another process may have won. */
	if (read_user_version(s, &version, err) != LK_OK)
		goto fail;
	for (; version < latest; version++) {
		char pragma[64];

		for (const char *const *sql = migrations[version]; *sql; sql++)
			if (exec_sql(s, *sql, err, "migrate timeline") != LK_OK)
				goto fail;
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d",
		    version + 1);
		if (exec_sql(s, pragma, err, "migrate timeline") != LK_OK)
			goto fail;
	}
	if (exec_sql(s, "COMMIT", err, "migrate timeline") != LK_OK)
		goto fail;
	return LK_OK;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return err->code;
}

static enum lk_code
prepare_statements(struct store *s, struct lk_err *err)
{
#define STORE_X(name, sql)                                                    \
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,     \
	    &s->st_##name, NULL) != SQLITE_OK)                                \
		return store_db_error(s, err, "prepare timeline");
	STORE_STMTS(STORE_X)
#undef STORE_X
	return LK_OK;
}

/*
 * The write-ahead log's size is the price of the next open: a process that
 * finds no other connection to the timeline rebuilds the log's index by
 * reading every frame since the log last restarted.  Left to SQLite's
 * automatic checkpoint, a log restarts every 1000 frames, so a command
 * could spend ~10 ms reading 4 MB before doing anything.  Instead the
 * closing writer truncates a log that has passed WAL_FOLD_FRAMES, and a
 * long writer still checkpoints every WAL_CHECKPOINT_FRAMES as SQLite
 * would (the hook replaces SQLite's own automatic checkpoint).
 */
#define WAL_FOLD_FRAMES 128		/* 512 KiB at 4 KiB a page */
#define WAL_CHECKPOINT_FRAMES 1000	/* SQLite's default */

static int
on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *s = arg;

	s->wal_frames = frames;
	if (frames >= WAL_CHECKPOINT_FRAMES)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
	return SQLITE_OK;
}

/* Truncates the log if it has grown and nobody else is using the timeline
 * (another connection keeps the log's index alive, so no open pays for it
 * while that one lives).  Never waits: a busy timeline is left as it is. */
static void
fold_wal(struct store *s)
{
	if (s->wal_frames < WAL_FOLD_FRAMES || s->broken)
		return;
	sqlite3_busy_handler(s->db, NULL, NULL);
	sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
	    NULL, NULL);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? lk_xstrdup(s) : NULL;
}

static enum lk_code
open_timeline(const char *path, bool create, const struct store_actor *actor,
    struct store **out, struct lk_err *err)
{
	struct store *s;
	char *dir, *real;
	int version;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return lk_fail(err, LK_EUSAGE, "timeline path is empty");
	if (prepare_file(path, create, &dir, &real, err) != LK_OK)
		return err->code;

	s = lk_xcalloc(1, sizeof *s);
	s->path = lk_xstrdup(path);
	s->dir = dir;
	s->actor_user = lk_xstrdup(actor && actor->user ? actor->user : "?");
	s->actor_from = dup_or_null(actor ? actor->from : NULL);
	s->actor_tty = dup_or_null(actor ? actor->tty : NULL);

	/* The path without links: nothing for SQLite to follow. */
	if (sqlite3_open_v2(real, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		store_db_error(s, err, "open timeline");
		goto fail;
	}
	free(real);
	real = NULL;
	sqlite3_extended_result_codes(s->db, 1);
	/* Every command is a short process: checkpointing the log on each
	 * close would cost two more fsyncs a command.  store_close folds the
	 * log back only once it has grown (see on_wal_commit). */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_hook(s->db, on_wal_commit, s);
	store_busy_wait_on(s);

	/* Check the version before anything writes to the file. */
	if (read_user_version(s, &version, err) != LK_OK)
		goto fail;
	if (version > STORE_SCHEMA_VERSION) {
		lk_fail(err, LK_EINPUT, "open timeline %s: schema version %d "
		    "is newer than this lookout understands (%d); upgrade "
		    "lookout", path, version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		lk_fail(err, LK_EIO, "open timeline %s: the file is read-only",
		    path);
		goto fail;
	}
	/* WAL lets readers (a second console) run while we append; FULL makes
	 * every commit fsync the log before it returns. */
	if (exec_sql(s, "PRAGMA journal_mode = WAL", err, "open timeline") ||
	    exec_sql(s, "PRAGMA synchronous = FULL", err, "open timeline") ||
	    migrate(s, err) != LK_OK || prepare_statements(s, err) != LK_OK)
		goto fail;
	*out = s;
	return LK_OK;
fail:
	free(real);
	store_close(&s);
	return err->code;
}

enum lk_code
store_open(const char *path, const struct store_actor *actor,
    struct store **out, struct lk_err *err)
{
	return open_timeline(path, true, actor, out, err);
}

enum lk_code
store_open_existing(const char *path, const struct store_actor *actor,
    struct store **out, struct lk_err *err)
{
	return open_timeline(path, false, actor, out, err);
}

void
store_close(struct store **sp)
{
	struct store *s = sp ? *sp : NULL;

	if (s == NULL)
		return;
	/* A command that appended leaves the head it left witnessed. */
	store_witness(s);
#define STORE_X(name, sql) sqlite3_finalize(s->st_##name);
	STORE_STMTS(STORE_X)
#undef STORE_X
	store_unwatch(s);
	free(s->subs);
	if (s->db != NULL)
		fold_wal(s);
	sqlite3_close(s->db);
	free(s->path);
	free(s->dir);
	free(s->actor_user);
	free(s->actor_from);
	free(s->actor_tty);
	free(s);
	*sp = NULL;
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

const char *
store_dir(const struct store *s)
{
	return s->dir;
}

/* Netstring-style field: "len:bytes," and "~," for NULL, so that no two
 * different events share a canonical form. */
static void
canon_str(struct lk_buf *b, const char *s)
{
	if (s == NULL) {
		lk_buf_adds(b, "~,");
		return;
	}
	lk_buf_printf(b, "%zu:", strlen(s));
	lk_buf_adds(b, s);
	lk_buf_addc(b, ',');
}

void
store_event_hash(const struct store_event *ev, struct lk_buf *b,
    char out[STORE_HASH_HEX])
{
	lk_buf_reset(b);
	lk_buf_adds(b, "lookout-event-v1\n");
	canon_str(b, ev->prev_hash);
	lk_buf_printf(b, "%lld,%lld,%lld,%lld,", (long long)ev->seq,
	    (long long)ev->ts_ms, (long long)ev->incident_id,
	    (long long)ev->run_id);
	canon_str(b, ev->actor_user);
	canon_str(b, ev->actor_from);
	canon_str(b, ev->actor_tty);
	canon_str(b, ev->kind);
	canon_str(b, ev->subject);
	canon_str(b, ev->message);
	canon_str(b, ev->data);
	store_sha256_hex(b->s, b->len, out);
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

void
store_event_from_row(sqlite3_stmt *st, struct store_event *ev)
{
	ev->seq = sqlite3_column_int64(st, 0);
	ev->ts_ms = sqlite3_column_int64(st, 1);
	ev->incident_id = sqlite3_column_int64(st, 2);
	ev->run_id = sqlite3_column_int64(st, 3);
	ev->actor_user = col_text(st, 4);
	ev->actor_from = col_text(st, 5);
	ev->actor_tty = col_text(st, 6);
	ev->kind = col_text(st, 7);
	ev->subject = col_text(st, 8);
	ev->message = col_text(st, 9);
	ev->data = col_text(st, 10);
	ev->prev_hash = col_text(st, 11);
	ev->hash = col_text(st, 12);
}

/* Back to fsyncing every commit after a lazy one (or one that failed). */
static void
lazy_reset(struct store *s)
{
	if (!s->lazy)
		return;
	s->lazy = false;
	sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
}

/* Takes the write lock, waiting up to BUSY_WAIT_MS for other writers. */
enum lk_code
store_txn_begin(struct store *s, struct lk_err *err)
{
	int rc;

	if (s->broken) {
		lazy_reset(s);
		return lk_fail(err, LK_EIO, "write timeline %s: an earlier "
		    "write failed, so the file's state is unknown; nothing more "
		    "is written by this process", s->path);
	}
	rc = sqlite3_step(s->st_begin);
	sqlite3_reset(s->st_begin);
	if (rc != SQLITE_DONE) {
		lazy_reset(s);
		return store_db_error(s, err, "write timeline");
	}
	return LK_OK;
}

void
store_txn_rollback(struct store *s)
{
	s->txn_first_seq = s->txn_last_seq = 0;
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_step(s->st_rollback);
		sqlite3_reset(s->st_rollback);
	}
	lazy_reset(s);
}

/* Must come before store_txn_begin(): SQLite reads the setting when the
 * transaction starts. */
void
store_txn_lazy(struct store *s)
{
	s->lazy = true;
	sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
}

/*
 * Commits, which in WAL mode with synchronous=FULL fsyncs the log.  If the
 * commit fails we cannot know what reached the disk, so this handle refuses
 * every later write instead of claiming anything.
 */
enum lk_code
store_txn_commit(struct store *s, struct lk_err *err)
{
	int rc;

	rc = sqlite3_step(s->st_commit);
	/* Read the error before anything else runs on the connection. */
	if (rc != SQLITE_DONE)
		store_db_error(s, err, "commit to timeline");
	sqlite3_reset(s->st_commit);
	lazy_reset(s);
	if (rc == SQLITE_DONE) {
		store_feed_committed(s);
		if (s->txn_last_seq > 0)
			s->witness_due = true;
		s->txn_first_seq = s->txn_last_seq = 0;
		return LK_OK;
	}
	store_txn_rollback(s);
	s->broken = true;
	return err->code;
}

/* Appends inside an open transaction. */
enum lk_code
store_append_locked(struct store *s, const struct store_new_event *nev,
    int64_t *seq_out, struct lk_err *err)
{
	struct store_event ev = { 0 };
	char prev[STORE_HASH_HEX] = ZERO_HASH;
	char hash[STORE_HASH_HEX];
	struct lk_buf scratch = { 0 };
	sqlite3_stmt *st;
	int64_t seq = 1;
	int rc;

	st = s->st_head;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0) + 1;
		snprintf(prev, sizeof prev, "%s", col_text(st, 1));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(s, err, "read timeline");

	ev.seq = seq;
	ev.ts_ms = lk_now_ms();
	ev.incident_id = nev->incident_id;
	ev.run_id = nev->run_id;
	ev.actor_user = s->actor_user;
	ev.actor_from = s->actor_from;
	ev.actor_tty = s->actor_tty;
	ev.kind = nev->kind;
	ev.subject = nev->subject;
	ev.message = nev->message;
	ev.data = nev->data;
	ev.prev_hash = prev;
	store_event_hash(&ev, &scratch, hash);
	lk_buf_free(&scratch);

	st = s->st_insert;
	sqlite3_bind_int64(st, 1, ev.seq);
	sqlite3_bind_int64(st, 2, ev.ts_ms);
	if (ev.incident_id)
		sqlite3_bind_int64(st, 3, ev.incident_id);
	else
		sqlite3_bind_null(st, 3);
	if (ev.run_id)
		sqlite3_bind_int64(st, 4, ev.run_id);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_text(st, 5, ev.actor_user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, ev.actor_from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, ev.actor_tty, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, ev.kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, ev.subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, ev.message, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, ev.data, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_clear_bindings(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "append to timeline");

	st = s->st_set_head;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "append to timeline");
	if (seq_out != NULL)
		*seq_out = seq;
	if (s->txn_first_seq == 0)
		s->txn_first_seq = seq;
	s->txn_last_seq = seq;
	return LK_OK;
}

static enum lk_code
check_event(const struct store_new_event *ev, struct lk_err *err)
{
	if (ev->kind == NULL || *ev->kind == '\0')
		return lk_fail(err, LK_EINPUT, "event has no kind");
	if (ev->data != NULL) {
		json_error_t jerr;
		json_t *j = json_loads(ev->data, JSON_DECODE_ANY, &jerr);

		if (j == NULL)
			return lk_fail(err, LK_EINPUT, "event data is not JSON: "
			    "%s at byte %d", jerr.text, jerr.position);
		json_decref(j);
	}
	return LK_OK;
}

enum lk_code
store_append(struct store *s, const struct store_new_event *ev, int64_t *seq,
    struct lk_err *err)
{
	if (check_event(ev, err) != LK_OK)
		return err->code;
	if (store_txn_begin(s, err) != LK_OK)
		return err->code;
	if (store_append_locked(s, ev, seq, err) != LK_OK) {
		store_txn_rollback(s);
		return err->code;
	}
	return store_txn_commit(s, err);
}

/* --- incidents ----------------------------------------------------------- */

void
store_incident_free(struct store_incident **incp)
{
	struct store_incident *inc = incp ? *incp : NULL;

	if (inc == NULL)
		return;
	free(inc->title);
	for (size_t i = 0; i < inc->nservices; i++)
		free(inc->services[i]);
	free(inc->services);
	free(inc->opened_by);
	free(inc);
	*incp = NULL;
}

static int
milestone_parse(const char *name)
{
	for (int m = 0; m < STORE_MILESTONES; m++)
		if (name != NULL && strcmp(name, milestone_names[m]) == 0)
			return m;
	return -1;
}

/*
 * One incident.milestone row into inc.  A person's milestone wins over an
 * inferred one whenever it came; an inferred one only fills a milestone
 * nobody set, at the time it says (data.at) it was reached.
 */
static void
milestone_load(struct store_incident *inc, sqlite3_stmt *st,
    bool by_hand[STORE_MILESTONES])
{
	int m = milestone_parse(col_text(st, 3));
	json_t *j;
	bool inferred;
	int64_t at;

	if (m <= STORE_DETECTED)
		return;
	j = json_loads(col_text(st, 5) ? col_text(st, 5) : "{}", 0, NULL);
	inferred = json_is_true(json_object_get(j, "inferred"));
	at = json_is_integer(json_object_get(j, "at")) ?
	    json_integer_value(json_object_get(j, "at")) :
	    sqlite3_column_int64(st, 1);
	json_decref(j);
	if (!inferred && !by_hand[m]) {
		inc->milestones[m] = sqlite3_column_int64(st, 1);
		inc->inferred[m] = false;
		by_hand[m] = true;
	} else if (inferred && inc->milestones[m] == 0) {
		inc->milestones[m] = at;
		inc->inferred[m] = true;
	}
}

/*
 * Reads incident id back from its events.  Returns LK_ENOTFOUND when no
 * incident.opened event carries that id.
 */
static enum lk_code
incident_load(struct store *s, int64_t id, struct store_incident **out,
    struct lk_err *err)
{
	struct store_incident *inc = NULL;
	sqlite3_stmt *st = s->st_incident_events;
	bool by_hand[STORE_MILESTONES] = { 0 };
	int reached = 0;
	int rc;

	*out = NULL;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = col_text(st, 2);

		if (strcmp(kind, "incident.opened") == 0 && inc == NULL) {
			json_t *j = json_loads(col_text(st, 5) ? col_text(st, 5)
			    : "{}", 0, NULL);
			json_t *svcs = json_object_get(j, "services");
			const char *sev = json_string_value(
			    json_object_get(j, "severity"));
			size_t i;
			json_t *v;

			inc = lk_xcalloc(1, sizeof *inc);
			inc->id = id;
			inc->title = lk_xstrdup(col_text(st, 4) ?
			    col_text(st, 4) : "");
			snprintf(inc->severity, sizeof inc->severity, "%s",
			    sev ? sev : "P3");
			inc->opened_at = sqlite3_column_int64(st, 1);
			inc->milestones[STORE_DETECTED] = inc->opened_at;
			if (json_is_integer(json_object_get(j, "detected_at"))) {
				inc->milestones[STORE_DETECTED] =
				    json_integer_value(json_object_get(j,
				    "detected_at"));
				inc->inferred[STORE_DETECTED] = true;
			}
			inc->opened_by = lk_xstrdup(col_text(st, 6));
			if (json_is_array(svcs) && json_array_size(svcs) > 0) {
				inc->services = lk_xcalloc(json_array_size(svcs),
				    sizeof *inc->services);
				json_array_foreach(svcs, i, v)
					if (json_is_string(v))
						inc->services[inc->nservices++] =
						    lk_xstrdup(json_string_value(v));
			}
			json_decref(j);
		} else if (inc != NULL &&
		    strcmp(kind, "incident.milestone") == 0) {
			milestone_load(inc, st, by_hand);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_incident_free(&inc);
		return store_db_error(s, err, "read timeline");
	}
	if (inc == NULL)
		return lk_fail(err, LK_ENOTFOUND, "incident %lld: no such "
		    "incident in %s", (long long)id, s->path);
	for (int m = 1; m < STORE_MILESTONES; m++)
		if (inc->milestones[m] != 0)
			reached = m;
	inc->status = milestone_status[reached];

	st = s->st_incident_last;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		inc->last_event_at = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	*out = inc;
	return LK_OK;
}

enum lk_code
store_incident_get(struct store *s, int64_t id, struct store_incident **out,
    struct lk_err *err)
{
	return incident_load(s, id, out, err);
}

static bool
blank(const char *s)
{
	if (s == NULL)
		return true;
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

enum lk_code
store_incident_open(struct store *s, const char *title, const char *severity,
    const char *const *services, size_t nservices, int64_t *id_out,
    struct lk_err *err)
{
	return store_incident_open_detected(s, title, severity, services,
	    nservices, 0, id_out, err);
}

enum lk_code
store_incident_open_detected(struct store *s, const char *title,
    const char *severity, const char *const *services, size_t nservices,
    int64_t detected_ms, int64_t *id_out, struct lk_err *err)
{
	struct store_new_event ev = { 0 };
	enum lk_code code;
	json_t *data, *svcs;
	char *text = NULL;
	int64_t id = 0;
	int rc;

	if (blank(title))
		return lk_fail(err, LK_EINPUT, "incident title is empty");
	if (severity == NULL)
		severity = "P3";
	if (strlen(severity) != 2 || (severity[0] != 'P' &&
	    severity[0] != 'p') || severity[1] < '1' || severity[1] > '4')
		return lk_fail(err, LK_EINPUT, "severity \"%s\" is not one of "
		    "P1, P2, P3, P4", severity);
	for (size_t i = 0; i < nservices; i++)
		if (blank(services[i]))
			return lk_fail(err, LK_EINPUT, "service name is empty");

	data = json_object();
	svcs = json_array();
	json_object_set_new(data, "title", json_string(title));
	json_object_set_new(data, "severity", json_sprintf("P%c", severity[1]));
	for (size_t i = 0; i < nservices; i++)
		json_array_append_new(svcs, json_string(services[i]));
	json_object_set_new(data, "services", svcs);
	/* json_string() refuses invalid UTF-8, which shows up as a missing
	 * member here. */
	if (json_object_size(data) != 3 || json_array_size(svcs) != nservices) {
		json_decref(data);
		return lk_fail(err, LK_EINPUT, "incident title or service "
		    "name is not valid UTF-8");
	}
	if (detected_ms > 0)
		json_object_set_new(data, "detected_at",
		    json_integer(detected_ms));
	text = json_dumps(data, JSON_COMPACT);
	json_decref(data);

	if ((code = store_txn_begin(s, err)) != LK_OK)
		goto done;
	rc = sqlite3_step(s->st_next_incident);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(s->st_next_incident, 0);
	sqlite3_reset(s->st_next_incident);
	if (rc != SQLITE_ROW) {
		code = store_db_error(s, err, "read timeline");
		store_txn_rollback(s);
		goto done;
	}
	ev.incident_id = id;
	ev.kind = "incident.opened";
	ev.message = title;
	ev.data = text;
	if ((code = store_append_locked(s, &ev, NULL, err)) != LK_OK) {
		store_txn_rollback(s);
		goto done;
	}
	code = store_txn_commit(s, err);
	if (code == LK_OK && id_out != NULL)
		*id_out = id;
	if (code == LK_OK)
		store_witness(s);	/* a milestone: detected */
done:
	free(text);
	return code;
}

/* Whether milestone m of inc blocks setting another: any reached one
 * does for an inference, only a person's for a person. */
static bool
blocks(const struct store_incident *inc, int m, bool inferred)
{
	return inc->milestones[m] != 0 && (inferred || !inc->inferred[m]);
}

/* Appends ev to incident id under one write lock, after checking that the
 * incident exists and, for a milestone, that it moves the status forward. */
static enum lk_code
incident_append(struct store *s, int64_t id, int milestone, bool inferred,
    const struct store_new_event *ev, struct lk_err *err)
{
	struct store_incident *inc = NULL;

	if (store_txn_begin(s, err) != LK_OK)
		return err->code;
	if (incident_load(s, id, &inc, err) != LK_OK)
		goto fail;
	if (milestone >= 0 && blocks(inc, milestone, inferred)) {
		lk_fail(err, LK_ESTATE, "incident %lld is already %s",
		    (long long)id, milestone_status[milestone]);
		goto fail;
	}
	if (milestone >= 0) {
		for (int m = milestone + 1; m < STORE_MILESTONES; m++)
			if (blocks(inc, m, inferred)) {
				lk_fail(err, LK_ESTATE, "incident %lld is "
				    "already %s; it cannot go back to %s",
				    (long long)id, inc->status,
				    milestone_status[milestone]);
				goto fail;
			}
	}
	if (store_append_locked(s, ev, NULL, err) != LK_OK)
		goto fail;
	store_incident_free(&inc);
	return store_txn_commit(s, err);
fail:
	store_incident_free(&inc);
	store_txn_rollback(s);
	return err->code;
}

enum lk_code
store_incident_note(struct store *s, int64_t id, const char *text,
    struct lk_err *err)
{
	struct store_new_event ev = { 0 };

	if (blank(text))
		return lk_fail(err, LK_EINPUT, "note text is empty");
	ev.incident_id = id;
	ev.kind = "incident.note";
	ev.message = text;
	return incident_append(s, id, -1, false, &ev, err);
}

static enum lk_code
milestone_append(struct store *s, int64_t id, enum store_milestone m,
    bool inferred, int64_t at_ms, const char *text, struct lk_err *err)
{
	struct store_new_event ev = { 0 };
	char data[160];

	if (m <= STORE_DETECTED || m >= STORE_MILESTONES)
		return lk_fail(err, LK_EINPUT, "milestone %d cannot be set",
		    (int)m);
	if (inferred)
		snprintf(data, sizeof data, "{\"milestone\":\"%s\",\"status\":"
		    "\"%s\",\"inferred\":true,\"at\":%lld}",
		    milestone_names[m], milestone_status[m], (long long)(at_ms >
		    0 ? at_ms : lk_now_ms()));
	else
		snprintf(data, sizeof data, "{\"milestone\":\"%s\",\"status\":"
		    "\"%s\"}", milestone_names[m], milestone_status[m]);
	ev.incident_id = id;
	ev.kind = "incident.milestone";
	ev.subject = milestone_names[m];
	ev.message = blank(text) ? NULL : text;
	ev.data = data;
	if (incident_append(s, id, (int)m, inferred, &ev, err) != LK_OK)
		return err->code;
	store_witness(s);
	return LK_OK;
}

enum lk_code
store_incident_advance(struct store *s, int64_t id, enum store_milestone m,
    const char *text, struct lk_err *err)
{
	return milestone_append(s, id, m, false, 0, text, err);
}

enum lk_code
store_incident_infer(struct store *s, int64_t id, enum store_milestone m,
    int64_t at_ms, const char *text, struct lk_err *err)
{
	return milestone_append(s, id, m, true, at_ms, text, err);
}

enum lk_code
store_incident_foreach(struct store *s, store_incident_cb cb, void *arg,
    struct lk_err *err)
{
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	enum lk_code code = LK_OK;
	int rc;

	/* Collect ids first: loading an incident uses other statements, and a
	 * callback may call back into the store. */
	while ((rc = sqlite3_step(s->st_incident_ids)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = lk_xrealloc(ids, cap * sizeof *ids);
		}
		ids[n++] = sqlite3_column_int64(s->st_incident_ids, 0);
	}
	sqlite3_reset(s->st_incident_ids);
	if (rc != SQLITE_DONE)
		code = store_db_error(s, err, "read timeline");
	for (size_t i = 0; code == LK_OK && i < n; i++) {
		struct store_incident *inc = NULL;

		code = incident_load(s, ids[i], &inc, err);
		if (code == LK_OK && cb(inc, arg) != 0)
			n = 0;
		store_incident_free(&inc);
	}
	free(ids);
	return code;
}

enum lk_code
store_events_from(struct store *s, sqlite3_stmt *st, store_event_cb cb,
    void *arg, struct lk_err *err)
{
	struct store_event ev;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_event_from_row(st, &ev);
		if (cb(&ev, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "read timeline");
	return LK_OK;
}

enum lk_code
store_event_foreach(struct store *s, int64_t incident_id, store_event_cb cb,
    void *arg, struct lk_err *err)
{
	sqlite3_stmt *st = incident_id ? s->st_events_incident : s->st_events_all;

	if (incident_id)
		sqlite3_bind_int64(st, 1, incident_id);
	return store_events_from(s, st, cb, arg, err);
}

/* --- samples --------------------------------------------------------------- */

/*
 * Sets *same when v says what its subject's last sample says (state and
 * value) and that sample is less than v->repeat_ms old.  Returns SQLite's
 * code: SQLITE_DONE when the question was answered.
 */
static int
repeats_last(struct store *s, const struct store_sample *v, bool *same)
{
	sqlite3_stmt *st = s->st_sample_last;
	int rc;

	*same = false;
	sqlite3_bind_text(st, 1, v->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v->subject, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(st, 1);
		bool valued = sqlite3_column_type(st, 2) != SQLITE_NULL;

		*same = v->ts_ms - sqlite3_column_int64(st, 0) < v->repeat_ms &&
		    (state == NULL || v->state == NULL ? state == v->state :
		    strcmp(state, v->state) == 0) &&
		    (valued ? v->value >= 0 &&
		    sqlite3_column_double(st, 2) == v->value : v->value < 0);
		rc = SQLITE_DONE;
	}
	sqlite3_clear_bindings(st);
	sqlite3_reset(st);
	return rc;
}

enum lk_code
store_samples_add(struct store *s, const struct store_sample *v, size_t n,
    int64_t keep_ms, struct lk_err *err)
{
	sqlite3_stmt *st = s->st_sample_insert;
	int rc = SQLITE_DONE;

	/* Measurements, not the record of what people did: a power cut may
	 * lose the last cycle's, and they need not cost an fsync each. */
	store_txn_lazy(s);
	if (store_txn_begin(s, err) != LK_OK)
		return err->code;
	for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
		bool same = false;

		if (v[i].repeat_ms > 0 &&
		    ((rc = repeats_last(s, &v[i], &same)) != SQLITE_DONE || same))
			continue;
		sqlite3_bind_int64(st, 1, v[i].ts_ms);
		sqlite3_bind_text(st, 2, v[i].kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, v[i].subject, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, v[i].state, -1, SQLITE_STATIC);
		if (v[i].value >= 0)
			sqlite3_bind_double(st, 5, v[i].value);
		else
			sqlite3_bind_null(st, 5);
		if (v[i].latency_ms >= 0)
			sqlite3_bind_double(st, 6, v[i].latency_ms);
		else
			sqlite3_bind_null(st, 6);
		rc = sqlite3_step(st);
		sqlite3_clear_bindings(st);
		sqlite3_reset(st);
	}
	if (rc == SQLITE_DONE && keep_ms > 0) {
		sqlite3_bind_int64(s->st_sample_prune, 1, lk_now_ms() - keep_ms);
		rc = sqlite3_step(s->st_sample_prune);
		sqlite3_reset(s->st_sample_prune);
	}
	if (rc != SQLITE_DONE) {
		store_db_error(s, err, "write samples to");
		store_txn_rollback(s);
		return err->code;
	}
	return store_txn_commit(s, err);
}

/* One row of ts and value from st, bound to kind, subject and the times
 * given (at, then the other if st takes a fourth parameter).  SQLITE_ROW
 * when there is one and it has a value, SQLITE_DONE when not. */
static int
sample_value(sqlite3_stmt *st, const char *kind, const char *subject,
    int64_t at_ms, int64_t other_ms, int64_t *ts_ms, double *value)
{
	int rc;

	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, at_ms);
	if (sqlite3_bind_parameter_count(st) >= 4)
		sqlite3_bind_int64(st, 4, other_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 1) == SQLITE_NULL)
		rc = SQLITE_DONE;
	if (rc == SQLITE_ROW) {
		*ts_ms = sqlite3_column_int64(st, 0);
		*value = sqlite3_column_double(st, 1);
	}
	sqlite3_clear_bindings(st);
	sqlite3_reset(st);
	return rc;
}

enum lk_code
store_sample_value_at(struct store *s, const char *kind, const char *subject,
    int64_t at_ms, int64_t stale_ms, int64_t *ts_ms, double *value,
    struct lk_err *err)
{
	int rc = sample_value(s->st_sample_value_before, kind, subject, at_ms,
	    at_ms - stale_ms, ts_ms, value);

	if (rc == SQLITE_DONE)
		rc = sample_value(s->st_sample_value_after, kind, subject,
		    at_ms, 0, ts_ms, value);
	if (rc == SQLITE_ROW)
		return LK_OK;
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "read samples from");
	return lk_fail(err, LK_ENOTFOUND, "no sample of %s near then",
	    subject);
}

/* Calls cb for each row of st (ts, state, value, latency_ms), bound to
 * kind, subject and the times given (a fourth parameter if st has one);
 * resets st.  Returns SQLite's last code, SQLITE_DONE when all went. */
static int
sample_rows(sqlite3_stmt *st, const char *kind, const char *subject,
    int64_t at_ms, int64_t other_ms, store_sample_cb *cb, void *arg)
{
	struct store_sample v = { .kind = kind, .subject = subject };
	int rc;

	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, at_ms);
	if (sqlite3_bind_parameter_count(st) >= 4)
		sqlite3_bind_int64(st, 4, other_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v.ts_ms = sqlite3_column_int64(st, 0);
		v.state = (const char *)sqlite3_column_text(st, 1);
		v.value = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 :
		    sqlite3_column_double(st, 2);
		v.latency_ms = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 :
		    sqlite3_column_double(st, 3);
		cb(&v, arg);
	}
	sqlite3_clear_bindings(st);
	sqlite3_reset(st);
	return rc;
}

enum lk_code
store_samples_since(struct store *s, const char *kind, const char *subject,
    int64_t since_ms, store_sample_cb *cb, void *arg, struct lk_err *err)
{
	if (sample_rows(s->st_sample_since, kind, subject, since_ms, 0, cb,
	    arg) != SQLITE_DONE)
		return store_db_error(s, err, "read samples from");
	return LK_OK;
}

enum lk_code
store_samples_series(struct store *s, const char *kind, const char *subject,
    int64_t since_ms, int64_t stale_ms, store_sample_cb *cb, void *arg,
    struct lk_err *err)
{
	if (sample_rows(s->st_sample_prior, kind, subject, since_ms,
	    since_ms - stale_ms, cb, arg) != SQLITE_DONE ||
	    sample_rows(s->st_sample_since, kind, subject, since_ms, 0, cb,
	    arg) != SQLITE_DONE)
		return store_db_error(s, err, "read samples from");
	return LK_OK;
}

/* --- heartbeats -------------------------------------------------------------- */

enum lk_code
store_heartbeat(struct store *s, const char *who, int64_t ts_ms,
    struct lk_err *err)
{
	sqlite3_stmt *st = s->st_heartbeat_set;
	int rc;

	/* A liveness signal: safe from a crash of this process, and the next
	 * durable commit covers it against a power cut. */
	store_txn_lazy(s);
	if (store_txn_begin(s, err) != LK_OK)
		return err->code;
	sqlite3_bind_text(st, 1, who, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ts_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_db_error(s, err, "write heartbeat");
		store_txn_rollback(s);
		return err->code;
	}
	return store_txn_commit(s, err);
}

enum lk_code
store_heartbeat_last(struct store *s, char *who, size_t len, int64_t *ts_ms,
    struct lk_err *err)
{
	sqlite3_stmt *st = s->st_heartbeat_last;
	int rc = sqlite3_step(st);

	*ts_ms = 0;
	if (len > 0)
		who[0] = '\0';
	if (rc == SQLITE_ROW) {
		*ts_ms = sqlite3_column_int64(st, 1);
		snprintf(who, len, "%s", col_text(st, 0) ? col_text(st, 0) :
		    "");
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(s, err, "read heartbeat");
	return LK_OK;
}
