/*
 * Menus: the actions of a selected row (Enter in the overview), and the
 * milestones of an incident.  A menu offers only what is valid now (no
 * "start" for a running unit) and, in --readonly, nothing that changes
 * anything.  It is drawn over the view it was opened from.
 */
#include "private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../probes/probes.h"
#include "../store/store.h"

#define MENU_MAX 16

struct menu;
typedef void menu_fn(struct tui *t, struct menu *m, const char *arg);

struct menu_item {
	char label[96];
	menu_fn *fn;
	char arg[32];
};

struct menu {
	char title[256];
	struct menu_item items[MENU_MAX];
	size_t n;
	size_t target;		/* the service or queue */
};

static void
add(struct menu *m, menu_fn *fn, const char *arg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
add(struct menu *m, menu_fn *fn, const char *arg, const char *fmt, ...)
{
	struct menu_item *it;
	va_list ap;

	if (m->n >= MENU_MAX)
		return;
	it = &m->items[m->n++];
	va_start(ap, fmt);
	vsnprintf(it->label, sizeof it->label, fmt, ap);
	va_end(ap);
	it->fn = fn;
	snprintf(it->arg, sizeof it->arg, "%s", arg ? arg : "");
}

static struct view *
open_menu(struct tui *t, struct menu *m)
{
	struct view *v = tui_push(t, &menu_ops, m);

	v->nrows = m->n;
	return v;
}

/* The configuration of service i of the probes, if it has one. */
static const struct config_service *
service_config(struct tui *t, size_t i)
{
	const struct probe_service *s = probes_service(t->probes, i);
	const struct config_service *c;

	if (t->cfg == NULL || i >= config_nservices(t->cfg))
		return NULL;
	c = config_service(t->cfg, i);
	return strcmp(c->name, s->name) == 0 ? c : NULL;
}

/* --- what the items do --------------------------------------------------------- */

static void
do_detail(struct tui *t, struct menu *m, const char *arg)
{
	size_t i = m->target;

	tui_pop(t);
	detail_open(t, i, strcmp(arg, "journal") == 0);
}

static void
do_quick(struct tui *t, struct menu *m, const char *op)
{
	size_t i = m->target;

	tui_pop(t);
	tui_quick_action(t, i, op);
}

/* "K=V" for each param a runbook may want, from what the row knows. */
static size_t
row_params(struct tui *t, size_t i, bool queue, char out[][600], size_t max)
{
	size_t n = 0;

	if (queue) {
		snprintf(out[n++], 600, "queue=%s",
		    probes_queue(t->probes, i)->name);
		return n;
	}
	{
		const struct probe_service *s = probes_service(t->probes, i);
		const struct config_service *c = service_config(t, i);

		snprintf(out[n++], 600, "service=%s", s->name);
		snprintf(out[n++], 600, "unit=%s", s->unit);
		snprintf(out[n++], 600, "scope=%s", s->scope);
		/* restart-service takes it; a runbook that does not is
		 * told by the form, as for any parameter it has not. */
		if (s->host != NULL && n < max)
			snprintf(out[n++], 600, "host=%s", s->host);
		if (c != NULL && c->check != NULL && n < max)
			snprintf(out[n++], 600, "url=%s", c->check->url);
	}
	return n;
}

static void
do_runbook(struct tui *t, struct menu *m, const char *arg)
{
	char params[5][600];
	const char *p[5];
	size_t n = row_params(t, m->target, strcmp(arg, "queue") == 0, params,
	    5);
	const struct config_service *c = strcmp(arg, "queue") != 0 ?
	    service_config(t, m->target) : NULL;
	char runbook[256];

	snprintf(runbook, sizeof runbook, "%s", c && c->runbook ? c->runbook :
	    "");
	for (size_t k = 0; k < n; k++)
		p[k] = params[k];
	tui_pop(t);
	if (runbook[0] != '\0')
		tui_run_form(t, runbook, p, n);
	else
		tui_msg(t, "no runbook is configured for it: :run RUNBOOK "
		    "K=V ... (Tab completes)");
}

struct open_ctx {
	char service[256];
	char severity[4];
};

static void
on_title(struct tui *t, const char *title, void *arg)
{
	struct open_ctx *c = arg;
	const char *svcs[1] = { c->service };
	struct lk_err err = { 0 };
	int64_t id;

	if (title != NULL && *title != '\0') {
		if (store_incident_open(t->store, title, c->severity, svcs,
		    c->service[0] ? 1 : 0, &id, &err) != LK_OK) {
			tui_error(t, "%s", err.msg);
		} else {
			tui_set_incident(t, id);
			tui_msg(t, "incident %lld opened; runs, notes and "
			    "milestones made here are attached to it",
			    (long long)id);
		}
	}
	free(c);
}

static void
do_incident(struct tui *t, struct menu *m, const char *arg)
{
	struct open_ctx *c = lk_xcalloc(1, sizeof *c);
	char title[512];
	int sev;

	if (strcmp(arg, "queue") == 0) {
		const struct probe_queue *q = probes_queue(t->probes, m->target);

		snprintf(c->service, sizeof c->service, "%s", q->name);
		snprintf(title, sizeof title, "%s: %s", q->name, q->reason[0] ?
		    q->reason : probe_queue_state_name(q->state));
		sev = probe_queue_severity(q);
	} else {
		const struct probe_service *s = probes_service(t->probes,
		    m->target);

		snprintf(c->service, sizeof c->service, "%s", s->name);
		snprintf(title, sizeof title, "%s: %s", s->name, s->reason[0] ?
		    s->reason : s->active);
		sev = probe_service_severity(s);
	}
	snprintf(c->severity, sizeof c->severity, "%s", sev >=
	    PROBE_SEV_DOWN ? "P2" : "P3");
	tui_pop(t);
	tui_prompt(t, "incident title:", title, on_title, c, NULL);
}

static bool
state_is(const char *s, const char *a)
{
	return strcmp(s, a) == 0;
}

void
menu_open_service(struct tui *t, size_t i)
{
	const struct probe_service *s = probes_service(t->probes, i);
	const struct config_service *c = service_config(t, i);
	struct menu *m = lk_xcalloc(1, sizeof *m);
	bool active = state_is(s->active, "active") ||
	    state_is(s->active, "reloading") || state_is(s->active,
	    "activating");

	m->target = i;
	snprintf(m->title, sizeof m->title, "%s (%s)", s->name, s->unit);
	add(m, do_detail, "detail", "details: unit, checks, processes");
	add(m, do_detail, "journal", "journal");
	if (!t->readonly) {
		if (!active)
			add(m, do_quick, "start", "start");
		if (active) {
			add(m, do_quick, "restart", "restart");
			add(m, do_quick, "stop", "stop");
		}
		if (state_is(s->enabled, "disabled"))
			add(m, do_quick, "enable", "enable (start at boot)");
		if (c != NULL && c->runbook != NULL)
			add(m, do_runbook, "service", "run its runbook: %s",
			    c->runbook);
		else
			add(m, do_runbook, "service", "run a runbook...");
		add(m, do_incident, "service", "open an incident for it");
	}
	open_menu(t, m);
}

void
menu_open_queue(struct tui *t, size_t i)
{
	const struct probe_queue *q = probes_queue(t->probes, i);
	struct menu *m = lk_xcalloc(1, sizeof *m);

	m->target = i;
	snprintf(m->title, sizeof m->title, "queue %s (%s)", q->name,
	    q->source);
	if (t->readonly) {
		free(m);
		tui_msg(t, "%s: %s", q->name, q->reason[0] ? q->reason :
		    probe_queue_state_name(q->state));
		return;
	}
	add(m, do_runbook, "queue", "run a runbook...");
	add(m, do_incident, "queue", "open an incident for it");
	open_menu(t, m);
}

/* --- milestones ---------------------------------------------------------------- */

struct milestone_ctx {
	enum store_milestone m;
};

static void
on_milestone_text(struct tui *t, const char *text, void *arg)
{
	struct milestone_ctx *c = arg;
	struct lk_err err = { 0 };

	if (text != NULL && store_incident_advance(t->store, t->incident_id,
	    c->m, text, &err) != LK_OK)
		tui_error(t, "%s", err.msg);
	else if (text != NULL)
		tui_msg(t, "incident %lld: %s", (long long)t->incident_id,
		    store_milestone_status(c->m));
	free(c);
}

static void
do_milestone(struct tui *t, struct menu *m, const char *arg)
{
	struct milestone_ctx *c = lk_xcalloc(1, sizeof *c);
	char label[64];

	(void)m;
	c->m = (enum store_milestone)atoi(arg);
	snprintf(label, sizeof label, "%s (a word on why, or Enter):",
	    store_milestone_name(c->m));
	tui_pop(t);
	tui_prompt(t, label, "", on_milestone_text, c, NULL);
}

void
menu_open_milestones(struct tui *t)
{
	struct menu *m;
	char arg[8];

	if (tui_refuse_readonly(t, "setting a milestone"))
		return;
	if (t->incident == NULL) {
		tui_error(t, "no incident: open one (:incident open TITLE) or "
		    "choose one (:incidents)");
		return;
	}
	m = lk_xcalloc(1, sizeof *m);
	snprintf(m->title, sizeof m->title, "incident %lld is %s",
	    (long long)t->incident->id, t->incident->status);
	for (int k = STORE_ACKNOWLEDGED; k < STORE_MILESTONES; k++) {
		bool later = true;

		for (int j = k; j < STORE_MILESTONES; j++)
			if (t->incident->milestones[j] != 0)
				later = false;
		if (!later)
			continue;
		snprintf(arg, sizeof arg, "%d", k);
		add(m, do_milestone, arg, "%s",
		    store_milestone_name((enum store_milestone)k));
	}
	if (m->n == 0) {
		free(m);
		tui_msg(t, "incident %lld is closed", (long long)t->incident_id);
		return;
	}
	open_menu(t, m);
}

/* --- the view ----------------------------------------------------------------------- */

static void
menu_draw(struct tui *t, struct view *v, int y0, int h)
{
	struct menu *m = v->data;
	int w = 0, bh = (int)m->n + 2, x, y;

	if (v->below != NULL)
		v->below->ops->draw(t, v->below, y0, h);
	w = draw_width(t, m->title) + 6;
	for (size_t i = 0; i < m->n; i++)
		if (draw_width(t, m->items[i].label) + 6 > w)
			w = draw_width(t, m->items[i].label) + 6;
	if (w > t->cols - 2)
		w = t->cols - 2;
	if (bh > h)
		bh = h;
	x = (t->cols - w) / 2;
	y = y0 + (h - bh) / 2;
	draw_box(t, y, x, bh, w, m->title);
	for (size_t i = 0; i < m->n && (int)i < bh - 2; i++) {
		int r = i == v->sel ? ROLE_SEL : 0;

		draw_fill(t, y + 1 + (int)i, x + 1, w - 2, r);
		draw_text(t, y + 1 + (int)i, x + 2, w - 4, r,
		    m->items[i].label);
	}
}

static bool
menu_key(struct tui *t, struct view *v, int key)
{
	struct menu *m = v->data;

	if (view_list_key(v, key))
		return true;
	if (key == TK_ENTER && v->sel < m->n) {
		struct menu_item it = m->items[v->sel];

		/* The item pops the menu (and so frees m) itself. */
		it.fn(t, m, it.arg);
		return true;
	}
	return false;
}

static void
menu_close(struct tui *t, struct view *v)
{
	(void)t;
	free(v->data);
}

const struct view_ops menu_ops = {
	.name = "menu",
	.draw = menu_draw,
	.key = menu_key,
	.close = menu_close,
	.keys = "Enter choose  j k move  Esc back",
	.help = "A menu: the actions valid for what was selected.\n"
	    "Enter      do it (a change asks for confirmation first)\n"
	    "Esc, q     back\n",
};
