/* core/sandbox: the one Lua sandbox of the configuration and the runbooks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "sandbox.h"

static struct sandbox *sb;
static lua_State *L;

static void
setup(void)
{
	sb = sandbox_new(4u * 1024 * 1024, &sb);
	cr_assert_not_null(sb);
	L = sandbox_lua(sb);
	luaL_openlibs(L);
}

static void
teardown(void)
{
	sandbox_free(&sb);
	cr_assert_null(sb);
}

TestSuite(sandbox, .init = setup, .fini = teardown, .timeout = 30);

/* Runs src protected; returns the status, with the message in msg. */
static int
run(const char *src, char *msg, size_t len)
{
	int rc;

	cr_assert_eq(luaL_loadstring(L, src), LUA_OK, "%s", src);
	rc = sandbox_pcall(L, 0, 0);
	snprintf(msg, len, "%s", rc == LUA_OK ? "" : lua_tostring(L, -1));
	if (rc != LUA_OK)
		lua_pop(L, 1);
	cr_assert_eq(lua_gettop(L), 0, "the stack is left as it was");
	return rc;
}

Test(sandbox, finds_itself_and_its_data_from_any_thread)
{
	lua_State *co = lua_newthread(L);

	cr_expect_eq(sandbox_of(L), sb);
	cr_expect_eq(sandbox_of(co), sb);
	cr_expect_eq(sandbox_data(co), &sb);
}

Test(sandbox, memory_is_capped)
{
	char msg[256];

	cr_expect_eq(run("local s = ('x'):rep(8 * 1024 * 1024)", msg,
	    sizeof msg), LUA_ERRMEM, "%s", msg);
	cr_expect_leq(sandbox_mem_used(sb), 4u * 1024 * 1024);
	/* Freed memory is given back: the same state goes on working. */
	cr_expect_eq(run("local s = ('x'):rep(1024 * 1024)", msg, sizeof msg),
	    LUA_OK, "%s", msg);
}

Test(sandbox, charges_share_the_cap)
{
	size_t before = sandbox_mem_used(sb);
	char msg[256];

	cr_expect_eq(sandbox_charge(L, 1024), 0);
	cr_expect_geq(sandbox_mem_used(sb), before + 1024);
	/* What would pass the cap is refused and not charged. */
	before = sandbox_mem_used(sb);
	cr_expect_eq(sandbox_charge(L, 4u * 1024 * 1024), -1);
	cr_expect_eq(sandbox_mem_used(sb), before);
	/* Charges are for good: Lua gets what is left. */
	cr_expect_eq(sandbox_charge(L, 3u * 1024 * 1024), 0);
	cr_expect_eq(run("local s = ('x'):rep(2 * 1024 * 1024)", msg,
	    sizeof msg), LUA_ERRMEM, "%s", msg);
}

Test(sandbox, a_budget_stops_a_loop_even_inside_pcall)
{
	struct sandbox_budget b = { .instructions = 1000000,
	    .why = "out of budget" };
	char msg[256];

	sandbox_slice_begin(L, &b);
	cr_expect_eq(run("local n = 0\n"
	    "while true do\n"
	    "  pcall(function() while true do n = n + 1 end end)\n"
	    "end\n", msg, sizeof msg), LUA_ERRRUN);
	sandbox_slice_end(L);
	/* Where it stopped: the innermost Lua code running, any line. */
	cr_expect(strstr(msg, "[string \"local n = 0...\"]:") == msg &&
	    strstr(msg, ": out of budget") != NULL, "%s", msg);
	cr_expect_eq(sandbox_stopped(sb), SANDBOX_STOP_BUDGET);
	/* The next slice starts afresh, and outside one nothing stops. */
	b.instructions = 0;
	b.cpu_ms = 60000;
	sandbox_slice_begin(L, &b);
	cr_expect_eq(sandbox_stopped(sb), SANDBOX_RUNNING);
	cr_expect_eq(run("for i = 1, 1e6 do end", msg, sizeof msg), LUA_OK,
	    "%s", msg);
	sandbox_slice_end(L);
	cr_expect_eq(run("for i = 1, 3e6 do end", msg, sizeof msg), LUA_OK,
	    "%s", msg);
}

Test(sandbox, a_cpu_budget_stops_a_loop)
{
	struct sandbox_budget b = { .cpu_ms = 50, .why = "too long" };
	char msg[256];

	sandbox_slice_begin(L, &b);
	cr_expect_eq(run("while true do end", msg, sizeof msg), LUA_ERRRUN);
	sandbox_slice_end(L);
	cr_expect(strstr(msg, ":1: too long") != NULL, "%s", msg);
}

Test(sandbox, a_wall_budget_stops_a_loop)
{
	struct sandbox_budget b = { .wall_ms = 50, .why = "too long" };
	char msg[256];

	sandbox_slice_begin(L, &b);
	cr_expect_eq(run("while true do end", msg, sizeof msg), LUA_ERRRUN);
	sandbox_slice_end(L);
	cr_expect(strstr(msg, ":1: too long") != NULL, "%s", msg);
}

Test(sandbox, pcall_describes_errors_and_keeps_a_traceback)
{
	char msg[256];

	cr_expect_eq(run("local function inner() error('boom') end\n"
	    "local function outer() inner() end\n"
	    "outer()\n", msg, sizeof msg), LUA_ERRRUN);
	cr_expect(strstr(msg, ":1: boom") != NULL, "%s", msg);
	cr_assert_not_null(sandbox_traceback(sb));
	cr_expect(strncmp(sandbox_traceback(sb), "stack traceback:", 16) == 0,
	    "%s", sandbox_traceback(sb));
	cr_expect(strstr(sandbox_traceback(sb), ":1: in ") != NULL, "%s",
	    sandbox_traceback(sb));
	cr_expect(strstr(sandbox_traceback(sb), ":3: in main chunk") != NULL,
	    "%s", sandbox_traceback(sb));

	cr_expect_eq(run("error({})", msg, sizeof msg), LUA_ERRRUN);
	cr_expect_str_eq(msg, "error raised with a table value instead of a "
	    "message");
	cr_expect_eq(run("error(42)", msg, sizeof msg), LUA_ERRRUN);
	cr_expect_str_eq(msg, "42");
	cr_expect_eq(run("return 1", msg, sizeof msg), LUA_OK);
	cr_expect_null(sandbox_traceback(sb));
}

Test(sandbox, resume_describes_errors_and_keeps_a_traceback)
{
	lua_State *co = lua_newthread(L);
	int nres = 0;

	cr_assert_eq(luaL_loadstring(co, "local x = ...\n"
	    "coroutine.yield(x + 1)\n"
	    "error(setmetatable({}, {}))\n"), LUA_OK);
	lua_pushinteger(co, 41);
	cr_expect_eq(sandbox_resume(co, L, 1, &nres), LUA_YIELD);
	cr_expect_eq(nres, 1);
	cr_expect_eq(lua_tointeger(co, -1), 42);
	lua_pop(co, nres);
	cr_expect_eq(sandbox_resume(co, L, 0, &nres), LUA_ERRRUN);
	cr_expect_str_eq(lua_tostring(co, -1), "error raised with a table "
	    "value instead of a message");
	cr_assert_not_null(sandbox_traceback(sb));
	cr_expect(strstr(sandbox_traceback(sb), ":3: in main chunk") != NULL,
	    "%s", sandbox_traceback(sb));
}

static void
explain(lua_State *l, int key, char *buf, size_t len)
{
	snprintf(buf, len, "no such thing as %s", lua_type(l, key) ==
	    LUA_TSTRING ? lua_tostring(l, key) : "that");
}

Test(sandbox, a_strict_table_explains_what_is_missing)
{
	char msg[256];

	lua_pushglobaltable(L);
	sandbox_strict(L, -1, explain);
	lua_pop(L, 1);
	cr_expect_eq(run("local x = 1\nreturn missing_thing", msg, sizeof msg),
	    LUA_ERRRUN);
	cr_expect(strstr(msg, ":2: no such thing as missing_thing") != NULL,
	    "%s", msg);
	cr_expect_eq(run("return _G[1]", msg, sizeof msg), LUA_ERRRUN);
	cr_expect(strstr(msg, "no such thing as that") != NULL, "%s", msg);
	cr_expect_eq(run("return rawget(_G, 'x') == nil and type(print)",
	    msg, sizeof msg), LUA_OK, "%s", msg);
}
