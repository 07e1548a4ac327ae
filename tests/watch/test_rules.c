/*
 * watch/rules.c: when a state is an incident, when it is healthy again,
 * and state changes gathered into one event per window.  Made-up states
 * and made-up times: nothing here waits or reads a clock.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "private.h"
#include "said.h"

static struct wrules *w;
/* The checks handed with the last FIRE of unhealthy. */
static struct wcheck checks[WCHECKS_MAX];
static size_t nchecks;

static void
on_action(const struct waction *a, void *data)
{
	static const char *const kinds[] = { "CHANGE", "FIRE", "CLEAR",
	    "WARN", "HEALTHY", "SICK" };

	(void)data;
	switch (a->kind) {
	case WA_CHANGE:
		said("CHANGE %s %s -> %s x%d @%lld", a->subject, a->from,
		    a->to, a->count, (long long)a->at_ms);
		break;
	case WA_FIRE:
		said("FIRE %s %s %s @%lld", a->subject,
		    config_watch_rule_name(a->rule), a->severity,
		    (long long)a->at_ms);
		nchecks = a->nchecks;
		if (a->nchecks > 0)
			memcpy(checks, a->checks, a->nchecks * sizeof *checks);
		break;
	case WA_CLEAR:
	case WA_WARN:
		said("%s %s %s @%lld", kinds[a->kind], a->subject,
		    config_watch_rule_name(a->rule), (long long)a->at_ms);
		break;
	default:
		said("%s %s @%lld", kinds[a->kind], a->subject,
		    (long long)a->at_ms);
		break;
	}
}

static void
setup(void)
{
	w = wrules_new(1000, on_action, NULL);
	told();
	nchecks = 0;
}

static void
teardown(void)
{
	wrules_free(&w);
}

TestSuite(rules, .init = setup, .fini = teardown, .timeout = 10);

static struct probe_service
svc(const char *active, const char *sub, unsigned flags,
    enum probe_health health)
{
	struct probe_service s = { .name = "bus", .latency_ms = -1 };

	snprintf(s.load, sizeof s.load, "loaded");
	snprintf(s.active, sizeof s.active, "%s", active);
	snprintf(s.sub, sizeof s.sub, "%s", sub);
	snprintf(s.enabled, sizeof s.enabled, "enabled");
	s.flags = flags;
	s.health = health;
	return s;
}

/* The states a unit passes through, without an endpoint check. */
#define STATE(a, s, f) { .name = "bus", .load = "loaded", .active = a, \
    .sub = s, .flags = f, .health = HEALTH_NONE, .latency_ms = -1 }
static const struct probe_service running = STATE("active", "running", 0);
static const struct probe_service failed_unit = STATE("failed", "failed",
    SVC_FAILED);
static const struct probe_service dead_unit = STATE("inactive", "dead",
    SVC_INACTIVE);
static const struct probe_service starting_unit = STATE("activating",
    "start", 0);
static const struct probe_service restarting_unit = STATE("activating",
    "auto-restart", 0);

/* watch = { } with nothing set, as the configuration leaves it. */
static struct config_watch
unset(void)
{
	struct config_watch c = { .unhealthy_after = -1 };

	c.down_after_ms = c.restarts = c.restart_window_ms = -1;
	c.paused_after_ms = c.crit_after_ms = c.growing_for_ms = -1;
	return c;
}

static size_t
add(bool queue, const char *name, const struct config_watch *c)
{
	struct wsettings s;

	wsettings_from(c, &s);
	return wrules_add(w, queue, name, &s);
}

Test(rules, a_healthy_service_says_nothing_but_that_it_is_healthy)
{
	size_t id = add(false, "bus", NULL);

	wrules_service(w, id, &running, 1000);
	wrules_service(w, id, &running, 2000);
	wrules_tick(w, 10000);
	cr_expect_str_eq(told(), "HEALTHY bus @1000");
	cr_expect_eq(wrules_next(w), 0);
}

Test(rules, a_failed_unit_is_down_from_its_first_failing_sample)
{
	size_t id = add(false, "bus", NULL);
	struct probe_service failed = failed_unit;

	wrules_service(w, id, &running, 1000);
	told();
	wrules_service(w, id, &failed, 2000);
	cr_expect_str_eq(told(), "SICK bus @2000");
	cr_expect_eq(wrules_next(w), 2500);	/* down_after, 500ms */
	wrules_service(w, id, &failed, 2200);
	wrules_tick(w, 2499);
	cr_expect_str_eq(told(), "");
	wrules_tick(w, 2500);
	/* The incident first, then the change that came with it. */
	cr_expect_str_eq(told(), "FIRE bus down P2 @2000; "
	    "CHANGE bus active/running -> failed/failed (failed) x1 @2000");
	wrules_service(w, id, &failed, 4000);
	wrules_tick(w, 5000);
	cr_expect_str_eq(told(), "");
}

Test(rules, a_restart_by_systemd_passes_through_failed_and_is_not_down)
{
	size_t id = add(false, "bus", NULL);
	struct probe_service failed = failed_unit;
	struct probe_service waiting = restarting_unit;

	wrules_service(w, id, &running, 1000);
	wrules_service(w, id, &failed, 2000);
	wrules_service(w, id, &waiting, 2001);
	wrules_service(w, id, &running, 2200);
	wrules_tick(w, 10000);
	cr_expect(strstr(told(), "FIRE") == NULL);
}

Test(rules, a_unit_failed_before_it_was_watched_is_down_too)
{
	size_t id = add(false, "bus", NULL);
	struct probe_service failed = failed_unit;

	/* Seed 000: it died at 21:48, the watcher starts at 06:49. */
	wrules_service(w, id, &failed, 5000);
	wrules_tick(w, 6000);
	cr_expect_str_eq(told(), "SICK bus @5000; FIRE bus down P2 @5000");
}

Test(rules, inactive_is_down_only_after_down_after)
{
	struct config_watch c = unset();
	struct probe_service dead = dead_unit;
	struct probe_service starting = starting_unit;
	size_t id;

	c.down_after_ms = 1500;
	id = add(false, "bus", &c);
	wrules_service(w, id, &running, 1000);
	told();
	/* A restart by hand: inactive a moment, then a start job. */
	wrules_service(w, id, &dead, 2000);
	wrules_service(w, id, &starting, 2100);
	wrules_tick(w, 5000);
	wrules_service(w, id, &running, 5000);
	wrules_tick(w, 6000);
	cr_expect(strstr(told(), "FIRE") == NULL);
	/* Stopped for good: down, detected when it stopped. */
	wrules_service(w, id, &dead, 6000);
	cr_expect_eq(wrules_next(w), 6000 + 1000 /* the window */);
	wrules_tick(w, 7000);
	cr_expect_eq(wrules_next(w), 7500);
	wrules_tick(w, 7499);
	cr_expect(strstr(told(), "FIRE") == NULL);
	wrules_tick(w, 7500);
	cr_expect_str_eq(told(), "FIRE bus down P2 @6000");
	cr_expect_eq(wrules_next(w), 0);
}

Test(rules, a_unit_never_seen_active_is_not_down_when_inactive)
{
	size_t id = add(false, "bus", NULL);
	struct probe_service dead = dead_unit;

	wrules_service(w, id, &dead, 1000);
	wrules_tick(w, 100000);
	cr_expect_str_eq(told(), "HEALTHY bus @1000");
}

Test(rules, down_clears_only_when_active_again)
{
	size_t id = add(false, "bus", NULL);
	struct probe_service failed = failed_unit;
	struct probe_service starting = starting_unit;
	struct probe_service dead = dead_unit;

	wrules_service(w, id, &failed, 1000);
	wrules_tick(w, 2000);
	cr_expect(strstr(told(), "FIRE bus down") != NULL);
	/* reset-failed, then a start that takes its time: still down. */
	wrules_service(w, id, &dead, 2000);
	wrules_service(w, id, &starting, 3000);
	wrules_tick(w, 3500);
	cr_expect_str_eq(told(), "CHANGE bus failed/failed (failed) -> "
	    "activating/start x2 @2000");
	wrules_service(w, id, &running, 9000);
	wrules_tick(w, 10000);
	/* The change first, then what it means. */
	cr_expect_str_eq(told(), "CHANGE bus activating/start -> "
	    "active/running x1 @9000; CLEAR bus down @9000; HEALTHY bus @9000");
}

Test(rules, unhealthy_counts_checks_in_a_row_and_keeps_them)
{
	size_t id = add(false, "bus", NULL);
	struct probe_service s = svc("active", "running", 0, HEALTH_OK);

	s.checks = 1;
	wrules_service(w, id, &s, 1000);
	told();
	s.flags = SVC_UNHEALTHY;
	s.health = HEALTH_FAILING;
	snprintf(s.reason, sizeof s.reason, "HTTP 404 with an empty body");
	s.checks = 2;
	wrules_service(w, id, &s, 2000);
	/* The same answer seen again is not another check. */
	wrules_service(w, id, &s, 2500);
	cr_expect(strstr(told(), "FIRE") == NULL);
	/* A pass ends the run. */
	s.health = HEALTH_OK;
	s.flags = 0;
	s.checks = 3;
	wrules_service(w, id, &s, 3000);
	s.health = HEALTH_FAILING;
	s.flags = SVC_UNHEALTHY;
	s.checks = 4;
	wrules_service(w, id, &s, 4000);
	cr_expect(strstr(told(), "FIRE") == NULL);
	s.checks = 5;
	wrules_service(w, id, &s, 5000);
	/* Detected at the first failing check of the run. */
	cr_expect(strstr(told(), "FIRE bus unhealthy P2 @4000") != NULL);
	cr_assert_eq(nchecks, 2);
	cr_expect_eq(checks[0].at_ms, 4000);
	cr_expect_eq(checks[1].at_ms, 5000);
	cr_expect_str_eq(checks[1].reason, "HTTP 404 with an empty body");
	s.checks = 6;
	wrules_service(w, id, &s, 6000);
	cr_expect(strstr(told(), "FIRE") == NULL);
	s.health = HEALTH_OK;
	s.flags = 0;
	s.checks = 7;
	wrules_service(w, id, &s, 7000);
	cr_expect(strstr(told(), "CLEAR bus unhealthy @7000; "
	    "HEALTHY bus @7000") != NULL);
}

Test(rules, unhealthy_after_comes_from_the_configuration)
{
	struct config_watch c = unset();
	struct probe_service s = svc("active", "running", SVC_UNHEALTHY,
	    HEALTH_FAILING);
	size_t id;

	c.unhealthy_after = 1;
	snprintf(c.severity, sizeof c.severity, "P1");
	id = add(false, "bus", &c);
	s.checks = 1;
	wrules_service(w, id, &s, 1000);
	cr_expect(strstr(told(), "FIRE bus unhealthy P1 @1000") != NULL);
}

Test(rules, many_failing_checks_keep_the_first_ones_and_the_latest)
{
	size_t id = add(false, "bus", NULL);
	struct probe_service s = svc("active", "running", SVC_UNHEALTHY,
	    HEALTH_FAILING);
	struct config_watch c = unset();

	c.unhealthy_after = 9;
	id = add(false, "late", &c);
	for (int i = 1; i <= 9; i++) {
		s.checks = i;
		wrules_service(w, id, &s, i * 1000);
	}
	cr_expect(strstr(told(), "FIRE late unhealthy P2 @1000") != NULL);
	cr_assert_eq(nchecks, WCHECKS_MAX);
	cr_expect_eq(checks[0].at_ms, 1000);
	cr_expect_eq(checks[WCHECKS_MAX - 2].at_ms, (WCHECKS_MAX - 1) * 1000);
	cr_expect_eq(checks[WCHECKS_MAX - 1].at_ms, 9000);
}

Test(rules, a_process_in_a_deleted_directory_fires_at_once)
{
	size_t id = add(false, "bus", NULL);
	struct probe_service s = svc("active", "running", SVC_DELETED_CWD,
	    HEALTH_NONE);

	wrules_service(w, id, &running, 1000);
	told();
	snprintf(s.reason, sizeof s.reason, "pid 42 runs in a deleted "
	    "directory");
	wrules_service(w, id, &s, 2000);
	cr_expect(strstr(told(), "FIRE bus deleted P2 @2000") != NULL);
	wrules_service(w, id, &running, 3000);
	cr_expect(strstr(told(), "CLEAR bus deleted @3000; "
	    "HEALTHY bus @3000") != NULL);
}

Test(rules, a_restart_loop_is_one_incident)
{
	size_t id = add(false, "bus", NULL);
	struct probe_service up = running, waiting = restarting_unit;
	const char *t;
	int64_t now = 1000;

	wrules_service(w, id, &up, now);
	told();
	/* A crash every 10 s, restarted 100 ms later: never "down". */
	for (int i = 1; i <= 6; i++) {
		now += 10000;
		waiting.restarts = up.restarts = i - 1;
		wrules_service(w, id, &waiting, now);
		up.restarts = i;
		wrules_service(w, id, &up, now + 100);
		wrules_tick(w, now + 1100);
	}
	t = told();
	/* Detected at the loop's first restart. */
	cr_expect(strstr(t, "FIRE bus restarting P3 @11100") != NULL, "%s",
	    t);
	cr_expect(strstr(t, "FIRE bus down") == NULL, "%s", t);
	cr_expect_eq(strstr(strstr(t, "FIRE") + 1, "FIRE"), NULL, "%s", t);
	/* It stays up: the loop is over once a whole window passes without
	 * a restart, mitigated from when it came up. */
	cr_expect_eq(wrules_next(w), now + 100 + 5 * 60 * 1000);
	wrules_tick(w, now + 100 + 5 * 60 * 1000 - 1);
	cr_expect(strstr(told(), "CLEAR") == NULL);
	wrules_tick(w, now + 100 + 5 * 60 * 1000);
	cr_expect_str_eq(told(), "CLEAR bus restarting @61100; "
	    "HEALTHY bus @61100");
}

Test(rules, a_slow_restart_loop_is_down_until_it_is_a_loop)
{
	size_t id = add(false, "bus", NULL);
	struct probe_service up = running, failed = failed_unit;
	struct probe_service waiting = restarting_unit;
	const char *t;
	int64_t now = 1000;

	wrules_service(w, id, &up, now);
	told();
	/* RestartSec=5s: each crash waits long enough to be down. */
	for (int i = 1; i <= 5; i++) {
		now += 10000;
		failed.restarts = waiting.restarts = i - 1;
		wrules_service(w, id, &failed, now);
		wrules_service(w, id, &waiting, now + 1);
		wrules_tick(w, now + 2000);
		up.restarts = i;
		wrules_service(w, id, &up, now + 5000);
	}
	t = told();
	/* Each crash is down until the third restart makes it a loop
	 * (detected at its first restart); then the crashes are the
	 * loop's. */
	cr_expect(strstr(t, "FIRE bus down P2 @31000") != NULL, "%s", t);
	cr_expect(strstr(t, "FIRE bus restarting P3 @16000") != NULL, "%s", t);
	cr_expect(strstr(t, "FIRE bus down P2 @41000") == NULL, "%s", t);
	cr_expect(strstr(t, "FIRE bus down P2 @51000") == NULL, "%s", t);
}

Test(rules, not_enabled_warns_once_and_opens_nothing)
{
	size_t id = add(false, "bus", NULL);
	struct probe_service s = svc("active", "running", SVC_NOT_ENABLED,
	    HEALTH_NONE);

	wrules_service(w, id, &s, 1000);
	wrules_service(w, id, &s, 2000);
	cr_expect_str_eq(told(), "WARN bus not-enabled @1000; "
	    "HEALTHY bus @1000");
}

Test(rules, ignored_rules_and_unwatched_subjects_say_nothing)
{
	struct config_watch c = unset(), off = unset();
	struct probe_service failed = failed_unit;
	size_t a, b;

	c.ignore = 1u << CONFIG_WATCH_DOWN;
	off.off = 1;
	a = add(false, "a", &c);
	b = add(false, "b", &off);
	wrules_service(w, a, &failed, 1000);
	wrules_service(w, b, &failed, 1000);
	cr_expect_str_eq(told(), "HEALTHY a @1000");
}

Test(rules, a_flap_inside_one_interval_is_one_change_with_a_count)
{
	size_t id = add(false, "bus", NULL);
	struct probe_service up = running;
	struct probe_service waiting = restarting_unit;

	wrules_service(w, id, &up, 1000);
	told();
	for (int i = 0; i < 4; i++) {
		wrules_service(w, id, &waiting, 2000 + i * 200);
		wrules_service(w, id, &up, 2100 + i * 200);
	}
	wrules_tick(w, 2999);
	cr_expect(strstr(told(), "CHANGE") == NULL);
	wrules_tick(w, 3000);
	cr_expect_str_eq(told(), "CHANGE bus active/running -> active/running "
	    "x8 @2000");
	/* The next change opens a window of its own. */
	wrules_service(w, id, &waiting, 5000);
	wrules_flush(w, 5001);
	cr_expect(strstr(told(), "CHANGE bus active/running -> "
	    "activating/auto-restart x1 @5000") != NULL);
}

static struct probe_queue
queue(enum probe_queue_state st, unsigned flags)
{
	struct probe_queue q = { .name = "mail", .depth = 5, .state = st,
	    .flags = flags };

	return q;
}

Test(rules, a_stalled_queue_fires_at_once)
{
	size_t id = add(true, "mail", NULL);
	struct probe_queue ok = queue(QSTATE_OK, 0);
	struct probe_queue stalled = queue(QSTATE_STALLED, Q_STALLED);

	wrules_queue(w, id, &ok, 1000);
	told();
	wrules_queue(w, id, &stalled, 2000);
	cr_expect_str_eq(told(), "FIRE mail stalled P2 @2000; CHANGE mail ok "
	    "-> stalled (stalled) x1 @2000; SICK mail @2000");
}

Test(rules, paused_crit_and_growing_fire_after_their_grace)
{
	struct config_watch c = unset();
	struct probe_queue paused = queue(QSTATE_PAUSED, Q_PAUSED);
	struct probe_queue crit = queue(QSTATE_CRIT, 0);
	struct probe_queue growing = queue(QSTATE_OK, Q_GROWING);
	size_t p, k, g;

	c.paused_after_ms = 2000;
	c.crit_after_ms = 3000;
	c.growing_for_ms = 4000;
	p = add(true, "p", &c);
	k = add(true, "k", &c);
	g = add(true, "g", &c);
	wrules_queue(w, p, &paused, 1000);
	wrules_queue(w, k, &crit, 1000);
	wrules_queue(w, g, &growing, 1000);
	told();
	cr_expect_eq(wrules_next(w), 3000);
	wrules_tick(w, 3000);
	cr_expect_str_eq(told(), "FIRE p paused P2 @1000");
	wrules_tick(w, 5000);
	cr_expect_str_eq(told(), "FIRE k crit P2 @1000; FIRE g growing P3 @1000");
}

Test(rules, a_queue_back_to_normal_inside_the_grace_fires_nothing)
{
	size_t id = add(true, "mail", NULL);
	struct probe_queue ok = queue(QSTATE_OK, 0);
	struct probe_queue paused = queue(QSTATE_PAUSED, Q_PAUSED);

	wrules_queue(w, id, &paused, 1000);
	wrules_queue(w, id, &ok, 60000);
	wrules_tick(w, 10 * 60 * 1000);
	cr_expect(strstr(told(), "FIRE") == NULL);
}

Test(rules, a_source_that_stops_answering_warns_and_clears_nothing)
{
	size_t id = add(true, "mail", NULL);
	struct probe_queue ok = queue(QSTATE_OK, 0);
	struct probe_queue stalled = queue(QSTATE_STALLED, Q_STALLED);
	struct probe_queue stale = queue(QSTATE_UNKNOWN, Q_STALE);

	wrules_queue(w, id, &stalled, 1000);
	told();
	wrules_queue(w, id, &stale, 2000);
	cr_expect_str_eq(told(), "WARN mail stale @2000");
	wrules_queue(w, id, &ok, 3000);
	wrules_flush(w, 3000);
	cr_expect(strstr(told(), "CLEAR mail stalled @3000; "
	    "HEALTHY mail @3000") != NULL);
}

Test(rules, a_queue_never_read_is_not_a_state)
{
	size_t id = add(true, "mail", NULL);
	struct probe_queue unread = queue(QSTATE_UNKNOWN, 0);

	wrules_queue(w, id, &unread, 1000);
	cr_expect_str_eq(told(), "");
}

Test(rules, subjects_keep_their_state_across_a_reload)
{
	struct config_watch p1 = unset();
	struct probe_service failed = failed_unit;
	size_t a, b;

	snprintf(p1.severity, sizeof p1.severity, "P1");
	a = add(false, "a", NULL);
	add(false, "gone", NULL);
	wrules_service(w, a, &failed, 1000);
	wrules_tick(w, 2000);
	told();
	wrules_reset(w);
	b = add(false, "b", &p1);
	a = add(false, "a", &p1);
	wrules_prune(w);
	cr_expect_eq(wrules_count(w), 2);
	/* a is still down, told once; b is new. */
	wrules_service(w, a, &failed, 2000);
	wrules_service(w, b, &failed, 2000);
	wrules_tick(w, 3000);
	cr_expect_str_eq(told(), "SICK b @2000; FIRE b down P1 @2000");
	cr_expect_str_eq(wrules_label(w, a), "failed/failed (failed)");
}
