/*
 * The actions a runbook step can call.  Every one checks its arguments
 * first (a Lua error may be raised only while C owns nothing), describes
 * itself when the step is being planned, logs action.started durably,
 * starts its work on the loop and yields; its callback logs
 * action.finished and resumes the step with a result table:
 *
 *	{ ok = true|false, reason = "...", ...action-specific fields }
 */
#include "private.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config/config.h"
#include "../core/loop.h"
#include "../core/util.h"
#include "../core/http.h"
#include "../probes/http_eval.h"
#include "../probes/probes.h"
#include "../store/store.h"
#include "../core/child.h"
#include "../core/ssh.h"
#include "unitctl.h"

/*
 * One operation in flight.  Its callback may arrive after the step moved
 * on (a step timeout): gen tells, and the wait is freed either way.
 */
struct wait {
	struct rb_run *run;
	unsigned gen;
	char action[32];
	/* http.check */
	struct config_http check;
	char *url;
	char **headers;
	size_t nheaders;
	int tries, max_tries;
	int64_t backoff_ms;
	int status_buf[16];
	char *host;		/* systemctl on another host, or NULL */
};

static struct rb_run *
need_run(lua_State *L, const char *action)
{
	struct rb_run *run = rb_run_of(L);

	if (run == NULL)
		luaL_error(L, "%s: actions can only run inside a step", action);
	if (run->store_broken)
		luaL_error(L, "%s was not taken: %s", action, run->last_reason);
	return run;
}

static struct wait *
wait_new(struct rb_run *run, const char *action)
{
	struct wait *w = lk_xcalloc(1, sizeof *w);

	w->run = run;
	w->gen = run->gen;
	snprintf(w->action, sizeof w->action, "%s", action);
	return w;
}

static void
wait_free(struct wait *w)
{
	free(w->url);
	free(w->host);
	free(w->check.json_path);
	free(w->check.json_equals);
	free(w->check.body_contains);
	for (size_t i = 0; i < w->nheaders; i++) {
		explicit_bzero(w->headers[i], strlen(w->headers[i]));
		free(w->headers[i]);
	}
	free(w->headers);
	free(w);
}

/* True if the wait still belongs to the step in progress. */
static bool
wait_current(struct wait *w)
{
	return w->gen == w->run->gen && w->run->co != NULL;
}

/* Pushes { ok = false, reason = why } as the planned/failed result. */
static int
push_result(lua_State *L, bool ok, const char *reason)
{
	lua_newtable(L);
	lua_pushboolean(L, ok);
	lua_setfield(L, -2, "ok");
	if (reason != NULL) {
		lua_pushstring(L, reason);
		lua_setfield(L, -2, "reason");
	}
	return 1;
}

static void
set_str(lua_State *L, const char *key, const char *value)
{
	lua_pushstring(L, value);
	lua_setfield(L, -2, key);
}

static void
set_num(lua_State *L, const char *key, lua_Number value)
{
	if (value == (lua_Number)(lua_Integer)value)
		lua_pushinteger(L, (lua_Integer)value);
	else
		lua_pushnumber(L, value);
	lua_setfield(L, -2, key);
}

static int
planned(lua_State *L)
{
	push_result(L, true, NULL);
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "planned");
	return 1;
}

static int64_t
opt_duration(lua_State *L, int t, const char *key, int64_t def)
{
	int64_t ms = def;

	rb_rawfield(L, t, key);
	if (lua_type(L, -1) == LUA_TNUMBER)
		ms = (int64_t)lua_tointeger(L, -1);
	else if (lua_type(L, -1) == LUA_TSTRING &&
	    lk_parse_duration(lua_tostring(L, -1), &ms) != 0)
		luaL_error(L, "%s \"%s\" is not a duration (\"500ms\", \"30s\", "
		    "\"5m\")", key, lua_tostring(L, -1));
	else if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "%s must be a duration", key);
	lua_pop(L, 1);
	return ms;
}

/* --- systemctl.* ------------------------------------------------------------ */

static void
on_unit_done(const struct unitctl_result *r, void *data)
{
	struct wait *w = data;
	struct rb_run *run = w->run;
	char outcome[400];
	json_t *d;
	char *dj;

	if (!wait_current(w)) {
		wait_free(w);
		return;
	}
	rb_pending_clear(run);
	if (r->ok)
		snprintf(outcome, sizeof outcome, "%s%s%s%s%s", r->active,
		    r->sub[0] ? " (" : "", r->sub, r->sub[0] ? ")" : "",
		    r->file_state[0] ? "" : "");
	else
		snprintf(outcome, sizeof outcome, "%s", r->reason);
	if (r->ok && r->file_state[0] && (r->op == UNITCTL_ENABLE ||
	    r->op == UNITCTL_DISABLE))
		snprintf(outcome, sizeof outcome, "%s", r->file_state);
	else if (r->ok && r->main_pid > 0) {
		size_t n = strlen(outcome);

		snprintf(outcome + n, sizeof outcome - n, ", MainPID %lld",
		    (long long)r->main_pid);
	}
	d = json_pack("{s:b, s:s, s:s, s:s, s:s, s:I, s:I}", "ok", r->ok,
	    "job_result", r->job_result, "active", r->active, "sub", r->sub,
	    "file_state", r->file_state, "main_pid", (json_int_t)r->main_pid,
	    "duration_ms", (json_int_t)r->duration_ms);
	if (w->host != NULL)
		json_object_set_new(d, "host", lk_json_text(w->host));
	dj = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	rb_action_finished(run, w->action, r->ok, outcome, dj);
	free(dj);

	push_result(run->co, r->ok, r->ok ? NULL : r->reason);
	set_str(run->co, "active", r->active);
	set_str(run->co, "sub", r->sub);
	set_str(run->co, "enabled", r->file_state);
	set_num(run->co, "main_pid", (lua_Number)r->main_pid);
	set_str(run->co, "job_result", r->job_result);
	wait_free(w);
	rb_resume(run, 1);
}

/* The ssh_config of the configuration, for ssh -F, or NULL. */
static const char *
ssh_config(const struct rb_run *run)
{
	return run->cfg != NULL ? config_ssh_config(run->cfg) : NULL;
}

/*
 * The manager of host (NULL: this machine's) for scope, connected on
 * first use.  Another host's connection that ssh left is made again:
 * the host may be back.
 */
static struct unitctl *
unit_conn(struct rb_run *run, const char *host, bool user,
    struct lk_err *err)
{
	struct unitctl **slot = user ? &run->uc_user : &run->uc_system;

	if (host != NULL) {
		struct rb_remote_uc *r = NULL;

		for (size_t i = 0; i < run->nuc_remote && r == NULL; i++)
			if (run->uc_remote[i].user == user &&
			    strcmp(run->uc_remote[i].host, host) == 0)
				r = &run->uc_remote[i];
		if (r == NULL) {
			run->uc_remote = lk_xrealloc(run->uc_remote,
			    (run->nuc_remote + 1) * sizeof *run->uc_remote);
			r = &run->uc_remote[run->nuc_remote++];
			r->host = lk_xstrdup(host);
			r->user = user;
			r->uc = NULL;
		}
		if (r->uc != NULL && unitctl_broken(r->uc) &&
		    unitctl_pending(r->uc) == 0)
			unitctl_free(&r->uc);
		if (r->uc == NULL && unitctl_new_remote(run->loop,
		    ssh_config(run), host, user, &r->uc, err) != LK_OK)
			return NULL;
		return r->uc;
	}
	if (*slot == NULL && unitctl_new(run->loop, user, slot, err) != LK_OK)
		return NULL;
	return *slot;
}

/*
 * The host option of an action: an ssh destination, or NULL for this
 * machine.  Raises a Lua error for anything else, so call it while C
 * owns nothing.
 */
static const char *
opt_host(lua_State *L, int idx, const char *action)
{
	const char *host;

	if (!lua_istable(L, idx))
		return NULL;
	rb_rawfield(L, idx, "host");
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return NULL;
	}
	host = luaL_checkstring(L, -1);
	lua_pop(L, 1);	/* still held by the table */
	if (!lk_ssh_host_ok(host))
		luaL_error(L, "%s: host \"%s\" is not an ssh destination "
		    "(an ssh_config alias or user@host)", action, host);
	return host;
}

/* {"host": host} for an action's event, or NULL for this machine; the
 * caller frees it. */
static char *
host_json(const char *host)
{
	json_t *d;
	char *s;

	if (host == NULL)
		return NULL;
	d = json_pack("{s:s}", "host", host);
	s = d ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	return s;
}

static int
l_systemctl(lua_State *L)
{
	enum unitctl_op op = (enum unitctl_op)lua_tointeger(L,
	    lua_upvalueindex(1));
	const char *unit = luaL_checkstring(L, 1);
	const char *scope = geteuid() == 0 ? "system" : "user";
	const char *host;
	int64_t timeout = UNITCTL_DEFAULT_TIMEOUT_MS;
	int64_t settle = 0;
	char action[32], what[400], *hj;
	struct rb_run *run;
	struct unitctl *uc;
	struct lk_err err = { 0 };
	struct wait *w;

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		rb_rawfield(L, 2, "scope");
		if (!lua_isnil(L, -1))
			scope = luaL_checkstring(L, -1);
		timeout = opt_duration(L, 2, "timeout", timeout);
		/* A start is "done" once systemd forked; settle = "2s" waits
		 * and reads the state again to catch a crash at start-up. */
		settle = opt_duration(L, 2, "settle", settle);
	}
	if (strcmp(scope, "user") != 0 && strcmp(scope, "system") != 0)
		return luaL_error(L, "systemctl: scope must be \"user\" or "
		    "\"system\", got \"%s\"", scope);
	if (*unit == '\0' || strlen(unit) > 255 || strpbrk(unit, " \t\n/"))
		return luaL_error(L, "systemctl: \"%s\" is not a unit name",
		    unit);
	snprintf(action, sizeof action, "systemctl.%s", unitctl_op_name(op));
	host = opt_host(L, 2, action);
	run = need_run(L, action);
	snprintf(what, sizeof what, "systemctl%s%s%s %s %s",
	    host ? " -H " : "", host ? host : "",
	    strcmp(scope, "user") == 0 ? " --user" : "", unitctl_op_name(op),
	    unit);
	if (run->planning) {
		rb_plan(run, "%s", what);
		return planned(L);
	}
	hj = host_json(host);
	if (!rb_action_started(run, action, what, hj)) {
		free(hj);
		return luaL_error(L, "%s", run->last_reason);
	}
	uc = unit_conn(run, host, strcmp(scope, "user") == 0, &err);
	if (uc == NULL) {
		rb_action_finished(run, action, false, err.msg, hj);
		free(hj);
		return push_result(L, false, err.msg);
	}
	w = wait_new(run, action);
	w->host = host ? lk_xstrdup(host) : NULL;
	free(hj);
	unitctl_set_settle(uc, settle);
	rb_pending_set(run, PEND_UNIT, action);
	if (unitctl_run(uc, op, unit, timeout, on_unit_done, w) != 0) {
		wait_free(w);
		rb_pending_clear(run);
		rb_action_finished(run, action, false, "could not ask systemd",
		    NULL);
		return push_result(L, false, "could not ask systemd");
	}
	return lua_yield(L, 0);
}

/* --- http.check ------------------------------------------------------------- */

static void http_attempt(struct wait *w);

/* What http.check returns to the runbook, on every path. */
static void
push_http_result(lua_State *L, bool ok, const char *reason, long status,
    double latency_ms, int tries)
{
	push_result(L, ok, ok ? NULL : reason);
	lua_pushinteger(L, status);
	lua_setfield(L, -2, "status");
	lua_pushnumber(L, latency_ms);
	lua_setfield(L, -2, "latency_ms");
	lua_pushinteger(L, tries);
	lua_setfield(L, -2, "tries");
}

static long long
http_retry(struct loop *l, long long id, void *data)
{
	struct wait *w = data;

	(void)l;
	(void)id;
	w->run->timer = 0;
	/* In flight again: the reply's callback owns w from here. */
	w->run->pend_data = NULL;
	w->run->pend_free = NULL;
	http_attempt(w);
	return LOOP_NOMORE;
}

static void
on_http_done(const struct http_reply *r, void *data)
{
	struct wait *w = data;
	struct rb_run *run = w->run;
	struct http_response resp;
	char reason[PROBE_REASON_MAX] = "", outcome[512];
	bool ok;
	json_t *d;
	char *dj;

	if (!wait_current(w)) {
		wait_free(w);
		return;
	}
	if (r->error != NULL) {
		/* libcurl's words, cut to 180 or 200 bytes by core/http.c:
		 * one that long may end in the start of a secret. */
		char *clean = lk_scrub_str(&run->secrets, r->error,
		    strlen(r->error) >= 180 ? LK_SCRUB_TAIL : 0);

		ok = false;
		snprintf(reason, sizeof reason, "%s", clean);
		free(clean);
	} else {
		resp.status = r->status;
		resp.body = r->body;
		resp.len = r->len;
		resp.latency_ms = r->latency_ms;
		ok = http_eval_scrubbed(&w->check, &resp, &run->secrets, reason,
		    sizeof reason);
	}
	if (!ok && w->tries < w->max_tries) {
		rb_progress(run, "     try %d of %d: %s", w->tries, w->max_tries,
		    reason);
		run->timer = loop_add_timer(run->loop, w->backoff_ms,
		    http_retry, w);
		/* Between two tries only the timer holds w: a step timeout
		 * or a cancel (rb_pending_clear) frees it. */
		run->pend_data = w;
		run->pend_free = (void (*)(void *))wait_free;
		return;
	}
	rb_pending_clear(run);
	if (ok)
		snprintf(outcome, sizeof outcome, "HTTP %ld in %.0f ms (try %d "
		    "of %d)", r->status, r->latency_ms, w->tries, w->max_tries);
	else
		snprintf(outcome, sizeof outcome, "%s (after %d %s)", reason,
		    w->tries, w->tries == 1 ? "try" : "tries");
	d = json_pack("{s:b, s:I, s:f, s:i}", "ok", ok, "status",
	    (json_int_t)(r->error ? 0 : r->status), "latency_ms", r->latency_ms,
	    "tries", w->tries);
	dj = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	rb_action_finished(run, "http.check", ok, outcome, dj);
	free(dj);
	push_http_result(run->co, ok, reason, r->error ? 0 : r->status,
	    r->latency_ms, w->tries);
	wait_free(w);
	rb_resume(run, 1);
}

static void
http_attempt(struct wait *w)
{
	struct rb_run *run = w->run;
	struct http_request req = { 0 };

	w->tries++;
	req.url = w->url;
	req.timeout_ms = w->check.timeout_ms;
	req.connect_timeout_ms = w->check.connect_timeout_ms;
	req.max_body = w->check.max_body;
	req.insecure = w->check.insecure;
	req.headers = (const char *const *)w->headers;
	http_start(run->http, &req, on_http_done, w);
}

/* Reads http.check's table into w (arguments checked before any copy). */
static void
http_args(lua_State *L, int *statuses, size_t *nstatus)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	rb_rawfield(L, 1, "url");
	if (lua_type(L, -1) != LUA_TSTRING ||
	    (strncmp(lua_tostring(L, -1), "http://", 7) != 0 &&
	    strncmp(lua_tostring(L, -1), "https://", 8) != 0))
		luaL_error(L, "http.check: url must be an http:// or https:// "
		    "URL");
	lua_pop(L, 1);
	*nstatus = 0;
	rb_rawfield(L, 1, "status");
	if (lua_type(L, -1) == LUA_TNUMBER) {
		statuses[(*nstatus)++] = (int)lua_tointeger(L, -1);
	} else if (lua_type(L, -1) == LUA_TTABLE) {
		for (int i = 1; i <= 16; i++) {
			lua_rawgeti(L, -1, i);
			if (lua_isnil(L, -1)) {
				lua_pop(L, 1);
				break;
			}
			statuses[(*nstatus)++] = (int)luaL_checkinteger(L, -1);
			lua_pop(L, 1);
		}
	} else if (!lua_isnil(L, -1)) {
		luaL_error(L, "http.check: status must be a number or a list");
	}
	lua_pop(L, 1);
	if (*nstatus == 0)
		statuses[(*nstatus)++] = 200;
	rb_rawfield(L, 1, "headers");
	if (!lua_isnil(L, -1)) {
		luaL_checktype(L, -1, LUA_TTABLE);
		lua_pushnil(L);
		while (lua_next(L, -2) != 0) {
			if (lua_type(L, -2) != LUA_TSTRING ||
			    lua_type(L, -1) != LUA_TSTRING ||
			    strpbrk(lua_tostring(L, -1), "\r\n") != NULL)
				luaL_error(L, "http.check: headers are "
				    "{ [\"Name\"] = \"value\" } (one line each)");
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
}

static char *
opt_strdup(lua_State *L, int t, const char *key)
{
	char *v = NULL;

	rb_rawfield(L, t, key);
	if (lua_isstring(L, -1))
		v = lk_xstrdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	return v;
}

static int
l_http_check(lua_State *L)
{
	int statuses[16];
	size_t nstatus;
	int64_t timeout, backoff;
	int retries;
	struct rb_run *run;
	struct wait *w;
	struct lk_err err = { 0 };
	char *shown, what[600], expect[64];

	http_args(L, statuses, &nstatus);
	timeout = opt_duration(L, 1, "timeout_ms", 2000);
	timeout = opt_duration(L, 1, "timeout", timeout);
	backoff = opt_duration(L, 1, "backoff_ms", 1000);
	rb_rawfield(L, 1, "retries");
	retries = lua_isnil(L, -1) ? 0 : (int)luaL_checkinteger(L, -1);
	lua_pop(L, 1);
	if (retries < 0 || retries > 100)
		return luaL_error(L, "http.check: retries must be 0 to 100");
	run = need_run(L, "http.check");

	/* From here on C owns memory: no more Lua errors. */
	w = wait_new(run, "http.check");
	w->url = opt_strdup(L, 1, "url");
	memcpy(w->status_buf, statuses, nstatus * sizeof *statuses);
	w->check.url = w->url;
	w->check.status = w->status_buf;
	w->check.nstatus = nstatus;
	rb_rawfield(L, 1, "json");
	w->check.json = lua_toboolean(L, -1);
	lua_pop(L, 1);
	rb_rawfield(L, 1, "json_field");
	if (lua_istable(L, -1)) {
		w->check.json_path = opt_strdup(L, -1, "path");
		rb_rawfield(L, -1, "equals");
		if (!lua_isnil(L, -1)) {
			json_t *v = lua_isinteger(L, -1) ?
			    json_integer(lua_tointeger(L, -1)) :
			    lua_type(L, -1) == LUA_TNUMBER ?
			    json_real(lua_tonumber(L, -1)) :
			    lua_isboolean(L, -1) ?
			    json_boolean(lua_toboolean(L, -1)) :
			    lk_json_text(lua_tostring(L, -1) ?
			    lua_tostring(L, -1) : "");

			w->check.json_equals = json_dumps(v, JSON_ENCODE_ANY |
			    JSON_COMPACT);
			json_decref(v);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	w->check.body_contains = opt_strdup(L, 1, "body_contains");
	rb_rawfield(L, 1, "max_latency_ms");
	w->check.max_latency_ms = lua_isinteger(L, -1) ?
	    lua_tointeger(L, -1) : -1;
	lua_pop(L, 1);
	rb_rawfield(L, 1, "insecure");
	w->check.insecure = lua_toboolean(L, -1);
	lua_pop(L, 1);
	w->check.timeout_ms = timeout;
	w->check.connect_timeout_ms = -1;
	w->check.max_body = 1 << 20;
	w->max_tries = retries + 1;
	w->backoff_ms = backoff;
	rb_rawfield(L, 1, "headers");
	if (lua_istable(L, -1)) {
		lua_pushnil(L);
		while (lua_next(L, -2) != 0) {
			w->headers = lk_xrealloc(w->headers, (w->nheaders + 2) *
			    sizeof *w->headers);
			w->headers[w->nheaders++] = lk_xasprintf("%s: %s",
			    lua_tostring(L, -2), lua_tostring(L, -1));
			w->headers[w->nheaders] = NULL;
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);

	/* The URL is shown without its password; header values never.  It
	 * is scrubbed first: libcurl rewrites it (percent-encoding). */
	shown = rb_scrub(run, w->url);
	{
		char *redacted = http_redact_url(shown);

		free(shown);
		shown = redacted;
	}
	snprintf(expect, sizeof expect, "%d%s", statuses[0],
	    nstatus > 1 ? " or another listed status" : "");
	snprintf(what, sizeof what, "GET %s (expect %s%s; %d %s, %lld ms "
	    "apart)", shown, expect, w->check.json ? ", JSON" : "",
	    w->max_tries, w->max_tries == 1 ? "try" : "tries",
	    (long long)backoff);
	free(shown);
	if (run->planning) {
		rb_plan(run, "http.check %s", what);
		wait_free(w);
		return planned(L);
	}
	if (!rb_action_started(run, "http.check", what, NULL)) {
		wait_free(w);
		return luaL_error(L, "%s", run->last_reason);
	}
	/*
	 * The first http.check of a run loads libcurl.  Where it cannot, no
	 * retry would do better, and the answer is given here, before the
	 * runbook yields, as systemctl does when systemd cannot be reached.
	 */
	if (run->http == NULL && http_pool_new(run->loop, &run->http, &err) !=
	    LK_OK) {
		wait_free(w);
		rb_action_finished(run, "http.check", false, err.msg, NULL);
		push_http_result(L, false, err.msg, 0, 0, 0);
		return 1;
	}
	rb_pending_set(run, PEND_HTTP, "http.check");
	http_attempt(w);
	return lua_yield(L, 0);
}

/* --- sh --------------------------------------------------------------------- */

/*
 * A stream as the step's function gets it: all the child kept, secrets
 * and all (the runbook has them anyway), but where the child dropped the
 * rest, without the start of a secret cut off there, which nothing that
 * scrubs it later could tell from text (a note, a reason, an error).
 */
static void
push_stream(struct rb_run *run, const char *key, const char *out,
    size_t len, bool truncated)
{
	if (out == NULL)
		len = 0;
	if (truncated)
		len -= lk_scrub_dangling(&run->secrets, out, len);
	lua_pushlstring(run->co, out ? out : "", len);
	lua_setfield(run->co, -2, key);
}

static void
on_child_done(const struct child_result *r, void *data)
{
	struct wait *w = data;
	struct rb_run *run = w->run;
	char outcome[512];
	bool ok;
	json_t *d;
	char *dj;

	if (!wait_current(w)) {
		wait_free(w);
		return;
	}
	run->child = NULL;
	rb_pending_clear(run);
	ok = r->spawn_error == NULL && r->exit_status == 0 && !r->timed_out &&
	    !r->cancelled;
	if (r->spawn_error)
		snprintf(outcome, sizeof outcome, "%s", r->spawn_error);
	else if (r->cancelled)
		snprintf(outcome, sizeof outcome, "cancelled by the operator "
		    "after %lld ms (ended by signal %d)",
		    (long long)r->duration_ms, r->term_signal);
	else if (r->timed_out)
		snprintf(outcome, sizeof outcome, "timed out after %lld ms "
		    "(ended by signal %d)", (long long)r->duration_ms,
		    r->term_signal);
	else if (r->term_signal)
		snprintf(outcome, sizeof outcome, "killed by signal %d",
		    r->term_signal);
	/* ssh's own failure: the host could not be reached, and ssh said
	 * why on stderr. */
	else if (w->host != NULL && r->exit_status == 255)
		lk_ssh_reason(w->host, "sh", r->exit_status, 0, r->err,
		    r->err_len, outcome, sizeof outcome);
	else
		snprintf(outcome, sizeof outcome, "exited with status %d in "
		    "%lld ms", r->exit_status, (long long)r->duration_ms);
	/* Bounded excerpts of the output go to the timeline, scrubbed. */
	d = json_pack("{s:i, s:i, s:b, s:I, s:o, s:o}", "exit_status",
	    r->exit_status, "signal", r->term_signal, "timed_out", r->timed_out,
	    "duration_ms", (json_int_t)r->duration_ms, "stdout",
	    rb_stream_excerpt(&run->secrets, r->out, r->out_len,
	    r->out_truncated), "stderr", rb_stream_excerpt(&run->secrets,
	    r->err, r->err_len, r->err_truncated));
	if (d != NULL && w->host != NULL)
		json_object_set_new(d, "host", lk_json_text(w->host));
	dj = d ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	rb_action_finished(run, "sh", ok, outcome, dj);
	free(dj);
	push_result(run->co, ok, ok ? NULL : outcome);
	lua_pushinteger(run->co, r->exit_status);
	lua_setfield(run->co, -2, "exit_status");
	push_stream(run, "stdout", r->out, r->out_len, r->out_truncated);
	push_stream(run, "stderr", r->err, r->err_len, r->err_truncated);
	lua_pushboolean(run->co, r->timed_out);
	lua_setfield(run->co, -2, "timed_out");
	wait_free(w);
	rb_resume(run, 1);
}

/* Both streams, in the order they arrive, as a terminal would show them. */
static void
sh_output(void *data, int stream, const char *buf, size_t len)
{
	(void)stream;
	rb_output(data, buf, len);
}

static int
l_sh(lua_State *L)
{
	struct rb_run *run;
	size_t argc, nenv = 0, stdin_len = 0;
	int64_t timeout;
	const char *cwd = NULL, *stdin_data = NULL, *host;
	const char **argv, **env;
	char **ssh = NULL;
	struct lk_buf rcmd = { 0 }, rin = { 0 };
	struct child_opts o = { 0 };
	struct lk_err err = { 0 };
	json_t *shown, *keys;
	char *argv_json, *data;
	struct wait *w;
	enum lk_code rc;

	luaL_checktype(L, 1, LUA_TTABLE);
	argc = lua_rawlen(L, 1);
	if (argc == 0)
		return luaL_error(L, "sh: give the command as a list: "
		    "sh { \"systemctl\", \"status\" }");
	for (size_t i = 1; i <= argc; i++) {
		lua_rawgeti(L, 1, (lua_Integer)i);
		if (!lua_isstring(L, -1))
			return luaL_error(L, "sh: argument %d is a %s, not a "
			    "string", (int)i, luaL_typename(L, -1));
		lua_pop(L, 1);
	}
	timeout = opt_duration(L, 1, "timeout", 60000);
	rb_rawfield(L, 1, "cwd");
	if (!lua_isnil(L, -1))
		cwd = luaL_checkstring(L, -1);
	rb_rawfield(L, 1, "stdin");
	if (!lua_isnil(L, -1))
		stdin_data = luaL_checklstring(L, -1, &stdin_len);
	rb_rawfield(L, 1, "env");
	if (!lua_isnil(L, -1)) {
		luaL_checktype(L, -1, LUA_TTABLE);
		lua_pushnil(L);
		while (lua_next(L, -2) != 0) {
			if (lua_type(L, -2) != LUA_TSTRING ||
			    !lua_isstring(L, -1))
				return luaL_error(L, "sh: env is { NAME = "
				    "\"value\" }");
			nenv++;
			lua_pop(L, 1);
		}
	}
	host = opt_host(L, 1, "sh");
	run = need_run(L, "sh");
	for (size_t i = 1; i <= argc; i++) {
		lua_rawgeti(L, 1, (lua_Integer)i);
		if (rb_has_secret(run, lua_tostring(L, -1)))
			return luaL_error(L, "sh: argument %d holds a secret; "
			    "pass secrets with env= or stdin=, never in argv "
			    "(other users can read a command line)", (int)i);
		lua_pop(L, 1);
	}

	/* Arguments are good: from here on C owns memory. */
	argv = lk_xcalloc(argc + 1, sizeof *argv);
	env = lk_xcalloc(nenv + 1, sizeof *env);
	shown = json_array();
	keys = json_array();
	for (size_t i = 1; i <= argc; i++) {
		lua_rawgeti(L, 1, (lua_Integer)i);
		argv[i - 1] = lua_tostring(L, -1);	/* kept alive by the table */
		json_array_append_new(shown, lk_json_text(argv[i - 1]));
		lua_pop(L, 1);
	}
	nenv = 0;
	rb_rawfield(L, 1, "env");
	if (lua_istable(L, -1)) {
		lua_pushnil(L);
		while (lua_next(L, -2) != 0) {
			env[nenv++] = lk_xasprintf("%s=%s", lua_tostring(L, -2),
			    lua_tostring(L, -1));
			json_array_append_new(keys, lk_scrub_json(&run->secrets,
			    lua_tostring(L, -2), strlen(lua_tostring(L, -2)),
			    0));
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	argv_json = json_dumps(shown, JSON_COMPACT);
	data = NULL;
	{
		/* Scrubbed before JSON escapes them: see core/scrub.h. */
		json_t *dd = json_pack("{s:O, s:o?, s:O, s:I, s:I}", "argv",
		    shown, "cwd", cwd ? lk_scrub_json(&run->secrets, cwd,
		    strlen(cwd), 0) : NULL, "env", keys, "timeout_ms",
		    (json_int_t)timeout, "stdin_bytes", (json_int_t)stdin_len);

		if (host != NULL)
			json_object_set_new(dd, "host", lk_json_text(host));

		data = json_dumps(dd, JSON_COMPACT);
		json_decref(dd);
	}
	json_decref(shown);
	json_decref(keys);

	if (run->planning) {
		rb_plan(run, "sh %s%s%s%s%s", argv_json, cwd ? " in " : "",
		    cwd ? cwd : "", host ? " on " : "", host ? host : "");
		goto planned_out;
	}
	if (!rb_action_started(run, "sh", argv_json, data))
		goto refused;
	o.argv = argv;
	o.cwd = cwd;
	o.env = (const char *const *)env;
	o.stdin_data = stdin_data;
	o.stdin_len = stdin_len;
	/*
	 * On another host: ssh, given the command as shell text with every
	 * word quoted, and env (secrets as often as not) on its stdin ahead
	 * of stdin, never on a command line (core/ssh.h).  ssh itself gets
	 * no terminal, so it fails rather than asking for a password.
	 */
	rc = LK_OK;
	if (host != NULL &&
	    (rc = lk_ssh_remote_command(&rcmd, &rin, argv, cwd, env,
	    stdin_data, stdin_len, &err)) == LK_OK) {
		ssh = lk_ssh_argv(ssh_config(run), host, rcmd.s);
		o.argv = (const char *const *)ssh;
		o.cwd = NULL;
		o.env = lk_ssh_env;
		o.stdin_data = rin.len > 0 ? rin.s : NULL;
		o.stdin_len = rin.len;
		o.no_tty = true;
	}
	o.timeout_ms = timeout;
	o.on_output = sh_output;
	o.output_data = run;
	if (rc == LK_OK) {
		w = wait_new(run, "sh");
		w->host = host ? lk_xstrdup(host) : NULL;
		rb_pending_set(run, PEND_CHILD, "sh");
		rc = child_start(run->loop, &o, on_child_done, w, &run->child,
		    &err);
		if (rc != LK_OK) {
			wait_free(w);
			rb_pending_clear(run);
		}
	}
	lk_ssh_argv_free(ssh);
	lk_buf_free(&rcmd);
	if (rin.s != NULL)
		explicit_bzero(rin.s, rin.len);
	lk_buf_free(&rin);
	for (size_t i = 0; env[i]; i++) {
		explicit_bzero((char *)env[i], strlen(env[i]));
		free((char *)env[i]);
	}
	free(env);
	free(argv);
	free(argv_json);
	free(data);
	if (rc != LK_OK) {
		rb_action_finished(run, "sh", false, err.msg, NULL);
		return push_result(L, false, err.msg);
	}
	return lua_yield(L, 0);
planned_out:
	for (size_t i = 0; env[i]; i++)
		free((char *)env[i]);
	free(env);
	free(argv);
	free(argv_json);
	free(data);
	return planned(L);
refused:
	for (size_t i = 0; env[i]; i++)
		free((char *)env[i]);
	free(env);
	free(argv);
	free(argv_json);
	free(data);
	return luaL_error(L, "%s", run->last_reason);
}

/* --- state, notes, questions, time -------------------------------------------- */

static void
push_flags(lua_State *L, unsigned flags)
{
	const char *names[16];
	size_t n = probe_flag_names(flags, names, 16);

	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_pushstring(L, names[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, names[i]);
	}
}

static int
l_service_state(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	struct rb_run *run = need_run(L, "service.state");

	if (run->probes == NULL)
		return luaL_error(L, "service.state: no configuration, so no "
		    "services are watched");
	for (size_t i = 0; i < probes_service_count(run->probes); i++) {
		const struct probe_service *s = probes_service(run->probes, i);

		if (strcmp(s->name, name) != 0 && strcmp(s->unit, name) != 0)
			continue;
		lua_newtable(L);
		set_str(L, "name", s->name);
		set_str(L, "active", s->active);
		set_str(L, "sub", s->sub);
		set_str(L, "enabled", s->enabled);
		set_str(L, "health", probe_health_name(s->health));
		set_str(L, "reason", s->reason);
		set_num(L, "main_pid", (lua_Number)s->main_pid);
		set_num(L, "restarts", (lua_Number)s->restarts);
		if (s->since_ms > 0) {
			char iso[LK_ISO_LEN];

			lk_iso8601(s->since_ms, iso);
			set_str(L, "since", iso);
		}
		push_flags(L, s->flags);
		lua_setfield(L, -2, "flags");
		return 1;
	}
	return luaL_error(L, "service.state: no service \"%s\" in the "
	    "configuration", name);
}

static int
l_queue_state(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	struct rb_run *run = need_run(L, "queue.state");

	if (run->probes == NULL)
		return luaL_error(L, "queue.state: no configuration, so no "
		    "queues are watched");
	for (size_t i = 0; i < probes_queue_count(run->probes); i++) {
		const struct probe_queue *q = probes_queue(run->probes, i);

		if (strcmp(q->name, name) != 0)
			continue;
		lua_newtable(L);
		set_str(L, "name", q->name);
		set_num(L, "depth", (lua_Number)q->depth);
		set_num(L, "consumers", (lua_Number)q->consumers);
		set_num(L, "ready", (lua_Number)q->ready);
		set_num(L, "unacked", (lua_Number)q->unacked);
		set_str(L, "state", probe_queue_state_name(q->state));
		set_str(L, "reason", q->reason);
		set_num(L, "rate_in_per_min", q->rate_in_per_min);
		set_num(L, "rate_out_per_min", q->rate_out_per_min);
		push_flags(L, q->flags);
		lua_setfield(L, -2, "flags");
		return 1;
	}
	return luaL_error(L, "queue.state: no queue \"%s\" in the "
	    "configuration", name);
}

static int
l_note(lua_State *L)
{
	const char *text = luaL_checkstring(L, 1);
	struct rb_run *run = need_run(L, "note");
	struct lk_err err = { 0 };
	char *clean;

	if (run->planning) {
		rb_plan(run, "note: %s", text);
		return 0;
	}
	clean = rb_scrub(run, text);
	rb_progress(run, "  note: %s", clean);
	if (store_action_event(run->store, run->run_id, (int)run->step,
	    "incident.note", "note", clean, NULL, &err) != LK_OK) {
		free(clean);
		run->store_broken = true;
		snprintf(run->last_reason, sizeof run->last_reason, "the "
		    "timeline cannot be written (%.300s), so a note is not "
		    "recorded; the run stops here", err.msg);
		return luaL_error(L, "%s", run->last_reason);
	}
	free(clean);
	return 0;
}

static int
l_ask(lua_State *L)
{
	const char *prompt = luaL_checkstring(L, 1);
	struct rb_run *run = need_run(L, "ask");

	if (run->planning) {
		rb_plan(run, "ask: %s", prompt);
		lua_pushstring(L, "");
		return 1;
	}
	if (!rb_action_started(run, "ask", prompt, NULL))
		return luaL_error(L, "%s", run->last_reason);
	if (run->fe == NULL || run->fe->ask == NULL) {
		rb_action_finished(run, "ask", false, "no operator to answer "
		    "(running without a terminal)", NULL);
		return luaL_error(L, "ask: no operator to answer \"%s\"",
		    prompt);
	}
	rb_pending_set(run, PEND_ASK, "ask");
	free(run->question);
	run->question = rb_scrub(run, prompt);
	rb_changed(run);
	run->fe->ask(run->fe_data, run, run->question);
	return lua_yield(L, 0);
}

static long long
on_sleep(struct loop *l, long long id, void *data)
{
	struct rb_run *run = data;

	(void)l;
	(void)id;
	run->timer = 0;
	rb_pending_clear(run);
	rb_resume(run, 0);
	return LOOP_NOMORE;
}

static int
l_sleep(lua_State *L)
{
	lua_Integer ms = luaL_checkinteger(L, 1);
	struct rb_run *run = need_run(L, "sleep");

	if (run->planning)
		return 0;
	rb_pending_set(run, PEND_SLEEP, "sleep");
	run->timer = loop_add_timer(run->loop, ms > 0 ? ms : 0, on_sleep, run);
	return lua_yield(L, 0);
}

static int
l_now(lua_State *L)
{
	lua_pushinteger(L, loop_now_ms());
	return 1;
}

static int
l_duration(lua_State *L)
{
	int64_t ms;

	if (lua_type(L, 1) == LUA_TNUMBER) {
		lua_pushinteger(L, lua_tointeger(L, 1));
		return 1;
	}
	if (lk_parse_duration(luaL_checkstring(L, 1), &ms) != 0)
		return luaL_error(L, "\"%s\" is not a duration (\"5s\", \"5m\")",
		    lua_tostring(L, 1));
	lua_pushinteger(L, ms);
	return 1;
}

/* wait_until's logging: begin returns false while planning. */
static int
l_begin(lua_State *L)
{
	const char *action = luaL_checkstring(L, 1);
	const char *what = luaL_checkstring(L, 2);
	struct rb_run *run = need_run(L, action);

	if (run->planning) {
		rb_plan(run, "%s %s", action, what);
		lua_pushboolean(L, 0);
		return 1;
	}
	if (!rb_action_started(run, action, what, NULL))
		return luaL_error(L, "%s", run->last_reason);
	lua_pushboolean(L, 1);
	return 1;
}

static int
l_finish(lua_State *L)
{
	const char *action = luaL_checkstring(L, 1);
	bool ok = lua_toboolean(L, 2);
	const char *outcome = luaL_optstring(L, 3, NULL);
	struct rb_run *run = need_run(L, action);

	rb_action_finished(run, action, ok, outcome, NULL);
	return 0;
}

/* --- cancel ------------------------------------------------------------------ */

void
rb_action_cancel(struct rb_run *run)
{
	char action[sizeof run->pend_action];
	const char *why = "cancelled by the operator";

	/* A command is stopped for real; its callback says how it ended. */
	if (run->pending == PEND_CHILD) {
		if (run->child != NULL)
			child_cancel(run->child);
		return;
	}
	snprintf(action, sizeof action, "%s", run->pend_action);
	if (run->pending == PEND_UNIT)
		why = "cancelled by the operator; the systemd job, if any, "
		    "goes on in systemd";
	if (run->pending == PEND_ASK) {
		free(run->question);
		run->question = NULL;
	}
	/* Late callbacks are ignored from here (rb_pending_clear). */
	rb_pending_clear(run);
	/* A sleep is wait_until's pause between two checks: it returns
	 * false and wait_until says how it ended. */
	if (strcmp(action, "sleep") == 0) {
		lua_pushboolean(run->co, 0);
		lua_pushstring(run->co, why);
		rb_resume(run, 2);
		return;
	}
	rb_action_finished(run, action, false, why, NULL);
	push_result(run->co, false, why);
	rb_resume(run, 1);
}

static const char wait_until_lua[] =
"local begin_, finish_, sleep_, now_, duration_ = ...\n"
"function wait_until(o)\n"
"  if type(o) ~= 'table' or type(o[1]) ~= 'function' then\n"
"    error('wait_until { function() return <condition> end, timeout = \"5m\", interval = \"5s\" }', 2)\n"
"  end\n"
"  local timeout = duration_(o.timeout or '5m')\n"
"  local interval = duration_(o.interval or '5s')\n"
"  local what = (o.description or 'a condition') .. ' (every ' .. interval .. ' ms, up to ' .. timeout .. ' ms)'\n"
"  if not begin_('wait_until', what) then return { ok = true, planned = true } end\n"
"  local start, checks, last = now_(), 0, nil\n"
"  while true do\n"
"    checks = checks + 1\n"
"    local ok, v, why = pcall(o[1])\n"
"    if ok and v then\n"
"      finish_('wait_until', true, 'met after ' .. checks .. ' checks (' .. (now_() - start) .. ' ms)')\n"
"      return { ok = true, checks = checks }\n"
"    end\n"
"    if not ok then last = tostring(v) elseif why ~= nil then last = tostring(why) end\n"
"    if now_() - start + interval > timeout then\n"
"      local reason = 'not met within ' .. timeout .. ' ms' .. (last and (': ' .. last) or '')\n"
"      finish_('wait_until', false, reason)\n"
"      return { ok = false, reason = reason, checks = checks }\n"
"    end\n"
"    local awake, why_ = sleep_(interval)\n"
"    if awake == false then\n"
"      finish_('wait_until', false, why_)\n"
"      return { ok = false, reason = why_, checks = checks }\n"
"    end\n"
"  end\n"
"end\n";

void
rb_actions_install(lua_State *L)
{
	static const char *const ops[] = { "start", "stop", "restart",
	    "reload", "enable", "disable" };
	static const enum unitctl_op opv[] = { UNITCTL_START, UNITCTL_STOP,
	    UNITCTL_RESTART, UNITCTL_RELOAD, UNITCTL_ENABLE, UNITCTL_DISABLE };

	lua_newtable(L);
	for (size_t i = 0; i < 6; i++) {
		lua_pushinteger(L, opv[i]);
		lua_pushcclosure(L, l_systemctl, 1);
		lua_setfield(L, -2, ops[i]);
	}
	lua_setglobal(L, "systemctl");
	lua_newtable(L);
	lua_pushcfunction(L, l_http_check);
	lua_setfield(L, -2, "check");
	lua_setglobal(L, "http");
	lua_pushcfunction(L, l_sh);
	lua_setglobal(L, "sh");
	lua_newtable(L);
	lua_pushcfunction(L, l_service_state);
	lua_setfield(L, -2, "state");
	lua_setglobal(L, "service");
	lua_newtable(L);
	lua_pushcfunction(L, l_queue_state);
	lua_setfield(L, -2, "state");
	lua_setglobal(L, "queue");
	lua_pushcfunction(L, l_note);
	lua_setglobal(L, "note");
	lua_pushcfunction(L, l_ask);
	lua_setglobal(L, "ask");
	lua_pushcfunction(L, l_sleep);
	lua_setglobal(L, "sleep");

	/* wait_until is Lua, with its logging primitives as hidden upvalues. */
	if (luaL_loadbufferx(L, wait_until_lua, sizeof wait_until_lua - 1,
	    "=wait_until", "t") == LUA_OK) {
		lua_pushcfunction(L, l_begin);
		lua_pushcfunction(L, l_finish);
		lua_pushcfunction(L, l_sleep);
		lua_pushcfunction(L, l_now);
		lua_pushcfunction(L, l_duration);
		sandbox_pcall(L, 5, 0);
	}
	lua_settop(L, 0);
}
