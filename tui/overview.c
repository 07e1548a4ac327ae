/*
 * The overview, the start screen: every service and every queue, worst
 * first, as the probes last saw them.  Rows are re-sorted when the probes
 * say something changed; the selection follows its row by name.  Rows of
 * other hosts come after this machine's, each host under a line that
 * names it; the filter "@HOST" keeps one host's rows.
 */
#include "private.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../probes/probes.h"

struct row {
	bool queue;
	size_t i;		/* index in the probes */
	int sev;
	const char *name;
	const char *host;	/* NULL: this machine */
	size_t line;		/* where it is drawn, in lines[] */
};

/* What each line of the body shows. */
enum line_kind { L_ROW, L_SERVICES, L_QUEUES, L_HOST, L_BLANK };

struct line {
	enum line_kind kind;
	size_t row;		/* L_ROW, L_HOST: the row (its host) */
};

struct overview {
	struct row *rows;
	size_t n;
	struct line *lines;
	size_t nlines;
	bool stale;		/* rebuild before the next draw */
	char filter[128];
	char sel_name[256];	/* the selected row, kept across re-sorts */
	bool sel_queue;
};

static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->queue != y->queue)
		return x->queue ? 1 : -1;
	if ((x->host == NULL) != (y->host == NULL))
		return x->host == NULL ? -1 : 1;
	if (x->host != NULL && strcmp(x->host, y->host) != 0)
		return strcmp(x->host, y->host);
	if (x->sev != y->sev)
		return y->sev - x->sev;
	return strcmp(x->name, y->name);
}

static bool
matches(const char *name, const char *host, const char *filter)
{
	size_t n = strlen(filter);

	if (n == 0)
		return true;
	/* "@HOST": that host's rows, and only them. */
	if (filter[0] == '@')
		return host != NULL && strcmp(host, filter + 1) == 0;
	for (const char *p = name; *p != '\0'; p++)
		if (strncasecmp(p, filter, n) == 0)
			return true;
	return false;
}

static void
add_line(struct overview *o, enum line_kind kind, size_t row)
{
	o->lines[o->nlines++] = (struct line){ kind, row };
}

/*
 * The lines of the body: a heading per section that has rows, a line
 * naming each other host before its rows, then the rows; a blank line
 * between the sections.
 */
static void
lay_out(struct overview *o)
{
	/* At most a heading, a blank and a host line per row, and rows. */
	o->lines = lk_xrealloc(o->lines, (2 * o->n + 3) * sizeof *o->lines);
	o->nlines = 0;
	for (size_t i = 0; i < o->n; i++) {
		const struct row *r = &o->rows[i], *p = i ? &o->rows[i - 1] :
		    NULL;
		bool first = p == NULL || p->queue != r->queue;

		if (first && r->queue && i > 0)
			add_line(o, L_BLANK, i);
		if (first)
			add_line(o, r->queue ? L_QUEUES : L_SERVICES, i);
		if (r->host != NULL && (first || p->host == NULL ||
		    strcmp(p->host, r->host) != 0))
			add_line(o, L_HOST, i);
		o->rows[i].line = o->nlines;
		add_line(o, L_ROW, i);
	}
}

static void
rebuild(struct tui *t, struct view *v)
{
	struct overview *o = v->data;
	size_t ns = probes_service_count(t->probes);
	size_t nq = probes_queue_count(t->probes);

	o->rows = lk_xrealloc(o->rows, (ns + nq + 1) * sizeof *o->rows);
	o->n = 0;
	for (size_t i = 0; i < ns; i++) {
		const struct probe_service *s = probes_service(t->probes, i);

		if (matches(s->name, s->host, o->filter))
			o->rows[o->n++] = (struct row){ false, i,
			    probe_service_severity(s), s->name, s->host, 0 };
	}
	for (size_t i = 0; i < nq; i++) {
		const struct probe_queue *q = probes_queue(t->probes, i);

		if (matches(q->name, q->host, o->filter))
			o->rows[o->n++] = (struct row){ true, i,
			    probe_queue_severity(q), q->name, q->host, 0 };
	}
	qsort(o->rows, o->n, sizeof *o->rows, row_cmp);
	lay_out(o);
	v->nrows = o->n;
	/* The selection stays on its row wherever the row moved. */
	for (size_t i = 0; o->sel_name[0] != '\0' && i < o->n; i++)
		if (o->rows[i].queue == o->sel_queue &&
		    strcmp(o->rows[i].name, o->sel_name) == 0)
			v->sel = i;
	o->stale = false;
}

static void
remember_selection(struct view *v)
{
	struct overview *o = v->data;

	if (v->sel < o->n) {
		snprintf(o->sel_name, sizeof o->sel_name, "%s",
		    o->rows[v->sel].name);
		o->sel_queue = o->rows[v->sel].queue;
	}
}

/* --- drawing ------------------------------------------------------------------ */

/* Column widths at 80 columns; FLAGS and REASON take what is left. */
enum { W_MARK = 2, W_NAME = 18, W_STATE = 16, W_ENABLED = 9, W_HEALTH = 11,
    W_SINCE = 7 };
enum { W_DEPTH = 7, W_TREND = 12, W_RATE = 7, W_CONS = 5, W_DRAIN = 6 };

static void
service_line(struct tui *t, int y, const struct probe_service *s, int sev,
    bool sel)
{
	int r = sel ? ROLE_SEL : 0, x = 0, sr = role_of_severity(sev) | r;
	char state[80], health[32], since[32] = "-", flags[256];

	draw_fill(t, y, 0, t->cols, r);
	snprintf(state, sizeof state, "%s/%s", s->active[0] ? s->active : "?",
	    s->sub[0] ? s->sub : "?");
	switch (s->health) {
	case HEALTH_OK:
		snprintf(health, sizeof health, "ok %.0fms", s->latency_ms);
		break;
	case HEALTH_FAILING:
		snprintf(health, sizeof health, "FAILING");
		break;
	case HEALTH_UNKNOWN:
		snprintf(health, sizeof health, "checking");
		break;
	default:
		snprintf(health, sizeof health, "-");
	}
	if (s->since_ms > 0)
		draw_age(lk_now_ms() - s->since_ms, since, sizeof since);
	probe_flags_join(s->flags, flags, sizeof flags);
	draw_cell(t, y, x, W_MARK, sr, false, marker_of_severity(sev));
	x += W_MARK;
	draw_cell(t, y, x, W_NAME, r, false, s->name);
	x += W_NAME + 1;
	draw_cell(t, y, x, W_STATE, sr, false, state);
	x += W_STATE + 1;
	draw_cell(t, y, x, W_ENABLED, (s->flags & SVC_NOT_ENABLED ? R_WARN :
	    0) | r, false, s->enabled[0] ? s->enabled : "-");
	x += W_ENABLED + 1;
	draw_cell(t, y, x, W_HEALTH, (s->health == HEALTH_FAILING ? R_BROKEN :
	    0) | r, false, health);
	x += W_HEALTH + 1;
	draw_cell(t, y, x, W_SINCE, r, true, since);
	x += W_SINCE + 1;
	if (t->cols >= 120) {
		draw_cell(t, y, x, 24, sr, false, strcmp(flags, "-") ? flags :
		    "");
		x += 25;
		draw_text(t, y, x, t->cols - x, r, s->reason);
	} else {
		draw_text(t, y, x, t->cols - x, sr, strcmp(flags, "-") ?
		    flags : "");
	}
}

static void
rate(double v, char *buf, size_t len)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f", v);
}

static void
queue_line(struct tui *t, int y, size_t i, const struct probe_queue *q,
    int sev, bool sel)
{
	int r = sel ? ROLE_SEL : 0, x = 0, sr = role_of_severity(sev) | r;
	char depth[24] = "?", in[24], out[24], cons[24] = "-", drain[32] = "-";
	char flags[256];
	int64_t hist[W_TREND];
	size_t nh;

	draw_fill(t, y, 0, t->cols, r);
	if (q->depth >= 0)
		snprintf(depth, sizeof depth, "%lld", (long long)q->depth);
	if (q->consumers >= 0)
		snprintf(cons, sizeof cons, "%lld", (long long)q->consumers);
	rate(q->rate_in_per_min, in, sizeof in);
	rate(q->rate_out_per_min, out, sizeof out);
	if (q->drain_minutes >= 0)
		lk_fmt_duration((int64_t)(q->drain_minutes * 60000), drain,
		    sizeof drain);
	nh = probes_queue_history(t->probes, i, hist, W_TREND);
	draw_cell(t, y, x, W_MARK, sr, false, marker_of_severity(sev));
	x += W_MARK;
	draw_cell(t, y, x, W_NAME, r, false, q->name);
	x += W_NAME + 1;
	draw_cell(t, y, x, W_DEPTH, sr, true, depth);
	x += W_DEPTH + 1;
	draw_spark(t, y, x, W_TREND, r, hist, nh);
	x += W_TREND + 1;
	draw_cell(t, y, x, W_RATE, r, true, in);
	x += W_RATE + 1;
	draw_cell(t, y, x, W_RATE, r, true, out);
	x += W_RATE + 1;
	draw_cell(t, y, x, W_CONS, r, true, cons);
	x += W_CONS + 1;
	draw_cell(t, y, x, W_DRAIN, r, true, drain);
	x += W_DRAIN + 1;
	/* The state is written out already: its own flag would repeat it
	 * ("paused paused"). */
	probe_flags_join(q->flags & ~(q->state == QSTATE_PAUSED ? Q_PAUSED :
	    q->state == QSTATE_STALLED ? Q_STALLED : 0u), flags,
	    sizeof flags);
	draw_textf(t, y, x, t->cols - x, sr, "%s%s%s",
	    probe_queue_state_name(q->state), strcmp(flags, "-") ? " " : "",
	    strcmp(flags, "-") ? flags : "");
}

static void
service_heading(struct tui *t, int y, size_t n)
{
	int x = W_MARK;

	draw_textf(t, y, x, W_NAME, R_TITLE, "SERVICES (%zu)", n);
	x += W_NAME + 1;
	draw_text(t, y, x, W_STATE, R_TITLE, "ACTIVE/SUB");
	x += W_STATE + 1;
	draw_text(t, y, x, W_ENABLED, R_TITLE, "ENABLED");
	x += W_ENABLED + 1;
	draw_text(t, y, x, W_HEALTH, R_TITLE, "HEALTH");
	x += W_HEALTH + 1;
	draw_cell(t, y, x, W_SINCE, R_TITLE, true, "SINCE");
	x += W_SINCE + 1;
	draw_text(t, y, x, t->cols - x, R_TITLE, t->cols >= 120 ?
	    "FLAGS                    REASON" : "FLAGS");
}

static void
queue_heading(struct tui *t, int y, size_t n)
{
	int x = W_MARK;

	draw_textf(t, y, x, W_NAME, R_TITLE, "QUEUES (%zu)", n);
	x += W_NAME + 1;
	draw_cell(t, y, x, W_DEPTH, R_TITLE, true, "DEPTH");
	x += W_DEPTH + 1;
	draw_text(t, y, x, W_TREND, R_TITLE, "TREND");
	x += W_TREND + 1;
	draw_cell(t, y, x, W_RATE, R_TITLE, true, "IN/MIN");
	x += W_RATE + 1;
	draw_cell(t, y, x, W_RATE, R_TITLE, true, "OUT/MIN");
	x += W_RATE + 1;
	draw_cell(t, y, x, W_CONS, R_TITLE, true, "CONS");
	x += W_CONS + 1;
	draw_cell(t, y, x, W_DRAIN, R_TITLE, true, "DRAIN");
	x += W_DRAIN + 1;
	draw_text(t, y, x, t->cols - x, R_TITLE, "STATE");
}

static size_t
nservice_rows(const struct overview *o)
{
	size_t n = 0;

	while (n < o->n && !o->rows[n].queue)
		n++;
	return n;
}

static void
overview_draw(struct tui *t, struct view *v, int y0, int h)
{
	struct overview *o = v->data;
	size_t ns, nlines, top = 0, sel_line;
	int list_h = h - 1;
	const char *reason = NULL;

	if (o->stale)
		rebuild(t, v);
	if (v->sel >= o->n && o->n > 0)
		v->sel = o->n - 1;
	ns = nservice_rows(o);
	nlines = o->nlines;
	sel_line = o->n ? o->rows[v->sel].line : 0;
	v->body_h = list_h;
	/* Scroll by lines, keeping the selected row (and its heading, when
	 * it is the first of its section) in view. */
	if (list_h > 0 && sel_line >= (size_t)list_h)
		top = sel_line - (size_t)list_h + 1;
	if (top > 0 && sel_line > 0 && o->lines[sel_line - 1].kind != L_ROW)
		top--;
	if (nlines > (size_t)list_h && top > nlines - (size_t)list_h)
		top = nlines - (size_t)list_h;
	for (size_t line = top; line < nlines && (int)(line - top) < list_h;
	    line++) {
		int y = y0 + (int)(line - top);
		size_t i = o->lines[line].row;
		const struct row *r = &o->rows[i];

		switch (o->lines[line].kind) {
		case L_SERVICES:
			service_heading(t, y, ns);
			break;
		case L_QUEUES:
			queue_heading(t, y, o->n - ns);
			break;
		case L_HOST:
			draw_textf(t, y, 0, t->cols, R_TITLE, "on %s", r->host);
			break;
		case L_BLANK:
			break;
		case L_ROW:
			if (r->queue)
				queue_line(t, y, r->i, probes_queue(t->probes,
				    r->i), r->sev, i == v->sel);
			else
				service_line(t, y, probes_service(t->probes,
				    r->i), r->sev, i == v->sel);
			break;
		}
	}
	if (o->n == 0) {
		draw_text(t, y0, 2, t->cols - 2, R_DIM, o->filter[0] ?
		    "nothing matches the filter (/ and Enter to clear it)" :
		    probes_settled(t->probes) ? "nothing to show: no "
		    "configured services or queues, and no failed units or "
		    "running services" : "reading the state...");
	} else {
		const struct row *r = &o->rows[v->sel];

		reason = r->queue ? probes_queue(t->probes, r->i)->reason :
		    probes_service(t->probes, r->i)->reason;
		draw_textf(t, y0 + h - 1, 0, t->cols, role_of_severity(r->sev),
		    "%s: %s", r->name, reason && *reason ? reason :
		    r->sev == 0 ? "ok" : "");
	}
	if (probes_error(t->probes) != NULL && h > 2)
		draw_textf(t, y0 + h - 2, 0, t->cols, R_ERROR, "warning: %s",
		    probes_error(t->probes));
	if (o->filter[0] != '\0')
		draw_textf(t, y0 + h - 1, t->cols - 20, 20, R_DIM, " /%s",
		    o->filter);
}

/* --- keys ------------------------------------------------------------------- */

static void
on_filter(struct tui *t, const char *text, void *arg)
{
	struct view *v = arg;
	struct overview *o = v->data;

	if (text == NULL)
		return;
	snprintf(o->filter, sizeof o->filter, "%s", text);
	rebuild(t, v);
	tui_dirty(t);
}

static bool
overview_key(struct tui *t, struct view *v, int key)
{
	struct overview *o = v->data;

	if (view_list_key(v, key)) {
		remember_selection(v);
		return true;
	}
	switch (key) {
	case TK_ENTER:
		if (o->n == 0)
			return true;
		remember_selection(v);
		if (o->rows[v->sel].queue)
			menu_open_queue(t, o->rows[v->sel].i);
		else
			menu_open_service(t, o->rows[v->sel].i);
		return true;
	case '/':
		tui_prompt(t, "/", "", on_filter, v, NULL);
		return true;
	case TK_ESC:
		if (o->filter[0] != '\0') {
			o->filter[0] = '\0';
			rebuild(t, v);
		}
		return true;
	case 'i':
		tui_command(t, "incidents");
		return true;
	case 't':
		tui_command(t, "timeline");
		return true;
	case 'R':
		tui_command(t, "runs");
		return true;
	}
	return false;
}

static void
overview_probes(struct tui *t, struct view *v, const struct probes_change *c)
{
	struct overview *o = v->data;

	(void)t;
	(void)c;
	o->stale = true;
}

static void
overview_close(struct tui *t, struct view *v)
{
	struct overview *o = v->data;

	(void)t;
	free(o->rows);
	free(o->lines);
	free(o);
}

const struct view_ops overview_ops = {
	.name = "overview",
	.draw = overview_draw,
	.key = overview_key,
	.close = overview_close,
	.probes = overview_probes,
	.keys = "Enter actions  / filter  : cmd  i incidents  t timeline  "
	    "R runs  ? help  q quit",
	.help =
	    "The overview: every service and queue, worst first.\n"
	    "Markers: !! down (failed, not found, over crit), ! broken\n"
	    "(inactive, unhealthy, deleted cwd/exe, stalled, paused),\n"
	    "~ warning (not enabled, restarting, over warn), ? not read yet.\n"
	    "\n"
	    "Enter      the actions of the selected row\n"
	    "/          filter rows by name (Esc clears the filter);\n"
	    "           /@HOST shows only the rows of that host\n"
	    "j k, arrows, PgUp PgDn, g G   move\n"
	    "i          incidents        t   the incident's timeline\n"
	    "R          runs             :   a command (Tab completes)\n"
	    "q          quit\n",
};

void *
overview_new(void)
{
	struct overview *o = lk_xcalloc(1, sizeof *o);

	o->stale = true;
	return o;
}
