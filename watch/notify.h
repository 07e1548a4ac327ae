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
 *
 * What the caller does:
 *
 *  - notifiers_new once, with the config and the timeline, both of which
 *    must outlive the notifiers (they read the config's notify blocks as
 *    they send, and record into the timeline);
 *  - notifiers_send on each change of an incident, from the loop; it
 *    returns at once and sends nothing itself (it may record, for
 *    Alertmanager, the notifications that the new one supersedes);
 *  - on start-up and after a reload (new notifiers), for each incident
 *    still open, notifiers_send("opened") again with again set: the
 *    re-posts to Alertmanager live in these notifiers, and Alertmanager
 *    resolves an alert that nobody re-posts (within its resolve_timeout).
 *    Webhooks and commands are not told twice;
 *  - on shutdown: stop sending, run the loop while notifiers_pending() is
 *    above 0 for a bound of your choosing (a few seconds), then
 *    notifiers_free, then close the timeline.
 */
#ifndef LK_WATCH_NOTIFY_H
#define LK_WATCH_NOTIFY_H

#include <stdbool.h>
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
	bool again;		/* "opened" said again of an incident still
				   open, by a watcher that restarted or
				   reloaded: only Alertmanagers are told
				   (their alert must keep being posted);
				   webhooks and commands heard it already */
};

/*
 * The notifiers of cfg (none is fine, and so is a NULL cfg).  store
 * receives notify.sent and notify.failed events, tied to the incident,
 * with the notifier's name as subject.  With a webhook or an Alertmanager
 * among them, loads libcurl now, and fails with LK_EIO where it cannot: a
 * watcher that cannot post says so when it starts.  Caller owns *out.
 */
enum lk_code notifiers_new(struct loop *loop, struct store *store,
    const struct config *cfg, struct notifiers **out, struct lk_err *err);

/*
 * Records each notification not delivered yet as notify.failed ("lookout
 * stopped before it got through"), cancels the requests in flight and the
 * commands still running (SIGINT, then SIGTERM, then SIGKILL), frees *n
 * and sets it to NULL.  A cancelled command is reaped by the loop later:
 * run it a moment more before loop_free, or exit.
 */
void notifiers_free(struct notifiers **n);

/*
 * Hands ev to every notifier whose `on` has ev->what; returns at once,
 * delivery goes on.  A what other than "opened", "mitigated" and
 * "resolved" is ignored.  ev->host NULL: the machine's name; ends_at_ms 0
 * on "resolved": now.  Notifications of one incident reach each notifier
 * in the order they were sent.  For Alertmanager, "opened" and
 * "mitigated" keep the alert firing and "resolved" ends it.
 */
void notifiers_send(struct notifiers *n, const struct notify_event *ev);

/*
 * Notifications not yet delivered or given up: in flight, or waiting to
 * be tried (again).  Alertmanager's re-posts of a firing alert are not
 * counted: they go on as long as the alert fires.
 */
int notifiers_pending(const struct notifiers *n);

#endif
