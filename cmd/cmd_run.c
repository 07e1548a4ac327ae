/*
 * lookout run: a runbook, step by step, or a cut-short run resumed.
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

static const char run_help[] =
"usage: lookout run RUNBOOK [NAME=VALUE ...] [--yes] [--dry-run]\n"
"                   [--incident ID] [--json]\n"
"       lookout run --resume RUN_ID [--yes]\n"
"\n"
"run shows each step and what it will do, then asks: [y]es, [s]kip,\n"
"[a]bort (after a failure: [r]etry, [s]kip, [a]bort).  --yes runs every\n"
"step without asking; --dry-run shows every action and runs none.  Without\n"
"a terminal, run needs --yes.  Secret parameters come from the environment\n"
"variables their runbook names, never from the command line.\n"
"\n"
"Exit status: 0 success, 1 a step failed, 2 usage or runbook error,\n"
"3 aborted by the operator, 4 interrupted (signal, lost terminal).\n";

static int
cmd_run(struct cli *cli, int argc, char **argv)
{
	struct cli_run_args a = { 0 };
	struct cli_session s;
	struct lk_err err = { 0 };
	struct rb_book *book = NULL;
	char *path = NULL, *diag = NULL;
	int rc;

	if ((rc = cli_parse_run_args("run", argc, argv, &a, false)) >= 0)
		goto out;
	if (a.o.resume == 0 && a.runbook == NULL) {
		rc = cli_usage("run needs a RUNBOOK (see lookout runbooks)");
		goto out;
	}
	if (a.o.resume != 0 && (a.runbook != NULL || a.o.nparams > 0)) {
		rc = cli_usage("run --resume takes only the run id: the runbook "
		    "and its parameters are the recorded ones");
		goto out;
	}
	if ((rc = cli_session_open(cli, &s, true, true)) >= 0)
		goto out;
	if (a.o.resume != 0) {
		struct store_run *r = NULL;

		if (store_run_get(s.store, a.o.resume, &r, &err) != LK_OK) {
			rc = cli_error(&err);
			goto done;
		}
		/* The runbook as it is now; the engine refuses if it changed. */
		if (rb_find(s.cfg, r->runbook, &path, &err) != LK_OK) {
			store_run_free(&r);
			rc = cli_error(&err);
			goto done;
		}
		store_run_free(&r);
	} else if (rb_find(s.cfg, a.runbook, &path, &err) != LK_OK) {
		rc = cli_error(&err);
		goto done;
	}
	if (rb_book_load(path, &book, &diag, &err) != LK_OK) {
		fputs(diag ? diag : "", stderr);
		if (diag == NULL)
			cli_error(&err);
		rc = 2;
		goto done;
	}
	rc = cli_drive_run(&s, book, &a.o, a.json);
done:
	cli_session_close(&s);
out:
	free(diag);
	free(path);
	free(a.params);
	return rc;
}


const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.group = CMD_GROUP_RUNBOOKS,
	.usage = "run RUNBOOK [NAME=VALUE ...] [--yes] [--dry-run] [--incident ID] [--json]\n"
	    "run --resume RUN_ID [--yes]",
	.help = run_help,
	.exec = cmd_run,
};
