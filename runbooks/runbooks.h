/*
 * runbooks: the Lua 5.4 host.  Loads runbook files in a sandbox, lists and
 * validates them, and runs them step by step on the event loop, logging
 * every step and action to the timeline before it happens.
 *
 * Only this module touches a Lua state.  A runbook is a declarative table:
 *
 *	return runbook {
 *	  name = "restart-service",
 *	  description = "Start, enable and verify a systemd service",
 *	  params = { unit = { required = true }, scope = { default = "user" } },
 *	  step "start" { function(p) return systemctl.start(p.unit, { scope = p.scope }) end },
 *	}
 */
#ifndef LK_RUNBOOKS_H
#define LK_RUNBOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

struct config;
struct loop;
struct probes;
struct store;
struct rb_book;
struct rb_run;

struct rb_param {
	const char *name;
	const char *description;	/* or NULL */
	const char *default_value;	/* or NULL */
	const char *env;		/* read from this environment variable */
	bool required;
	bool secret;			/* never logged, shown or exported */
};

/*
 * Loads and validates a runbook from path (or, with rb_book_load_source,
 * from text; path then only names it in messages).  Problems are reported
 * as "file:line: message"; all of them go to diag (one per line) when not
 * NULL, the first to err.  Caller owns *out.
 */
enum lk_code rb_book_load(const char *path, struct rb_book **out,
    char **diag, struct lk_err *err);
enum lk_code rb_book_load_source(const char *path, const char *src,
    size_t len, struct rb_book **out, char **diag, struct lk_err *err);
void rb_book_free(struct rb_book **b);

const char *rb_book_name(const struct rb_book *b);
const char *rb_book_description(const struct rb_book *b);
size_t rb_book_nparams(const struct rb_book *b);
const struct rb_param *rb_book_param(const struct rb_book *b, size_t i);
size_t rb_book_nsteps(const struct rb_book *b);
const char *rb_book_step_name(const struct rb_book *b, size_t i);

/*
 * The directories searched for runbooks, in order: $LOOKOUT_RUNBOOK_PATH
 * (colon-separated), the config's runbook_dirs, $XDG_CONFIG_HOME/lookout/
 * runbooks, the installed templates and, for a binary run from its build
 * directory, the source tree's templates.  cb gets each *.lua file once
 * (first one wins per name); it returns non-zero to stop.
 */
typedef int rb_file_cb(const char *path, void *data);
void rb_foreach_file(const struct config *cfg, rb_file_cb *cb, void *data);

/* Resolves NAME (or a path containing '/') to a file.  Caller frees. */
enum lk_code rb_find(const struct config *cfg, const char *name, char **path,
    struct lk_err *err);

/* --- running ------------------------------------------------------------- */

enum rb_answer { RB_YES, RB_SKIP, RB_RETRY, RB_ABORT };
#define RB_ANSWER(a) (1u << (a))

/* "yes", "skip", "retry", "abort". */
const char *rb_answer_name(enum rb_answer a);

/* X(enum, name): where each step of a run stands. */
#define RB_STEP_STATES(X)                                               \
	X(RB_STEP_PENDING, "pending")		/* not reached yet */      \
	X(RB_STEP_WAITING, "waiting")		/* planned, awaiting an answer */ \
	X(RB_STEP_RUNNING, "running")                                   \
	X(RB_STEP_OK, "ok")                                             \
	X(RB_STEP_FAILED, "failed")                                     \
	X(RB_STEP_SKIPPED, "skipped")                                   \
	X(RB_STEP_INTERRUPTED, "interrupted")                           \
	X(RB_STEP_DRY_RUN, "dry-run")

enum rb_step_state {
#define RB_X(e, name) e,
	RB_STEP_STATES(RB_X)
#undef RB_X
};
const char *rb_step_state_name(enum rb_step_state s);

/* One step as a front end shows it; strings belong to the run and are
 * valid until its next change (see rb_frontend.changed). */
struct rb_step_info {
	const char *name;
	enum rb_step_state state;
	const char *plan;	/* its actions, one per line; NULL until planned */
	const char *outcome;	/* one line, once it ended (or NULL) */
	int64_t started_ms;	/* wall clock; 0 until it ran */
	int64_t finished_ms;
};

/* What the engine tells its front end (the CLI, the console). */
struct rb_frontend {
	/* A line of progress for a person: step shown, action started... */
	void (*progress)(void *data, const char *line);
	/*
	 * A step is about to run; plan lists its actions, one per line.
	 * Answer later with rb_run_answer(), one of rb_run_answers().
	 * failed is set when offering a retry after a failure.
	 */
	void (*confirm)(void *data, struct rb_run *run, int step,
	    const char *name, const char *plan, bool failed);
	/* The runbook asks the operator; answer with rb_run_reply(). */
	void (*ask)(void *data, struct rb_run *run, const char *prompt);
	/* The run is over (rb_run_exit_status says how). */
	void (*done)(void *data, struct rb_run *run);
	/* Optional: something rb_run_step_info() or rb_run_output() shows
	 * changed (a step's state, the running action's output).  Called
	 * from the loop; a front end marks itself dirty and reads later. */
	void (*changed)(void *data, struct rb_run *run);
};

struct rb_run_opts {
	const char *const *params;	/* "K=V" from the command line */
	size_t nparams;
	bool yes;			/* no confirmations */
	bool dry_run;			/* show every action, run none */
	int64_t incident_id;		/* 0: none */
	int64_t replay_of;		/* compare outcomes with that run */
	int64_t resume;			/* continue that run */
	const char *lock_dir;		/* one run per runbook+params; NULL: no lock */
	int64_t lua_limit_ms;		/* Lua CPU time between waits (and
					 * 300 ms more on the clock); default 700 */
	int64_t step_limit_ms;		/* wall clock per step; default 30 min */
};

/*
 * Starts running book (which the run then owns) on the loop.  store
 * receives every event before the action it announces starts; probes (may
 * be NULL) answer service.state and queue.state.  Caller owns *out.
 */
/*
 * The lock behind "one run per runbook and target", a file in dir, which
 * must be the invoker's alone (it is created 0700 if missing): returns an
 * fd that holds it until closed (or the process dies); -1 when another
 * process holds it, with who in holder; -2 when it cannot be taken, with
 * why in err.
 */
int rb_lock_acquire(const char *dir, const char *runbook, const char *params,
    char *holder, size_t len, struct lk_err *err);
bool rb_lock_held(const char *dir, const char *runbook, const char *params);

enum lk_code rb_run_start(struct loop *loop, struct store *store,
    struct probes *probes, const struct config *cfg, struct rb_book *book,
    const struct rb_run_opts *opts, const struct rb_frontend *fe,
    void *fe_data, struct rb_run **out, struct lk_err *err);
/*
 * The answers the engine takes now, as RB_ANSWER() bits: yes, skip or
 * abort before a step; retry, skip or abort after one failed; 0 when it
 * asks nothing.  rb_run_answer() refuses any other (false), so every front
 * end follows the same rules.
 */
unsigned rb_run_answers(const struct rb_run *run);
bool rb_run_answer(struct rb_run *run, enum rb_answer a);
/* The question of an ask() waiting for rb_run_reply(), or NULL. */
const char *rb_run_question(const struct rb_run *run);
void rb_run_reply(struct rb_run *run, const char *text);
/*
 * Cancels the action in flight: a command gets SIGINT, SIGTERM, SIGKILL in
 * turn; a wait for systemd or an endpoint is given up (a systemd job goes
 * on in systemd).  The action ends failed, "cancelled by the operator",
 * and the step's function goes on from there as after any failure.
 * Nothing happens when no action is in flight.
 */
void rb_run_cancel(struct rb_run *run);
/* Lost the terminal or got a signal: the running action finishes, its
 * outcome is recorded, no further step starts. */
void rb_run_interrupt(struct rb_run *run);
bool rb_run_finished(const struct rb_run *run);
int64_t rb_run_id(const struct rb_run *run);
const char *rb_run_runbook(const struct rb_run *run);
/* 0 succeeded, 1 a step failed, 2 runbook error, 3 aborted, 4 interrupted */
int rb_run_exit_status(const struct rb_run *run);
/* One line on how the run ended. */
const char *rb_run_summary(const struct rb_run *run);

/* The steps, and the one being offered or run (== nsteps once past the
 * last). */
size_t rb_run_nsteps(const struct rb_run *run);
size_t rb_run_current(const struct rb_run *run);
void rb_run_step_info(const struct rb_run *run, size_t i,
    struct rb_step_info *out);
/* The last output of the running (or last) command, secrets replaced;
 * the caller frees it.  NULL when there is none. */
char *rb_run_output(const struct rb_run *run);
void rb_run_free(struct rb_run **run);

#endif
