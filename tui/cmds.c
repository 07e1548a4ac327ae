/*
 * The commands typed after ':', as a table (name, what it takes, whether
 * it changes anything, handler), which also drives Tab completion and
 * --readonly: a command that changes anything is refused there, with a
 * message, before it runs.
 */
#include "private.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runbooks/runbooks.h"
#include "../store/store.h"

#define MAX_WORDS 64

/* A command line split into words; quotes group words with spaces. */
struct words {
	char *w[MAX_WORDS];
	size_t n;
	char buf[2048];
	const char *rest[MAX_WORDS];	/* the raw line from word i on */
};

static void
split(const char *line, struct words *ws)
{
	const char *p = line;
	char *o = ws->buf, *end = ws->buf + sizeof ws->buf - 1;

	ws->n = 0;
	while (ws->n < MAX_WORDS) {
		char quote = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		ws->rest[ws->n] = p;
		ws->w[ws->n++] = o;
		for (; *p != '\0' && (quote || (*p != ' ' && *p != '\t')); p++) {
			if (quote == 0 && (*p == '"' || *p == '\'')) {
				quote = *p;
				continue;
			}
			if (quote != 0 && *p == quote) {
				quote = 0;
				continue;
			}
			if (o < end)
				*o++ = *p;
		}
		if (o < end)
			*o++ = '\0';
	}
	*o = '\0';
}

static void
cmd_run(struct tui *t, struct words *ws)
{
	if (ws->n < 2) {
		tui_error(t, "run needs a runbook: :run RUNBOOK [K=V ...] (Tab "
		    "completes the name)");
		return;
	}
	for (size_t i = 2; i < ws->n; i++)
		if (strchr(ws->w[i], '=') == NULL || ws->w[i][0] == '=') {
			tui_error(t, "parameter \"%s\" is not NAME=VALUE",
			    ws->w[i]);
			return;
		}
	tui_run_start(t, ws->w[1], (const char *const *)ws->w + 2,
	    ws->n - 2);
}

static bool
parse_id(struct tui *t, const char *what, const char *s, int64_t *id)
{
	char *end;
	long long v;

	errno = 0;
	v = s ? strtoll(s, &end, 10) : 0;
	if (s == NULL || *s == '\0' || *end != '\0' || errno || v <= 0) {
		tui_error(t, "%s \"%s\" is not a positive number", what,
		    s ? s : "");
		return false;
	}
	*id = v;
	return true;
}

static void
cmd_resume(struct tui *t, struct words *ws)
{
	int64_t id;

	if (parse_id(t, "run id", ws->n > 1 ? ws->w[1] : NULL, &id))
		tui_run_resume(t, id);
}

static void
cmd_incident(struct tui *t, struct words *ws)
{
	char title[1024] = "", sev[8] = "P3";
	const char *svcs[MAX_WORDS];
	struct store_incident *inc = NULL;
	struct lk_err err = { 0 };
	int64_t id;
	size_t i, nsvcs = 0;

	if (ws->n >= 2 && strcmp(ws->w[1], "open") == 0) {
		if (tui_refuse_readonly(t, "opening an incident"))
			return;
		for (i = 2; i < ws->n; i++) {
			if (strcmp(ws->w[i], "--severity") == 0 &&
			    i + 1 < ws->n) {
				snprintf(sev, sizeof sev, "%s", ws->w[++i]);
				continue;
			}
			/* As `lookout incident open` takes them. */
			if (strcmp(ws->w[i], "--service") == 0 &&
			    i + 1 < ws->n) {
				svcs[nsvcs++] = ws->w[++i];
				continue;
			}
			snprintf(title + strlen(title), sizeof title -
			    strlen(title), "%s%s", title[0] ? " " : "",
			    ws->w[i]);
		}
		if (store_incident_open(t->store, title, sev, svcs, nsvcs, &id,
		    &err) != LK_OK) {
			tui_error(t, "%s", err.msg);
			return;
		}
		tui_set_incident(t, id);
		timeline_open(t, id);
		tui_msg(t, "incident %lld opened", (long long)id);
		return;
	}
	if (ws->n < 2) {
		timeline_open(t, t->incident_id);
		return;
	}
	if (!parse_id(t, "incident id", ws->w[1], &id))
		return;
	if (store_incident_get(t->store, id, &inc, &err) != LK_OK) {
		tui_error(t, "%s", err.msg);
		return;
	}
	store_incident_free(&inc);
	timeline_open(t, id);
}

static bool
need_incident(struct tui *t)
{
	if (t->incident_id != 0)
		return true;
	tui_error(t, "no incident: open one (:incident open TITLE) or "
	    "choose one (:incidents)");
	return false;
}

static void
cmd_note(struct tui *t, struct words *ws)
{
	struct lk_err err = { 0 };
	char text[2048];

	if (!need_incident(t))
		return;
	/* The note as typed, quotes and all. */
	snprintf(text, sizeof text, "%s", ws->n > 1 ? ws->rest[1] : "");
	if (text[0] == '\0') {
		tui_error(t, "note needs its text: :note TEXT");
		return;
	}
	if (store_incident_note(t->store, t->incident_id, text, &err) != LK_OK)
		tui_error(t, "%s", err.msg);
}

static void
milestone(struct tui *t, struct words *ws, enum store_milestone m)
{
	struct lk_err err = { 0 };
	char text[2048];

	if (!need_incident(t))
		return;
	snprintf(text, sizeof text, "%s", ws->n > 1 ? ws->rest[1] : "");
	if (store_incident_advance(t->store, t->incident_id, m, text, &err) !=
	    LK_OK)
		tui_error(t, "%s", err.msg);
	else
		tui_msg(t, "incident %lld: %s", (long long)t->incident_id,
		    store_milestone_status(m));
}

static void cmd_ack(struct tui *t, struct words *ws)
{ milestone(t, ws, STORE_ACKNOWLEDGED); }
static void cmd_mitigate(struct tui *t, struct words *ws)
{ milestone(t, ws, STORE_MITIGATED); }
static void cmd_resolve(struct tui *t, struct words *ws)
{ milestone(t, ws, STORE_RESOLVED); }
static void cmd_close(struct tui *t, struct words *ws)
{ milestone(t, ws, STORE_CLOSED); }

static void
cmd_export(struct tui *t, struct words *ws)
{
	enum store_format f = STORE_MD;
	struct lk_err err = { 0 };
	char path[1024];

	if (!need_incident(t))
		return;
	if (ws->n > 1 && store_format_parse(ws->w[1], &f, &err) != LK_OK) {
		tui_error(t, "%s", err.msg);
		return;
	}
	if (ws->n > 2)
		snprintf(path, sizeof path, "%s", ws->w[2]);
	else
		snprintf(path, sizeof path, "incident-%lld.%s",
		    (long long)t->incident_id, ws->n > 1 ? ws->w[1] : "md");
	if (store_export_file(t->store, t->incident_id, f, path, &err) !=
	    LK_OK)
		tui_error(t, "%s", err.msg);
	else
		tui_msg(t, "incident %lld written to %s",
		    (long long)t->incident_id, path);
}

static void
cmd_incidents(struct tui *t, struct words *ws)
{
	(void)ws;
	tui_pop_all(t);
	tui_push(t, &incidents_ops, lists_new());
}

static void
cmd_runs(struct tui *t, struct words *ws)
{
	(void)ws;
	tui_pop_all(t);
	tui_push(t, &runs_ops, lists_new());
}

static void
cmd_timeline(struct tui *t, struct words *ws)
{
	(void)ws;
	timeline_open(t, t->incident_id);
}

static void
cmd_runner(struct tui *t, struct words *ws)
{
	(void)ws;
	if (tui_find(t, &runner_ops) != NULL) {
		while (t->view->ops != &runner_ops)
			tui_pop(t);
	} else {
		tui_error(t, "no run in this console (:runs lists them)");
	}
}

static void
cmd_help(struct tui *t, struct words *ws)
{
	(void)ws;
	help_open(t);
}

static void
cmd_quit(struct tui *t, struct words *ws)
{
	(void)ws;
	/* As q on the overview: asks first if a run is in progress. */
	tui_quit(t);
}

struct tui_cmd {
	const char *name;
	bool changes;		/* refused in --readonly */
	void (*fn)(struct tui *t, struct words *ws);
};

static const struct tui_cmd cmds[] = {
	{ "run", true, cmd_run },
	{ "resume", true, cmd_resume },
	{ "incident", false, cmd_incident },	/* open checks itself */
	{ "incidents", false, cmd_incidents },
	{ "runs", false, cmd_runs },
	{ "timeline", false, cmd_timeline },
	{ "runner", false, cmd_runner },
	{ "note", true, cmd_note },
	{ "ack", true, cmd_ack },
	{ "acknowledge", true, cmd_ack },
	{ "mitigate", true, cmd_mitigate },
	{ "resolve", true, cmd_resolve },
	{ "close", true, cmd_close },
	{ "export", true, cmd_export },
	{ "help", false, cmd_help },
	{ "q", false, cmd_quit },
	{ "quit", false, cmd_quit },
};

void
tui_command(struct tui *t, const char *line)
{
	struct words *ws = lk_xcalloc(1, sizeof *ws);
	char what[64];

	split(line, ws);
	if (ws->n == 0)
		goto done;
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
		if (strcmp(cmds[i].name, ws->w[0]) != 0)
			continue;
		snprintf(what, sizeof what, ":%s", cmds[i].name);
		if (!cmds[i].changes || !tui_refuse_readonly(t, what))
			cmds[i].fn(t, ws);
		goto done;
	}
	tui_error(t, "unknown command \"%s\" (? lists them)", ws->w[0]);
done:
	explicit_bzero(ws, sizeof *ws);
	free(ws);
}

/* --- completion ---------------------------------------------------------------- */

struct names {
	char **w;
	size_t n;
	const char *prefix;
};

static void
add_name(struct names *c, const char *name)
{
	if (strncmp(name, c->prefix, strlen(c->prefix)) != 0)
		return;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->w[i], name) == 0)
			return;
	c->w = lk_xrealloc(c->w, (c->n + 2) * sizeof *c->w);
	c->w[c->n++] = lk_xstrdup(name);
	c->w[c->n] = NULL;
}

static int
add_runbook(const char *path, void *data)
{
	char *copy = lk_xstrdup(path), *base = basename(copy);
	size_t len = strlen(base);

	if (len > 4 && strcmp(base + len - 4, ".lua") == 0)
		base[len - 4] = '\0';
	add_name(data, base);
	free(copy);
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
tui_complete(struct tui *t, const char *text)
{
	struct words *ws = lk_xcalloc(1, sizeof *ws);
	struct names c = { 0 };
	bool new_word = *text == '\0' || text[strlen(text) - 1] == ' ';

	split(text, ws);
	c.prefix = new_word ? "" : ws->n ? ws->w[ws->n - 1] : "";
	if (ws->n == 0 || (ws->n == 1 && !new_word)) {
		for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
			if (!t->readonly || !cmds[i].changes)
				add_name(&c, cmds[i].name);
	} else if ((ws->n == 1 && new_word) || (ws->n == 2 && !new_word)) {
		if (strcmp(ws->w[0], "run") == 0)
			rb_foreach_file(t->cfg, add_runbook, &c);
		else if (strcmp(ws->w[0], "export") == 0) {
			add_name(&c, "md");
			add_name(&c, "json");
			add_name(&c, "csv");
		} else if (strcmp(ws->w[0], "incident") == 0) {
			add_name(&c, "open");
		}
	}
	if (c.n > 1)
		qsort(c.w, c.n, sizeof *c.w, by_name);
	free(ws);
	return c.w;
}
