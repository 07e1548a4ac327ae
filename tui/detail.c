/*
 * A service in detail: its unit, its endpoint check, its processes (where
 * they run from, deleted ones marked) and its journal.  The processes are
 * read from /proc when the view opens and whenever the probes say the
 * service changed, never while drawing; the journal is read on the loop
 * (probes/journal.c) and followed, newest at the bottom.
 *
 * Seed 000 was diagnosed from one journal line, "NameError: name 'queue'
 * is not defined": the journal can take the whole screen (J), be searched
 * (/, n, N), and lines marked with space go to the incident's timeline as
 * evidence with e.
 */
#include "private.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../probes/probes.h"
#include "../store/store.h"

#define MAX_PROCS 32
/* Journal lines kept: enough to scroll back through an incident's start,
 * bounded so a chatty unit cannot grow the console. */
#define JOURNAL_LINES 2000

struct detail {
	size_t service;
	struct probe_proc procs[MAX_PROCS];
	size_t nprocs;

	struct probe_journal *journal;
	uint64_t *marked;	/* realtime_us of the lines marked as evidence */
	size_t nmarked;
	size_t cur;		/* the journal line under the cursor */
	bool follow;		/* keep the cursor on the newest line */
	bool full;		/* the journal takes the whole body */
	char search[128];
	char unit[256];
	char scope[16];
	char host[256];		/* the host it runs on, or "" */
};

static void
read_procs(struct tui *t, struct detail *d)
{
	d->nprocs = probes_service_procs(t->probes, d->service, d->procs,
	    MAX_PROCS);
}

static void
on_journal(struct probe_journal *pj, size_t added, void *data)
{
	struct tui *t = data;
	struct view *v = tui_find(t, &detail_ops);
	struct detail *d = v != NULL ? v->data : NULL;
	size_t n = probe_journal_count(pj);

	if (d == NULL || d->journal != pj)
		return;
	/* Lines dropped from the ring move the cursor with them. */
	if (!d->follow && added > 0 && n == JOURNAL_LINES)
		d->cur = d->cur > added ? d->cur - added : 0;
	if (d->follow && n > 0)
		d->cur = n - 1;
	tui_dirty(t);
}

void
detail_open(struct tui *t, size_t service, bool journal)
{
	const struct probe_service *s = probes_service(t->probes, service);
	struct detail *d = lk_xcalloc(1, sizeof *d);
	struct lk_err err = { 0 };

	d->service = service;
	d->follow = true;
	d->full = journal;
	snprintf(d->unit, sizeof d->unit, "%s", s->unit);
	snprintf(d->scope, sizeof d->scope, "%s", s->scope);
	snprintf(d->host, sizeof d->host, "%s", s->host ? s->host : "");
	read_procs(t, d);
	tui_push(t, &detail_ops, d);
	/*
	 * The unit's own journal, wherever it runs: a unit of another host
	 * is read there, through ssh; one of the same name here is another
	 * unit.  Closing the view stops it (and its ssh).
	 */
	if (probes_service_journal(t->probes, service, JOURNAL_LINES, true,
	    on_journal, t, &d->journal, &err) != LK_OK)
		tui_error(t, "%s", err.msg);
}

static bool
is_marked(const struct detail *d, uint64_t us)
{
	for (size_t i = 0; i < d->nmarked; i++)
		if (d->marked[i] == us)
			return true;
	return false;
}

static void
toggle_mark(struct detail *d, uint64_t us)
{
	for (size_t i = 0; i < d->nmarked; i++)
		if (d->marked[i] == us) {
			d->marked[i] = d->marked[--d->nmarked];
			return;
		}
	d->marked = lk_xrealloc(d->marked, (d->nmarked + 1) *
	    sizeof *d->marked);
	d->marked[d->nmarked++] = us;
}

/* The journal pane: rows y0 to y0 + h - 1, the cursor's line in view. */
static void
draw_journal(struct tui *t, struct detail *d, int y0, int h)
{
	size_t n = d->journal ? probe_journal_count(d->journal) : 0, top;
	const char *st = d->journal ? probe_journal_status(d->journal) : NULL;

	if (h < 2)
		return;
	draw_textf(t, y0, 0, t->cols, R_TITLE, "JOURNAL %s%s%s%s%s%s",
	    d->unit, d->host[0] ? " on " : "", d->host,
	    d->follow ? "  (following)" : "", d->search[0] ? "  /" : "",
	    d->search);
	h--;
	y0++;
	if (n == 0) {
		draw_text(t, y0, 2, t->cols - 2, R_DIM, st != NULL ? st :
		    d->journal && probe_journal_caught_up(d->journal) ?
		    "no entries" : "reading the journal...");
		return;
	}
	if (d->cur >= n)
		d->cur = n - 1;
	top = d->cur + 1 > (size_t)h ? d->cur + 1 - (size_t)h : 0;
	for (size_t i = top; i < n && (int)(i - top) < h; i++) {
		const struct probe_journal_line *ln = probe_journal_line(
		    d->journal, i);
		int y = y0 + (int)(i - top), r = i == d->cur ? ROLE_SEL : 0;
		int role = ln->priority <= 3 ? R_BROKEN : ln->priority == 4 ?
		    R_WARN : R_NORMAL;
		char iso[LK_ISO_LEN];

		if (d->search[0] != '\0' && strstr(ln->text, d->search))
			role = R_KEY;
		lk_iso8601(ln->realtime_us / 1000, iso);
		draw_fill(t, y, 0, t->cols, r);
		draw_textf(t, y, 0, 11, R_DIM | r, "%s%.8s",
		    is_marked(d, (uint64_t)ln->realtime_us) ? "*" : " ",
		    iso + 11);
		draw_text(t, y, 10, t->cols - 10, role | r, ln->text);
	}
}

static const struct config_service *
service_config(struct tui *t, size_t i)
{
	const struct probe_service *s = probes_service(t->probes, i);

	if (t->cfg == NULL || i >= config_nservices(t->cfg))
		return NULL;
	return strcmp(config_service(t->cfg, i)->name, s->name) == 0 ?
	    config_service(t->cfg, i) : NULL;
}

/* "label  value" at row y; returns the next row. */
static int
field(struct tui *t, int y, const char *label, int role, const char *value)
{
	draw_text(t, y, 2, 14, R_DIM, label);
	draw_text(t, y, 17, t->cols - 17, role, value);
	return y + 1;
}

static void
detail_draw(struct tui *t, struct view *v, int y0, int h)
{
	struct detail *d = v->data;
	const struct probe_service *s = probes_service(t->probes, d->service);
	const struct config_service *c = service_config(t, d->service);
	int y = y0, end = y0 + h, sev = probe_service_severity(s);
	char buf[1024], since[32] = "-", flags[256];

	if (d->full) {
		draw_journal(t, d, y0, h);
		return;
	}
	/* The unit and its processes above, the journal in what is left
	 * (at least a third of the body). */
	end = y0 + h - (h / 3 > 4 ? h / 3 : 4);

	draw_textf(t, y++, 0, t->cols, R_TITLE, "%s %s (%s scope)",
	    marker_of_severity(sev), s->name, s->scope);
	if (s->since_ms > 0)
		lk_fmt_duration(lk_now_ms() - s->since_ms, since, sizeof since);
	snprintf(buf, sizeof buf, "%s (%s), load %s, since %s", s->active,
	    s->sub, s->load[0] ? s->load : "?", since);
	y = field(t, y, "unit", R_NORMAL, s->unit);
	y = field(t, y, "state", role_of_severity(sev), buf);
	snprintf(buf, sizeof buf, "%s%s", s->enabled[0] ? s->enabled : "?",
	    s->flags & SVC_NOT_ENABLED ? "  (will not start after a reboot)"
	    : "");
	y = field(t, y, "enabled", s->flags & SVC_NOT_ENABLED ? R_WARN :
	    R_NORMAL, buf);
	snprintf(buf, sizeof buf, "%lld, restarts %lld",
	    (long long)s->main_pid, (long long)s->restarts);
	y = field(t, y, "main pid", R_NORMAL, buf);
	probe_flags_join(s->flags, flags, sizeof flags);
	y = field(t, y, "flags", role_of_severity(sev), flags);
	if (c != NULL && c->check != NULL) {
		snprintf(buf, sizeof buf, "%s  %s%s", c->check->url,
		    probe_health_name(s->health), s->latency_ms >= 0 ? "" : "");
		if (s->latency_ms >= 0)
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
			    " in %.0f ms", s->latency_ms);
		y = field(t, y, "check", s->health == HEALTH_FAILING ?
		    R_BROKEN : R_NORMAL, buf);
	} else {
		y = field(t, y, "check", R_DIM, "none configured");
	}
	y = field(t, y, "reason", role_of_severity(sev), s->reason[0] ?
	    s->reason : "-");
	if (c != NULL && c->runbook != NULL)
		y = field(t, y, "runbook", R_NORMAL, c->runbook);
	y++;
	if (y < end)
		draw_textf(t, y++, 0, t->cols, R_TITLE, "PROCESSES (%zu)",
		    d->nprocs);
	for (size_t i = 0; i < d->nprocs && y < end; i++) {
		const struct probe_proc *p = &d->procs[i];
		bool bad = p->cwd_deleted || p->exe_deleted;

		snprintf(buf, sizeof buf, "%-7ld %-15s cwd %s%s  exe %s%s",
		    p->pid, p->comm, p->cwd[0] ? p->cwd : "?",
		    p->cwd_deleted ? " (DELETED)" : "", p->exe[0] ? p->exe : "?",
		    p->exe_deleted ? " (DELETED)" : "");
		draw_text(t, y++, 2, t->cols - 2, bad ? R_BROKEN : R_NORMAL,
		    buf);
	}
	y++;
	draw_journal(t, d, y, y0 + h - y);
}

/* Moves the cursor to the next (dir 1) or previous (-1) line that holds
 * the search text. */
static void
find(struct tui *t, struct detail *d, int dir)
{
	size_t n = d->journal ? probe_journal_count(d->journal) : 0;

	if (d->search[0] == '\0' || n == 0)
		return;
	for (size_t k = 1; k <= n; k++) {
		size_t i = dir > 0 ? (d->cur + k) % n : (d->cur + n - k) % n;

		if (strstr(probe_journal_line(d->journal, i)->text,
		    d->search) != NULL) {
			d->cur = i;
			d->follow = false;
			return;
		}
	}
	tui_msg(t, "no line holds \"%s\"", d->search);
}

static void
on_search(struct tui *t, const char *text, void *arg)
{
	struct detail *d = arg;

	if (text == NULL)
		return;
	snprintf(d->search, sizeof d->search, "%s", text);
	find(t, d, -1);
}

/*
 * The marked lines (or the one under the cursor) as evidence in the
 * incident: one note, its text the lines as journald has them, so the
 * postmortem quotes them.
 */
static void
add_evidence(struct tui *t, struct detail *d)
{
	size_t n = d->journal ? probe_journal_count(d->journal) : 0;
	struct lk_buf b = { 0 };
	struct lk_err err = { 0 };
	size_t lines = 0;

	if (tui_refuse_readonly(t, "adding evidence"))
		return;
	if (t->incident_id == 0) {
		tui_error(t, "no incident: open one (:incident open TITLE) or "
		    "choose one (:incidents)");
		return;
	}
	if (n == 0)
		return;
	lk_buf_printf(&b, "journal of %s:", d->unit);
	for (size_t i = 0; i < n; i++) {
		const struct probe_journal_line *ln = probe_journal_line(
		    d->journal, i);
		char iso[LK_ISO_LEN];

		if (d->nmarked > 0 ? !is_marked(d, (uint64_t)ln->realtime_us) :
		    i != d->cur)
			continue;
		lk_iso8601(ln->realtime_us / 1000, iso);
		lk_buf_printf(&b, "\n%s %.*s", iso, (int)ln->len, ln->text);
		lines++;
	}
	if (store_incident_note(t->store, t->incident_id, b.s, &err) != LK_OK)
		tui_error(t, "%s", err.msg);
	else
		tui_msg(t, "%zu journal line%s added to incident %lld", lines,
		    lines == 1 ? "" : "s", (long long)t->incident_id);
	lk_buf_free(&b);
	d->nmarked = 0;
}

static bool
detail_key(struct tui *t, struct view *v, int key)
{
	struct detail *d = v->data;
	size_t n = d->journal ? probe_journal_count(d->journal) : 0;
	size_t page = v->body_h > 4 ? (size_t)v->body_h / 2 : 4;

	switch (key) {
	case TK_ENTER:
		menu_open_service(t, d->service);
		return true;
	case 'j':
	case TK_DOWN:
		if (d->cur + 1 < n)
			d->cur++;
		d->follow = d->cur + 1 >= n;
		return true;
	case 'k':
	case TK_UP:
		if (d->cur > 0)
			d->cur--;
		d->follow = false;
		return true;
	case TK_PGDN:
		d->cur = d->cur + page < n ? d->cur + page : n ? n - 1 : 0;
		d->follow = d->cur + 1 >= n;
		return true;
	case TK_PGUP:
		d->cur = d->cur > page ? d->cur - page : 0;
		d->follow = false;
		return true;
	case 'g':
		d->cur = 0;
		d->follow = false;
		return true;
	case 'G':
	case 'f':
		d->follow = key == 'G' ? true : !d->follow;
		if (d->follow && n > 0)
			d->cur = n - 1;
		return true;
	case 'J':
		d->full = !d->full;
		return true;
	case '/':
		tui_prompt(t, "/", "", on_search, d, NULL);
		return true;
	case 'n':
	case 'N':
		find(t, d, key == 'n' ? -1 : 1);
		return true;
	case ' ':
		if (n > 0)
			toggle_mark(d, (uint64_t)probe_journal_line(d->journal,
			    d->cur)->realtime_us);
		return true;
	case 'e':
		add_evidence(t, d);
		return true;
	}
	return false;
}

static void
detail_probes(struct tui *t, struct view *v, const struct probes_change *c)
{
	struct detail *d = v->data;

	for (size_t i = 0; i < c->nservices; i++)
		if (c->services[i] == d->service)
			read_procs(t, d);
}

static void
detail_close(struct tui *t, struct view *v)
{
	struct detail *d = v->data;

	(void)t;
	probe_journal_free(&d->journal);
	free(d->marked);
	free(d);
}

const struct view_ops detail_ops = {
	.name = "detail",
	.draw = detail_draw,
	.key = detail_key,
	.close = detail_close,
	.probes = detail_probes,
	.keys = "Enter actions  J journal  / search  space mark  e evidence  "
	    "f follow  Esc back",
	.help = "A service in detail: its unit, its check, its processes\n"
	    "(a process running from a deleted directory or binary is\n"
	    "marked DELETED: systemd says active, the code is gone), and its\n"
	    "journal, newest at the bottom, followed as it grows.\n"
	    "Enter      the service's actions\n"
	    "J          the journal on the whole screen, or not\n"
	    "j k, PgUp PgDn, g G   move in the journal (G: follow again)\n"
	    "f          follow the newest line, or stop\n"
	    "/          search; n N the previous, next match\n"
	    "space      mark a line; e adds the marked lines (or the one\n"
	    "           under the cursor) to the incident as evidence\n",
};
