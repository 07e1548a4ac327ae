/* probes: the queue model's rules, one seed failure mode at a time. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "queue_model.h"

static struct queue_model m;
static const struct queue_limits lim = { .warn = 100, .crit = 1000,
    .stall_after_ms = 5 * 60 * 1000, .interval_ms = 5000 };

static void
setup(void)
{
	queue_model_init(&m);
}

TestSuite(queue_model, .init = setup, .timeout = 10);

static void
add(int64_t t_s, int64_t depth)
{
	struct queue_sample s;

	queue_sample_init(&s, t_s * 1000, true);
	s.depth = depth;
	queue_model_add(&m, &s);
}

static struct probe_queue
derive(int64_t now_s)
{
	struct probe_queue q;

	memset(&q, 0, sizeof q);
	queue_model_derive(&m, &lim, now_s * 1000, &q);
	return q;
}

Test(queue_model, nothing_read_yet_is_unknown)
{
	struct probe_queue q = derive(0);

	cr_expect_eq(q.state, QSTATE_UNKNOWN);
	cr_expect_eq(q.depth, -1);
}

Test(queue_model, an_empty_queue_is_ok)
{
	add(0, 0);
	add(5, 0);
	cr_expect_eq(derive(5).state, QSTATE_OK);
}

Test(queue_model, filling_with_no_consumer_stalls_after_stall_after)
{
	int64_t t;

	for (t = 0; t <= 295; t += 5)
		add(t, 1 + t / 5);
	cr_expect_eq(derive(295).state, QSTATE_OK, "not yet: 295 s");
	cr_expect(derive(295).flags & Q_GROWING);
	add(300, 62);
	struct probe_queue q = derive(300);

	cr_expect_eq(q.state, QSTATE_STALLED);
	cr_expect(q.flags & Q_STALLED);
	cr_expect_str_eq(q.reason, "62 waiting, none consumed for 5m");
	cr_expect_gt(q.rate_in_per_min, 11.0);
	cr_expect_eq(q.rate_out_per_min, 0.0);
}

Test(queue_model, a_consumer_that_drains_clears_the_stall)
{
	for (int64_t t = 0; t <= 400; t += 5)
		add(t, 50);
	cr_expect_eq(derive(400).state, QSTATE_STALLED);
	add(405, 40);
	add(410, 20);
	struct probe_queue q = derive(410);

	cr_expect_eq(q.state, QSTATE_OK, "%s", q.reason);
	cr_expect_gt(q.rate_out_per_min, 0);
	cr_expect_gt(q.drain_minutes, 0);
}

Test(queue_model, a_changing_head_is_progress_at_constant_depth)
{
	for (int64_t t = 0; t <= 600; t += 5) {
		struct queue_sample s = { .ts_ms = t * 1000, .ok = true,
		    .depth = 7, .consumers = -1, .head = (uint64_t)t + 1,
		    .in_per_min = -1, .out_per_min = -1 };

		queue_model_add(&m, &s);
	}
	cr_expect_eq(derive(600).state, QSTATE_OK);
}

Test(queue_model, paused_wins_over_everything)
{
	struct queue_sample s = { .ts_ms = 0, .ok = true, .depth = 5000,
	    .consumers = 3, .paused = true, .in_per_min = -1,
	    .out_per_min = -1 };

	queue_model_add(&m, &s);
	struct probe_queue q = derive(1);

	cr_expect_eq(q.state, QSTATE_PAUSED);
	cr_expect(q.flags & Q_PAUSED);
	cr_expect_str_eq(q.reason, "paused with 5000 waiting");
}

Test(queue_model, a_queue_paused_past_stall_after_is_flagged_stalled_too)
{
	for (int64_t t = 0; t <= 300; t += 5) {
		struct queue_sample s = { .ts_ms = t * 1000, .ok = true,
		    .depth = 40 + t / 5, .consumers = -1, .paused = true,
		    .in_per_min = -1, .out_per_min = -1 };

		queue_model_add(&m, &s);
		if (t == 295)
			cr_expect_not(derive(295).flags & Q_STALLED,
			    "not yet: 295 s");
	}
	struct probe_queue q = derive(300);

	cr_expect_eq(q.state, QSTATE_PAUSED);
	cr_expect_eq(q.flags & (Q_PAUSED | Q_STALLED), Q_PAUSED | Q_STALLED);
	cr_expect_str_eq(q.reason, "paused with 100 waiting, none consumed "
	    "for 5m");
}

Test(queue_model, thresholds)
{
	add(0, 150);
	cr_expect_eq(derive(1).state, QSTATE_WARN);
	cr_expect_str_eq(derive(1).reason, "150 waiting (warning at 100)");
	add(5, 1000);
	cr_expect_eq(derive(6).state, QSTATE_CRIT);
}

Test(queue_model, no_consumers_flag)
{
	struct queue_sample s = { .ts_ms = 0, .ok = true, .depth = 12,
	    .consumers = 0, .in_per_min = -1, .out_per_min = -1 };

	queue_model_add(&m, &s);
	struct probe_queue q = derive(1);

	cr_expect(q.flags & Q_NO_CONSUMERS);
	cr_expect_eq(q.consumers, 0);
	cr_expect_str_eq(q.reason, "12 waiting and no consumer attached");
}

Test(queue_model, a_source_that_stops_answering_is_stale)
{
	struct queue_sample bad = { .ts_ms = 10000, .ok = false,
	    .depth = -1 };

	add(0, 3);
	add(5, 3);
	strcpy(bad.error, "timed out after 1000 ms");
	queue_model_add(&m, &bad);
	struct probe_queue q = derive(10);

	cr_expect_eq(q.state, QSTATE_UNKNOWN);
	cr_expect(q.flags & Q_STALE);
	cr_expect_eq(q.depth, 3, "the last known depth is kept");
	cr_expect(strstr(q.reason, "timed out after 1000 ms") != NULL, "%s",
	    q.reason);
}

Test(queue_model, silence_is_stale_too)
{
	add(0, 3);
	cr_expect(derive(16).flags & Q_STALE, "3 intervals without a reading");
	cr_expect_not(derive(14).flags & Q_STALE);
}

Test(queue_model, reported_rates_win)
{
	struct queue_sample s = { .ts_ms = 0, .ok = true, .depth = 600,
	    .consumers = 2, .in_per_min = 30, .out_per_min = 90 };

	queue_model_add(&m, &s);
	struct probe_queue q = derive(1);

	cr_expect_eq(q.rate_in_per_min, 30);
	cr_expect_eq(q.rate_out_per_min, 90);
	cr_expect_eq(q.drain_minutes, 10);
}

/* A RabbitMQ reading: depth split into ready and unacknowledged. */
static void
add_rabbit(int64_t t_s, int64_t ready, int64_t unacked, const char *state)
{
	struct queue_sample s;

	queue_sample_init(&s, t_s * 1000, true);
	s.depth = ready + unacked;
	s.ready = ready;
	s.unacked = unacked;
	s.consumers = 1;
	snprintf(s.broker_state, sizeof s.broker_state, "%s", state);
	queue_model_add(&m, &s);
}

Test(queue_model, a_queue_the_broker_reports_down_is_critical)
{
	add_rabbit(0, 40, 0, "down");
	struct probe_queue q = derive(1);

	cr_expect_eq(q.state, QSTATE_CRIT);
	cr_expect_str_eq(q.reason, "the broker reports the queue down, with "
	    "40 waiting");
}

Test(queue_model, flow_control_is_a_warning)
{
	add_rabbit(0, 10, 0, "flow");
	cr_expect_eq(derive(1).state, QSTATE_WARN);
	cr_expect_str_eq(derive(1).reason, "10 waiting, publishers held back "
	    "by the broker's flow control");
	add_rabbit(5, 10, 0, "running");
	cr_expect_eq(derive(6).state, QSTATE_OK);
	add_rabbit(10, 10, 0, "idle");
	cr_expect_eq(derive(11).state, QSTATE_OK);
}

Test(queue_model, a_hung_consumer_shows_what_it_holds)
{
	/* One consumer took every message and acknowledges none. */
	for (int64_t t = 0; t <= 360; t += 5)
		add_rabbit(t, 0, 40, "running");
	struct probe_queue q = derive(360);

	cr_expect_eq(q.state, QSTATE_STALLED);
	cr_expect_eq(q.ready, 0);
	cr_expect_eq(q.unacked, 40);
	cr_expect_str_eq(q.reason, "40 waiting, none consumed for 6m "
	    "(0 ready, 40 unacknowledged)");
}

Test(queue_model, counts_a_source_cannot_give_stay_unknown)
{
	add(0, 3);
	struct probe_queue q = derive(1);

	cr_expect_eq(q.ready, -1);
	cr_expect_eq(q.unacked, -1);
	cr_expect_eq(q.consumers, -1);
}

Test(queue_model, flag_names_are_designs)
{
	const char *names[8];
	size_t n = probe_flag_names(Q_STALLED | Q_NO_CONSUMERS | SVC_NOT_ENABLED,
	    names, 8);

	cr_assert_eq(n, 3);
	cr_expect_str_eq(names[0], "not-enabled");
	cr_expect_str_eq(names[1], "stalled");
	cr_expect_str_eq(names[2], "no-consumers");
}

Test(queue_model, history_is_the_last_depths_oldest_first)
{
	struct queue_sample s;
	int64_t d[8];
	size_t n;

	cr_expect_eq(queue_model_history(&m, d, 8), 0);
	add(0, 3);
	add(5, 4);
	queue_sample_init(&s, 10000, false);	/* the source did not answer */
	queue_model_add(&m, &s);
	add(15, 9);
	n = queue_model_history(&m, d, 8);
	cr_assert_eq(n, 4);
	cr_expect(d[0] == 3 && d[1] == 4 && d[2] == -1 && d[3] == 9);
	n = queue_model_history(&m, d, 2);
	cr_assert_eq(n, 2);
	cr_expect(d[0] == -1 && d[1] == 9, "the newest two: %lld %lld",
	    (long long)d[0], (long long)d[1]);
}
