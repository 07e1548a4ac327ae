/*
 * lookout console (and lookout with no command): the live console.
 */
#include "cli.h"
#include "../probes/probes.h"
#include "../tui/tui.h"

#include <stdio.h>
#include <string.h>

static const char console_help[] =
"usage: lookout console [--readonly]\n"
"       lookout [--readonly]\n"
"\n"
"The console: every service and queue, live, worst first; a unit's\n"
"detail, processes and journal; runbooks run step by step (y run, s skip,\n"
"r retry, a abort); the incident's timeline, with the notes and runs of\n"
"every engineer and script that writes to it.  ? shows the keys of each\n"
"screen, : takes a command (:run, :incident, :note, :export...).\n"
"\n"
"--readonly  show everything, change nothing: every key and command that\n"
"            would change something is refused with a message.\n"
"\n"
"Exit status: 0 after q, 4 when the terminal was lost or a signal ended it\n"
"(a run in progress stops after its action in flight and is resumable),\n"
"2 when there is no terminal or no configuration can be loaded.\n";

static int
cmd_console(struct cli *cli, int argc, char **argv)
{
	struct cli_session s;
	struct tui_opts o = { 0 };
	struct lk_err err = { 0 };
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--readonly") == 0)
			o.readonly = true;
		else
			return cli_usage("console: unexpected \"%s\"", argv[i]);
	}
	/* The console reads the state as it comes, so the session does not
	 * wait for the probes to settle first. */
	if ((rc = cli_session_open(cli, &s, true, false)) >= 0)
		return rc;
	if (probes_new(s.loop, s.cfg, s.store, &s.probes, &err) != LK_OK) {
		cli_session_close(&s);
		return cli_error(&err);
	}
	probes_start(s.probes);
	o.loop = s.loop;
	o.store = s.store;
	o.probes = s.probes;
	o.cfg = s.cfg;
	o.lock_dir = s.lock_dir;
	rc = tui_main(&o, &err);
	if (err.msg[0] != '\0')
		cli_error(&err);
	cli_session_close(&s);
	return rc;
}

const struct cmd_entry cmd_console_entry = {
	.name = "console",
	.group = CMD_GROUP_CONSOLE,
	.usage = "console [--readonly]",
	.summary = "the live console; lookout with no command opens it too",
	.help = console_help,
	.exec = cmd_console,
};
