/*
 * lookout: the command line entry point.
 *
 * Global options (--db, --config, --help, --version) may appear anywhere
 * before "--"; the first remaining word names the command.
 */
#include "cli.h"
#include "../core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef LOOKOUT_VERSION
#define LOOKOUT_VERSION "0.0.0"
#endif

static const char usage_text[] =
"usage: lookout [--db FILE] [--config FILE] COMMAND [ARGS]\n"
"\n"
"Incidents and their timeline:\n"
"  incident open TITLE [--severity P1..P4] [--service NAME ...]\n"
"  incident list [--json]\n"
"  incident show ID [--json]\n"
"  incident note ID TEXT\n"
"  incident ack|mitigate|resolve|close ID [TEXT]\n"
"  export ID [--format md|json|csv] [-o FILE]\n"
"  verify [ID]\n"
"\n"
"Configuration:\n"
"  check [FILE ...]   validate configuration and runbook files\n"
"  status [--json]    one-shot state of services and queues; exit 0 healthy,\n"
"                     1 degraded, 2 configuration error\n"
"\n"
"Runbooks:\n"
"  run RUNBOOK [NAME=VALUE ...] [--yes] [--dry-run] [--incident ID] [--json]\n"
"  run --resume RUN_ID [--yes]\n"
"  replay RUN_ID [--dry-run] [--yes]\n"
"  runs [--json]\n"
"  runbooks [--json]\n"
"\n"
"Options:\n"
"  --db FILE       the timeline (default $LOOKOUT_DB, else\n"
"                  $XDG_STATE_HOME/lookout/timeline.db)\n"
"  --config FILE   the configuration file\n"
"  -h, --help      this help; COMMAND --help for a command's own\n"
"  --version       print the version\n"
"\n"
"Exit status: 0 success, 1 a check or step failed, 2 usage or data error,\n"
"3 aborted by the operator, 4 interrupted.\n";

int
cli_error(const struct lk_err *err)
{
	fprintf(stderr, "lookout: %s\n", err->msg[0] ? err->msg :
	    lk_code_text(err->code));
	return lk_exit_status(err->code);
}

int
cli_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("lookout: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see lookout --help)\n", stderr);
	return 2;
}

int
cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

enum lk_code
cli_open_store(struct cli *cli, struct store **s, struct lk_err *err)
{
	struct lk_identity id;
	struct store_actor actor;
	char *path = cli->db_path ? lk_xstrdup(cli->db_path) :
	    store_default_path();
	enum lk_code code;

	lk_identity_detect(&id);
	actor.user = id.user;
	actor.from = id.from[0] ? id.from : NULL;
	actor.tty = id.tty[0] ? id.tty : NULL;
	code = store_open(path, &actor, s, err);
	free(path);
	return code;
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
	const char *cmd;
	int rc;

	/* The timeline and exports are private to their owner. */
	umask(077);

	if ((rc = take_globals(&cli, &argc, argv)) >= 0)
		return rc;
	if (argc < 2) {
		fputs(usage_text, stderr);
		return 2;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(cmd, "incident") == 0)
		return cmd_incident(&cli, argc - 1, argv + 1);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(&cli, argc - 1, argv + 1);
	if (strcmp(cmd, "export") == 0)
		return cmd_export(&cli, argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(&cli, argc - 1, argv + 1);
	if (strcmp(cmd, "status") == 0)
		return cmd_status(&cli, argc - 1, argv + 1);
	if (strcmp(cmd, "run") == 0)
		return cmd_run(&cli, argc - 1, argv + 1);
	if (strcmp(cmd, "replay") == 0)
		return cmd_replay(&cli, argc - 1, argv + 1);
	if (strcmp(cmd, "runs") == 0)
		return cmd_runs(&cli, argc - 1, argv + 1);
	if (strcmp(cmd, "runbooks") == 0)
		return cmd_runbooks(&cli, argc - 1, argv + 1);
	return cli_usage("unknown command \"%s\"", cmd);
}
