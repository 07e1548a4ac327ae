/*
 * watch/track.c: the incidents the watcher follows, mitigated when all of
 * their subjects are healthy again and resolved once that has held for
 * resolve_after.  Made-up times.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "private.h"
#include "said.h"

static struct wtrack *t;
static int64_t forget_on_mitigated;

static void
on_track(enum wtrack_kind kind, int64_t id, int64_t at, const char *subject,
    int rule, void *data)
{
	(void)data;
	if (id == 5)
		said("%s %lld @%lld (%s %s)", kind == WT_MITIGATED ?
		    "mitigated" : "resolved", (long long)id, (long long)at,
		    subject, config_watch_rule_name(rule));
	else
		said("%s %lld @%lld", kind == WT_MITIGATED ? "mitigated" :
		    "resolved", (long long)id, (long long)at);
	if (kind == WT_MITIGATED && id == forget_on_mitigated)
		wtrack_forget(t, id);
}

static void
setup(void)
{
	t = wtrack_new(5000, on_track, NULL);
	told();
	forget_on_mitigated = 0;
}

static void
teardown(void)
{
	wtrack_free(&t);
}

TestSuite(track, .init = setup, .fini = teardown, .timeout = 10);

Test(track, mitigated_when_healthy_resolved_after_resolve_after)
{
	wtrack_fire(t, 7, "bus", CONFIG_WATCH_DOWN);
	cr_expect_eq(wtrack_find(t, "bus"), 7);
	cr_expect_eq(wtrack_find(t, "other"), 0);
	wtrack_healthy(t, "bus", 10000);
	cr_expect_str_eq(told(), "mitigated 7 @10000");
	cr_expect_eq(wtrack_next(t), 15000);
	wtrack_tick(t, 14999);
	cr_expect_str_eq(told(), "");
	wtrack_tick(t, 15000);
	cr_expect_str_eq(told(), "resolved 7 @15000");
	/* Resolved: no longer followed, the next failure is a new one. */
	cr_expect_eq(wtrack_find(t, "bus"), 0);
	cr_expect_eq(wtrack_count(t), 0);
}

Test(track, all_of_its_subjects_at_the_latest_of_their_times)
{
	wtrack_fire(t, 1, "worker", CONFIG_WATCH_DOWN);
	wtrack_fire(t, 1, "mail", CONFIG_WATCH_DOWN);
	wtrack_healthy(t, "mail", 3000);
	cr_expect_str_eq(told(), "");
	wtrack_healthy(t, "worker", 2000);
	cr_expect_str_eq(told(), "mitigated 1 @3000");
	cr_expect_eq(wtrack_next(t), 8000);
}

Test(track, sick_again_waits_again_and_is_mitigated_once)
{
	wtrack_fire(t, 3, "bus", CONFIG_WATCH_DOWN);
	wtrack_healthy(t, "bus", 1000);
	told();
	wtrack_sick(t, "bus");
	cr_expect_eq(wtrack_next(t), 0);
	wtrack_tick(t, 7000);
	wtrack_healthy(t, "bus", 8000);
	cr_expect_str_eq(told(), "");
	wtrack_tick(t, 12999);
	cr_expect_str_eq(told(), "");
	wtrack_tick(t, 13000);
	cr_expect_str_eq(told(), "resolved 3 @13000");
}

Test(track, fired_again_before_resolution_waits_again)
{
	wtrack_fire(t, 3, "bus", CONFIG_WATCH_DOWN);
	wtrack_healthy(t, "bus", 1000);
	told();
	wtrack_fire(t, 3, "bus", CONFIG_WATCH_DOWN);
	wtrack_tick(t, 60000);
	cr_expect_str_eq(told(), "");
}

Test(track, an_adopted_incident_is_mitigated_once_its_subjects_are_seen_well)
{
	const char *subs[] = { "bus", "mail" };

	wtrack_adopt(t, 9, subs, 2, -1);
	cr_expect(wtrack_has(t, 9));
	wtrack_healthy(t, "bus", 500);
	cr_expect_str_eq(told(), "");
	wtrack_healthy(t, "mail", 600);
	cr_expect_str_eq(told(), "mitigated 9 @600");
}

Test(track, a_person_resolving_it_ends_the_following)
{
	wtrack_fire(t, 4, "bus", CONFIG_WATCH_DOWN);
	wtrack_forget(t, 4);
	cr_expect_not(wtrack_has(t, 4));
	wtrack_healthy(t, "bus", 1000);
	wtrack_tick(t, 60000);
	cr_expect_str_eq(told(), "");
}

Test(track, the_callback_may_forget_what_it_is_told_of)
{
	wtrack_fire(t, 1, "bus", CONFIG_WATCH_DOWN);
	wtrack_fire(t, 2, "bus2", CONFIG_WATCH_DOWN);
	wtrack_fire(t, 3, "bus", CONFIG_WATCH_DOWN);
	forget_on_mitigated = 1;
	wtrack_healthy(t, "bus", 1000);
	cr_expect_str_eq(told(), "mitigated 1 @1000; mitigated 3 @1000");
	cr_expect_not(wtrack_has(t, 1));
	cr_expect(wtrack_has(t, 2));
	cr_expect(wtrack_has(t, 3));
}

Test(track, a_new_resolve_after_moves_the_resolution)
{
	wtrack_fire(t, 1, "bus", CONFIG_WATCH_DOWN);
	wtrack_healthy(t, "bus", 1000);
	wtrack_set_resolve_after(t, 60000);
	cr_expect_eq(wtrack_next(t), 61000);
}

Test(track, what_opened_it_is_told_with_each_milestone)
{
	wtrack_fire(t, 5, "mail", CONFIG_WATCH_STALLED);
	wtrack_fire(t, 5, "worker", CONFIG_WATCH_DELETED);
	wtrack_healthy(t, "mail", 100);
	wtrack_healthy(t, "worker", 200);
	wtrack_tick(t, 5200);
	cr_expect_str_eq(told(), "mitigated 5 @200 (mail stalled); "
	    "resolved 5 @5200 (mail stalled)");
}

Test(track, evidence_of_a_rule_that_flaps_is_added_once_a_gap)
{
	wtrack_fire(t, 1, "bus", CONFIG_WATCH_UNHEALTHY);
	cr_expect(wtrack_evidence_due(t, 1, "bus", CONFIG_WATCH_UNHEALTHY,
	    1000, 5000));
	cr_expect_not(wtrack_evidence_due(t, 1, "bus", CONFIG_WATCH_UNHEALTHY,
	    4000, 5000));
	/* Another rule has its own. */
	cr_expect(wtrack_evidence_due(t, 1, "bus", CONFIG_WATCH_DOWN, 4000,
	    5000));
	cr_expect(wtrack_evidence_due(t, 1, "bus", CONFIG_WATCH_UNHEALTHY,
	    6000, 5000));
}
