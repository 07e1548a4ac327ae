/*
 * probes: ties the sources (systemd, HTTP, queues, /proc) to the state that
 * the console, `watch` and `status` read.
 */
#include "probes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config/config.h"
#include "../core/loop.h"
#include "../core/util.h"
#include "../store/store.h"
#include "../core/http.h"
#include "http_eval.h"
#include "procfs.h"
#include "private.h"
#include "queue_model.h"
#include "systemd.h"

#define MAX_PIDS 256

struct svc {
	const struct config_service *cfg;	/* NULL when discovered */
	struct sysd *sd;
	size_t unit;				/* index in sd */
	struct probe_service st;
	bool check_busy;
	bool checked;
	bool check_ok;
	int64_t checks;				/* answered so far */
	char check_reason[PROBE_REASON_MAX];
	double latency_ms;
	bool restarts_seen;
	int64_t restarts_base;
	int64_t restarts_base_ms;	/* when base was read; 0: at start */
	unsigned proc_flags;
	unsigned proc_gen;			/* the cgroup_gen checked */
	struct procfs_procs procs;		/* its unit's, kept open */
	char proc_detail[PROBE_REASON_MAX];
	bool dirty;			/* its own source told something */
	bool untold;			/* derived since the last notify */
	struct probes *owner;
};

struct probes_sub {
	int id;			/* 0: unsubscribed */
	probes_change_cb *cb;
	void *data;
};

struct probes {
	struct loop *loop;
	const struct config *cfg;
	struct store *store;
	struct sysd *user;
	struct sysd *system;
	struct phosts *hosts;		/* other hosts' managers, or NULL */
	struct http_pool *http;
	struct svc *svcs;
	size_t nsvc;
	struct pqueue *queues;
	size_t nq;
	struct probes_sub *subs;
	size_t nsubs;
	int last_sub_id;
	/* The states as the subscribers were last told, to say what changed. */
	struct probe_service *told_svc;
	size_t ntold_svc;
	struct probe_queue *told_q;
	long long timer;
	/*
	 * Set when a source changed what the probes know and the derived
	 * states (struct probe_service, struct probe_queue) are not yet
	 * recomputed from it; notify_timer is the one 0 ms timer that will
	 * derive them and tell the subscriber.  all_dirty: every service's
	 * (a manager spoke, a cycle began); otherwise only those marked.
	 */
	bool dirty;
	bool all_dirty;
	long long notify_timer;
	int64_t interval_ms;
	bool discover;
	unsigned long cycles;		/* started so far */
	int64_t synced_ms;		/* the last full read of the managers */
	char error[512];
};

static void svc_derive(struct svc *v);

/* Recomputes every derived state from what the sources last told us. */
static void
derive_all(struct probes *p)
{
	for (size_t i = 0; i < p->nsvc; i++)
		if (p->all_dirty || p->svcs[i].dirty) {
			p->svcs[i].dirty = false;
			p->svcs[i].untold = true;
			svc_derive(&p->svcs[i]);
		}
	p->dirty = p->all_dirty = false;
	probe_queues_derive(p->queues, p->nq);
}

/*
 * The derived states are a cache of what the sources reported, so the
 * read-only accessors may bring it up to date: whoever reads the state
 * always sees the latest answers, even before the notify timer ran.
 */
static void
derive_if_dirty(const struct probes *cp)
{
	struct probes *p = (struct probes *)cp;

	if (p->dirty)
		derive_all(p);
}

static bool
svc_same(const struct probe_service *a, const struct probe_service *b)
{
	return a->name == b->name && strcmp(a->load, b->load) == 0 &&
	    strcmp(a->active, b->active) == 0 && strcmp(a->sub, b->sub) == 0 &&
	    strcmp(a->enabled, b->enabled) == 0 &&
	    a->main_pid == b->main_pid && a->restarts == b->restarts &&
	    a->since_ms == b->since_ms && a->health == b->health &&
	    strcmp(a->reason, b->reason) == 0 &&
	    a->latency_ms == b->latency_ms && a->checks == b->checks &&
	    a->flags == b->flags;
}

static bool
queue_same(const struct probe_queue *a, const struct probe_queue *b)
{
	return a->depth == b->depth && a->consumers == b->consumers &&
	    a->ready == b->ready && a->unacked == b->unacked &&
	    a->rate_in_per_min == b->rate_in_per_min &&
	    a->rate_out_per_min == b->rate_out_per_min &&
	    a->drain_minutes == b->drain_minutes && a->state == b->state &&
	    a->flags == b->flags && strcmp(a->reason, b->reason) == 0;
}

/*
 * Tells every subscriber what changed since they were last told.  The
 * comparison is with a copy of what they were told, not with the previous
 * derivation: a state that changes and changes back between two passes is
 * no news.
 */
static void
notify(struct probes *p)
{
	struct probes_change c = { 0 };
	size_t *si = NULL, *qi = NULL;

	derive_if_dirty(p);
	if (p->nsvc > p->ntold_svc) {
		p->told_svc = lk_xrealloc(p->told_svc, p->nsvc *
		    sizeof *p->told_svc);
		memset(p->told_svc + p->ntold_svc, 0, (p->nsvc -
		    p->ntold_svc) * sizeof *p->told_svc);
		c.added = p->ntold_svc > 0 || p->discover;
		p->ntold_svc = p->nsvc;
	}
	if (p->told_q == NULL && p->nq > 0)
		p->told_q = lk_xcalloc(p->nq, sizeof *p->told_q);
	for (size_t i = 0; i < p->nsvc; i++) {
		/* Not derived again since the last notify: nothing new. */
		if (!p->svcs[i].untold)
			continue;
		p->svcs[i].untold = false;
		if (svc_same(&p->svcs[i].st, &p->told_svc[i]))
			continue;
		if (si == NULL)
			si = lk_xcalloc(p->nsvc, sizeof *si);
		si[c.nservices++] = i;
		p->told_svc[i] = p->svcs[i].st;
	}
	for (size_t i = 0; i < p->nq; i++) {
		const struct probe_queue *q = probe_queue_state(p->queues,
		    p->nq, i);

		if (queue_same(q, &p->told_q[i]))
			continue;
		if (qi == NULL)
			qi = lk_xcalloc(p->nq, sizeof *qi);
		qi[c.nqueues++] = i;
		p->told_q[i] = *q;
	}
	c.services = si;
	c.queues = qi;
	/* A callback may subscribe (the array may move) or unsubscribe. */
	for (size_t i = 0; (c.nservices || c.nqueues || c.added) &&
	    i < p->nsubs; i++) {
		struct probes_sub sub = p->subs[i];

		if (sub.id != 0)
			sub.cb(p, &c, sub.data);
	}
	free(si);
	free(qi);
}

static long long
on_notify(struct loop *l, long long id, void *data)
{
	struct probes *p = data;

	(void)l;
	(void)id;
	p->notify_timer = 0;
	/* Without a subscriber (`status`), the accessors derive on demand:
	 * nobody looks in between, so there is nothing to derive for. */
	for (size_t i = 0; i < p->nsubs; i++)
		if (p->subs[i].id != 0) {
			notify(p);
			break;
		}
	return LOOP_NOMORE;
}

/*
 * Sources only mark the state dirty.  One 0 ms timer derives everything
 * and tells the subscriber once per loop pass: with 1,000 endpoint checks
 * finishing in the same pass, deriving every service after each of them
 * would be a million derivations instead of a thousand.
 */
static void
changed_some(struct probes *p, bool all)
{
	p->dirty = true;
	p->all_dirty |= all;
	if (p->notify_timer == 0)
		p->notify_timer = loop_add_timer(p->loop, 0, on_notify, p);
}

static void
changed(struct probes *p)
{
	changed_some(p, true);
}

/* Only v's own source spoke (its endpoint check answered): the 200 checks
 * of a cycle, answering over some 30 passes, derive one service each, not
 * every service 30 times. */
static void
svc_changed(struct svc *v)
{
	v->dirty = true;
	changed_some(v->owner, false);
}

/* --- services ------------------------------------------------------------ */

static bool
state_is(const char *s, const char *a, const char *b)
{
	return strcmp(s, a) == 0 || (b != NULL && strcmp(s, b) == 0);
}

/*
 * How far back a restart is still news.  A one-shot `status` takes the
 * restart count the timeline holds from this window as its base, so a unit
 * crash-looping between two commands is flagged `restarting` without a
 * process that watched it; older restarts are history, not news.
 */
#define RESTART_WINDOW_MS (10 * 60 * 1000)

/*
 * A service's samples are its changes: a cycle writes one only when the
 * service's state or restart count is not that of its last sample, or that
 * sample is SAMPLE_REPEAT_MS old (the pulse that tells "unchanged" from
 * "not looked at").  Written every cycle, each sample went to its own page
 * of the per-service index once samples piled up: `status` with 1000
 * endpoint checks took 2 ms to record its samples on a new timeline and
 * 43 ms after 180 runs, and wrote some 4 MB to the log each time.  A
 * queue's are the same, by state and depth (PROBES_SAMPLE_REPEAT_MS).
 */
#define SAMPLE_REPEAT_MS PROBES_SAMPLE_REPEAT_MS

static void
svc_prime_restarts(const struct probes *p, struct svc *v)
{
	struct lk_err err = { 0 };
	int64_t ts;
	double count;

	/* The count in effect when the window opened. */
	if (p->store == NULL || store_sample_value_at(p->store, "service",
	    v->st.name, lk_now_ms() - RESTART_WINDOW_MS, SAMPLE_REPEAT_MS, &ts,
	    &count, &err) != LK_OK)
		return;
	v->restarts_seen = true;
	v->restarts_base = (int64_t)count;
	v->restarts_base_ms = ts;
}

static void
restart_reason(const struct svc *v, int64_t n, char *buf, size_t len)
{
	char dur[32];

	if (v->restarts_base_ms == 0) {
		snprintf(buf, len, "restarted %lld time%s since lookout started",
		    (long long)n, n == 1 ? "" : "s");
		return;
	}
	lk_fmt_duration(lk_now_ms() - v->restarts_base_ms, dur, sizeof dur);
	snprintf(buf, len, "restarted %lld time%s in the last %s",
	    (long long)n, n == 1 ? "" : "s", dur);
}

static void
svc_derive(struct svc *v)
{
	const struct sysd_unit *u = sysd_unit(v->sd, v->unit);
	struct probe_service *st = &v->st;
	bool active;

	st->flags = 0;
	st->reason[0] = '\0';
	if (u == NULL)
		return;
	snprintf(st->load, sizeof st->load, "%s", u->load);
	snprintf(st->active, sizeof st->active, "%s", u->active);
	snprintf(st->sub, sizeof st->sub, "%s", u->sub);
	snprintf(st->enabled, sizeof st->enabled, "%s", u->file_state);
	st->main_pid = u->main_pid;
	st->restarts = u->restarts;
	st->since_ms = u->since_us / 1000;
	st->latency_ms = v->checked ? v->latency_ms : -1;
	st->checks = v->checks;

	/*
	 * The count when lookout first read it is the base: only restarts
	 * after that are news.  The unit's state can arrive before its
	 * NRestarts, so wait for NRestarts itself, or a unit that restarted
	 * before lookout started would look as if it restarted since.
	 */
	if (u->restarts_read && !v->restarts_seen) {
		v->restarts_seen = true;
		v->restarts_base = u->restarts;
		/* Only a unit that has restarted at all can have restarted
		 * since the timeline's last look: ask it only for those. */
		if (u->restarts > 0)
			svc_prime_restarts(v->owner, v);
	}
	/* systemd counts from zero again when the unit is started by hand. */
	if (u->restarts_read && u->restarts < v->restarts_base) {
		v->restarts_base = u->restarts;
		v->restarts_base_ms = lk_now_ms();
	}
	if (v->restarts_seen && u->restarts > v->restarts_base)
		st->flags |= SVC_RESTARTING;

	active = state_is(u->active, "active", "reloading");
	if (state_is(u->active, "failed", NULL))
		st->flags |= SVC_FAILED;
	else if (u->known && state_is(u->active, "inactive", NULL))
		st->flags |= SVC_INACTIVE;
	if (active && state_is(u->file_state, "disabled", NULL))
		st->flags |= SVC_NOT_ENABLED;
	if (v->cfg != NULL && v->cfg->check != NULL) {
		if (v->cfg->check->insecure)
			st->flags |= SVC_INSECURE;
		st->health = !v->checked ? HEALTH_UNKNOWN : v->check_ok ?
		    HEALTH_OK : HEALTH_FAILING;
		if (active && v->checked && !v->check_ok)
			st->flags |= SVC_UNHEALTHY;
	} else {
		st->health = HEALTH_NONE;
	}
	/* The last /proc check may predate a stop or crash signalled since. */
	if (active)
		st->flags |= v->proc_flags;
	/* What another host said last, until it answers again. */
	if (sysd_host(v->sd) != NULL && sysd_down(v->sd))
		st->flags |= SVC_UNREACHABLE | (u->known ? SVC_STALE : 0);

	/* The most urgent thing first: what the engineer fixes first. */
	if (st->flags & SVC_UNREACHABLE)
		snprintf(st->reason, sizeof st->reason, "%s", sysd_error(v->sd));
	else if (!u->known)
		snprintf(st->reason, sizeof st->reason, "%s", sysd_error(v->sd) ?
		    sysd_error(v->sd) : "state not read yet");
	else if (state_is(u->load, "not-found", NULL))
		snprintf(st->reason, sizeof st->reason, "unit %s not found",
		    u->name);
	else if ((st->flags & SVC_FAILED) && strcmp(u->result, "exit-code") == 0)
		snprintf(st->reason, sizeof st->reason, "failed: exited with "
		    "status %d", u->exit_status);
	else if (st->flags & SVC_FAILED)
		snprintf(st->reason, sizeof st->reason, "failed: %s",
		    u->result[0] ? u->result : u->sub);
	else if (st->flags & SVC_INACTIVE)
		snprintf(st->reason, sizeof st->reason, "inactive (%s)",
		    u->sub);
	else if (st->health == HEALTH_FAILING)
		snprintf(st->reason, sizeof st->reason, "%s", v->check_reason);
	else if (st->flags & (SVC_DELETED_CWD | SVC_DELETED_EXE))
		snprintf(st->reason, sizeof st->reason, "%s", v->proc_detail);
	else if (st->flags & SVC_NOT_ENABLED)
		snprintf(st->reason, sizeof st->reason, "active but not "
		    "enabled: it will not start after a reboot");
	else if (st->flags & SVC_RESTARTING)
		restart_reason(v, u->restarts - v->restarts_base, st->reason,
		    sizeof st->reason);
}

static void
on_check_done(const struct http_reply *r, void *data)
{
	struct svc *v = data;
	struct http_response resp;

	v->check_busy = false;
	v->checked = true;
	v->checks++;
	v->latency_ms = r->latency_ms;
	if (r->error != NULL) {
		v->check_ok = false;
		snprintf(v->check_reason, sizeof v->check_reason, "%s",
		    r->error);
	} else {
		resp.status = r->status;
		resp.body = r->body;
		resp.len = r->len;
		resp.latency_ms = r->latency_ms;
		v->check_ok = http_eval(v->cfg->check, &resp, v->check_reason,
		    sizeof v->check_reason);
	}
	svc_changed(v);
}

static void
svc_check(struct probes *p, struct svc *v)
{
	const struct config_http *c = v->cfg ? v->cfg->check : NULL;
	struct http_request req = { 0 };
	char **hdrs;

	if (c == NULL || v->check_busy)
		return;
	/* Header values named by env("NAME") are read now, used, dropped. */
	hdrs = lk_xcalloc(c->nheaders + 1, sizeof *hdrs);
	for (size_t i = 0; i < c->nheaders; i++) {
		const char *val = c->headers[i].value;

		if (c->headers[i].value_env != NULL)
			val = getenv(c->headers[i].value_env);
		hdrs[i] = lk_xasprintf("%s: %s", c->headers[i].name,
		    val ? val : "");
	}
	req.url = c->url;
	req.timeout_ms = c->timeout_ms;
	req.connect_timeout_ms = c->connect_timeout_ms;
	req.max_body = c->max_body;
	req.insecure = c->insecure;
	req.headers = (const char *const *)hdrs;
	v->check_busy = true;
	http_start(p->http, &req, on_check_done, v);
	for (size_t i = 0; i < c->nheaders; i++) {
		explicit_bzero(hdrs[i], strlen(hdrs[i]));
		free(hdrs[i]);
	}
	free(hdrs);
}

/* /proc sanity for a unit's processes: cheap local reads, once a cycle. */
static void
svc_proc(struct svc *v)
{
	const struct sysd_unit *u = sysd_unit(v->sd, v->unit);
	pid_t pids[MAX_PIDS];
	size_t n = 0;

	v->proc_flags = 0;
	v->proc_detail[0] = '\0';
	if (u == NULL || !state_is(u->active, "active", "reloading")) {
		/* Its cgroup is gone or going: not worth a descriptor. */
		procfs_procs_close(&v->procs);
		return;
	}
	if (sysd_host(v->sd) != NULL) {
		v->proc_flags = phosts_proc_flags(v->owner->hosts, v->sd,
		    u->cgroup, v->proc_detail, sizeof v->proc_detail);
		return;
	}
	n = procfs_procs_read(&v->procs, u->cgroup[0] ? u->cgroup : NULL,
	    pids, MAX_PIDS);
	if (n == 0 && u->main_pid > 0)
		pids[n++] = (pid_t)u->main_pid;
	v->proc_flags = procfs_check_deleted(pids, n, v->proc_detail,
	    sizeof v->proc_detail);
}

/*
 * Runs the /proc checks of the units of sd whose cgroup was read since
 * their last check: once a refresh for each running unit, each as soon as
 * systemd has answered for it, while it answers for the others.  (Waiting
 * for every answer first put all of it, some 2000 system calls for 200
 * units, after the last one.)  Many services may watch the same unit (one
 * unit, many endpoints): the first service of a unit reads /proc, the
 * others copy its answer.
 */
static void
proc_pass(struct probes *p, struct sysd *sd, bool all)
{
	size_t nunits = sysd_count(sd);
	size_t *first = NULL;

	for (size_t i = 0; i < p->nsvc; i++) {
		struct svc *v = &p->svcs[i];
		const struct sysd_unit *u;

		if (v->sd != sd || v->unit >= nunits)
			continue;
		u = sysd_unit(sd, v->unit);
		if (u->cgroup_gen == v->proc_gen && !all)
			continue;
		v->proc_gen = u->cgroup_gen;
		/* first[u] is 1 + the index of the service that read unit u
		 * in this pass. */
		if (first == NULL)
			first = lk_xcalloc(nunits, sizeof *first);
		if (first[v->unit] == 0) {
			svc_proc(v);
			first[v->unit] = i + 1;
		} else {
			const struct svc *w = &p->svcs[first[v->unit] - 1];

			v->proc_flags = w->proc_flags;
			memcpy(v->proc_detail, w->proc_detail,
			    sizeof v->proc_detail);
		}
	}
	free(first);
}

/* In discovery mode the unit list grows as the manager answers. */
static void
sync_discovered(struct probes *p)
{
	struct sysd *sd = p->user ? p->user : p->system;
	size_t n = sysd_count(sd);

	if (n <= p->nsvc)
		return;
	p->svcs = lk_xrealloc(p->svcs, n * sizeof *p->svcs);
	for (size_t i = p->nsvc; i < n; i++) {
		struct svc *v = &p->svcs[i];

		memset(v, 0, sizeof *v);
		v->owner = p;
		v->sd = sd;
		v->unit = i;
		v->st.name = sysd_unit(sd, i)->name;
		v->st.unit = v->st.name;
		v->st.scope = sysd_scope(sd);
		v->st.latency_ms = -1;
	}
	/* The array moved: subscribers must re-read pointers, which they
	 * do on the change callback that follows. */
	p->nsvc = n;
}

static void
on_sysd_change(struct sysd *sd, void *data)
{
	struct probes *p = data;

	if (p->discover)
		sync_discovered(p);
	proc_pass(p, sd, false);
	if (sysd_host(sd) != NULL)
		phosts_units_changed(p->hosts, sd);
	changed(p);
}

void
probes_procs_arrived(struct probes *p, struct sysd *sd)
{
	proc_pass(p, sd, true);
	changed(p);
}

/* --- the cycle ----------------------------------------------------------- */

/*
 * How often a process that keeps watching (the console, `watch`) reads
 * every unit from systemd again.  Between two reads the manager's signals
 * carry every change (a crash shows within a second), so the full read is
 * only a safety net; reading 200 units costs the manager some 30 ms of
 * CPU, which a console polling every cycle would make it spend all day.
 */
#define SYSTEMD_RESYNC_MS (10 * 60 * 1000)

/* A manager that failed (or whose connection did) is read again every
 * cycle until it answers. */
static void
sync_manager(struct probes *p, struct sysd *sd, bool resync)
{
	if (sd == NULL)
		return;
	if (resync || sysd_error(sd) != NULL)
		sysd_refresh(sd);
	else
		/* /proc changes without a word from systemd: a deploy deletes
		 * the directory a worker runs in (seed 001). */
		proc_pass(p, sd, true);
	/* Another host may freeze without a word: ask it something. */
	if (!resync && sysd_host(sd) != NULL)
		sysd_ping(sd);
}

static long long
on_cycle(struct loop *l, long long id, void *data)
{
	struct probes *p = data;
	int64_t now = loop_now_ms();
	bool resync = p->cycles == 0 || now - p->synced_ms >=
	    SYSTEMD_RESYNC_MS;

	(void)l;
	(void)id;
	sync_manager(p, p->user, resync);
	sync_manager(p, p->system, resync);
	for (size_t i = 0; i < phosts_nmanagers(p->hosts); i++)
		sync_manager(p, phosts_manager_at(p->hosts, i), resync);
	/* Another host's /proc is read over ssh, and answers later. */
	phosts_read_procs(p->hosts);
	if (resync)
		p->synced_ms = now;
	else
		changed(p);
	for (size_t i = 0; i < p->nsvc; i++)
		svc_check(p, &p->svcs[i]);
	probe_queues_read(p->queues, p->nq);
	/* A cycle records what the previous one found: the first has
	 * nothing of its own to record yet. */
	if (p->cycles++ > 0)
		probes_record_now(p);
	return p->interval_ms;
}

void
probes_start(struct probes *p)
{
	/* A manager that leaves us waiting longer than a one-shot `status`
	 * waits is said not to answer, by name (sysd_set_answer_ms). */
	if (p->user != NULL)
		sysd_set_answer_ms(p->user, probes_max_wait_ms(p));
	if (p->system != NULL)
		sysd_set_answer_ms(p->system, probes_max_wait_ms(p));
	if (p->discover)
		sysd_discover(p->user ? p->user : p->system);
	if (p->timer == 0)
		p->timer = loop_add_timer(p->loop, 0, on_cycle, p);
}

static struct sysd *
manager(struct probes *p, bool user, struct lk_err *err)
{
	struct sysd **slot = user ? &p->user : &p->system;

	if (*slot == NULL && sysd_new(p->loop, user, on_sysd_change, p, slot,
	    err) != LK_OK) {
		snprintf(p->error, sizeof p->error, "%s", err->msg);
		return NULL;
	}
	return *slot;
}

/* Whether cfg makes HTTP requests: endpoint checks, RabbitMQ's API. */
static bool
uses_http(const struct config *cfg)
{
	for (size_t i = 0; cfg != NULL && i < config_nservices(cfg); i++)
		if (config_service(cfg, i)->check != NULL)
			return true;
	for (size_t i = 0; cfg != NULL && i < config_nqueues(cfg); i++)
		if (config_queue(cfg, i)->source == CONFIG_QUEUE_RABBITMQ)
			return true;
	return false;
}

enum lk_code
probes_new(struct loop *loop, const struct config *cfg, struct store *store,
    struct probes **out, struct lk_err *err)
{
	struct probes *p = lk_xcalloc(1, sizeof *p);
	struct lk_err sub = { 0 };

	*out = NULL;
	p->loop = loop;
	p->cfg = cfg;
	p->store = store;
	p->interval_ms = cfg ? config_interval_ms(cfg) : 5000;
	/* The pool loads libcurl: only a configuration that makes requests
	 * pays for it, or fails without it. */
	if (uses_http(cfg) && http_pool_new(loop, &p->http, err) != LK_OK) {
		free(p);
		return err->code;
	}
	if (cfg == NULL || config_nservices(cfg) + config_nqueues(cfg) == 0) {
		p->discover = cfg == NULL;
		/* The current manager: the system's for root, but root in a
		 * container may only have its own user manager. */
		if (p->discover && manager(p, geteuid() != 0, &sub) == NULL &&
		    (geteuid() != 0 || manager(p, true, &sub) == NULL)) {
			probes_free(&p);
			return lk_fail(err, LK_EIO, "%s", sub.msg);
		}
		p->error[0] = '\0';
	}
	if (phosts_new(p, cfg, &p->hosts, err) != LK_OK) {
		probes_free(&p);
		return err->code;
	}
	if (cfg != NULL) {
		p->nsvc = config_nservices(cfg);
		p->svcs = lk_xcalloc(p->nsvc, sizeof *p->svcs);
		for (size_t i = 0; i < p->nsvc; i++) {
			const struct config_service *c = config_service(cfg, i);
			struct svc *v = &p->svcs[i];
			bool user = c->scope == CONFIG_SCOPE_USER;

			v->owner = p;
			v->cfg = c;
			v->st.name = c->name;
			v->st.unit = c->unit;
			v->st.scope = user ? "user" : "system";
			v->st.host = c->host;
			v->st.latency_ms = -1;
			v->st.health = c->check ? HEALTH_UNKNOWN : HEALTH_NONE;
			v->sd = c->host != NULL ? phosts_manager(p->hosts,
			    c->host, user, on_sysd_change, p, &sub) :
			    manager(p, user, &sub);
			if (v->sd == NULL) {
				probes_free(&p);
				return lk_fail(err, LK_EIO, "%s", sub.msg);
			}
			v->unit = sysd_track(v->sd, c->unit);
		}
		p->queues = probe_queues_new(p, cfg, &p->nq);
	}
	*out = p;
	return LK_OK;
}

void
probes_free(struct probes **pp)
{
	struct probes *p = pp ? *pp : NULL;

	if (p == NULL)
		return;
	if (p->timer)
		loop_del_timer(p->loop, p->timer);
	if (p->notify_timer)
		loop_del_timer(p->loop, p->notify_timer);
	http_pool_free(&p->http);
	probe_queues_free(p->queues, p->nq);
	phosts_free(&p->hosts);
	sysd_free(&p->user);
	sysd_free(&p->system);
	for (size_t i = 0; i < p->nsvc; i++)
		procfs_procs_close(&p->svcs[i].procs);
	free(p->svcs);
	free(p->subs);
	free(p->told_svc);
	free(p->told_q);
	free(p);
	*pp = NULL;
}

int
probes_subscribe(struct probes *p, probes_change_cb *cb, void *data)
{
	size_t i;

	for (i = 0; i < p->nsubs && p->subs[i].id != 0; i++)
		;
	if (i == p->nsubs)
		p->subs = lk_xrealloc(p->subs, ++p->nsubs * sizeof *p->subs);
	p->subs[i] = (struct probes_sub){ ++p->last_sub_id, cb, data };
	return p->subs[i].id;
}

void
probes_unsubscribe(struct probes *p, int id)
{
	for (size_t i = 0; id != 0 && i < p->nsubs; i++)
		if (p->subs[i].id == id)
			p->subs[i].id = 0;
}

bool
probes_settled(const struct probes *p)
{
	if ((p->user && !sysd_idle(p->user)) ||
	    (p->system && !sysd_idle(p->system)))
		return false;
	for (size_t i = 0; i < phosts_nmanagers(p->hosts); i++) {
		const struct sysd *sd = phosts_manager_at(p->hosts, i);

		if (sd != NULL && !sysd_idle(sd))
			return false;
	}
	if (!phosts_settled(p->hosts))
		return false;
	for (size_t i = 0; i < p->nsvc; i++)
		if (p->svcs[i].cfg && p->svcs[i].cfg->check &&
		    !p->svcs[i].checked)
			return false;
	return probe_queues_settled(p->queues, p->nq);
}

int64_t
probes_max_wait_ms(const struct probes *p)
{
	/* Another host has its own time to connect and answer. */
	int64_t max = phosts_timeout_ms(p->hosts) > 2000 ?
	    phosts_timeout_ms(p->hosts) : 2000;

	for (size_t i = 0; i < p->nsvc; i++)
		if (p->svcs[i].cfg && p->svcs[i].cfg->check &&
		    p->svcs[i].cfg->check->timeout_ms > max)
			max = p->svcs[i].cfg->check->timeout_ms;
	return probe_queues_max_wait(p->queues, p->nq, max);
}

size_t
probes_service_count(const struct probes *p)
{
	return p->nsvc;
}

const struct probe_service *
probes_service(const struct probes *p, size_t i)
{
	derive_if_dirty(p);
	return i < p->nsvc ? &p->svcs[i].st : NULL;
}

size_t
probes_queue_count(const struct probes *p)
{
	return p->nq;
}

const struct probe_queue *
probes_queue(const struct probes *p, size_t i)
{
	derive_if_dirty(p);
	return probe_queue_state(p->queues, p->nq, i);
}

size_t
probes_queue_history(const struct probes *p, size_t i, int64_t *depths,
    size_t max)
{
	return probe_queue_history(p->queues, p->nq, i, depths, max);
}

size_t
probes_service_procs(const struct probes *p, size_t i, struct probe_proc *out,
    size_t max)
{
	const struct sysd_unit *u;
	pid_t pids[MAX_PIDS];
	size_t n, k = 0;

	if (i >= p->nsvc || (u = sysd_unit(p->svcs[i].sd, p->svcs[i].unit)) ==
	    NULL)
		return 0;
	if (sysd_host(p->svcs[i].sd) != NULL)
		return phosts_procs(p->hosts, p->svcs[i].sd, u->cgroup, out,
		    max);
	n = procfs_cgroup_pids(u->cgroup[0] ? u->cgroup : NULL, pids,
	    MAX_PIDS);
	if (n == 0 && u->main_pid > 0)
		pids[n++] = (pid_t)u->main_pid;
	for (size_t j = 0; j < n && k < max; j++)
		if (procfs_describe(pids[j], &out[k]))
			k++;
	return k;
}

enum lk_code
probes_service_journal(struct probes *p, size_t i, size_t lines, bool follow,
    probe_journal_cb *cb, void *data, struct probe_journal **out,
    struct lk_err *err)
{
	const struct probe_service *s;
	const struct sysd_unit *u;
	struct probe_journal_host h = { 0 };

	*out = NULL;
	if (i >= p->nsvc)
		return lk_fail(err, LK_EINPUT, "journal: no service %zu", i);
	s = &p->svcs[i].st;
	if (s->host == NULL)
		return (follow ? probe_journal_follow : probe_journal_last)(
		    p->loop, s->unit, s->scope, lines, cb, data, out, err);
	/* Its cgroup there, if its manager has said: a unit of a manager
	 * journald cannot name is found by it alone. */
	u = sysd_unit(p->svcs[i].sd, p->svcs[i].unit);
	h.host = s->host;
	h.ssh_config = p->cfg != NULL ? config_ssh_config(p->cfg) : NULL;
	h.timeout_ms = phosts_timeout_ms(p->hosts);
	h.cgroup = u != NULL && u->cgroup[0] == '/' ? u->cgroup : NULL;
	return (follow ? probe_journal_follow_remote :
	    probe_journal_last_remote)(p->loop, &h, s->unit, s->scope, lines,
	    cb, data, out, err);
}

const char *
probes_error(const struct probes *p)
{
	if (p->error[0])
		return p->error;
	if (p->user && sysd_error(p->user))
		return sysd_error(p->user);
	if (p->system && sysd_error(p->system))
		return sysd_error(p->system);
	return NULL;
}

bool
probes_answered(const struct probes *p)
{
	return !(p->user && sysd_silent(p->user)) &&
	    !(p->system && sysd_silent(p->system));
}

struct loop *
probes_loop(const struct probes *p)
{
	return p->loop;
}

struct http_pool *
probes_http(const struct probes *p)
{
	return p->http;
}

struct store *
probes_store(const struct probes *p)
{
	return p->store;
}

void
probes_changed(struct probes *p)
{
	changed(p);
}

/* Samples are kept this long: enough for "when did it start". */
#define SAMPLES_KEEP_MS (7LL * 24 * 3600 * 1000)

void
probes_record_now(struct probes *p)
{
	size_t n = p->nsvc + p->nq, k = 0;
	struct store_sample *v;
	char (*states)[96];
	struct lk_err err = { 0 };
	int64_t now = lk_now_ms();

	if (p->store == NULL || n == 0)
		return;
	derive_if_dirty(p);
	v = lk_xcalloc(n, sizeof *v);
	states = lk_xcalloc(n, sizeof *states);
	for (size_t i = 0; i < p->nsvc; i++, k++) {
		const struct probe_service *s = &p->svcs[i].st;
		const struct sysd_unit *u = sysd_unit(p->svcs[i].sd,
		    p->svcs[i].unit);

		snprintf(states[k], sizeof states[k], "%s/%s %s", s->active,
		    s->sub, probe_health_name(s->health));
		/* A service's value is its restart count, the base of the
		 * next command's `restarting` (svc_prime_restarts). */
		v[k] = (struct store_sample){ now, "service", s->name,
		    states[k], u != NULL && u->restarts_read ?
		    (double)u->restarts : -1, s->latency_ms,
		    SAMPLE_REPEAT_MS };
	}
	for (size_t i = 0; i < p->nq; i++, k++) {
		const struct probe_queue *q = probes_queue(p, i);

		/*
		 * Changes and a pulse too: a depth that holds is a depth
		 * until the next sample says otherwise, so the series of a
		 * queue that does not move costs a sample every
		 * SAMPLE_REPEAT_MS, and the models still work out rates and
		 * stalls from it (prime_from_store in queues.c reads the
		 * sample in effect when its window opens).  A watcher with
		 * 100 queues wrote 864,000 samples a day, most of them the
		 * one before it again.
		 */
		v[k] = (struct store_sample){ now, "queue", q->name,
		    probe_queue_state_name(q->state), (double)q->depth, -1,
		    SAMPLE_REPEAT_MS };
	}
	/* A timeline that cannot take samples must not stop the probes;
	 * the console shows the error. */
	if (store_samples_add(p->store, v, n, SAMPLES_KEEP_MS, &err) != LK_OK)
		snprintf(p->error, sizeof p->error, "%s", err.msg);
	free(states);
	free(v);
}
