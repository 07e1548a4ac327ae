/*
 * Runbook runs: the run and step rows and the events that tell their story,
 * always written together in one durable transaction.
 */
#include "private.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

void
store_sha256_hex(const char *text, size_t len, char out[STORE_HASH_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}

void
store_run_free(struct store_run **rp)
{
	struct store_run *r = rp ? *rp : NULL;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nsteps; i++) {
		free(r->steps[i].name);
		free(r->steps[i].status);
		free(r->steps[i].outcome);
	}
	free(r->steps);
	free(r->runbook);
	free(r->source);
	free(r->params);
	free(r->status);
	free(r->message);
	free(r->actor);
	free(r);
	*rp = NULL;
}

static const char *
col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static char *
dup_col(sqlite3_stmt *st, int i)
{
	return col(st, i) ? lk_xstrdup(col(st, i)) : NULL;
}

/* The incident a run belongs to, so its events show in that incident. */
static int64_t
run_incident(struct store *s, int64_t run_id, bool *found)
{
	sqlite3_stmt *st = s->st_run_get;
	int64_t id = 0;

	*found = false;
	sqlite3_bind_int64(st, 1, run_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 1);
		*found = true;
	}
	sqlite3_reset(st);
	return id;
}

/* Runs one statement that must complete, inside the open transaction. */
static enum lk_code
step_done(struct store *s, sqlite3_stmt *st, struct lk_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_clear_bindings(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "write run to");
	return LK_OK;
}

enum lk_code
store_run_begin(struct store *s, const char *runbook, const char *source,
    const char *params_json, int64_t incident_id, bool dry_run,
    int64_t replay_of, int64_t *run_id, struct lk_err *err)
{
	struct store_new_event ev = { 0 };
	char sha[STORE_HASH_HEX];
	sqlite3_stmt *st = s->st_run_insert;
	json_t *data;
	char *text;
	enum lk_code code;

	store_sha256_hex(source, strlen(source), sha);
	data = json_pack("{s:s, s:o, s:b, s:o}", "sha256", sha, "params",
	    json_loads(params_json, 0, NULL) ?: json_object(), "dry_run",
	    dry_run, "replay_of", replay_of ? json_integer(replay_of) :
	    json_null());
	text = json_dumps(data, JSON_COMPACT);
	json_decref(data);

	/* Nothing has happened yet: the first action's announcement makes
	 * the start of the run durable with it. */
	store_txn_lazy(s);
	if ((code = store_txn_begin(s, err)) != LK_OK)
		goto done;
	if (incident_id) {
		struct store_incident *inc = NULL;

		if ((code = store_incident_get(s, incident_id, &inc, err)) !=
		    LK_OK) {
			store_txn_rollback(s);
			goto done;
		}
		store_incident_free(&inc);
	}
	if (incident_id)
		sqlite3_bind_int64(st, 1, incident_id);
	sqlite3_bind_text(st, 2, runbook, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sha, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, params_json, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, dry_run);
	if (replay_of)
		sqlite3_bind_int64(st, 7, replay_of);
	sqlite3_bind_int64(st, 8, lk_now_ms());
	sqlite3_bind_text(st, 9, s->actor_user, -1, SQLITE_STATIC);
	if ((code = step_done(s, st, err)) != LK_OK) {
		store_txn_rollback(s);
		goto done;
	}
	*run_id = sqlite3_last_insert_rowid(s->db);
	ev.incident_id = incident_id;
	ev.run_id = *run_id;
	ev.kind = "run.started";
	ev.subject = runbook;
	ev.message = dry_run ? "dry run" : replay_of ? "replay" : NULL;
	ev.data = text;
	if ((code = store_append_locked(s, &ev, NULL, err)) != LK_OK) {
		store_txn_rollback(s);
		goto done;
	}
	code = store_txn_commit(s, err);
done:
	free(text);
	return code;
}

/*
 * Updates the run row and appends one event, in one transaction.  Only
 * the events that must be safe from a power cut before the next thing
 * happens are fsynced: an action's announcement (before the action runs)
 * and a step's outcome (before the next step); the fsync of those covers
 * the bookkeeping written lazily before them.
 */
static enum lk_code
run_event(struct store *s, int64_t run_id, const char *kind,
    const char *subject, const char *message, const char *data,
    sqlite3_stmt *update, struct lk_err *err)
{
	bool lazy = strcmp(kind, "step.started") == 0 ||
	    strcmp(kind, "action.finished") == 0 ||
	    strcmp(kind, "incident.note") == 0;

	struct store_new_event ev = { 0 };
	bool found;
	enum lk_code code;

	if (lazy)
		store_txn_lazy(s);
	if ((code = store_txn_begin(s, err)) != LK_OK) {
		if (update)
			sqlite3_clear_bindings(update);
		return code;
	}
	ev.incident_id = run_incident(s, run_id, &found);
	if (!found) {
		if (update)
			sqlite3_clear_bindings(update);
		store_txn_rollback(s);
		return lk_fail(err, LK_ENOTFOUND, "run %lld: no such run in %s",
		    (long long)run_id, s->path);
	}
	ev.run_id = run_id;
	ev.kind = kind;
	ev.subject = subject;
	ev.message = message;
	ev.data = data;
	if ((update != NULL && (code = step_done(s, update, err)) != LK_OK) ||
	    (code = store_append_locked(s, &ev, NULL, err)) != LK_OK) {
		store_txn_rollback(s);
		return code;
	}
	return store_txn_commit(s, err);
}

enum lk_code
store_run_resume(struct store *s, int64_t run_id, struct lk_err *err)
{
	sqlite3_stmt *st = s->st_run_set_status;

	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, "running", -1, SQLITE_STATIC);
	sqlite3_bind_null(st, 3);
	return run_event(s, run_id, "run.started", NULL, "resumed", NULL, st,
	    err);
}

enum lk_code
store_step_begin(struct store *s, int64_t run_id, int idx, const char *name,
    const char *plan, struct lk_err *err)
{
	sqlite3_stmt *st = s->st_step_upsert;
	char data[64];

	snprintf(data, sizeof data, "{\"step\":%d}", idx);
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int(st, 2, idx);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, lk_now_ms());
	return run_event(s, run_id, "step.started", name, plan, data, st, err);
}

enum lk_code
store_action_event(struct store *s, int64_t run_id, int idx, const char *kind,
    const char *subject, const char *message, const char *data,
    struct lk_err *err)
{
	(void)idx;
	if (strcmp(kind, "action.started") != 0 &&
	    strcmp(kind, "action.finished") != 0 &&
	    strcmp(kind, "incident.note") != 0)
		return lk_fail(err, LK_EINPUT, "event kind %s is not an action "
		    "event", kind);
	return run_event(s, run_id, kind, subject, message, data, NULL, err);
}

enum lk_code
store_step_finish(struct store *s, int64_t run_id, int idx, const char *status,
    const char *outcome, const char *host, struct lk_err *err)
{
	sqlite3_stmt *st = s->st_step_finish;
	char *msg = lk_xasprintf("%s%s%s", status, outcome ? ": " : "",
	    outcome ? outcome : "");
	json_t *d = json_pack("{s:i,s:s}", "step", idx, "status", status);
	char *data;
	char name[256] = "";
	enum lk_code code;

	/* The step's name, for a timeline row that reads on its own. */
	sqlite3_bind_int64(s->st_step_name, 1, run_id);
	sqlite3_bind_int(s->st_step_name, 2, idx);
	if (sqlite3_step(s->st_step_name) == SQLITE_ROW)
		snprintf(name, sizeof name, "%s", col(s->st_step_name, 0));
	sqlite3_reset(s->st_step_name);

	if (host != NULL)
		json_object_set_new(d, "host", lk_json_text(host));
	data = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	if (data == NULL)
		lk_oom();
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int(st, 2, idx);
	sqlite3_bind_text(st, 3, status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, outcome, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, lk_now_ms());
	code = run_event(s, run_id, "step.finished", name, msg, data, st, err);
	free(data);
	free(msg);
	return code;
}

enum lk_code
store_run_finish(struct store *s, int64_t run_id, const char *status,
    const char *message, struct lk_err *err)
{
	sqlite3_stmt *st = s->st_run_set_status;
	char data[64];
	char runbook[256] = "";
	bool interrupted = strcmp(status, "interrupted") == 0;

	sqlite3_bind_int64(s->st_run_get, 1, run_id);
	if (sqlite3_step(s->st_run_get) == SQLITE_ROW)
		snprintf(runbook, sizeof runbook, "%s", col(s->st_run_get, 3));
	sqlite3_reset(s->st_run_get);
	snprintf(data, sizeof data, "{\"status\":\"%s\"}", status);
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, lk_now_ms());
	if (run_event(s, run_id, interrupted ? "run.interrupted" :
	    "run.finished", runbook, message ? message : status, data, st,
	    err) != LK_OK)
		return err->code;
	store_witness(s);
	return LK_OK;
}

static struct store_run *
run_from_row(sqlite3_stmt *st)
{
	struct store_run *r = lk_xcalloc(1, sizeof *r);

	r->id = sqlite3_column_int64(st, 0);
	r->incident_id = sqlite3_column_int64(st, 1);
	r->replay_of = sqlite3_column_int64(st, 2);
	r->runbook = dup_col(st, 3);
	r->source = dup_col(st, 4);
	snprintf(r->sha256, sizeof r->sha256, "%s", col(st, 5) ? col(st, 5) :
	    "");
	r->params = dup_col(st, 6);
	r->dry_run = sqlite3_column_int(st, 7) != 0;
	r->status = dup_col(st, 8);
	r->started_at = sqlite3_column_int64(st, 9);
	r->finished_at = sqlite3_column_int64(st, 10);
	r->actor = dup_col(st, 11);
	return r;
}

static void
run_load_message(struct store *s, struct store_run *r)
{
	sqlite3_bind_int64(s->st_run_message, 1, r->id);
	if (sqlite3_step(s->st_run_message) == SQLITE_ROW)
		r->message = dup_col(s->st_run_message, 0);
	sqlite3_reset(s->st_run_message);
}

enum lk_code
store_run_get(struct store *s, int64_t run_id, struct store_run **out,
    struct lk_err *err)
{
	sqlite3_stmt *st = s->st_run_get;
	struct store_run *r = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	sqlite3_bind_int64(st, 1, run_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		r = run_from_row(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(s, err, "read timeline");
	if (r == NULL)
		return lk_fail(err, LK_ENOTFOUND, "run %lld: no such run in %s",
		    (long long)run_id, s->path);
	st = s->st_step_list;
	sqlite3_bind_int64(st, 1, run_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct store_run_step *p;

		if (r->nsteps == cap) {
			cap = cap ? cap * 2 : 8;
			r->steps = lk_xrealloc(r->steps, cap * sizeof *r->steps);
		}
		p = &r->steps[r->nsteps++];
		p->idx = sqlite3_column_int(st, 0);
		p->name = dup_col(st, 1);
		p->status = dup_col(st, 2);
		p->outcome = dup_col(st, 3);
		p->started_at = sqlite3_column_int64(st, 4);
		p->finished_at = sqlite3_column_int64(st, 5);
	}
	sqlite3_reset(st);
	run_load_message(s, r);
	*out = r;
	return LK_OK;
}

enum lk_code
store_run_foreach(struct store *s, store_run_cb cb, void *arg,
    struct lk_err *err)
{
	sqlite3_stmt *st = s->st_run_list;
	struct store_run **runs = NULL;
	size_t n = 0, cap = 0;
	int rc;

	/* Collect first: the callback may read the store. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			runs = lk_xrealloc(runs, cap * sizeof *runs);
		}
		runs[n++] = run_from_row(st);
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++) {
		if (rc == SQLITE_DONE) {
			run_load_message(s, runs[i]);
			if (cb(runs[i], arg) != 0)
				rc = SQLITE_OK;
		}
		store_run_free(&runs[i]);
	}
	free(runs);
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		return store_db_error(s, err, "read timeline");
	return LK_OK;
}

enum lk_code
store_run_events(struct store *s, int64_t run_id, store_event_cb cb,
    void *arg, struct lk_err *err)
{
	sqlite3_bind_int64(s->st_events_run, 1, run_id);
	return store_events_from(s, s->st_events_run, cb, arg, err);
}
