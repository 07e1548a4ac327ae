/* The command line: shared state and the commands' entry points. */
#ifndef LK_CLI_H
#define LK_CLI_H

#include "../store/store.h"

struct cli {
	const char *prog;
	const char *db_path;	/* --db, or NULL for the default */
	const char *config;	/* --config, or NULL */
};

/* Each command takes the arguments after its own name and returns the
 * process exit status. */
int cmd_incident(struct cli *cli, int argc, char **argv);
int cmd_verify(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_replay(struct cli *cli, int argc, char **argv);
int cmd_runs(struct cli *cli, int argc, char **argv);
int cmd_runbooks(struct cli *cli, int argc, char **argv);

/* Prints "lookout: <message>" on stderr and returns the exit status. */
int cli_error(const struct lk_err *err);
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Opens the timeline the command line points at, as the current user. */
enum lk_code cli_open_store(struct cli *cli, struct store **s,
    struct lk_err *err);

struct config;

/*
 * Finds and loads the configuration (--config, $LOOKOUT_CONFIG, ...); no
 * configuration is fine (*cfg stays NULL).  Returns -1 on success, else
 * the exit status after printing every problem as file:line: message.
 */
int cli_load_config(struct cli *cli, struct config **cfg);

/* Parses a positive id; what names it in the error ("run id"). */
enum lk_code cli_parse_id(const char *what, const char *s, int64_t *id,
    struct lk_err *err);

/*
 * For commands whose only option is --json: sets *json, prints help for
 * -h/--help.  Returns -1 to go on, else the exit status.
 */
int cli_json_only(const char *cmd, int argc, char **argv, const char *help,
    bool *json);

/* True if argv asks for help ("-h" or "--help") before any "--". */
int cli_wants_help(int argc, char **argv);

#endif
