/*
 * The configuration as the rest of the program sees it: finding the file,
 * the accessors, and freeing it.  Loading is in load.c and validate.c.
 */
#include "private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
headers_free(struct config_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
		free(h[i].value_env);
	}
	free(h);
}

static void
command_free(struct config_command *c)
{
	for (size_t i = 0; i < c->argc; i++)
		free(c->argv[i]);
	free(c->argv);
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
	headers_free(h->headers, h->nheaders);
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
		free(s->host);
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
		command_free(&q->command);
		free(q->host);
	}
	free(cfg->queues);
	for (size_t i = 0; i < cfg->nnotify; i++) {
		struct config_notify *n = &cfg->notify[i];

		free(n->name);
		free(n->url);
		free(n->url_env);
		headers_free(n->headers, n->nheaders);
		command_free(&n->command);
	}
	free(cfg->notify);
	for (size_t i = 0; i < cfg->nrunbook_dirs; i++)
		free(cfg->runbook_dirs[i]);
	free(cfg->runbook_dirs);
	free(cfg->ssh_config);
	free(cfg->deadman);
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

int64_t
config_resolve_after_ms(const struct config *cfg)
{
	return cfg->resolve_after_ms;
}

const char *
config_deadman(const struct config *cfg)
{
	return cfg->deadman;
}

const char *
config_watch_rule_name(enum config_watch_rule r)
{
	static const char *const names[] = {
#define CONFIG_X(name, word) word,
		CONFIG_WATCH_RULES(CONFIG_X)
#undef CONFIG_X
	};

	return (unsigned)r < CONFIG_WATCH_NRULES ? names[r] : "?";
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
config_nnotify(const struct config *cfg)
{
	return cfg->nnotify;
}

const struct config_notify *
config_notify(const struct config *cfg, size_t i)
{
	return i < cfg->nnotify ? &cfg->notify[i] : NULL;
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

