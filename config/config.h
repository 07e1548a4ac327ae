/*
 * The configuration: a declarative Lua file, turned into plain C data.
 *
 * The file runs once, in a sandbox, when it is loaded; nothing of Lua
 * survives the load.  What the rest of the program sees is a struct config
 * (opaque, reached through the accessors below) whose services and queues
 * are plain read-only structs owned by the config: they stay valid until
 * config_free().
 *
 *	interval = "5s"
 *	service "message-bus" {
 *		unit = "message-bus.service", scope = "user",
 *		check = http { url = "http://127.0.0.1:8080/api/inbox/joe" },
 *		runbook = "restart-service",
 *	}
 *	queue "mail" { redis = { url = "redis://127.0.0.1:6379/0",
 *	    key = "queues:default" }, warn = 100, crit = 1000 }
 *	runbook_dirs = { "/etc/lookout/runbooks" }
 *	notify "pager" { alertmanager = "http://127.0.0.1:9093" }
 *
 * templates/lookout.example.lua documents every key.
 */
#ifndef LK_CONFIG_H
#define LK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

/* Errors collected from one file before giving up on it. */
#define CONFIG_MAX_ERRORS 20

/* A notifier's tries at most, however it is configured. */
#define CONFIG_NOTIFY_MAX_TRIES	20

/* Limits of the sandbox a configuration runs in. */
#define CONFIG_MAX_MEMORY	(16u * 1024 * 1024)
#define CONFIG_MAX_INSTRUCTIONS	10000000
#define CONFIG_MAX_MS		2000	/* CPU time for running the file */

struct config;

enum config_scope {
	CONFIG_SCOPE_USER,
	CONFIG_SCOPE_SYSTEM,
};

/*
 * One request header.  Exactly one of value and value_env is set: a secret
 * is written env("NAME") in the file and only the variable's name is kept;
 * the probe reads the environment when it sends the request.
 */
struct config_header {
	char *name;
	char *value;
	char *value_env;
};

/* An endpoint check: http { ... }.  Unset limits are -1. */
struct config_http {
	char *url;		/* http:// or https:// */
	int *status;		/* accepted status codes, nstatus >= 1 */
	size_t nstatus;
	int json;		/* the body must parse as JSON */
	char *json_path;	/* json_field.path ("a.b"), or NULL */
	char *json_equals;	/* json_field.equals as JSON text, or NULL */
	char *body_contains;	/* or NULL */
	int64_t max_latency_ms;	/* -1: no limit */
	int64_t timeout_ms;	/* default 2000 */
	int64_t connect_timeout_ms; /* -1: libcurl's default */
	int insecure;		/* skip TLS verification */
	int64_t max_body;	/* bytes, default 1 MiB */
	struct config_header *headers;
	size_t nheaders;
};

/*
 * What `lookout watch` watches for.  X(name, its word in the file): the
 * rules that open an incident, and the two that only warn (not-enabled,
 * stale).  The words are those of `ignore = { ... }` and of what a
 * notification says fired.
 */
#define CONFIG_WATCH_RULES(X)				\
	X(DOWN, "down")					\
	X(UNHEALTHY, "unhealthy")			\
	X(DELETED, "deleted")				\
	X(RESTARTING, "restarting")			\
	X(NOT_ENABLED, "not-enabled")			\
	X(STALLED, "stalled")				\
	X(PAUSED, "paused")				\
	X(CRIT, "crit")					\
	X(GROWING, "growing")				\
	X(STALE, "stale")

enum config_watch_rule {
#define CONFIG_X(name, word) CONFIG_WATCH_##name,
	CONFIG_WATCH_RULES(CONFIG_X)
#undef CONFIG_X
	CONFIG_WATCH_NRULES
};

/* "down", "unhealthy", ...; "?" out of range. */
const char *config_watch_rule_name(enum config_watch_rule r);

/*
 * How `lookout watch` judges one service or queue: its `watch = { ... }`
 * (or `watch = false`).  What is not set is -1 (severity ""), and the
 * watcher's defaults apply; validation has made sure that a service's
 * holds only the service keys and a queue's only the queue keys.
 */
struct config_watch {
	int off;			/* watch = false: not watched at all */
	char severity[4];		/* "P1".."P4" for every rule, or "" */
	int64_t unhealthy_after;	/* consecutive failing checks, >= 1 */
	int64_t down_after_ms;		/* failed or inactive this long */
	int64_t restarts;		/* restarts within restart_window ... */
	int64_t restart_window_ms;	/* ... that make a restart loop */
	int64_t paused_after_ms;
	int64_t crit_after_ms;
	int64_t growing_for_ms;
	unsigned ignore;		/* 1u << rule, for each rule ignored */
};

struct config_service {
	char *name;
	int line;		/* of the service "..." { } block */
	char *unit;		/* default: name + ".service" */
	enum config_scope scope; /* default: system when loaded as root */
	struct config_http *check; /* or NULL: no endpoint check */
	char *runbook;		/* or NULL */
	char *host;		/* ssh destination, or NULL: this machine */
	struct config_watch watch;
};

/* A command: an argv, run without a shell. */
struct config_command {
	char **argv;		/* NULL-terminated, argc >= 1 */
	size_t argc;
	int64_t timeout_ms;
};

enum config_queue_source {
	CONFIG_QUEUE_REDIS,
	CONFIG_QUEUE_RABBITMQ,
	CONFIG_QUEUE_COMMAND,
};

/* A queue; only the member named by source is filled in. */
struct config_queue {
	char *name;
	int line;
	enum config_queue_source source;
	struct {
		char *url;		/* redis://, rediss:// or unix:// */
		char *key;		/* or NULL: queues:NAME, else queue:NAME */
		char *paused_key;	/* or NULL */
	} redis;
	struct {
		char *api;		/* management API, http(s):// */
		char *vhost;		/* default "/" */
		char *name;
		char *user;		/* default "guest" */
		char *password_env;	/* or NULL; the value is read later */
	} rabbitmq;
	struct config_command command;	/* timeout_ms default 2000 */
	int64_t warn;			/* -1: unset */
	int64_t crit;			/* -1: unset */
	int64_t stall_after_ms;		/* -1: unset */
	char *host;			/* command queues: run there; or NULL */
	struct config_watch watch;
};

/*
 * Where a notifier tells the team: notify "NAME" { webhook = URL },
 * { alertmanager = URL } or { command = { argv = { ... } } }.
 */
enum config_notify_kind {
	CONFIG_NOTIFY_WEBHOOK,
	CONFIG_NOTIFY_ALERTMANAGER,
	CONFIG_NOTIFY_COMMAND,
};

/* What happens to an incident that a notifier is told of (on = { }). */
enum {
	CONFIG_NOTIFY_OPENED	= 1 << 0,
	CONFIG_NOTIFY_MITIGATED	= 1 << 1,
	CONFIG_NOTIFY_RESOLVED	= 1 << 2,
	CONFIG_NOTIFY_ALL	= (1 << 3) - 1,
};

struct config_notify {
	char *name;
	int line;
	enum config_notify_kind kind;
	/*
	 * The webhook's URL, or Alertmanager's base URL (it is posted to
	 * /api/v2/alerts below it): http:// or https://.  Exactly one of
	 * url and url_env is set for those two kinds: a URL that is itself
	 * a secret (a Slack webhook's) is written env("NAME") and read from
	 * the environment when a notification is sent.
	 */
	char *url;
	char *url_env;
	struct config_header *headers;	/* webhook, alertmanager */
	size_t nheaders;
	struct config_command command;	/* command; timeout_ms default 10000 */
	unsigned on;			/* CONFIG_NOTIFY_* bits; default all */
	int64_t timeout_ms;		/* each try of an HTTP POST; 5000 */
	int64_t tries;			/* before giving up; 5 */
	int64_t backoff_ms;		/* before the 2nd try, doubling; 1000 */
	int64_t resend_ms;		/* alertmanager: re-post while firing;
					   60000 */
};

/*
 * Every problem found in one file, in line order, each line reading
 * "file:line: message" (or "file: message" when no line applies).
 * The struct owns the strings; config_diags_free() releases them.
 */
struct config_diags {
	char **lines;
	size_t n;
	size_t dropped;		/* problems beyond CONFIG_MAX_ERRORS */
};

void config_diags_free(struct config_diags *d);

/*
 * Finds the configuration file, in order: explicit (--config), then
 * $LOOKOUT_CONFIG, ./lookout.lua, $XDG_CONFIG_HOME/lookout/lookout.lua
 * (~/.config when unset), /etc/lookout/lookout.lua.  A file named
 * explicitly or by $LOOKOUT_CONFIG must exist (LK_ENOTFOUND).  On LK_OK,
 * *path is a new string the caller frees, or NULL when there is no
 * configuration: that is valid, the caller then shows systemd units alone.
 */
enum lk_code config_find(const char *explicit_path, char **path,
    struct lk_err *err);

/*
 * Reads, runs and validates the file at path.  On LK_OK, *cfg is a new
 * config the caller frees with config_free().  On failure *cfg is NULL, err
 * holds the first problem and diags (if not NULL, zeroed by the caller)
 * receives all of them.
 */
enum lk_code config_load(const char *path, struct config **cfg,
    struct config_diags *diags, struct lk_err *err);

/* The same, from memory; path is only used in messages. */
enum lk_code config_load_buffer(const char *path, const char *buf,
    size_t len, struct config **cfg, struct config_diags *diags,
    struct lk_err *err);

/* Frees the config and sets *cfg to NULL; NULL is fine. */
void config_free(struct config **cfg);

/* The file the config came from. */
const char *config_path(const struct config *cfg);

/* The probe interval, default 5000. */
int64_t config_interval_ms(const struct config *cfg);

/*
 * Other hosts.  A service, or a command queue, may name a host (an
 * ssh_config alias, or user@host): lookout reaches it with ssh, under the
 * invoker's own ssh configuration unless ssh_config names a file for -F
 * (a relative name is relative to the configuration's directory).
 * ssh_timeout bounds how long a host may take to connect and answer
 * before it is reported unreachable.
 */
#define CONFIG_SSH_TIMEOUT_MS 10000
const char *config_ssh_config(const struct config *cfg);	/* or NULL */
int64_t config_ssh_timeout_ms(const struct config *cfg);
/* How long an incident's checks must pass before `watch` resolves it
 * (resolve_after = "5m"); -1 when the file does not say. */
int64_t config_resolve_after_ms(const struct config *cfg);

/* The URL `watch` asks every cycle, so that something outside notices
 * when it stops (deadman = "https://..."); NULL when there is none. */
const char *config_deadman(const struct config *cfg);

/* Borrowed pointers, valid until config_free(); i must be < the count. */
size_t config_nservices(const struct config *cfg);
const struct config_service *config_service(const struct config *cfg,
    size_t i);
size_t config_nqueues(const struct config *cfg);
const struct config_queue *config_queue(const struct config *cfg, size_t i);
size_t config_nnotify(const struct config *cfg);
const struct config_notify *config_notify(const struct config *cfg,
    size_t i);
size_t config_nrunbook_dirs(const struct config *cfg);
const char *config_runbook_dir(const struct config *cfg, size_t i);

/* By name, or NULL. */
const struct config_service *config_service_find(const struct config *cfg,
    const char *name);
const struct config_queue *config_queue_find(const struct config *cfg,
    const char *name);

#endif
