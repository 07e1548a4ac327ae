/*
 * verify: walks the hash chain from the first event and names the first one
 * that does not hold.
 *
 * The chain proves that nobody edited, deleted, inserted or reordered events
 * with the sqlite3 shell or a hex editor.  It does not stop someone who
 * recomputes every hash after an edit; exporting the head hash somewhere else
 * (a postmortem, a ticket) is what pins the history down.
 */
#include "private.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

static bool
is_hex64(const char *s)
{
	if (s == NULL || strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static void
fail_at(struct store_verify_report *r, int64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
fail_at(struct store_verify_report *r, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	r->ok = false;
	r->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
}

enum lk_code
store_verify(struct store *s, int64_t incident_id,
    struct store_verify_report *r, struct lk_err *err)
{
	sqlite3_stmt *st = s->st_events_all;
	char prev[STORE_HASH_HEX] = ZERO_HASH;
	char want[STORE_HASH_HEX];
	struct lk_buf scratch = { 0 };
	int64_t expect_seq = 1, stop_seq = INT64_MAX;
	int64_t head_seq = 0;
	char head_hash[STORE_HASH_HEX] = "";
	struct store_event ev;
	int rc;

	memset(r, 0, sizeof *r);
	r->ok = true;

	if (incident_id != 0) {
		struct store_incident *inc = NULL;

		if (store_incident_get(s, incident_id, &inc, err) != LK_OK)
			return err->code;
		store_incident_free(&inc);
		sqlite3_bind_int64(s->st_incident_last, 1, incident_id);
		if (sqlite3_step(s->st_incident_last) == SQLITE_ROW)
			stop_seq = sqlite3_column_int64(s->st_incident_last, 1);
		sqlite3_reset(s->st_incident_last);
	}

	/* Read the head and the events in one snapshot, so a concurrent
	 * append cannot look like tampering. */
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_db_error(s, err, "read timeline");
	rc = sqlite3_step(s->st_head);
	if (rc == SQLITE_ROW) {
		head_seq = sqlite3_column_int64(s->st_head, 0);
		snprintf(head_hash, sizeof head_hash, "%s",
		    (const char *)sqlite3_column_text(s->st_head, 1));
	}
	sqlite3_reset(s->st_head);

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_event_from_row(st, &ev);
		if (ev.seq > stop_seq)
			break;
		if (ev.seq != expect_seq) {
			if (ev.seq > expect_seq)
				fail_at(r, expect_seq, "event %lld is missing: "
				    "the chain jumps from %lld to %lld (deleted)",
				    (long long)expect_seq,
				    (long long)expect_seq - 1, (long long)ev.seq);
			else
				fail_at(r, ev.seq, "event %lld is out of order",
				    (long long)ev.seq);
			break;
		}
		if (ev.kind == NULL || ev.actor_user == NULL ||
		    !is_hex64(ev.prev_hash) || !is_hex64(ev.hash)) {
			fail_at(r, ev.seq, "event %lld was edited: a required "
			    "field or its hashes are malformed",
			    (long long)ev.seq);
			break;
		}
		store_event_hash(&ev, &scratch, want);
		if (strcmp(want, ev.hash) != 0) {
			fail_at(r, ev.seq, "event %lld was edited: its contents "
			    "no longer match its hash", (long long)ev.seq);
			break;
		}
		if (strcmp(prev, ev.prev_hash) != 0) {
			fail_at(r, ev.seq, "event %lld does not follow event "
			    "%lld: an event before it was edited, replaced or "
			    "inserted", (long long)ev.seq,
			    (long long)ev.seq - 1);
			break;
		}
		memcpy(prev, ev.hash, sizeof prev);
		r->checked++;
		expect_seq++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
		lk_buf_free(&scratch);
		return store_db_error(s, err, "read timeline");
	}
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	lk_buf_free(&scratch);

	/* The head records the newest event: a chain that ends early had its
	 * tail deleted.  Only meaningful when we walked to the end. */
	if (r->ok && stop_seq == INT64_MAX) {
		int64_t last = expect_seq - 1;

		if (head_seq < last)
			fail_at(r, head_seq + 1, "event %lld was inserted "
			    "outside lookout: it lies past the chain head "
			    "(event %lld)", (long long)head_seq + 1,
			    (long long)head_seq);
		else if (head_seq > last)
			fail_at(r, last + 1, "events %lld to %lld are missing: "
			    "the chain head says %lld events but only %lld "
			    "remain (deleted)", (long long)last + 1,
			    (long long)head_seq, (long long)head_seq,
			    (long long)last);
		else if (last > 0 && strcmp(head_hash, prev) != 0)
			fail_at(r, last, "event %lld was edited or replaced: it "
			    "does not match the chain head", (long long)last);
	}
	snprintf(r->head_hash, sizeof r->head_hash, "%s", prev);
	return LK_OK;
}
