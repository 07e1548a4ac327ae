/*
 * The incidents the watcher follows, from a rule that fires to their
 * resolution: which subjects each is about, whether each is healthy again
 * and since when.  An incident is mitigated when all of its subjects are
 * healthy, at the latest of the times they became so, and resolved once
 * that has held for resolve_after; a subject that falls sick again before
 * then starts the wait over (the incident stays mitigated: milestones only
 * move forward).  Pure: the caller gives the times and does the I/O.
 */
#include "private.h"

#include <stdlib.h>
#include <string.h>

#include "../core/err.h"

struct tsubject {
	char *name;
	bool healthy;
	int64_t healthy_at;
	int64_t evidence_at[CONFIG_WATCH_NRULES];	/* 0: never */
};

struct tincident {
	int64_t id;
	char *cause;		/* the subject of the first fire */
	int rule;		/* and its rule, -1: unknown */
	struct tsubject *subs;
	size_t n;
	bool mitigated;		/* told */
	int64_t resolve_at;	/* 0: not all healthy */
};

struct wtrack {
	struct tincident *incs;
	size_t n;
	int64_t resolve_after_ms;
	wtrack_cb *cb;
	void *data;
};

struct wtrack *
wtrack_new(int64_t resolve_after_ms, wtrack_cb *cb, void *data)
{
	struct wtrack *t = lk_xcalloc(1, sizeof *t);

	t->resolve_after_ms = resolve_after_ms;
	t->cb = cb;
	t->data = data;
	return t;
}

static void
incident_free(struct tincident *inc)
{
	free(inc->cause);
	for (size_t i = 0; i < inc->n; i++)
		free(inc->subs[i].name);
	free(inc->subs);
}

void
wtrack_free(struct wtrack **tp)
{
	struct wtrack *t = tp ? *tp : NULL;

	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		incident_free(&t->incs[i]);
	free(t->incs);
	free(t);
	*tp = NULL;
}

void
wtrack_set_resolve_after(struct wtrack *t, int64_t ms)
{
	t->resolve_after_ms = ms;
	for (size_t i = 0; i < t->n; i++)
		if (t->incs[i].resolve_at != 0) {
			int64_t at = 0;

			for (size_t j = 0; j < t->incs[i].n; j++)
				if (t->incs[i].subs[j].healthy_at > at)
					at = t->incs[i].subs[j].healthy_at;
			t->incs[i].resolve_at = at + ms;
		}
}

static struct tincident *
find_id(const struct wtrack *t, int64_t id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->incs[i].id == id)
			return &t->incs[i];
	return NULL;
}

static struct tincident *
add_incident(struct wtrack *t, int64_t id, const char *cause, int rule)
{
	struct tincident *inc = find_id(t, id);

	if (inc != NULL)
		return inc;
	t->incs = lk_xrealloc(t->incs, (t->n + 1) * sizeof *t->incs);
	inc = &t->incs[t->n++];
	memset(inc, 0, sizeof *inc);
	inc->id = id;
	inc->cause = lk_xstrdup(cause);
	inc->rule = rule;
	return inc;
}

static struct tsubject *
subject_of(struct tincident *inc, const char *name, bool add)
{
	for (size_t i = 0; i < inc->n; i++)
		if (strcmp(inc->subs[i].name, name) == 0)
			return &inc->subs[i];
	if (!add)
		return NULL;
	inc->subs = lk_xrealloc(inc->subs, (inc->n + 1) * sizeof *inc->subs);
	memset(&inc->subs[inc->n], 0, sizeof inc->subs[0]);
	inc->subs[inc->n].name = lk_xstrdup(name);
	return &inc->subs[inc->n++];
}

void
wtrack_adopt(struct wtrack *t, int64_t id, const char *const *subjects,
    size_t n, int rule)
{
	struct tincident *inc = add_incident(t, id, n > 0 ? subjects[0] : "",
	    rule);

	for (size_t i = 0; i < n; i++)
		subject_of(inc, subjects[i], true)->healthy = false;
	inc->resolve_at = 0;
}

int64_t
wtrack_find(const struct wtrack *t, const char *subject)
{
	for (size_t i = 0; i < t->n; i++)
		if (subject_of(&t->incs[i], subject, false) != NULL)
			return t->incs[i].id;
	return 0;
}

bool
wtrack_has(const struct wtrack *t, int64_t id)
{
	return find_id(t, id) != NULL;
}

void
wtrack_fire(struct wtrack *t, int64_t id, const char *subject, int rule)
{
	struct tincident *inc = add_incident(t, id, subject, rule);

	subject_of(inc, subject, true)->healthy = false;
	inc->resolve_at = 0;
}

bool
wtrack_evidence_due(struct wtrack *t, int64_t id, const char *subject,
    int rule, int64_t now, int64_t gap_ms)
{
	struct tincident *inc = find_id(t, id);
	struct tsubject *s = inc ? subject_of(inc, subject, false) : NULL;

	if (s == NULL || rule < 0 || rule >= CONFIG_WATCH_NRULES)
		return true;
	if (s->evidence_at[rule] != 0 && now - s->evidence_at[rule] < gap_ms)
		return false;
	s->evidence_at[rule] = now;
	return true;
}

void
wtrack_sick(struct wtrack *t, const char *subject)
{
	for (size_t i = 0; i < t->n; i++) {
		struct tsubject *s = subject_of(&t->incs[i], subject, false);

		if (s != NULL) {
			s->healthy = false;
			t->incs[i].resolve_at = 0;
		}
	}
}

void
wtrack_healthy(struct wtrack *t, const char *subject, int64_t at_ms)
{
	struct { int64_t id, at; char *cause; int rule; } *told = NULL;
	size_t ntold = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct tincident *inc = &t->incs[i];
		struct tsubject *s = subject_of(inc, subject, false);
		int64_t at = 0;
		bool all = true;

		if (s == NULL || s->healthy)
			continue;
		s->healthy = true;
		s->healthy_at = at_ms;
		for (size_t j = 0; j < inc->n; j++) {
			all &= inc->subs[j].healthy;
			if (inc->subs[j].healthy_at > at)
				at = inc->subs[j].healthy_at;
		}
		if (!all)
			continue;
		inc->resolve_at = at + t->resolve_after_ms;
		if (!inc->mitigated) {
			inc->mitigated = true;
			told = lk_xrealloc(told, (ntold + 1) * sizeof *told);
			told[ntold].id = inc->id;
			told[ntold].at = at;
			told[ntold].cause = lk_xstrdup(inc->cause);
			told[ntold++].rule = inc->rule;
		}
	}
	/* After the walk: a callback may forget incidents. */
	for (size_t i = 0; i < ntold; i++) {
		t->cb(WT_MITIGATED, told[i].id, told[i].at, told[i].cause,
		    told[i].rule, t->data);
		free(told[i].cause);
	}
	free(told);
}

static void
drop(struct wtrack *t, size_t i)
{
	incident_free(&t->incs[i]);
	t->incs[i] = t->incs[--t->n];
}

void
wtrack_tick(struct wtrack *t, int64_t now)
{
	for (size_t i = 0; i < t->n; i++) {
		struct tincident *inc = &t->incs[i];
		int64_t id = inc->id, at = inc->resolve_at;
		char *cause;
		int rule = inc->rule;

		if (at == 0 || now < at)
			continue;
		cause = inc->cause;
		inc->cause = NULL;
		drop(t, i--);
		t->cb(WT_RESOLVED, id, at, cause, rule, t->data);
		free(cause);
	}
}

int64_t
wtrack_next(const struct wtrack *t)
{
	int64_t next = 0;

	for (size_t i = 0; i < t->n; i++)
		if (t->incs[i].resolve_at != 0 && (next == 0 ||
		    t->incs[i].resolve_at < next))
			next = t->incs[i].resolve_at;
	return next;
}

void
wtrack_forget(struct wtrack *t, int64_t id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->incs[i].id == id) {
			drop(t, i);
			return;
		}
}

size_t
wtrack_count(const struct wtrack *t)
{
	return t->n;
}
