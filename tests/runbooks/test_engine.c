/* runbooks: the step engine on one loop, without systemd. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

TestSuite(engine, .init = setup, .fini = teardown, .timeout = 30);

/* A run of src, started with every step confirmed in advance. */
static struct rb_run *
start(const char *src)
{
	struct rb_run_opts opts = { .yes = true };
	struct rb_run *r = NULL;
	struct lk_err err = { 0 };

	cr_assert_eq(rb_run_start(loop, store, NULL, NULL, book(src), &opts,
	    NULL, NULL, &r, &err), LK_OK, "%s", err.msg);
	return r;
}

struct order {
	char events[4096];
};

static int
note_event(const struct store_event *ev, void *arg)
{
	struct order *o = arg;
	char line[128];

	if (strcmp(ev->kind, "step.started") != 0 &&
	    strcmp(ev->kind, "run.finished") != 0)
		return 0;
	snprintf(line, sizeof line, "%lld:%s ", (long long)ev->run_id,
	    ev->kind);
	strcat(o->events, line);
	return 0;
}

Test(engine, two_runs_are_in_flight_on_one_loop)
{
	static const char src[] =
	    "return runbook { name = \"%s\",\n"
	    "  step \"wait\" { function(p) return sh { \"/bin/sleep\", \"0.3\" } end },\n"
	    "  step \"again\" { function(p) return sh { \"/bin/true\" } end },\n"
	    "}\n";
	struct rb_run *a, *b;
	struct lk_err err = { 0 };
	struct order o = { "" };
	char text[512];

	snprintf(text, sizeof text, src, "first");
	a = start(text);
	snprintf(text, sizeof text, src, "second");
	b = start(text);
	while (!rb_run_finished(a) || !rb_run_finished(b))
		cr_assert_geq(loop_run_once(loop, 1000), 0);
	cr_expect_eq(rb_run_exit_status(a), 0, "%s", rb_run_summary(a));
	cr_expect_eq(rb_run_exit_status(b), 0, "%s", rb_run_summary(b));
	cr_assert_eq(store_event_foreach(store, 0, note_event, &o, &err), LK_OK);
	/* Both runs' first steps started before either run finished. */
	cr_expect(strstr(o.events, "1:step.started 2:step.started") != NULL,
	    "%s", o.events);
	rb_run_free(&a);
	rb_run_free(&b);
}

/*
 * One loop runs both: the runaway step holds the loop for at most its Lua
 * slice, is stopped with a reason, and the other run carries on to the end.
 */
Test(engine, a_runaway_step_stops_and_other_runs_go_on)
{
	static const char spin[] =
	    "return runbook { name = \"spin\",\n"
	    "  step \"spin\" { function(p) while true do end end },\n"
	    "}\n";
	static const char calm[] =
	    "return runbook { name = \"calm\",\n"
	    "  step \"one\" { function(p) return sh { \"/bin/sleep\", \"0.2\" } end },\n"
	    "  step \"two\" { function(p) return sh { \"/bin/true\" } end },\n"
	    "}\n";
	struct rb_run *c = start(calm), *r = start(spin);

	while (!rb_run_finished(r) || !rb_run_finished(c))
		cr_assert_geq(loop_run_once(loop, 50), 0);
	cr_expect_eq(rb_run_exit_status(r), 1);
	cr_expect(strstr(rb_run_summary(r), "without waiting") != NULL, "%s",
	    rb_run_summary(r));
	cr_expect_eq(rb_run_exit_status(c), 0, "%s", rb_run_summary(c));
	rb_run_free(&r);
	rb_run_free(&c);
}

Test(engine, unknown_and_missing_params_are_refused_before_anything_runs)
{
	static const char src[] =
	    "return runbook { name = \"p\", params = { unit = { required = true } },\n"
	    "  step \"s\" { function(p) return true end } }\n";
	const char *bad[] = { "colour=red" };
	struct rb_run_opts opts = { .yes = true, .params = bad, .nparams = 1 };
	struct rb_book *b1 = book(src), *b2 = book(src);
	struct rb_run *r = NULL;
	struct lk_err err = { 0 };

	/* A run that never started leaves the book with its caller. */
	cr_expect_eq(rb_run_start(loop, store, NULL, NULL, b1, &opts, NULL,
	    NULL, &r, &err), LK_EUSAGE);
	cr_expect(strstr(err.msg, "has no parameter \"colour\"") != NULL, "%s",
	    err.msg);
	opts.nparams = 0;
	cr_expect_eq(rb_run_start(loop, store, NULL, NULL, b2, &opts, NULL,
	    NULL, &r, &err), LK_EUSAGE);
	cr_expect(strstr(err.msg, "parameter unit is required") != NULL, "%s",
	    err.msg);
	cr_expect_null(r);
	rb_book_free(&b1);
	rb_book_free(&b2);
}

Test(engine, a_step_past_its_timeout_is_cancelled_and_fails)
{
	static const char src[] =
	    "return runbook { name = \"slow\",\n"
	    "  step \"slow\" { function(p) return sh { \"/bin/sleep\", \"5\" } end,\n"
	    "    timeout = \"300ms\" } }\n";
	struct rb_run *r = start(src);

	while (!rb_run_finished(r))
		cr_assert_geq(loop_run_once(loop, 100), 0);
	cr_expect_eq(rb_run_exit_status(r), 1);
	cr_expect(strstr(rb_run_summary(r), "took longer than 300 ms") != NULL,
	    "%s", rb_run_summary(r));
	/* The cancelled child (SIGINT ends sleep at once) still reports in
	 * through the loop, which must outlive it. */
	for (int i = 0; i < 10; i++)
		loop_run_once(loop, 50);
	rb_run_free(&r);
}
