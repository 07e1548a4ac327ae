/*
 * lookout runs: the recorded runbook runs.
 */
#include "cli.h"
#include "../core/util.h"
#include "../runbooks/runbooks.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char runs_help[] =
"usage: lookout runs [--json]\n"
"\n"
"The recorded runbook runs, newest first: runbook, status, when, who, and\n"
"how each ended.  A run cut short (lookout killed, the terminal lost) shows\n"
"as interrupted and can be continued with lookout run --resume RUN_ID.\n";

struct runs_ctx {
	char *lock_dir;
	json_t *array;
	int n;
};

/* A run still marked running whose lock nobody holds was cut short. */
static const char *
effective_status(struct runs_ctx *c, const struct store_run *r)
{
	if (strcmp(r->status, "running") == 0 && !r->dry_run &&
	    !rb_lock_held(c->lock_dir, r->runbook, r->params))
		return "interrupted";
	return r->status;
}

static int
runs_one(const struct store_run *r, void *arg)
{
	struct runs_ctx *c = arg;
	const char *status = effective_status(c, r);
	char iso[LK_ISO_LEN];

	lk_iso8601(r->started_at, iso);
	if (c->array != NULL) {
		json_t *o = json_object();

		json_object_set_new(o, "id", json_integer(r->id));
		json_object_set_new(o, "runbook", lk_json_text(r->runbook));
		json_object_set_new(o, "status", json_string(status));
		json_object_set_new(o, "dry_run", json_boolean(r->dry_run));
		json_object_set_new(o, "incident_id", r->incident_id ?
		    json_integer(r->incident_id) : json_null());
		json_object_set_new(o, "replay_of", r->replay_of ?
		    json_integer(r->replay_of) : json_null());
		json_object_set_new(o, "started_at", json_string(iso));
		json_object_set_new(o, "actor", lk_json_text(r->actor));
		json_object_set_new(o, "sha256", json_string(r->sha256));
		json_object_set_new(o, "params", json_loads(r->params, 0,
		    NULL) ?: json_object());
		json_object_set_new(o, "summary", r->message ?
		    lk_json_text(r->message) : json_null());
		json_array_append_new(c->array, o);
		return 0;
	}
	if (c->n++ == 0)
		printf("%-5s %-20s %-12s %-20s %-10s %s\n", "RUN", "RUNBOOK",
		    "STATUS", "STARTED (UTC)", "BY", "SUMMARY");
	printf("%-5lld %-20s %-12s %.10s %.8s  %-10s %s%s\n",
	    (long long)r->id, r->runbook, status, iso, iso + 11, r->actor,
	    strcmp(status, r->status) != 0 ? "cut short; a step's outcome "
	    "may be unknown (lookout run --resume)" : r->message ? r->message :
	    "", r->dry_run ? " [dry run]" : "");
	return 0;
}

static int
cmd_runs(struct cli *cli, int argc, char **argv)
{
	struct runs_ctx c = { 0 };
	struct store *s = NULL;
	struct lk_err err = { 0 };
	bool json;
	int rc;

	if ((rc = cli_json_only("runs", argc, argv, runs_help, &json)) >= 0)
		return rc;
	if (cli_read_store(cli, &s, &err) != LK_OK)
		return cli_empty_list(&err, json, "no runs recorded");
	c.lock_dir = cli_lock_dir(s);
	if (json)
		c.array = json_array();
	rc = store_run_foreach(s, runs_one, &c, &err) == LK_OK ? 0 :
	    cli_error(&err);
	if (rc == 0 && json) {
		json_dumpf(c.array, stdout, JSON_INDENT(1));
		fputc('\n', stdout);
	} else if (rc == 0 && c.n == 0) {
		printf("no runs recorded in %s\n", store_path(s));
	}
	json_decref(c.array);
	free(c.lock_dir);
	store_close(&s);
	return rc;
}


const struct cmd_entry cmd_runs_entry = {
	.name = "runs",
	.group = CMD_GROUP_RUNBOOKS,
	.usage = "runs [--json]",
	.help = runs_help,
	.exec = cmd_runs,
};
