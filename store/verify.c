/*
 * verify: walks the hash chain from the first event and names the first one
 * that does not hold; checks the rows that are not chained (runs, steps)
 * against the events that are; and compares the chain's head with the last
 * witness of it that the journal holds (witness.c).
 *
 * The chain proves that nobody edited, deleted, inserted or reordered events
 * with the sqlite3 shell or a hex editor.  It does not stop someone who
 * recomputes every hash after an edit, or deletes the newest events and
 * rewrites the head: the witness outside the file is what pins the history
 * down.
 *
 * A run is what its run.started event says (the runbook, the SHA-256 of its
 * source, its parameters) and what its step and run events say happened;
 * the runs and steps rows are a copy kept for reading, which replay and
 * resume act on.  So a row that no longer matches its events is named too,
 * and replay and resume refuse a run whose rows the chain does not vouch
 * for (store_run_vouch).
 */
#include "private.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The head row: the newest event, as the last writer left it. */
static void
read_head(struct store *s, int64_t *seq, char hash[STORE_HASH_HEX])
{
	*seq = 0;
	hash[0] = '\0';
	if (sqlite3_step(s->st_head) == SQLITE_ROW) {
		*seq = sqlite3_column_int64(s->st_head, 0);
		snprintf(hash, STORE_HASH_HEX, "%s",
		    (const char *)sqlite3_column_text(s->st_head, 1));
	}
	sqlite3_reset(s->st_head);
}

/*
 * Walks the events from seq from (whose prev_hash must be prev) to stop
 * and, when stop is INT64_MAX, checks that the chain ends where the head
 * row says.  Inside the caller's read transaction.  r->head_hash is the
 * hash of the last event that held.
 */
static enum lk_code
walk_chain(struct store *s, int64_t from, const char *prev0, int64_t stop,
    struct store_verify_report *r, struct lk_err *err)
{
	sqlite3_stmt *st = s->st_events_range;
	char prev[STORE_HASH_HEX], want[STORE_HASH_HEX];
	char head_hash[STORE_HASH_HEX];
	struct lk_buf scratch = { 0 };
	int64_t expect_seq = from, head_seq;
	struct store_event ev;
	int rc;

	snprintf(prev, sizeof prev, "%s", prev0);
	read_head(s, &head_seq, head_hash);
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, stop);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_event_from_row(st, &ev);
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
	sqlite3_clear_bindings(st);
	sqlite3_reset(st);
	lk_buf_free(&scratch);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(s, err, "read timeline");

	/* The head records the newest event: a chain that ends early had its
	 * tail deleted.  Only meaningful when we walked to the end. */
	if (r->ok && stop == INT64_MAX) {
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
		else if (last >= from && strcmp(head_hash, prev) != 0)
			fail_at(r, last, "event %lld was edited or replaced: it "
			    "does not match the chain head", (long long)last);
		r->last_seq = last;
	}
	snprintf(r->head_hash, sizeof r->head_hash, "%s", prev);
	return LK_OK;
}

/* --- runs and steps against their events ----------------------------------- */

/* What the chain says of one step. */
struct step_said {
	int idx;
	int64_t seq;		/* its last event */
	char *name;
	char *status;		/* "started" until a step.finished */
	char *outcome;
};

/* What the chain says of one run. */
struct run_said {
	int64_t started_seq;	/* its first run.started, 0: none */
	json_t *started;	/* that event's data */
	char *runbook;
	int64_t incident_id;
	int64_t status_seq;
	char *status;		/* as its last run event leaves it */
	struct step_said *steps;
	size_t nsteps;
};

static char *
dup_or_null(const char *s)
{
	return s != NULL ? lk_xstrdup(s) : NULL;
}

static void
run_said_free(struct run_said *rs)
{
	json_decref(rs->started);
	free(rs->runbook);
	free(rs->status);
	for (size_t i = 0; i < rs->nsteps; i++) {
		free(rs->steps[i].name);
		free(rs->steps[i].status);
		free(rs->steps[i].outcome);
	}
	free(rs->steps);
	memset(rs, 0, sizeof *rs);
}

static struct step_said *
step_said(struct run_said *rs, int idx)
{
	for (size_t i = 0; i < rs->nsteps; i++)
		if (rs->steps[i].idx == idx)
			return &rs->steps[i];
	rs->steps = lk_xrealloc(rs->steps, (rs->nsteps + 1) *
	    sizeof *rs->steps);
	memset(&rs->steps[rs->nsteps], 0, sizeof *rs->steps);
	rs->steps[rs->nsteps].idx = idx;
	return &rs->steps[rs->nsteps++];
}

static void
set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = dup_or_null(s);
}

static int
collect(const struct store_event *ev, void *arg)
{
	struct run_said *rs = arg;
	json_t *d = ev->data ? json_loads(ev->data, 0, NULL) : NULL;
	json_t *step = json_object_get(d, "step");
	const char *status = json_string_value(json_object_get(d, "status"));

	if (strcmp(ev->kind, "run.started") == 0) {
		if (rs->started_seq == 0) {
			rs->started_seq = ev->seq;
			rs->started = json_incref(d);
			rs->runbook = dup_or_null(ev->subject);
			rs->incident_id = ev->incident_id;
		}
		rs->status_seq = ev->seq;
		set_str(&rs->status, "running");
	} else if (strcmp(ev->kind, "run.finished") == 0 ||
	    strcmp(ev->kind, "run.interrupted") == 0) {
		rs->status_seq = ev->seq;
		set_str(&rs->status, status);
	} else if (json_is_integer(step) &&
	    strcmp(ev->kind, "step.started") == 0) {
		struct step_said *p = step_said(rs, (int)json_integer_value(step));

		p->seq = ev->seq;
		set_str(&p->name, ev->subject);
		set_str(&p->status, "started");
		set_str(&p->outcome, NULL);
	} else if (json_is_integer(step) && status != NULL &&
	    strcmp(ev->kind, "step.finished") == 0) {
		struct step_said *p = step_said(rs, (int)json_integer_value(step));
		size_t n = strlen(status);
		const char *msg = ev->message ? ev->message : "";

		p->seq = ev->seq;
		set_str(&p->status, status);
		/* The message is "status" or "status: outcome". */
		set_str(&p->outcome, strncmp(msg, status, n) == 0 &&
		    strncmp(msg + n, ": ", 2) == 0 ? msg + n + 2 : NULL);
	}
	json_decref(d);
	return 0;
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL &&
	    strcmp(a, b) == 0);
}

/* Whether the JSON text has means the value want. */
static bool
same_json(const char *has, const json_t *want)
{
	json_t *v = has != NULL ? json_loads(has, 0, NULL) : NULL;
	bool same = v != NULL && json_equal(v, (json_t *)want);

	json_decref(v);
	return same;
}

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Compares the run's row with what the chain says; false and why when
 * they differ. */
static bool
run_row_holds(struct store *s, const struct run_said *rs, int64_t run_id,
    char *why, size_t len)
{
	sqlite3_stmt *st = s->st_run_get;
	const char *want_sha, *source, *sha, *params, *runbook, *status;
	json_t *want_params;
	json_int_t want_replay;
	char have_sha[STORE_HASH_HEX];
	int64_t seq = rs->started_seq;
	bool ok = false;

	sqlite3_bind_int64(st, 1, run_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		snprintf(why, len, "its run.started event (event %lld) has no "
		    "runs row", (long long)seq);
		goto done;
	}
	runbook = col(st, 3);
	source = col(st, 4);
	sha = col(st, 5);
	params = col(st, 6);
	status = col(st, 8);
	want_sha = json_string_value(json_object_get(rs->started, "sha256"));
	want_params = json_object_get(rs->started, "params");
	want_replay = json_integer_value(json_object_get(rs->started,
	    "replay_of"));
	store_sha256_hex(source ? source : "", source ? strlen(source) : 0,
	    have_sha);
	if (want_sha == NULL || want_params == NULL) {
		snprintf(why, len, "its run.started event (event %lld) names no "
		    "source or parameters", (long long)seq);
	} else if (strcmp(have_sha, want_sha) != 0) {
		snprintf(why, len, "its recorded source is not the one its "
		    "run.started event (event %lld) vouches for (sha256 %.12s, "
		    "not %.12s)", (long long)seq, have_sha, want_sha);
	} else if (!same_str(sha, want_sha)) {
		snprintf(why, len, "its recorded sha256 %.12s is not the %.12s "
		    "its run.started event (event %lld) vouches for",
		    sha ? sha : "(none)", want_sha, (long long)seq);
	} else if (!same_json(params, want_params)) {
		char *w = json_dumps(want_params, JSON_COMPACT | JSON_SORT_KEYS);

		snprintf(why, len, "its recorded parameters %.120s are not the "
		    "%.120s its run.started event (event %lld) vouches for",
		    params ? params : "(none)", w ? w : "?", (long long)seq);
		free(w);
	} else if (!same_str(runbook, rs->runbook)) {
		snprintf(why, len, "its runbook \"%.100s\" is not the \"%.100s\" "
		    "of its run.started event (event %lld)", runbook ? runbook :
		    "", rs->runbook ? rs->runbook : "", (long long)seq);
	} else if ((sqlite3_column_int(st, 7) != 0) != json_is_true(
	    json_object_get(rs->started, "dry_run")) ||
	    sqlite3_column_int64(st, 2) != (int64_t)want_replay ||
	    sqlite3_column_int64(st, 1) != rs->incident_id) {
		snprintf(why, len, "its dry run, replay or incident is not what "
		    "its run.started event (event %lld) says", (long long)seq);
	} else if (!same_str(status, rs->status)) {
		snprintf(why, len, "its status \"%.40s\" is not the \"%.40s\" its "
		    "last run event (event %lld) says", status ? status : "",
		    rs->status ? rs->status : "", (long long)rs->status_seq);
	} else {
		ok = true;
	}
done:
	sqlite3_clear_bindings(st);
	sqlite3_reset(st);
	return ok;
}

static bool
step_rows_hold(struct store *s, struct run_said *rs, int64_t run_id,
    char *why, size_t len)
{
	sqlite3_stmt *st = s->st_step_list;
	size_t rows = 0;
	bool ok = true;

	sqlite3_bind_int64(st, 1, run_id);
	while (ok && sqlite3_step(st) == SQLITE_ROW) {
		int idx = sqlite3_column_int(st, 0);
		const struct step_said *p = NULL;

		for (size_t i = 0; i < rs->nsteps; i++)
			if (rs->steps[i].idx == idx)
				p = &rs->steps[i];
		rows++;
		if (p == NULL) {
			snprintf(why, len, "step %d has a row but no event",
			    idx + 1);
			ok = false;
		} else if (!same_str(col(st, 1), p->name)) {
			snprintf(why, len, "step %d is named \"%.80s\" in its "
			    "row, \"%.80s\" in its event (event %lld)", idx + 1,
			    col(st, 1) ? col(st, 1) : "", p->name ? p->name : "",
			    (long long)p->seq);
			ok = false;
		} else if (!same_str(col(st, 2), p->status)) {
			snprintf(why, len, "step %d is %.40s in its row, but "
			    "%.40s in its last event (event %lld)", idx + 1,
			    col(st, 2) ? col(st, 2) : "(none)", p->status ?
			    p->status : "(none)", (long long)p->seq);
			ok = false;
		} else if (!same_str(col(st, 3), p->outcome)) {
			snprintf(why, len, "step %d's outcome in its row is not "
			    "the one its last event (event %lld) records",
			    idx + 1, (long long)p->seq);
			ok = false;
		}
	}
	sqlite3_reset(st);
	if (ok && rows != rs->nsteps) {
		snprintf(why, len, "%zu of its steps have events but no row",
		    rs->nsteps - rows);
		ok = false;
	}
	return ok;
}

/*
 * Whether the rows of run run_id hold what its events say; false with why
 * (and the seq of its run.started event, or 0) when not.  Inside the
 * caller's read transaction.
 */
static enum lk_code
run_holds(struct store *s, int64_t run_id, bool *holds, int64_t *seq,
    char *why, size_t len, struct lk_err *err)
{
	struct run_said rs = { 0 };

	*holds = false;
	sqlite3_bind_int64(s->st_events_run, 1, run_id);
	if (store_events_from(s, s->st_events_run, collect, &rs, err) != LK_OK)
		return err->code;
	*seq = rs.started_seq;
	if (rs.started_seq == 0)
		snprintf(why, len, "no run.started event in the chain vouches "
		    "for it");
	else
		*holds = run_row_holds(s, &rs, run_id, why, len) &&
		    step_rows_hold(s, &rs, run_id, why, len);
	run_said_free(&rs);
	return LK_OK;
}

/* Every run (of incident_id, or all): the first whose rows do not hold. */
static enum lk_code
check_runs(struct store *s, int64_t incident_id,
    struct store_verify_report *r, struct lk_err *err)
{
	sqlite3_stmt *st = s->st_run_ids;
	int64_t *ids = NULL, seq;
	size_t n = 0;
	char why[400];
	bool holds;
	enum lk_code code = LK_OK;

	while (sqlite3_step(st) == SQLITE_ROW) {
		if (incident_id != 0 && sqlite3_column_int64(st, 1) !=
		    incident_id)
			continue;
		ids = lk_xrealloc(ids, (n + 1) * sizeof *ids);
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n && r->ok && code == LK_OK; i++) {
		code = run_holds(s, ids[i], &holds, &seq, why, sizeof why, err);
		if (code == LK_OK && !holds)
			fail_at(r, seq, "run %lld was edited: %s",
			    (long long)ids[i], why);
		else
			r->runs_checked++;
	}
	free(ids);
	return code;
}

/* --- the commands ----------------------------------------------------------- */

enum lk_code
store_verify(struct store *s, int64_t incident_id,
    struct store_verify_report *r, struct lk_err *err)
{
	int64_t stop_seq = INT64_MAX;
	enum lk_code code;

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

	/* Read the head, the events and the rows in one snapshot, so a
	 * concurrent append cannot look like tampering. */
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_db_error(s, err, "read timeline");
	code = walk_chain(s, 1, ZERO_HASH, stop_seq, r, err);
	if (code == LK_OK && r->ok)
		code = check_runs(s, incident_id, r, err);
	if (code == LK_OK && stop_seq == INT64_MAX)
		store_witness_check(s, r);
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	return code;
}

enum lk_code
store_run_vouch(struct store *s, int64_t run_id, struct lk_err *err)
{
	struct store_verify_report r = { .ok = true };
	char why[400], prev[STORE_HASH_HEX] = "";
	int64_t seq = 0;
	bool holds = false;
	enum lk_code code;

	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_db_error(s, err, "read timeline");
	code = run_holds(s, run_id, &holds, &seq, why, sizeof why, err);
	/* From its run.started event to the head: what the chain vouches
	 * for is what links to the end, and the end to its witness. */
	if (code == LK_OK && seq != 0) {
		sqlite3_bind_int64(s->st_events_range, 1, seq);
		sqlite3_bind_int64(s->st_events_range, 2, seq);
		if (sqlite3_step(s->st_events_range) == SQLITE_ROW)
			snprintf(prev, sizeof prev, "%s", col(s->st_events_range,
			    11));
		sqlite3_clear_bindings(s->st_events_range);
		sqlite3_reset(s->st_events_range);
		code = walk_chain(s, seq, prev, INT64_MAX, &r, err);
		if (code == LK_OK && r.ok)
			store_witness_check(s, &r);
	}
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (code != LK_OK)
		return code;
	if (!holds)
		return lk_fail(err, LK_EINPUT, "%s", why);
	if (!r.ok)
		return lk_fail(err, LK_EINPUT, "the chain does not vouch for it: "
		    "%s", r.reason);
	return LK_OK;
}
