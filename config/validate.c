/*
 * Validation: the blocks a configuration file left behind, turned into the
 * C structs of config.h with raw reads only, so that no user code runs
 * again.  Every problem is recorded (load_diag), not raised.
 *
 * No Lua error is ever raised while C owns memory that nothing else
 * points to: everything allocated here is attached to the config under
 * construction first, and the config is freed whole on failure.
 */
#include "private.h"
#include "../core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

static const char *const service_keys[] = { "unit", "scope", "check",
    "runbook", "host", "watch", NULL };
static const char *const queue_keys[] = { "redis", "rabbitmq", "command",
    "warn", "crit", "stall_after", "host", "watch", NULL };
static const char *const watch_service_keys[] = { "severity",
    "unhealthy_after", "down_after", "restarts", "restart_window",
    "ignore", NULL };
static const char *const watch_queue_keys[] = { "severity", "paused_after",
    "crit_after", "growing_for", "ignore", NULL };
static const char *const http_keys[] = { "url", "status", "json",
    "json_field", "body_contains", "max_latency_ms", "timeout_ms",
    "connect_timeout_ms", "insecure", "max_body", "headers", NULL };
static const char *const json_field_keys[] = { "path", "equals", NULL };
static const char *const redis_keys[] = { "url", "key", "paused_key", NULL };
static const char *const rabbitmq_keys[] = { "api", "vhost", "name", "user",
    "password_env", "password", NULL };
static const char *const command_keys[] = { "argv", "timeout_ms", NULL };
static const char *const notify_keys[] = { "webhook", "alertmanager",
    "command", "headers", "on", "timeout_ms", "tries", "backoff", "resend",
    NULL };
/* In the order of the CONFIG_NOTIFY_* bits. */
static const char *const notify_events[] = { "opened", "mitigated",
    "resolved", NULL };

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
		load_diag(v->ld, v->line, "%s: %s", v->what, msg);
	else
		load_diag(v->ld, v->line, "%s", msg);
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
			if (!load_in_list(k, known)) {
				near = load_closest(k, known);
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
	load_charge(L, len + 1);
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
		load_charge(L, 6 * lua_rawlen(L, -1) + 3);
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

/* The headers table at t, into *headers and *n; pre prefixes the key in
 * messages ("check."). */
static void
validate_headers(struct vctx *v, int t, const char *pre,
    struct config_header **headers, size_t *n)
{
	lua_State *L = v->L;
	struct config_header *hd;
	const char *name, *val;

	lua_pushnil(L);
	while (lua_next(L, t) != 0) {
		if (lua_type(L, -2) != LUA_TSTRING ||
		    !header_name_ok(lua_tostring(L, -2))) {
			verr(v, "%sheaders: header names must be "
			    "strings without spaces or colons", pre);
			lua_pop(L, 1);
			continue;
		}
		name = lua_tostring(L, -2);
		if (lua_type(L, -1) == LUA_TSTRING) {
			val = lua_tostring(L, -1);
			if (strpbrk(val, "\r\n") != NULL ||
			    strlen(val) != lua_rawlen(L, -1)) {
				verr(v, "%sheaders.%s must not contain "
				    "line breaks or NUL bytes", pre, name);
				lua_pop(L, 1);
				continue;
			}
		} else if (!has_mt(L, -1, ENV_MT)) {
			verr(v, "%sheaders.%s must be a string or "
			    "env(\"NAME\"), got %s", pre, name, vtype(L, -1));
			lua_pop(L, 1);
			continue;
		}
		load_charge(L, sizeof *hd + strlen(name) + 1);
		*headers = lk_xrealloc(*headers, (*n + 1) * sizeof **headers);
		hd = &(*headers)[(*n)++];
		memset(hd, 0, sizeof *hd);
		hd->name = lk_xstrdup(name);
		if (lua_type(L, -1) == LUA_TSTRING) {
			load_charge(L, lua_rawlen(L, -1) + 1);
			hd->value = lk_xstrdup(lua_tostring(L, -1));
		} else {
			getf(L, lua_absindex(L, -1), "name");
			load_charge(L, lua_rawlen(L, -1) + 1);
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
		load_charge(L, len * sizeof *h->status);
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
		validate_headers(v, lua_gettop(v->L), pre, &h->headers,
		    &h->nheaders);
		lua_pop(v->L, 1);
	}
}

/* --- watch = { ... }: how `lookout watch` judges a service or queue ------ */

static void
watch_defaults(struct config_watch *w)
{
	memset(w, 0, sizeof *w);
	w->unhealthy_after = w->down_after_ms = w->restarts = -1;
	w->restart_window_ms = w->paused_after_ms = w->crit_after_ms = -1;
	w->growing_for_ms = -1;
}

/* Whether rule r is one of a queue's (else one of a service's). */
static bool
watch_rule_of_queue(int r)
{
	return r >= CONFIG_WATCH_STALLED;
}

/* Whether word names a rule of the other kind than queue says. */
static bool
other_kind(const char *word, bool queue)
{
	for (int r = 0; r < CONFIG_WATCH_NRULES; r++)
		if (watch_rule_of_queue(r) != queue &&
		    strcmp(word, config_watch_rule_name(r)) == 0)
			return true;
	return false;
}

static void
validate_watch_ignore(struct vctx *v, int t, bool queue,
    struct config_watch *w)
{
	lua_State *L = v->L;
	const char *known[CONFIG_WATCH_NRULES + 1];
	size_t nknown = 0, n;
	int ty = getf(L, t, "ignore"), list = lua_gettop(L);

	if (ty == LUA_TNIL) {
		lua_pop(L, 1);
		return;
	}
	for (int r = 0; r < CONFIG_WATCH_NRULES; r++)
		if (watch_rule_of_queue(r) == queue)
			known[nknown++] = config_watch_rule_name(r);
	known[nknown] = NULL;
	if (ty != LUA_TTABLE || has_mt(L, list, ENV_MT) ||
	    has_mt(L, list, HTTP_MT)) {
		verr(v, "watch.ignore must be a list of rules, e.g. { \"%s\" }, "
		    "got %s", known[0], vtype(L, list));
		lua_pop(L, 1);
		return;
	}
	n = lua_rawlen(L, list);
	for (size_t i = 1; i <= n; i++) {
		const char *word, *near;
		int r;

		if (lua_rawgeti(L, list, (lua_Integer)i) != LUA_TSTRING) {
			verr(v, "watch.ignore[%zu] must be a rule's name, got %s",
			    i, vtype(L, -1));
			lua_pop(L, 1);
			continue;
		}
		word = lua_tostring(L, -1);
		for (r = 0; r < CONFIG_WATCH_NRULES; r++)
			if (watch_rule_of_queue(r) == queue &&
			    strcmp(word, config_watch_rule_name(r)) == 0)
				break;
		if (r < CONFIG_WATCH_NRULES) {
			w->ignore |= 1u << r;
		} else if (other_kind(word, queue)) {
			verr(v, "watch.ignore: \"%s\" is a rule of a %s, not of "
			    "a %s", word, queue ? "service" : "queue", queue ?
			    "queue" : "service");
		} else if ((near = load_closest(word, known)) != NULL) {
			verr(v, "watch.ignore: \"%s\" is not a rule of a %s (did "
			    "you mean \"%s\"?)", word, queue ? "queue" :
			    "service", near);
		} else {
			verr(v, "watch.ignore: \"%s\" is not a rule of a %s",
			    word, queue ? "queue" : "service");
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/*
 * watch = { ... } of a service or a queue, or watch = false.  A key that
 * belongs to the other kind is named as such: paused_after in a service
 * is a mistake about what the block is, not a typo.
 */
static void
validate_watch(struct vctx *v, int t, bool queue, struct config_watch *w)
{
	const char *const *own = queue ? watch_queue_keys : watch_service_keys;
	const char *const *other = queue ? watch_service_keys :
	    watch_queue_keys;
	lua_State *L = v->L;
	const char *pre = "watch.";
	char *sev = NULL;
	int ty = getf(L, t, "watch"), wt = lua_gettop(L);

	watch_defaults(w);
	if (ty == LUA_TNIL || ty == LUA_TBOOLEAN) {
		w->off = ty == LUA_TBOOLEAN && !lua_toboolean(L, wt);
		lua_pop(L, 1);
		return;
	}
	if (ty != LUA_TTABLE || has_mt(L, wt, ENV_MT) ||
	    has_mt(L, wt, HTTP_MT)) {
		verr(v, "watch must be a table { ... } or false, got %s",
		    vtype(L, wt));
		lua_pop(L, 1);
		return;
	}
	lua_pushnil(L);
	while (lua_next(L, wt) != 0) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ?
		    lua_tostring(L, -2) : NULL;

		if (k != NULL && !load_in_list(k, own) &&
		    load_in_list(k, other))
			verr(v, "watch.%s is for a %s, not a %s", k, queue ?
			    "service" : "queue", queue ? "queue" : "service");
		lua_pop(L, 1);
	}
	/* The other kind's keys were named above; the rest get a "did you
	 * mean" among this kind's. */
	{
		const char *all[16];
		size_t n = 0;

		for (size_t i = 0; own[i] != NULL; i++)
			all[n++] = own[i];
		for (size_t i = 0; other[i] != NULL; i++)
			if (!load_in_list(other[i], own))
				all[n++] = other[i];
		all[n] = NULL;
		check_keys(v, wt, pre, all);
	}
	if (opt_string(v, wt, pre, "severity", 0, &sev) == 1) {
		if (strlen(sev) == 2 && sev[0] == 'P' && sev[1] >= '1' &&
		    sev[1] <= '4')
			snprintf(w->severity, sizeof w->severity, "%s", sev);
		else
			verr(v, "watch.severity must be \"P1\", \"P2\", \"P3\" "
			    "or \"P4\", got \"%s\"", sev);
		free(sev);
	}
	if (queue) {
		opt_duration(v, wt, pre, "paused_after", &w->paused_after_ms);
		opt_duration(v, wt, pre, "crit_after", &w->crit_after_ms);
		opt_duration(v, wt, pre, "growing_for", &w->growing_for_ms);
	} else {
		if (opt_int(v, wt, pre, "unhealthy_after",
		    &w->unhealthy_after) == 1 && w->unhealthy_after < 1)
			verr(v, "watch.unhealthy_after must be 1 or more (checks "
			    "failing in a row)");
		opt_duration(v, wt, pre, "down_after",
		    &w->down_after_ms);
		if (opt_int(v, wt, pre, "restarts", &w->restarts) == 1 &&
		    w->restarts < 1)
			verr(v, "watch.restarts must be 1 or more");
		if (opt_duration(v, wt, pre, "restart_window",
		    &w->restart_window_ms) == 1 && w->restart_window_ms < 1000)
			verr(v, "watch.restart_window must be at least 1s");
	}
	validate_watch_ignore(v, wt, queue, w);
	lua_pop(L, 1);
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
	if (getf(L, t, "host") != LUA_TNIL)
		validate_host_value(L, v->ld, v->line, v->what, &s->host);
	lua_pop(L, 1);
	validate_watch(v, t, false, &s->watch);
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
	    !load_env_name_ok(q->rabbitmq.password_env))
		verr(v, "rabbitmq.password_env \"%s\" is not an environment "
		    "variable name", q->rabbitmq.password_env);
}

/* command = { argv = { ... }, timeout_ms = ... } at t, into c. */
static void
validate_command(struct vctx *v, int t, struct config_command *c,
    int64_t timeout_ms)
{
	lua_State *L = v->L;
	int a;
	size_t n;

	c->timeout_ms = timeout_ms;
	check_keys(v, t, "command.", command_keys);
	opt_int(v, t, "command.", "timeout_ms", &c->timeout_ms);
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
	load_charge(L, (n + 1) * sizeof *c->argv);
	c->argv = lk_xcalloc(n + 1, sizeof *c->argv);
	for (size_t i = 0; i < n; i++) {
		if (lua_rawgeti(L, a, (lua_Integer)i + 1) != LUA_TSTRING) {
			verr(v, "command.argv[%zu] must be a string, got %s",
			    i + 1, vtype(L, -1));
			lua_pop(L, 1);
			break;
		}
		load_charge(L, lua_rawlen(L, -1) + 1);
		c->argv[c->argc++] = lk_xstrdup(lua_tostring(L, -1));
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
			validate_command(v, lua_gettop(L), &q->command, 2000);
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
	if (getf(L, t, "host") != LUA_TNIL) {
		if (found >= 0 && q->source != CONFIG_QUEUE_COMMAND)
			verr(v, "host is for command queues, which run their "
			    "command there; a %s queue names its server in "
			    "its %s", sources[found], q->source ==
			    CONFIG_QUEUE_REDIS ? "url" : "api");
		else
			validate_host_value(L, v->ld, v->line, v->what,
			    &q->host);
	}
	lua_pop(L, 1);
	validate_watch(v, t, true, &q->watch);
}

/* Whether t has key (raw), whatever its value. */
static int
has_key(lua_State *L, int t, const char *key)
{
	int ty = getf(L, t, key);

	lua_pop(L, 1);
	return ty != LUA_TNIL;
}

/*
 * A header whose name says it carries a credential.  A notifier sends it
 * to a place outside, so its value must come from the environment, as
 * every secret does: a token written in the file ends up in backups,
 * diffs and screens.
 */
static int
header_is_secret(const char *name)
{
	static const char *const words[] = { "auth", "token", "secret",
	    "key", "pass", "cookie", "signature", NULL };

	for (size_t i = 0; words[i] != NULL; i++) {
		if (strcasestr(name, words[i]) != NULL)
			return 1;
	}
	return 0;
}

/* Whether url has a password in its userinfo: http://user:pw@host/. */
static int
url_has_password(const char *url)
{
	const char *p = strstr(url, "://"), *at;
	size_t n;

	if (p == NULL)
		return 0;
	p += 3;
	n = strcspn(p, "/?#");
	at = memrchr(p, '@', n);
	return at != NULL && memchr(p, ':', (size_t)(at - p)) != NULL;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* webhook = URL or env("NAME"), the same for alertmanager. */
static void
validate_notify_url(struct vctx *v, int t, const char *key,
    struct config_notify *n)
{
	lua_State *L = v->L;
	int ty = getf(L, t, key);

	if (ty == LUA_TTABLE && has_mt(L, -1, ENV_MT)) {
		getf(L, lua_absindex(L, -1), "name");
		load_charge(L, lua_rawlen(L, -1) + 1);
		n->url_env = lk_xstrdup(lua_tostring(L, -1));
		lua_pop(L, 2);
		return;
	}
	if (ty != LUA_TSTRING)
		verr(v, "%s must be a URL or env(\"NAME\"), got %s", key,
		    vtype(L, -1));
	lua_pop(L, 1);
	if (ty != LUA_TSTRING || opt_string(v, t, "", key, 1, &n->url) != 1)
		return;
	/* Not the URL itself in the message: it holds the password. */
	if (url_has_password(n->url))
		verr(v, "%s has a password in its URL: write %s = "
		    "env(\"NAME\") and put the URL in the environment, or "
		    "send the credential with headers = { Authorization = "
		    "env(\"NAME\") }", key, key);
	else if (!url_ok(n->url, http_schemes))
		check_url(v, "", key, &n->url, http_schemes,
		    "http:// or https://");
	else if (n->kind == CONFIG_NOTIFY_ALERTMANAGER &&
	    (ends_with(n->url, "/api/v2/alerts") ||
	    ends_with(n->url, "/api/v2/alerts/")))
		verr(v, "alertmanager is Alertmanager's base URL, such as "
		    "\"http://127.0.0.1:9093\": lookout posts to "
		    "/api/v2/alerts below it");
}

/* on = { "opened", "mitigated", "resolved" }: which to be told of. */
static void
validate_notify_on(struct vctx *v, int t, struct config_notify *n)
{
	lua_State *L = v->L;
	const char *e, *near;
	size_t len;
	int a, bit;

	if (opt_table(v, t, "", "on") != 1)
		return;
	a = lua_gettop(L);
	len = lua_rawlen(L, a);
	if (len == 0)
		verr(v, "on must list at least one of \"opened\", "
		    "\"mitigated\" and \"resolved\"");
	n->on = 0;
	for (size_t i = 0; i < len; i++) {
		if (lua_rawgeti(L, a, (lua_Integer)i + 1) != LUA_TSTRING) {
			verr(v, "on[%zu] must be \"opened\", \"mitigated\" "
			    "or \"resolved\", got %s", i + 1, vtype(L, -1));
			lua_pop(L, 1);
			continue;
		}
		e = lua_tostring(L, -1);
		for (bit = 0; notify_events[bit] != NULL; bit++) {
			if (strcmp(e, notify_events[bit]) == 0)
				break;
		}
		if (notify_events[bit] != NULL)
			n->on |= 1u << bit;
		else if ((near = load_closest(e, notify_events)) != NULL)
			verr(v, "on[%zu] \"%s\" is not an event (did you "
			    "mean \"%s\"?)", i + 1, e, near);
		else
			verr(v, "on[%zu] \"%s\" is not an event (expected "
			    "\"opened\", \"mitigated\" or \"resolved\")",
			    i + 1, e);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

static void
validate_notify(struct vctx *v, int t, struct config_notify *n)
{
	static const char *const dests[] = { "webhook", "alertmanager",
	    "command" };
	lua_State *L = v->L;
	int found = -1, http;

	n->on = CONFIG_NOTIFY_ALL;
	n->timeout_ms = 5000;
	n->tries = 5;
	n->backoff_ms = 1000;
	n->resend_ms = 60000;
	check_keys(v, t, "", notify_keys);
	for (int i = 0; i < 3; i++) {
		if (!has_key(L, t, dests[i]))
			continue;
		if (found >= 0)
			verr(v, "has both %s and %s: give exactly one of "
			    "webhook, alertmanager and command",
			    dests[found], dests[i]);
		else
			found = i;
	}
	if (found < 0) {
		verr(v, "needs somewhere to send: webhook = URL, "
		    "alertmanager = URL or command = { argv = { ... } }");
		return;
	}
	n->kind = (enum config_notify_kind)found;
	http = n->kind != CONFIG_NOTIFY_COMMAND;
	if (http) {
		validate_notify_url(v, t, dests[found], n);
	} else if (opt_table(v, t, "", "command") == 1) {
		validate_command(v, lua_gettop(L), &n->command, 10000);
		lua_pop(L, 1);
	}

	if (!http && has_key(L, t, "headers"))
		verr(v, "headers go with webhook or alertmanager: a command "
		    "reads what it needs from its environment");
	else if (opt_table(v, t, "", "headers") == 1) {
		validate_headers(v, lua_gettop(L), "", &n->headers,
		    &n->nheaders);
		lua_pop(L, 1);
	}
	for (size_t i = 0; i < n->nheaders; i++) {
		if (n->headers[i].value != NULL &&
		    header_is_secret(n->headers[i].name))
			verr(v, "headers.%s looks like a credential: write "
			    "%s = env(\"NAME\") and set NAME in lookout's "
			    "environment, not the value in this file",
			    n->headers[i].name, n->headers[i].name);
	}

	if (n->kind == CONFIG_NOTIFY_ALERTMANAGER && has_key(L, t, "on"))
		verr(v, "on does not apply to alertmanager: it is told of "
		    "every change, and only the resolution ends its alert");
	else
		validate_notify_on(v, t, n);

	if (!http && has_key(L, t, "timeout_ms"))
		verr(v, "timeout_ms is for webhook and alertmanager: a "
		    "command's goes in command = { timeout_ms = ... }");
	else if (opt_int(v, t, "", "timeout_ms", &n->timeout_ms) == 1 &&
	    n->timeout_ms == 0)
		verr(v, "timeout_ms must be more than 0");
	if (opt_int(v, t, "", "tries", &n->tries) == 1 &&
	    (n->tries < 1 || n->tries > CONFIG_NOTIFY_MAX_TRIES))
		verr(v, "tries must be 1 to %d, got %lld",
		    CONFIG_NOTIFY_MAX_TRIES, (long long)n->tries);
	if (opt_duration(v, t, "", "backoff", &n->backoff_ms) == 1 &&
	    n->backoff_ms < 100)
		verr(v, "backoff must be at least 100ms");
	if (n->kind != CONFIG_NOTIFY_ALERTMANAGER && has_key(L, t, "resend"))
		verr(v, "resend applies to alertmanager alone (how often "
		    "an alert that still fires is posted again)");
	else if (opt_duration(v, t, "", "resend", &n->resend_ms) == 1 &&
	    n->resend_ms < 1000)
		verr(v, "resend must be at least 1s");
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
	v.line = ld->ssh_timeout_line;
	if (opt_duration(&v, env, "", "ssh_timeout", &ms) == 1) {
		if (ms < 100)
			verr(&v, "ssh_timeout must be at least 100ms");
		else
			cfg->ssh_timeout_ms = ms;
	}
	if (getf(L, env, "ssh_config") != LUA_TNIL)
		validate_ssh_config_value(L, ld, &cfg->ssh_config);
	lua_pop(L, 1);
	v.line = ld->resolve_after_line;
	if (opt_duration(&v, env, "", "resolve_after", &ms) == 1)
		cfg->resolve_after_ms = ms;
	v.line = ld->deadman_line;
	if (opt_string(&v, env, "", "deadman", 0, &cfg->deadman) == 1)
		check_url(&v, "", "deadman", &cfg->deadman, http_schemes,
		    "http:// or https://");
	v.line = ld->runbook_dirs_line;
	if (opt_table(&v, env, "", "runbook_dirs") != 1)
		return;
	t = lua_gettop(L);
	n = lua_rawlen(L, t);
	load_charge(L, (n + 1) * sizeof *cfg->runbook_dirs);
	cfg->runbook_dirs = lk_xcalloc(n + 1, sizeof *cfg->runbook_dirs);
	for (size_t i = 0; i < n; i++) {
		if (lua_rawgeti(L, t, (lua_Integer)i + 1) != LUA_TSTRING ||
		    lua_rawlen(L, -1) == 0) {
			verr(&v, "runbook_dirs[%zu] must be a directory name, "
			    "got %s", i + 1, vtype(L, -1));
			lua_pop(L, 1);
			break;
		}
		load_charge(L, lua_rawlen(L, -1) + 1);
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
int
validate_loaded(lua_State *L)
{
	struct loader *ld = loader_of(L);
	struct config *cfg = ld->cfg;
	int chunk_ok = lua_toboolean(L, 1);

	size_t *first, count[3] = { 0 };

	/* Room for every block at once, for the reason dsl_block grows its
	 * list geometrically. */
	for (size_t i = 0; i < ld->nblocks; i++)
		count[ld->blocks[i].kind]++;
	cfg->services = lk_xcalloc(count[BLOCK_SERVICE] + 1,
	    sizeof *cfg->services);
	cfg->queues = lk_xcalloc(count[BLOCK_QUEUE] + 1, sizeof *cfg->queues);
	cfg->notify = lk_xcalloc(count[BLOCK_NOTIFY] + 1, sizeof *cfg->notify);
	lua_rawgeti(L, LUA_REGISTRYINDEX, ld->env_ref);
	validate_top(ld, L, lua_gettop(L));
	lua_pop(L, 1);

	first = first_of_names(ld, L);
	for (size_t i = 0; i < ld->nblocks; i++) {
		struct block *b = &ld->blocks[i];
		const char *kind = block_kind_name(b->kind);
		struct vctx v = { .ld = ld, .L = L, .line = b->line };

		if (first[i] != i) {
			load_diag(ld, b->line, "%s \"%s\" is already defined "
			    "at line %d", kind, b->name,
			    ld->blocks[first[i]].line);
			continue;
		}
		if (b->ref == LUA_NOREF || b->ref == LUA_REFNIL) {
			/* An error inside the braces stopped the chunk. */
			if (chunk_ok && b->ref == LUA_NOREF)
				load_diag(ld, b->line, "%s \"%s\" has no body: "
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
		} else if (b->kind == BLOCK_NOTIFY) {
			struct config_notify *n;

			n = &cfg->notify[cfg->nnotify++];
			memset(n, 0, sizeof *n);
			n->name = lk_xstrdup(b->name);
			n->line = b->line;
			validate_notify(&v, lua_gettop(L), n);
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

