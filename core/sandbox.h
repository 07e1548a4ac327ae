/*
 * The one Lua sandbox: what the configuration and every runbook run in.
 *
 * A sandbox is a Lua state with a capped allocator, a count hook that
 * stops code over its time budget, and one protected way to call into it.
 * What the state may reach (which globals, which libraries) is its
 * owner's business; what the sandbox guarantees is that code in it ends:
 * within its memory cap, within the budget of the slice it runs in, and
 * soon after an interrupting signal (loop_add_interrupt) arrives.
 *
 * The count hook only fires between Lua instructions, so a library
 * function that runs long inside C would escape it.  sandbox_open_string()
 * and sandbox_open_table() replace the ones that can (pattern matching,
 * string.rep, table.sort) with versions that check the same budget as
 * they go.
 *
 * A stop is a Lua error: the slice's message, after "chunk:line: " of the
 * Lua code that was running.  Once a slice is stopped, the hook fires on
 * every instruction and every guarded function raises at once, so a pcall
 * in the sandboxed code cannot swallow the stop and carry on.
 */
#ifndef LK_SANDBOX_H
#define LK_SANDBOX_H

#include <stddef.h>

struct lua_State;
struct sandbox;

/*
 * A new Lua state whose allocator refuses to hold more than mem_limit bytes
 * in all.  data is the caller's (sandbox_data() returns it) and is not
 * owned.  The sandbox owns the state: sandbox_free() closes it.  NULL if
 * Lua could not even start.
 */
struct sandbox *sandbox_new(size_t mem_limit, void *data);

/* Closes the state, frees the sandbox and sets *sbp to NULL; NULL is fine. */
void sandbox_free(struct sandbox **sbp);

/* The main thread of the sandbox's state, borrowed. */
struct lua_State *sandbox_lua(const struct sandbox *sb);

/* The sandbox a state (any of its threads) belongs to. */
struct sandbox *sandbox_of(struct lua_State *L);

/* The data given to sandbox_new(). */
void *sandbox_data(struct lua_State *L);

/* Bytes held now: Lua's own memory and every charge. */
size_t sandbox_mem_used(const struct sandbox *sb);

/*
 * Charges n bytes of C copies of Lua values against the memory cap, for
 * good: what C copies out of the sandbox would otherwise escape the cap
 * (a 1 MiB string copied a thousand times).  Returns 0, or -1 when that
 * would pass the cap (nothing is charged).  Never raises: the caller
 * raises its own message, before it allocates.
 */
int sandbox_charge(struct lua_State *L, size_t n);

/* --- slices --------------------------------------------------------------- */

/*
 * How long code may run in one slice.  Each limit is off at 0.  The two
 * clocks measure different things: cpu_ms counts the CPU time the thread
 * itself used (what "runaway code" means, whatever else the machine is
 * doing), wall_ms the time that passed on the monotonic clock (what the
 * program's user waits, whatever the reason).
 */
struct sandbox_budget {
	long long cpu_ms;
	long long wall_ms;
	long long instructions;		/* Lua VM instructions, roughly */
	const char *why;		/* the stop's message (copied) */
};

/*
 * Runs L (the thread about to be run: hooks are per thread) under budget
 * until sandbox_slice_end().  Outside a slice the hook costs a function
 * call every few thousand instructions and stops nothing.
 */
void sandbox_slice_begin(struct lua_State *L,
    const struct sandbox_budget *budget);
void sandbox_slice_end(struct lua_State *L);

enum sandbox_stop {
	SANDBOX_RUNNING,		/* not stopped */
	SANDBOX_STOP_BUDGET,		/* out of time or instructions */
	SANDBOX_STOP_SIGNAL,		/* an interrupting signal came */
};

/*
 * Whether (and why) the sandbox stopped the code of the last slice.  Kept
 * after sandbox_slice_end(), reset by sandbox_slice_begin().  signo, if not
 * NULL, gets the signal of SANDBOX_STOP_SIGNAL.
 */
enum sandbox_stop sandbox_stopped(const struct sandbox *sb, int *signo);

/*
 * Raises the stop if the slice L runs in is over its budget or an
 * interrupting signal is pending (loop_interrupted()), and returns
 * otherwise; outside a slice it always returns.  For C functions that
 * loop on behalf of Lua code: call it every so often (it reads two
 * clocks), where a Lua error may be raised.  detail, if not NULL, is added
 * to the message of a stop it raises first ("in string.find: ...").
 */
void sandbox_check(struct lua_State *L, const char *detail);

/* --- calling in ------------------------------------------------------------- */

/*
 * The one way to call into the sandbox: lua_pcall(L, nargs, nresults)
 * with a message handler that records a traceback of the error (in C
 * memory, so that a state at its memory cap still gets one).  On failure
 * the function and its arguments are replaced by one string, the message:
 * an error value that is not a string or a number is described ("error
 * raised with a table value instead of a message"); LUA_ERRMEM leaves
 * Lua's "not enough memory".  Returns lua_pcall's status.
 */
int sandbox_pcall(struct lua_State *L, int nargs, int nresults);

/*
 * The same for a coroutine: lua_resume(co, from, nargs, nres), and on an
 * error one string on co's stack, as above.  from must not be running
 * (the thread that resumes, or NULL).
 */
int sandbox_resume(struct lua_State *co, struct lua_State *from, int nargs,
    int *nres);

/*
 * The traceback of the last error raised through sandbox_pcall() or
 * sandbox_resume(), "stack traceback:\n\tchunk:line: in ...", or NULL when
 * there is none (out of memory, or a stop).  Borrowed: valid until the
 * next call.
 */
const char *sandbox_traceback(const struct sandbox *sb);

/* --- what the sandboxed code may reach ------------------------------------- */

/*
 * Writes into buf why reading key (at index key on L's stack, a string or
 * anything else) from a strict table is an error.  It must not raise.
 */
typedef void sandbox_explain_fn(struct lua_State *L, int key, char *buf,
    size_t len);

/*
 * Makes reading a missing key of the table at idx an error, explained by
 * explain: the table gets a metatable (or keeps the one it has) whose
 * __index raises "chunk:line: " and the explanation.  For the globals of a
 * sandbox, where a misspelled name must not read as nil.
 */
void sandbox_strict(struct lua_State *L, int idx, sandbox_explain_fn *explain);

/*
 * Replaces, in the string library table at idx, the functions that may
 * run long inside C with guarded ones that keep to the slice's budget:
 * find, match, gmatch and gsub (a matcher that counts its steps), and rep.
 * Lua's string metatable points at that table, so ("x"):find is guarded
 * too.  string.dump is removed: no bytecode out.  (core/sandbox_lib.c)
 */
void sandbox_open_string(struct lua_State *L, int idx);

/* The same for the table library at idx: table.sort. */
void sandbox_open_table(struct lua_State *L, int idx);

#endif
