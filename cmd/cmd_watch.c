/*
 * lookout watch: the headless watcher (watch/watch.h), for systemd to run
 * (templates/lookout-watch.service).
 */
#include "cli.h"
#include "../watch/watch.h"

#include <stdlib.h>

static const char watch_help[] =
"usage: lookout watch [--config FILE] [--db FILE]\n"
"\n"
"Watches every configured service and queue (without a configuration,\n"
"the manager's failed units and running services) and, when a rule of\n"
"the configuration fires, opens an incident in the timeline, or adds to\n"
"the one open for that service: the time of the first failing sample,\n"
"the failing checks and the unit's last journal lines as evidence.  It\n"
"marks the incident mitigated when the checks pass again and resolved\n"
"once they have passed for resolve_after, records each state change,\n"
"and writes a heartbeat that `lookout status` and the console show.\n"
"\n"
"Runs until SIGTERM or SIGINT (exit 0); SIGHUP reloads the configuration\n"
"(a broken one is logged and the old one kept).  Logs one line per event\n"
"on stderr, with journal priorities under systemd, and speaks sd_notify:\n"
"READY, STATUS and WATCHDOG (templates/lookout-watch.service).\n"
"Exit 2 when the configuration or the timeline cannot be opened.\n";

static int
cmd_watch(struct cli *cli, int argc, char **argv)
{
	struct watch_opts o = { .config = cli->config };
	char *db;
	int rc;

	if ((rc = cli_parse_opts("watch", argc, argv, "", cli_no_opts,
	    cli_no_opt, NULL)) >= 0)
		return rc;
	if (optind < argc)
		return cli_usage("watch: unexpected \"%s\"", argv[optind]);
	db = cli_store_path(cli);
	o.db_path = db;
	rc = watch_main(&o);
	free(db);
	return rc;
}

const struct cmd_entry cmd_watch_entry = {
	.name = "watch",
	.group = CMD_GROUP_CONFIG,
	.usage = "watch",
	.summary = "headless: detects, opens incidents with their evidence,\n"
	    "notifies (a systemd service: templates/lookout-watch.service)",
	.help = watch_help,
	.exec = cmd_watch,
};
