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
 * runbooks, and the installed templates.  cb gets each *.lua file once
 * (first one wins per name); it returns non-zero to stop.
 */
typedef int rb_file_cb(const char *path, void *data);
void rb_foreach_file(const struct config *cfg, rb_file_cb *cb, void *data);

/* Resolves NAME (or a path containing '/') to a file.  Caller frees. */
enum lk_code rb_find(const struct config *cfg, const char *name, char **path,
    struct lk_err *err);

/* --- running ------------------------------------------------------------- */

enum rb_answer { RB_YES, RB_SKIP, RB_RETRY, RB_ABORT };

/* What the engine tells its front end (the CLI, the console). */
struct rb_frontend {
	/* A line of progress for a person: step shown, action started... */
	void (*progress)(void *data, const char *line);
	/*
	 * A step is about to run; plan lists its actions, one per line.
	 * Answer later with rb_run_answer().  failed is set when offering a
	 * retry after a failure.
	 */
	void (*confirm)(void *data, struct rb_run *run, int step,
	    const char *name, const char *plan, bool failed);
	/* The runbook asks the operator; answer with rb_run_reply(). */
	void (*ask)(void *data, struct rb_run *run, const char *prompt);
	/* The run is over (rb_run_exit_status says how). */
	void (*done)(void *data, struct rb_run *run);
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
	int64_t lua_limit_ms;		/* Lua time between waits; default 700 */
	int64_t step_limit_ms;		/* wall clock per step; default 30 min */
};

/*
 * Starts running book (which the run then owns) on the loop.  store
 * receives every event before the action it announces starts; probes (may
 * be NULL) answer service.state and queue.state.  Caller owns *out.
 */
/*
 * The lock behind "one run per runbook and target": returns an fd that
 * holds it until closed (or the process dies), or -1 with who holds it
 * (or why it could not be taken) in holder.
 */
int rb_lock_acquire(const char *dir, const char *runbook, const char *params,
    char *holder, size_t len);
bool rb_lock_held(const char *dir, const char *runbook, const char *params);

enum lk_code rb_run_start(struct loop *loop, struct store *store,
    struct probes *probes, const struct config *cfg, struct rb_book *book,
    const struct rb_run_opts *opts, const struct rb_frontend *fe,
    void *fe_data, struct rb_run **out, struct lk_err *err);
void rb_run_answer(struct rb_run *run, enum rb_answer a);
void rb_run_reply(struct rb_run *run, const char *text);
/* Lost the terminal or got a signal: the running action finishes, its
 * outcome is recorded, no further step starts. */
void rb_run_interrupt(struct rb_run *run);
bool rb_run_finished(const struct rb_run *run);
int64_t rb_run_id(const struct rb_run *run);
/* 0 succeeded, 1 a step failed, 2 runbook error, 3 aborted, 4 interrupted */
int rb_run_exit_status(const struct rb_run *run);
/* One line on how the run ended. */
const char *rb_run_summary(const struct rb_run *run);
void rb_run_free(struct rb_run **run);

#endif
