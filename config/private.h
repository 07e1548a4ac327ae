/*
 * Internals shared by the files of config/: the loader (load.c) runs the
 * file and remembers its blocks, validate.c turns them into the C structs
 * of config.h, config.c is the config as the rest of the program sees it.
 * Not part of the public API.
 */
#ifndef LK_CONFIG_PRIVATE_H
#define LK_CONFIG_PRIVATE_H

#include <lua.h>

#include "config.h"
#include "../core/sandbox.h"

/* Lua names the chunk this in its messages; we swap in the real path. */
#define CHUNK_NAME	"config"

#define HTTP_MT		"lookout.http"
#define ENV_MT		"lookout.env"

struct config {
	char *path;
	int64_t interval_ms;
	int64_t resolve_after_ms;	/* -1: unset */
	char *deadman;			/* or NULL */
	struct config_service *services;
	size_t nservices;
	struct config_queue *queues;
	size_t nqueues;
	struct config_notify *notify;
	size_t nnotify;
	char **runbook_dirs;
	size_t nrunbook_dirs;
	char *ssh_config;		/* absolute, or NULL */
	int64_t ssh_timeout_ms;
};

enum block_kind { BLOCK_SERVICE, BLOCK_QUEUE, BLOCK_NOTIFY };

/* "service", "queue", "notify": the DSL's word for the block. */
static inline const char *
block_kind_name(enum block_kind k)
{
	return k == BLOCK_SERVICE ? "service" : k == BLOCK_QUEUE ? "queue" :
	    "notify";
}

/* A service, queue or notify block as written, before validation. */
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
	int ssh_config_line;
	int ssh_timeout_line;
	int resolve_after_line;
	int deadman_line;
	int env_ref;

	/* A service's scope when it names none.  As the no-config view
	 * does: root watches the system manager. */
	enum config_scope default_scope;
};


/* The loader of a state: the sandbox's data. */
static inline struct loader *
loader_of(lua_State *L)
{
	return sandbox_data(L);
}

/* Defined in load.c. */

/* Records a problem at line (0: none), for the report that ends the load. */
void load_diag(struct loader *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The known word within two edits of s, or NULL: for "did you mean". */
const char *load_closest(const char *s, const char *const *known);
int load_in_list(const char *s, const char *const *list);
/*
 * Charges n bytes that C copies out of Lua against the sandbox's memory
 * cap, raising a Lua error when they do not fit: charge before allocating.
 */
void load_charge(lua_State *L, size_t n);
/* Whether s is a valid environment variable name. */
int load_env_name_ok(const char *s);

/*
 * Defined in validate.c.  Runs protected, after the chunk, with whether
 * the chunk ran to its end as argument 1: walks the remembered blocks with
 * raw accesses only and fills ld->cfg.  A Lua error (memory) unwinds to
 * the caller, which frees the config whole: every allocation hangs off it.
 */
int validate_loaded(lua_State *L);

/* Defined in hosts.c: a block's host and the top-level ssh settings.
 * They read the value at the top of the stack (t[key] pushed by the
 * caller) and report through load_diag at line. */
void validate_host_value(lua_State *L, struct loader *ld, int line,
    const char *what, char **host);
void validate_ssh_config_value(lua_State *L, struct loader *ld, char **out);

#endif
