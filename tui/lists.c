/*
 * The incidents and the runs, newest first.  Both are re-read when an
 * event that changes them arrives (an incident opened or moved on, a run
 * started or ended), from this console or any other.
 */
#include "private.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runbooks/runbooks.h"
#include "../store/store.h"

/* --- incidents ------------------------------------------------------------------ */

struct inc_row {
	int64_t id;
	char sev[4];
	char status[16];
	int64_t opened_at;
	char *title;
	char *services;
};

struct rows {
	struct inc_row *inc;
	struct store_run *runs;		/* for the runs list */
	char (*run_status)[16];
	size_t n;
	bool stale;
};

static void
free_rows(struct rows *r)
{
	for (size_t i = 0; r->inc != NULL && i < r->n; i++) {
		free(r->inc[i].title);
		free(r->inc[i].services);
	}
	free(r->inc);
	for (size_t i = 0; r->runs != NULL && i < r->n; i++) {
		free(r->runs[i].runbook);
		free(r->runs[i].status);
		free(r->runs[i].message);
		free(r->runs[i].actor);
		free(r->runs[i].params);
	}
	free(r->runs);
	free(r->run_status);
	memset(r, 0, sizeof *r);
}

static int
add_incident(const struct store_incident *inc, void *arg)
{
	struct rows *r = arg;
	struct inc_row *x;
	struct lk_buf b = { 0 };

	r->inc = lk_xrealloc(r->inc, (r->n + 1) * sizeof *r->inc);
	x = &r->inc[r->n++];
	x->id = inc->id;
	snprintf(x->sev, sizeof x->sev, "%s", inc->severity);
	snprintf(x->status, sizeof x->status, "%s", inc->status);
	x->opened_at = inc->opened_at;
	x->title = lk_xstrdup(inc->title);
	for (size_t i = 0; i < inc->nservices; i++)
		lk_buf_printf(&b, "%s%s", i ? "," : "", inc->services[i]);
	x->services = b.s != NULL ? b.s : lk_xstrdup("");
	return 0;
}

static void
load_incidents(struct tui *t, struct view *v)
{
	struct rows *r = v->data;
	struct lk_err err = { 0 };

	free_rows(r);
	if (store_incident_foreach(t->store, add_incident, r, &err) != LK_OK)
		tui_error(t, "%s", err.msg);
	v->nrows = r->n;
}

static void
incidents_draw(struct tui *t, struct view *v, int y0, int h)
{
	struct rows *r = v->data;

	if (r->stale) {
		load_incidents(t, v);
		r->stale = false;
	}
	draw_text(t, y0, 0, t->cols, R_TITLE,
	    "  ID    SEV STATUS        OPENED (UTC)      TITLE [SERVICES]");
	view_list_fit(v, h - 1);
	for (size_t i = v->top; i < r->n && (int)(i - v->top) < h - 1; i++) {
		const struct inc_row *x = &r->inc[i];
		int y = y0 + 1 + (int)(i - v->top), sel = i == v->sel ?
		    ROLE_SEL : 0, role = sel;
		char iso[LK_ISO_LEN];

		if (strcmp(x->status, "open") == 0 ||
		    strcmp(x->status, "acknowledged") == 0)
			role |= R_BROKEN;
		lk_iso8601(x->opened_at, iso);
		draw_fill(t, y, 0, t->cols, sel);
		draw_textf(t, y, 0, 45, role, "%s %-5lld %-3s %-13s %.10s "
		    "%.5s", x->id == t->incident_id ? ">" : " ",
		    (long long)x->id, x->sev, x->status, iso, iso + 11);
		draw_textf(t, y, 46, t->cols - 46, sel, "%s%s%s%s", x->title,
		    x->services[0] ? " [" : "", x->services,
		    x->services[0] ? "]" : "");
	}
	if (r->n == 0)
		draw_text(t, y0 + 1, 2, t->cols - 2, R_DIM, "no incidents "
		    "(:incident open TITLE opens one)");
}

static bool
incidents_key(struct tui *t, struct view *v, int key)
{
	struct rows *r = v->data;

	if (view_list_key(v, key))
		return true;
	if (key == TK_ENTER && v->sel < r->n) {
		int64_t id = r->inc[v->sel].id;

		timeline_open(t, id);
		return true;
	}
	return false;
}

static void
lists_event(struct tui *t, struct view *v, const struct store_event *ev)
{
	struct rows *r = v->data;

	(void)t;
	if (strncmp(ev->kind, "incident.", 9) == 0 ||
	    strncmp(ev->kind, "run.", 4) == 0)
		r->stale = true;
}

static void
lists_close(struct tui *t, struct view *v)
{
	(void)t;
	free_rows(v->data);
	free(v->data);
}

const struct view_ops incidents_ops = {
	.name = "incidents",
	.draw = incidents_draw,
	.key = incidents_key,
	.close = lists_close,
	.event = lists_event,
	.keys = "Enter its timeline  j k move  Esc back  ? help",
	.help = "Every incident of this timeline, newest first; > marks the\n"
	    "one the console works in (runs, notes and milestones made here\n"
	    "are attached to it).\n"
	    "Enter      open its timeline and work in it\n"
	    ":incident open TITLE [--severity Pn]   a new one\n",
};

/* --- runs ---------------------------------------------------------------------------- */

static int
add_run(const struct store_run *run, void *arg)
{
	struct view *v = arg;
	struct rows *r = v->data;
	struct store_run *x;

	r->runs = lk_xrealloc(r->runs, (r->n + 1) * sizeof *r->runs);
	r->run_status = lk_xrealloc(r->run_status, (r->n + 1) *
	    sizeof *r->run_status);
	x = &r->runs[r->n];
	memset(x, 0, sizeof *x);
	x->id = run->id;
	x->incident_id = run->incident_id;
	x->runbook = lk_xstrdup(run->runbook);
	x->status = lk_xstrdup(run->status);
	x->message = run->message ? lk_xstrdup(run->message) : NULL;
	x->actor = lk_xstrdup(run->actor ? run->actor : "");
	x->params = lk_xstrdup(run->params ? run->params : "{}");
	x->started_at = run->started_at;
	x->dry_run = run->dry_run;
	snprintf(r->run_status[r->n], sizeof r->run_status[0], "%s",
	    run->status);
	r->n++;
	return 0;
}

static void
load_runs(struct tui *t, struct view *v)
{
	struct rows *r = v->data;
	struct lk_err err = { 0 };

	free_rows(r);
	if (store_run_foreach(t->store, add_run, v, &err) != LK_OK)
		tui_error(t, "%s", err.msg);
	/* A run marked running whose lock nobody holds was cut short. */
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->run_status[i], "running") == 0 &&
		    !r->runs[i].dry_run && t->lock_dir != NULL &&
		    !rb_lock_held(t->lock_dir, r->runs[i].runbook,
		    r->runs[i].params))
			snprintf(r->run_status[i], sizeof r->run_status[0],
			    "interrupted");
	v->nrows = r->n;
}

static void
runs_draw(struct tui *t, struct view *v, int y0, int h)
{
	struct rows *r = v->data;

	if (r->stale) {
		load_runs(t, v);
		r->stale = false;
	}
	draw_text(t, y0, 0, t->cols, R_TITLE,
	    "  RUN   RUNBOOK              STATUS       STARTED (UTC)     HOW IT "
	    "ENDED");
	view_list_fit(v, h - 1);
	for (size_t i = v->top; i < r->n && (int)(i - v->top) < h - 1; i++) {
		const struct store_run *x = &r->runs[i];
		const char *st = r->run_status[i];
		int y = y0 + 1 + (int)(i - v->top), sel = i == v->sel ?
		    ROLE_SEL : 0, role = sel;
		char iso[LK_ISO_LEN];

		if (strcmp(st, "failed") == 0 || strcmp(st, "interrupted") == 0
		    || strcmp(st, "aborted") == 0)
			role |= R_BROKEN;
		else if (strcmp(st, "succeeded") == 0)
			role |= R_OK;
		lk_iso8601(x->started_at, iso);
		draw_fill(t, y, 0, t->cols, sel);
		draw_textf(t, y, 0, 8, sel, "  %-5lld", (long long)x->id);
		draw_cell(t, y, 8, 20, sel, false, x->runbook);
		draw_cell(t, y, 29, 12, role, false, st);
		draw_textf(t, y, 42, 17, sel, "%.10s %.5s", iso, iso + 11);
		draw_text(t, y, 60, t->cols - 60, sel, strcmp(st,
		    "interrupted") == 0 ? "cut short: Enter resumes it" :
		    x->message ? x->message : "");
	}
	if (r->n == 0)
		draw_text(t, y0 + 1, 2, t->cols - 2, R_DIM, "no runs");
}

static void
on_resume(struct tui *t, bool yes, void *arg)
{
	if (yes)
		tui_run_resume(t, (int64_t)(intptr_t)arg);
}

static bool
runs_key(struct tui *t, struct view *v, int key)
{
	struct rows *r = v->data;
	char q[160];

	if (view_list_key(v, key))
		return true;
	if (key != TK_ENTER || v->sel >= r->n)
		return false;
	if (strcmp(r->run_status[v->sel], "interrupted") == 0) {
		if (tui_refuse_readonly(t, "resuming a run"))
			return true;
		snprintf(q, sizeof q, "resume run %lld (%s) from its first "
		    "unfinished step? [y/n]", (long long)r->runs[v->sel].id,
		    r->runs[v->sel].runbook);
		tui_confirm(t, q, on_resume, (void *)(intptr_t)
		    r->runs[v->sel].id);
	} else if (t->run != NULL && rb_run_id(t->run) == r->runs[v->sel].id) {
		tui_command(t, "runner");
	} else if (r->runs[v->sel].incident_id != 0) {
		timeline_open(t, r->runs[v->sel].incident_id);
	} else {
		tui_msg(t, "run %lld: %s", (long long)r->runs[v->sel].id,
		    r->runs[v->sel].message ? r->runs[v->sel].message : "");
	}
	return true;
}

const struct view_ops runs_ops = {
	.name = "runs",
	.draw = runs_draw,
	.key = runs_key,
	.close = lists_close,
	.event = lists_event,
	.keys = "Enter resume / open  j k move  Esc back  ? help",
	.help = "Every runbook run of this timeline, newest first.\n"
	    "A run cut short (the terminal lost, lookout killed) is shown\n"
	    "interrupted: Enter (or :resume ID) continues it from its first\n"
	    "step that did not finish.\n"
	    "Enter on another run opens its incident's timeline.\n",
};

void *
lists_new(void)
{
	struct rows *r = lk_xcalloc(1, sizeof *r);

	r->stale = true;
	return r;
}
