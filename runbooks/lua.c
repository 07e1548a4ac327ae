/*
 * The sandbox every runbook runs in.
 *
 * Runbooks get an allow-list of globals: no os.execute, io, load, require,
 * dofile, debug, or coroutine; reading an undefined global is an error; a
 * capped allocator and a time slice stop runaway code.  Side effects only
 * happen through actions, so every side effect is logged.
 */
#include "private.h"

#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Two clocks.  The budget is CPU time: that is what "runaway" means, and a
 * loaded machine must not fail a step whose Lua is fine.  But the loop
 * waits while Lua runs, and with it the operator's screen, the probes and
 * every other run, so the clock on the wall gets a ceiling too: the budget
 * and WALL_SLACK_MS more.  Lua that is fine uses a few milliseconds between
 * two actions, so the ceiling fails it only on a machine that gives lookout
 * almost no CPU; and runaway code never freezes the screen for much longer
 * than the budget (about a second by default), however busy the machine.
 */
#define WALL_SLACK_MS 300

void
rb_lua_slice_begin(lua_State *L, long long limit_ms)
{
	struct sandbox_budget b = { .cpu_ms = limit_ms,
	    .wall_ms = limit_ms + WALL_SLACK_MS };
	char why[160];

	snprintf(why, sizeof why, "runbook code ran for over %lld ms without "
	    "waiting on an action (a loop that never ends?)", limit_ms);
	b.why = why;
	sandbox_slice_begin(L, &b);
}

static void
explain_global(lua_State *L, int key, char *buf, size_t len)
{
	const char *name = lua_tostring(L, key);

	snprintf(buf, len, "undefined variable '%s'", name ? name : "?");
}

static const char *const allowed_globals[] = {
	"assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal",
	"rawlen", "rawget", "select", "tonumber", "tostring", "type",
	"xpcall", "_VERSION", "string", "table", "math", "utf8", "_G",
	NULL
};

struct sandbox *
rb_lua_new(void)
{
	struct sandbox *sb = sandbox_new(RB_MEMORY_LIMIT, NULL);
	lua_State *L;

	if (sb == NULL)
		return NULL;
	L = sandbox_lua(sb);
	luaL_requiref(L, "_G", luaopen_base, 1);
	luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
	luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
	luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
	luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
	lua_settop(L, 0);
	luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);	/* index 1, off _G */

	/* Remove every global that is not allowed. */
	lua_pushglobaltable(L);
	lua_pushnil(L);
	while (lua_next(L, -2) != 0) {
		bool keep = false;

		lua_pop(L, 1);
		if (lua_type(L, -1) == LUA_TSTRING)
			for (size_t i = 0; allowed_globals[i]; i++)
				if (strcmp(lua_tostring(L, -1),
				    allowed_globals[i]) == 0)
					keep = true;
		if (!keep) {
			lua_pushvalue(L, -1);
			lua_pushnil(L);
			lua_rawset(L, -4);
		}
	}
	/* os: only the clock and dates, for notes. */
	lua_newtable(L);
	lua_getfield(L, 1, "time");
	lua_setfield(L, -2, "time");
	lua_getfield(L, 1, "date");
	lua_setfield(L, -2, "date");
	lua_getfield(L, 1, "clock");
	lua_setfield(L, -2, "clock");
	lua_setfield(L, -2, "os");
	lua_pop(L, 1);
	lua_settop(L, 0);
	/* Pattern matching, string.rep and table.sort keep to the slice. */
	lua_getglobal(L, LUA_STRLIBNAME);
	sandbox_open_string(L, -1);
	lua_getglobal(L, LUA_TABLIBNAME);
	sandbox_open_table(L, -1);
	lua_settop(L, 0);
	rb_actions_install(L);

	/* Reading an undefined global is an error, not a silent nil. */
	lua_pushglobaltable(L);
	sandbox_strict(L, -1, explain_global);
	lua_pop(L, 1);
	return sb;
}
