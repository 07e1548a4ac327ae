/*
 * Other hosts, through OpenSSH: the one place that writes text from
 * outside into a command line for a remote shell.
 *
 * ssh joins the words after the host into one string and hands it to the
 * remote user's login shell, so an argv on the other side exists only as
 * shell text.  Every word that comes from outside (a unit name, a runbook
 * parameter, a path systemd reported) is quoted here, by lk_sh_quote(),
 * and by nothing else: a parameter "'; touch /tmp/x" or "$(id)" reaches
 * the remote program as one argument and nothing else runs.  The remote
 * login shell must be a POSIX shell (sh, dash, bash, ksh, zsh), as scp and
 * rsync assume; csh and fish read quotes differently.
 *
 * lookout adds to ssh only what the connection itself needs: -x and -T
 * (a binary channel: no X11, no terminal), -F with the configuration's
 * ssh_config, and "--" before the destination.  The user's ssh
 * configuration (keys, ProxyJump, ControlMaster, ConnectTimeout) applies
 * as it does to their own ssh, and a ControlMaster is reused when it has
 * one.  Passwords and host key questions cannot be answered: ssh runs
 * without a terminal, so it fails at once instead of waiting for a person.
 */
#ifndef LK_SSH_H
#define LK_SSH_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct lk_buf;

/*
 * Appends s as one word for a POSIX shell: inside single quotes, where
 * nothing is special but the single quote itself, which is written '\''.
 * Every byte but NUL passes as it is (newlines, backquotes, "$(...)",
 * bytes that are not UTF-8); "" becomes ''.
 */
void lk_sh_quote(struct lk_buf *b, const char *s);

/* Appends each word of the NULL-terminated argv, quoted, one space apart. */
void lk_sh_join(struct lk_buf *b, const char *const *argv);

/*
 * Whether host names an ssh destination and nothing else: an ssh_config
 * alias or a host name, optionally "user@" before it; letters, digits,
 * '.', '_', '-', and ':' with '[' ']' for an address.  Never with a
 * leading '-' (ssh would read an option), spaces, '%' (ssh_config's
 * tokens) or anything a terminal or a shell would act on.
 */
bool lk_ssh_host_ok(const char *host);

/*
 * The argv of ssh running command (shell text, quoted already) on host:
 * ssh [-F config] -x -T -- host command.  NULL-terminated; the caller
 * frees it with lk_ssh_argv_free().
 */
char **lk_ssh_argv(const char *config, const char *host, const char *command);
void lk_ssh_argv_free(char **argv);

/*
 * The environment every ssh of lookout's gets on top of lookout's own:
 * SSH_ASKPASS_REQUIRE=never, so that without a terminal ssh fails rather
 * than starting an askpass program.  NULL-terminated, static.
 */
extern const char *const lk_ssh_env[];

/*
 * Checks the file lookout names to ssh with -F.  ssh reads it as the
 * invoker without asking who could have written it, and it can make ssh
 * run anything (ProxyCommand, LocalCommand), so it must be a regular file
 * of root's or the invoker's that nobody else may write, in directories
 * only they can change (core/trust.h).  Returns LK_OK, or LK_EINPUT /
 * LK_ENOTFOUND naming the path at fault.
 */
enum lk_code lk_ssh_config_check(const char *path, struct lk_err *err);

/* The last line of text[0..len) that says something, trimmed; "" when
 * none (text may be NULL). */
void lk_ssh_last_line(const char *text, size_t len, char *out, size_t outlen);

/*
 * What a failed ssh said, in one line for a reason: the last line of its
 * stderr (err, len bytes) that says something, after "host: ", e.g.
 * "alias1: ssh: connect to host 127.0.0.1 port 22: Connection refused".
 * exit_status 255 is ssh's own failure; another is the remote command's,
 * and what names it (what, "systemd-stdio-bridge") is said with it.
 */
void lk_ssh_reason(const char *host, const char *what, int exit_status,
    int term_signal, const char *err, size_t len, char *out, size_t outlen);

/*
 * The shell text that runs argv on the other side the way core/child.c
 * runs it here: in cwd (or the login directory), with env ("K=V" entries,
 * K a shell variable name) set, argv[0] looked up in the remote PATH and
 * exec'd, never a shell builtin or function.  Every word is quoted with
 * lk_sh_quote().  Values of env are secrets as often as not, so they do
 * not go on the command line, where anyone on either host can read them
 * (ps, /proc/PID/cmdline): they travel on the command's stdin, ahead of
 * stdin_data, one variable a line, and a fixed preamble reads them there
 * before exec; *in receives what to write to ssh's stdin.  Returns
 * LK_EINPUT for what cannot be run so (argv[0] with a leading '-', an env
 * name that is not a variable name).
 */
enum lk_code lk_ssh_remote_command(struct lk_buf *cmd, struct lk_buf *in,
    const char *const *argv, const char *cwd, const char *const *env,
    const char *stdin_data, size_t stdin_len, struct lk_err *err);

#endif
