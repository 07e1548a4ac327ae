/*
 * probes and the timeline: a queue's samples are its changes plus a pulse,
 * and a one-shot reader (`status`) still sees from them that nothing was
 * consumed for longer than stall_after.  A command queue (cat of a file),
 * so no manager is needed; the history is written with made-up times.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "loop.h"
#include "probes.h"
#include "store.h"
#include "util.h"

static char dir[64];
static struct config *cfg;
static struct loop *loop;
static struct store *store;
static struct probes *probes;

#define MIN (60 * 1000LL)

static void
setup(void)
{
	static const struct store_actor actor = { "test", NULL, NULL };
	char text[1024], path[128];
	struct config_diags d = { 0 };
	struct lk_err err = { 0 };
	FILE *f;

	snprintf(dir, sizeof dir, "/tmp/lookout-hist.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/depth", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("5\n", f);
	fclose(f);
	snprintf(text, sizeof text, "interval = \"1s\"\n"
	    "queue \"mail\" { command = { argv = { \"/bin/cat\", \"%s\" } },\n"
	    "  stall_after = \"6m\" }\n", path);
	cr_assert_eq(config_load_buffer("t.lua", text, strlen(text), &cfg, &d,
	    &err), LK_OK, "%s", err.msg);
	snprintf(path, sizeof path, "%s/timeline.db", dir);
	cr_assert_eq(store_open(path, &actor, &store, &err), LK_OK, "%s",
	    err.msg);
	loop = loop_new();
}

static void
teardown(void)
{
	char cmd[128];

	probes_free(&probes);
	loop_free(&loop);
	store_close(&store);
	config_free(&cfg);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	(void)system(cmd);
}

TestSuite(history, .init = setup, .fini = teardown, .timeout = 20);

/* One look, as `status` takes it: start, read once, record. */
static const struct probe_queue *
look(void)
{
	struct lk_err err = { 0 };

	probes_free(&probes);
	cr_assert_eq(probes_new(loop, cfg, store, &probes, &err), LK_OK, "%s",
	    err.msg);
	probes_start(probes);
	while (!probes_settled(probes))
		loop_run_once(loop, 100);
	probes_record_now(probes);
	return probes_queue(probes, 0);
}

static void
count_one(const struct store_sample *v, void *arg)
{
	(void)v;
	++*(int *)arg;
}

static int
samples_since(int64_t ms)
{
	struct lk_err err = { 0 };
	int n = 0;

	cr_assert_eq(store_samples_since(store, "queue", "mail", ms,
	    count_one, &n, &err), LK_OK);
	return n;
}

Test(history, a_depth_that_holds_is_written_once)
{
	int64_t t0 = lk_now_ms() - 1;

	look();
	look();
	look();
	cr_expect_eq(samples_since(t0), 1);
}

Test(history, a_depth_that_held_for_long_is_a_stall_across_one_shot_looks)
{
	struct lk_err err = { 0 };
	int64_t now = lk_now_ms();
	/* 5 waiting since 20 minutes ago, unchanged: the change, then the
	 * pulses of earlier looks, the last 8 minutes ago.  None falls in
	 * the last stall_after, the window a one-shot look reads. */
	struct store_sample v[3] = {
		{ now - 20 * MIN, "queue", "mail", "ok", 5, -1, 0 },
		{ now - 14 * MIN, "queue", "mail", "stalled", 5, -1, 0 },
		{ now - 8 * MIN, "queue", "mail", "stalled", 5, -1, 0 },
	};
	const struct probe_queue *q;

	cr_assert_eq(store_samples_add(store, v, 3, 0, &err), LK_OK);
	q = look();
	cr_expect_eq(q->state, QSTATE_STALLED, "%s: %s",
	    probe_queue_state_name(q->state), q->reason);
	cr_expect(strstr(q->reason, "none consumed for 8m") != NULL, "%s",
	    q->reason);
}

Test(history, a_pulse_too_old_is_not_trusted)
{
	struct lk_err err = { 0 };
	int64_t now = lk_now_ms();
	/* The last look was an hour ago: nobody knows what happened since. */
	struct store_sample v = { now - 60 * MIN, "queue", "mail", "ok", 5, -1,
	    0 };
	const struct probe_queue *q;

	cr_assert_eq(store_samples_add(store, &v, 1, 0, &err), LK_OK);
	q = look();
	cr_expect_eq(q->state, QSTATE_OK, "%s: %s",
	    probe_queue_state_name(q->state), q->reason);
}
