/*
 * The step engine: one run of one runbook, on the event loop.
 *
 * Each step runs as a Lua coroutine.  Before a step runs, it is planned:
 * its function runs once with actions that only describe themselves, so
 * the operator sees exactly what will happen (and --dry-run stops there).
 * Then step.started is made durable, the function runs for real, and every
 * action logs action.started before it starts and action.finished after.
 * An action that waits yields; the loop resumes the coroutine when the
 * work is done, so nothing here blocks.
 */
#include "private.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/loop.h"
#include "../core/util.h"
#include "../core/http.h"
#include "../store/store.h"
#include "../core/child.h"
#include "unitctl.h"

/*
 * Lua may use this much CPU between two waits, and a little more on the
 * clock (rb_lua_slice_begin says why).  A runaway step is stopped within it, and
 * the loop (probes, other work) is never held much longer.
 */
#define DEFAULT_LUA_LIMIT_MS 700
/* Planning runs a step with actions that return at once, so a step that
 * polls in a loop spins there: give up on its plan quickly. */
#define PLAN_LUA_LIMIT_MS 100
#define DEFAULT_STEP_LIMIT_MS (30LL * 60 * 1000)

static const char run_key = 'r';

static void next_step(struct rb_run *run);
static void run_finish(struct rb_run *run, const char *status, int exit_status,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

struct rb_run *
rb_run_of(lua_State *L)
{
	struct rb_run *run;

	lua_rawgetp(L, LUA_REGISTRYINDEX, &run_key);
	run = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return run;
}

/* --- talking to the front end and the timeline ----------------------------- */

/* fmt formatted, with every secret replaced; caller frees.  NULL only if
 * formatting failed. */
static char *
scrubbed(const struct rb_run *run, const char *fmt, va_list ap)
{
	char *line, *clean;

	if (vasprintf(&line, fmt, ap) < 0)
		return NULL;
	clean = rb_scrub(run, line);
	free(line);
	return clean;
}

void
rb_progress(struct rb_run *run, const char *fmt, ...)
{
	char *line;
	va_list ap;

	if (run->fe == NULL || run->fe->progress == NULL)
		return;
	va_start(ap, fmt);
	line = scrubbed(run, fmt, ap);
	va_end(ap);
	if (line != NULL)
		run->fe->progress(run->fe_data, line);
	free(line);
}

void
rb_plan(struct rb_run *run, const char *fmt, ...)
{
	char *line;
	va_list ap;

	va_start(ap, fmt);
	line = scrubbed(run, fmt, ap);
	va_end(ap);
	if (line == NULL)
		return;
	lk_buf_printf(&run->plan, "%s%s", run->plan.len ? "\n" : "", line);
	free(line);
}

/* The timeline failed: nothing more may happen, and the operator is told
 * what could not be recorded. */
static void
store_failed(struct rb_run *run, const char *what, const struct lk_err *err)
{
	run->store_broken = true;
	snprintf(run->last_reason, sizeof run->last_reason,
	    "the timeline cannot be written (%.200s), so %.200s; the run "
	    "stops here", err->msg, what);
	rb_progress(run, "STOP: %s", run->last_reason);
}

/* Adds the host an action's data names (none: this machine) to the
 * hosts of the step, once each. */
static void
note_step_host(struct rb_run *run, const char *data_json)
{
	json_t *d = data_json ? json_loads(data_json, 0, NULL) : NULL;
	const char *host = json_string_value(json_object_get(d, "host"));
	const char *s = run->step_hosts.s;
	size_t n = host ? strlen(host) : 0;

	for (const char *p = s; host != NULL && p != NULL; ) {
		if (strncmp(p, host, n) == 0 && (p[n] == '\0' || p[n] == ','))
			host = NULL;
		else if ((p = strchr(p, ',')) != NULL)
			p += 2;
	}
	if (host != NULL)
		lk_buf_printf(&run->step_hosts, "%s%s",
		    run->step_hosts.len ? ", " : "", host);
	json_decref(d);
}

bool
rb_action_started(struct rb_run *run, const char *action, const char *what,
    const char *data_json)
{
	struct lk_err err = { 0 };
	char *w = rb_scrub(run, what), *d = rb_scrub(run, data_json);
	char why[300];
	bool ok;

	rb_progress(run, "  -> %s %s", action, what ? what : "");
	note_step_host(run, data_json);
	ok = !run->store_broken && store_action_event(run->store, run->run_id,
	    (int)run->step, "action.started", action, w, d, &err) == LK_OK;
	if (!ok && !run->store_broken) {
		/* w, not what: cut to fit, a secret would no longer be one. */
		snprintf(why, sizeof why, "%s %s was not taken", action,
		    w ? w : "");
		store_failed(run, why, &err);
	}
	free(w);
	free(d);
	return ok;
}

void
rb_action_finished(struct rb_run *run, const char *action, bool ok,
    const char *outcome, const char *data_json)
{
	struct lk_err err = { 0 };
	char *o = rb_scrub(run, outcome), *d = rb_scrub(run, data_json);
	char why[400];

	snprintf(run->last_outcome, sizeof run->last_outcome, "%s",
	    o ? o : "");
	if (!ok) {
		run->step_failed_action = true;
		snprintf(run->last_reason, sizeof run->last_reason, "%s: %s",
		    action, o ? o : "failed");
	}
	rb_progress(run, "     %s %s", ok ? "ok" : "FAILED", o ? o : "");
	if (!run->store_broken && store_action_event(run->store, run->run_id,
	    (int)run->step, "action.finished", action, o, d, &err) != LK_OK) {
		snprintf(why, sizeof why, "the outcome of %s (%s) is not "
		    "recorded", action, o ? o : ok ? "ok" : "failed");
		store_failed(run, why, &err);
	}
	free(o);
	free(d);
}

void
rb_pending_clear(struct rb_run *run)
{
	if (run->timer) {
		loop_del_timer(run->loop, run->timer);
		run->timer = 0;
	}
	if (run->pend_free != NULL && run->pend_data != NULL)
		run->pend_free(run->pend_data);
	run->pend_data = NULL;
	run->pend_free = NULL;
	run->pending = PEND_NONE;
	run->pend_action[0] = '\0';
	run->child = NULL;
	run->gen++;
}

void
rb_pending_set(struct rb_run *run, enum rb_pending_kind kind,
    const char *action)
{
	run->pending = kind;
	snprintf(run->pend_action, sizeof run->pend_action, "%s", action);
}

/* --- what the front end shows --------------------------------------------- */

void
rb_changed(struct rb_run *run)
{
	if (run->fe != NULL && run->fe->changed != NULL)
		run->fe->changed(run->fe_data, run);
}

void
rb_output(struct rb_run *run, const char *buf, size_t len)
{
	rb_tail_add(&run->output, buf, len, RB_OUTPUT_TAIL);
	rb_changed(run);
}

/* The state a step's recorded status means. */
static enum rb_step_state
state_of(const char *status)
{
	static const struct {
		const char *status;
		enum rb_step_state state;
	} map[] = {
		{ "ok", RB_STEP_OK }, { "failed", RB_STEP_FAILED },
		{ "skipped", RB_STEP_SKIPPED },
		{ "interrupted", RB_STEP_INTERRUPTED },
		{ "dry-run", RB_STEP_DRY_RUN }, { "started", RB_STEP_RUNNING },
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(status, map[i].status) == 0)
			return map[i].state;
	return RB_STEP_PENDING;
}

static void
track_set(struct rb_run *run, enum rb_step_state state)
{
	struct rb_step_track *t = &run->track[run->step];

	t->state = state;
	if (state == RB_STEP_RUNNING) {
		t->started_ms = lk_now_ms();
		t->finished_ms = 0;
		free(t->outcome);
		t->outcome = NULL;
		lk_buf_reset(&run->output.buf);
		run->output.cut = false;
	} else if (state != RB_STEP_WAITING) {
		t->finished_ms = lk_now_ms();
	}
	rb_changed(run);
}

/* --- parameters ---------------------------------------------------------- */

static const char *
cli_param(const struct rb_run_opts *o, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < o->nparams; i++)
		if (strncmp(o->params[i], name, len) == 0 &&
		    o->params[i][len] == '=')
			return o->params[i] + len + 1;
	return NULL;
}

/*
 * Builds the params table given to every step and the JSON recorded with
 * the run.  Secrets come only from the environment and are recorded by
 * the variable's name.  recorded (a resumed or replayed run) supplies the
 * values instead of the command line.
 */
static enum lk_code
build_params(struct rb_run *run, const char *recorded, struct lk_err *err)
{
	struct rb_book *b = run->book;
	lua_State *L = run->L;
	json_t *rec = recorded ? json_loads(recorded, 0, NULL) : NULL;
	json_t *out = json_object();
	enum lk_code code = LK_OK;

	for (size_t i = 0; i < run->opts.nparams && !recorded; i++) {
		const char *kv = run->opts.params[i], *eq = strchr(kv, '=');
		bool known = false;

		if (eq == NULL || eq == kv) {
			code = lk_fail(err, LK_EUSAGE, "parameter \"%s\" is not "
			    "NAME=VALUE", kv);
			goto done;
		}
		for (size_t j = 0; j < b->nparams; j++)
			known |= strlen(b->params[j].name) == (size_t)(eq - kv)
			    && strncmp(b->params[j].name, kv, eq - kv) == 0;
		if (!known) {
			code = lk_fail(err, LK_EUSAGE, "runbook %s has no "
			    "parameter \"%.*s\"", b->name, (int)(eq - kv), kv);
			goto done;
		}
		/* Which one was meant is not ours to guess.  No value is
		 * shown: one of them may be a secret given by mistake. */
		for (size_t j = 0; j < i; j++)
			if (strncmp(run->opts.params[j], kv, eq - kv + 1) == 0) {
				code = lk_fail(err, LK_EUSAGE, "parameter "
				    "\"%.*s\" is given more than once; give it "
				    "once", (int)(eq - kv), kv);
				goto done;
			}
	}
	lua_newtable(L);
	for (size_t i = 0; i < b->nparams; i++) {
		const struct rb_param *p = &b->params[i];
		const char *v = NULL;

		if (p->secret || p->env != NULL) {
			if (!recorded && cli_param(&run->opts, p->name) &&
			    p->secret) {
				code = lk_fail(err, LK_EUSAGE, "secret parameter "
				    "%s comes from the environment (%s), never "
				    "the command line", p->name,
				    p->env ? p->env : "no variable named");
				goto fail;
			}
			v = p->env ? getenv(p->env) : NULL;
		}
		if (v == NULL && !p->secret)
			v = recorded ? json_string_value(json_object_get(rec,
			    p->name)) : cli_param(&run->opts, p->name);
		if (v == NULL)
			v = p->default_value;
		if (v == NULL && p->required) {
			code = p->secret || p->env ? lk_fail(err, LK_EUSAGE,
			    "parameter %s is required: set the environment "
			    "variable %s", p->name, p->env ? p->env : "?") :
			    lk_fail(err, LK_EUSAGE, "parameter %s is required "
			    "(%s=VALUE)", p->name, p->name);
			goto fail;
		}
		if (v == NULL)
			continue;
		lua_pushstring(L, v);
		lua_setfield(L, -2, p->name);
		if (p->secret) {
			lk_scrub_add(&run->secrets, v, strlen(v));
			json_object_set_new(out, p->name, json_pack("{s:b, s:s?}",
			    "secret", 1, "env", p->env));
		} else {
			json_object_set_new(out, p->name, lk_json_text(v));
		}
	}
	run->params_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	run->params_json = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	goto done;
fail:
	lua_pop(L, 1);
done:
	json_decref(rec);
	json_decref(out);
	return code;
}

/* --- steps ----------------------------------------------------------------- */

static void
drop_coroutine(struct rb_run *run)
{
	if (run->co_ref != LUA_NOREF) {
		luaL_unref(run->L, LUA_REGISTRYINDEX, run->co_ref);
		run->co_ref = LUA_NOREF;
	}
	run->co = NULL;
}

/* Starts the step function in a new coroutine (for planning or for real). */
static void
start_coroutine(struct rb_run *run)
{
	struct rb_step_def *s = &run->book->steps[run->step];

	drop_coroutine(run);
	run->co = lua_newthread(run->L);
	run->co_ref = luaL_ref(run->L, LUA_REGISTRYINDEX);
	lua_rawgeti(run->co, LUA_REGISTRYINDEX, s->fn_ref);
	lua_rawgeti(run->co, LUA_REGISTRYINDEX, run->params_ref);
}

/*
 * What the step function's return says: false, or a table whose ok is
 * false, fails the step; nothing returned means "as its actions went".
 */
static bool
step_outcome(struct rb_run *run, int nres, char *why, size_t len)
{
	lua_State *co = run->co;
	int top = lua_gettop(co);

	why[0] = '\0';
	if (nres == 0 || lua_isnil(co, top - nres + 1)) {
		if (run->step_failed_action)
			snprintf(why, len, "%s", run->last_reason);
		return !run->step_failed_action;
	}
	if (lua_type(co, top - nres + 1) == LUA_TBOOLEAN) {
		bool ok = lua_toboolean(co, top - nres + 1);

		if (!ok)
			lk_scrub_copy(&run->secrets, why, len, nres > 1 &&
			    lua_isstring(co, top - nres + 2) ?
			    lua_tostring(co, top - nres + 2) :
			    "the step returned false");
		return ok;
	}
	if (lua_type(co, top - nres + 1) == LUA_TTABLE) {
		bool ok;

		rb_rawfield(co, top - nres + 1, "ok");
		ok = lua_isnil(co, -1) ? !run->step_failed_action :
		    lua_toboolean(co, -1);
		rb_rawfield(co, top - nres + 1, "reason");
		/* Scrubbed before it is cut to fit why. */
		if (!ok)
			lk_scrub_copy(&run->secrets, why, len,
			    lua_isstring(co, -1) ? lua_tostring(co, -1) :
			    run->last_reason);
		else if (lua_isstring(co, -1))
			lk_scrub_copy(&run->secrets, why, len,
			    lua_tostring(co, -1));
		lua_pop(co, 2);
		return ok;
	}
	if (run->step_failed_action)
		snprintf(why, len, "%s", run->last_reason);
	return !run->step_failed_action;
}

static void
replay_compare(struct rb_run *run, const char *status, const char *why)
{
	const struct store_run_step *then = NULL;

	if (run->recorded == NULL)
		return;
	for (size_t i = 0; i < run->recorded->nsteps; i++)
		if (run->recorded->steps[i].idx == (int)run->step)
			then = &run->recorded->steps[i];
	if (then == NULL) {
		run->differences++;
		rb_progress(run, "DIFFERS: step %zu \"%s\" did not run then, "
		    "now %s", run->step + 1, run->book->steps[run->step].name,
		    status);
	} else if (strcmp(then->status, status) != 0) {
		run->differences++;
		rb_progress(run, "DIFFERS: step %zu \"%s\" was %s%s%s%s, now "
		    "%s%s%s", run->step + 1, run->book->steps[run->step].name,
		    then->status, then->outcome ? " (" : "",
		    then->outcome ? then->outcome : "", then->outcome ? ")" : "",
		    status, why && *why ? ": " : "", why ? why : "");
	} else {
		rb_progress(run, "same as run %lld: %s",
		    (long long)run->recorded->id, status);
	}
}

static void
step_done(struct rb_run *run, const char *status, const char *why)
{
	struct lk_err err = { 0 };
	char *w = rb_scrub(run, why && *why ? why : NULL);

	if (run->step_timer) {
		loop_del_timer(run->loop, run->step_timer);
		run->step_timer = 0;
	}
	rb_progress(run, "step %zu \"%s\": %s%s%s", run->step + 1,
	    run->book->steps[run->step].name, status, w ? ": " : "",
	    w ? w : "");
	free(run->track[run->step].outcome);
	run->track[run->step].outcome = w ? lk_xstrdup(w) : NULL;
	track_set(run, state_of(status));
	if (!run->store_broken && store_step_finish(run->store, run->run_id,
	    (int)run->step, status, w, run->step_hosts.len ?
	    run->step_hosts.s : NULL, &err) != LK_OK)
		store_failed(run, "the step's outcome is not recorded", &err);
	replay_compare(run, status, w);
	free(w);
	drop_coroutine(run);
}

static void
step_failed(struct rb_run *run, const char *why)
{
	step_done(run, "failed", why);
	if (run->store_broken || run->interrupted) {
		next_step(run);
		return;
	}
	/* Offer a retry when someone is there to answer; otherwise stop. */
	if (!run->opts.yes && run->fe && run->fe->confirm) {
		run->offered_retry = true;
		run->awaiting_answer = true;
		run->fe->confirm(run->fe_data, run, (int)run->step,
		    run->book->steps[run->step].name, run->plan.s, true);
		return;
	}
	run_finish(run, "failed", 1, "step %zu \"%s\" failed: %s",
	    run->step + 1, run->book->steps[run->step].name, why);
}

/* Runs the coroutine until it yields (an action waits) or ends. */
static void
drive(struct rb_run *run, int nargs)
{
	int nres = 0, rc, signo;
	enum sandbox_stop stopped;
	char why[512];

	rb_lua_slice_begin(run->co, run->planning ? PLAN_LUA_LIMIT_MS :
	    run->opts.lua_limit_ms);
	rc = sandbox_resume(run->co, run->L, nargs, &nres);
	sandbox_slice_end(run->co);
	stopped = sandbox_stopped(run->book->sb, &signo);

	/*
	 * A signal stopped the Lua code, perhaps deep inside a library call:
	 * the loop has not called rb_run_interrupt() yet, and will.  The
	 * step did not fail, it was cut short, and no further step starts.
	 */
	if (stopped == SANDBOX_STOP_SIGNAL) {
		run->interrupted = true;
		if (run->planning)
			return;
		snprintf(why, sizeof why, "lookout was interrupted (%s) while "
		    "the step's Lua code ran", strsignal(signo));
		rb_pending_clear(run);
		step_done(run, "interrupted", why);
		next_step(run);
		return;
	}
	if (run->planning) {
		/* A plan ends at its first yield or error: what comes after
		 * depends on real results. */
		return;
	}
	if (rc == LUA_YIELD) {
		if (run->pending == PEND_NONE)
			step_failed(run, "the step yielded outside an action "
			    "(coroutines are not available in runbooks)");
		return;
	}
	if (run->store_broken) {
		step_done(run, "failed", run->last_reason);
		next_step(run);
		return;
	}
	if (rc == LUA_OK) {
		bool ok = step_outcome(run, nres, why, sizeof why);

		if (ok) {
			/* An ok step reads as what its last action found. */
			step_done(run, "ok", why[0] ? why : run->last_outcome);
			run->step++;
			next_step(run);
		} else {
			step_failed(run, why);
		}
		return;
	}
	if (rc == LUA_ERRMEM)
		snprintf(why, sizeof why, "out of memory: the runbook may use "
		    "%u MiB", RB_MEMORY_LIMIT >> 20);
	else
		lk_scrub_copy(&run->secrets, why, sizeof why,
		    lua_tostring(run->co, -1));
	/* Where the error came from is for the operator, not the record. */
	if (rc != LUA_ERRMEM && stopped == SANDBOX_RUNNING &&
	    sandbox_traceback(run->book->sb) != NULL)
		rb_progress(run, "     %s", sandbox_traceback(run->book->sb));
	step_failed(run, why);
}

void
rb_resume(struct rb_run *run, int nres)
{
	run->pending = PEND_NONE;
	if (run->interrupted) {
		step_done(run, "interrupted", "lookout was interrupted; the "
		    "action in progress finished");
		next_step(run);
		return;
	}
	drive(run, nres);
}

static long long
on_step_timeout(struct loop *l, long long id, void *data)
{
	struct rb_run *run = data;
	char why[128];

	(void)l;
	(void)id;
	run->step_timer = 0;
	if (run->child != NULL)
		child_cancel(run->child);
	rb_pending_clear(run);
	snprintf(why, sizeof why, "the step took longer than %lld ms (its "
	    "action was cancelled)", (long long)(run->book->steps[run->step]
	    .timeout_ms ? run->book->steps[run->step].timeout_ms :
	    run->opts.step_limit_ms));
	step_failed(run, why);
	return LOOP_NOMORE;
}

/* Plans the current step: runs it once with describing actions. */
static void
plan_step(struct rb_run *run)
{
	lk_buf_reset(&run->plan);
	run->planning = true;
	start_coroutine(run);
	drive(run, 1);
	run->planning = false;
	drop_coroutine(run);
	if (run->plan.len == 0)
		lk_buf_adds(&run->plan, "(no actions)");
	free(run->track[run->step].plan);
	run->track[run->step].plan = lk_xstrdup(run->plan.s);
}

static void
run_step(struct rb_run *run)
{
	struct rb_step_def *s = &run->book->steps[run->step];
	struct lk_err err = { 0 };
	int64_t limit = s->timeout_ms ? s->timeout_ms : run->opts.step_limit_ms;

	run->step_failed_action = false;
	run->last_reason[0] = '\0';
	run->last_outcome[0] = '\0';
	lk_buf_reset(&run->step_hosts);
	/* Durable before the first action of the step starts. */
	if (store_step_begin(run->store, run->run_id, (int)run->step, s->name,
	    run->plan.s, &err) != LK_OK) {
		store_failed(run, "the step was not started", &err);
		next_step(run);
		return;
	}
	if (run->opts.dry_run) {
		step_done(run, "dry-run", run->plan.s);
		run->step++;
		next_step(run);
		return;
	}
	rb_progress(run, "step %zu/%zu \"%s\"", run->step + 1,
	    run->book->nsteps, s->name);
	track_set(run, RB_STEP_RUNNING);
	run->step_timer = loop_add_timer(run->loop, limit, on_step_timeout,
	    run);
	start_coroutine(run);
	drive(run, 1);
}

static void
offer_step(struct rb_run *run)
{
	struct rb_step_def *s = &run->book->steps[run->step];

	plan_step(run);
	if (run->interrupted) {
		/* A signal cut the plan short: nothing runs now. */
		next_step(run);
		return;
	}
	rb_progress(run, "step %zu/%zu \"%s\" will:\n%s", run->step + 1,
	    run->book->nsteps, s->name, run->plan.s);
	if (run->opts.yes || run->opts.dry_run || run->fe == NULL ||
	    run->fe->confirm == NULL) {
		run_step(run);
		return;
	}
	run->offered_retry = false;
	run->awaiting_answer = true;
	track_set(run, RB_STEP_WAITING);
	run->fe->confirm(run->fe_data, run, (int)run->step, s->name,
	    run->plan.s, false);
}

static long long
kick(struct loop *l, long long id, void *data)
{
	struct rb_run *run = data;

	(void)l;
	(void)id;
	run->kick_timer = 0;
	if (run->store_broken) {
		run_finish(run, "failed", 1, "%s", run->last_reason);
		return LOOP_NOMORE;
	}
	if (run->interrupted) {
		run_finish(run, "interrupted", 4, "interrupted before step %zu "
		    "\"%s\"", run->step + 1, run->step < run->book->nsteps ?
		    run->book->steps[run->step].name : "");
		return LOOP_NOMORE;
	}
	if (run->step >= run->book->nsteps) {
		if (run->recorded != NULL)
			run_finish(run, run->opts.dry_run ? "dry-run" :
			    "succeeded", 0, "replay of run %lld: %s",
			    (long long)run->recorded->id, run->differences ?
			    "outcomes differ (see DIFFERS lines)" :
			    "no step differs");
		else
			run_finish(run, run->opts.dry_run ? "dry-run" :
			    "succeeded", 0, "%zu steps %s", run->book->nsteps,
			    run->opts.dry_run ? "shown, none run" : "done");
		return LOOP_NOMORE;
	}
	offer_step(run);
	return LOOP_NOMORE;
}

/* The next step starts from the loop, never from inside a callback. */
static void
next_step(struct rb_run *run)
{
	if (!run->finished && !run->kick_timer)
		run->kick_timer = loop_add_timer(run->loop, 0, kick, run);
}

static void
run_finish(struct rb_run *run, const char *status, int exit_status,
    const char *fmt, ...)
{
	struct lk_err err = { 0 };
	va_list ap;
	char *clean;

	if (run->finished)
		return;
	run->finished = true;
	run->exit_status = exit_status;
	/* Scrubbed whole, then cut to fit. */
	va_start(ap, fmt);
	clean = scrubbed(run, fmt, ap);
	va_end(ap);
	snprintf(run->summary, sizeof run->summary, "%s", clean ? clean : "");
	free(clean);
	if (store_run_finish(run->store, run->run_id, status, run->summary,
	    &err) != LK_OK) {
		/* Say it: the timeline lacks the end of this run. */
		char line[sizeof run->summary];

		snprintf(line, sizeof line, "%.250s (and the run's end is not "
		    "recorded: %.200s)", run->summary, err.msg);
		memcpy(run->summary, line, sizeof line);
		if (exit_status == 0)
			run->exit_status = 1;
	}
	rb_progress(run, "run %lld %s: %s", (long long)run->run_id, status,
	    run->summary);
	rb_changed(run);
	if (run->fe && run->fe->done)
		run->fe->done(run->fe_data, run);
}

const char *
rb_answer_name(enum rb_answer a)
{
	static const char *const names[] = { "yes", "skip", "retry", "abort" };

	return (unsigned)a < 4 ? names[a] : "?";
}

const char *
rb_step_state_name(enum rb_step_state st)
{
	static const char *const names[] = {
#define RB_X(e, name) name,
		RB_STEP_STATES(RB_X)
#undef RB_X
	};

	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

/* Before a step: run it, skip it or stop.  After it failed: run it again,
 * go on without it, or stop; "yes" would not say which. */
unsigned
rb_run_answers(const struct rb_run *run)
{
	if (!run->awaiting_answer || run->finished)
		return 0;
	if (run->offered_retry)
		return RB_ANSWER(RB_RETRY) | RB_ANSWER(RB_SKIP) |
		    RB_ANSWER(RB_ABORT);
	return RB_ANSWER(RB_YES) | RB_ANSWER(RB_SKIP) | RB_ANSWER(RB_ABORT);
}

bool
rb_run_answer(struct rb_run *run, enum rb_answer a)
{
	if ((unsigned)a > RB_ABORT || !(rb_run_answers(run) & RB_ANSWER(a)))
		return false;
	run->awaiting_answer = false;
	switch (a) {
	case RB_YES:
		run_step(run);
		break;
	case RB_RETRY:
		run_step(run);
		break;
	case RB_SKIP: {
		struct lk_err err = { 0 };

		if (!run->offered_retry && store_step_begin(run->store,
		    run->run_id, (int)run->step,
		    run->book->steps[run->step].name, run->plan.s, &err) !=
		    LK_OK) {
			store_failed(run, "the skip is not recorded", &err);
			next_step(run);
			return true;
		}
		if (!run->offered_retry)
			step_done(run, "skipped", "by the operator");
		run->step++;
		next_step(run);
		break;
	}
	case RB_ABORT:
		run_finish(run, "aborted", 3, "aborted by the operator at step "
		    "%zu \"%s\"", run->step + 1,
		    run->book->steps[run->step].name);
		break;
	}
	return true;
}

void
rb_run_interrupt(struct rb_run *run)
{
	if (run->finished)
		return;
	run->interrupted = true;
	if (run->awaiting_answer) {
		run->awaiting_answer = false;
		next_step(run);
	}
	/* Otherwise the action in progress finishes (or times out) first;
	 * rb_resume sees the flag and no further step starts. */
	if (run->pending == PEND_SLEEP || run->pending == PEND_ASK) {
		rb_pending_clear(run);
		step_done(run, "interrupted", "lookout was interrupted");
		next_step(run);
	}
}

/* --- the run ----------------------------------------------------------------- */

/*
 * The run to resume or replay, as recorded, once the chain vouches for
 * its rows: what runs again is what ran, not what someone wrote into the
 * runs or steps table since (store_run_vouch).
 */
static enum lk_code
load_recorded(struct rb_run *run, int64_t id, struct lk_err *err)
{
	struct lk_err why = { 0 };

	if (store_run_get(run->store, id, &run->recorded, err) != LK_OK)
		return err->code;
	if (store_run_vouch(run->store, id, &why) != LK_OK)
		return lk_fail(err, why.code, "run %lld cannot be %s: %s",
		    (long long)id, run->opts.resume ? "resumed" : "replayed",
		    why.msg);
	return LK_OK;
}

enum lk_code
rb_run_start(struct loop *loop, struct store *store, struct probes *probes,
    const struct config *cfg, struct rb_book *book,
    const struct rb_run_opts *opts, const struct rb_frontend *fe,
    void *fe_data, struct rb_run **out, struct lk_err *err)
{
	struct rb_run *run = lk_xcalloc(1, sizeof *run);
	const char *recorded_params = NULL;
	char sha[STORE_HASH_HEX];

	*out = NULL;
	run->loop = loop;
	run->store = store;
	run->probes = probes;
	run->cfg = cfg;
	run->book = book;
	run->L = book->L;
	run->fe = fe;
	run->fe_data = fe_data;
	run->opts = *opts;
	run->params_ref = LUA_NOREF;
	run->co_ref = LUA_NOREF;
	run->lock_fd = -1;
	run->ntrack = book->nsteps;
	run->track = lk_xcalloc(book->nsteps ? book->nsteps : 1,
	    sizeof *run->track);
	if (run->opts.lua_limit_ms <= 0)
		run->opts.lua_limit_ms = DEFAULT_LUA_LIMIT_MS;
	if (run->opts.step_limit_ms <= 0)
		run->opts.step_limit_ms = DEFAULT_STEP_LIMIT_MS;
	lua_pushlightuserdata(run->L, run);
	lua_rawsetp(run->L, LUA_REGISTRYINDEX, &run_key);

	store_sha256_hex(book->source, book->len, sha);
	if (opts->resume || opts->replay_of) {
		if (load_recorded(run, opts->resume ? opts->resume :
		    opts->replay_of, err) != LK_OK)
			goto fail;
		recorded_params = run->recorded->params;
		if (opts->resume && strcmp(sha, run->recorded->sha256) != 0) {
			lk_fail(err, LK_EINPUT, "run %lld cannot resume: the "
			    "runbook %s changed since it ran (sha256 %.12s, now "
			    "%.12s)", (long long)opts->resume, book->path,
			    run->recorded->sha256, sha);
			goto fail;
		}
	}
	if (build_params(run, recorded_params, err) != LK_OK)
		goto fail;
	if (opts->lock_dir != NULL && !opts->dry_run) {
		char holder[512];

		run->lock_fd = rb_lock_acquire(opts->lock_dir, book->name,
		    run->params_json, holder, sizeof holder, err);
		if (run->lock_fd == -1)
			lk_fail(err, LK_ESTATE, "runbook %s with these "
			    "parameters is already running: %s", book->name,
			    holder);
		if (run->lock_fd < 0)
			goto fail;
	}
	if (opts->resume) {
		const struct store_run *r = run->recorded;

		if (strcmp(r->status, "succeeded") == 0) {
			lk_fail(err, LK_ESTATE, "run %lld already succeeded",
			    (long long)r->id);
			goto fail;
		}
		run->run_id = r->id;
		/* From the first step that did not finish ok or skipped. */
		run->step = 0;
		for (size_t i = 0; i < r->nsteps; i++) {
			if ((strcmp(r->steps[i].status, "ok") == 0 ||
			    strcmp(r->steps[i].status, "skipped") == 0) &&
			    (size_t)r->steps[i].idx == run->step) {
				struct rb_step_track *t = &run->track[run->step];

				t->state = state_of(r->steps[i].status);
				t->outcome = r->steps[i].outcome ?
				    lk_xstrdup(r->steps[i].outcome) : NULL;
				t->started_ms = r->steps[i].started_at;
				t->finished_ms = r->steps[i].finished_at;
				run->step++;
			}
			if (strcmp(r->steps[i].status, "started") == 0) {
				char iso[LK_ISO_LEN];

				/* As every time the CLI shows: UTC, ISO 8601. */
				lk_iso8601(r->steps[i].started_at, iso);
				rb_progress(run, "step %d \"%s\": started at "
				    "%s, outcome unknown", r->steps[i].idx + 1,
				    r->steps[i].name, iso);
			}
		}
		/* Resuming is not a replay: do not compare outcomes. */
		store_run_free(&run->recorded);
		if (store_run_resume(store, run->run_id, err) != LK_OK)
			goto fail;
	} else if (store_run_begin(store, book->name, book->source,
	    run->params_json, opts->incident_id, opts->dry_run,
	    opts->replay_of, &run->run_id, err) != LK_OK) {
		goto fail;
	}
	rb_progress(run, "run %lld: %s%s%s", (long long)run->run_id, book->name,
	    opts->dry_run ? " (dry run: nothing will be done)" : "",
	    opts->resume ? " (resumed)" : "");
	next_step(run);
	*out = run;
	return LK_OK;
fail:
	/* The book stays the caller's when the run never started. */
	run->book = NULL;
	rb_run_free(&run);
	return err->code;
}

void
rb_run_reply(struct rb_run *run, const char *text)
{
	if (run->pending != PEND_ASK)
		return;
	free(run->question);
	run->question = NULL;
	rb_pending_clear(run);
	rb_action_finished(run, "ask", true, text, NULL);
	lua_pushstring(run->co, text);
	rb_resume(run, 1);
}

const char *
rb_run_question(const struct rb_run *run)
{
	return run->pending == PEND_ASK ? run->question : NULL;
}

void
rb_run_cancel(struct rb_run *run)
{
	if (run->finished || run->planning || run->pending == PEND_NONE)
		return;
	rb_action_cancel(run);
}

size_t rb_run_nsteps(const struct rb_run *run) { return run->book->nsteps; }
size_t rb_run_current(const struct rb_run *run) { return run->step; }
const char *rb_run_runbook(const struct rb_run *run) { return run->book->name; }

void
rb_run_step_info(const struct rb_run *run, size_t i, struct rb_step_info *out)
{
	const struct rb_step_track *t = &run->track[i];

	out->name = run->book->steps[i].name;
	out->state = t->state;
	out->plan = t->plan;
	out->outcome = t->outcome;
	out->started_ms = t->started_ms;
	out->finished_ms = t->finished_ms;
}

char *
rb_run_output(const struct rb_run *run)
{
	return rb_tail_view(&run->output, &run->secrets,
	    run->pending == PEND_CHILD);
}

bool rb_run_finished(const struct rb_run *run) { return run->finished; }
int64_t rb_run_id(const struct rb_run *run) { return run->run_id; }
int rb_run_exit_status(const struct rb_run *run) { return run->exit_status; }
const char *rb_run_summary(const struct rb_run *run) { return run->summary; }

void
rb_run_free(struct rb_run **rp)
{
	struct rb_run *run = rp ? *rp : NULL;

	if (run == NULL)
		return;
	if (run->child != NULL)
		child_cancel(run->child);
	rb_pending_clear(run);
	if (run->step_timer)
		loop_del_timer(run->loop, run->step_timer);
	if (run->kick_timer)
		loop_del_timer(run->loop, run->kick_timer);
	unitctl_free(&run->uc_user);
	unitctl_free(&run->uc_system);
	for (size_t i = 0; i < run->nuc_remote; i++) {
		unitctl_free(&run->uc_remote[i].uc);
		free(run->uc_remote[i].host);
	}
	free(run->uc_remote);
	http_pool_free(&run->http);
	store_run_free(&run->recorded);
	lk_scrub_clear(&run->secrets);
	free(run->params_json);
	lk_buf_free(&run->plan);
	lk_buf_free(&run->step_hosts);
	for (size_t i = 0; i < run->ntrack; i++) {
		free(run->track[i].plan);
		free(run->track[i].outcome);
	}
	free(run->track);
	lk_buf_free(&run->output.buf);
	free(run->question);
	if (run->lock_fd >= 0)
		close(run->lock_fd);
	if (run->book != NULL) {
		lua_pushnil(run->L);
		lua_rawsetp(run->L, LUA_REGISTRYINDEX, &run_key);
		rb_book_free(&run->book);
	}
	free(run);
	*rp = NULL;
}
