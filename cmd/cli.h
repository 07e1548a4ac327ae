/*
 * The command line: the command table, the state the commands share, and
 * their common helpers.  Private to cmd/.
 */
#ifndef LK_CLI_H
#define LK_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../runbooks/runbooks.h"
#include "../store/store.h"

struct cli {
	const char *prog;
	const char *db_path;	/* --db, or NULL for the default */
	const char *config;	/* --config, or NULL */
};

/* The headings of `lookout --help`, in the order they are printed. */
#define CMD_GROUP_CONSOLE	"The console"
#define CMD_GROUP_TIMELINE	"Incidents and their timeline"
#define CMD_GROUP_CONFIG	"State and configuration"
#define CMD_GROUP_RUNBOOKS	"Runbooks"

/*
 * One command, as tmux's cmd_entry: main() finds it by name, prints its
 * usage in `lookout --help` and its help for `lookout NAME --help`, so
 * adding a command is one file and one row of cmd_table (main.c).  The
 * man page and the shell completion are checked against the same table.
 */
struct cmd_entry {
	const char *name;
	const char *group;	/* a CMD_GROUP_* heading */
	/*
	 * Its forms without "lookout ", one per line.  The shell completion
	 * reads its actions, options and operands from here (`lookout
	 * complete`), so every option goes in: "[--opt]" is a flag, "[--opt
	 * VALUE]" takes a value, a lower-case second word ("open",
	 * "ack|close") is an action, and an operand's placeholder says what
	 * completes it: ID an incident, RUN_ID a run, RUNBOOK a runbook, FILE
	 * a file, "a|b" one of those words.
	 */
	const char *usage;
	/* What it does, when its usage alone does not say; or NULL.  Lines
	 * after the first are indented under it. */
	const char *summary;
	const char *help;	/* the full text of NAME --help */
	/* Takes the arguments from its own name on; returns the exit status. */
	int (*exec)(struct cli *cli, int argc, char **argv);
	/*
	 * For scripts, not people: left out of `lookout --help` (and so of
	 * the man page's check).  Only `lookout complete` is, the words the
	 * shell completion offers, one per line (cmd_complete.c).
	 */
	bool hidden;
};

/* Every command, in `lookout --help` order; NULL-terminated (main.c). */
extern const struct cmd_entry *const cmd_table[];

extern const struct cmd_entry cmd_console_entry;
extern const struct cmd_entry cmd_incident_entry;
extern const struct cmd_entry cmd_export_entry;
extern const struct cmd_entry cmd_verify_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_check_entry;
extern const struct cmd_entry cmd_watch_entry;
extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_replay_entry;
extern const struct cmd_entry cmd_runs_entry;
extern const struct cmd_entry cmd_runbooks_entry;
extern const struct cmd_entry cmd_complete_entry;

/* Prints "lookout: <message>" on stderr and returns the exit status. */
int cli_error(const struct lk_err *err);
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The timeline the command line points at: --db, else the default.  The
 * caller frees it. */
char *cli_store_path(const struct cli *cli);

/* Opens the timeline the command line points at, as the current user,
 * creating it if need be. */
enum lk_code cli_open_store(struct cli *cli, struct store **s,
    struct lk_err *err);
/* The same for a command that only reads, or needs something recorded
 * already: it creates nothing ("no timeline at PATH", LK_ENOTFOUND). */
enum lk_code cli_read_store(struct cli *cli, struct store **s,
    struct lk_err *err);
/*
 * For a list command that found no timeline (err from cli_read_store):
 * an empty list, "[]" with json or "<none>: no timeline at PATH", exit 0;
 * any other error is printed as cli_error() does.
 */
int cli_empty_list(const struct lk_err *err, bool json, const char *none);
/* Where the runbook locks of the timeline s are; the caller frees it. */
char *cli_lock_dir(const struct store *s);

/*
 * Prints one problem of a file as one line on stderr, as "file:line:
 * message" readers expect: a line break in the message (the file's own
 * error("...\n...")) is folded into "\n".
 */
void cli_problem(const char *line);

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

/*
 * Parses options with GNU getopt_long, calling on_opt(c, optarg, arg) for
 * each; what names the command in errors.  Returns -1 on success (optind
 * is the first word left), else the exit status of a usage error.
 */
int cli_parse_opts(const char *what, int argc, char **argv,
    const char *shorts, const struct option *opts,
    int (*on_opt)(int c, const char *arg, void *), void *arg);
/* For commands without options. */
extern const struct option cli_no_opts[];
int cli_no_opt(int c, const char *val, void *arg);

/* argv[from..argc) joined with spaces, so unquoted words still work; the
 * caller frees it. */
char *cli_join_words(int argc, char **argv, int from);

/*
 * Writes text from outside (a title, a note) that should read as one line:
 * on a terminal (cli_term_is) a line break in it shows as "^J" instead of
 * starting a line that looks like the next row; elsewhere it is written
 * as it is.
 */
void cli_print_text(FILE *out, const char *s);

/* --- the terminal (term.c) ------------------------------------------------ */

/*
 * Makes stderr, where it is a terminal, a stream that escapes every
 * control character, bidirectional override and byte that is not UTF-8
 * but the line ends, as lk_term_filter() does.  Called once, from main(),
 * before anything is printed.
 */
void cli_term_setup(void);
/* The same for stdout, for every command but the console, whose screen is
 * curses' to draw (and escape: tui/draw.c). */
void cli_term_stdout(void);
/* Whether f is one of those streams. */
bool cli_term_is(FILE *f);
/* Whether the terminal takes UTF-8 (its locale's character set). */
bool cli_term_utf8(void);
/* An unbuffered stream of the same kind on the terminal fd, which stays
 * open when the stream is closed (the prompts on /dev/tty). */
FILE *cli_term_open(int fd);

/* --- running runbooks (runner.c) ------------------------------------------ */

/* What run, replay and runs open: config, timeline, loop, probes. */
struct cli_session {
	struct config *cfg;
	struct store *store;
	struct loop *loop;
	struct probes *probes;
	char *lock_dir;
};

/* Opens config (optional), timeline (creating it when create is set) and
 * loop; starts the probes when probes is set and the config watches
 * anything.  Returns -1 on success, else the exit status (the session is
 * then closed). */
int cli_session_open(struct cli *cli, struct cli_session *s, bool create,
    bool probes);
void cli_session_close(struct cli_session *s);

/* Runs book (which the run takes) to its end on the terminal; returns the
 * run's exit status. */
int cli_drive_run(struct cli_session *s, struct rb_book *book,
    struct rb_run_opts *o, bool json);

struct cli_run_args {
	struct rb_run_opts o;
	bool json;
	const char **params;	/* owned: free it */
	const char *runbook;
	const char *id_text;
};

/* The arguments of run (replay false) or replay.  Returns -1 to go on,
 * else the exit status. */
int cli_parse_run_args(const char *cmd, int argc, char **argv,
    struct cli_run_args *a, bool replay);

#endif
