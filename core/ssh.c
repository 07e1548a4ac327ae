/*
 * Other hosts through OpenSSH: quoting for the remote shell, ssh's argv,
 * and what a failed ssh said.  See ssh.h.
 */
#include "ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust.h"
#include "util.h"

const char *const lk_ssh_env[] = { "SSH_ASKPASS_REQUIRE=never", NULL };

void
lk_sh_quote(struct lk_buf *b, const char *s)
{
	lk_buf_addc(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			lk_buf_adds(b, "'\\''");
		else
			lk_buf_addc(b, *s);
	}
	lk_buf_addc(b, '\'');
}

void
lk_sh_join(struct lk_buf *b, const char *const *argv)
{
	for (size_t i = 0; argv[i] != NULL; i++) {
		if (i > 0)
			lk_buf_addc(b, ' ');
		lk_sh_quote(b, argv[i]);
	}
}

static bool
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	    c == ':' || c == '[' || c == ']';
}

bool
lk_ssh_host_ok(const char *host)
{
	const char *at = strchr(host, '@'), *name = at ? at + 1 : host;

	if (host[0] == '-' || host[0] == '@' || *name == '\0' ||
	    *name == '-' || strlen(host) > 255 ||
	    (at != NULL && strchr(name, '@') != NULL))
		return false;
	for (const char *p = host; *p != '\0'; p++)
		if (p != at && !host_char(*p))
			return false;
	return true;
}

char **
lk_ssh_argv(const char *config, const char *host, const char *command)
{
	char **argv = lk_xcalloc(9, sizeof *argv);
	size_t n = 0;

	argv[n++] = lk_xstrdup("ssh");
	if (config != NULL) {
		argv[n++] = lk_xstrdup("-F");
		argv[n++] = lk_xstrdup(config);
	}
	/* A binary channel: no X11 forwarding, no terminal (and so no
	 * escape character either). */
	argv[n++] = lk_xstrdup("-x");
	argv[n++] = lk_xstrdup("-T");
	argv[n++] = lk_xstrdup("--");
	argv[n++] = lk_xstrdup(host);
	argv[n++] = lk_xstrdup(command);
	return argv;
}

void
lk_ssh_argv_free(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

enum lk_code
lk_ssh_config_check(const char *path, struct lk_err *err)
{
	const char *base;
	char *dir = trust_split(path, &base);
	struct stat st;
	enum lk_code code;
	int fd = -1;

	if (dir == NULL)
		return lk_fail(err, LK_EINPUT, "ssh_config %s: not a file name",
		    path);
	code = trust_open_dir(dir, TRUST_STABLE, "ssh_config", &fd, NULL,
	    err);
	free(dir);
	if (code != LK_OK)
		return code;
	if (fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		code = lk_fail(err, errno == ENOENT ? LK_ENOTFOUND : LK_EIO,
		    "ssh_config %s: %s", path, strerror(errno));
	} else if (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode)) {
		code = lk_fail(err, LK_EINPUT, "ssh_config %s: not a regular "
		    "file (a link is not followed)", path);
	} else if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & 022) != 0) {
		struct passwd *pw = getpwuid(st.st_uid);
		char owner[64];

		if (pw != NULL)
			snprintf(owner, sizeof owner, "%s", pw->pw_name);
		else
			snprintf(owner, sizeof owner, "%u",
			    (unsigned)st.st_uid);
		code = lk_fail(err, LK_EINPUT, "ssh_config %s: others could "
		    "change it (owner %s, mode %04o); it must be root's or "
		    "yours, writable by nobody else, since it can make ssh "
		    "run anything", path, owner,
		    (unsigned)(st.st_mode & 07777));
	}
	close(fd);
	return code;
}

void
lk_ssh_last_line(const char *text, size_t len, char *out, size_t outlen)
{
	size_t end = text != NULL ? len : 0, start;

	out[0] = '\0';
	for (;;) {
		while (end > 0 && (text[end - 1] == '\n' ||
		    text[end - 1] == '\r' || text[end - 1] == ' '))
			end--;
		if (end == 0)
			return;
		start = end;
		while (start > 0 && text[start - 1] != '\n')
			start--;
		if (end > start)
			break;
	}
	snprintf(out, outlen, "%.*s", (int)(end - start), text + start);
}

void
lk_ssh_reason(const char *host, const char *what, int exit_status,
    int term_signal, const char *err, size_t len, char *out, size_t outlen)
{
	char line[256];

	lk_ssh_last_line(err, len, line, sizeof line);
	if (term_signal != 0)
		snprintf(out, outlen, "%s: ssh ended by signal %d%s%s", host,
		    term_signal, line[0] ? ": " : "", line);
	else if (exit_status == 255 || what == NULL)
		snprintf(out, outlen, "%s: %s", host, line[0] ? line :
		    "ssh failed (status 255) and said nothing");
	else
		snprintf(out, outlen, "%s: %s exited with status %d%s%s", host,
		    what, exit_status, line[0] ? ": " : "", line);
}

static bool
var_name_ok(const char *s, size_t n)
{
	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

/*
 * Reads "NAME\n" and "VALUE\n" pairs from stdin up to an empty line and
 * exports them.  A value is written as octal escapes for printf, so that
 * it is one line whatever bytes it holds; the "x" keeps the newlines at
 * its end from command substitution, which drops them.  The shell's read
 * takes one byte at a time from a pipe, so what follows the empty line
 * stays for the command.
 */
static const char env_preamble[] =
    "while IFS= read -r lookout_k && [ -n \"$lookout_k\" ]; do "
    "IFS= read -r lookout_v; lookout_v=$(printf \"${lookout_v}x\"); "
    "export \"$lookout_k=${lookout_v%x}\"; done; "
    "unset lookout_k lookout_v; ";

enum lk_code
lk_ssh_remote_command(struct lk_buf *cmd, struct lk_buf *in,
    const char *const *argv, const char *cwd, const char *const *env,
    const char *stdin_data, size_t stdin_len, struct lk_err *err)
{
	if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
		return lk_fail(err, LK_EINPUT, "no command to run");
	/* exec would take it for an option of its own (dash has no "--"). */
	if (argv[0][0] == '-')
		return lk_fail(err, LK_EINPUT, "a command for another host "
		    "cannot start with '-': %s", argv[0]);
	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		const char *eq = strchr(env[i], '=');

		if (eq == NULL || !var_name_ok(env[i], (size_t)(eq - env[i])))
			return lk_fail(err, LK_EINPUT, "environment entry for "
			    "another host is not NAME=VALUE with a variable "
			    "name: %.*s", (int)(eq ? eq - env[i] : 40), env[i]);
	}
	lk_buf_reset(cmd);
	lk_buf_reset(in);
	if (env != NULL && env[0] != NULL) {
		lk_buf_adds(cmd, env_preamble);
		for (size_t i = 0; env[i] != NULL; i++) {
			const char *eq = strchr(env[i], '=');

			lk_buf_printf(in, "%.*s\n", (int)(eq - env[i]), env[i]);
			for (const char *p = eq + 1; *p != '\0'; p++)
				lk_buf_printf(in, "\\%03o", (unsigned char)*p);
			lk_buf_addc(in, '\n');
		}
		lk_buf_addc(in, '\n');
	}
	if (stdin_data != NULL && stdin_len > 0)
		lk_buf_add(in, stdin_data, stdin_len);
	if (cwd != NULL) {
		lk_buf_adds(cmd, "cd -- ");
		lk_sh_quote(cmd, cwd);
		lk_buf_adds(cmd, " && ");
	}
	lk_buf_adds(cmd, "exec ");
	lk_sh_join(cmd, argv);
	return LK_OK;
}
