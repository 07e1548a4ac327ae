/*
 * Helpers every command shares: loading the configuration the command line
 * points at, with its problems printed the same way everywhere.
 */
#include "cli.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

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
