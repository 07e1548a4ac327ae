/*
 * The change feed: the timeline's new events, handed to whoever subscribed.
 *
 * Several processes append to one file (two engineers' consoles, a `lookout
 * run` in a script, `watch`).  SQLite says when another connection has
 * committed: PRAGMA data_version changes.  A loop timer asks it, which costs
 * no I/O while nothing changed, and reads the events after the last one
 * handed out.  This handle's own appends are handed out at their commit,
 * together with any of another process's that came before them, so every
 * subscriber sees every event once and in seq order.
 */
#include "private.h"

#include <stdlib.h>
#include <string.h>

#include "../core/loop.h"

struct store_sub {
	int id;			/* 0: unsubscribed, the slot waits to be reused */
	enum store_sub_kind kind;
	store_event_cb cb;
	void *arg;
};

static void
deliver(struct store *s, enum store_sub_kind kind, const struct store_event *ev)
{
	/* A callback may subscribe (the array may move) or unsubscribe: walk
	 * by index and read each slot afresh. */
	for (size_t i = 0; i < s->nsubs; i++) {
		struct store_sub sub = s->subs[i];

		if (sub.id != 0 && sub.kind == kind)
			sub.cb(ev, sub.arg);
	}
}

static bool
has_subs(const struct store *s, enum store_sub_kind kind)
{
	for (size_t i = 0; i < s->nsubs; i++)
		if (s->subs[i].id != 0 && s->subs[i].kind == kind)
			return true;
	return false;
}

/*
 * Hands the events after *cursor, up to seq to (< 0: all there are), to the
 * subscribers of kind, moving *cursor past each one before its callbacks
 * run.  A callback may append (its commit hands out its own events from
 * here again, on a statement of its own), so the walk skips what such a
 * nested call already handed out.
 */
static void
deliver_range(struct store *s, enum store_sub_kind kind, int64_t *cursor,
    int64_t to)
{
	sqlite3_stmt *st = NULL;
	struct store_event ev;

	if (sqlite3_prepare_v2(s->db, "SELECT " STORE_EVENT_COLS " FROM events"
	    " WHERE seq > ?1 AND seq <= ?2 ORDER BY seq", -1, &st, NULL) !=
	    SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, *cursor);
	sqlite3_bind_int64(st, 2, to < 0 ? INT64_MAX : to);
	while (sqlite3_step(st) == SQLITE_ROW) {
		store_event_from_row(st, &ev);
		if (ev.seq <= *cursor)
			continue;
		*cursor = ev.seq;
		deliver(s, kind, &ev);
	}
	sqlite3_finalize(st);
}

void
store_feed_committed(struct store *s)
{
	int64_t first = s->txn_first_seq, last = s->txn_last_seq;

	if (first == 0)
		return;
	if (has_subs(s, STORE_OWN)) {
		int64_t cursor = first - 1;

		deliver_range(s, STORE_OWN, &cursor, last);
	}
	if (has_subs(s, STORE_ALL))
		deliver_range(s, STORE_ALL, &s->feed_seq, last);
}

int64_t
store_head_seq(struct store *s)
{
	sqlite3_stmt *st = s->st_head;
	int64_t seq = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		seq = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return seq;
}

/* PRAGMA data_version, or -1 if it could not be read. */
static int64_t
data_version(struct store *s)
{
	sqlite3_stmt *st = s->st_data_version;
	int64_t version = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return version;
}

int
store_subscribe(struct store *s, enum store_sub_kind kind, store_event_cb cb,
    void *arg)
{
	size_t i;

	/* The feed starts at the present: history is read with
	 * store_event_foreach(). */
	if (kind == STORE_ALL && !has_subs(s, STORE_ALL)) {
		s->feed_seq = store_head_seq(s);
		s->data_version = data_version(s);
	}
	for (i = 0; i < s->nsubs && s->subs[i].id != 0; i++)
		;
	if (i == s->nsubs) {
		s->subs = lk_xrealloc(s->subs, (s->nsubs + 1) * sizeof *s->subs);
		s->nsubs++;
	}
	s->subs[i] = (struct store_sub){ ++s->last_sub_id, kind, cb, arg };
	return s->subs[i].id;
}

void
store_unsubscribe(struct store *s, int id)
{
	for (size_t i = 0; id != 0 && i < s->nsubs; i++)
		if (s->subs[i].id == id)
			s->subs[i].id = 0;
}

/*
 * data_version reads the log's index, which another connection may be
 * rebuilding; the statements would then wait in the busy handler, which
 * sleeps.  The feed runs on the loop, so it never waits: a busy timeline
 * is simply looked at again on the next tick.
 */
enum lk_code
store_poll(struct store *s, struct lk_err *err)
{
	sqlite3_stmt *st = s->st_data_version;
	int64_t version;
	int rc;

	if (!has_subs(s, STORE_ALL))
		return LK_OK;
	sqlite3_busy_handler(s->db, NULL, NULL);
	rc = sqlite3_step(st);
	version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (rc != SQLITE_ROW && (rc & 0xff) != SQLITE_BUSY &&
	    (rc & 0xff) != SQLITE_LOCKED)
		store_db_error(s, err, "read timeline");
	sqlite3_reset(st);
	if (rc == SQLITE_ROW && version != s->data_version) {
		s->data_version = version;
		deliver_range(s, STORE_ALL, &s->feed_seq, -1);
	}
	store_busy_wait_on(s);
	if (rc != SQLITE_ROW && (rc & 0xff) != SQLITE_BUSY &&
	    (rc & 0xff) != SQLITE_LOCKED)
		return err->code;
	return LK_OK;
}

static long long
on_watch(struct loop *l, long long id, void *data)
{
	struct store *s = data;
	struct lk_err err = { 0 };

	(void)l;
	(void)id;
	/* A read that failed is tried again; the writer sees real errors. */
	store_poll(s, &err);
	return s->watch_ms;
}

void
store_watch(struct store *s, struct loop *loop, int64_t interval_ms)
{
	store_unwatch(s);
	s->watch_loop = loop;
	s->watch_ms = interval_ms > 0 ? interval_ms : 250;
	s->watch_timer = loop_add_timer(loop, s->watch_ms, on_watch, s);
}

void
store_unwatch(struct store *s)
{
	if (s->watch_timer != 0)
		loop_del_timer(s->watch_loop, s->watch_timer);
	s->watch_timer = 0;
	s->watch_loop = NULL;
}
