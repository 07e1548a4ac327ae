/*
 * watch/notify: what the notifiers send (the webhook's JSON, the
 * Alertmanager alerts, a command's environment), the backoff schedule,
 * and what they record in the timeline, run on a real loop with real
 * commands and a real timeline, and with no server: an HTTP notifier
 * here posts to a port nobody listens on, which refuses at once.
 * tests/e2e/notify_inner.sh has the servers.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "loop.h"
#include "notify.h"
#include "notify_format.h"
#include "scrub.h"
#include "store.h"
#include "util.h"

/* 2026-11-22T04:00:00.000Z and 14 minutes later. */
#define T0	1795320000000LL
#define T1	(T0 + 14 * 60 * 1000)

static const struct notify_event opened = {
	.what = "opened", .incident_id = 12, .title = "message-bus down",
	.severity = "P2", .subject = "message-bus", .rule = "down",
	.reason = "failed: exited with status 1", .host = "web-1",
	.starts_at_ms = T0,
};

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	cr_assert_not_null(j, "%s: %s", e.text, text);
	return j;
}

/* What notify_webhook_body and notify_alert_body make of ev, parsed. */
static json_t *
webhook(const struct notify_event *ev)
{
	char *body = notify_webhook_body(ev, "chat");
	json_t *j = parse(body);

	free(body);
	return j;
}

static json_t *
alerts(const struct notify_event *ev)
{
	char *body = notify_alert_body(ev);
	json_t *j = parse(body);

	free(body);
	cr_assert(json_is_array(j) && json_array_size(j) == 1, "one alert");
	return j;
}

static const char *
str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_string(v), "%s is not a string", key);
	return json_string_value(v);
}

Test(format, webhook_body_is_slacks_text_and_the_incidents_fields)
{
	char *body = notify_webhook_body(&opened, "chat");
	json_t *j = parse(body);

	cr_assert_str_eq(str(j, "text"), "[P2] incident 12 opened: "
	    "message-bus down - failed: exited with status 1 (message-bus on "
	    "web-1)");
	cr_assert_str_eq(str(j, "event"), "opened");
	cr_assert_eq(json_integer_value(json_object_get(j, "incident")), 12);
	cr_assert_str_eq(str(j, "title"), "message-bus down");
	cr_assert_str_eq(str(j, "severity"), "P2");
	cr_assert_str_eq(str(j, "service"), "message-bus");
	cr_assert_str_eq(str(j, "rule"), "down");
	cr_assert_str_eq(str(j, "reason"), "failed: exited with status 1");
	cr_assert_str_eq(str(j, "host"), "web-1");
	cr_assert_str_eq(str(j, "starts_at"), "2026-11-22T04:00:00.000Z");
	cr_assert(json_is_null(json_object_get(j, "ends_at")));
	cr_assert_str_eq(str(j, "notifier"), "chat");
	/* Sent as it was dumped: one line, the "text" first. */
	cr_assert(strncmp(body, "{\"text\":", 8) == 0, "%s", body);
	cr_assert_null(strchr(body, '\n'));
	json_decref(j);
	free(body);
}

Test(format, a_resolution_says_how_long_it_took)
{
	struct notify_event ev = opened;
	char *text;

	ev.what = "resolved";
	ev.reason = NULL;
	ev.ends_at_ms = T1;
	text = notify_text(&ev);
	cr_assert_str_eq(text, "[P2] incident 12 resolved after 14m: "
	    "message-bus down (message-bus on web-1)");
	free(text);
}

Test(format, text_from_outside_cannot_mention_a_channel_or_break_the_json)
{
	struct notify_event ev = opened;
	json_t *j;

	ev.title = "<!channel> db & <https://evil|cache>";
	ev.reason = "bad \xff byte";
	j = webhook(&ev);
	cr_assert(strstr(str(j, "text"), "&lt;!channel&gt; db &amp; "
	    "&lt;https://evil|cache&gt;") != NULL, "%s", str(j, "text"));
	/* The field itself is the title as it is. */
	cr_assert_str_eq(str(j, "title"), ev.title);
	cr_assert_str_eq(str(j, "reason"), "bad \xef\xbf\xbd byte");
	json_decref(j);
}

Test(format, an_alert_has_the_outages_labels_and_the_incident_as_annotation)
{
	json_t *j = alerts(&opened), *a = json_array_get(j, 0);
	json_t *labels = parse("{\"alertname\": \"LookoutServiceDown\", "
	    "\"service\": \"message-bus\", \"severity\": \"P2\", "
	    "\"host\": \"web-1\"}");
	json_t *notes = parse("{\"summary\": \"message-bus down\", "
	    "\"reason\": \"failed: exited with status 1\", "
	    "\"incident\": \"12\"}");

	cr_assert(json_equal(json_object_get(a, "labels"), labels));
	cr_assert(json_equal(json_object_get(a, "annotations"), notes));
	cr_assert_str_eq(str(a, "startsAt"), "2026-11-22T04:00:00.000Z");
	/* Firing: Alertmanager keeps it for its resolve_timeout. */
	cr_assert_null(json_object_get(a, "endsAt"));
	cr_assert_eq(json_object_size(a), 3);
	json_decref(labels);
	json_decref(notes);
	json_decref(j);
}

Test(format, a_resolved_alert_ends)
{
	struct notify_event ev = opened;
	json_t *j, *a;

	ev.what = "resolved";
	ev.ends_at_ms = T1;
	j = alerts(&ev);
	a = json_array_get(j, 0);
	cr_assert_str_eq(str(a, "startsAt"), "2026-11-22T04:00:00.000Z");
	cr_assert_str_eq(str(a, "endsAt"), "2026-11-22T04:14:00.000Z");
	json_decref(j);
}

Test(format, two_hosts_send_one_outage_with_labels_that_differ_only_by_host)
{
	struct notify_event ev = opened;
	json_t *j1 = alerts(&opened), *j2, *l1, *l2;

	/* Another watcher: another timeline, so another incident id and
	 * another detected time. */
	ev.host = "web-2";
	ev.incident_id = 3;
	ev.starts_at_ms = T0 + 1500;
	j2 = alerts(&ev);
	l1 = json_object_get(json_array_get(j1, 0), "labels");
	l2 = json_object_get(json_array_get(j2, 0), "labels");
	cr_assert_str_neq(str(l1, "host"), str(l2, "host"));
	json_object_del(l1, "host");
	json_object_del(l2, "host");
	cr_assert(json_equal(l1, l2), "the labels group as one outage");
	json_decref(j1);
	json_decref(j2);
}

Test(format, alertnames_come_from_the_rule)
{
	/* A service's rule, a queue's, one named otherwise, one the table
	 * does not know, none. */
	static const char *const want[][2] = {
		{ "down", "LookoutServiceDown" },
		{ "stalled", "LookoutQueueStalled" },
		{ "crit", "LookoutQueueCritical" },
		{ "no-consumers", "LookoutNoConsumers" },
		{ "", "LookoutIncident" },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		notify_alertname(want[i][0], buf, sizeof buf);
		cr_assert_str_eq(buf, want[i][1]);
	}
	notify_alertname(NULL, buf, sizeof buf);
	cr_assert_str_eq(buf, "LookoutIncident");
}

Test(format, an_alert_without_a_service_has_no_empty_label)
{
	struct notify_event ev = opened;
	json_t *j, *labels;

	ev.subject = NULL;
	ev.rule = NULL;
	j = alerts(&ev);
	labels = json_object_get(json_array_get(j, 0), "labels");
	cr_assert_null(json_object_get(labels, "service"));
	cr_assert_str_eq(str(labels, "alertname"), "LookoutIncident");
	json_decref(j);
}

Test(format, the_backoff_doubles_up_to_a_minute)
{
	static const int64_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000,
	    60000, 60000 };

	for (int i = 0; i < 8; i++)
		cr_assert_eq(notify_backoff_ms(1000, i + 1), want[i],
		    "after try %d", i + 1);
	cr_assert_eq(notify_backoff_ms(200, 3), 800);
	cr_assert_eq(notify_backoff_ms(45000, 2), 60000);
	cr_assert_eq(notify_backoff_ms(1000, CONFIG_NOTIFY_MAX_TRIES), 60000);
}

Test(format, a_command_gets_every_variable_set)
{
	struct notify_event ev = opened;
	char **env;

	ev.reason = NULL;
	env = notify_command_env(&ev, "pager");
	cr_assert_str_eq(env[0], "LOOKOUT_NOTIFIER=pager");
	cr_assert_str_eq(env[1], "LOOKOUT_EVENT=opened");
	cr_assert_str_eq(env[2], "LOOKOUT_INCIDENT=12");
	cr_assert_str_eq(env[3], "LOOKOUT_TITLE=message-bus down");
	cr_assert_str_eq(env[4], "LOOKOUT_SEVERITY=P2");
	cr_assert_str_eq(env[5], "LOOKOUT_SERVICE=message-bus");
	cr_assert_str_eq(env[6], "LOOKOUT_RULE=down");
	/* Empty, not absent: lookout's own environment does not leak in. */
	cr_assert_str_eq(env[7], "LOOKOUT_REASON=");
	cr_assert_str_eq(env[8], "LOOKOUT_HOST=web-1");
	cr_assert_str_eq(env[9], "LOOKOUT_STARTS_AT=2026-11-22T04:00:00.000Z");
	cr_assert_str_eq(env[10], "LOOKOUT_ENDS_AT=");
	cr_assert(strncmp(env[11], "LOOKOUT_TEXT=[P2] incident 12", 29) == 0);
	cr_assert_null(env[12]);
	lk_strv_free(env);
}

Test(format, a_secret_and_a_credentials_last_word_are_scrubbed)
{
	static const char *const secrets[] = { "Bearer t0ken-abcdef", "",
	    "Basic ab", "https://hooks.example/T0/B1/xyz" };
	struct lk_scrub sc = { 0 };
	char *s;

	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		notify_secret_add(&sc, secrets[i]);
	notify_secret_add(&sc, NULL);
	s = lk_scrub_str(&sc, "401: token t0ken-abcdef refused for Bearer "
	    "t0ken-abcdef at https://hooks.example/T0/B1/xyz", 0);
	cr_assert_str_eq(s, "401: token *** refused for *** at ***");
	free(s);
	/* A short last word is not blanked out everywhere. */
	s = lk_scrub_str(&sc, "ab is fine", 0);
	cr_assert_str_eq(s, "ab is fine");
	free(s);
	lk_scrub_clear(&sc);
}

/* --- on a loop, with a timeline ------------------------------------------ */

static char dir[64], dbpath[128];
static struct store *st;
static struct loop *lp;
static struct config *cfg;
static struct notifiers *ns;
static int64_t incident;

static void
setup(void)
{
	static const struct store_actor actor = { "test", NULL, NULL };
	struct lk_err err = { 0 };

	snprintf(dir, sizeof dir, "/tmp/lookout-notify.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(dbpath, sizeof dbpath, "%s/timeline.db", dir);
	cr_assert_eq(store_open(dbpath, &actor, &st, &err), LK_OK, "%s",
	    err.msg);
	cr_assert_eq(store_incident_open(st, "message-bus down", "P2",
	    (const char *const[]){ "message-bus" }, 1, &incident, &err),
	    LK_OK, "%s", err.msg);
	lp = loop_new();
}

static void
teardown(void)
{
	char cmd[128];

	notifiers_free(&ns);
	config_free(&cfg);
	loop_free(&lp);
	store_close(&st);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	(void)system(cmd);
}

TestSuite(notifiers, .init = setup, .fini = teardown, .timeout = 30);

static void
start(const char *text)
{
	struct config_diags diags = { 0 };
	struct lk_err err = { 0 };

	cr_assert_eq(config_load_buffer("test.lua", text, strlen(text), &cfg,
	    &diags, &err), LK_OK, "%s", err.msg);
	cr_assert_eq(notifiers_new(lp, st, cfg, &ns, &err), LK_OK, "%s",
	    err.msg);
}

static void
tell(const char *what)
{
	struct notify_event ev = opened;

	ev.what = what;
	ev.incident_id = incident;
	if (strcmp(what, "resolved") == 0)
		ev.ends_at_ms = T1;
	notifiers_send(ns, &ev);
}

/* Runs the loop until every notification is delivered or given up. */
static void
settle(void)
{
	while (notifiers_pending(ns) > 0)
		cr_assert_geq(loop_run_once(lp, -1), 0);
}

struct recorded {
	char kind[32];
	char subject[32];
	char *message;
	json_t *data;
};

static struct recorded rec[16];
static size_t nev;

static int
collect(const struct store_event *e, void *arg)
{
	(void)arg;
	if (strncmp(e->kind, "notify.", 7) != 0 || nev == 16)
		return 0;
	snprintf(rec[nev].kind, sizeof rec[nev].kind, "%s", e->kind);
	snprintf(rec[nev].subject, sizeof rec[nev].subject, "%s", e->subject);
	rec[nev].message = strdup(e->message);
	rec[nev].data = parse(e->data);
	nev++;
	return 0;
}

/* The incident's notify.* events, oldest first, into rec[0..nev). */
static void
read_timeline(void)
{
	struct lk_err err = { 0 };

	for (size_t i = 0; i < nev; i++) {
		free(rec[i].message);
		json_decref(rec[i].data);
	}
	nev = 0;
	cr_assert_eq(store_event_foreach(st, incident, collect, NULL, &err),
	    LK_OK, "%s", err.msg);
}

static long long
num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_integer(v), "%s is not a number", key);
	return json_integer_value(v);
}

Test(notifiers, none_configured_is_fine)
{
	start("-- nothing\n");
	tell("opened");
	cr_assert_eq(notifiers_pending(ns), 0);
	notifiers_free(&ns);
	cr_assert_null(ns);
}

Test(notifiers, a_command_that_succeeds_is_recorded_as_sent)
{
	start("notify \"pager\" { command = { argv = { \"/bin/true\" } } }\n");
	tell("opened");
	/* Nothing happens inside the call: it only hands the work over. */
	cr_assert_eq(notifiers_pending(ns), 1);
	read_timeline();
	cr_assert_eq(nev, 0);
	settle();
	read_timeline();
	cr_assert_eq(nev, 1);
	cr_assert_str_eq(rec[0].kind, "notify.sent");
	cr_assert_str_eq(rec[0].subject, "pager");
	cr_assert_str_eq(rec[0].message, "opened: sent to command pager "
	    "(exit 0, try 1 of 5)");
	cr_assert_str_eq(str(rec[0].data, "event"), "opened");
	cr_assert_str_eq(str(rec[0].data, "type"), "command");
	cr_assert_eq(num(rec[0].data, "tries"), 1);
}

Test(notifiers, a_command_that_fails_is_tried_again_then_recorded_as_failed)
{
	json_t *attempts;

	start("notify \"pager\" { command = { argv = { \"/bin/sh\", \"-c\", "
	    "\"echo nope >&2; exit 3\" } }, tries = 3, backoff = \"100ms\" }\n");
	tell("opened");
	settle();
	read_timeline();
	cr_assert_eq(nev, 1);
	cr_assert_str_eq(rec[0].kind, "notify.failed");
	cr_assert_str_eq(rec[0].message, "opened: not delivered to command "
	    "pager: after 3 tries: exited with status 3: nope");
	cr_assert_eq(num(rec[0].data, "tries"), 3);
	cr_assert_eq(num(rec[0].data, "exit_status"), 3);
	attempts = json_object_get(rec[0].data, "attempts");
	cr_assert_eq(json_array_size(attempts), 3);
	for (size_t i = 0; i < 3; i++)
		cr_assert_str_eq(str(json_array_get(attempts, i), "error"),
		    "exited with status 3: nope");
}

Test(notifiers, on_filters_what_a_notifier_is_told)
{
	start("notify \"pager\" { command = { argv = { \"/bin/true\" } },\n"
	    "  on = { \"resolved\" } }\n");
	tell("opened");
	tell("mitigated");
	cr_assert_eq(notifiers_pending(ns), 0);
	tell("resolved");
	tell("nonsense");
	settle();
	read_timeline();
	cr_assert_eq(nev, 1);
	cr_assert_str_eq(str(rec[0].data, "event"), "resolved");
}

Test(notifiers, secrets_never_reach_the_timeline)
{
	start("notify \"hook\" { webhook = env(\"HOOK_URL\"),\n"
	    "  headers = { Authorization = env(\"HOOK_TOKEN\") } }\n"
	    "notify \"echo\" { command = { argv = { \"/bin/sh\", \"-c\",\n"
	    "  \"echo \\\"denied for $HOOK_TOKEN at $HOOK_URL\\\" >&2; exit 1\" } },\n"
	    "  tries = 1 }\n");
	/* Read when a notification is sent, not when the config is. */
	setenv("HOOK_TOKEN", "Bearer s3cr3t-t0ken-value", 1);
	setenv("HOOK_URL", "ftp://hooks.example/T0/B1/s3cr3t-path", 1);
	tell("opened");
	settle();
	read_timeline();
	cr_assert_eq(nev, 2);
	for (size_t i = 0; i < nev; i++) {
		char *d = json_dumps(rec[i].data, 0);

		cr_assert_str_eq(rec[i].kind, "notify.failed");
		cr_assert_null(strstr(rec[i].message, "s3cr3t"), "%s",
		    rec[i].message);
		cr_assert_null(strstr(d, "s3cr3t"), "%s", d);
		free(d);
		if (strcmp(rec[i].subject, "echo") == 0)
			cr_assert_str_eq(rec[i].message, "opened: not delivered "
			    "to command echo: exited with status 1: denied for "
			    "*** at ***");
		else
			/* Not tried again: the next try could only fail
			 * the same way. */
			cr_assert_str_eq(rec[i].message, "opened: not delivered "
			    "to webhook hook: $HOOK_URL does not hold an "
			    "http:// or https:// URL");
	}
	unsetenv("HOOK_URL");
}

/*
 * Starts the notifiers of text, hands them "opened" and "resolved" at
 * once, expects pending of them to wait, and reads the two events they
 * end with.
 */
static void
open_and_resolve(const char *text, int pending)
{
	start(text);
	tell("opened");
	tell("resolved");
	cr_assert_eq(notifiers_pending(ns), pending);
	settle();
	read_timeline();
	cr_assert_eq(nev, 2);
}

Test(notifiers, a_webhook_tells_each_notification_in_order)
{
	open_and_resolve("notify \"hook\" { webhook = "
	    "\"http://127.0.0.1:1/hook\", tries = 2, backoff = \"100ms\" }\n",
	    2);
	cr_assert_str_eq(rec[0].message, "opened: not delivered to webhook "
	    "hook: after 2 tries: connection refused");
	cr_assert_str_eq(rec[1].message, "resolved: not delivered to webhook "
	    "hook: after 2 tries: connection refused");
}

Test(notifiers, alertmanager_keeps_only_the_newest_state)
{
	/* Only the resolution is left to send. */
	open_and_resolve("notify \"am\" { alertmanager = \"http://127.0.0.1:1\","
	    " tries = 2, backoff = \"100ms\" }\n", 1);
	cr_assert_str_eq(rec[0].message, "opened: not delivered to "
	    "Alertmanager am: superseded by resolved before it was sent");
	cr_assert_eq(num(rec[0].data, "tries"), 0);
	cr_assert_str_eq(rec[1].message, "resolved: not delivered to "
	    "Alertmanager am: after 2 tries: connection refused");
	cr_assert_str_eq(str(rec[1].data, "type"), "alertmanager");
}

Test(notifiers, stopping_records_what_was_not_delivered)
{
	start("notify \"pager\" { command = { argv = { \"/bin/true\" } } }\n");
	tell("opened");
	notifiers_free(&ns);
	read_timeline();
	cr_assert_eq(nev, 1);
	cr_assert_str_eq(rec[0].kind, "notify.failed");
	cr_assert_str_eq(rec[0].message, "opened: not delivered to command "
	    "pager: lookout stopped before it was sent");
}

Test(notifiers, said_again_only_alertmanager_hears_it)
{
	struct notify_event ev = opened;

	/* A watcher that restarted says again what is still open: the
	 * command heard it already, Alertmanager must keep hearing it. */
	start("notify \"pager\" { command = { argv = { \"/bin/true\" } } }\n"
	    "notify \"am\" { alertmanager = \"http://127.0.0.1:1\","
	    " tries = 1 }\n");
	ev.incident_id = incident;
	ev.again = true;
	notifiers_send(ns, &ev);
	cr_assert_eq(notifiers_pending(ns), 1);
	settle();
	read_timeline();
	cr_assert_eq(nev, 1);
	cr_assert_str_eq(str(rec[0].data, "type"), "alertmanager");
}
