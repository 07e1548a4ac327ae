/*
 * Loading the declarative Lua configuration: reading the file, running it
 * in the sandbox, the DSL (service, queue, notify, http, env) and the
 * diagnostics.
 *
 * The file runs once in a fresh sandbox (core/sandbox.h): a capped
 * allocator, a time budget, an environment holding only the DSL and safe
 * base functions, and an error on reading any undefined global.  The DSL
 * functions do not validate anything: they only remember each block, its
 * name and the line it was written on.  Once the chunk has run,
 * validate_loaded() (validate.c) walks the remembered tables with raw
 * accesses only (no user code runs again) and builds the C structs.
 * Problems are collected, not raised, so one run reports every mistake in
 * the file.
 */
#include "private.h"
#include "../core/trust.h"
#include "../core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

static const char *const forbidden[] = {
	"os", "io", "require", "load", "dofile", "loadfile", "debug",
	"package", "collectgarbage", "loadstring", "print", "setmetatable",
	"getmetatable", "coroutine", NULL
};

/* The safe base functions copied into the sandbox. */
static const char *const safe_base[] = {
	"assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal",
	"rawlen", "rawget", "select", "tonumber", "tostring", "type",
	"xpcall", "_VERSION", NULL
};

static const char *const unsafe_string[] = { "find", "match", "gmatch",
    "gsub", "dump", NULL };

static const char *const top_keys[] = { "interval", "runbook_dirs",
    "ssh_config", "ssh_timeout",
    "resolve_after", "deadman", NULL };

/* Diagnostics. */

void
load_diag(struct loader *ld, int line, const char *fmt, ...)
{
	char msg[LK_ERR_MAX];
	va_list ap;

	if (ld->ndiags >= CONFIG_MAX_ERRORS) {
		ld->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ld->diags = lk_xrealloc(ld->diags, (ld->ndiags + 1) *
	    sizeof *ld->diags);
	ld->diags[ld->ndiags].line = line;
	ld->diags[ld->ndiags].seq = ld->ndiags;
	ld->diags[ld->ndiags].msg = lk_xstrdup(msg);
	ld->ndiags++;
}

static int
diag_cmp(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Records a Lua error message.  Lua prefixes it with "config:LINE: "; the
 * line is kept apart so that every message gets the real path.
 */
static void
diag_lua(struct loader *ld, const char *msg)
{
	size_t n = strlen(CHUNK_NAME);
	char *end;
	long line;

	if (msg == NULL) {
		load_diag(ld, 0, "error object is not a string");
		return;
	}
	if (strncmp(msg, CHUNK_NAME ":", n + 1) == 0) {
		line = strtol(msg + n + 1, &end, 10);
		if (end != msg + n + 1 && *end == ':') {
			end++;
			while (*end == ' ')
				end++;
			load_diag(ld, (int)line, "%s", end);
			return;
		}
	}
	load_diag(ld, 0, "%s", msg);
}

/* Edit distance with transpositions, for "did you mean". */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[32][32];

	if (la >= 32 || lb >= 32)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* The known word within two edits of s, or NULL. */
const char *
load_closest(const char *s, const char *const *known)
{
	const char *best = NULL;
	size_t bestd = 3;

	for (size_t i = 0; known[i] != NULL; i++) {
		size_t dd = distance(s, known[i]);

		if (dd < bestd) {
			bestd = dd;
			best = known[i];
		}
	}
	return best;
}

int
load_in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++) {
		if (strcmp(s, list[i]) == 0)
			return 1;
	}
	return 0;
}

/* The sandbox. */

/*
 * What the loader copies out of Lua into C counts against the memory cap:
 * otherwise one 1 MiB string named by a thousand services, or listed a
 * thousand times in runbook_dirs, becomes a gigabyte of C copies.  Raises a
 * Lua error, so callers charge before they allocate.
 */
void
load_charge(lua_State *L, size_t n)
{
	if (sandbox_charge(L, n) != 0)
		luaL_error(L, "configuration needs more than %d MiB of memory "
		    "(stopped)", (int)(CONFIG_MAX_MEMORY / (1024 * 1024)));
}

/*
 * Services, queues and notifiers in one file.  Validation compares every
 * name with the ones before it, so a loop defining a million of them would
 * take hours, not just memory.
 */
#define MAX_BLOCKS 5000

/* The line of the Lua code calling the running C function. */
static int
caller_line(lua_State *L)
{
	lua_Debug ar;

	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar))
		return ar.currentline;
	return 0;
}

/* Why reading the undefined global at key is an error. */
static void
explain_global(lua_State *L, int key, char *buf, size_t len)
{
	static const char *const globals[] = { "service", "queue", "notify",
	    "http", "env", "interval", "runbook_dirs", "ssh_config",
	    "ssh_timeout", "resolve_after", "deadman", NULL };
	const char *name = lua_type(L, key) == LUA_TSTRING ?
	    lua_tostring(L, key) : NULL;
	const char *near;

	if (name == NULL)
		snprintf(buf, len, "undefined variable");
	else if (load_in_list(name, forbidden))
		snprintf(buf, len, "\"%s\" is not available in a "
		    "configuration file (it runs in a sandbox)", name);
	else if ((near = load_closest(name, globals)) != NULL)
		snprintf(buf, len, "undefined variable \"%s\" (did you "
		    "mean \"%s\"?)", name, near);
	else
		snprintf(buf, len, "undefined variable \"%s\"", name);
}

static int
env_newindex(lua_State *L)
{
	struct loader *ld = loader_of(L);
	const char *name = lua_type(L, 2) == LUA_TSTRING ?
	    lua_tostring(L, 2) : NULL;
	int line = caller_line(L);
	const char *near;

	if (name != NULL && strcmp(name, "interval") == 0)
		ld->interval_line = line;
	else if (name != NULL && strcmp(name, "runbook_dirs") == 0)
		ld->runbook_dirs_line = line;
	else if (name != NULL && strcmp(name, "ssh_config") == 0)
		ld->ssh_config_line = line;
	else if (name != NULL && strcmp(name, "ssh_timeout") == 0)
		ld->ssh_timeout_line = line;
	else if (name != NULL && strcmp(name, "resolve_after") == 0)
		ld->resolve_after_line = line;
	else if (name != NULL && strcmp(name, "deadman") == 0)
		ld->deadman_line = line;
	else if (name == NULL)
		load_diag(ld, line, "unknown setting (global names must be "
		    "strings)");
	else if ((near = load_closest(name, top_keys)) != NULL)
		load_diag(ld, line, "unknown setting \"%s\" (did you mean "
		    "\"%s\"?)", name, near);
	else
		load_diag(ld, line, "unknown setting \"%s\" (use \"local\" "
		    "for helper variables)", name);
	lua_rawset(L, 1);
	return 0;
}

/* The body of service "x" { ... } (or queue, or notify): upvalue 1 is the
 * block's index. */
static int
dsl_body(lua_State *L)
{
	struct loader *ld = loader_of(L);
	size_t i = (size_t)lua_tointeger(L, lua_upvalueindex(1));
	struct block *b = &ld->blocks[i];
	const char *kind = block_kind_name(b->kind);
	int ref;

	if (b->ref != LUA_NOREF) {
		load_diag(ld, caller_line(L), "%s \"%s\" has two bodies",
		    kind, b->name);
		return 0;
	}
	if (lua_type(L, 1) != LUA_TTABLE) {
		load_diag(ld, caller_line(L), "%s \"%s\": expected a table "
		    "{ ... } after the name, got %s", kind, b->name,
		    luaL_typename(L, 1));
		/* Said once: validation must not add "has no body". */
		b->ref = LUA_REFNIL;
		return 0;
	}
	lua_settop(L, 1);
	ref = luaL_ref(L, LUA_REGISTRYINDEX);
	/* luaL_ref may have run the collector, not moved ld->blocks. */
	ld->blocks[i].ref = ref;
	return 0;
}

/* Stands in for the body of a block whose name was already refused. */
static int
dsl_noop(lua_State *L)
{
	(void)L;
	return 0;
}

static int
dsl_block(lua_State *L, enum block_kind kind)
{
	struct loader *ld = loader_of(L);
	const char *what = block_kind_name(kind);
	int line = caller_line(L);
	struct block *b;

	if (lua_type(L, 1) != LUA_TSTRING || lua_rawlen(L, 1) == 0) {
		load_diag(ld, line, "%s needs a name: %s \"name\" { ... }, "
		    "got %s", what, what, lua_type(L, 1) == LUA_TSTRING ?
		    "an empty string" : luaL_typename(L, 1));
		lua_pushcfunction(L, dsl_noop);
		return 1;
	}
	if (ld->nblocks >= MAX_BLOCKS)
		return luaL_error(L, "more than %d services and queues",
		    MAX_BLOCKS);
	/* Push the closure and charge first: they are all that can fail. */
	lua_pushinteger(L, (lua_Integer)ld->nblocks);
	lua_pushcclosure(L, dsl_body, 1);
	load_charge(L, sizeof *ld->blocks + lua_rawlen(L, 1) + 1);
	/*
	 * Grown geometrically: a file may define thousands, and growing by
	 * one copies the whole list every time where realloc cannot grow in
	 * place (under ASan, never), which is quadratic.
	 */
	if (ld->nblocks == ld->blocks_cap) {
		ld->blocks_cap = ld->blocks_cap ? 2 * ld->blocks_cap : 16;
		ld->blocks = lk_xrealloc(ld->blocks, ld->blocks_cap *
		    sizeof *ld->blocks);
	}
	b = &ld->blocks[ld->nblocks++];
	b->kind = kind;
	b->name = lk_xstrdup(lua_tostring(L, 1));
	b->line = line;
	b->ref = LUA_NOREF;
	return 1;
}

static int
dsl_service(lua_State *L)
{
	return dsl_block(L, BLOCK_SERVICE);
}

static int
dsl_queue(lua_State *L)
{
	return dsl_block(L, BLOCK_QUEUE);
}

static int
dsl_notify(lua_State *L)
{
	return dsl_block(L, BLOCK_NOTIFY);
}

/* http { ... } marks its table; the service validates it later. */
static int
dsl_http(lua_State *L)
{
	if (lua_type(L, 1) != LUA_TTABLE) {
		load_diag(loader_of(L), caller_line(L), "http needs a table: "
		    "http { url = \"...\" }, got %s", luaL_typename(L, 1));
		lua_pushnil(L);
		return 1;
	}
	lua_settop(L, 1);
	luaL_setmetatable(L, HTTP_MT);
	return 1;
}

int
load_env_name_ok(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	}
	return 1;
}

/*
 * env("NAME") names an environment variable; its value is never read here,
 * so a secret stays out of the file and out of lookout's memory until the
 * probe needs it.
 */
static int
dsl_env(lua_State *L)
{
	if (lua_type(L, 1) != LUA_TSTRING ||
	    !load_env_name_ok(lua_tostring(L, 1))) {
		load_diag(loader_of(L), caller_line(L), "env needs the name of "
		    "an environment variable: env(\"NAME\")");
		lua_pushnil(L);
		return 1;
	}
	lua_createtable(L, 0, 1);
	lua_pushvalue(L, 1);
	lua_setfield(L, -2, "name");
	luaL_setmetatable(L, ENV_MT);
	return 1;
}

/* Builds the sandbox's environment; runs protected. */
static int
sandbox_setup(lua_State *L)
{
	static const struct {
		const char *name;
		lua_CFunction open;
	} libs[] = {
		{ "string", luaopen_string },
		{ "table", luaopen_table },
		{ "math", luaopen_math },
		{ "utf8", luaopen_utf8 },
	};
	struct loader *ld = loader_of(L);
	int env;

	luaL_requiref(L, LUA_GNAME, luaopen_base, 0);
	lua_newtable(L);
	env = lua_gettop(L);
	for (size_t i = 0; safe_base[i] != NULL; i++) {
		lua_getfield(L, env - 1, safe_base[i]);
		lua_setfield(L, env, safe_base[i]);
	}
	for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
		luaL_requiref(L, libs[i].name, libs[i].open, 0);
		lua_setfield(L, env, libs[i].name);
	}
	/*
	 * string.rep and table.sort keep to the budget (core/sandbox.h).  A
	 * configuration has no use for pattern matching, so neither
	 * string.find nor ("x"):find exists.
	 */
	lua_getfield(L, env, "string");
	sandbox_open_string(L, -1);
	for (size_t i = 0; unsafe_string[i] != NULL; i++) {
		lua_pushnil(L);
		lua_setfield(L, -2, unsafe_string[i]);
	}
	lua_pop(L, 1);
	lua_getfield(L, env, "table");
	sandbox_open_table(L, -1);
	lua_pop(L, 1);
	lua_pushcfunction(L, dsl_service);
	lua_setfield(L, env, "service");
	lua_pushcfunction(L, dsl_queue);
	lua_setfield(L, env, "queue");
	lua_pushcfunction(L, dsl_notify);
	lua_setfield(L, env, "notify");
	lua_pushcfunction(L, dsl_http);
	lua_setfield(L, env, "http");
	lua_pushcfunction(L, dsl_env);
	lua_setfield(L, env, "env");

	sandbox_strict(L, env, explain_global);
	lua_getmetatable(L, env);
	lua_pushcfunction(L, env_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pop(L, 1);

	luaL_newmetatable(L, HTTP_MT);
	luaL_newmetatable(L, ENV_MT);
	lua_pop(L, 2);

	lua_pushvalue(L, env);
	ld->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return 0;
}

/* Records why a protected call failed; pops the message. */
static void
report_failure(struct loader *ld, lua_State *L, int rc)
{
	if (rc == LUA_ERRMEM)
		load_diag(ld, 0, "configuration needs more than %u MiB of "
		    "memory (stopped)", CONFIG_MAX_MEMORY / (1024 * 1024));
	else
		diag_lua(ld, lua_tostring(L, -1));
	lua_pop(L, 1);
}

static void
loader_finish(struct loader *ld, struct config_diags *diags,
    struct lk_err *err)
{
	if (ld->ndiags > 0)
		qsort(ld->diags, ld->ndiags, sizeof *ld->diags, diag_cmp);
	for (size_t i = 0; i < ld->ndiags; i++) {
		char *line = ld->diags[i].line > 0 ?
		    lk_xasprintf("%s:%d: %s", ld->path, ld->diags[i].line,
		    ld->diags[i].msg) :
		    lk_xasprintf("%s: %s", ld->path, ld->diags[i].msg);

		if (i == 0)
			lk_fail(err, LK_EINPUT, "%s", line);
		if (diags != NULL) {
			diags->lines = lk_xrealloc(diags->lines,
			    (diags->n + 1) * sizeof *diags->lines);
			diags->lines[diags->n++] = line;
		} else {
			free(line);
		}
		free(ld->diags[i].msg);
	}
	if (diags != NULL)
		diags->dropped += ld->dropped;
	free(ld->diags);
	for (size_t i = 0; i < ld->nblocks; i++)
		free(ld->blocks[i].name);
	free(ld->blocks);
}

enum lk_code
config_load_buffer(const char *path, const char *buf, size_t len,
    struct config **cfgp, struct config_diags *diags, struct lk_err *err)
{
	/*
	 * The budget is CPU time, not time on the clock: "runaway" is about
	 * what the file makes lookout do, and a busy machine (or a process
	 * stopped and continued) must not make a valid configuration fail.
	 * Nothing a configuration can do waits without using CPU.
	 */
	struct sandbox_budget budget = {
		.cpu_ms = CONFIG_MAX_MS,
		.instructions = CONFIG_MAX_INSTRUCTIONS,
	};
	char why[160];
	struct loader ld = { .path = path, .env_ref = LUA_NOREF };
	struct sandbox *sb;
	lua_State *L;
	int rc, chunk_ok = 0;
	int failed;

	*cfgp = NULL;
	ld.cfg = lk_xcalloc(1, sizeof *ld.cfg);
	ld.cfg->path = lk_xstrdup(path);
	ld.cfg->interval_ms = 5000;
	ld.cfg->ssh_timeout_ms = CONFIG_SSH_TIMEOUT_MS;
	ld.cfg->resolve_after_ms = -1;

	if ((sb = sandbox_new(CONFIG_MAX_MEMORY, &ld)) == NULL) {
		config_free(&ld.cfg);
		return lk_fail(err, LK_ENOMEM, "load config %s: out of "
		    "memory", path);
	}
	L = sandbox_lua(sb);
	ld.default_scope = geteuid() == 0 ? CONFIG_SCOPE_SYSTEM :
	    CONFIG_SCOPE_USER;
	/* One budget for the whole load, as the file sees it. */
	snprintf(why, sizeof why, "configuration still running after %d Lua "
	    "instructions or %d ms of CPU time (an endless loop?)",
	    CONFIG_MAX_INSTRUCTIONS, CONFIG_MAX_MS);
	budget.why = why;
	sandbox_slice_begin(L, &budget);
	lua_pushcfunction(L, sandbox_setup);
	if ((rc = sandbox_pcall(L, 0, 0)) != LUA_OK) {
		report_failure(&ld, L, rc);
		goto done;
	}
	/* Text only: a precompiled chunk could crash the VM. */
	rc = luaL_loadbufferx(L, buf, len, "=" CHUNK_NAME, "t");
	if (rc != LUA_OK) {
		report_failure(&ld, L, rc);
		goto done;
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, ld.env_ref);
	lua_setupvalue(L, -2, 1);
	rc = sandbox_pcall(L, 0, 0);
	if (rc != LUA_OK)
		report_failure(&ld, L, rc);
	else
		chunk_ok = 1;
	lua_pushcfunction(L, validate_loaded);
	lua_pushboolean(L, chunk_ok);
	if ((rc = sandbox_pcall(L, 1, 0)) != LUA_OK)
		report_failure(&ld, L, rc);
done:
	sandbox_slice_end(L);
	sandbox_free(&sb);
	failed = ld.ndiags > 0;
	loader_finish(&ld, diags, err);
	if (failed) {
		config_free(&ld.cfg);
		return LK_EINPUT;
	}
	*cfgp = ld.cfg;
	return LK_OK;
}

/* Bigger than any sensible configuration; stops a wrong file early. */
#define CONFIG_MAX_FILE (1024 * 1024)

enum lk_code
config_load(const char *path, struct config **cfgp,
    struct config_diags *diags, struct lk_err *err)
{
	struct lk_buf b = { 0 };
	struct lk_err e = { 0 };
	enum lk_code code;

	*cfgp = NULL;
	/* A file only root and the invoker can write, on a path only they
	 * can change, and a regular one: core/trust.h. */
	code = trust_read("config", path, geteuid(), CONFIG_MAX_FILE, &b,
	    &e);
	if (code == LK_OK && b.len > CONFIG_MAX_FILE)
		code = lk_fail(&e, LK_EIO, "config %s: larger than 1 MiB, not "
		    "a configuration file", path);
	if (code != LK_OK) {
		if (err != NULL)
			*err = e;
		if (diags != NULL) {
			diags->lines = lk_xrealloc(diags->lines,
			    (diags->n + 1) * sizeof *diags->lines);
			diags->lines[diags->n++] = lk_xstrdup(e.msg);
		}
		lk_buf_free(&b);
		return code;
	}
	code = config_load_buffer(path, b.s != NULL ? b.s : "", b.len, cfgp,
	    diags, err);
	lk_buf_free(&b);
	return code;
}
