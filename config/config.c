/*
 * Loading the declarative Lua configuration.
 *
 * The file runs once in a fresh, sandboxed Lua state: a capped allocator,
 * a count hook, an environment holding only the DSL (service, queue, http,
 * env) and safe base functions, and an error on reading any undefined
 * global.  The DSL functions do not validate anything: they only remember
 * each block, its name and the line it was written on.  Once the chunk has
 * run, validate() walks the remembered tables with raw accesses only (no
 * user code runs again) and builds the C structs.  Problems are collected,
 * not raised, so one run reports every mistake in the file.
 *
 * No Lua error is ever raised while C owns memory that nothing else
 * points to: everything validate() allocates is attached to the config
 * under construction first, and the config is freed whole on failure.
 */
#include "config.h"
#include "../core/sandbox.h"
#include "../core/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

/* Lua names the chunk this in its messages; we swap in the real path. */
#define CHUNK_NAME	"config"

#define HTTP_MT		"lookout.http"
#define ENV_MT		"lookout.env"

struct config {
	char *path;
	int64_t interval_ms;
	struct config_service *services;
	size_t nservices;
	struct config_queue *queues;
	size_t nqueues;
	char **runbook_dirs;
	size_t nrunbook_dirs;
};

enum block_kind { BLOCK_SERVICE, BLOCK_QUEUE };

/* A service or queue block as written, before validation. */
struct block {
	enum block_kind kind;
	char *name;
	int line;
	int ref;		/* registry reference to its table, or LUA_NOREF */
};

struct diag {
	int line;
	size_t seq;
	char *msg;
};

struct loader {
	const char *path;
	struct config *cfg;

	struct block *blocks;
	size_t nblocks;
	size_t blocks_cap;

	struct diag *diags;
	size_t ndiags;
	size_t dropped;

	int interval_line;
	int runbook_dirs_line;
	int env_ref;

	/* A service's scope when it names none.  As the no-config view
	 * does: root watches the system manager. */
	enum config_scope default_scope;
};

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

static const char *const top_keys[] = { "interval", "runbook_dirs", NULL };
static const char *const service_keys[] = { "unit", "scope", "check",
    "runbook", NULL };
static const char *const queue_keys[] = { "redis", "rabbitmq", "command",
    "warn", "crit", "stall_after", NULL };
static const char *const http_keys[] = { "url", "status", "json",
    "json_field", "body_contains", "max_latency_ms", "timeout_ms",
    "connect_timeout_ms", "insecure", "max_body", "headers", NULL };
static const char *const json_field_keys[] = { "path", "equals", NULL };
static const char *const redis_keys[] = { "url", "key", "paused_key", NULL };
static const char *const rabbitmq_keys[] = { "api", "vhost", "name", "user",
    "password_env", "password", NULL };
static const char *const command_keys[] = { "argv", "timeout_ms", NULL };

/* Diagnostics. */

static void
diag_add(struct loader *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
diag_add(struct loader *ld, int line, const char *fmt, ...)
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
		diag_add(ld, 0, "error object is not a string");
		return;
	}
	if (strncmp(msg, CHUNK_NAME ":", n + 1) == 0) {
		line = strtol(msg + n + 1, &end, 10);
		if (end != msg + n + 1 && *end == ':') {
			end++;
			while (*end == ' ')
				end++;
			diag_add(ld, (int)line, "%s", end);
			return;
		}
	}
	diag_add(ld, 0, "%s", msg);
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
static const char *
closest(const char *s, const char *const *known)
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

static int
in_list(const char *s, const char *const *list)
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
static void
charge(lua_State *L, size_t n)
{
	if (sandbox_charge(L, n) != 0)
		luaL_error(L, "configuration needs more than %d MiB of memory "
		    "(stopped)", (int)(CONFIG_MAX_MEMORY / (1024 * 1024)));
}

/*
 * Services and queues in one file.  Validation compares every name with
 * the ones before it, so a loop defining a million of them would take
 * hours, not just memory.
 */
#define MAX_BLOCKS 5000

static struct loader *
loader_of(lua_State *L)
{
	return sandbox_data(L);
}

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
	static const char *const globals[] = { "service", "queue", "http",
	    "env", "interval", "runbook_dirs", NULL };
	const char *name = lua_type(L, key) == LUA_TSTRING ?
	    lua_tostring(L, key) : NULL;
	const char *near;

	if (name == NULL)
		snprintf(buf, len, "undefined variable");
	else if (in_list(name, forbidden))
		snprintf(buf, len, "\"%s\" is not available in a "
		    "configuration file (it runs in a sandbox)", name);
	else if ((near = closest(name, globals)) != NULL)
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
	else if (name == NULL)
		diag_add(ld, line, "unknown setting (global names must be "
		    "strings)");
	else if ((near = closest(name, top_keys)) != NULL)
		diag_add(ld, line, "unknown setting \"%s\" (did you mean "
		    "\"%s\"?)", name, near);
	else
		diag_add(ld, line, "unknown setting \"%s\" (use \"local\" "
		    "for helper variables)", name);
	lua_rawset(L, 1);
	return 0;
}

/* The body of service "x" { ... }: upvalue 1 is the block's index. */
static int
dsl_body(lua_State *L)
{
	struct loader *ld = loader_of(L);
	size_t i = (size_t)lua_tointeger(L, lua_upvalueindex(1));
	struct block *b = &ld->blocks[i];
	const char *kind = b->kind == BLOCK_SERVICE ? "service" : "queue";
	int ref;

	if (b->ref != LUA_NOREF) {
		diag_add(ld, caller_line(L), "%s \"%s\" has two bodies",
		    kind, b->name);
		return 0;
	}
	if (lua_type(L, 1) != LUA_TTABLE) {
		diag_add(ld, caller_line(L), "%s \"%s\": expected a table "
		    "{ ... } after the name, got %s", kind, b->name,
		    luaL_typename(L, 1));
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
	const char *what = kind == BLOCK_SERVICE ? "service" : "queue";
	int line = caller_line(L);
	struct block *b;

	if (lua_type(L, 1) != LUA_TSTRING || lua_rawlen(L, 1) == 0) {
		diag_add(ld, line, "%s needs a name: %s \"name\" { ... }, "
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
	charge(L, sizeof *ld->blocks + lua_rawlen(L, 1) + 1);
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

/* http { ... } marks its table; the service validates it later. */
static int
dsl_http(lua_State *L)
{
	if (lua_type(L, 1) != LUA_TTABLE) {
		diag_add(loader_of(L), caller_line(L), "http needs a table: "
		    "http { url = \"...\" }, got %s", luaL_typename(L, 1));
		lua_pushnil(L);
		return 1;
	}
	lua_settop(L, 1);
	luaL_setmetatable(L, HTTP_MT);
	return 1;
}

static int
valid_env_name(const char *s)
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
	    !valid_env_name(lua_tostring(L, 1))) {
		diag_add(loader_of(L), caller_line(L), "env needs the name of "
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
	 * Pattern matching runs inside C, where the count hook never fires,
	 * and a pathological pattern backtracks for hours: a configuration
	 * has no use for it, so neither string.find nor ("x"):find exists.
	 */
	lua_getfield(L, env, "string");
	for (size_t i = 0; unsafe_string[i] != NULL; i++) {
		lua_pushnil(L);
		lua_setfield(L, -2, unsafe_string[i]);
	}
	lua_pop(L, 1);
	lua_pushcfunction(L, dsl_service);
	lua_setfield(L, env, "service");
	lua_pushcfunction(L, dsl_queue);
	lua_setfield(L, env, "queue");
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

/* Validation: raw reads of the remembered tables, no user code. */

struct vctx {
	struct loader *ld;
	lua_State *L;
	int line;
	char what[200];		/* "service \"x\"", or "" at the top */
};

static void
verr(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
verr(struct vctx *v, const char *fmt, ...)
{
	char msg[LK_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (v->what[0] != '\0')
		diag_add(v->ld, v->line, "%s: %s", v->what, msg);
	else
		diag_add(v->ld, v->line, "%s", msg);
}

static int
has_mt(lua_State *L, int idx, const char *name)
{
	int eq;

	if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx))
		return 0;
	luaL_getmetatable(L, name);
	eq = lua_rawequal(L, -1, -2);
	lua_pop(L, 2);
	return eq;
}

/* A type name for messages that knows the DSL's own values. */
static const char *
vtype(lua_State *L, int idx)
{
	if (has_mt(L, idx, HTTP_MT))
		return "http { }";
	if (has_mt(L, idx, ENV_MT))
		return "env()";
	return luaL_typename(L, idx);
}

/* Pushes t[key] (raw) and returns its type. */
static int
getf(lua_State *L, int t, const char *key)
{
	lua_pushstring(L, key);
	return lua_rawget(L, t);
}

static void
check_keys(struct vctx *v, int t, const char *pre, const char *const *known)
{
	lua_State *L = v->L;
	const char *k, *near;

	lua_pushnil(L);
	while (lua_next(L, t) != 0) {
		if (lua_type(L, -2) != LUA_TSTRING) {
			verr(v, "%sunexpected %s value without a key (write "
			    "key = value)", pre, vtype(L, -1));
		} else {
			k = lua_tostring(L, -2);
			if (!in_list(k, known)) {
				near = closest(k, known);
				if (near != NULL)
					verr(v, "unknown key \"%s%s\" (did you "
					    "mean \"%s\"?)", pre, k, near);
				else
					verr(v, "unknown key \"%s%s\"", pre, k);
			}
		}
		lua_pop(L, 1);
	}
}

/*
 * The opt_* readers return 1 when the key is set and valid (filling *out),
 * 0 when it is absent (reporting it if required), -1 when it is invalid
 * (reported).
 */
static int
opt_string(struct vctx *v, int t, const char *pre, const char *key,
    int required, char **out)
{
	lua_State *L = v->L;
	int ty = getf(L, t, key);
	size_t len;
	const char *s;

	if (ty == LUA_TNIL) {
		lua_pop(L, 1);
		if (required)
			verr(v, "%s%s is required", pre, key);
		return 0;
	}
	if (ty != LUA_TSTRING) {
		verr(v, "%s%s must be a string, got %s", pre, key,
		    vtype(L, -1));
		lua_pop(L, 1);
		return -1;
	}
	s = lua_tolstring(L, -1, &len);
	if (len == 0 || strlen(s) != len) {
		verr(v, "%s%s must not be empty or contain NUL bytes", pre,
		    key);
		lua_pop(L, 1);
		return -1;
	}
	charge(L, len + 1);
	*out = lk_xstrdup(s);
	lua_pop(L, 1);
	return 1;
}

static int
number_value(struct vctx *v, int idx, const char *pre, const char *key,
    int64_t *out)
{
	lua_State *L = v->L;
	int isint = 0;
	lua_Integer n;

	n = lua_tointegerx(L, idx, &isint);
	if (!isint || n < 0) {
		verr(v, "%s%s must be a whole number, 0 or more, got %.14g",
		    pre, key, (double)lua_tonumber(L, idx));
		return -1;
	}
	*out = n;
	return 1;
}

static int
opt_int(struct vctx *v, int t, const char *pre, const char *key, int64_t *out)
{
	lua_State *L = v->L;
	int ty = getf(L, t, key), rc;

	if (ty == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	if (ty != LUA_TNUMBER) {
		verr(v, "%s%s must be a number, got %s", pre, key,
		    vtype(L, -1));
		lua_pop(L, 1);
		return -1;
	}
	rc = number_value(v, -1, pre, key, out);
	lua_pop(L, 1);
	return rc;
}

static int
opt_duration(struct vctx *v, int t, const char *pre, const char *key,
    int64_t *out)
{
	lua_State *L = v->L;
	int ty = getf(L, t, key), rc = 1;

	if (ty == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	if (ty == LUA_TNUMBER) {
		rc = number_value(v, -1, pre, key, out);
	} else if (ty == LUA_TSTRING) {
		if (lk_parse_duration(lua_tostring(L, -1), out) != 0) {
			verr(v, "%s%s \"%s\" is not a duration (write \"500ms\", "
			    "\"5s\", \"5m\" or \"1h\")", pre, key,
			    lua_tostring(L, -1));
			rc = -1;
		}
	} else {
		verr(v, "%s%s must be a duration such as \"5s\" or a number "
		    "of milliseconds, got %s", pre, key, vtype(L, -1));
		rc = -1;
	}
	lua_pop(L, 1);
	return rc;
}

static int
opt_bool(struct vctx *v, int t, const char *pre, const char *key, int *out)
{
	lua_State *L = v->L;
	int ty = getf(L, t, key);

	if (ty == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	if (ty != LUA_TBOOLEAN) {
		verr(v, "%s%s must be true or false, got %s", pre, key,
		    vtype(L, -1));
		lua_pop(L, 1);
		return -1;
	}
	*out = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return 1;
}

/* Pushes t[key] if it is a table and returns 1; 0 if absent, -1 if not. */
static int
opt_table(struct vctx *v, int t, const char *pre, const char *key)
{
	lua_State *L = v->L;
	int ty = getf(L, t, key);

	if (ty == LUA_TTABLE && !has_mt(L, -1, ENV_MT) &&
	    !has_mt(L, -1, HTTP_MT))
		return 1;
	if (ty != LUA_TNIL)
		verr(v, "%s%s must be a table { ... }, got %s", pre, key,
		    vtype(L, -1));
	lua_pop(L, 1);
	return ty == LUA_TNIL ? 0 : -1;
}

/* scheme://rest with a non-empty rest, no spaces or control characters. */
static int
url_ok(const char *u, const char *const *schemes)
{
	size_t n;

	for (const char *p = u; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	}
	for (size_t i = 0; schemes[i] != NULL; i++) {
		n = strlen(schemes[i]);
		if (strncasecmp(u, schemes[i], n) == 0 &&
		    strncmp(u + n, "://", 3) == 0 && u[n + 3] != '\0' &&
		    (u[n + 3] != '/' || strcmp(schemes[i], "unix") == 0))
			return 1;
	}
	return 0;
}

static void
check_url(struct vctx *v, const char *pre, const char *key, char **url,
    const char *const *schemes, const char *expect)
{
	if (*url == NULL || url_ok(*url, schemes))
		return;
	verr(v, "%s%s \"%s\" is not a valid URL (expected %s)", pre, key,
	    *url, expect);
}

static const char *const http_schemes[] = { "http", "https", NULL };
static const char *const redis_schemes[] = { "redis", "rediss", "unix",
    NULL };

static void
json_quote(struct lk_buf *b, const char *s)
{
	lk_buf_addc(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			lk_buf_addc(b, '\\');
			lk_buf_addc(b, (char)c);
		} else if (c < 0x20) {
			lk_buf_printf(b, "\\u%04x", c);
		} else {
			lk_buf_addc(b, (char)c);
		}
	}
	lk_buf_addc(b, '"');
}

static void
validate_json_field(struct vctx *v, int t, struct config_http *h)
{
	lua_State *L = v->L;
	struct lk_buf b = { 0 };
	int ty;

	check_keys(v, t, "check.json_field.", json_field_keys);
	opt_string(v, t, "check.json_field.", "path", 1, &h->json_path);
	ty = getf(L, t, "equals");
	if (ty == LUA_TSTRING) {
		/* Quoting turns a control character into \u00XX. */
		charge(L, 6 * lua_rawlen(L, -1) + 3);
		json_quote(&b, lua_tostring(L, -1));
	} else if (ty == LUA_TBOOLEAN) {
		lk_buf_adds(&b, lua_toboolean(L, -1) ? "true" : "false");
	} else if (ty == LUA_TNUMBER && lua_isinteger(L, -1)) {
		lk_buf_printf(&b, "%lld", (long long)lua_tointeger(L, -1));
	} else if (ty == LUA_TNUMBER) {
		lk_buf_printf(&b, "%.17g", (double)lua_tonumber(L, -1));
	} else if (ty != LUA_TNIL) {
		verr(v, "check.json_field.equals must be a string, number or "
		    "boolean, got %s", vtype(L, -1));
	}
	h->json_equals = b.s;
	lua_pop(L, 1);
}

static int
header_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= ' ' || *s == ':' || *s == 0x7f)
			return 0;
	}
	return 1;
}

static void
validate_headers(struct vctx *v, int t, struct config_http *h)
{
	lua_State *L = v->L;
	struct config_header *hd;
	const char *name, *val;

	lua_pushnil(L);
	while (lua_next(L, t) != 0) {
		if (lua_type(L, -2) != LUA_TSTRING ||
		    !header_name_ok(lua_tostring(L, -2))) {
			verr(v, "check.headers: header names must be "
			    "strings without spaces or colons");
			lua_pop(L, 1);
			continue;
		}
		name = lua_tostring(L, -2);
		if (lua_type(L, -1) == LUA_TSTRING) {
			val = lua_tostring(L, -1);
			if (strpbrk(val, "\r\n") != NULL ||
			    strlen(val) != lua_rawlen(L, -1)) {
				verr(v, "check.headers.%s must not contain "
				    "line breaks or NUL bytes", name);
				lua_pop(L, 1);
				continue;
			}
		} else if (!has_mt(L, -1, ENV_MT)) {
			verr(v, "check.headers.%s must be a string or "
			    "env(\"NAME\"), got %s", name, vtype(L, -1));
			lua_pop(L, 1);
			continue;
		}
		charge(L, sizeof *hd + strlen(name) + 1);
		h->headers = lk_xrealloc(h->headers, (h->nheaders + 1) *
		    sizeof *h->headers);
		hd = &h->headers[h->nheaders++];
		memset(hd, 0, sizeof *hd);
		hd->name = lk_xstrdup(name);
		if (lua_type(L, -1) == LUA_TSTRING) {
			charge(L, lua_rawlen(L, -1) + 1);
			hd->value = lk_xstrdup(lua_tostring(L, -1));
		} else {
			getf(L, lua_absindex(L, -1), "name");
			charge(L, lua_rawlen(L, -1) + 1);
			hd->value_env = lk_xstrdup(lua_tostring(L, -1));
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
}

static void
validate_status(struct vctx *v, int t, struct config_http *h)
{
	lua_State *L = v->L;
	int ty = getf(L, t, "status"), idx = lua_gettop(L);
	lua_Integer n;
	size_t len;
	int ok;

	if (ty == LUA_TNIL) {
		h->status = lk_xcalloc(1, sizeof *h->status);
		h->status[0] = 200;
		h->nstatus = 1;
	} else if (ty == LUA_TNUMBER || (ty == LUA_TTABLE &&
	    !has_mt(L, idx, ENV_MT) && !has_mt(L, idx, HTTP_MT))) {
		len = ty == LUA_TNUMBER ? 1 : lua_rawlen(L, idx);
		if (len == 0)
			verr(v, "check.status must list at least one code");
		charge(L, len * sizeof *h->status);
		h->status = lk_xcalloc(len, sizeof *h->status);
		for (size_t i = 0; i < len; i++) {
			if (ty == LUA_TTABLE)
				lua_rawgeti(L, idx, (lua_Integer)i + 1);
			else
				lua_pushvalue(L, idx);
			n = lua_tointegerx(L, -1, &ok);
			if (lua_type(L, -1) != LUA_TNUMBER || !ok || n < 100 ||
			    n > 599) {
				verr(v, "check.status must be HTTP status "
				    "codes (100 to 599)");
				lua_pop(L, 1);
				break;
			}
			h->status[h->nstatus++] = (int)n;
			lua_pop(L, 1);
		}
	} else {
		verr(v, "check.status must be a number or a list of numbers, "
		    "got %s", vtype(L, idx));
	}
	lua_settop(L, idx - 1);
}

static void
validate_http(struct vctx *v, int t, struct config_http *h)
{
	const char *pre = "check.";

	h->timeout_ms = 2000;
	h->connect_timeout_ms = -1;
	h->max_latency_ms = -1;
	h->max_body = 1024 * 1024;

	check_keys(v, t, pre, http_keys);
	opt_string(v, t, pre, "url", 1, &h->url);
	check_url(v, pre, "url", &h->url, http_schemes, "http:// or https://");
	validate_status(v, t, h);
	opt_bool(v, t, pre, "json", &h->json);
	if (opt_table(v, t, pre, "json_field") == 1) {
		validate_json_field(v, lua_gettop(v->L), h);
		lua_pop(v->L, 1);
	}
	opt_string(v, t, pre, "body_contains", 0, &h->body_contains);
	opt_int(v, t, pre, "max_latency_ms", &h->max_latency_ms);
	opt_int(v, t, pre, "timeout_ms", &h->timeout_ms);
	opt_int(v, t, pre, "connect_timeout_ms", &h->connect_timeout_ms);
	opt_bool(v, t, pre, "insecure", &h->insecure);
	opt_int(v, t, pre, "max_body", &h->max_body);
	if (h->timeout_ms == 0)
		verr(v, "check.timeout_ms must be more than 0");
	if (opt_table(v, t, pre, "headers") == 1) {
		validate_headers(v, lua_gettop(v->L), h);
		lua_pop(v->L, 1);
	}
}

static int
has_unit_suffix(const char *name)
{
	static const char *const suffixes[] = { ".service", ".socket",
	    ".timer", ".target", ".mount", ".path", ".slice", ".scope", NULL };
	size_t n = strlen(name), m;

	for (size_t i = 0; suffixes[i] != NULL; i++) {
		m = strlen(suffixes[i]);
		if (n > m && strcmp(name + n - m, suffixes[i]) == 0)
			return 1;
	}
	return 0;
}

static void
validate_service(struct vctx *v, int t, struct config_service *s)
{
	lua_State *L = v->L;
	char *scope = NULL;

	check_keys(v, t, "", service_keys);
	if (opt_string(v, t, "", "unit", 0, &s->unit) == 0) {
		s->unit = has_unit_suffix(s->name) ? lk_xstrdup(s->name) :
		    lk_xasprintf("%s.service", s->name);
	}
	s->scope = v->ld->default_scope;
	if (opt_string(v, t, "", "scope", 0, &scope) == 1) {
		if (strcmp(scope, "user") == 0)
			s->scope = CONFIG_SCOPE_USER;
		else if (strcmp(scope, "system") == 0)
			s->scope = CONFIG_SCOPE_SYSTEM;
		else
			verr(v, "scope must be \"user\" or \"system\", got "
			    "\"%s\"", scope);
		free(scope);
	}
	if (getf(L, t, "check") != LUA_TNIL) {
		if (has_mt(L, -1, HTTP_MT)) {
			s->check = lk_xcalloc(1, sizeof *s->check);
			validate_http(v, lua_gettop(L), s->check);
		} else {
			verr(v, "check must be http { ... }, got %s",
			    vtype(L, -1));
		}
	}
	lua_pop(L, 1);
	opt_string(v, t, "", "runbook", 0, &s->runbook);
}

static void
validate_redis(struct vctx *v, int t, struct config_queue *q)
{
	check_keys(v, t, "redis.", redis_keys);
	opt_string(v, t, "redis.", "url", 1, &q->redis.url);
	check_url(v, "redis.", "url", &q->redis.url, redis_schemes,
	    "redis://, rediss:// or unix://");
	/* Without a key the probe looks for the usual layouts, queues:NAME
	 * (Laravel) and queue:NAME. */
	opt_string(v, t, "redis.", "key", 0, &q->redis.key);
	opt_string(v, t, "redis.", "paused_key", 0, &q->redis.paused_key);
}

static void
validate_rabbitmq(struct vctx *v, int t, struct config_queue *q)
{
	const char *pre = "rabbitmq.";

	check_keys(v, t, pre, rabbitmq_keys);
	if (getf(v->L, t, "password") != LUA_TNIL)
		verr(v, "rabbitmq.password is not allowed: put the password "
		    "in an environment variable and name it with "
		    "password_env");
	lua_pop(v->L, 1);
	opt_string(v, t, pre, "api", 1, &q->rabbitmq.api);
	check_url(v, pre, "api", &q->rabbitmq.api, http_schemes,
	    "http:// or https://");
	if (opt_string(v, t, pre, "vhost", 0, &q->rabbitmq.vhost) == 0)
		q->rabbitmq.vhost = lk_xstrdup("/");
	opt_string(v, t, pre, "name", 1, &q->rabbitmq.name);
	if (opt_string(v, t, pre, "user", 0, &q->rabbitmq.user) == 0)
		q->rabbitmq.user = lk_xstrdup("guest");
	if (opt_string(v, t, pre, "password_env", 0,
	    &q->rabbitmq.password_env) == 1 &&
	    !valid_env_name(q->rabbitmq.password_env))
		verr(v, "rabbitmq.password_env \"%s\" is not an environment "
		    "variable name", q->rabbitmq.password_env);
}

static void
validate_command(struct vctx *v, int t, struct config_queue *q)
{
	lua_State *L = v->L;
	int a;
	size_t n;

	q->command.timeout_ms = 2000;
	check_keys(v, t, "command.", command_keys);
	opt_int(v, t, "command.", "timeout_ms", &q->command.timeout_ms);
	if ((a = opt_table(v, t, "command.", "argv")) != 1) {
		if (a == 0)
			verr(v, "command.argv is required");
		return;
	}
	a = lua_gettop(L);
	n = lua_rawlen(L, a);
	if (n == 0)
		verr(v, "command.argv must list the program and its "
		    "arguments: { \"/path/to/program\", \"arg\" }");
	charge(L, (n + 1) * sizeof *q->command.argv);
	q->command.argv = lk_xcalloc(n + 1, sizeof *q->command.argv);
	for (size_t i = 0; i < n; i++) {
		if (lua_rawgeti(L, a, (lua_Integer)i + 1) != LUA_TSTRING) {
			verr(v, "command.argv[%zu] must be a string, got %s",
			    i + 1, vtype(L, -1));
			lua_pop(L, 1);
			break;
		}
		charge(L, lua_rawlen(L, -1) + 1);
		q->command.argv[q->command.argc++] =
		    lk_xstrdup(lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

static void
validate_queue(struct vctx *v, int t, struct config_queue *q)
{
	static const char *const sources[] = { "redis", "rabbitmq",
	    "command" };
	lua_State *L = v->L;
	int found = -1, rc;

	q->warn = q->crit = q->stall_after_ms = -1;
	check_keys(v, t, "", queue_keys);
	for (int i = 0; i < 3; i++) {
		rc = opt_table(v, t, "", sources[i]);
		if (rc == 0)
			continue;
		if (found >= 0) {
			verr(v, "has both %s and %s: give exactly one source",
			    sources[found], sources[i]);
			if (rc == 1)
				lua_pop(L, 1);
			continue;
		}
		found = i;
		if (rc < 0)
			continue;
		q->source = (enum config_queue_source)i;
		if (i == 0)
			validate_redis(v, lua_gettop(L), q);
		else if (i == 1)
			validate_rabbitmq(v, lua_gettop(L), q);
		else
			validate_command(v, lua_gettop(L), q);
		lua_pop(L, 1);
	}
	if (found < 0)
		verr(v, "needs a source: redis = { ... }, rabbitmq = { ... } "
		    "or command = { ... }");
	opt_int(v, t, "", "warn", &q->warn);
	opt_int(v, t, "", "crit", &q->crit);
	if (q->warn >= 0 && q->crit >= 0 && q->warn > q->crit)
		verr(v, "warn (%lld) must not be above crit (%lld)",
		    (long long)q->warn, (long long)q->crit);
	opt_duration(v, t, "", "stall_after", &q->stall_after_ms);
}

static void
validate_top(struct loader *ld, lua_State *L, int env)
{
	struct config *cfg = ld->cfg;
	struct vctx v = { .ld = ld, .L = L };
	int64_t ms;
	size_t n;
	int t;

	v.line = ld->interval_line;
	if (opt_duration(&v, env, "", "interval", &ms) == 1) {
		if (ms < 100)
			verr(&v, "interval must be at least 100ms");
		else
			cfg->interval_ms = ms;
	}
	v.line = ld->runbook_dirs_line;
	if (opt_table(&v, env, "", "runbook_dirs") != 1)
		return;
	t = lua_gettop(L);
	n = lua_rawlen(L, t);
	charge(L, (n + 1) * sizeof *cfg->runbook_dirs);
	cfg->runbook_dirs = lk_xcalloc(n + 1, sizeof *cfg->runbook_dirs);
	for (size_t i = 0; i < n; i++) {
		if (lua_rawgeti(L, t, (lua_Integer)i + 1) != LUA_TSTRING ||
		    lua_rawlen(L, -1) == 0) {
			verr(&v, "runbook_dirs[%zu] must be a directory name, "
			    "got %s", i + 1, vtype(L, -1));
			lua_pop(L, 1);
			break;
		}
		charge(L, lua_rawlen(L, -1) + 1);
		cfg->runbook_dirs[cfg->nrunbook_dirs++] =
		    lk_xstrdup(lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/* A block's kind, name and place, sorted to find names used twice. */
struct block_key {
	int kind;
	const char *name;
	size_t i;
};

static int
block_key_cmp(const void *a, const void *b)
{
	const struct block_key *x = a, *y = b;
	int c = x->kind - y->kind;

	if (c == 0)
		c = strcmp(x->name, y->name);
	if (c == 0)
		c = x->i < y->i ? -1 : x->i > y->i;
	return c;
}

/*
 * For each block, the index of the first block of its kind with its name
 * (itself if it is the first): sorted, not compared pairwise, so that a
 * config of a thousand services is checked in a thousand log steps.
 * Pushed onto L's stack as a userdata.
 */
static size_t *
first_of_names(const struct loader *ld, lua_State *L)
{
	struct block_key *k = lk_xcalloc(ld->nblocks + 1, sizeof *k);
	/* On the Lua stack: a Lua error in the validation that follows
	 * unwinds past our frame, and the collector frees it then. */
	size_t *first = lua_newuserdatauv(L, (ld->nblocks + 1) *
	    sizeof *first, 0);

	for (size_t i = 0; i < ld->nblocks; i++)
		k[i] = (struct block_key){ ld->blocks[i].kind,
		    ld->blocks[i].name, i };
	qsort(k, ld->nblocks, sizeof *k, block_key_cmp);
	for (size_t i = 0; i < ld->nblocks; i++)
		first[k[i].i] = i > 0 && k[i - 1].kind == k[i].kind &&
		    strcmp(k[i - 1].name, k[i].name) == 0 ?
		    first[k[i - 1].i] : k[i].i;
	free(k);
	return first;
}

/*
 * Runs protected, after the chunk: a memory error here unwinds to the
 * caller, which frees the config whole (every allocation hangs off it).
 */
static int
validate(lua_State *L)
{
	struct loader *ld = loader_of(L);
	struct config *cfg = ld->cfg;
	int chunk_ok = lua_toboolean(L, 1);

	size_t *first, nservices = 0;

	/* Room for every block at once, for the reason dsl_block grows its
	 * list geometrically. */
	for (size_t i = 0; i < ld->nblocks; i++)
		nservices += ld->blocks[i].kind == BLOCK_SERVICE;
	cfg->services = lk_xcalloc(nservices + 1, sizeof *cfg->services);
	cfg->queues = lk_xcalloc(ld->nblocks - nservices + 1,
	    sizeof *cfg->queues);
	lua_rawgeti(L, LUA_REGISTRYINDEX, ld->env_ref);
	validate_top(ld, L, lua_gettop(L));
	lua_pop(L, 1);

	first = first_of_names(ld, L);
	for (size_t i = 0; i < ld->nblocks; i++) {
		struct block *b = &ld->blocks[i];
		const char *kind = b->kind == BLOCK_SERVICE ? "service" :
		    "queue";
		struct vctx v = { .ld = ld, .L = L, .line = b->line };

		if (first[i] != i) {
			diag_add(ld, b->line, "%s \"%s\" is already defined "
			    "at line %d", kind, b->name,
			    ld->blocks[first[i]].line);
			continue;
		}
		if (b->ref == LUA_NOREF) {
			/* An error inside the braces stopped the chunk. */
			if (chunk_ok)
				diag_add(ld, b->line, "%s \"%s\" has no body: "
				    "write %s \"%s\" { ... }", kind, b->name,
				    kind, b->name);
			continue;
		}
		snprintf(v.what, sizeof v.what, "%s \"%s\"", kind, b->name);
		lua_rawgeti(L, LUA_REGISTRYINDEX, b->ref);
		if (b->kind == BLOCK_SERVICE) {
			struct config_service *s;

			s = &cfg->services[cfg->nservices++];
			memset(s, 0, sizeof *s);
			s->name = lk_xstrdup(b->name);
			s->line = b->line;
			validate_service(&v, lua_gettop(L), s);
		} else {
			struct config_queue *q;

			q = &cfg->queues[cfg->nqueues++];
			memset(q, 0, sizeof *q);
			q->name = lk_xstrdup(b->name);
			q->line = b->line;
			validate_queue(&v, lua_gettop(L), q);
		}
		lua_pop(L, 1);
	}
	return 0;
}

/* Records why a protected call failed; pops the message. */
static void
report_failure(struct loader *ld, lua_State *L, int rc)
{
	if (rc == LUA_ERRMEM)
		diag_add(ld, 0, "configuration needs more than %u MiB of "
		    "memory (stopped)", CONFIG_MAX_MEMORY / (1024 * 1024));
	else
		diag_lua(ld, lua_tostring(L, -1));
	lua_pop(L, 1);
}

void
config_diags_free(struct config_diags *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	memset(d, 0, sizeof *d);
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
	lua_pushcfunction(L, validate);
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
	char chunk[8192];
	enum lk_code code;
	const char *why = NULL;
	size_t n;
	FILE *f;

	*cfgp = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		why = strerror(errno);
		code = errno == ENOENT ? LK_ENOTFOUND : LK_EIO;
	} else {
		while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
			lk_buf_add(&b, chunk, n);
			if (b.len > CONFIG_MAX_FILE)
				break;
		}
		if (ferror(f))
			why = strerror(errno);
		else if (b.len > CONFIG_MAX_FILE)
			why = "larger than 1 MiB, not a configuration file";
		code = LK_EIO;
		fclose(f);
	}
	if (why != NULL) {
		lk_fail(err, code, "%s: cannot read: %s", path, why);
		if (diags != NULL) {
			diags->lines = lk_xrealloc(diags->lines,
			    (diags->n + 1) * sizeof *diags->lines);
			diags->lines[diags->n++] = lk_xstrdup(err != NULL ?
			    err->msg : path);
		}
		lk_buf_free(&b);
		return code;
	}
	code = config_load_buffer(path, b.s != NULL ? b.s : "", b.len, cfgp,
	    diags, err);
	lk_buf_free(&b);
	return code;
}

static int
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

enum lk_code
config_find(const char *explicit_path, char **path, struct lk_err *err)
{
	const char *env = getenv("LOOKOUT_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char *p;

	*path = NULL;
	if (explicit_path != NULL) {
		if (!file_exists(explicit_path))
			return lk_fail(err, LK_ENOTFOUND, "config %s: %s",
			    explicit_path, strerror(errno));
		*path = lk_xstrdup(explicit_path);
		return LK_OK;
	}
	if (env != NULL && *env != '\0') {
		if (!file_exists(env))
			return lk_fail(err, LK_ENOTFOUND, "config %s (from "
			    "$LOOKOUT_CONFIG): %s", env, strerror(errno));
		*path = lk_xstrdup(env);
		return LK_OK;
	}
	if (file_exists("lookout.lua")) {
		*path = lk_xstrdup("lookout.lua");
		return LK_OK;
	}
	/* The XDG spec ignores a relative $XDG_CONFIG_HOME. */
	if (xdg != NULL && *xdg == '/')
		p = lk_xasprintf("%s/lookout/lookout.lua", xdg);
	else if (home != NULL && *home != '\0')
		p = lk_xasprintf("%s/.config/lookout/lookout.lua", home);
	else
		p = NULL;
	if (p != NULL && file_exists(p)) {
		*path = p;
		return LK_OK;
	}
	free(p);
	if (file_exists("/etc/lookout/lookout.lua"))
		*path = lk_xstrdup("/etc/lookout/lookout.lua");
	return LK_OK;
}

static void
http_free(struct config_http *h)
{
	if (h == NULL)
		return;
	free(h->url);
	free(h->status);
	free(h->json_path);
	free(h->json_equals);
	free(h->body_contains);
	for (size_t i = 0; i < h->nheaders; i++) {
		free(h->headers[i].name);
		free(h->headers[i].value);
		free(h->headers[i].value_env);
	}
	free(h->headers);
	free(h);
}

void
config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;

	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nservices; i++) {
		struct config_service *s = &cfg->services[i];

		free(s->name);
		free(s->unit);
		http_free(s->check);
		free(s->runbook);
	}
	free(cfg->services);
	for (size_t i = 0; i < cfg->nqueues; i++) {
		struct config_queue *q = &cfg->queues[i];

		free(q->name);
		free(q->redis.url);
		free(q->redis.key);
		free(q->redis.paused_key);
		free(q->rabbitmq.api);
		free(q->rabbitmq.vhost);
		free(q->rabbitmq.name);
		free(q->rabbitmq.user);
		free(q->rabbitmq.password_env);
		for (size_t j = 0; j < q->command.argc; j++)
			free(q->command.argv[j]);
		free(q->command.argv);
	}
	free(cfg->queues);
	for (size_t i = 0; i < cfg->nrunbook_dirs; i++)
		free(cfg->runbook_dirs[i]);
	free(cfg->runbook_dirs);
	free(cfg->path);
	free(cfg);
	*cfgp = NULL;
}

const char *
config_path(const struct config *cfg)
{
	return cfg->path;
}

int64_t
config_interval_ms(const struct config *cfg)
{
	return cfg->interval_ms;
}

size_t
config_nservices(const struct config *cfg)
{
	return cfg->nservices;
}

const struct config_service *
config_service(const struct config *cfg, size_t i)
{
	return i < cfg->nservices ? &cfg->services[i] : NULL;
}

size_t
config_nqueues(const struct config *cfg)
{
	return cfg->nqueues;
}

const struct config_queue *
config_queue(const struct config *cfg, size_t i)
{
	return i < cfg->nqueues ? &cfg->queues[i] : NULL;
}

size_t
config_nrunbook_dirs(const struct config *cfg)
{
	return cfg->nrunbook_dirs;
}

const char *
config_runbook_dir(const struct config *cfg, size_t i)
{
	return i < cfg->nrunbook_dirs ? cfg->runbook_dirs[i] : NULL;
}

const struct config_service *
config_service_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nservices; i++) {
		if (strcmp(cfg->services[i].name, name) == 0)
			return &cfg->services[i];
	}
	return NULL;
}

const struct config_queue *
config_queue_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nqueues; i++) {
		if (strcmp(cfg->queues[i].name, name) == 0)
			return &cfg->queues[i];
	}
	return NULL;
}
