/*
 * lookout watch: the probes on the loop, the rules over their states, and
 * what follows from a rule that fires: the incident, its evidence, its
 * milestones, the notifications.  Seed 000 was down nine hours and seed
 * 001 six weeks because nothing watched; this is what watches, and what
 * makes sure that it is itself watched (systemd's watchdog, the heartbeat
 * in the timeline, a dead man's switch).
 *
 * Everything runs from the one loop: the probes' changes go to the rules
 * (rules.c), whose actions come back here to be written to the timeline;
 * one timer wakes the rules and the incidents (track.c) when something of
 * theirs is due, one ends a cycle (heartbeat, dead man's switch, STATUS),
 * one pings the watchdog.  A stuck loop stops the pings, and systemd
 * restarts the watcher.
 */
#include "watch.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "../config/config.h"
#include "../core/http.h"
#include "../core/loop.h"
#include "../core/util.h"
#include "../probes/probes.h"
#include "../store/store.h"
#include "notify.h"
#include "private.h"

/* Journal lines kept as evidence of a service's incident. */
#define JOURNAL_LINES 20
/*
 * How long after a rule fires the unit's journal is read.  A unit's last
 * words (the traceback) reach journald through a pipe, and systemd may
 * report the exit first: a second later they are in the journal.
 */
#define JOURNAL_DELAY_MS 1000
/* Journal reads at once; more are skipped, and the evidence says so. */
#define JOURNAL_JOBS_MAX 16
/* The longest a cycle (heartbeat, dead man's switch) waits: the console
 * and `status` call a watcher silent for a minute stopped. */
#define CYCLE_MAX_MS 15000
/* Deliveries still in flight get this long at a clean stop. */
#define STOP_GRACE_MS 5000
/* Queue depths quoted as evidence. */
#define DEPTHS_MAX 20
#define PROCS_MAX 16

struct watcher;

/* A unit's journal, read a moment after a rule fired, into incident id. */
struct jjob {
	struct watcher *w;
	int64_t incident;
	char *subject;
	char *unit;
	char *scope;
	char *host;		/* NULL: this machine */
	char *ssh_config;	/* the configuration's, for ssh -F */
	int64_t timeout_ms;
	long long timer;
	struct probe_journal *pj;
	struct jjob *next;
};

/* A configuration replaced by a reload, kept while its notifiers still
 * deliver. */
struct retired {
	struct config *cfg;
	struct notifiers *notifiers;
	struct retired *next;
};

struct watcher {
	struct loop *loop;
	struct store *store;
	const char *config_opt;		/* --config, or NULL */
	struct config *cfg;		/* NULL: none, units found by probes */
	struct probes *probes;
	int probes_sub;
	struct notifiers *notifiers;
	struct retired *retired;
	struct wrules *rules;
	struct wtrack *track;
	size_t *svc_ids;		/* the probes' index -> the rules' id */
	size_t nsvc_ids;
	size_t *q_ids;
	size_t nq_ids;
	struct http_pool *http;		/* the dead man's switch's */
	bool deadman_busy;
	bool deadman_failing;
	struct jjob *jobs;
	size_t njobs;
	long long cycle_timer;
	long long due_timer;
	int64_t due_at;
	long long dog_timer;
	uint64_t dog_usec;		/* systemd's WatchdogSec, 0: none */
	long long stop_timer;
	int64_t stop_deadline;
	bool ready;
	bool stopping;
	int64_t started;		/* monotonic */
	int feed_sub;
	char host[256];
	char actor[300];		/* watch@HOST: on every event */
	char who[320];			/* watch@HOST[PID]: the heartbeat */
};

static void rearm_due(struct watcher *w);

static int64_t
config_interval(const struct watcher *w)
{
	return w->cfg ? config_interval_ms(w->cfg) : 5000;
}

/*
 * How often the timeline is looked at for what people did (a note, an
 * ack, a resolve: see on_event).  Nothing there is urgent to the watcher:
 * an inferred acknowledgement takes the action's own time.  So once an
 * interval, at most every 5 s: each look is a wakeup and a read lock, and
 * at 2 a second they were a quarter of an idle watcher's wakeups.
 */
static int64_t
feed_interval(const struct watcher *w)
{
	return config_interval(w) < 5000 ? config_interval(w) : 5000;
}

static int64_t
resolve_after(const struct watcher *w)
{
	int64_t ms = w->cfg ? config_resolve_after_ms(w->cfg) : -1;

	return ms >= 0 ? ms : 5 * 60 * 1000;
}

/* Whether an event's actor is a watcher: its own events and other
 * watchers' are not a person acting. */
static bool
by_watcher(const char *actor)
{
	return actor != NULL && strncmp(actor, "watch@", 6) == 0;
}

/* --- the timeline -------------------------------------------------------- */

/* The host the service or queue named subject runs on, or NULL for this
 * machine (or no such name: discovered units are all here). */
static const char *
subject_host(const struct watcher *w, const char *subject)
{
	const struct config_service *s;
	const struct config_queue *q;

	if (w->cfg == NULL || subject == NULL)
		return NULL;
	if ((s = config_service_find(w->cfg, subject)) != NULL)
		return s->host;
	q = config_queue_find(w->cfg, subject);
	return q != NULL ? q->host : NULL;
}

/* Records one event; a subject on another host has it in its data. */
static int64_t
append(struct watcher *w, int64_t incident, const char *kind,
    const char *subject, const char *message, json_t *data)
{
	struct store_new_event ev = { .incident_id = incident, .kind = kind,
	    .subject = subject, .message = message };
	struct lk_err err = { 0 };
	const char *host = subject_host(w, subject);
	char *text;
	int64_t seq = 0;

	if (host != NULL) {
		if (data == NULL)
			data = json_object();
		if (json_is_object(data))
			json_object_set_new(data, "host", lk_json_text(host));
	}
	text = data ? json_dumps(data, JSON_COMPACT) : NULL;

	ev.data = text;
	if (store_append(w->store, &ev, &seq, &err) != LK_OK)
		wlog(LOG_ERR, "cannot record %s of %s: %s", kind, subject ?
		    subject : "-", err.msg);
	free(text);
	json_decref(data);
	return seq;
}

struct find_ctx {
	const char *subject;
	int64_t id;
};

static int
find_open(const struct store_incident *inc, void *arg)
{
	struct find_ctx *f = arg;

	if (strcmp(inc->status, "resolved") == 0 ||
	    strcmp(inc->status, "closed") == 0)
		return 0;
	for (size_t i = 0; i < inc->nservices; i++)
		if (strcmp(inc->services[i], f->subject) == 0) {
			f->id = inc->id;
			return 1;
		}
	return 0;
}

/* The newest incident not resolved or closed whose services include
 * subject, whoever opened it; 0: none. */
static int64_t
open_incident_of(struct watcher *w, const char *subject)
{
	struct find_ctx f = { subject, 0 };
	struct lk_err err = { 0 };

	if (store_incident_foreach(w->store, find_open, &f, &err) != LK_OK)
		wlog(LOG_ERR, "cannot read the incidents: %s", err.msg);
	return f.id;
}

static void
notify(struct watcher *w, const char *what, int64_t id, const char *subject,
    int rule, const char *reason, int64_t ends_at)
{
	struct store_incident *inc = NULL;
	struct lk_err err = { 0 };
	struct notify_event ev = { .what = what, .incident_id = id,
	    .subject = subject, .reason = reason, .host = w->host,
	    .ends_at_ms = ends_at };

	if (w->notifiers == NULL ||
	    store_incident_get(w->store, id, &inc, &err) != LK_OK)
		return;
	ev.title = inc->title;
	ev.severity = inc->severity;
	ev.rule = rule >= 0 ? config_watch_rule_name(rule) : NULL;
	ev.starts_at_ms = inc->milestones[STORE_DETECTED];
	notifiers_send(w->notifiers, &ev);
	store_incident_free(&inc);
}

/*
 * The rule (-1: unknown) and reason of an incident this watcher opened,
 * read back from its title, which on_fire writes as "SUBJECT RULE:
 * REASON": a watcher that restarts keeps telling its notifiers of the
 * same alert.
 */
static int
rule_of_title(const struct store_incident *inc, const char **reason)
{
	const char *subject = inc->nservices > 0 ? inc->services[0] : "";
	size_t n = strlen(subject);
	const char *r, *colon;

	*reason = NULL;
	if (n == 0 || strncmp(inc->title, subject, n) != 0 ||
	    inc->title[n] != ' ')
		return -1;
	r = inc->title + n + 1;
	if ((colon = strstr(r, ": ")) == NULL)
		return -1;
	for (int i = 0; i < CONFIG_WATCH_NRULES; i++) {
		const char *name = config_watch_rule_name(i);

		if (strlen(name) == (size_t)(colon - r) &&
		    strncmp(r, name, (size_t)(colon - r)) == 0) {
			*reason = colon + 2;
			return i;
		}
	}
	return -1;
}

/*
 * An incident still open, said again to notifiers that did not hear it
 * (this process restarted, or a reload made them anew): Alertmanager
 * resolves an alert that nobody re-posts.
 */
static int
restate_one(const struct store_incident *inc, void *arg)
{
	struct watcher *w = arg;
	struct notify_event ev = { .what = "opened", .incident_id = inc->id,
	    .title = inc->title, .severity = inc->severity, .host = w->host,
	    .starts_at_ms = inc->milestones[STORE_DETECTED], .again = true };
	int rule;

	if (!by_watcher(inc->opened_by) || strcmp(inc->status, "resolved") ==
	    0 || strcmp(inc->status, "closed") == 0 || inc->nservices == 0)
		return 0;
	ev.subject = inc->services[0];
	rule = rule_of_title(inc, &ev.reason);
	ev.rule = rule >= 0 ? config_watch_rule_name(rule) : NULL;
	if (ev.starts_at_ms == 0)
		ev.starts_at_ms = inc->opened_at;
	notifiers_send(w->notifiers, &ev);
	return 0;
}

static void
restate_open(struct watcher *w)
{
	struct lk_err err = { 0 };

	if (w->notifiers != NULL && store_incident_foreach(w->store,
	    restate_one, w, &err) != LK_OK)
		wlog(LOG_ERR, "cannot read the incidents: %s", err.msg);
}

/* --- evidence ------------------------------------------------------------ */

static void
jjob_free(struct watcher *w, struct jjob *j)
{
	struct jjob **pp;

	for (pp = &w->jobs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			w->njobs--;
			break;
		}
	if (j->timer)
		loop_del_timer(w->loop, j->timer);
	probe_journal_free(&j->pj);
	free(j->subject);
	free(j->unit);
	free(j->scope);
	free(j->host);
	free(j->ssh_config);
	free(j);
}

static void
on_journal(struct probe_journal *pj, size_t added, void *data)
{
	struct jjob *j = data;
	struct lk_buf b = { 0 };
	size_t n = probe_journal_count(pj);
	const char *why = probe_journal_status(pj);
	json_t *d = json_object();

	(void)added;
	if (!probe_journal_caught_up(pj) && why == NULL)
		return;
	if (n == 0 && why != NULL) {
		/* The probe's own words, which name the journal. */
		lk_buf_adds(&b, why);
	} else if (n == 0) {
		lk_buf_printf(&b, "journal of %s: no entries", j->unit);
	} else {
		lk_buf_printf(&b, "journal of %s, last %zu line%s:", j->unit,
		    n, n == 1 ? "" : "s");
		for (size_t i = 0; i < n; i++) {
			const struct probe_journal_line *ln =
			    probe_journal_line(pj, i);
			char iso[LK_ISO_LEN];

			lk_iso8601(ln->realtime_us / 1000, iso);
			lk_buf_printf(&b, "\n%s ", iso);
			lk_buf_add(&b, ln->text, ln->len);
		}
	}
	json_object_set_new(d, "unit", lk_json_text(j->unit));
	json_object_set_new(d, "lines", json_integer((json_int_t)n));
	append(j->w, j->incident, "incident.evidence", j->subject, b.s, d);
	wlog(LOG_INFO, "incident %lld: %zu journal line%s of %s kept as "
	    "evidence", (long long)j->incident, n, n == 1 ? "" : "s", j->unit);
	lk_buf_free(&b);
	jjob_free(j->w, j);
}

static long long
on_journal_due(struct loop *l, long long id, void *data)
{
	struct jjob *j = data;
	struct lk_err err = { 0 };
	struct probe_journal_host h = { .host = j->host,
	    .ssh_config = j->ssh_config, .timeout_ms = j->timeout_ms };
	enum lk_code rc;

	(void)l;
	(void)id;
	j->timer = 0;
	/* Wherever the service runs: another host's journal over ssh.  Not
	 * through the probes, which a stop may have freed by now. */
	if (j->host != NULL)
		rc = probe_journal_last_remote(j->w->loop, &h, j->unit,
		    j->scope, JOURNAL_LINES, on_journal, j, &j->pj, &err);
	else
		rc = probe_journal_last(j->w->loop, j->unit, j->scope,
		    JOURNAL_LINES, on_journal, j, &j->pj, &err);
	if (rc != LK_OK) {
		/* err names the journal ("journal of UNIT: ..."). */
		append(j->w, j->incident, "incident.evidence", j->subject,
		    err.msg, NULL);
		jjob_free(j->w, j);
	}
	return LOOP_NOMORE;
}

static void
journal_evidence(struct watcher *w, int64_t incident, const char *subject,
    const struct probe_service *s)
{
	struct jjob *j;

	if (w->njobs >= JOURNAL_JOBS_MAX) {
		char *msg = lk_xasprintf("journal of %s: not read, %d other "
		    "journals were being read", s->unit, JOURNAL_JOBS_MAX);

		append(w, incident, "incident.evidence", subject, msg, NULL);
		free(msg);
		return;
	}
	j = lk_xcalloc(1, sizeof *j);
	j->w = w;
	j->incident = incident;
	j->subject = lk_xstrdup(subject);
	j->unit = lk_xstrdup(s->unit);
	j->scope = lk_xstrdup(s->scope);
	if (s->host != NULL && w->cfg != NULL) {
		j->host = lk_xstrdup(s->host);
		if (config_ssh_config(w->cfg) != NULL)
			j->ssh_config = lk_xstrdup(config_ssh_config(w->cfg));
		j->timeout_ms = config_ssh_timeout_ms(w->cfg);
	}
	j->timer = loop_add_timer(w->loop, JOURNAL_DELAY_MS, on_journal_due,
	    j);
	j->next = w->jobs;
	w->jobs = j;
	w->njobs++;
}

static const struct probe_service *
service_of(const struct watcher *w, size_t rid, size_t *idx)
{
	for (size_t i = 0; i < w->nsvc_ids; i++)
		if (w->svc_ids[i] == rid) {
			*idx = i;
			return probes_service(w->probes, i);
		}
	return NULL;
}

static size_t
queue_of(const struct watcher *w, size_t rid)
{
	for (size_t i = 0; i < w->nq_ids; i++)
		if (w->q_ids[i] == rid)
			return i;
	return (size_t)-1;
}

/*
 * What the rule saw, as the incident's first evidence: the state at the
 * first failing sample and now, the failing checks in a row, the
 * processes running from deleted places, a queue's last depths.
 */
static void
check_evidence(struct watcher *w, int64_t incident, const struct waction *a)
{
	const char *rule = config_watch_rule_name(a->rule);
	struct lk_buf b = { 0 };
	json_t *d = json_object(), *checks = json_array();
	char iso[LK_ISO_LEN];
	size_t idx;

	lk_iso8601(a->at_ms, iso);
	lk_buf_printf(&b, "%s: %s (first seen %s)", rule, a->first_reason &&
	    a->first_reason[0] ? a->first_reason : a->reason, iso);
	lk_buf_printf(&b, "\nnow %s%s%s", a->to, a->reason[0] ? ": " : "",
	    a->reason);
	json_object_set_new(d, "rule", json_string(rule));
	json_object_set_new(d, "state", lk_json_text(a->to));
	json_object_set_new(d, "reason", lk_json_text(a->reason));
	json_object_set_new(d, "detected_at", json_integer(a->at_ms));
	if (a->nchecks > 0)
		lk_buf_printf(&b, "\n%lld check%s failed in a row:",
		    (long long)a->nfailed, a->nfailed == 1 ? "" : "s");
	for (size_t i = 0; i < a->nchecks; i++) {
		json_t *c = json_object();

		lk_iso8601(a->checks[i].at_ms, iso);
		lk_buf_printf(&b, "\n%s %s", iso, a->checks[i].reason);
		json_object_set_new(c, "at", json_integer(a->checks[i].at_ms));
		json_object_set_new(c, "reason", lk_json_text(
		    a->checks[i].reason));
		json_array_append_new(checks, c);
	}
	json_object_set_new(d, "checks", checks);
	if (!a->queue && service_of(w, a->id, &idx) != NULL) {
		const struct probe_service *s = probes_service(w->probes, idx);
		struct probe_proc procs[PROCS_MAX];
		size_t n = 0;

		if (s->since_ms > 0) {
			lk_iso8601(s->since_ms, iso);
			lk_buf_printf(&b, "\n%s %s since %s", s->unit, s->active,
			    iso);
			json_object_set_new(d, "since", json_integer(
			    s->since_ms));
		}
		if (a->rule == CONFIG_WATCH_DELETED)
			n = probes_service_procs(w->probes, idx, procs,
			    PROCS_MAX);
		for (size_t i = 0; i < n; i++)
			lk_buf_printf(&b, "\npid %ld (%s): cwd %s%s, exe %s%s",
			    procs[i].pid, procs[i].comm, procs[i].cwd,
			    procs[i].cwd_deleted ? " (deleted)" : "",
			    procs[i].exe, procs[i].exe_deleted ? " (deleted)" :
			    "");
	} else if (a->queue && (idx = queue_of(w, a->id)) != (size_t)-1) {
		int64_t depths[DEPTHS_MAX];
		size_t n = probes_queue_history(w->probes, idx, depths,
		    DEPTHS_MAX);

		if (n > 0)
			lk_buf_adds(&b, "\ndepths, oldest first:");
		for (size_t i = 0; i < n; i++)
			lk_buf_printf(&b, " %lld", (long long)depths[i]);
	}
	append(w, incident, "incident.evidence", a->subject, b.s, d);
	lk_buf_free(&b);
}

/* --- what the rules say -------------------------------------------------- */

static void
on_fire(struct watcher *w, const struct waction *a)
{
	const char *rule = config_watch_rule_name(a->rule);
	const char *why = a->first_reason && a->first_reason[0] ?
	    a->first_reason : a->reason;
	int64_t id = wtrack_find(w->track, a->subject);
	struct lk_err err = { 0 };
	char iso[LK_ISO_LEN];
	size_t idx;
	bool opened = false;

	if (id == 0)
		id = open_incident_of(w, a->subject);
	lk_iso8601(a->at_ms, iso);
	if (id == 0) {
		char *title = lk_xasprintf("%s %s: %s", a->subject, rule,
		    why[0] ? why : a->to);

		if (store_incident_open_detected(w->store, title, a->severity,
		    &a->subject, 1, a->at_ms, &id, &err) != LK_OK) {
			wlog(LOG_ERR, "%s %s, but no incident could be opened: "
			    "%s", a->subject, rule, err.msg);
			free(title);
			return;
		}
		wlog(LOG_ERR, "incident %lld opened (%s): %s; detected %s",
		    (long long)id, a->severity, title, iso);
		free(title);
		opened = true;
	} else {
		wlog(LOG_ERR, "incident %lld: %s %s: %s (added to it); "
		    "detected %s", (long long)id, a->subject, rule, why, iso);
	}
	wtrack_fire(w->track, id, a->subject, a->rule);
	if (wtrack_evidence_due(w->track, id, a->subject, a->rule,
	    lk_now_ms(), resolve_after(w))) {
		check_evidence(w, id, a);
		if (!a->queue && service_of(w, a->id, &idx) != NULL)
			journal_evidence(w, id, a->subject,
			    probes_service(w->probes, idx));
	}
	if (opened)
		notify(w, "opened", id, a->subject, a->rule, why, 0);
}

static void
on_change_told(struct watcher *w, const struct waction *a)
{
	json_t *d = json_object();
	char *msg;

	if (a->count > 1)
		msg = lk_xasprintf("%s -> %s (%d changes in %llds)", a->from,
		    a->to, a->count, (long long)(config_interval(w) / 1000));
	else
		msg = lk_xasprintf("%s -> %s", a->from, a->to);
	if (a->reason[0] != '\0') {
		char *more = lk_xasprintf("%s: %s", msg, a->reason);

		free(msg);
		msg = more;
	}
	json_object_set_new(d, "kind", json_string(a->queue ? "queue" :
	    "service"));
	json_object_set_new(d, "from", lk_json_text(a->from));
	json_object_set_new(d, "to", lk_json_text(a->to));
	json_object_set_new(d, "count", json_integer(a->count));
	json_object_set_new(d, "at", json_integer(a->at_ms));
	append(w, wtrack_find(w->track, a->subject), "state.change",
	    a->subject, msg, d);
	wlog(LOG_NOTICE, "%s: %s", a->subject, msg);
	free(msg);
}

static void
on_warn(struct watcher *w, const struct waction *a)
{
	const char *rule = config_watch_rule_name(a->rule);
	json_t *d = json_object();
	char *msg = lk_xasprintf("%s: %s", rule, a->reason[0] ? a->reason :
	    a->to);

	json_object_set_new(d, "rule", json_string(rule));
	append(w, wtrack_find(w->track, a->subject), "watch.warning",
	    a->subject, msg, d);
	wlog(LOG_WARNING, "%s: %s", a->subject, msg);
	free(msg);
}

static void
on_rule(const struct waction *a, void *data)
{
	struct watcher *w = data;

	switch (a->kind) {
	case WA_CHANGE:
		on_change_told(w, a);
		break;
	case WA_FIRE:
		on_fire(w, a);
		break;
	case WA_CLEAR:
		wlog(LOG_INFO, "%s: %s no longer holds", a->subject,
		    config_watch_rule_name(a->rule));
		break;
	case WA_WARN:
		on_warn(w, a);
		break;
	case WA_HEALTHY:
		wtrack_healthy(w->track, a->subject, a->at_ms);
		break;
	case WA_SICK:
		wtrack_sick(w->track, a->subject);
		break;
	}
}

/* --- milestones ---------------------------------------------------------- */

static void
on_track(enum wtrack_kind kind, int64_t id, int64_t at, const char *subject,
    int rule, void *data)
{
	struct watcher *w = data;
	enum store_milestone m = kind == WT_MITIGATED ? STORE_MITIGATED :
	    STORE_RESOLVED;
	struct lk_err err = { 0 };
	char dur[32], *text;

	lk_fmt_duration(resolve_after(w), dur, sizeof dur);
	text = kind == WT_MITIGATED ? lk_xstrdup("the checks pass again") :
	    lk_xasprintf("the checks passed for %s", dur);
	if (store_incident_infer(w->store, id, m, at, text, &err) != LK_OK) {
		/* A person was there first: their word stands. */
		wlog(LOG_INFO, "incident %lld: not marked %s: %s",
		    (long long)id, store_milestone_name(m), err.msg);
		if (err.code != LK_ESTATE)
			wlog(LOG_ERR, "incident %lld: %s", (long long)id,
			    err.msg);
		free(text);
		return;
	}
	wlog(LOG_NOTICE, "incident %lld %s: %s", (long long)id,
	    store_milestone_status(m), text);
	notify(w, kind == WT_MITIGATED ? "mitigated" : "resolved", id, subject,
	    rule, text, kind == WT_RESOLVED ? at : 0);
	free(text);
}

/*
 * The timeline's change feed, every process's events: the first action of
 * a person on an incident the watcher opened acknowledges it (inferred: a
 * person's own ack wins), and one resolved or closed by a person is no
 * longer the watcher's to resolve.
 */
static int
on_event(const struct store_event *ev, void *data)
{
	struct watcher *w = data;
	struct store_incident *inc = NULL;
	struct lk_err err = { 0 };
	bool person_done;
	char *text;

	if (ev->incident_id == 0 || by_watcher(ev->actor_user))
		return 0;
	person_done = strcmp(ev->kind, "incident.milestone") == 0 &&
	    ev->subject != NULL && (strcmp(ev->subject, "resolved") == 0 ||
	    strcmp(ev->subject, "closed") == 0);
	if (person_done && wtrack_has(w->track, ev->incident_id)) {
		wlog(LOG_INFO, "incident %lld %s by %s", (long long)
		    ev->incident_id, ev->subject, ev->actor_user);
		wtrack_forget(w->track, ev->incident_id);
	}
	if (strcmp(ev->kind, "incident.opened") == 0 ||
	    store_incident_get(w->store, ev->incident_id, &inc, &err) != LK_OK)
		return 0;
	if (by_watcher(inc->opened_by) &&
	    inc->milestones[STORE_ACKNOWLEDGED] == 0 &&
	    strcmp(inc->status, "open") == 0) {
		text = lk_xasprintf("first action by %s: %s", ev->actor_user,
		    ev->kind);
		if (store_incident_infer(w->store, inc->id, STORE_ACKNOWLEDGED,
		    ev->ts_ms, text, &err) == LK_OK)
			wlog(LOG_NOTICE, "incident %lld acknowledged: %s",
			    (long long)inc->id, text);
		free(text);
	}
	store_incident_free(&inc);
	return 0;
}

/* Incidents a watcher opened that are still open: followed again. */
static int
adopt_one(const struct store_incident *inc, void *arg)
{
	struct watcher *w = arg;
	const char *reason;

	if (!by_watcher(inc->opened_by) || strcmp(inc->status, "resolved") ==
	    0 || strcmp(inc->status, "closed") == 0)
		return 0;
	wtrack_adopt(w->track, inc->id, (const char *const *)inc->services,
	    inc->nservices, rule_of_title(inc, &reason));
	wlog(LOG_INFO, "incident %lld (%s) is still %s: following it",
	    (long long)inc->id, inc->title, inc->status);
	return 0;
}

/* --- the probes ---------------------------------------------------------- */

/* Tells the rules of every service and queue (again, after a reload), and
 * of units the probes found since (no configuration). */
static void
sync_subjects(struct watcher *w, bool reset)
{
	size_t ns = probes_service_count(w->probes);
	size_t nq = probes_queue_count(w->probes);
	struct wsettings set;
	size_t from = reset ? 0 : w->nsvc_ids;

	if (reset)
		wrules_reset(w->rules);
	w->svc_ids = lk_xrealloc(w->svc_ids, (ns + 1) * sizeof *w->svc_ids);
	for (size_t i = from; i < ns; i++) {
		const struct probe_service *s = probes_service(w->probes, i);
		const struct config_service *c = w->cfg ?
		    config_service_find(w->cfg, s->name) : NULL;

		wsettings_from(c ? &c->watch : NULL, &set);
		w->svc_ids[i] = wrules_add(w->rules, false, s->name, &set);
	}
	w->nsvc_ids = ns;
	if (reset) {
		w->q_ids = lk_xrealloc(w->q_ids, (nq + 1) * sizeof *w->q_ids);
		for (size_t i = 0; i < nq; i++) {
			const struct probe_queue *q = probes_queue(w->probes,
			    i);
			const struct config_queue *c = w->cfg ?
			    config_queue_find(w->cfg, q->name) : NULL;

			wsettings_from(c ? &c->watch : NULL, &set);
			w->q_ids[i] = wrules_add(w->rules, true, q->name, &set);
		}
		w->nq_ids = nq;
		wrules_prune(w->rules);
	}
}

static void
on_probes(struct probes *p, const struct probes_change *c, void *data)
{
	struct watcher *w = data;
	int64_t now = lk_now_ms();

	if (c->added)
		sync_subjects(w, false);
	for (size_t i = 0; i < c->nservices; i++)
		if (c->services[i] < w->nsvc_ids)
			wrules_service(w->rules, w->svc_ids[c->services[i]],
			    probes_service(p, c->services[i]), now);
	for (size_t i = 0; i < c->nqueues; i++)
		if (c->queues[i] < w->nq_ids)
			wrules_queue(w->rules, w->q_ids[c->queues[i]],
			    probes_queue(p, c->queues[i]), now);
	rearm_due(w);
}

static enum lk_code
start_probes(struct watcher *w, struct lk_err *err)
{
	if (probes_new(w->loop, w->cfg, w->store, &w->probes, err) != LK_OK)
		return err->code;
	w->probes_sub = probes_subscribe(w->probes, on_probes, w);
	sync_subjects(w, true);
	probes_start(w->probes);
	return LK_OK;
}

static void
stop_probes(struct watcher *w)
{
	if (w->probes == NULL)
		return;
	probes_unsubscribe(w->probes, w->probes_sub);
	probes_free(&w->probes);
}

/* --- timers -------------------------------------------------------------- */

static long long
on_due(struct loop *l, long long id, void *data)
{
	struct watcher *w = data;
	int64_t now = lk_now_ms();

	(void)l;
	(void)id;
	w->due_timer = 0;
	w->due_at = 0;
	wrules_tick(w->rules, now);
	wtrack_tick(w->track, now);
	rearm_due(w);
	return LOOP_NOMORE;
}

/* One timer, at the earliest of what the rules and the incidents wait
 * for. */
static void
rearm_due(struct watcher *w)
{
	int64_t a = wrules_next(w->rules), b = wtrack_next(w->track);
	int64_t next = a == 0 ? b : b == 0 || a < b ? a : b;
	int64_t now = lk_now_ms();

	if (next == w->due_at)
		return;
	if (w->due_timer)
		loop_del_timer(w->loop, w->due_timer);
	w->due_timer = 0;
	w->due_at = next;
	if (next != 0)
		w->due_timer = loop_add_timer(w->loop, next > now ? next - now :
		    0, on_due, w);
}

static void
on_deadman(const struct http_reply *r, void *data)
{
	struct watcher *w = data;
	bool ok = r->error == NULL && r->status >= 200 && r->status < 300;

	w->deadman_busy = false;
	if (ok && w->deadman_failing)
		wlog(LOG_NOTICE, "dead man's switch answers again");
	else if (!ok && !w->deadman_failing && r->error != NULL)
		wlog(LOG_WARNING, "dead man's switch: %s", r->error);
	else if (!ok && !w->deadman_failing)
		wlog(LOG_WARNING, "dead man's switch answered HTTP %ld",
		    r->status);
	w->deadman_failing = !ok;
}

static void
ping_deadman(struct watcher *w)
{
	const char *url = w->cfg ? config_deadman(w->cfg) : NULL;
	struct http_request req = { .url = url, .timeout_ms = 10000,
	    .connect_timeout_ms = -1, .max_body = 65536 };
	struct lk_err err = { 0 };

	if (url == NULL || w->deadman_busy)
		return;
	if (w->http == NULL && http_pool_new(w->loop, &w->http, &err) !=
	    LK_OK) {
		if (!w->deadman_failing)
			wlog(LOG_WARNING, "dead man's switch: %s", err.msg);
		w->deadman_failing = true;
		return;
	}
	w->deadman_busy = true;
	http_start(w->http, &req, on_deadman, w);
}

static void
tell_systemd(struct watcher *w)
{
	size_t ns = w->probes ? probes_service_count(w->probes) : 0;
	size_t nq = w->probes ? probes_queue_count(w->probes) : 0;
	size_t ni = wtrack_count(w->track);

	sd_notifyf(0, "%sSTATUS=watching %zu service%s, %zu queue%s; "
	    "%zu incident%s open", w->ready ? "" : "READY=1\n", ns, ns == 1 ?
	    "" : "s", nq, nq == 1 ? "" : "s", ni, ni == 1 ? "" : "s");
}

/* Retired configurations whose deliveries are done are let go. */
static void
retire_drained(struct watcher *w)
{
	struct retired **pp = &w->retired;

	while (*pp != NULL) {
		struct retired *r = *pp;

		if (notifiers_pending(r->notifiers) > 0) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		notifiers_free(&r->notifiers);
		config_free(&r->cfg);
		free(r);
	}
}

/*
 * The end of a cycle: the heartbeat that the console and `status` read,
 * the dead man's switch, systemd's STATUS.  Ready (READY=1) once the
 * probes have read everything once, or waited as long as they may.
 */
static long long
on_cycle(struct loop *l, long long id, void *data)
{
	struct watcher *w = data;
	struct lk_err err = { 0 };
	int64_t every = config_interval(w);

	(void)l;
	(void)id;
	/* Stopping, or a reload whose probes could not start. */
	if (w->probes == NULL)
		return w->stopping ? LOOP_NOMORE : every;
	if (!w->ready && !probes_settled(w->probes) && loop_now_ms() -
	    w->started < probes_max_wait_ms(w->probes) + 1000)
		return 100;
	if (store_heartbeat(w->store, w->who, lk_now_ms(), &err) != LK_OK)
		wlog(LOG_ERR, "heartbeat: %s", err.msg);
	ping_deadman(w);
	tell_systemd(w);
	if (!w->ready)
		wlog(LOG_INFO, "watching %zu services and %zu queues",
		    probes_service_count(w->probes),
		    probes_queue_count(w->probes));
	w->ready = true;
	retire_drained(w);
	return every < CYCLE_MAX_MS ? every : CYCLE_MAX_MS;
}

static long long
on_watchdog(struct loop *l, long long id, void *data)
{
	struct watcher *w = data;

	(void)l;
	(void)id;
	sd_notify(0, "WATCHDOG=1");
	return (long long)(w->dog_usec / 2000);
}

/* --- signals ------------------------------------------------------------- */

/*
 * SIGHUP: the configuration again.  A file that does not load changes
 * nothing: the watcher goes on with what it had and says why, on one line.
 */
static void
on_hup(struct loop *l, int signo, void *data)
{
	struct watcher *w = data;
	struct config_diags diags = { 0 };
	struct config *cfg = NULL;
	struct lk_err err = { 0 };
	struct retired *r;
	char *path = NULL;

	(void)l;
	(void)signo;
	if (w->stopping)
		return;
	if (config_find(w->config_opt, &path, &err) != LK_OK ||
	    (path != NULL && config_load(path, &cfg, &diags, &err) != LK_OK)) {
		wlog(LOG_ERR, "configuration not reloaded, still watching with "
		    "the one loaded before: %s%s", diags.n > 0 ?
		    diags.lines[0] : err.msg, diags.n > 1 ? " (and more: "
		    "lookout check)" : "");
		config_diags_free(&diags);
		free(path);
		return;
	}
	free(path);
	stop_probes(w);
	r = lk_xcalloc(1, sizeof *r);
	r->cfg = w->cfg;
	r->notifiers = w->notifiers;
	r->next = w->retired;
	w->retired = r;
	w->notifiers = NULL;
	w->cfg = cfg;
	wrules_set_window(w->rules, config_interval(w));
	wtrack_set_resolve_after(w->track, resolve_after(w));
	store_watch(w->store, w->loop, feed_interval(w));
	if (notifiers_new(w->loop, w->store, w->cfg, &w->notifiers, &err) !=
	    LK_OK)
		wlog(LOG_ERR, "notifiers: %s", err.msg);
	restate_open(w);
	if (start_probes(w, &err) != LK_OK) {
		wlog(LOG_ERR, "configuration reloaded, but the probes cannot "
		    "start: %s", err.msg);
		return;
	}
	wlog(LOG_NOTICE, "configuration reloaded from %s: %zu services, %zu "
	    "queues", w->cfg ? config_path(w->cfg) : "(none)",
	    probes_service_count(w->probes), probes_queue_count(w->probes));
	tell_systemd(w);
	rearm_due(w);
}

static long long
on_stop_wait(struct loop *l, long long id, void *data)
{
	struct watcher *w = data;
	int pending = w->notifiers ? notifiers_pending(w->notifiers) : 0;

	(void)id;
	for (struct retired *r = w->retired; r != NULL; r = r->next)
		pending += notifiers_pending(r->notifiers);
	if ((pending == 0 && w->njobs == 0) ||
	    loop_now_ms() >= w->stop_deadline) {
		if (pending > 0 || w->njobs > 0)
			wlog(LOG_WARNING, "stopping with %d notification%s and "
			    "%zu journal read%s still in flight", pending,
			    pending == 1 ? "" : "s", w->njobs, w->njobs == 1 ?
			    "" : "s");
		w->stop_timer = 0;
		loop_stop(l);
		return LOOP_NOMORE;
	}
	return 50;
}

/*
 * SIGTERM, SIGINT: a clean stop.  The state changes gathered so far are
 * written, the probes stop, and deliveries in flight get STOP_GRACE_MS to
 * finish before the loop ends.
 */
static void
on_stop(struct loop *l, int signo, void *data)
{
	struct watcher *w = data;

	if (w->stopping)
		return;
	w->stopping = true;
	sd_notify(0, "STOPPING=1");
	wlog(LOG_INFO, "stopping (%s)", strsignal(signo));
	wrules_flush(w->rules, lk_now_ms());
	stop_probes(w);
	w->stop_deadline = loop_now_ms() + STOP_GRACE_MS;
	w->stop_timer = loop_add_timer(l, 0, on_stop_wait, w);
}

/* --- main ---------------------------------------------------------------- */

static void
watcher_free(struct watcher *w)
{
	while (w->jobs != NULL)
		jjob_free(w, w->jobs);
	stop_probes(w);
	if (w->feed_sub)
		store_unsubscribe(w->store, w->feed_sub);
	store_unwatch(w->store);
	notifiers_free(&w->notifiers);
	while (w->retired != NULL) {
		struct retired *r = w->retired;

		w->retired = r->next;
		notifiers_free(&r->notifiers);
		config_free(&r->cfg);
		free(r);
	}
	http_pool_free(&w->http);
	wrules_free(&w->rules);
	wtrack_free(&w->track);
	free(w->svc_ids);
	free(w->q_ids);
	store_close(&w->store);
	config_free(&w->cfg);
	loop_free(&w->loop);
}

/* The configuration at start: every problem on its own line, then exit 2. */
static int
load_config(struct watcher *w)
{
	struct config_diags diags = { 0 };
	struct lk_err err = { 0 };
	char *path = NULL;

	if (config_find(w->config_opt, &path, &err) != LK_OK) {
		wlog(LOG_ERR, "%s", err.msg);
		return 2;
	}
	if (path != NULL && config_load(path, &w->cfg, &diags, &err) !=
	    LK_OK) {
		for (size_t i = 0; i < diags.n; i++)
			wlog(LOG_ERR, "%s", diags.lines[i]);
		if (diags.n == 0)
			wlog(LOG_ERR, "%s", err.msg);
		config_diags_free(&diags);
		free(path);
		return 2;
	}
	free(path);
	return -1;
}

int
watch_main(const struct watch_opts *o)
{
	struct watcher w = { .config_opt = o->config };
	struct store_actor actor = { 0 };
	struct lk_err err = { 0 };
	uint64_t usec = 0;
	int rc;

	wlog_init();
	if (gethostname(w.host, sizeof w.host) != 0 || w.host[0] == '\0')
		snprintf(w.host, sizeof w.host, "localhost");
	w.host[sizeof w.host - 1] = '\0';
	snprintf(w.actor, sizeof w.actor, "watch@%s", w.host);
	snprintf(w.who, sizeof w.who, "watch@%s[%ld]", w.host,
	    (long)getpid());
	if ((rc = load_config(&w)) >= 0)
		return rc;
	actor.user = w.actor;
	if (store_open(o->db_path, &actor, &w.store, &err) != LK_OK) {
		wlog(LOG_ERR, "%s", err.msg);
		config_free(&w.cfg);
		return 2;
	}
	w.loop = loop_new();
	w.started = loop_now_ms();
	w.rules = wrules_new(config_interval(&w), on_rule, &w);
	w.track = wtrack_new(resolve_after(&w), on_track, &w);
	if (store_incident_foreach(w.store, adopt_one, &w, &err) != LK_OK)
		wlog(LOG_ERR, "cannot read the incidents: %s", err.msg);
	if (notifiers_new(w.loop, w.store, w.cfg, &w.notifiers, &err) !=
	    LK_OK)
		wlog(LOG_ERR, "notifiers: %s", err.msg);
	restate_open(&w);
	if (start_probes(&w, &err) != LK_OK) {
		wlog(LOG_ERR, "%s", err.msg);
		watcher_free(&w);
		return 2;
	}
	w.feed_sub = store_subscribe(w.store, STORE_ALL, on_event, &w);
	store_watch(w.store, w.loop, feed_interval(&w));
	loop_add_interrupt(w.loop, SIGTERM, on_stop, &w);
	loop_add_interrupt(w.loop, SIGINT, on_stop, &w);
	loop_add_signal(w.loop, SIGHUP, on_hup, &w);
	w.cycle_timer = loop_add_timer(w.loop, 0, on_cycle, &w);
	/* Pinged from the loop, twice a period: a loop that is stuck stops
	 * the pings, and systemd restarts us. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000)
		w.dog_timer = loop_add_timer(w.loop, 0, on_watchdog, &w);
	w.dog_usec = usec;
	wlog(LOG_INFO, "lookout watch %s starting: configuration %s, timeline "
	    "%s", w.who, w.cfg ? config_path(w.cfg) : "(none: the manager's "
	    "units)", store_path(w.store));
	rc = loop_run(w.loop) == 0 ? 0 : 1;
	wlog(LOG_INFO, "stopped");
	watcher_free(&w);
	return rc;
}
