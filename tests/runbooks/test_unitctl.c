/*
 * Drives runbooks/unitctl.c against a real systemd manager, for
 * unitctl_inner.sh (which judges the output and prints TAP).
 *
 *   test_unitctl [-s] [-t TIMEOUT_MS] [-F] OP UNIT [OP UNIT ...]
 *
 * Every OP UNIT pair is started at once on one connection; the loop then
 * runs until every callback came.  One line per result, in the order they
 * came:
 *
 *   result op=start unit=a.service ok=1 job=done active=active sub=running
 *       file_state=disabled main_pid=123 ms=260 reason=...
 *
 * (reason last, as it has spaces), then a summary with how responsive the
 * loop stayed (the largest gap between two 20 ms heartbeats) and whether a
 * callback ever came from inside unitctl_run.  -s uses the system manager;
 * -F frees the unitctl from inside the first callback, dropping the rest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/err.h"
#include "../../core/loop.h"
#include "../../runbooks/unitctl.h"

#define HEARTBEAT_MS 20

static struct unitctl *uc;
static int outstanding;
static int in_run;
static int reentrant;
static int free_in_cb;
static long long last_beat, max_gap;

static void
on_done(const struct unitctl_result *r, void *data)
{
	struct loop *l = data;

	if (in_run)
		reentrant++;
	printf("result op=%s unit=%s ok=%d job=%s active=%s sub=%s "
	    "file_state=%s main_pid=%lld ms=%lld reason=%s\n",
	    unitctl_op_name(r->op), r->unit, r->ok ? 1 : 0, r->job_result,
	    r->active, r->sub, r->file_state, (long long)r->main_pid,
	    (long long)r->duration_ms, r->reason);
	fflush(stdout);
	outstanding--;
	if (free_in_cb) {
		unitctl_free(&uc);
		outstanding = 0;
	}
	if (outstanding == 0)
		loop_stop(l);
}

static long long
on_beat(struct loop *l, long long id, void *data)
{
	long long now = loop_now_ms();

	(void)l;
	(void)id;
	(void)data;
	if (now - last_beat > max_gap)
		max_gap = now - last_beat;
	last_beat = now;
	return HEARTBEAT_MS;
}

static long long
on_guard(struct loop *l, long long id, void *data)
{
	(void)id;
	(void)data;
	printf("guard: gave up waiting for %d callbacks\n", outstanding);
	loop_stop(l);
	return LOOP_NOMORE;
}

static int
parse_op(const char *s, enum unitctl_op *op)
{
	for (int i = UNITCTL_START; i <= UNITCTL_DISABLE; i++)
		if (strcmp(s, unitctl_op_name(i)) == 0) {
			*op = i;
			return 0;
		}
	return -1;
}

int
main(int argc, char **argv)
{
	struct lk_err err = { 0 };
	struct loop *l;
	long long timeout = 0, t0;
	bool user = true;
	int c, n = 0;

	while ((c = getopt(argc, argv, "st:F")) != -1) {
		switch (c) {
		case 's':
			user = false;
			break;
		case 't':
			timeout = atoll(optarg);
			break;
		case 'F':
			free_in_cb = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc || (argc - optind) % 2 != 0) {
		fprintf(stderr, "usage: test_unitctl [-s] [-t MS] [-F] "
		    "OP UNIT [OP UNIT ...]\n");
		return 2;
	}
	l = loop_new();
	if (unitctl_new(l, user, &uc, &err) != LK_OK) {
		fprintf(stderr, "test_unitctl: %s\n", err.msg);
		loop_free(&l);
		return 1;
	}
	/* The API refuses what it cannot run, without a callback. */
	if (unitctl_run(uc, UNITCTL_START, "", 0, on_done, l) != -1 ||
	    errno != EINVAL)
		printf("bug: an empty unit name was accepted\n");

	t0 = last_beat = loop_now_ms();
	for (int i = optind; i < argc; i += 2) {
		enum unitctl_op op;

		if (parse_op(argv[i], &op) < 0) {
			fprintf(stderr, "test_unitctl: unknown op %s\n",
			    argv[i]);
			unitctl_free(&uc);
			loop_free(&l);
			return 2;
		}
		in_run = 1;
		if (unitctl_run(uc, op, argv[i + 1], timeout, on_done, l) == 0)
			outstanding++;
		in_run = 0;
		n++;
	}
	loop_add_timer(l, HEARTBEAT_MS, on_beat, NULL);
	loop_add_timer(l, (timeout > 0 ? timeout : 30000) * 2 + 10000,
	    on_guard, NULL);
	if (outstanding > 0)
		loop_run(l);
	printf("summary ops=%d pending=%d reentrant=%d max_gap_ms=%lld "
	    "elapsed_ms=%lld\n", n, uc ? unitctl_pending(uc) : 0, reentrant,
	    max_gap, loop_now_ms() - t0);
	unitctl_free(&uc);
	loop_free(&l);
	return 0;
}
