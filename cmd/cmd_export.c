/*
 * lookout export: an incident as a postmortem, JSON or CSV.
 */
#include "cli.h"
#include "../core/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char export_help[] =
"usage: lookout export ID [--format md|json|csv] [-o FILE]\n"
"\n"
"Writes incident ID as a postmortem in Markdown (the default), as JSON with\n"
"every event and its hashes, or as RFC 4180 CSV.  With -o the file is\n"
"written whole or not at all, readable only by you.\n";

struct export_opts {
	const char *format;
	const char *output;
};

static int
export_opt(int c, const char *val, void *arg)
{
	struct export_opts *o = arg;

	if (c == 'f')
		o->format = val;
	else if (c == 'o')
		o->output = val;
	return 0;
}

static int
cmd_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct export_opts o = { .format = "md" };
	enum store_format f;
	struct store *s = NULL;
	struct lk_err err = { 0 };
	int64_t id;
	int rc;

	if ((rc = cli_parse_opts("export", argc, argv, "f:o:", opts, export_opt,
	    &o)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("export takes one incident ID");
	if (cli_parse_id("incident id", argv[optind], &id, &err) != LK_OK ||
	    store_format_parse(o.format, &f, &err) != LK_OK)
		return cli_error(&err);
	if (cli_read_store(cli, &s, &err) != LK_OK)
		return cli_error(&err);
	if (o.output != NULL && strcmp(o.output, "-") != 0) {
		rc = store_export_file(s, id, f, o.output, &err) == LK_OK ? 0 :
		    cli_error(&err);
	} else {
		rc = store_export(s, id, f, stdout, &err) == LK_OK ? 0 :
		    cli_error(&err);
		if (rc == 0 && fflush(stdout) != 0) {
			lk_fail(&err, LK_EIO, "write standard output: %s",
			    strerror(errno));
			rc = cli_error(&err);
		}
	}
	store_close(&s);
	return rc;
}

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.group = CMD_GROUP_TIMELINE,
	.usage = "export ID [--format md|json|csv] [-o FILE]",
	.help = export_help,
	.exec = cmd_export,
};
