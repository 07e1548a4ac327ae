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

/*
 * Writes to a temporary file beside the target and renames it into place,
 * so an interrupted export never leaves half a postmortem under the name.
 */
static int
export_to_file(struct store *s, int64_t id, enum store_format f,
    const char *path, struct lk_err *err)
{
	char *tmp = lk_xasprintf("%s.XXXXXX", path);
	int fd = mkstemp(tmp);
	FILE *out;
	enum lk_code code;

	if (fd < 0) {
		lk_fail(err, LK_EIO, "write %s: %s", path, strerror(errno));
		free(tmp);
		return cli_error(err);
	}
	out = fdopen(fd, "w");
	code = store_export(s, id, f, out, err);
	if (code == LK_OK && (fflush(out) != 0 || fsync(fd) != 0))
		code = lk_fail(err, LK_EIO, "write %s: %s", path,
		    strerror(errno));
	if (fclose(out) != 0 && code == LK_OK)
		code = lk_fail(err, LK_EIO, "write %s: %s", path,
		    strerror(errno));
	if (code == LK_OK && rename(tmp, path) != 0)
		code = lk_fail(err, LK_EIO, "write %s: %s", path,
		    strerror(errno));
	if (code != LK_OK)
		unlink(tmp);
	free(tmp);
	return code == LK_OK ? 0 : cli_error(err);
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
	if (cli_open_store(cli, &s, &err) != LK_OK)
		return cli_error(&err);
	if (o.output != NULL && strcmp(o.output, "-") != 0) {
		rc = export_to_file(s, id, f, o.output, &err);
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
