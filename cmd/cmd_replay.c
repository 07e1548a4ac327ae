/*
 * lookout replay: a recorded run's exact source, run again and compared.
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

static const char replay_help[] =
"usage: lookout replay RUN_ID [--dry-run] [--yes] [--json]\n"
"\n"
"Runs the exact source recorded with run RUN_ID again, with its recorded\n"
"parameters, step by step as run does, and says for each step whether its\n"
"outcome differs from then.  --dry-run shows every action and runs none.\n"
"\n"
"Exit status: 0 success, 1 a step failed, 2 usage or runbook error,\n"
"3 aborted by the operator, 4 interrupted.\n";

static int
cmd_replay(struct cli *cli, int argc, char **argv)
{
	struct cli_run_args a = { 0 };
	struct cli_session s;
	struct lk_err err = { 0 };
	struct store_run *r = NULL;
	struct rb_book *book = NULL;
	char *diag = NULL, *name = NULL;
	int64_t id;
	int rc;

	if ((rc = cli_parse_run_args("replay", argc, argv, &a, true)) >= 0)
		goto out;
	if (a.id_text == NULL) {
		rc = cli_usage("replay needs a RUN_ID (see lookout runs)");
		goto out;
	}
	if (cli_parse_id("run id", a.id_text, &id, &err) != LK_OK) {
		rc = cli_error(&err);
		goto out;
	}
	/* A replay needs a recorded run: no timeline, nothing to create. */
	if ((rc = cli_session_open(cli, &s, false, true)) >= 0)
		goto out;
	if (store_run_get(s.store, id, &r, &err) != LK_OK) {
		rc = cli_error(&err);
		goto done;
	}
	/* Exactly what ran: the recorded source, not today's file. */
	name = lk_xasprintf("run %lld (%s)", (long long)id, r->runbook);
	if (rb_book_load_source(name, r->source, strlen(r->source), &book,
	    &diag, &err) != LK_OK) {
		fputs(diag ? diag : "", stderr);
		if (diag == NULL)
			cli_error(&err);
		rc = 2;
		goto done;
	}
	a.o.replay_of = id;
	a.o.incident_id = r->incident_id;
	rc = cli_drive_run(&s, book, &a.o, a.json);
done:
	store_run_free(&r);
	cli_session_close(&s);
out:
	free(diag);
	free(name);
	free(a.params);
	return rc;
}


const struct cmd_entry cmd_replay_entry = {
	.name = "replay",
	.group = CMD_GROUP_RUNBOOKS,
	.usage = "replay RUN_ID [--dry-run] [--yes] [--json]",
	.help = replay_help,
	.exec = cmd_replay,
};
