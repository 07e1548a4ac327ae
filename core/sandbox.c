/*
 * The Lua sandbox.  See sandbox.h for what it guarantees; this file says
 * how.
 *
 * Everything the sandbox keeps is reached from the state itself: the
 * struct sandbox is the allocator's userdata, so the hook, the guarded
 * library functions and the message handler find it with lua_getallocf()
 * on whichever thread they run in, without a registry lookup.
 */
#include "sandbox.h"
#include "err.h"
#include "loop.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

/*
 * How often, in VM instructions, the hook looks at the clocks.  Not much
 * more: one instruction may be a library call over megabytes (s:upper()
 * of a 2 MB string), so a thousand of them can already take a while.  A
 * clock read costs from tens of nanoseconds (the monotonic clock) to a few
 * hundred (the thread's CPU clock is a system call), a few per cent of
 * what a thousand instructions take.
 */
#define HOOK_EVERY 1000

/* Levels of a traceback, as luaL_traceback shows them. */
#define TRACE_LEVELS 12

struct sandbox {
	lua_State *L;
	void *data;
	size_t used;
	size_t limit;

	/* The slice; in_slice false outside one. */
	bool in_slice;
	struct sandbox_budget budget;
	char why[256];			/* budget.why points here */
	long long wall_start_ms;
	long long cpu_start_ms;
	long long count;		/* instructions, in HOOK_EVERY steps */
	enum sandbox_stop stopped;
	int signo;			/* of SANDBOX_STOP_SIGNAL */

	struct lk_buf trace;		/* of the last error; len 0: none */
};

static long long
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- memory ---------------------------------------------------------------- */

static void *
sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct sandbox *sb = ud;

	/* Without a block, osize says what kind of object Lua makes. */
	if (ptr == NULL)
		osize = 0;
	if (nsize == 0) {
		free(ptr);
		sb->used -= osize;
		return NULL;
	}
	if (nsize > osize && nsize - osize > sb->limit - sb->used)
		return NULL;
	ptr = realloc(ptr, nsize);
	if (ptr != NULL)
		sb->used = sb->used - osize + nsize;
	return ptr;
}

struct sandbox *
sandbox_new(size_t mem_limit, void *data)
{
	struct sandbox *sb = lk_xcalloc(1, sizeof *sb);

	sb->data = data;
	sb->limit = mem_limit;
	if ((sb->L = lua_newstate(sandbox_alloc, sb)) == NULL) {
		free(sb);
		return NULL;
	}
	sandbox_slice_end(sb->L);
	return sb;
}

void
sandbox_free(struct sandbox **sbp)
{
	struct sandbox *sb = *sbp;

	if (sb == NULL)
		return;
	lua_close(sb->L);
	lk_buf_free(&sb->trace);
	free(sb);
	*sbp = NULL;
}

struct lua_State *
sandbox_lua(const struct sandbox *sb)
{
	return sb->L;
}

struct sandbox *
sandbox_of(lua_State *L)
{
	void *ud;

	lua_getallocf(L, &ud);
	return ud;
}

void *
sandbox_data(lua_State *L)
{
	return sandbox_of(L)->data;
}

size_t
sandbox_mem_used(const struct sandbox *sb)
{
	return sb->used;
}

int
sandbox_charge(lua_State *L, size_t n)
{
	struct sandbox *sb = sandbox_of(L);

	n += 16;		/* malloc's own overhead, roughly */
	if (n > sb->limit - sb->used)
		return -1;
	sb->used += n;
	return 0;
}

/* --- slices ----------------------------------------------------------------- */

/* Pushes "chunk:line: " of the innermost Lua function running, or "". */
static void
push_where(lua_State *L)
{
	lua_Debug ar;

	for (int level = 0; lua_getstack(L, level, &ar); level++) {
		lua_getinfo(L, "Sl", &ar);
		if (ar.currentline > 0) {
			lua_pushfstring(L, "%s:%d: ", ar.short_src,
			    ar.currentline);
			return;
		}
	}
	lua_pushliteral(L, "");
}

static void sandbox_hook(lua_State *L, lua_Debug *ar);

/* Stops the slice for good and raises the stop. */
static int
stop(lua_State *L, struct sandbox *sb, enum sandbox_stop why, int signo,
    const char *detail)
{
	if (sb->stopped == SANDBOX_RUNNING) {
		sb->stopped = why;
		sb->signo = signo;
		/*
		 * From now on every instruction raises again, so that a pcall
		 * in the sandboxed code cannot swallow the stop and go on.
		 */
		lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, 1);
	}
	push_where(L);
	if (sb->stopped == SANDBOX_STOP_SIGNAL)
		lua_pushfstring(L, "interrupted by signal %d (%s)", sb->signo,
		    strsignal(sb->signo));
	else
		lua_pushstring(L, sb->why);
	if (detail != NULL) {
		lua_pushfstring(L, "; %s", detail);
		lua_concat(L, 3);
	} else {
		lua_concat(L, 2);
	}
	return lua_error(L);
}

static bool
over_budget(struct sandbox *sb)
{
	const struct sandbox_budget *b = &sb->budget;

	if (b->instructions > 0 && sb->count >= b->instructions)
		return true;
	if (b->wall_ms > 0 &&
	    clock_ms(CLOCK_MONOTONIC) - sb->wall_start_ms >= b->wall_ms)
		return true;
	if (b->cpu_ms > 0 &&
	    clock_ms(CLOCK_THREAD_CPUTIME_ID) - sb->cpu_start_ms >= b->cpu_ms)
		return true;
	return false;
}

/* Raises the stop that is due, if any. */
static void
check(lua_State *L, struct sandbox *sb, const char *detail)
{
	int signo;

	if (sb->stopped != SANDBOX_RUNNING)
		stop(L, sb, sb->stopped, sb->signo, NULL);
	/* The signal first: the operator asked, whatever the budget says. */
	if ((signo = loop_interrupted()) != 0)
		stop(L, sb, SANDBOX_STOP_SIGNAL, signo, detail);
	if (over_budget(sb))
		stop(L, sb, SANDBOX_STOP_BUDGET, 0, detail);
}

static void
sandbox_hook(lua_State *L, lua_Debug *ar)
{
	struct sandbox *sb = sandbox_of(L);

	(void)ar;
	if (!sb->in_slice)
		return;
	sb->count += HOOK_EVERY;
	check(L, sb, NULL);
}

void
sandbox_check(lua_State *L, const char *detail)
{
	struct sandbox *sb = sandbox_of(L);

	if (sb->in_slice)
		check(L, sb, detail);
}

void
sandbox_slice_begin(lua_State *L, const struct sandbox_budget *budget)
{
	struct sandbox *sb = sandbox_of(L);

	sb->budget = *budget;
	snprintf(sb->why, sizeof sb->why, "%s", budget->why != NULL ?
	    budget->why : "stopped: over its time budget");
	sb->budget.why = sb->why;
	sb->in_slice = true;
	sb->stopped = SANDBOX_RUNNING;
	sb->count = 0;
	sb->wall_start_ms = clock_ms(CLOCK_MONOTONIC);
	sb->cpu_start_ms = clock_ms(CLOCK_THREAD_CPUTIME_ID);
	lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

void
sandbox_slice_end(lua_State *L)
{
	struct sandbox *sb = sandbox_of(L);

	sb->in_slice = false;
	/* A stop set the hook on every instruction; threads made later
	 * inherit the hook of the thread they are made from. */
	lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

enum sandbox_stop
sandbox_stopped(const struct sandbox *sb, int *signo)
{
	if (signo != NULL)
		*signo = sb->stopped == SANDBOX_STOP_SIGNAL ? sb->signo : 0;
	return sb->stopped;
}

/* --- calling in ------------------------------------------------------------- */

/*
 * Writes the traceback of L1 from level on into the sandbox, in C memory:
 * at the memory cap, where luaL_traceback would fail, it still works.
 * lua_getinfo with "Sln" allocates nothing.
 */
static void
record_trace(struct sandbox *sb, lua_State *L1, int level)
{
	lua_Debug ar;
	int n = 0;

	lk_buf_reset(&sb->trace);
	lk_buf_adds(&sb->trace, "stack traceback:");
	for (; lua_getstack(L1, level, &ar); level++) {
		if (n++ == TRACE_LEVELS) {
			lk_buf_adds(&sb->trace, "\n\t...");
			break;
		}
		lua_getinfo(L1, "Sln", &ar);
		lk_buf_printf(&sb->trace, "\n\t%s:", ar.short_src);
		if (ar.currentline > 0)
			lk_buf_printf(&sb->trace, "%d:", ar.currentline);
		if (ar.name != NULL)
			lk_buf_printf(&sb->trace, " in %s '%s'",
			    *ar.namewhat != '\0' ? ar.namewhat : "function",
			    ar.name);
		else if (*ar.what == 'm')
			lk_buf_adds(&sb->trace, " in main chunk");
		else if (*ar.what == 'C')
			lk_buf_adds(&sb->trace, " in ?");
		else
			lk_buf_printf(&sb->trace, " in function <%s:%d>",
			    ar.short_src, ar.linedefined);
	}
}

/*
 * Replaces the error value at the top of L's stack by a message, if it is
 * not one already.  Runs protected (it allocates).
 */
static int
describe_error(lua_State *L)
{
	int t = lua_type(L, -1);

	if (t != LUA_TSTRING && t != LUA_TNUMBER) {
		lua_pushfstring(L, "error raised with a %s value instead of a "
		    "message", luaL_typename(L, -1));
		lua_remove(L, -2);
	}
	lua_tostring(L, -1);		/* a number becomes its text */
	return 1;
}

/* The message handler: the traceback first, then the message. */
static int
message_handler(lua_State *L)
{
	record_trace(sandbox_of(L), L, 1);
	return describe_error(L);
}

int
sandbox_pcall(lua_State *L, int nargs, int nresults)
{
	int base = lua_gettop(L) - nargs, rc;

	lk_buf_reset(&sandbox_of(L)->trace);
	lua_pushcfunction(L, message_handler);
	lua_insert(L, base);
	rc = lua_pcall(L, nargs, nresults, base);
	lua_remove(L, base);
	return rc;
}

int
sandbox_resume(lua_State *co, lua_State *from, int nargs, int *nres)
{
	struct sandbox *sb = sandbox_of(co);
	lua_State *L = sb->L;
	int rc;

	lk_buf_reset(&sb->trace);
	rc = lua_resume(co, from, nargs, nres);
	if (rc == LUA_OK || rc == LUA_YIELD)
		return rc;
	/* A dead coroutine keeps its stack, to be looked at. */
	if (rc != LUA_ERRMEM)
		record_trace(sb, co, 0);
	if (lua_type(co, -1) == LUA_TSTRING)
		return rc;
	/*
	 * The description allocates, so it is made protected, on the main
	 * thread (a coroutine that died of an error cannot call anything).
	 */
	if (co == L || !lua_checkstack(L, 2)) {
		lua_pop(co, 1);
		lua_pushliteral(co, "error");
		return rc;
	}
	lua_pushcfunction(L, describe_error);
	lua_xmove(co, L, 1);
	if (lua_pcall(L, 1, 1, 0) != LUA_OK && lua_type(L, -1) != LUA_TSTRING) {
		lua_pop(L, 1);
		lua_pushliteral(L, "error");
	}
	lua_xmove(L, co, 1);
	return rc;
}

const char *
sandbox_traceback(const struct sandbox *sb)
{
	return sb->trace.len > 0 ? sb->trace.s : NULL;
}

/* --- what the sandboxed code may reach --------------------------------------- */

static int
strict_index(lua_State *L)
{
	sandbox_explain_fn **explain = lua_touserdata(L,
	    lua_upvalueindex(1));
	char why[LK_ERR_MAX];

	(*explain)(L, 2, why, sizeof why);
	return luaL_error(L, "%s", why);
}

void
sandbox_strict(lua_State *L, int idx, sandbox_explain_fn *explain)
{
	sandbox_explain_fn **p;

	idx = lua_absindex(L, idx);
	if (!lua_getmetatable(L, idx)) {
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setmetatable(L, idx);
	}
	/* A function pointer does not fit a light userdata portably. */
	p = lua_newuserdatauv(L, sizeof *p, 0);
	*p = explain;
	lua_pushcclosure(L, strict_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}
