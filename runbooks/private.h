/* Internals shared by the files of runbooks/.  Not part of the public API. */
#ifndef LK_RUNBOOKS_PRIVATE_H
#define LK_RUNBOOKS_PRIVATE_H

#include <lauxlib.h>
#include <lua.h>

#include "runbooks.h"
#include "../core/sandbox.h"
#include "../core/scrub.h"
#include "../core/util.h"

/* Memory a runbook's Lua state may use in all. */
#define RB_MEMORY_LIMIT (64u * 1024 * 1024)

/*
 * t[key] without metamethods: tables a runbook hands us may carry any
 * metatable (even _G's, whose __index raises), and reading them must not
 * run Lua code or raise.
 */
static inline int
rb_rawfield(lua_State *L, int t, const char *key)
{
	t = lua_absindex(L, t);
	lua_pushstring(L, key);
	return lua_rawget(L, t);
}

/*
 * A new sandbox (core/sandbox.h) holding a runbook's allow-listed
 * globals, or NULL.  The caller owns it.
 */
struct sandbox *rb_lua_new(void);
/*
 * Lets L run for limit_ms before it is stopped as runaway code: a step's
 * Lua runs between two actions, and one that never waits holds the loop.
 */
void rb_lua_slice_begin(lua_State *L, long long limit_ms);

/* Runs the step function at the top of a thread's stack: see engine.c. */
struct rb_step_def {
	char *name;
	char *description;
	int line;
	int fn_ref;		/* registry reference to the step function */
	int64_t timeout_ms;	/* 0: the run's default */
};

struct rb_book {
	char *path;
	char *source;
	size_t len;
	struct sandbox *sb;
	lua_State *L;			/* the sandbox's */
	char *name;
	char *description;
	struct rb_param *params;
	size_t nparams;
	struct rb_step_def *steps;
	size_t nsteps;
};

/* Defined in actions.c: installs systemctl, http, sh, wait_until,
 * service, queue, note, ask and sleep into the state's globals. */
void rb_actions_install(lua_State *L);

#endif

/* --- a run (engine.c), as the actions (actions.c) see it ------------------ */

struct child;
struct unitctl;
struct http_pool;

enum rb_pending_kind { PEND_NONE, PEND_CHILD, PEND_UNIT, PEND_HTTP,
    PEND_SLEEP, PEND_ASK };

/* Where a step stands, for the front end (rb_run_step_info). */
struct rb_step_track {
	enum rb_step_state state;
	char *plan;			/* scrubbed; NULL until planned */
	char *outcome;			/* scrubbed; NULL until it ended */
	int64_t started_ms;
	int64_t finished_ms;
};

/* How much of the running command's output the front end can show. */
#define RB_OUTPUT_TAIL 8192
/* How much of each of a command's streams the timeline keeps. */
#define RB_EXCERPT 2048

/*
 * The tail of a command's output, raw, as it arrives (engine.c): secrets
 * are scrubbed when it is read, knowing whether its start was cut off and
 * whether more is on the way.
 */
struct rb_tail {
	struct lk_buf buf;
	bool cut;			/* output before it was dropped */
};
/* Appends len bytes, keeping the last max. */
void rb_tail_add(struct rb_tail *t, const char *buf, size_t len, size_t max);
/* The tail scrubbed, as a new string, or NULL when empty; running: the
 * command may still write, so its end may be cut too. */
char *rb_tail_view(const struct rb_tail *t, const struct lk_scrub *sc,
    bool running);
/*
 * What the timeline keeps of one stream of a command (actions.c): the
 * output the child kept (truncated: it dropped the rest) scrubbed, then its
 * last RB_EXCERPT bytes, as a JSON string.
 */
struct json_t *rb_stream_excerpt(const struct lk_scrub *sc, const char *out,
    size_t len, bool truncated);

struct rb_run {
	struct loop *loop;
	struct store *store;
	struct probes *probes;
	const struct config *cfg;
	struct rb_book *book;
	lua_State *L;
	const struct rb_frontend *fe;
	void *fe_data;
	struct rb_run_opts opts;
	int64_t run_id;

	int params_ref;			/* the params table given to steps */
	struct lk_scrub secrets;	/* values never to be logged or shown */
	char *params_json;		/* as recorded (secrets by reference) */

	size_t step;			/* the step being planned or run */
	lua_State *co;			/* the step's coroutine */
	int co_ref;
	bool planning;			/* actions describe, do not act */
	struct lk_buf plan;		/* what the step will do, one per line */
	bool step_failed_action;	/* an action in this step failed */
	char last_reason[512];
	char last_outcome[512];		/* of the step's last action */
	struct lk_buf step_hosts;	/* other hosts its actions ran on,
					 * ", " between them */
	bool awaiting_answer;
	bool offered_retry;

	struct rb_step_track *track;	/* one per step of the book */
	size_t ntrack;
	struct rb_tail output;		/* the tail of the command's output */
	char *question;			/* an ask() awaiting rb_run_reply */

	/* The one operation in flight; gen invalidates late callbacks. */
	enum rb_pending_kind pending;
	char pend_action[32];		/* its name, for a cancel */
	unsigned gen;
	struct child *child;
	long long timer;		/* sleep, http backoff */
	long long step_timer;		/* the step's wall-clock limit */
	void *pend_data;		/* the action's own state */
	void (*pend_free)(void *);

	struct unitctl *uc_user;
	struct unitctl *uc_system;
	/* Other hosts' managers, one per host and scope, connected on
	 * first use (actions.c). */
	struct rb_remote_uc {
		char *host;
		bool user;
		struct unitctl *uc;
	} *uc_remote;
	size_t nuc_remote;
	struct http_pool *http;

	struct store_run *recorded;	/* replay: what happened then */
	int differences;

	int lock_fd;			/* -1: none */
	bool interrupted;
	bool store_broken;		/* stop: the timeline cannot be written */
	bool finished;
	int exit_status;
	char summary[512];
	long long kick_timer;
};

/* The run a state belongs to (NULL while loading). */
struct rb_run *rb_run_of(lua_State *L);

/*
 * Logs action.started for the current step; returns false (and stops the
 * run) if it could not be made durable: then the action must not be taken.
 */
bool rb_action_started(struct rb_run *run, const char *action,
    const char *what, const char *data_json);
/* Logs action.finished with the outcome; ok false marks the step. */
void rb_action_finished(struct rb_run *run, const char *action, bool ok,
    const char *outcome, const char *data_json);
/* Resumes the step coroutine with the nres values on its stack. */
void rb_resume(struct rb_run *run, int nres);
/* Appends a line to the plan of the step being planned. */
void rb_plan(struct rb_run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A copy of text with every secret value replaced by "***"; caller frees.
 * Text that was cut, escaped or formatted first is too late for this:
 * see core/scrub.h. */
char *rb_scrub(const struct rb_run *run, const char *text);
/* Whether text contains a secret value. */
bool rb_has_secret(const struct rb_run *run, const char *text);
void rb_progress(struct rb_run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Forgets the operation in flight (its late callback is ignored). */
void rb_pending_clear(struct rb_run *run);
/* Marks action (a name for rb_run_cancel) in flight as kind. */
void rb_pending_set(struct rb_run *run, enum rb_pending_kind kind,
    const char *action);
/* actions.c: ends the action in flight as cancelled (see rb_run_cancel). */
void rb_action_cancel(struct rb_run *run);
/* Tells the front end that what it shows changed. */
void rb_changed(struct rb_run *run);
/* Keeps the tail of the running command's output for the front end. */
void rb_output(struct rb_run *run, const char *buf, size_t len);
