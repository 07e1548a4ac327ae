/*
 * lookout complete: the words the shell completion offers, one per line
 * (completion/lookout.bash).  Hidden from --help: it is for the completion,
 * not for people.  The commands, their actions, options and operands come
 * from cmd_table's usages, so a new command or option completes without a
 * change to the completion; the names and ids from where lookout finds
 * them, so the completion parses no file of ours.
 */
#include "cli.h"
#include "../config/config.h"
#include "../core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char complete_help[] =
"usage: lookout complete commands\n"
"       lookout complete actions|options|args COMMAND [ACTION]\n"
"       lookout complete runbooks|incidents|runs\n"
"\n"
"For the shell completion: the commands; a command's actions; the options\n"
"of a command (or of one of its actions), each with the placeholder of its\n"
"value; the placeholders of its operands, in order, \" ...\" after one that\n"
"repeats; the runbook names, incident ids or run ids of the timeline --db\n"
"and --config point at.  One word per line, nothing on a missing timeline.\n";

#define MAX_WORDS 32

/* What `complete actions|options|args` prints of a usage. */
enum usage_part { PART_ACTIONS, PART_OPTIONS, PART_ARGS };

/* An action is a lower-case word ("open", "ack|mitigate|resolve|close"),
 * where an operand is upper-case ("RUNBOOK") and an option starts with -. */
static bool
is_action(const char *w)
{
	return *w != '\0' && w[strspn(w, "abcdefghijklmnopqrstuvwxyz|")] ==
	    '\0';
}

static bool
has_action(const char *words, const char *action)
{
	size_t n = strlen(action);

	for (const char *p = words; p != NULL; p = strchr(p, '|')) {
		p += *p == '|';
		if (strncmp(p, action, n) == 0 && (p[n] == '|' || p[n] == '\0'))
			return true;
	}
	return false;
}

/* Prints w on a line of its own, unless it has been printed already. */
static void
put_once(struct lk_buf *seen, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = seen->s; p != NULL && *p != '\0';
	    p += strcspn(p, "\n") + 1)
		if (strncmp(p, w, n) == 0 && p[n] == '\n')
			return;
	lk_buf_adds(seen, w);
	lk_buf_addc(seen, '\n');
	puts(w);
}

/* "..." or "...]": the operand before it may repeat. */
static bool
is_dots(const char *w)
{
	return strncmp(w, "...", 3) == 0 && (w[3] == '\0' || w[3] == ']');
}

/* A word of a usage without its brackets: "[--json]" is "--json". */
static char *
unbracket(char *w)
{
	w += strspn(w, "[");
	w[strcspn(w, "]")] = '\0';
	return w;
}

/*
 * Prints part of e's usage: its actions, or the options or operands of the
 * lines of action (every line when action is NULL).  An option that takes a
 * value is followed by its placeholder ("--format md|json|csv"), an operand
 * that may repeat by " ..." ("FILE ...").
 */
static void
print_usage(const struct cmd_entry *e, enum usage_part part,
    const char *action)
{
	char *copy = lk_xstrdup(e->usage), *lines = NULL, *line;
	struct lk_buf seen = { 0 };

	for (line = strtok_r(copy, "\n", &lines); line != NULL;
	    line = strtok_r(NULL, "\n", &lines)) {
		char *w[MAX_WORDS], *words = NULL;
		size_t n = 0, i = 1;

		for (char *t = strtok_r(line, " ", &words); t != NULL &&
		    n < MAX_WORDS; t = strtok_r(NULL, " ", &words))
			w[n++] = t;
		if (n > 1 && is_action(w[1])) {
			if (action != NULL && !has_action(w[1], action))
				continue;
			i = 2;
			if (part == PART_ACTIONS)
				for (char *a = strtok_r(w[1], "|", &words);
				    a != NULL; a = strtok_r(NULL, "|", &words))
					put_once(&seen, a);
		} else if (action != NULL) {
			continue;
		}
		for (; i < n && part != PART_ACTIONS; i++) {
			/* "[--opt]" ends where it starts; "[--opt VALUE]" and
			 * "--opt VALUE" go on. */
			bool flag = w[i][strlen(w[i]) - 1] == ']';
			char *t = unbracket(w[i]), buf[128];

			if (*t == '-' && !flag && i + 1 < n &&
			    w[i + 1][0] != '[' && w[i + 1][0] != '-') {
				snprintf(buf, sizeof buf, "%s %s", t,
				    unbracket(w[++i]));
				t = buf;
			} else if (*t != '-' && i + 1 < n && is_dots(w[i + 1])) {
				snprintf(buf, sizeof buf, "%s ...", t);
				t = buf;
				i++;
			}
			if (!is_dots(t) && (*t == '-') == (part == PART_OPTIONS))
				put_once(&seen, t);
		}
	}
	lk_buf_free(&seen);
	free(copy);
}

/*
 * A runbook's name is its file's name.  One that a shell could not take as
 * one word as typed (a space, a control character) is left out rather than
 * offered as something else.
 */
static int
put_runbook(const char *path, void *data)
{
	const char *base = strrchr(path, '/');
	size_t n;

	(void)data;
	base = base != NULL ? base + 1 : path;
	n = strlen(base) - strlen(".lua");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)base[i] <= ' ' || base[i] == 0x7f)
			return 0;
	printf("%.*s\n", (int)n, base);
	return 0;
}

static int
put_incident(const struct store_incident *inc, void *arg)
{
	(void)arg;
	printf("%lld\n", (long long)inc->id);
	return 0;
}

static int
put_run(const struct store_run *r, void *arg)
{
	(void)arg;
	printf("%lld\n", (long long)r->id);
	return 0;
}

/* The ids of the timeline, if there is one: completing a word must not
 * create a timeline where none was. */
static int
print_ids(struct cli *cli, bool runs)
{
	struct store *s = NULL;
	struct lk_err err = { 0 };
	char *path = cli_store_path(cli);
	enum lk_code code;

	code = access(path, F_OK) != 0 ? LK_OK : cli_open_store(cli, &s, &err);
	free(path);
	if (code == LK_OK && s != NULL)
		code = runs ? store_run_foreach(s, put_run, NULL, &err) :
		    store_incident_foreach(s, put_incident, NULL, &err);
	store_close(&s);
	return code == LK_OK ? 0 : cli_error(&err);
}

static const struct cmd_entry *
find_visible(const char *name)
{
	for (size_t i = 0; cmd_table[i] != NULL; i++)
		if (!cmd_table[i]->hidden && strcmp(cmd_table[i]->name,
		    name) == 0)
			return cmd_table[i];
	return NULL;
}

static int
cmd_complete(struct cli *cli, int argc, char **argv)
{
	static const char *const parts[] = { "actions", "options", "args" };
	const struct cmd_entry *e;
	struct config *cfg = NULL;
	const char *what = argc > 1 ? argv[1] : "";
	int rc;

	if (strcmp(what, "commands") == 0 && argc == 2) {
		for (size_t i = 0; cmd_table[i] != NULL; i++)
			if (!cmd_table[i]->hidden)
				puts(cmd_table[i]->name);
		return 0;
	}
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		if (strcmp(what, parts[i]) != 0 || argc < 3 || argc > 4)
			continue;
		if ((e = find_visible(argv[2])) == NULL)
			return cli_usage("complete: unknown command \"%s\"",
			    argv[2]);
		print_usage(e, (enum usage_part)i, argc == 4 ? argv[3] : NULL);
		return 0;
	}
	if (strcmp(what, "runbooks") == 0 && argc == 2) {
		if ((rc = cli_load_config(cli, &cfg)) >= 0)
			return rc;
		rb_foreach_file(cfg, put_runbook, NULL);
		config_free(&cfg);
		return 0;
	}
	if ((strcmp(what, "incidents") == 0 || strcmp(what, "runs") == 0) &&
	    argc == 2)
		return print_ids(cli, strcmp(what, "runs") == 0);
	return cli_usage("complete: unexpected \"%s\"", what);
}

const struct cmd_entry cmd_complete_entry = {
	.name = "complete",
	.group = NULL,		/* hidden: under no heading */
	.usage = "complete commands|actions|options|args|runbooks|incidents|runs",
	.help = complete_help,
	.exec = cmd_complete,
	.hidden = true,
};
