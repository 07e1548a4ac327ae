/*
 * Telling the team (watch/notify.c): each `notify "NAME" { ... }` block of
 * the configuration is a notifier (a webhook, an Alertmanager, a command),
 * and the watcher hands every one of them the incidents it opens, and
 * their mitigation and resolution.  Internal to watch/.
 *
 * Nothing here blocks: deliveries run on the loop, a failed one is retried
 * with backoff, and its outcome is an event in the incident's timeline
 * (notify.sent or notify.failed): a notification that cannot be delivered
 * is recorded, never dropped silently.  An Alertmanager notifier re-posts
 * each alert while it fires, as Alertmanager expects, until its
 * resolution is posted with endsAt.
 */
#ifndef LK_WATCH_NOTIFY_H
#define LK_WATCH_NOTIFY_H

#include <stdint.h>

#include "../core/err.h"

struct loop;
struct store;
struct config;
struct notifiers;

/* What happened to an incident; strings are copied by notifiers_send. */
struct notify_event {
	const char *what;	/* "opened", "mitigated" or "resolved" */
	int64_t incident_id;
	const char *title;
	const char *severity;	/* "P1".."P4" */
	const char *subject;	/* the service or queue, or NULL */
	const char *rule;	/* what fired: "down", "unhealthy", "deleted",
				   "restarting", "stalled", "paused", "crit",
				   "growing" (an alert's name comes from it) */
	const char *reason;	/* why, in one line */
	const char *host;	/* the host the watcher runs on */
	int64_t starts_at_ms;	/* the incident's detected time */
	int64_t ends_at_ms;	/* its resolution; 0 while it fires */
};

/*
 * The notifiers of cfg (none is fine).  store receives notify.sent and
 * notify.failed events.  Caller owns *out.
 */
enum lk_code notifiers_new(struct loop *loop, struct store *store,
    const struct config *cfg, struct notifiers **out, struct lk_err *err);

/* Drops deliveries still in flight (recording nothing more). */
void notifiers_free(struct notifiers **n);

/* Hands ev to every notifier; returns at once, delivery goes on. */
void notifiers_send(struct notifiers *n, const struct notify_event *ev);

/* Deliveries still in flight or waiting to be retried (for a clean
 * shutdown that lets them finish, within a bound). */
int notifiers_pending(const struct notifiers *n);

#endif
