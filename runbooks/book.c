/*
 * Loading a runbook: run the file once in the sandbox, check the table it
 * returns, and keep the state (the steps are functions in it).
 */
#include "private.h"

#include <dirent.h>
#include <stdarg.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../config/config.h"
#include "../core/trust.h"
#include "../core/util.h"

#define MAX_SOURCE (1 << 20)
#define MAX_DIAGS 20

/* Registry keys marking the tables runbook{} and step{} build. */
static const char runbook_mark = 'R';
static const char step_mark = 'S';

static int
current_line(lua_State *L)
{
	lua_Debug ar;

	for (int level = 1; lua_getstack(L, level, &ar); level++) {
		lua_getinfo(L, "Sl", &ar);
		if (ar.currentline > 0)
			return ar.currentline;
	}
	return 0;
}

/* step "name" { function(p) ... end, timeout = "5m" } */
static int
step_body(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_pushvalue(L, 1);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_setfield(L, -2, "__name");
	lua_pushinteger(L, lua_tointeger(L, lua_upvalueindex(2)));
	lua_setfield(L, -2, "__line");
	lua_rawgetp(L, LUA_REGISTRYINDEX, &step_mark);
	lua_setmetatable(L, -2);
	return 1;
}

static int
step_fn(lua_State *L)
{
	luaL_checkstring(L, 1);
	lua_settop(L, 1);
	lua_pushinteger(L, current_line(L));
	lua_pushcclosure(L, step_body, 2);
	return 1;
}

static int
runbook_fn(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	lua_pushinteger(L, current_line(L));
	lua_setfield(L, 1, "__line");
	lua_rawgetp(L, LUA_REGISTRYINDEX, &runbook_mark);
	lua_setmetatable(L, 1);
	return 1;
}

struct diags {
	const char *path;
	struct lk_buf buf;
	int n;
	char first[LK_ERR_MAX];
};

static void
diag(struct diags *d, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
diag(struct diags *d, int line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (d->n++ >= MAX_DIAGS)
		return;
	if (d->n == 1)
		snprintf(d->first, sizeof d->first, "%s:%d: %s", d->path, line,
		    msg);
	lk_buf_printf(&d->buf, "%s:%d: %s\n", d->path, line, msg);
}

static bool
has_mark(lua_State *L, int idx, const void *mark)
{
	bool yes;

	if (!lua_getmetatable(L, idx))
		return false;
	lua_rawgetp(L, LUA_REGISTRYINDEX, mark);
	yes = lua_rawequal(L, -1, -2);
	lua_pop(L, 2);
	return yes;
}

/* A string field, copied; wrong types are reported. */
static char *
opt_string(lua_State *L, int t, const char *key, struct diags *d, int line,
    const char *where)
{
	char *v = NULL;

	rb_rawfield(L, t, key);
	if (lua_type(L, -1) == LUA_TSTRING)
		v = lk_xstrdup(lua_tostring(L, -1));
	else if (!lua_isnil(L, -1))
		diag(d, line, "%s%s must be a string, got %s", where, key,
		    luaL_typename(L, -1));
	lua_pop(L, 1);
	return v;
}

static void
check_keys(lua_State *L, int t, const char *const *known, struct diags *d,
    int line, const char *where)
{
	lua_pushnil(L);
	while (lua_next(L, t) != 0) {
		bool ok = lua_type(L, -2) != LUA_TSTRING;

		for (size_t i = 0; !ok && known[i]; i++)
			ok = strcmp(lua_tostring(L, -2), known[i]) == 0;
		if (!ok)
			diag(d, line, "%sunknown key \"%s\"", where,
			    lua_tostring(L, -2));
		lua_pop(L, 1);
	}
}

static void
read_params(struct rb_book *b, lua_State *L, int t, struct diags *d, int line)
{
	static const char *const known[] = { "required", "default", "secret",
	    "env", "description", NULL };
	size_t cap = 0;

	lua_pushnil(L);
	while (lua_next(L, t) != 0) {
		int spec = lua_gettop(L);
		struct rb_param *p;
		char where[128];
		const char *name = lua_type(L, -2) == LUA_TSTRING ?
		    lua_tostring(L, -2) : NULL;

		if (name == NULL || lua_type(L, spec) != LUA_TTABLE) {
			diag(d, line, "params: each param is name = { ... }");
			lua_pop(L, 1);
			continue;
		}
		if (b->nparams == cap) {
			cap = cap ? cap * 2 : 8;
			b->params = lk_xrealloc(b->params, cap *
			    sizeof *b->params);
		}
		p = &b->params[b->nparams++];
		memset(p, 0, sizeof *p);
		snprintf(where, sizeof where, "param %s: ", name);
		p->name = lk_xstrdup(name);
		check_keys(L, spec, known, d, line, where);
		p->description = opt_string(L, spec, "description", d, line,
		    where);
		p->env = opt_string(L, spec, "env", d, line, where);
		rb_rawfield(L, spec, "default");
		if (lua_type(L, -1) == LUA_TSTRING ||
		    lua_type(L, -1) == LUA_TNUMBER)
			p->default_value = lk_xstrdup(lua_tostring(L, -1));
		else if (!lua_isnil(L, -1))
			diag(d, line, "%sdefault must be a string or number",
			    where);
		lua_pop(L, 1);
		rb_rawfield(L, spec, "required");
		p->required = lua_toboolean(L, -1);
		lua_pop(L, 1);
		rb_rawfield(L, spec, "secret");
		p->secret = lua_toboolean(L, -1);
		lua_pop(L, 1);
		if (p->secret && p->default_value != NULL)
			diag(d, line, "%sa secret cannot have a default: name "
			    "the environment variable with env", where);
		lua_pop(L, 1);
	}
}

/* Required parameters first, then by name: tables have no order. */
static int
param_order(const void *a, const void *b)
{
	const struct rb_param *x = a, *y = b;

	if (x->required != y->required)
		return x->required ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void
read_step(struct rb_book *b, lua_State *L, int t, struct diags *d,
    size_t *cap)
{
	static const char *const known[] = { "timeout", "description",
	    "__name", "__line", NULL };
	struct rb_step_def *s;
	int line;
	char where[160];
	const char *timeout;

	rb_rawfield(L, t, "__line");
	line = (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	if (b->nsteps == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		b->steps = lk_xrealloc(b->steps, *cap * sizeof *b->steps);
	}
	s = &b->steps[b->nsteps++];
	memset(s, 0, sizeof *s);
	s->line = line;
	s->fn_ref = LUA_NOREF;
	rb_rawfield(L, t, "__name");
	s->name = lk_xstrdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	snprintf(where, sizeof where, "step \"%s\": ", s->name);
	if (*s->name == '\0')
		diag(d, line, "a step needs a name");
	check_keys(L, t, known, d, line, where);
	s->description = opt_string(L, t, "description", d, line, where);
	timeout = NULL;
	rb_rawfield(L, t, "timeout");
	if (lua_type(L, -1) == LUA_TSTRING) {
		timeout = lua_tostring(L, -1);
		if (lk_parse_duration(timeout, &s->timeout_ms) != 0)
			diag(d, line, "%stimeout \"%s\" is not a duration "
			    "(\"30s\", \"5m\")", where, timeout);
	} else if (lua_type(L, -1) == LUA_TNUMBER) {
		s->timeout_ms = (int64_t)lua_tointeger(L, -1);
	} else if (!lua_isnil(L, -1)) {
		diag(d, line, "%stimeout must be a duration", where);
	}
	lua_pop(L, 1);
	lua_rawgeti(L, t, 1);
	if (lua_type(L, -1) != LUA_TFUNCTION) {
		diag(d, line, "%sthe step needs a function: step \"%s\" { "
		    "function(p) ... end }", where, s->name);
		lua_pop(L, 1);
	} else {
		s->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	lua_rawgeti(L, t, 2);
	if (!lua_isnil(L, -1))
		diag(d, line, "%sone function per step", where);
	lua_pop(L, 1);
}

static void
read_runbook(struct rb_book *b, lua_State *L, int t, struct diags *d)
{
	static const char *const known[] = { "name", "description", "params",
	    "__line", NULL };
	size_t cap = 0;
	int line;

	rb_rawfield(L, t, "__line");
	line = (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	/* String keys are settings; the array part holds the steps. */
	lua_pushnil(L);
	while (lua_next(L, t) != 0) {
		if (lua_type(L, -2) == LUA_TSTRING) {
			bool ok = false;

			for (size_t i = 0; known[i]; i++)
				ok |= strcmp(lua_tostring(L, -2), known[i]) == 0;
			if (!ok)
				diag(d, line, "runbook: unknown key \"%s\"",
				    lua_tostring(L, -2));
		}
		lua_pop(L, 1);
	}
	b->name = opt_string(L, t, "name", d, line, "runbook: ");
	if (b->name == NULL)
		diag(d, line, "runbook: name is required");
	b->description = opt_string(L, t, "description", d, line,
	    "runbook: ");
	rb_rawfield(L, t, "params");
	if (lua_type(L, -1) == LUA_TTABLE)
		read_params(b, L, lua_gettop(L), d, line);
	else if (!lua_isnil(L, -1))
		diag(d, line, "runbook: params must be a table");
	if (b->nparams > 1)
		qsort(b->params, b->nparams, sizeof *b->params, param_order);
	lua_pop(L, 1);
	for (lua_Integer i = 1; ; i++) {
		lua_rawgeti(L, t, i);
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			break;
		}
		if (lua_type(L, -1) == LUA_TTABLE &&
		    has_mark(L, -1, &step_mark))
			read_step(b, L, lua_gettop(L), d, &cap);
		else
			diag(d, line, "runbook: entry %d is not a step "
			    "(write step \"name\" { function(p) ... end })",
			    (int)i);
		lua_pop(L, 1);
	}
	if (b->nsteps == 0 && d->n == 0)
		diag(d, line, "runbook: it has no steps");
	for (size_t i = 0; i < b->nsteps; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(b->steps[i].name, b->steps[j].name) == 0)
				diag(d, b->steps[i].line, "step \"%s\" is "
				    "already defined at line %d",
				    b->steps[i].name, b->steps[j].line);
}

static int
validate(lua_State *L)
{
	struct rb_book *b = lua_touserdata(L, 2);
	struct diags *d = lua_touserdata(L, 3);

	read_runbook(b, L, 1, d);
	return 0;
}

enum lk_code
rb_book_load_source(const char *path, const char *src, size_t len,
    struct rb_book **out, char **diag_out, struct lk_err *err)
{
	struct rb_book *b = lk_xcalloc(1, sizeof *b);
	struct diags d = { .path = path };
	char *chunk;
	lua_State *L;
	int rc;

	*out = NULL;
	if (diag_out != NULL)
		*diag_out = NULL;
	b->path = lk_xstrdup(path);
	b->source = lk_xmalloc(len + 1);
	memcpy(b->source, src, len);
	b->source[len] = '\0';
	b->len = len;
	b->sb = rb_lua_new();
	if (b->sb == NULL) {
		rb_book_free(&b);
		return lk_fail(err, LK_ENOMEM, "%s: cannot create a Lua state",
		    path);
	}
	L = b->L = sandbox_lua(b->sb);
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &runbook_mark);
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &step_mark);
	lua_pushglobaltable(L);
	lua_pushcfunction(L, runbook_fn);
	lua_setfield(L, -2, "runbook");
	lua_pushcfunction(L, step_fn);
	lua_setfield(L, -2, "step");
	lua_pop(L, 1);

	/* "=path" keeps Lua from shortening long paths in messages. */
	chunk = lk_xasprintf("=%s", path);
	rc = luaL_loadbufferx(L, src, len, chunk, "t");
	free(chunk);
	if (rc == LUA_OK) {
		rb_lua_slice_begin(L, 1000);
		rc = sandbox_pcall(L, 0, 1);
		sandbox_slice_end(L);
	}
	if (rc != LUA_OK) {
		const char *msg = lua_tostring(L, -1);

		if (rc == LUA_ERRMEM)
			diag(&d, 0, "the runbook needs more than %u MiB of "
			    "memory", RB_MEMORY_LIMIT >> 20);
		else if (msg != NULL && strncmp(msg, path, strlen(path)) == 0)
			/* Lua's own "path:line: message". */
			d.n++, snprintf(d.first, sizeof d.first, "%s", msg),
			    lk_buf_printf(&d.buf, "%s\n", msg);
		else
			diag(&d, 0, "%s", msg ? msg : "error");
	} else if (lua_type(L, -1) != LUA_TTABLE ||
	    !has_mark(L, -1, &runbook_mark)) {
		diag(&d, 1, "a runbook file must end with return runbook { ... }");
	} else {
		/* Out of memory can still longjmp: validate under pcall, with
		 * everything allocated already hanging off b. */
		lua_pushcfunction(L, validate);
		lua_insert(L, -2);
		lua_pushlightuserdata(L, b);
		lua_pushlightuserdata(L, &d);
		if (sandbox_pcall(L, 3, 0) != LUA_OK)
			diag(&d, 0, "the runbook could not be checked: %s",
			    lua_tostring(L, -1));
	}
	lua_settop(L, 0);
	if (d.n > 0) {
		if (diag_out != NULL)
			*diag_out = d.buf.s;
		else
			lk_buf_free(&d.buf);
		lk_fail(err, LK_EINPUT, "%s", d.first);
		rb_book_free(&b);
		return LK_EINPUT;
	}
	lk_buf_free(&d.buf);
	*out = b;
	return LK_OK;
}

enum lk_code
rb_book_load(const char *path, struct rb_book **out, char **diag_out,
    struct lk_err *err)
{
	struct lk_buf b = { 0 };
	enum lk_code code;

	*out = NULL;
	if (diag_out != NULL)
		*diag_out = NULL;
	/* Only what root and the invoker alone could have written runs as
	 * them, and a FIFO is never waited on: core/trust.h. */
	code = trust_read("runbook", path, geteuid(), MAX_SOURCE, &b, err);
	if (code == LK_OK && b.len > MAX_SOURCE)
		code = lk_fail(err, LK_EINPUT, "runbook %s: larger than 1 MiB",
		    path);
	if (code == LK_OK)
		code = rb_book_load_source(path, b.s ? b.s : "", b.len, out,
		    diag_out, err);
	lk_buf_free(&b);
	return code;
}

void
rb_book_free(struct rb_book **bp)
{
	struct rb_book *b = bp ? *bp : NULL;

	if (b == NULL)
		return;
	sandbox_free(&b->sb);
	for (size_t i = 0; i < b->nparams; i++) {
		free((char *)b->params[i].name);
		free((char *)b->params[i].description);
		free((char *)b->params[i].default_value);
		free((char *)b->params[i].env);
	}
	for (size_t i = 0; i < b->nsteps; i++) {
		free(b->steps[i].name);
		free(b->steps[i].description);
	}
	free(b->params);
	free(b->steps);
	free(b->name);
	free(b->description);
	free(b->path);
	free(b->source);
	free(b);
	*bp = NULL;
}

const char *rb_book_name(const struct rb_book *b) { return b->name; }
const char *rb_book_description(const struct rb_book *b)
{
	return b->description;
}
size_t rb_book_nparams(const struct rb_book *b) { return b->nparams; }
const struct rb_param *
rb_book_param(const struct rb_book *b, size_t i)
{
	return i < b->nparams ? &b->params[i] : NULL;
}
size_t rb_book_nsteps(const struct rb_book *b) { return b->nsteps; }
const char *
rb_book_step_name(const struct rb_book *b, size_t i)
{
	return i < b->nsteps ? b->steps[i].name : NULL;
}

/* --- finding runbooks ------------------------------------------------------ */

static bool
dir_foreach(const char *dir, rb_file_cb *cb, void *data, char ***seen,
    size_t *nseen)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, NULL, alphasort);
	bool stop = false;

	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		size_t len = strlen(name);
		bool dup = false;
		char *path;

		if (stop || len < 5 || strcmp(name + len - 4, ".lua") != 0 ||
		    strcmp(name, "lookout.example.lua") == 0) {
			free(list[i]);
			continue;
		}
		for (size_t j = 0; j < *nseen; j++)
			dup |= strcmp((*seen)[j], name) == 0;
		path = lk_xasprintf("%s/%s", dir, name);
		/* Whatever it is: loading it says why a FIFO, a directory or
		 * a file someone else could write is refused, where skipping
		 * it would hide it. */
		if (!dup) {
			*seen = lk_xrealloc(*seen, (*nseen + 1) * sizeof **seen);
			(*seen)[(*nseen)++] = lk_xstrdup(name);
			stop = cb(path, data) != 0;
		}
		free(path);
		free(list[i]);
	}
	free(list);
	return stop;
}

#ifndef LOOKOUT_TEMPLATES
#define LOOKOUT_TEMPLATES "/usr/local/share/lookout/templates"
#endif

/*
 * The source tree's templates, for a binary that runs from its build
 * directory: before `meson install` there is no installed copy, and a
 * newcomer's first `./build/lookout runbooks` should not come up empty.
 * An installed binary lives elsewhere and never looks in the source tree,
 * which may be gone or be someone else's by then.  Both paths are resolved
 * first, as /proc/self/exe is.
 */
static char *
source_templates(void)
{
#if defined(LOOKOUT_BUILD_ROOT) && defined(LOOKOUT_SOURCE_TEMPLATES)
	char *exe = realpath("/proc/self/exe", NULL);
	char *root = realpath(LOOKOUT_BUILD_ROOT, NULL);
	char *dir = NULL;
	size_t n = root ? strlen(root) : 0;

	if (exe != NULL && root != NULL && strncmp(exe, root, n) == 0 &&
	    exe[n] == '/')
		dir = lk_xstrdup(LOOKOUT_SOURCE_TEMPLATES);
	free(exe);
	free(root);
	return dir;
#else
	return NULL;
#endif
}

void
rb_foreach_file(const struct config *cfg, rb_file_cb *cb, void *data)
{
	const char *env = getenv("LOOKOUT_RUNBOOK_PATH");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char **seen = NULL;
	size_t nseen = 0;
	bool stop = false;
	char *dir;

	if (env != NULL && *env != '\0') {
		char *copy = lk_xstrdup(env), *save = NULL;

		for (char *d = strtok_r(copy, ":", &save); d && !stop;
		    d = strtok_r(NULL, ":", &save))
			stop = dir_foreach(d, cb, data, &seen, &nseen);
		free(copy);
	}
	for (size_t i = 0; cfg && !stop && i < config_nrunbook_dirs(cfg); i++)
		stop = dir_foreach(config_runbook_dir(cfg, i), cb, data, &seen,
		    &nseen);
	if (!stop) {
		dir = xdg && *xdg == '/' ?
		    lk_xasprintf("%s/lookout/runbooks", xdg) :
		    lk_xasprintf("%s/.config/lookout/runbooks",
		    home ? home : "");
		stop = dir_foreach(dir, cb, data, &seen, &nseen);
		free(dir);
	}
	if (!stop)
		stop = dir_foreach(LOOKOUT_TEMPLATES, cb, data, &seen, &nseen);
	if (!stop && (dir = source_templates()) != NULL) {
		dir_foreach(dir, cb, data, &seen, &nseen);
		free(dir);
	}
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
}

struct find_ctx {
	const char *want;
	char *found;
};

static int
find_one(const char *path, void *data)
{
	struct find_ctx *c = data;
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base) - 4;
	if (strlen(c->want) == len && strncmp(base, c->want, len) == 0) {
		c->found = lk_xstrdup(path);
		return 1;
	}
	return 0;
}

enum lk_code
rb_find(const struct config *cfg, const char *name, char **path,
    struct lk_err *err)
{
	struct find_ctx c = { .want = name };

	*path = NULL;
	if (strchr(name, '/') != NULL) {
		if (access(name, R_OK) != 0)
			return lk_fail(err, LK_ENOTFOUND, "runbook %s: %s",
			    name, strerror(errno));
		*path = lk_xstrdup(name);
		return LK_OK;
	}
	rb_foreach_file(cfg, find_one, &c);
	if (c.found == NULL)
		return lk_fail(err, LK_ENOTFOUND, "runbook \"%s\" not found "
		    "(see lookout runbooks)", name);
	*path = c.found;
	return LK_OK;
}
