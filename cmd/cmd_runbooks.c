/*
 * lookout runbooks: the runbooks lookout can find, and their parameters.
 */
#include "cli.h"
#include "../config/config.h"
#include "../core/loop.h"
#include "../core/util.h"
#include "../probes/probes.h"
#include "../runbooks/runbooks.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char runbooks_help[] =
"usage: lookout runbooks [--json]\n"
"\n"
"The runbooks lookout finds ($LOOKOUT_RUNBOOK_PATH, the config's\n"
"runbook_dirs, $XDG_CONFIG_HOME/lookout/runbooks, the installed templates;\n"
"run from its build directory, the source tree's templates too), each with\n"
"its parameters and steps.  A runbook lookout refuses to load (a file or\n"
"directory on its path that a user other than root and you can write, or\n"
"not a regular file) is listed as REFUSED, and why is said on stderr.\n"
"Exit 2 if a runbook file is broken or refused.\n";

struct list_ctx {
	json_t *array;
	int n;
	int bad;
};

/*
 * A runbook lookout will not load (someone else could have written it, or
 * it is not a regular file) is listed as refused, with why: skipped, it
 * would look as if it were not there.
 */
static void
list_refused(struct list_ctx *c, const char *path, const char *why)
{
	const char *base = strrchr(path, '/');
	char name[256];

	snprintf(name, sizeof name, "%s", base ? base + 1 : path);
	if (strlen(name) > 4)
		name[strlen(name) - 4] = '\0';		/* ".lua" */
	if (c->array != NULL) {
		json_array_append_new(c->array, json_pack("{s:o, s:o, s:o}",
		    "name", lk_json_text(name), "path", lk_json_text(path),
		    "refused", lk_json_text(why)));
		return;
	}
	printf("%-18s REFUSED\n%-18s   %s\n", name, "", path);
	fprintf(stderr, "%s\n", why);
}

static int
list_one(const char *path, void *data)
{
	struct list_ctx *c = data;
	struct rb_book *b = NULL;
	struct lk_err err = { 0 };

	if (rb_book_load(path, &b, NULL, &err) != LK_OK) {
		c->bad++;
		if (err.code == LK_EREFUSED)
			list_refused(c, path, err.msg);
		else if (c->array == NULL)
			fprintf(stderr, "%s\n", err.msg);
		return 0;
	}
	if (c->array != NULL) {
		json_t *o = json_object(), *ps = json_array(), *st = json_array();

		for (size_t i = 0; i < rb_book_nparams(b); i++) {
			const struct rb_param *p = rb_book_param(b, i);

			json_array_append_new(ps, json_pack("{s:s, s:b, s:b, "
			    "s:s?, s:s?, s:s?}", "name", p->name, "required",
			    p->required, "secret", p->secret, "default",
			    p->default_value, "env", p->env, "description",
			    p->description));
		}
		for (size_t i = 0; i < rb_book_nsteps(b); i++)
			json_array_append_new(st, lk_json_text(
			    rb_book_step_name(b, i)));
		json_object_set_new(o, "name", lk_json_text(rb_book_name(b)));
		json_object_set_new(o, "description", rb_book_description(b) ?
		    lk_json_text(rb_book_description(b)) : json_null());
		json_object_set_new(o, "path", lk_json_text(path));
		json_object_set_new(o, "params", ps);
		json_object_set_new(o, "steps", st);
		json_array_append_new(c->array, o);
	} else {
		printf("%-18s %s\n", rb_book_name(b), rb_book_description(b) ?
		    rb_book_description(b) : "");
		for (size_t i = 0; i < rb_book_nparams(b); i++) {
			const struct rb_param *p = rb_book_param(b, i);

			printf("%-18s   %s%s%s%s%s%s\n", "", p->name,
			    p->required ? " (required)" : "",
			    p->default_value ? " = " : "",
			    p->default_value ? p->default_value : "",
			    p->secret ? " (secret, from $" : "",
			    p->secret ? (p->env ? p->env : "?") : "");
			if (p->secret)
				fputs("", stdout);
		}
		printf("%-18s   %zu steps: ", "", rb_book_nsteps(b));
		for (size_t i = 0; i < rb_book_nsteps(b); i++)
			printf("%s%s", i ? ", " : "", rb_book_step_name(b, i));
		printf("\n%-18s   %s\n", "", path);
	}
	c->n++;
	rb_book_free(&b);
	return 0;
}

static int
cmd_runbooks(struct cli *cli, int argc, char **argv)
{
	struct list_ctx c = { 0 };
	struct config *cfg = NULL;
	bool json;
	int rc;

	if ((rc = cli_json_only("runbooks", argc, argv, runbooks_help, &json)) >= 0)
		return rc;
	if ((rc = cli_load_config(cli, &cfg)) >= 0)
		return rc;
	if (json)
		c.array = json_array();
	rb_foreach_file(cfg, list_one, &c);
	if (json) {
		json_dumpf(c.array, stdout, JSON_INDENT(1));
		fputc('\n', stdout);
	} else if (c.n == 0) {
		puts("no runbooks found (see LOOKOUT_RUNBOOK_PATH, "
		    "runbook_dirs in the config, ~/.config/lookout/runbooks)");
	}
	json_decref(c.array);
	config_free(&cfg);
	return c.bad ? 2 : 0;
}

const struct cmd_entry cmd_runbooks_entry = {
	.name = "runbooks",
	.group = CMD_GROUP_RUNBOOKS,
	.usage = "runbooks [--json]",
	.help = runbooks_help,
	.exec = cmd_runbooks,
};
