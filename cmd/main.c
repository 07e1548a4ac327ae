/*
 * lookout: the command line entry point.
 *
 * Global options (--db, --config, --help, --version) may appear anywhere
 * before "--"; the first remaining word names the command, looked up in
 * cmd_table.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef LOOKOUT_VERSION
#define LOOKOUT_VERSION "0.0.0"
#endif

/* In `lookout --help` order: by group, then as listed. */
const struct cmd_entry *const cmd_table[] = {
	&cmd_console_entry,
	&cmd_incident_entry,
	&cmd_export_entry,
	&cmd_verify_entry,
	&cmd_status_entry,
	&cmd_check_entry,
	&cmd_watch_entry,
	&cmd_run_entry,
	&cmd_replay_entry,
	&cmd_runs_entry,
	&cmd_runbooks_entry,
	&cmd_complete_entry,
	NULL
};

static const char options_text[] =
"Options:\n"
"  --db FILE       the timeline (default $LOOKOUT_DB, else\n"
"                  $XDG_STATE_HOME/lookout/timeline.db)\n"
"  --config FILE   the configuration file\n"
"  -h, --help      this help; COMMAND --help for a command's own\n"
"  --version       print the version\n"
"\n"
"Exit status: 0 success, 1 a check or step failed, 2 usage or data error,\n"
"3 aborted by the operator, 4 interrupted.\n";

/* Prints text indented by indent, each of its lines. */
static void
print_indented(FILE *out, const char *text, int indent)
{
	while (*text != '\0') {
		size_t n = strcspn(text, "\n");

		fprintf(out, "%*s%.*s\n", indent, "", (int)n, text);
		text += n + (text[n] == '\n');
	}
}

/* The usage of every command, grouped as the table orders them. */
static void
usage(FILE *out)
{
	const char *group = NULL;

	fputs("usage: lookout [--db FILE] [--config FILE] [COMMAND [ARGS]]\n",
	    out);
	for (size_t i = 0; cmd_table[i] != NULL; i++) {
		const struct cmd_entry *e = cmd_table[i];

		if (e->hidden)
			continue;
		if (group == NULL || strcmp(group, e->group) != 0) {
			group = e->group;
			fprintf(out, "\n%s:\n", group);
		}
		print_indented(out, e->usage, 2);
		if (e->summary != NULL)
			print_indented(out, e->summary, 6);
	}
	fputc('\n', out);
	fputs(options_text, out);
}

static const struct cmd_entry *
cmd_find(const char *name)
{
	for (size_t i = 0; cmd_table[i] != NULL; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	return NULL;
}

/*
 * Pulls the global options out of argv, keeping everything else in order.
 * Returns -1 to continue, or an exit status.
 */
static int
take_globals(struct cli *cli, int *argcp, char **argv)
{
	int argc = *argcp, out = 1;
	int done = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;

		if (done) {
			argv[out++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			done = 1;
			argv[out++] = argv[i];
			continue;
		}
		if (strcmp(a, "--version") == 0) {
			printf("lookout %s\n", LOOKOUT_VERSION);
			return 0;
		}
		if (strncmp(a, "--db", 4) == 0 && (a[4] == '\0' || a[4] == '='))
			slot = &cli->db_path;
		else if (strncmp(a, "--config", 8) == 0 &&
		    (a[8] == '\0' || a[8] == '='))
			slot = &cli->config;
		if (slot == NULL) {
			argv[out++] = argv[i];
			continue;
		}
		if (strchr(a, '=') != NULL) {
			*slot = strchr(a, '=') + 1;
		} else if (i + 1 < argc) {
			*slot = argv[++i];
		} else {
			return cli_usage("%s needs a value", a);
		}
		if (**slot == '\0')
			return cli_usage("%.8s needs a non-empty value", a);
	}
	argv[out] = NULL;
	*argcp = out;
	return -1;
}

int
main(int argc, char **argv)
{
	struct cli cli = { .prog = "lookout" };
	const struct cmd_entry *e;
	const char *name;
	int rc;

	/* The timeline and exports are private to their owner. */
	umask(077);
	/* Before anything is printed: see term.c. */
	cli_term_setup();

	if ((rc = take_globals(&cli, &argc, argv)) >= 0)
		return rc;
	/* No command: the console, when there is a terminal to show it. */
	if (argc < 2) {
		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
			usage(stderr);
			return 2;
		}
		return cmd_console_entry.exec(&cli, 1, (char *[]){ "console",
		    NULL });
	}
	name = argv[1];
	/* `lookout --readonly` is the console's option without its name. */
	if (strcmp(name, "--readonly") == 0)
		return cmd_console_entry.exec(&cli, argc, (argv[0] = "console",
		    argv));
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 ||
	    strcmp(name, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if ((e = cmd_find(name)) == NULL)
		return cli_usage("unknown command \"%s\"", name);
	if (cli_wants_help(argc - 1, argv + 1)) {
		fputs(e->help, stdout);
		return 0;
	}
	if (e != &cmd_console_entry)
		cli_term_stdout();
	return e->exec(&cli, argc - 1, argv + 1);
}
