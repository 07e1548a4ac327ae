/*
 * The notifiers.  For now there are none: the watcher opens and resolves
 * incidents, and the team is told once webhooks, Alertmanager and commands
 * land here (see notify.h).
 */
#include "notify.h"

#include <stdlib.h>

#include "../core/err.h"

struct notifiers {
	int pending;
};

enum lk_code
notifiers_new(struct loop *loop, struct store *store, const struct config *cfg,
    struct notifiers **out, struct lk_err *err)
{
	(void)loop;
	(void)store;
	(void)cfg;
	(void)err;
	*out = lk_xcalloc(1, sizeof **out);
	return LK_OK;
}

void
notifiers_free(struct notifiers **n)
{
	if (n == NULL || *n == NULL)
		return;
	free(*n);
	*n = NULL;
}

void
notifiers_send(struct notifiers *n, const struct notify_event *ev)
{
	(void)n;
	(void)ev;
}

int
notifiers_pending(const struct notifiers *n)
{
	return n->pending;
}
