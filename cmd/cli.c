/*
 * Helpers every command shares: errors and usage printed the same way
 * everywhere, options, ids, the timeline and the configuration the command
 * line points at.
 */
#include "cli.h"
#include "../config/config.h"
#include "../core/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

char *
cli_store_path(const struct cli *cli)
{
	return cli->db_path ? lk_xstrdup(cli->db_path) : store_default_path();
}

static enum lk_code
open_store(struct cli *cli, bool create, struct store **s, struct lk_err *err)
{
	struct lk_identity id;
	struct store_actor actor;
	char *path = cli_store_path(cli);
	enum lk_code code;

	lk_identity_detect(&id);
	actor.user = id.user;
	actor.from = id.from[0] ? id.from : NULL;
	actor.tty = id.tty[0] ? id.tty : NULL;
	code = create ? store_open(path, &actor, s, err) :
	    store_open_existing(path, &actor, s, err);
	free(path);
	return code;
}

enum lk_code
cli_open_store(struct cli *cli, struct store **s, struct lk_err *err)
{
	return open_store(cli, true, s, err);
}

enum lk_code
cli_read_store(struct cli *cli, struct store **s, struct lk_err *err)
{
	return open_store(cli, false, s, err);
}

int
cli_empty_list(const struct lk_err *err, bool json, const char *none)
{
	if (err->code != LK_ENOTFOUND)
		return cli_error(err);
	if (json)
		puts("[]");
	else
		printf("%s: %s\n", none, err->msg);
	return 0;
}

char *
cli_lock_dir(const struct store *s)
{
	/* Beside the timeline, in its private directory (store_dir). */
	return lk_xasprintf("%s/locks", store_dir(s));
}


void
cli_problem(const char *line)
{
	for (; *line != '\0'; line++) {
		if (*line == '\n')
			fputs("\\n", stderr);
		else if (*line == '\r')
			fputs("\\r", stderr);
		else
			fputc(*line, stderr);
	}
	fputc('\n', stderr);
}

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
			cli_problem(diags.lines[i]);
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

/* Joins argv[from..argc) with spaces, so unquoted words still work. */
char *
cli_join_words(int argc, char **argv, int from)
{
	struct lk_buf b = { 0 };

	for (int i = from; i < argc; i++) {
		if (i > from)
			lk_buf_addc(&b, ' ');
		lk_buf_adds(&b, argv[i]);
	}
	if (b.s == NULL)
		lk_buf_adds(&b, "");
	return b.s;
}

/*
 * Parses options with GNU getopt_long (which moves positional words to the
 * end), so "incident open disk full --severity P2" works as typed.
 * Returns -1 on success, else the exit status of a usage error.
 */
int
cli_parse_opts(const char *what, int argc, char **argv, const char *shorts,
    const struct option *opts, int (*on_opt)(int c, const char *arg, void *),
    void *arg)
{
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			if (optopt != 0 && optopt != '?')
				return cli_usage("%s: option -%c needs a value "
				    "or is unknown", what, optopt);
			return cli_usage("%s: unknown option or missing value "
			    "in \"%s\"", what, argv[optind - 1]);
		}
		if (on_opt(c, optarg, arg) != 0)
			return 2;
	}
	return -1;
}

int
cli_no_opt(int c, const char *val, void *arg)
{
	(void)c;
	(void)val;
	(void)arg;
	return 0;
}

const struct option cli_no_opts[] = { { NULL, 0, NULL, 0 } };


void
cli_print_text(FILE *out, const char *s)
{
	struct lk_buf b = { 0 };

	if (s == NULL)
		return;
	if (!cli_term_is(out)) {
		fputs(s, out);
		return;
	}
	lk_buf_add_term(&b, s, strlen(s), cli_term_utf8());
	if (b.s != NULL)
		fputs(b.s, out);
	lk_buf_free(&b);
}
