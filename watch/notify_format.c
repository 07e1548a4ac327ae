/*
 * The notifiers' bodies, environment, schedule and scrubbing: see
 * notify_format.h.  Everything here is a pure function of its arguments.
 */
#include "notify_format.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../config/config.h"
#include "../core/err.h"
#include "../core/scrub.h"
#include "../core/util.h"

int64_t
notify_backoff_ms(int64_t backoff_ms, int tries)
{
	int64_t ms = backoff_ms > 0 ? backoff_ms : 1;

	for (int i = 1; i < tries && ms < NOTIFY_MAX_BACKOFF_MS; i++)
		ms *= 2;
	return ms < NOTIFY_MAX_BACKOFF_MS ? ms : NOTIFY_MAX_BACKOFF_MS;
}

unsigned
notify_event_bit(const char *what)
{
	if (what == NULL)
		return 0;
	if (strcmp(what, "opened") == 0)
		return CONFIG_NOTIFY_OPENED;
	if (strcmp(what, "mitigated") == 0)
		return CONFIG_NOTIFY_MITIGATED;
	if (strcmp(what, "resolved") == 0)
		return CONFIG_NOTIFY_RESOLVED;
	return 0;
}

void
notify_alertname(const char *rule, char *buf, size_t len)
{
	static const struct {
		const char *rule;
		const char *name;
	} names[] = {
		{ "down", "LookoutServiceDown" },
		{ "unhealthy", "LookoutServiceUnhealthy" },
		{ "deleted", "LookoutServiceDeleted" },
		{ "restarting", "LookoutServiceRestarting" },
		{ "stalled", "LookoutQueueStalled" },
		{ "paused", "LookoutQueuePaused" },
		{ "crit", "LookoutQueueCritical" },
		{ "growing", "LookoutQueueGrowing" },
	};
	struct lk_buf b = { 0 };
	int up = 1;

	if (rule == NULL || *rule == '\0') {
		snprintf(buf, len, "LookoutIncident");
		return;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(rule, names[i].rule) == 0) {
			snprintf(buf, len, "%s", names[i].name);
			return;
		}
	}
	/* A rule of the watcher's that this table does not know yet: still
	 * a valid alertname, letters and digits alone. */
	lk_buf_adds(&b, "Lookout");
	for (const char *p = rule; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p)) {
			up = 1;
			continue;
		}
		lk_buf_addc(&b, up ? (char)toupper((unsigned char)*p) : *p);
		up = 0;
	}
	snprintf(buf, len, "%s", b.s);
	lk_buf_free(&b);
}

static const char *
or_empty(const char *s)
{
	return s != NULL ? s : "";
}

char *
notify_text(const struct notify_event *ev)
{
	struct lk_buf b = { 0 };
	char took[32];

	if (ev->severity != NULL && *ev->severity != '\0')
		lk_buf_printf(&b, "[%s] ", ev->severity);
	lk_buf_printf(&b, "incident %" PRId64 " %s", ev->incident_id,
	    or_empty(ev->what));
	if (notify_event_bit(ev->what) == CONFIG_NOTIFY_RESOLVED &&
	    ev->starts_at_ms > 0 && ev->ends_at_ms >= ev->starts_at_ms) {
		lk_fmt_duration(ev->ends_at_ms - ev->starts_at_ms, took,
		    sizeof took);
		lk_buf_printf(&b, " after %s", took);
	}
	lk_buf_printf(&b, ": %s", or_empty(ev->title));
	if (ev->reason != NULL && *ev->reason != '\0')
		lk_buf_printf(&b, " - %s", ev->reason);
	if (ev->subject != NULL && ev->host != NULL)
		lk_buf_printf(&b, " (%s on %s)", ev->subject, ev->host);
	else if (ev->subject != NULL || ev->host != NULL)
		lk_buf_printf(&b, " (%s)", ev->subject != NULL ? ev->subject :
		    ev->host);
	return b.s;
}

/* Slack reads &, < and > as markup (<!channel>, <url|text>). */
static char *
slack_escape(const char *s)
{
	struct lk_buf b = { 0 };

	lk_buf_adds(&b, "");
	for (; *s != '\0'; s++) {
		if (*s == '&')
			lk_buf_adds(&b, "&amp;");
		else if (*s == '<')
			lk_buf_adds(&b, "&lt;");
		else if (*s == '>')
			lk_buf_adds(&b, "&gt;");
		else
			lk_buf_addc(&b, *s);
	}
	return b.s;
}

static char *
dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(j);
	if (s == NULL)
		lk_oom();
	return s;
}

char *
notify_webhook_body(const struct notify_event *ev, const char *notifier)
{
	char *text = notify_text(ev), *slack = slack_escape(text);
	json_t *o = json_object();

	json_object_set_new(o, "text", lk_json_text(slack));
	json_object_set_new(o, "event", lk_json_text(ev->what));
	json_object_set_new(o, "incident", json_integer(ev->incident_id));
	json_object_set_new(o, "title", lk_json_text(ev->title));
	json_object_set_new(o, "severity", lk_json_text(ev->severity));
	json_object_set_new(o, "service", lk_json_text(ev->subject));
	json_object_set_new(o, "rule", lk_json_text(ev->rule));
	json_object_set_new(o, "reason", lk_json_text(ev->reason));
	json_object_set_new(o, "host", lk_json_text(ev->host));
	json_object_set_new(o, "starts_at", lk_json_time(ev->starts_at_ms));
	json_object_set_new(o, "ends_at", lk_json_time(ev->ends_at_ms));
	json_object_set_new(o, "notifier", lk_json_text(notifier));
	free(text);
	free(slack);
	return dump(o);
}

/* Sets o[key] to s when there is one: Alertmanager reads an empty label
 * as no label. */
static void
set_text(json_t *o, const char *key, const char *s)
{
	if (s != NULL && *s != '\0')
		json_object_set_new(o, key, lk_json_text(s));
}

char *
notify_alert_body(const struct notify_event *ev)
{
	json_t *alert = json_object(), *labels = json_object(),
	    *notes = json_object();
	char name[128], id[32];

	notify_alertname(ev->rule, name, sizeof name);
	set_text(labels, "alertname", name);
	set_text(labels, "service", ev->subject);
	set_text(labels, "severity", ev->severity);
	set_text(labels, "host", ev->host);
	set_text(notes, "summary", ev->title);
	set_text(notes, "reason", ev->reason);
	snprintf(id, sizeof id, "%" PRId64, ev->incident_id);
	set_text(notes, "incident", id);
	json_object_set_new(alert, "labels", labels);
	json_object_set_new(alert, "annotations", notes);
	if (ev->starts_at_ms > 0)
		json_object_set_new(alert, "startsAt",
		    lk_json_time(ev->starts_at_ms));
	/*
	 * While it fires, no endsAt: Alertmanager then keeps the alert for
	 * its resolve_timeout after each post, which is why it is posted
	 * again while it fires.
	 */
	if (notify_event_bit(ev->what) == CONFIG_NOTIFY_RESOLVED)
		json_object_set_new(alert, "endsAt", lk_json_time(
		    ev->ends_at_ms > 0 ? ev->ends_at_ms : ev->starts_at_ms));
	return dump(json_pack("[o]", alert));
}

char **
notify_command_env(const struct notify_event *ev, const char *notifier)
{
	char starts[LK_ISO_LEN] = "", ends[LK_ISO_LEN] = "", id[32];
	char *text = notify_text(ev);
	const char *vars[][2] = {
		{ "LOOKOUT_NOTIFIER", notifier },
		{ "LOOKOUT_EVENT", ev->what },
		{ "LOOKOUT_INCIDENT", id },
		{ "LOOKOUT_TITLE", ev->title },
		{ "LOOKOUT_SEVERITY", ev->severity },
		{ "LOOKOUT_SERVICE", ev->subject },
		{ "LOOKOUT_RULE", ev->rule },
		{ "LOOKOUT_REASON", ev->reason },
		{ "LOOKOUT_HOST", ev->host },
		{ "LOOKOUT_STARTS_AT", starts },
		{ "LOOKOUT_ENDS_AT", ends },
		{ "LOOKOUT_TEXT", text },
	};
	size_t n = sizeof vars / sizeof vars[0];
	char **env = lk_xcalloc(n + 1, sizeof *env);

	snprintf(id, sizeof id, "%" PRId64, ev->incident_id);
	if (ev->starts_at_ms > 0)
		lk_iso8601(ev->starts_at_ms, starts);
	if (ev->ends_at_ms > 0)
		lk_iso8601(ev->ends_at_ms, ends);
	for (size_t i = 0; i < n; i++)
		env[i] = lk_xasprintf("%s=%s", vars[i][0], or_empty(vars[i][1]));
	free(text);
	return env;
}

/* A credential's last word stands for it only when it is this long: a
 * short one would blank out ordinary words. */
#define SCRUB_MIN_WORD 8

void
notify_secret_add(struct lk_scrub *sc, const char *value)
{
	const char *word;

	if (value == NULL)
		return;
	lk_scrub_add(sc, value, strlen(value));
	word = strrchr(value, ' ');
	if (word != NULL && strlen(word + 1) >= SCRUB_MIN_WORD)
		lk_scrub_add(sc, word + 1, strlen(word + 1));
}
