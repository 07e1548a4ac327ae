/*
 * probes: several subscribers, each told what changed.  Two queues read by
 * a real command (cat of a file the test writes), so no manager is needed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "loop.h"
#include "probes.h"

static char dir[64];
static struct config *cfg;
static struct loop *loop;
static struct probes *probes;

static void
write_depth(int i, int depth)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/depth%d", dir, i);
	cr_assert_not_null(f = fopen(path, "w"));
	fprintf(f, "%d\n", depth);
	fclose(f);
}

static void
setup(void)
{
	char text[1024];
	struct config_diags d = { 0 };
	struct lk_err err = { 0 };

	snprintf(dir, sizeof dir, "/tmp/lookout-sub.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	/* Empty queues: nothing waits, so no reason counts the time. */
	write_depth(0, 0);
	write_depth(1, 0);
	snprintf(text, sizeof text, "interval = \"100ms\"\n"
	    "queue \"a\" { command = { argv = { \"/bin/cat\", \"%s/depth0\" } } }\n"
	    "queue \"b\" { command = { argv = { \"/bin/cat\", \"%s/depth1\" } } }\n",
	    dir, dir);
	cr_assert_eq(config_load_buffer("t.lua", text, strlen(text), &cfg, &d,
	    &err), LK_OK, "%s", err.msg);
	loop = loop_new();
	cr_assert_eq(probes_new(loop, cfg, NULL, &probes, &err), LK_OK, "%s",
	    err.msg);
}

static void
teardown(void)
{
	char cmd[128];

	probes_free(&probes);
	loop_free(&loop);
	config_free(&cfg);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	(void)system(cmd);
}

TestSuite(subscribe, .init = setup, .fini = teardown, .timeout = 20);

struct watcher {
	char log[8192];		/* "[a b]" per call: the queues it was told */
	int calls;
	int unsub_after;	/* unsubscribe itself after this many calls */
	int id;
	struct probe_queue seen[2];	/* each queue as it was last told */
	int wrong;		/* calls that listed the unchanged, or left
				   out the changed */
};

static bool
same(const struct probe_queue *a, const struct probe_queue *b)
{
	return a->depth == b->depth && a->state == b->state &&
	    a->flags == b->flags && a->rate_in_per_min == b->rate_in_per_min &&
	    a->rate_out_per_min == b->rate_out_per_min &&
	    a->drain_minutes == b->drain_minutes &&
	    strcmp(a->reason, b->reason) == 0;
}

static void
on_change(struct probes *p, const struct probes_change *c, void *data)
{
	struct watcher *w = data;
	size_t len = strlen(w->log);

	len += (size_t)snprintf(w->log + len, sizeof w->log - len, "%s[",
	    len ? " " : "");
	for (size_t i = 0; i < c->nqueues; i++)
		len += (size_t)snprintf(w->log + len, sizeof w->log - len,
		    "%s%s", i ? " " : "", probes_queue(p, c->queues[i])->name);
	snprintf(w->log + len, sizeof w->log - len, "]");
	for (size_t i = 0; i < 2; i++) {
		const struct probe_queue *q = probes_queue(p, i);
		bool listed = false;

		for (size_t j = 0; j < c->nqueues; j++)
			listed |= c->queues[j] == i;
		if (listed == same(q, &w->seen[i]))
			w->wrong++;
		w->seen[i] = *q;
	}
	if (++w->calls == w->unsub_after)
		probes_unsubscribe(p, w->id);
}

/* Runs the loop until both queues read depth (a, b), and 1.5 s more: rates
 * need a second of samples. */
static void
run_until(int64_t a, int64_t b)
{
	long long deadline = loop_now_ms() + 10000, done = 0;

	while (loop_now_ms() < deadline && (done == 0 || loop_now_ms() < done)) {
		loop_run_once(loop, 50);
		if (done == 0 && probes_queue(probes, 0)->depth == a &&
		    probes_queue(probes, 1)->depth == b)
			done = loop_now_ms() + 1500;
	}
	cr_assert_eq(probes_queue(probes, 0)->depth, a);
	cr_assert_eq(probes_queue(probes, 1)->depth, b);
}

Test(subscribe, every_subscriber_is_told_exactly_what_changed)
{
	struct watcher one = { 0 }, two = { 0 };

	one.id = probes_subscribe(probes, on_change, &one);
	two.id = probes_subscribe(probes, on_change, &two);
	probes_start(probes);
	run_until(0, 0);
	cr_expect(strncmp(one.log, "[a b]", 5) == 0, "%s", one.log);
	cr_expect_eq(one.wrong, 0, "told: %s", one.log);
	one.log[0] = two.log[0] = '\0';
	write_depth(1, 7);
	run_until(0, 7);
	cr_expect_eq(one.wrong, 0, "told: %s", one.log);
	cr_expect_str_eq(one.log, two.log);
	/* a did not change, so it was not named. */
	cr_expect(strncmp(one.log, "[b]", 3) == 0 &&
	    strchr(one.log, 'a') == NULL, "%s", one.log);
}

Test(subscribe, one_that_leaves_from_its_callback_hears_no_more)
{
	struct watcher one = { .unsub_after = 1 }, two = { 0 };

	one.id = probes_subscribe(probes, on_change, &one);
	two.id = probes_subscribe(probes, on_change, &two);
	probes_start(probes);
	run_until(0, 0);
	write_depth(0, 5);
	run_until(5, 0);
	cr_expect_eq(one.calls, 1);
	cr_expect_gt(two.calls, 1);
	cr_expect_eq(two.wrong, 0, "told: %s", two.log);
}
