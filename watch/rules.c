/*
 * The rules of `lookout watch`: when a service or queue is broken enough,
 * and for long enough, to open an incident, when it is healthy again, and
 * its state changes, gathered so that a flap is one event.
 *
 * Everything here is computed from the states the probes publish and the
 * time the caller gives: no I/O, no clock of its own, so that every rule is
 * tested with made-up states and times (tests/watch/test_rules.c).  What to
 * do is handed to one callback as a struct waction, in order.
 *
 * Each rule has a condition that holds from a first failing sample (its
 * "since", which becomes the incident's detected time) and fires once it
 * has held for the rule's grace.  A state that says nothing either way (a
 * unit activating, a queue whose source does not answer) neither fires a
 * rule nor clears one that fired: only a state that is good again clears.
 */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/err.h"

/* The defaults, documented in templates/lookout.example.lua. */
#define DEF_UNHEALTHY_AFTER	2
#define DEF_DOWN_AFTER_MS	500
#define DEF_RESTARTS		3
#define DEF_RESTART_WINDOW_MS	(5 * 60 * 1000)
#define DEF_PAUSED_AFTER_MS	(5 * 60 * 1000)
#define DEF_CRIT_AFTER_MS	(60 * 1000)
#define DEF_GROWING_FOR_MS	(5 * 60 * 1000)

/* Restarts remembered, for "N within the window". */
#define RESTARTS_KEPT 32

/* A grace that never runs out: the rule fires by counting, not time. */
#define NEVER INT64_MAX

/* Each rule's own severity: a restart loop and a growing queue still do
 * their job, for now. */
static const char *const severities[CONFIG_WATCH_NRULES] = {
	[CONFIG_WATCH_DOWN] = "P2", [CONFIG_WATCH_UNHEALTHY] = "P2",
	[CONFIG_WATCH_DELETED] = "P2", [CONFIG_WATCH_RESTARTING] = "P3",
	[CONFIG_WATCH_NOT_ENABLED] = "P4", [CONFIG_WATCH_STALLED] = "P2",
	[CONFIG_WATCH_PAUSED] = "P2", [CONFIG_WATCH_CRIT] = "P2",
	[CONFIG_WATCH_GROWING] = "P3", [CONFIG_WATCH_STALE] = "P4",
};

static int64_t
or_default(int64_t v, int64_t def)
{
	return v >= 0 ? v : def;
}

void
wsettings_from(const struct config_watch *c, struct wsettings *out)
{
	memset(out, 0, sizeof *out);
	out->unhealthy_after = DEF_UNHEALTHY_AFTER;
	out->down_after_ms = DEF_DOWN_AFTER_MS;
	out->restarts = DEF_RESTARTS;
	out->restart_window_ms = DEF_RESTART_WINDOW_MS;
	out->paused_after_ms = DEF_PAUSED_AFTER_MS;
	out->crit_after_ms = DEF_CRIT_AFTER_MS;
	out->growing_for_ms = DEF_GROWING_FOR_MS;
	if (c == NULL)
		return;
	out->off = c->off != 0;
	snprintf(out->severity, sizeof out->severity, "%s", c->severity);
	out->unhealthy_after = or_default(c->unhealthy_after,
	    DEF_UNHEALTHY_AFTER);
	out->down_after_ms = or_default(c->down_after_ms,
	    DEF_DOWN_AFTER_MS);
	out->restarts = or_default(c->restarts, DEF_RESTARTS);
	out->restart_window_ms = or_default(c->restart_window_ms,
	    DEF_RESTART_WINDOW_MS);
	out->paused_after_ms = or_default(c->paused_after_ms,
	    DEF_PAUSED_AFTER_MS);
	out->crit_after_ms = or_default(c->crit_after_ms, DEF_CRIT_AFTER_MS);
	out->growing_for_ms = or_default(c->growing_for_ms,
	    DEF_GROWING_FOR_MS);
	out->ignore = c->ignore;
}

const char *
wsettings_severity(const struct wsettings *s, int r)
{
	if (s->severity[0] != '\0')
		return s->severity;
	return r >= 0 && r < CONFIG_WATCH_NRULES ? severities[r] : "P3";
}

/* One rule's condition on one subject. */
struct wcond {
	int64_t since;		/* its first failing sample; 0: does not hold */
	int64_t grace;		/* how long it must hold to fire */
	bool fired;		/* (a warning: told) */
};

enum { HEALTH_NOT_TOLD, HEALTH_TOLD_SICK, HEALTH_TOLD_HEALTHY };

struct wsubject {
	char *name;
	bool queue;
	bool used;		/* added again since the last reset */
	struct wsettings set;
	struct wcond cond[CONFIG_WATCH_NRULES];
	int health;		/* what WA_HEALTHY / WA_SICK last said */
	int64_t healthy_at;	/* during an evaluation: when it got well */
	char reason[PROBE_REASON_MAX];		/* now */
	char first_reason[PROBE_REASON_MAX];	/* when it began to hold */

	/* The window of state changes: told is the state last told in a
	 * WA_CHANGE (or the first one seen), label the latest. */
	bool labelled;
	char told[WLABEL_MAX];
	char label[WLABEL_MAX];
	int64_t window_first;	/* its first change; 0: no window open */
	int64_t window_end;
	int count;

	/* Services only. */
	bool active;
	bool was_active;	/* active at some point while watched */
	int64_t active_since;
	bool restarts_seen;
	int64_t restarts;	/* NRestarts as last seen */
	int64_t restart_at[RESTARTS_KEPT];	/* a ring, newest at rnext-1 */
	size_t rnext;
	size_t nrestart;
	bool checks_seen;
	int64_t checks;		/* probe_service.checks as last seen */
	int64_t nfailed;	/* checks failed in a row */
	struct wcheck *failed;	/* the first and latest of them */
	size_t nkept;
};

struct wrules {
	struct wsubject *subs;
	size_t n;
	int64_t window_ms;
	wrules_cb *cb;
	void *data;
};

struct wrules *
wrules_new(int64_t window_ms, wrules_cb *cb, void *data)
{
	struct wrules *w = lk_xcalloc(1, sizeof *w);

	w->window_ms = window_ms;
	w->cb = cb;
	w->data = data;
	return w;
}

static void
subject_free(struct wsubject *s)
{
	free(s->name);
	free(s->failed);
}

void
wrules_free(struct wrules **wp)
{
	struct wrules *w = wp ? *wp : NULL;

	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n; i++)
		subject_free(&w->subs[i]);
	free(w->subs);
	free(w);
	*wp = NULL;
}

void
wrules_set_window(struct wrules *w, int64_t window_ms)
{
	w->window_ms = window_ms;
}

void
wrules_reset(struct wrules *w)
{
	for (size_t i = 0; i < w->n; i++)
		w->subs[i].used = false;
}

/*
 * A subject dropped by a prune leaves its slot empty (name NULL) for the
 * next one added: ids never move, so the caller's map from the probes'
 * indexes to them stays right.
 */
size_t
wrules_add(struct wrules *w, bool queue, const char *name,
    const struct wsettings *set)
{
	struct wsubject *s;
	size_t i, empty = w->n;

	for (i = 0; i < w->n; i++) {
		s = &w->subs[i];
		if (s->name == NULL) {
			if (empty == w->n)
				empty = i;
		} else if (s->queue == queue && !s->used &&
		    strcmp(s->name, name) == 0) {
			s->used = true;
			s->set = *set;
			return i;
		}
	}
	if (empty == w->n)
		w->subs = lk_xrealloc(w->subs, ++w->n * sizeof *w->subs);
	s = &w->subs[empty];
	memset(s, 0, sizeof *s);
	s->name = lk_xstrdup(name);
	s->queue = queue;
	s->used = true;
	s->set = *set;
	return empty;
}

void
wrules_prune(struct wrules *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->subs[i].name != NULL && !w->subs[i].used) {
			subject_free(&w->subs[i]);
			memset(&w->subs[i], 0, sizeof w->subs[i]);
		}
}

size_t
wrules_count(const struct wrules *w)
{
	size_t n = 0;

	for (size_t i = 0; i < w->n; i++)
		n += w->subs[i].name != NULL;
	return n;
}

const char *
wrules_label(const struct wrules *w, size_t id)
{
	return id < w->n && w->subs[id].labelled ? w->subs[id].label : "";
}

/* --- telling ------------------------------------------------------------- */

static void
emit(struct wrules *w, struct wsubject *s, struct waction *a)
{
	a->id = (size_t)(s - w->subs);
	a->subject = s->name;
	a->queue = s->queue;
	if (a->reason == NULL)
		a->reason = s->reason;
	if (a->to == NULL)
		a->to = s->label;
	w->cb(a, w->data);
}

/* Tells the window of changes, if one is open, now. */
static void
flush_window(struct wrules *w, struct wsubject *s)
{
	struct waction a = { .kind = WA_CHANGE };

	if (s->window_end == 0)
		return;
	a.at_ms = s->window_first;
	a.from = s->told;
	a.to = s->label;
	a.count = s->count;
	/* Copied first: the callback may read the subject's state. */
	s->window_first = s->window_end = 0;
	s->count = 0;
	emit(w, s, &a);
	snprintf(s->told, sizeof s->told, "%s", s->label);
}

/*
 * A new state: the first one seen is no change; a change opens a window of
 * one interval, and every change inside it is counted into one WA_CHANGE
 * when it closes, flaps included.
 */
static void
see_label(struct wrules *w, struct wsubject *s, const char *label,
    int64_t now)
{
	if (!s->labelled) {
		snprintf(s->told, sizeof s->told, "%s", label);
		snprintf(s->label, sizeof s->label, "%s", label);
		s->labelled = true;
		return;
	}
	if (strcmp(label, s->label) == 0)
		return;
	snprintf(s->label, sizeof s->label, "%s", label);
	if (s->window_end == 0) {
		s->window_first = now;
		s->window_end = now + w->window_ms;
		s->count = 1;
	} else {
		s->count++;
	}
}

static void
fire(struct wrules *w, struct wsubject *s, int r)
{
	struct wcond *c = &s->cond[r];
	struct waction a = { .kind = WA_FIRE, .rule = r };

	c->fired = true;
	a.severity = wsettings_severity(&s->set, r);
	a.at_ms = c->since;
	a.first_reason = s->first_reason;
	if (r == CONFIG_WATCH_UNHEALTHY) {
		a.checks = s->failed;
		a.nchecks = s->nkept;
		a.nfailed = s->nfailed;
	}
	emit(w, s, &a);
	/* The change that came with it is told after it, into the
	 * incident the callback has just opened. */
	flush_window(w, s);
}

/*
 * Whether rule r may fire now.  Down does not while a restart loop holds:
 * each crash of the loop is the loop's, one incident and one evidence, not
 * one "down" for every turn.
 */
static bool
may_fire(const struct wsubject *s, int r, int64_t now)
{
	const struct wcond *c = &s->cond[r];

	if (c->fired || c->grace == NEVER || now - c->since < c->grace)
		return false;
	return r != CONFIG_WATCH_DOWN ||
	    !s->cond[CONFIG_WATCH_RESTARTING].fired;
}

/* Rule r holds from since (0: now) and fires once it has for grace. */
static void
hold(struct wrules *w, struct wsubject *s, int r, int64_t since,
    int64_t grace, int64_t now)
{
	struct wcond *c = &s->cond[r];

	if (s->set.ignore & (1u << r))
		return;
	if (c->since == 0) {
		c->since = since ? since : now;
		if (s->first_reason[0] == '\0')
			snprintf(s->first_reason, sizeof s->first_reason,
			    "%s", s->reason);
	}
	c->grace = grace;
	if (may_fire(s, r, now))
		fire(w, s, r);
}

/* Rule r no longer holds, from at. */
static void
release(struct wrules *w, struct wsubject *s, int r, int64_t at)
{
	struct wcond *c = &s->cond[r];
	struct waction a = { .kind = WA_CLEAR, .rule = r, .at_ms = at };

	if (c->since != 0 && at > s->healthy_at)
		s->healthy_at = at;
	if (c->fired) {
		flush_window(w, s);
		c->since = 0;
		c->fired = false;
		emit(w, s, &a);
	}
	c->since = 0;
}

/* Neither holds nor clears: a rule that fired stays fired until a good
 * state says otherwise; one that had not fired starts over. */
static void
no_news(struct wrules *w, struct wsubject *s, int r, int64_t now)
{
	if (!s->cond[r].fired)
		release(w, s, r, now);
}

static void
warn(struct wrules *w, struct wsubject *s, int r, bool holds, int64_t now)
{
	struct wcond *c = &s->cond[r];
	struct waction a = { .kind = WA_WARN, .rule = r, .at_ms = now };

	if (!holds || (s->set.ignore & (1u << r))) {
		c->fired = false;
		return;
	}
	if (c->fired)
		return;
	c->fired = true;
	emit(w, s, &a);
}

static bool
is_warning(int r)
{
	return r == CONFIG_WATCH_NOT_ENABLED || r == CONFIG_WATCH_STALE;
}

/* After an evaluation: WA_SICK when something began to hold, WA_HEALTHY
 * when nothing does any more and the state was whole (known says so: a
 * service whose check has not answered yet is not known to be well). */
static void
tell_health(struct wrules *w, struct wsubject *s, bool known, int64_t now)
{
	struct waction a = { 0 };
	bool holds = false;

	for (int r = 0; r < CONFIG_WATCH_NRULES; r++)
		if (!is_warning(r) && (s->cond[r].since != 0 ||
		    s->cond[r].fired))
			holds = true;
	if (holds && s->health != HEALTH_TOLD_SICK) {
		s->health = HEALTH_TOLD_SICK;
		a.kind = WA_SICK;
		a.at_ms = now;
		emit(w, s, &a);
	} else if (!holds && known && s->health != HEALTH_TOLD_HEALTHY) {
		s->health = HEALTH_TOLD_HEALTHY;
		s->first_reason[0] = '\0';
		a.kind = WA_HEALTHY;
		a.at_ms = s->healthy_at ? s->healthy_at : now;
		emit(w, s, &a);
	}
	s->healthy_at = 0;
}

/* --- services ------------------------------------------------------------ */

static bool
is(const char *s, const char *a)
{
	return strcmp(s, a) == 0;
}

/* "active/running", then the flags that make it news: restarting is the
 * watcher's own rule, insecure never changes. */
static void
service_label(const struct probe_service *p, char *buf, size_t len)
{
	char flags[96];

	probe_flags_join(p->flags & ~(unsigned)(SVC_RESTARTING | SVC_INSECURE),
	    flags, sizeof flags);
	snprintf(buf, len, "%s/%s%s%s%s", p->active, p->sub,
	    strcmp(flags, "-") == 0 ? "" : " (", strcmp(flags, "-") == 0 ?
	    "" : flags, strcmp(flags, "-") == 0 ? "" : ")");
}

static size_t
restarts_since(const struct wsubject *s, int64_t from, int64_t *first)
{
	size_t n = 0;

	*first = 0;
	for (size_t i = 0; i < s->nrestart; i++) {
		int64_t t = s->restart_at[(s->rnext + RESTARTS_KEPT - 1 - i) %
		    RESTARTS_KEPT];

		if (t < from)
			break;
		n++;
		*first = t;
	}
	return n;
}

static int64_t
last_restart(const struct wsubject *s)
{
	return s->nrestart ? s->restart_at[(s->rnext + RESTARTS_KEPT - 1) %
	    RESTARTS_KEPT] : 0;
}

static void
see_restarts(struct wsubject *s, int64_t restarts, int64_t now)
{
	if (s->restarts_seen && restarts > s->restarts) {
		for (int64_t k = restarts - s->restarts; k > 0; k--) {
			s->restart_at[s->rnext] = now;
			s->rnext = (s->rnext + 1) % RESTARTS_KEPT;
			if (s->nrestart < RESTARTS_KEPT)
				s->nrestart++;
		}
	}
	/* systemd counts from zero again after a start by hand. */
	s->restarts = restarts;
	s->restarts_seen = true;
}

/*
 * A restart loop is one condition: it holds from the first restart of
 * the loop, and a loop is over once the unit has stayed up for a whole
 * window without restarting, from when it came up for good.
 */
static void
rule_restarting(struct wrules *w, struct wsubject *s, int64_t now)
{
	int r = CONFIG_WATCH_RESTARTING;
	int64_t first;
	size_t n = restarts_since(s, now - s->set.restart_window_ms, &first);

	if ((int64_t)n >= s->set.restarts)
		hold(w, s, r, first, 0, now);
	else if (!s->cond[r].fired)
		release(w, s, r, now);
	else if (s->active && now - last_restart(s) >=
	    s->set.restart_window_ms)
		release(w, s, r, s->active_since);
}

/* Counts the checks answered since the last look: a failure while active
 * adds to the run, a pass ends it. */
static void
rule_unhealthy(struct wrules *w, struct wsubject *s,
    const struct probe_service *p, int64_t now)
{
	int r = CONFIG_WATCH_UNHEALTHY;
	/* The first look counts what it sees: that check happened too. */
	bool news = s->checks_seen ? p->checks != s->checks : p->checks > 0;

	s->checks_seen = true;
	s->checks = p->checks;
	if (!s->active) {
		/* Down is the down rule's; the run starts over. */
		s->nfailed = 0;
		no_news(w, s, r, now);
		return;
	}
	if (p->health == HEALTH_OK || p->health == HEALTH_NONE) {
		s->nfailed = 0;
		release(w, s, r, now);
		return;
	}
	if (!news || p->health != HEALTH_FAILING)
		return;
	if (s->failed == NULL)
		s->failed = lk_xcalloc(WCHECKS_MAX, sizeof *s->failed);
	/* Kept: the first WCHECKS_MAX - 1 and the latest. */
	if (s->nfailed == 0)
		s->nkept = 0;
	if (s->nkept == WCHECKS_MAX)
		s->nkept--;
	s->failed[s->nkept].at_ms = now;
	snprintf(s->failed[s->nkept].reason, sizeof s->failed[0].reason,
	    "%s", p->reason);
	s->nkept++;
	s->nfailed++;
	hold(w, s, r, s->failed[0].at_ms, NEVER, now);
	if (!s->cond[r].fired && s->nfailed >= s->set.unhealthy_after)
		fire(w, s, r);
}

void
wrules_service(struct wrules *w, size_t id, const struct probe_service *p,
    int64_t now)
{
	struct wsubject *s;
	char label[WLABEL_MAX];
	bool failed, gone;

	/* Not read yet: nothing to say, good or bad. */
	if (id >= w->n || (s = &w->subs[id])->name == NULL || s->set.off ||
	    p->load[0] == '\0')
		return;
	snprintf(s->reason, sizeof s->reason, "%s", p->reason);
	service_label(p, label, sizeof label);
	see_label(w, s, label, now);
	if ((is(p->active, "active") || is(p->active, "reloading")) !=
	    s->active) {
		s->active = !s->active;
		if (s->active)
			s->active_since = now;
	}
	if (s->active)
		s->was_active = true;
	see_restarts(s, p->restarts, now);

	/*
	 * Down: failed, or inactive once it was active, for down_after.  A
	 * restart by hand passes through inactive, and one by systemd
	 * (Restart=) through failed and auto-restart: systemd 252 sets the
	 * unit failed and then auto-restart in one go, and the bus may carry
	 * either.  Activating or deactivating is a job at work: no news.
	 */
	failed = (p->flags & SVC_FAILED) != 0;
	gone = !s->active && s->was_active && ((p->flags & SVC_INACTIVE) ||
	    is(p->load, "not-found") || is(p->sub, "auto-restart"));
	if (s->active)
		release(w, s, CONFIG_WATCH_DOWN, now);
	else if (failed || gone)
		hold(w, s, CONFIG_WATCH_DOWN, 0, s->set.down_after_ms, now);
	else
		no_news(w, s, CONFIG_WATCH_DOWN, now);

	if (p->health != HEALTH_UNKNOWN)
		rule_unhealthy(w, s, p, now);

	if (s->active && (p->flags & (SVC_DELETED_CWD | SVC_DELETED_EXE)))
		hold(w, s, CONFIG_WATCH_DELETED, 0, 0, now);
	else if (s->active)
		release(w, s, CONFIG_WATCH_DELETED, now);
	else
		no_news(w, s, CONFIG_WATCH_DELETED, now);

	rule_restarting(w, s, now);
	warn(w, s, CONFIG_WATCH_NOT_ENABLED, p->flags & SVC_NOT_ENABLED, now);
	tell_health(w, s, p->health != HEALTH_UNKNOWN, now);
}

/* --- queues -------------------------------------------------------------- */

static void
queue_label(const struct probe_queue *q, char *buf, size_t len)
{
	char flags[96];

	probe_flags_join(q->flags, flags, sizeof flags);
	snprintf(buf, len, "%s%s%s%s", probe_queue_state_name(q->state),
	    strcmp(flags, "-") == 0 ? "" : " (", strcmp(flags, "-") == 0 ?
	    "" : flags, strcmp(flags, "-") == 0 ? "" : ")");
}

static const int queue_rules[] = { CONFIG_WATCH_STALLED,
    CONFIG_WATCH_PAUSED, CONFIG_WATCH_CRIT, CONFIG_WATCH_GROWING };
#define NQUEUE_RULES (sizeof queue_rules / sizeof queue_rules[0])

void
wrules_queue(struct wrules *w, size_t id, const struct probe_queue *q,
    int64_t now)
{
	struct wsubject *s;
	char label[WLABEL_MAX];
	bool holds[NQUEUE_RULES];
	int64_t grace[NQUEUE_RULES];

	if (id >= w->n || (s = &w->subs[id])->name == NULL || s->set.off)
		return;
	/* Never read: not a state yet. */
	if (q->state == QSTATE_UNKNOWN && !(q->flags & Q_STALE))
		return;
	snprintf(s->reason, sizeof s->reason, "%s", q->reason);
	queue_label(q, label, sizeof label);
	see_label(w, s, label, now);
	warn(w, s, CONFIG_WATCH_STALE, q->flags & Q_STALE, now);
	if (q->state == QSTATE_UNKNOWN) {
		/* The source does not answer: the queue may be anything. */
		for (size_t i = 0; i < NQUEUE_RULES; i++)
			no_news(w, s, queue_rules[i], now);
		tell_health(w, s, false, now);
		return;
	}
	holds[0] = q->state == QSTATE_STALLED;
	grace[0] = 0;	/* stall_after has already waited */
	holds[1] = (q->flags & Q_PAUSED) != 0;
	grace[1] = s->set.paused_after_ms;
	holds[2] = q->state == QSTATE_CRIT;
	grace[2] = s->set.crit_after_ms;
	holds[3] = (q->flags & Q_GROWING) != 0;
	grace[3] = s->set.growing_for_ms;
	for (size_t i = 0; i < NQUEUE_RULES; i++) {
		if (holds[i])
			hold(w, s, queue_rules[i], 0, grace[i], now);
		else
			release(w, s, queue_rules[i], now);
	}
	tell_health(w, s, true, now);
}

/* --- time ---------------------------------------------------------------- */

void
wrules_tick(struct wrules *w, int64_t now)
{
	for (size_t i = 0; i < w->n; i++) {
		struct wsubject *s = &w->subs[i];
		bool was = false;

		for (int r = 0; r < CONFIG_WATCH_NRULES; r++) {
			struct wcond *c = &s->cond[r];

			if (!is_warning(r) && c->since != 0 &&
			    may_fire(s, r, now))
				fire(w, s, r);
		}
		if (!s->queue && s->cond[CONFIG_WATCH_RESTARTING].fired) {
			rule_restarting(w, s, now);
			was = true;
		}
		if (s->window_end != 0 && now >= s->window_end)
			flush_window(w, s);
		if (was)
			tell_health(w, s, true, now);
	}
}

int64_t
wrules_next(const struct wrules *w)
{
	int64_t next = 0;

#define SOONER(t) do { int64_t t_ = (t); \
	if (t_ > 0 && (next == 0 || t_ < next)) next = t_; } while (0)
	for (size_t i = 0; i < w->n; i++) {
		const struct wsubject *s = &w->subs[i];

		for (int r = 0; r < CONFIG_WATCH_NRULES; r++) {
			const struct wcond *c = &s->cond[r];

			if (!is_warning(r) && c->since != 0 && !c->fired &&
			    c->grace != NEVER && (r != CONFIG_WATCH_DOWN ||
			    !s->cond[CONFIG_WATCH_RESTARTING].fired))
				SOONER(c->since + c->grace);
		}
		if (!s->queue && s->cond[CONFIG_WATCH_RESTARTING].fired &&
		    s->active)
			SOONER(last_restart(s) + s->set.restart_window_ms);
		SOONER(s->window_end);
	}
#undef SOONER
	return next;
}

void
wrules_flush(struct wrules *w, int64_t now)
{
	(void)now;
	for (size_t i = 0; i < w->n; i++)
		flush_window(w, &w->subs[i]);
}
