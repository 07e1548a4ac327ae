/*
 * A service in detail: its unit, its endpoint check, its processes (where
 * they run from, deleted ones marked) and its journal.  The processes are
 * read from /proc when the view opens and whenever the probes say the
 * service changed, never while drawing.
 */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../probes/probes.h"

#define MAX_PROCS 32

struct detail {
	size_t service;
	struct probe_proc procs[MAX_PROCS];
	size_t nprocs;
};

static void
read_procs(struct tui *t, struct detail *d)
{
	d->nprocs = probes_service_procs(t->probes, d->service, d->procs,
	    MAX_PROCS);
}

void
detail_open(struct tui *t, size_t service, bool journal)
{
	struct detail *d = lk_xcalloc(1, sizeof *d);

	(void)journal;
	d->service = service;
	read_procs(t, d);
	tui_push(t, &detail_ops, d);
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
}

static bool
detail_key(struct tui *t, struct view *v, int key)
{
	struct detail *d = v->data;

	switch (key) {
	case TK_ENTER:
		menu_open_service(t, d->service);
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
	(void)t;
	free(v->data);
}

const struct view_ops detail_ops = {
	.name = "detail",
	.draw = detail_draw,
	.key = detail_key,
	.close = detail_close,
	.probes = detail_probes,
	.keys = "Enter actions  Esc back  ? help",
	.help = "A service in detail: its unit, its check, its processes\n"
	    "(a process running from a deleted directory or binary is\n"
	    "marked DELETED: systemd says active, the code is gone).\n"
	    "Enter      the service's actions\n",
};
