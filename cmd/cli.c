/*
 * Helpers every command shares: loading the configuration the command line
 * points at, with its problems printed the same way everywhere.
 */
#include "cli.h"
#include "../config/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
cli_load_config(struct cli *cli, struct config **cfg)
{
	struct config_diags diags = { 0 };
	struct lk_err err = { 0 };
	char *path = NULL;

	*cfg = NULL;
	if (config_find(cli->config, &path, &err) != LK_OK)
		return cli_error(&err);
	if (path != NULL && config_load(path, cfg, &diags, &err) != LK_OK) {
		for (size_t i = 0; i < diags.n; i++)
			fprintf(stderr, "%s\n", diags.lines[i]);
		if (diags.n == 0)
			cli_error(&err);
		config_diags_free(&diags);
		free(path);
		return 2;
	}
	free(path);
	return -1;
}

enum lk_code
cli_parse_id(const char *what, const char *s, int64_t *id, struct lk_err *err)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v <= 0)
		return lk_fail(err, LK_EUSAGE, "%s \"%s\" is not a positive "
		    "number", what, s);
	*id = v;
	return LK_OK;
}

int
cli_json_only(const char *cmd, int argc, char **argv, const char *help,
    bool *json)
{
	*json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			*json = true;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			fputs(help, stdout);
			return 0;
		} else {
			return cli_usage("%s: unexpected \"%s\"", cmd, argv[i]);
		}
	}
	return -1;
}
