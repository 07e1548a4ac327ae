/* core/sandbox: the one Lua sandbox of the configuration and the runbooks. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "loop.h"
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
	cr_expect_eq(sandbox_stopped(sb, NULL), SANDBOX_STOP_BUDGET);
	/* The next slice starts afresh, and outside one nothing stops. */
	b.instructions = 0;
	b.cpu_ms = 60000;
	sandbox_slice_begin(L, &b);
	cr_expect_eq(sandbox_stopped(sb, NULL), SANDBOX_RUNNING);
	cr_expect_eq(run("for i = 1, 1e6 do end", msg, sizeof msg), LUA_OK,
	    "%s", msg);
	sandbox_slice_end(L);
	cr_expect_eq(run("for i = 1, 3e6 do end", msg, sizeof msg), LUA_OK,
	    "%s", msg);
}

Test(sandbox, either_clock_stops_a_loop)
{
	const struct sandbox_budget budgets[] = {
		{ .cpu_ms = 50, .why = "too long" },
		{ .wall_ms = 50, .why = "too long" },
	};
	char msg[256];

	for (size_t i = 0; i < 2; i++) {
		sandbox_slice_begin(L, &budgets[i]);
		cr_expect_eq(run("while true do end", msg, sizeof msg),
		    LUA_ERRRUN);
		sandbox_slice_end(L);
		cr_expect(strstr(msg, ":1: too long") != NULL, "%s", msg);
	}
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

/* --- the guarded library functions ------------------------------------------ */

/*
 * Each expression runs in a state with Lua's own string and table
 * libraries and in the sandbox with the guarded ones: the results (values
 * and types, or the error message of a pcall) must be the same.
 */
static const char *const same_as_lua[] = {
	"return ('hello world'):find('o w')",
	"return ('hello world'):find('o', 5)",
	"return ('hello world'):find('l+')",
	"return ('hello'):find('l', -2)",
	"return ('hello'):find('', 10)",
	"return ('hello'):find('', 6)",
	"return ('hello'):find('', -100)",
	"return ('a.b'):find('.', 1, true)",
	"return ('a+b'):find('+', 1, true)",
	"return ('a\\0b'):find('\\0', 1, true)",
	"return ('abc'):find('b', 10)",
	"return ('hello world from Lua'):match('^(%w+)')",
	"return ('hello world'):match('^(%w+)', 7)",
	"return ('key = value'):match('(%w+)%s*=%s*(%w+)')",
	"return ('  trim  '):match('^%s*(.-)%s*$')",
	"return ('f(a(b)c)d'):match('%b()')",
	"return ('THE (quick) fox'):find('%f[%a]%a+', 5)",
	"return ('hello'):match('()ll()')",
	"return ('abc'):match('((a)(b))')",
	"return ('aaa'):match('a-b')",
	"return ('aaab'):match('a-b')",
	"return ('aaab'):match('^a*ab$')",
	"return ('ab'):match('a?b?c?$')",
	"return ('[test]'):match('%[(.-)%]')",
	"return ('2024-01-05'):match('(%d+)-(%d+)-(%d+)')",
	"return ('abcabc'):find('(abc)%1')",
	"return ('a-z'):find('[%-]')",
	"return ('x9_Z'):match('[%w_]+')",
	"return ('x9_Z'):match('[^%d]+')",
	"return ('AbC'):match('[a-z]')",
	"return ('\\1\\2abc'):match('%c+')",
	"return ('p.q'):match('%p')",
	"return ('$a$'):match('$a%$$')",
	"return ('x=1, y=2'):gsub('(%w+)=(%w+)', '%2=%1')",
	"return ('hello world'):gsub('o', {o = '0'})",
	"return ('hello world'):gsub('%w+', function(w) return w:upper() end)",
	"return ('hello world'):gsub('%w+', function(w) return nil end)",
	"return ('abc'):gsub('', '-')",
	"return ('abc'):gsub('%w', '%0%0', 2)",
	"return ('abc'):gsub('%w', '%%')",
	"return ('aaa'):gsub('^a', 'b')",
	"return ('hello'):gsub('()', '%1')",
	"return ('abc'):gsub('.', {a = 1})",
	("local t = {} for k, v in ('a=1, b=2'):gmatch('(%w+)=(%w+)') do "
	    "t[#t + 1] = k .. v end return table.concat(t, ',')"),
	("local t = {} for w in ('one two three'):gmatch('%a+', 5) do "
	    "t[#t + 1] = w end return table.concat(t, ',')"),
	("local t = {} for w in ('abc'):gmatch('x*') do "
	    "t[#t + 1] = '[' .. w .. ']' end return table.concat(t)"),
	("local t = {} for a, b in ('abc'):gmatch('()(.)') do "
	    "t[#t + 1] = a .. b end return table.concat(t)"),
	"return pcall(string.find, 'a', '(')",
	"return pcall(string.find, 'a', '%')",
	"return pcall(string.find, 'a', '[a')",
	"return pcall(string.find, 'a', ')')",
	"return pcall(string.find, 'a', '%b')",
	"return pcall(string.find, 'a', '%fx')",
	"return pcall(string.match, 'a', '%1')",
	"return pcall(string.match, 'a', '(a)%2')",
	"return pcall(string.gsub, 'a', 'a', '%2')",
	"return pcall(string.gsub, 'a', 'a', '%x')",
	"return pcall(string.gsub, 'a', 'a', true)",
	"return pcall(string.gsub, 'a', 'a', {a = {}})",
	"return pcall(string.gsub, 'ab', '.', {b = true})",
	("return pcall(string.match, string.rep('a', 300), "
	    "string.rep('a?', 300) .. string.rep('a', 300))"),
	"return pcall(string.match, 'a', string.rep('()', 33))",
	"return pcall(string.find)",
	"return pcall(string.rep)",
	"return pcall(string.rep, 'x', 2^40)",
	"return ('x'):rep(3, ','), ('ab'):rep(0), (''):rep(5), ('ab'):rep(-1)",
	"local t = {5, 3, 1, 4, 2} table.sort(t) return table.concat(t, ',')",
	("local t = {'b', 'c', 'a'} table.sort(t, function(a, b) "
	    "return a > b end) return table.concat(t, ',')"),
	"return pcall(table.sort, {3, 1, 'x'})",
	"return pcall(table.sort, {1, 2}, 3)",
	"return pcall(table.sort, 'x')",
	"return string.dump == nil",
};

/* Runs src in L1 and returns its results as one line of text. */
static char *
results(lua_State *L1, const char *src)
{
	static const char ser[] =
	    "local out = {}\n"
	    "for i = 1, select('#', ...) do\n"
	    "  local v = select(i, ...)\n"
	    "  out[#out + 1] = type(v) .. ':' .. tostring(v)\n"
	    "end\n"
	    "return table.concat(out, ' | ')\n";
	char *text;

	cr_assert_eq(luaL_loadstring(L1, ser), LUA_OK);
	cr_assert_eq(luaL_loadstring(L1, src), LUA_OK, "%s", src);
	if (lua_pcall(L1, 0, LUA_MULTRET, 0) != LUA_OK)
		return strdup(lua_tostring(L1, -1));
	cr_assert_eq(lua_pcall(L1, lua_gettop(L1) - 1, 1, 0), LUA_OK);
	text = strdup(lua_tostring(L1, -1));
	lua_settop(L1, 0);
	return text;
}

Test(sandbox, the_guarded_library_gives_what_lua_gives)
{
	lua_State *lua = luaL_newstate();

	luaL_openlibs(lua);
	lua_getglobal(lua, "string");
	lua_pushnil(lua);
	lua_setfield(lua, -2, "dump");	/* the one known difference */
	lua_pop(lua, 1);
	lua_getglobal(L, "string");
	sandbox_open_string(L, -1);
	lua_getglobal(L, "table");
	sandbox_open_table(L, -1);
	lua_settop(L, 0);
	for (size_t i = 0; i < sizeof same_as_lua / sizeof *same_as_lua; i++) {
		char *want = results(lua, same_as_lua[i]);
		char *got = results(L, same_as_lua[i]);

		cr_expect_str_eq(got, want, "%s", same_as_lua[i]);
		free(want);
		free(got);
	}
	lua_close(lua);
}

/* Loads the guarded libraries into L and runs src in a slice of budget. */
static int
run_guarded(const char *src, const struct sandbox_budget *b, char *msg,
    size_t len)
{
	int rc;

	lua_getglobal(L, "string");
	sandbox_open_string(L, -1);
	lua_getglobal(L, "table");
	sandbox_open_table(L, -1);
	lua_settop(L, 0);
	sandbox_slice_begin(L, b);
	rc = run(src, msg, len);
	sandbox_slice_end(L);
	return rc;
}

/*
 * Each of these ran for tens of seconds in Lua's own matcher (in one call,
 * where the hook never fires); without the guard the suite's timeout would
 * end this test.
 */
Test(sandbox, the_matcher_stops_a_catastrophic_pattern)
{
	static const char *const costly[] = {
		"return string.rep('(', 400000):find('%b()')",
		("return string.rep('a', 1000000):find(string.rep('[a]', 3000) "
		    ".. 'b')"),
		"return string.rep('a', 20000):find('(.-)%1b')",
		"for w in string.rep('a', 20000):gmatch('(.-)%1b') do end",
		"return string.rep('a', 20000):gsub('(.-)%1b', '')",
		"return string.rep('a', 20000):match('(.-)(.-)(.-)x')",
	};
	struct sandbox_budget b = { .cpu_ms = 100, .why = "out of time" };
	char msg[512];

	for (size_t i = 0; i < sizeof costly / sizeof *costly; i++) {
		cr_expect_eq(run_guarded(costly[i], &b, msg, sizeof msg),
		    LUA_ERRRUN, "%s", costly[i]);
		cr_expect(strstr(msg, ": out of time; in string.") != NULL &&
		    strstr(msg, ": the pattern is too costly for its subject")
		    != NULL, "%s: %s", costly[i], msg);
		cr_expect_eq(sandbox_stopped(sb, NULL), SANDBOX_STOP_BUDGET);
	}
}

/* string.rep of nothing looped once per (empty) copy: for hours. */
Test(sandbox, rep_of_nothing_is_nothing_at_once)
{
	struct sandbox_budget b = { .cpu_ms = 60000 };
	char msg[256];

	cr_expect_eq(run_guarded("assert(string.rep('', 2^53) == '')\n"
	    "assert(string.rep('', 2^53, '') == '')\n", &b, msg, sizeof msg),
	    LUA_OK, "%s", msg);
}

Test(sandbox, sort_keeps_to_the_budget)
{
	struct sandbox_budget b = { .cpu_ms = 20, .why = "out of time" };
	char msg[512];

	sandbox_free(&sb);
	sb = sandbox_new(64u * 1024 * 1024, NULL);
	L = sandbox_lua(sb);
	luaL_openlibs(L);
	/* Built outside the slice: only the sort runs in it. */
	cr_assert_eq(run("t = {} for i = 1, 1000000 do "
	    "t[i] = (i * 7919) % 1000003 end", msg, sizeof msg), LUA_OK, "%s",
	    msg);
	cr_expect_eq(run_guarded("table.sort(t)", &b, msg, sizeof msg),
	    LUA_ERRRUN);
	cr_expect(strstr(msg, "out of time; in table.sort") != NULL, "%s", msg);
	/* A C function as the comparison never runs a Lua instruction. */
	cr_expect_eq(run_guarded("table.sort(t, rawequal)", &b, msg,
	    sizeof msg), LUA_ERRRUN);
	cr_expect(strstr(msg, "out of time; in table.sort") != NULL, "%s", msg);
}

static int interrupts;

static void
on_interrupt(struct loop *l, int signo, void *data)
{
	(void)l;
	(void)data;
	cr_expect_eq(signo, SIGUSR1);
	interrupts++;
}

/*
 * An interrupting signal stops the code at once, in the VM or inside the
 * matcher, before the loop has even called its callback.
 */
Test(sandbox, an_interrupt_stops_the_code_before_the_loop_sees_it)
{
	struct sandbox_budget b = { .cpu_ms = 600000, .why = "out of time" };
	struct loop *loop = loop_new();
	char msg[512];

	cr_assert_eq(loop_add_interrupt(loop, SIGUSR1, on_interrupt, NULL), 0);
	cr_expect_eq(loop_interrupted(), 0);
	raise(SIGUSR1);
	cr_expect_eq(loop_interrupted(), SIGUSR1);
	cr_expect_eq(run_guarded("while true do end", &b, msg, sizeof msg),
	    LUA_ERRRUN);
	cr_expect(strstr(msg, ":1: interrupted by signal") != NULL, "%s", msg);
	cr_expect_eq(sandbox_stopped(sb, NULL), SANDBOX_STOP_SIGNAL);
	cr_expect_eq(run_guarded("return string.rep('(', 400000):find('%b()')",
	    &b, msg, sizeof msg), LUA_ERRRUN);
	cr_expect(strstr(msg, "interrupted by signal") != NULL &&
	    strstr(msg, "; in string.find") != NULL, "%s", msg);
	/* Once the loop has called back, the code runs again. */
	cr_expect_eq(interrupts, 0);
	cr_assert_geq(loop_run_once(loop, 0), 0);
	cr_expect_eq(interrupts, 1);
	cr_expect_eq(loop_interrupted(), 0);
	cr_expect_eq(run_guarded("for i = 1, 1e6 do end", &b, msg, sizeof msg),
	    LUA_OK, "%s", msg);
	/* A signal watched without loop_add_interrupt does not interrupt. */
	loop_del_signal(loop, SIGUSR1);
	cr_assert_eq(loop_add_signal(loop, SIGUSR1, on_interrupt, NULL), 0);
	raise(SIGUSR1);
	cr_expect_eq(loop_interrupted(), 0);
	loop_free(&loop);
}
