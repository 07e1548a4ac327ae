/*
 * What the notifiers send, without sending it (watch/notify_format.c):
 * the webhook's JSON, Alertmanager's alerts, a command's environment, the
 * wait between two tries and the scrubbing of secrets from what is
 * recorded.  No I/O and no clock, so that tests/watch can check every
 * byte.  Internal to watch/.
 *
 * Every function takes an event whose host is filled in (notify.c puts
 * the machine's name where the caller gave none); strings may be NULL
 * where notify.h allows it.
 */
#ifndef LK_WATCH_NOTIFY_FORMAT_H
#define LK_WATCH_NOTIFY_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "notify.h"

/* The longest wait between two tries, whatever the backoff. */
#define NOTIFY_MAX_BACKOFF_MS	(60 * 1000)

/*
 * The wait after try number tries (1 for the first) before the next one:
 * backoff_ms, doubled after each try, at most NOTIFY_MAX_BACKOFF_MS.
 */
int64_t notify_backoff_ms(int64_t backoff_ms, int tries);

/*
 * The CONFIG_NOTIFY_* bit of what ("opened", "mitigated", "resolved"), or
 * 0 for anything else.
 */
unsigned notify_event_bit(const char *what);

/*
 * Alertmanager's alertname for rule: "down" is LookoutServiceDown, "crit"
 * LookoutQueueCritical, a rule this table does not know Lookout followed
 * by the rule in CamelCase, no rule LookoutIncident.
 */
void notify_alertname(const char *rule, char *buf, size_t len);

/*
 * One line for a person: "[P2] incident 12 opened: message-bus down -
 * failed: exited with status 1 (message-bus on web-1)".  Caller frees.
 */
char *notify_text(const struct notify_event *ev);

/*
 * The webhook's body, which a command also gets on its stdin: a JSON
 * object with Slack's "text" (notify_text, with &, < and > escaped as
 * Slack wants, so that a title cannot @mention a channel) and the
 * incident's fields.  Caller frees.
 */
char *notify_webhook_body(const struct notify_event *ev,
    const char *notifier);

/*
 * The body of a POST to Alertmanager's /api/v2/alerts: an array of one
 * alert.  Its labels (alertname, service, severity, host) say which
 * outage it is; the incident's id is an annotation, not a label, so that
 * watchers on several hosts, each with a timeline of its own, describe
 * the same outage with the same labels but for host.  endsAt only once
 * the incident is resolved.  Caller frees.
 */
char *notify_alert_body(const struct notify_event *ev);

/*
 * A command's environment: LOOKOUT_NOTIFIER, LOOKOUT_EVENT,
 * LOOKOUT_INCIDENT, LOOKOUT_TITLE, LOOKOUT_SEVERITY, LOOKOUT_SERVICE,
 * LOOKOUT_RULE, LOOKOUT_REASON, LOOKOUT_HOST, LOOKOUT_STARTS_AT,
 * LOOKOUT_ENDS_AT and LOOKOUT_TEXT, each "K=V", all set (empty where
 * unknown, so that nothing of lookout's own environment stands in).
 * NULL-terminated; free with lk_strv_free.
 */
char **notify_command_env(const struct notify_event *ev,
    const char *notifier);

/*
 * Adds value, a secret, to sc, and for a value such as "Bearer abc" its
 * last word alone too, which is what a server that complains about a
 * token quotes (only when 8 bytes or more: a short one would blank out
 * ordinary words).  NULL adds nothing.
 */
struct lk_scrub;
void notify_secret_add(struct lk_scrub *sc, const char *value);

#endif
