/*
 * runbooks: the run state a front end reads (steps, answers, output) and
 * the operator's cancel, on one loop, with real commands and no systemd.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

TestSuite(run_state, .init = setup, .fini = teardown, .timeout = 30);

/* A front end that only remembers what it was told. */
struct fe {
	int confirms;
	int changes;
	bool done;
};

static void fe_confirm(void *d, struct rb_run *r, int step, const char *n,
    const char *plan, bool failed)
{
	(void)r; (void)step; (void)n; (void)plan; (void)failed;
	((struct fe *)d)->confirms++;
}

static void fe_done(void *d, struct rb_run *r)
{
	(void)r;
	((struct fe *)d)->done = true;
}

static void fe_changed(void *d, struct rb_run *r)
{
	(void)r;
	((struct fe *)d)->changes++;
}

static const struct rb_frontend frontend = {
	.confirm = fe_confirm, .done = fe_done, .changed = fe_changed,
};

static struct rb_run *
start(const char *src, struct fe *f)
{
	struct rb_run_opts opts = { 0 };
	struct rb_run *r = NULL;
	struct lk_err err = { 0 };

	cr_assert_eq(rb_run_start(loop, store, NULL, NULL, book(src), &opts,
	    &frontend, f, &r, &err), LK_OK, "%s", err.msg);
	return r;
}

/* Runs the loop until cond holds (at most 10 s). */
#define RUN_UNTIL(cond) do {						\
	long long until_ = loop_now_ms() + 10000;			\
	while (!(cond) && loop_now_ms() < until_)			\
		loop_run_once(loop, 50);				\
	cr_assert(cond, "never: %s", #cond);				\
} while (0)

static enum rb_step_state
state(struct rb_run *r, size_t i)
{
	struct rb_step_info info;

	rb_run_step_info(r, i, &info);
	return info.state;
}

Test(run_state, steps_answers_and_output_as_the_run_goes)
{
	static const char src[] =
	    "return runbook { name = \"state\",\n"
	    "  step \"greet\" { function(p) return sh { \"/bin/echo\", \"hello from the step\" } end },\n"
	    "  step \"fail\" { function(p) return sh { \"/bin/false\" } end },\n"
	    "  step \"last\" { function(p) return sh { \"/bin/true\" } end },\n"
	    "}\n";
	struct fe f = { 0 };
	struct rb_run *r = start(src, &f);
	struct rb_step_info info;
	char *out;

	cr_expect_eq(rb_run_nsteps(r), 3);
	RUN_UNTIL(f.confirms == 1);
	cr_expect_eq(rb_run_current(r), 0);
	cr_expect_eq(state(r, 0), RB_STEP_WAITING);
	cr_expect_eq(state(r, 1), RB_STEP_PENDING);
	rb_run_step_info(r, 0, &info);
	cr_expect_str_eq(info.name, "greet");
	cr_expect(info.plan && strstr(info.plan, "hello from the step"),
	    "plan: %s", info.plan);
	cr_expect_eq(rb_run_answers(r), RB_ANSWER(RB_YES) |
	    RB_ANSWER(RB_SKIP) | RB_ANSWER(RB_ABORT));
	cr_expect_not(rb_run_answer(r, RB_RETRY), "retry before a failure");
	cr_assert(rb_run_answer(r, RB_YES));
	cr_expect_eq(rb_run_answers(r), 0, "nothing is asked while it runs");

	RUN_UNTIL(f.confirms == 2);
	cr_expect_eq(state(r, 0), RB_STEP_OK);
	out = rb_run_output(r);
	cr_expect(out && strstr(out, "hello from the step"), "output: %s", out);
	free(out);
	rb_run_step_info(r, 0, &info);
	cr_expect(info.started_ms > 0 && info.finished_ms >= info.started_ms);
	cr_assert(rb_run_answer(r, RB_YES));

	/* The failure offers retry, skip, abort, never a bare yes. */
	RUN_UNTIL(f.confirms == 3);
	cr_expect_eq(state(r, 1), RB_STEP_FAILED);
	rb_run_step_info(r, 1, &info);
	cr_expect(info.outcome && strstr(info.outcome, "status 1"), "%s",
	    info.outcome);
	cr_expect_eq(rb_run_answers(r), RB_ANSWER(RB_RETRY) |
	    RB_ANSWER(RB_SKIP) | RB_ANSWER(RB_ABORT));
	cr_expect_not(rb_run_answer(r, RB_YES));
	cr_assert(rb_run_answer(r, RB_SKIP));
	RUN_UNTIL(f.confirms == 4);
	cr_expect_eq(rb_run_current(r), 2);
	cr_assert(rb_run_answer(r, RB_YES));
	RUN_UNTIL(f.done);
	cr_expect_eq(state(r, 2), RB_STEP_OK);
	cr_expect_eq(rb_run_exit_status(r), 0, "%s", rb_run_summary(r));
	cr_expect_gt(f.changes, 6, "the front end was told of every change");
	rb_run_free(&r);
}

Test(run_state, a_cancelled_command_fails_its_step_and_offers_a_retry)
{
	static const char src[] =
	    "return runbook { name = \"cancel\",\n"
	    "  step \"long\" { function(p) return sh { \"/bin/sleep\", \"30\" } end },\n"
	    "}\n";
	struct fe f = { 0 };
	struct rb_run *r = start(src, &f);
	struct rb_step_info info;
	long long t0;

	RUN_UNTIL(f.confirms == 1);
	cr_assert(rb_run_answer(r, RB_YES));
	RUN_UNTIL(state(r, 0) == RB_STEP_RUNNING);
	/* Let the command start before it is cancelled. */
	t0 = loop_now_ms();
	while (loop_now_ms() - t0 < 200)
		loop_run_once(loop, 50);
	rb_run_cancel(r);
	RUN_UNTIL(f.confirms == 2);
	rb_run_step_info(r, 0, &info);
	cr_expect_eq(info.state, RB_STEP_FAILED);
	cr_expect(info.outcome && strstr(info.outcome, "cancelled by the "
	    "operator"), "%s", info.outcome);
	cr_expect(rb_run_answers(r) & RB_ANSWER(RB_RETRY));
	cr_assert(rb_run_answer(r, RB_ABORT));
	RUN_UNTIL(f.done);
	cr_expect_eq(rb_run_exit_status(r), 3);
	rb_run_free(&r);
}

Test(run_state, a_cancelled_wait_ends_its_action_failed)
{
	static const char src[] =
	    "return runbook { name = \"wait\",\n"
	    "  step \"poll\" { function(p)\n"
	    "    return wait_until { function() return false end, timeout = \"1m\", interval = \"10s\" } end },\n"
	    "}\n";
	struct fe f = { 0 };
	struct rb_run *r = start(src, &f);
	struct rb_step_info info;

	RUN_UNTIL(f.confirms == 1);
	cr_assert(rb_run_answer(r, RB_YES));
	RUN_UNTIL(state(r, 0) == RB_STEP_RUNNING);
	loop_run_once(loop, 50);
	rb_run_cancel(r);
	RUN_UNTIL(f.confirms == 2);
	rb_run_step_info(r, 0, &info);
	cr_expect_eq(info.state, RB_STEP_FAILED);
	cr_expect(info.outcome && strstr(info.outcome, "cancelled"), "%s",
	    info.outcome);
	cr_assert(rb_run_answer(r, RB_ABORT));
	RUN_UNTIL(f.done);
	rb_run_free(&r);
}
