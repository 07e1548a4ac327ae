/*
 * Test helper: runs the probes of a config on the loop for a while and
 * prints a line each time a service or queue changes, prefixed by the
 * milliseconds since start:
 *
 *   MONO_MS WALL_MS S name active sub enabled health flags | reason
 *   MONO_MS WALL_MS Q name state depth consumers flags | reason
 *
 * The end-to-end tests read it to see how fast a change shows, and that
 * changes show at all without a new process.  With DB, each cycle's
 * samples go to that timeline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"
#include "loop.h"
#include "probes.h"
#include "store.h"

static long long t0;
static char **last;
static size_t nlast;

static void
emit(size_t slot, const char *line)
{
	if (slot >= nlast) {
		last = realloc(last, (slot + 1) * sizeof *last);
		for (size_t i = nlast; i <= slot; i++)
			last[i] = NULL;
		nlast = slot + 1;
	}
	if (last[slot] != NULL && strcmp(last[slot], line) == 0)
		return;
	free(last[slot]);
	last[slot] = strdup(line);
	/* Wall-clock ms too, to compare with what the tests' services log. */
	printf("%lld %lld %s\n", loop_now_ms() - t0, (long long)lk_now_ms(),
	    line);
	fflush(stdout);
}

static void
on_change(struct probes *p, const struct probes_change *c, void *data)
{
	size_t ns = probes_service_count(p);
	char line[1024], flags[256];

	(void)c;
	(void)data;
	for (size_t i = 0; i < ns; i++) {
		const struct probe_service *s = probes_service(p, i);

		probe_flags_join(s->flags, flags, sizeof flags);
		snprintf(line, sizeof line, "S %s %s %s %s %s %s | %s", s->name,
		    s->active[0] ? s->active : "?", s->sub[0] ? s->sub : "?",
		    s->enabled[0] ? s->enabled : "-",
		    probe_health_name(s->health), flags, s->reason);
		emit(i, line);
	}
	for (size_t i = 0; i < probes_queue_count(p); i++) {
		const struct probe_queue *q = probes_queue(p, i);

		probe_flags_join(q->flags, flags, sizeof flags);
		snprintf(line, sizeof line, "Q %s %s %lld %lld %s | %s",
		    q->name, probe_queue_state_name(q->state),
		    (long long)q->depth, (long long)q->consumers, flags,
		    q->reason);
		emit(ns + i, line);
	}
}

static long long
on_done(struct loop *l, long long id, void *data)
{
	(void)id;
	(void)data;
	loop_stop(l);
	return LOOP_NOMORE;
}

int
main(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct config_diags diags = { 0 };
	struct probes *p = NULL;
	struct store *store = NULL;
	struct loop *loop;
	struct lk_err err = { 0 };

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: probe_watch CONFIG DURATION_MS [DB]\n");
		return 2;
	}
	if (argc == 4) {
		static const struct store_actor actor = { "probe_watch",
		    NULL, NULL };

		if (store_open(argv[3], &actor, &store, &err) != LK_OK) {
			fprintf(stderr, "probe_watch: %s\n", err.msg);
			return 2;
		}
	}
	if (config_load(argv[1], &cfg, &diags, &err) != LK_OK) {
		fprintf(stderr, "probe_watch: %s\n", err.msg);
		return 2;
	}
	loop = loop_new();
	t0 = loop_now_ms();
	if (probes_new(loop, cfg, store, &p, &err) != LK_OK) {
		fprintf(stderr, "probe_watch: %s\n", err.msg);
		return 2;
	}
	probes_subscribe(p, on_change, NULL);
	probes_start(p);
	loop_add_timer(loop, atoll(argv[2]), on_done, NULL);
	loop_run(loop);
	probes_free(&p);
	loop_free(&loop);
	config_free(&cfg);
	store_close(&store);
	for (size_t i = 0; i < nlast; i++)
		free(last[i]);
	free(last);
	return 0;
}
