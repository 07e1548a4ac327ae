/*
 * An incident's timeline, live: its events as they are appended, by this
 * console, by another engineer's, by a `lookout run` in a script.  Notes,
 * milestones and exports are made from here.
 */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"

struct tl_event {
	int64_t seq;
	int64_t ts_ms;
	char *actor;
	char *kind;
	char *text;		/* subject: message */
};

struct timeline {
	int64_t incident;
	struct tl_event *ev;
	size_t n;
	int64_t last_seq;	/* the feed may repeat what history held */
	bool follow;		/* keep the newest in view */
};

static void
add_event(struct view *v, const struct store_event *ev)
{
	struct timeline *tl = v->data;
	struct tl_event *e;
	struct lk_buf b = { 0 };

	if (ev->seq <= tl->last_seq)
		return;
	tl->last_seq = ev->seq;
	tl->ev = lk_xrealloc(tl->ev, (tl->n + 1) * sizeof *tl->ev);
	e = &tl->ev[tl->n++];
	e->seq = ev->seq;
	e->ts_ms = ev->ts_ms;
	e->actor = ev->actor_from != NULL ? lk_xasprintf("%s@%s",
	    ev->actor_user, ev->actor_from) : lk_xstrdup(ev->actor_user);
	e->kind = lk_xstrdup(ev->kind);
	if (ev->subject != NULL)
		lk_buf_printf(&b, "%s%s", ev->subject, ev->message ? ": " : "");
	if (ev->message != NULL)
		lk_buf_adds(&b, ev->message);
	e->text = b.s != NULL ? b.s : lk_xstrdup("");
	v->nrows = tl->n;
	if (tl->follow)
		v->sel = tl->n - 1;
}

static int
load_one(const struct store_event *ev, void *arg)
{
	add_event(arg, ev);
	return 0;
}

static void
free_events(struct timeline *tl)
{
	for (size_t i = 0; i < tl->n; i++) {
		free(tl->ev[i].actor);
		free(tl->ev[i].kind);
		free(tl->ev[i].text);
	}
	free(tl->ev);
	tl->ev = NULL;
	tl->n = 0;
	tl->last_seq = 0;
}

void
timeline_open(struct tui *t, int64_t id)
{
	struct timeline *tl;
	struct view *v;
	struct lk_err err = { 0 };

	if (id == 0) {
		tui_error(t, "no incident: open one (:incident open TITLE) or "
		    "choose one (:incidents)");
		return;
	}
	while ((v = tui_find(t, &timeline_ops)) != NULL) {
		while (t->view != v)
			tui_pop(t);
		tui_pop(t);
	}
	tl = lk_xcalloc(1, sizeof *tl);
	tl->incident = id;
	tl->follow = true;
	v = tui_push(t, &timeline_ops, tl);
	if (store_event_foreach(t->store, id, load_one, v, &err) != LK_OK)
		tui_error(t, "%s", err.msg);
	if (id != t->incident_id)
		tui_set_incident(t, id);
}

static int
kind_role(const char *kind, const char *text)
{
	if (strcmp(kind, "incident.milestone") == 0 ||
	    strcmp(kind, "incident.opened") == 0)
		return R_TITLE;
	if (strstr(kind, "finished") != NULL && (strstr(text, "failed") ||
	    strstr(text, "FAILED")))
		return R_BROKEN;
	if (strncmp(kind, "action.", 7) == 0 || strncmp(kind, "step.", 5) ==
	    0)
		return R_DIM;
	return R_NORMAL;
}

static void
timeline_draw(struct tui *t, struct view *v, int y0, int h)
{
	struct timeline *tl = v->data;
	const struct store_incident *inc = t->incident_id == tl->incident ?
	    t->incident : NULL;
	int list_h = h - 2;

	if (inc != NULL)
		draw_textf(t, y0, 0, t->cols, R_TITLE, "incident %lld %s %s: "
		    "%s", (long long)inc->id, inc->severity, inc->status,
		    inc->title);
	else
		draw_textf(t, y0, 0, t->cols, R_TITLE, "incident %lld",
		    (long long)tl->incident);
	view_list_fit(v, list_h);
	for (size_t i = v->top; i < tl->n && (int)(i - v->top) < list_h;
	    i++) {
		const struct tl_event *e = &tl->ev[i];
		int y = y0 + 1 + (int)(i - v->top), r = i == v->sel ?
		    ROLE_SEL : 0, x = 0;
		char iso[LK_ISO_LEN];

		lk_iso8601(e->ts_ms, iso);
		draw_fill(t, y, 0, t->cols, r);
		x += draw_textf(t, y, x, 9, R_DIM | r, "%.8s ", iso + 11);
		draw_cell(t, y, x, 10, r, false, e->actor);
		x += 11;
		draw_cell(t, y, x, 18, kind_role(e->kind, e->text) | r, false,
		    e->kind);
		x += 19;
		draw_text(t, y, x, t->cols - x, r, e->text);
	}
	if (tl->n == 0)
		draw_text(t, y0 + 1, 2, t->cols - 2, R_DIM, "no events");
	else if (v->sel < tl->n)
		draw_text(t, y0 + h - 1, 0, t->cols, R_NORMAL,
		    tl->ev[v->sel].text);
}

static void
on_note(struct tui *t, const char *text, void *arg)
{
	struct timeline *tl = arg;
	struct lk_err err = { 0 };

	if (text == NULL || *text == '\0')
		return;
	if (store_incident_note(t->store, tl->incident, text, &err) != LK_OK)
		tui_error(t, "%s", err.msg);
}

static bool
timeline_key(struct tui *t, struct view *v, int key)
{
	struct timeline *tl = v->data;

	if (view_list_key(v, key)) {
		tl->follow = v->sel + 1 == tl->n;
		return true;
	}
	switch (key) {
	case 'n':
		if (!tui_refuse_readonly(t, "adding a note"))
			tui_prompt(t, "note:", "", on_note, tl, NULL);
		return true;
	case 'm':
		menu_open_milestones(t);
		return true;
	case 'e':
		if (!tui_refuse_readonly(t, "exporting"))
			tui_prompt_command(t, "export md ");
		return true;
	}
	return false;
}

static void
timeline_event(struct tui *t, struct view *v, const struct store_event *ev)
{
	struct timeline *tl = v->data;

	(void)t;
	if (ev->incident_id == tl->incident)
		add_event(v, ev);
}

static void
timeline_close(struct tui *t, struct view *v)
{
	(void)t;
	free_events(v->data);
	free(v->data);
}

const struct view_ops timeline_ops = {
	.name = "timeline",
	.draw = timeline_draw,
	.key = timeline_key,
	.close = timeline_close,
	.event = timeline_event,
	.keys = "n note  m milestone  e export  j k scroll  Esc back  ? help",
	.help = "The incident's timeline, live: every event, from every\n"
	    "console and script writing to this timeline.\n"
	    "n          add a note          (:note TEXT)\n"
	    "m          set a milestone     (:ack :mitigate :resolve :close)\n"
	    "e          export              (:export md|json|csv [FILE])\n"
	    "G          follow the newest event\n",
};
