/*
 * lookout check: validates configuration files without running anything.
 */
#include "cli.h"
#include "../config/config.h"
#include "../runbooks/runbooks.h"
#include "../core/trust.h"
#include "../core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char check_help[] =
"usage: lookout check [FILE ...]\n"
"\n"
"Loads each configuration FILE (by default the one lookout would use:\n"
"--config, $LOOKOUT_CONFIG, ./lookout.lua,\n"
"$XDG_CONFIG_HOME/lookout/lookout.lua, /etc/lookout/lookout.lua) in its\n"
"sandbox and reports every problem as \"file:line: message\" on stderr.\n"
"A good file prints \"FILE: ok (N services, M queues)\".\n"
"Exit 0 when every file is valid, 2 otherwise.\n";

/*
 * A runbook file hands its table back with a line "return runbook {",
 * after whatever helpers it defines; a configuration never returns one.
 */
static int
is_runbook(const char *text)
{
	for (const char *line = text; line != NULL; line = strchr(line, '\n'),
	    line = line ? line + 1 : NULL) {
		line += strspn(line, " \t");
		if (strncmp(line, "return", 6) != 0 ||
		    !isspace((unsigned char)line[6]))
			continue;
		line += 6 + strspn(line + 6, " \t");
		if (strncmp(line, "runbook", 7) == 0 &&
		    !isalnum((unsigned char)line[7]) && line[7] != '_')
			return 1;
	}
	return 0;
}

/* Bigger than any configuration or runbook lookout would load. */
#define CHECK_MAX_FILE (1 << 20)

/*
 * Returns 1 when path is a valid configuration or runbook.  The file is
 * opened once, the way loading it would (core/trust.h): one that lookout
 * would refuse is reported in one line, and a FIFO is never waited on.
 */
static int
check_one(const char *path)
{
	struct config_diags diags = { 0 };
	struct config *cfg = NULL;
	struct lk_err err = { 0 };
	struct lk_buf text = { 0 };
	int ok = 0;

	if (trust_read(NULL, path, geteuid(), CHECK_MAX_FILE, &text, &err) !=
	    LK_OK) {
		fprintf(stderr, "%s\n", err.msg);
		goto done;
	}
	if (text.len > CHECK_MAX_FILE) {
		fprintf(stderr, "%s: larger than 1 MiB, not a configuration "
		    "or runbook file\n", path);
		goto done;
	}
	if (text.s == NULL)
		lk_buf_adds(&text, "");
	if (is_runbook(text.s)) {
		struct rb_book *book = NULL;
		char *diag = NULL;

		if (rb_book_load_source(path, text.s, text.len, &book, &diag,
		    &err) != LK_OK) {
			fputs(diag ? diag : err.msg, stderr);
			if (diag == NULL)
				fputc('\n', stderr);
			free(diag);
			goto done;
		}
		printf("%s: ok (runbook %s, %zu step%s)\n", path,
		    rb_book_name(book), rb_book_nsteps(book),
		    rb_book_nsteps(book) == 1 ? "" : "s");
		rb_book_free(&book);
		ok = 1;
		goto done;
	}
	if (config_load_buffer(path, text.s, text.len, &cfg, &diags, &err) !=
	    LK_OK) {
		for (size_t i = 0; i < diags.n; i++)
			cli_problem(diags.lines[i]);
		if (diags.n == 0)
			cli_problem(err.msg);
		if (diags.dropped > 0)
			fprintf(stderr, "%s: %zu more problems not shown\n",
			    path, diags.dropped);
		config_diags_free(&diags);
		goto done;
	}
	printf("%s: ok (%zu service%s, %zu queue%s)\n", path,
	    config_nservices(cfg), config_nservices(cfg) == 1 ? "" : "s",
	    config_nqueues(cfg), config_nqueues(cfg) == 1 ? "" : "s");
	config_free(&cfg);
	ok = 1;
done:
	lk_buf_free(&text);
	return ok;
}

static int
cmd_check(struct cli *cli, int argc, char **argv)
{
	struct lk_err err = { 0 };
	char *path = NULL;
	int ok = 1, files = 0, dashdash = 0;

	for (int i = 1; i < argc; i++) {
		if (!dashdash && strcmp(argv[i], "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (!dashdash && argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage("check: unknown option \"%s\"",
			    argv[i]);
		files++;
		if (!check_one(argv[i]))
			ok = 0;
	}
	if (files > 0)
		return ok ? 0 : 2;

	if (config_find(cli->config, &path, &err) != LK_OK)
		return cli_error(&err);
	if (path == NULL) {
		printf("no configuration file found: lookout will show the "
		    "systemd units of the current manager only\n");
		return 0;
	}
	ok = check_one(path);
	free(path);
	return ok ? 0 : 2;
}

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.group = CMD_GROUP_CONFIG,
	.usage = "check [FILE ...]",
	.summary = "validate configuration and runbook files",
	.help = check_help,
	.exec = cmd_check,
};
