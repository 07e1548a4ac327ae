/*
 * Other hosts in the configuration: a service's (or a command queue's)
 * host, and the top-level ssh_config and ssh_timeout.  Validation only;
 * reaching a host is probes/ and runbooks/ business, through core/ssh.h.
 *
 *	ssh_config = "ssh_config"	-- for ssh -F; relative to this file
 *	ssh_timeout = "10s"
 *	service "api" { unit = "api.service", host = "web1" }
 */
#include "private.h"
#include "../core/ssh.h"
#include "../core/util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

void
validate_host_value(lua_State *L, struct loader *ld, int line,
    const char *what, char **host)
{
	const char *h;
	size_t len;

	if (lua_type(L, -1) != LUA_TSTRING) {
		load_diag(ld, line, "%s: host must be a string (an ssh_config "
		    "alias or user@host), got %s", what, luaL_typename(L, -1));
		return;
	}
	h = lua_tolstring(L, -1, &len);
	if (strlen(h) != len || !lk_ssh_host_ok(h)) {
		struct lk_buf shown = { 0 };

		/* The name is from the file, and may hold anything. */
		lk_buf_add_term(&shown, h, strlen(h), true);
		load_diag(ld, line, "%s: host \"%s\" is not an ssh destination "
		    "(an alias or user@host: letters, digits, '.', '_', '-', "
		    "':', not starting with '-')", what, shown.s);
		lk_buf_free(&shown);
		return;
	}
	load_charge(L, len + 1);
	*host = lk_xstrdup(h);
}

void
validate_ssh_config_value(lua_State *L, struct loader *ld, char **out)
{
	const char *v, *slash;
	char cwd[PATH_MAX];
	size_t len;

	if (lua_type(L, -1) != LUA_TSTRING || (v = lua_tolstring(L, -1,
	    &len), len == 0) || strlen(v) != len) {
		load_diag(ld, ld->ssh_config_line, "ssh_config must name a "
		    "file (for ssh -F), got %s", lua_type(L, -1) ==
		    LUA_TSTRING ? "an empty string" : luaL_typename(L, -1));
		return;
	}
	load_charge(L, len + PATH_MAX + 2);
	if (v[0] == '/') {
		*out = lk_xstrdup(v);
		return;
	}
	/* Relative to the configuration, wherever lookout runs from. */
	slash = strrchr(ld->path, '/');
	if (ld->path[0] == '/')
		*out = lk_xasprintf("%.*s/%s", (int)(slash - ld->path),
		    ld->path, v);
	else if (getcwd(cwd, sizeof cwd) != NULL)
		*out = slash ? lk_xasprintf("%s/%.*s/%s", cwd,
		    (int)(slash - ld->path), ld->path, v) :
		    lk_xasprintf("%s/%s", cwd, v);
	else
		*out = lk_xstrdup(v);
}

const char *
config_ssh_config(const struct config *cfg)
{
	return cfg->ssh_config;
}

int64_t
config_ssh_timeout_ms(const struct config *cfg)
{
	return cfg->ssh_timeout_ms;
}
