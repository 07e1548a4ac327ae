/*
 * Test helper: a watcher's notifiers and nothing else, for the notifiers'
 * end-to-end test (tests/e2e/notify_inner.sh).
 *
 *   notify_driver CONFIG DB HOST DIR TITLE SERVICE
 *
 * Opens an incident about SERVICE titled TITLE in the timeline DB and
 * prints "incident ID".  Then, on its loop, it watches DIR: once DIR/open
 * exists it hands the notifiers "opened" (rule "down", severity P2, from
 * HOST), once DIR/resolve exists "resolved"; once DIR/stop exists, or the
 * resolution is sent, it exits as soon as nothing is pending.  Files,
 * not timers, so that the test says when, and two drivers watching the
 * same DIR act within one poll of each other.  Exits 3 if that takes
 * longer than a minute.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "loop.h"
#include "notify.h"
#include "store.h"
#include "util.h"

#define POLL_MS		50
#define MAX_MS		60000

static const char *dir, *host, *title, *service;
static struct notifiers *ns;
static int64_t incident, detected_ms;
static bool opened, resolved, stopping, timed_out;
static long long t0;

static bool
exists(const char *name)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void
tell(const char *what)
{
	struct notify_event ev = {
		.what = what,
		.incident_id = incident,
		.title = title,
		.severity = "P2",
		.subject = service,
		.rule = "down",
		.reason = "failed: exited with status 1",
		.host = host,
		.starts_at_ms = detected_ms,
	};

	notifiers_send(ns, &ev);
	printf("%s at %lld ms\n", what, loop_now_ms() - t0);
	fflush(stdout);
}

static long long
on_poll(struct loop *l, long long id, void *data)
{
	(void)id;
	(void)data;
	if (!opened && exists("open")) {
		opened = true;
		tell("opened");
	}
	if (opened && !resolved && exists("resolve")) {
		resolved = true;
		tell("resolved");
	}
	stopping |= resolved || exists("stop");
	if (stopping && notifiers_pending(ns) == 0) {
		loop_stop(l);
		return LOOP_NOMORE;
	}
	if (loop_now_ms() - t0 > MAX_MS) {
		timed_out = true;
		loop_stop(l);
		return LOOP_NOMORE;
	}
	return POLL_MS;
}

int
main(int argc, char **argv)
{
	static const struct store_actor actor = { "notify_driver", NULL,
	    NULL };
	struct config_diags diags = { 0 };
	struct config *cfg = NULL;
	struct store *store = NULL;
	struct lk_err err = { 0 };
	struct loop *loop;

	if (argc != 7) {
		fprintf(stderr, "usage: notify_driver CONFIG DB HOST DIR TITLE "
		    "SERVICE\n");
		return 2;
	}
	host = argv[3];
	dir = argv[4];
	title = argv[5];
	service = argv[6];
	if (config_load(argv[1], &cfg, &diags, &err) != LK_OK ||
	    store_open(argv[2], &actor, &store, &err) != LK_OK ||
	    store_incident_open(store, title, "P2",
	    (const char *const *)&argv[6], 1, &incident,
	    &err) != LK_OK) {
		fprintf(stderr, "notify_driver: %s\n", err.msg);
		config_diags_free(&diags);
		config_free(&cfg);
		store_close(&store);
		return 2;
	}
	detected_ms = lk_now_ms();
	loop = loop_new();
	t0 = loop_now_ms();
	if (notifiers_new(loop, store, cfg, &ns, &err) != LK_OK) {
		fprintf(stderr, "notify_driver: %s\n", err.msg);
		return 2;
	}
	printf("incident %lld\n", (long long)incident);
	fflush(stdout);
	loop_add_timer(loop, 0, on_poll, NULL);
	loop_run(loop);
	if (timed_out)
		fprintf(stderr, "notify_driver: still %d pending after %d ms\n",
		    notifiers_pending(ns), MAX_MS);
	notifiers_free(&ns);
	loop_free(&loop);
	config_free(&cfg);
	store_close(&store);
	return timed_out ? 3 : 0;
}
