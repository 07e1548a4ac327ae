/*
 * ?: the keys of the view it was opened from, then the keys and commands
 * that work everywhere.
 */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char global_help[] =
"\n"
"Everywhere:\n"
"?          this help              :   a command (Tab completes)\n"
"Esc        back                   q   quit from the overview, back elsewhere\n"
"j k, arrows, PgUp PgDn, g G       move\n"
"\n"
"Commands:\n"
":run RUNBOOK [K=V ...]            run a runbook, step by step\n"
":resume RUN_ID                    continue a run that was cut short\n"
":incident ID                      work in an incident (its timeline)\n"
":incident open TITLE [--severity P1..P4] [--service NAME ...]\n"
":incidents  :runs  :timeline      the lists, the timeline\n"
":note TEXT                        a note in the incident\n"
":ack :mitigate :resolve :close [TEXT]   its milestones\n"
":export md|json|csv [FILE]        the incident, as a postmortem\n"
":q                                quit\n";

struct help {
	char *text;
};

void
help_open(struct tui *t)
{
	struct help *h;
	struct lk_buf b = { 0 };
	struct view *v;
	size_t n = 0;

	if (t->view->ops == &help_ops)
		return;
	lk_buf_adds(&b, t->view->ops->help ? t->view->ops->help : "");
	lk_buf_adds(&b, global_help);
	if (t->readonly)
		lk_buf_adds(&b, "\nThis console is read-only (--readonly): "
		    "nothing that changes anything is allowed.\n");
	h = lk_xcalloc(1, sizeof *h);
	h->text = b.s;
	for (const char *p = h->text; *p; p++)
		n += *p == '\n';
	v = tui_push(t, &help_ops, h);
	v->nrows = n;
}

static void
help_draw(struct tui *t, struct view *v, int y0, int h)
{
	struct help *hp = v->data;
	const char *p = hp->text;
	size_t line = 0;

	view_list_fit(v, h);
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (line >= v->top && (int)(line - v->top) < h) {
			char buf[256];

			snprintf(buf, sizeof buf, "%.*s", (int)len, p);
			draw_text(t, y0 + (int)(line - v->top), 1, t->cols - 1,
			    R_NORMAL, buf);
		}
		line++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

static bool
help_key(struct tui *t, struct view *v, int key)
{
	(void)t;
	return view_list_key(v, key);
}

static void
help_close(struct tui *t, struct view *v)
{
	struct help *h = v->data;

	(void)t;
	free(h->text);
	free(h);
}

const struct view_ops help_ops = {
	.name = "help",
	.draw = help_draw,
	.key = help_key,
	.close = help_close,
	.keys = "j k scroll  Esc back",
	.help = NULL,
};
