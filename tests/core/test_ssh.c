/*
 * core/ssh: quoting for the remote shell, proven with the shells
 * themselves.  Every quoted word is handed to a real sh (and bash, where
 * there is one) and must come back byte for byte, with nothing run.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ssh.h"
#include "util.h"

TestSuite(ssh, .timeout = 30);

/* Words no shell may act on. */
static const char *const hostile[] = {
	"'; touch /tmp/lookout-ssh-test-x; '",
	"$(id)",
	"`id`",
	"${HOME}",
	"\"double\" and 'single' quotes",
	"back\\slash\\",
	"line\nbreak\n",
	"\n",
	"* ? [a-z] ~ ~root",
	"a;b|c&d>e<f",
	"-n",
	"'",
	"''",
	"",
	"tab\there",
	"\xff\xfe not UTF-8 \xc0\xaf",
	"\x1b]0;title\x07",
	"!event",
	NULL,
};

/* Runs `shell -c script` with in on stdin; returns its stdout (len in
 * *n) and its exit status in *status.  The caller frees. */
static char *
run_shell(const char *shell, const char *script, const char *in, size_t inlen,
    size_t *n, int *status)
{
	int pin[2], pout[2];
	struct lk_buf out = { 0 };
	char buf[4096];
	ssize_t r;
	pid_t pid;

	cr_assert(pipe(pin) == 0 && pipe(pout) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		close(pin[1]);
		close(pout[0]);
		execl(shell, shell, "-c", script, (char *)NULL);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	/* Small enough for the pipe: the shell reads it whenever. */
	cr_assert(inlen < 60000);
	if (inlen > 0)
		cr_assert(write(pin[1], in, inlen) == (ssize_t)inlen);
	close(pin[1]);
	while ((r = read(pout[0], buf, sizeof buf)) > 0)
		lk_buf_add(&out, buf, (size_t)r);
	close(pout[0]);
	waitpid(pid, status, 0);
	*n = out.len;
	return out.s != NULL ? out.s : calloc(1, 1);
}

static const char *const shells[] = { "/bin/sh", "/bin/bash", "/bin/dash",
    NULL };

Test(ssh, every_hostile_word_reaches_the_program_as_one_argument)
{
	struct lk_buf script = { 0 }, want = { 0 };
	struct stat st;

	lk_buf_adds(&script, "printf '%s\\0' ");
	lk_sh_join(&script, hostile);
	for (size_t i = 0; hostile[i] != NULL; i++)
		lk_buf_add(&want, hostile[i], strlen(hostile[i]) + 1);
	unlink("/tmp/lookout-ssh-test-x");
	for (size_t k = 0; shells[k] != NULL; k++) {
		size_t n;
		int status;
		char *got;

		if (access(shells[k], X_OK) != 0)
			continue;
		got = run_shell(shells[k], script.s, NULL, 0, &n, &status);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "%s failed", shells[k]);
		cr_expect_eq(n, want.len, "%s: %zu bytes, want %zu", shells[k],
		    n, want.len);
		cr_expect(n == want.len && memcmp(got, want.s, n) == 0,
		    "%s changed a word", shells[k]);
		free(got);
	}
	cr_expect(stat("/tmp/lookout-ssh-test-x", &st) != 0,
	    "a quoted word ran a command");
	lk_buf_free(&script);
	lk_buf_free(&want);
}

Test(ssh, every_byte_but_nul_passes)
{
	char all[256];
	struct lk_buf script = { 0 };
	size_t n;
	int status;
	char *got;

	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	lk_buf_adds(&script, "printf '%s' ");
	lk_sh_quote(&script, all);
	got = run_shell("/bin/sh", script.s, NULL, 0, &n, &status);
	cr_expect_eq(n, 255);
	cr_expect(n == 255 && memcmp(got, all, 255) == 0);
	free(got);
	lk_buf_free(&script);
}

Test(ssh, quoting_is_single_quotes_and_nothing_else)
{
	struct lk_buf b = { 0 };

	lk_sh_quote(&b, "it's");
	cr_expect_str_eq(b.s, "'it'\\''s'");
	lk_buf_reset(&b);
	lk_sh_quote(&b, "");
	cr_expect_str_eq(b.s, "''");
	lk_buf_reset(&b);
	lk_sh_join(&b, (const char *const[]){ "a b", "$x", NULL });
	cr_expect_str_eq(b.s, "'a b' '$x'");
	lk_buf_free(&b);
}

Test(ssh, host_names)
{
	static const char *const good[] = { "alias1", "db-1.example.com",
	    "root@10.0.0.1", "deploy@web_2", "[::1]", "fe80::1", NULL };
	static const char *const bad[] = { "", "-oProxyCommand=id", "a b",
	    "a;b", "$(id)", "`id`", "a'b", "host\n", "u@-x", "@host", "a@b@c",
	    "%h", "user@", "\x1b[2J", "h\xc3\xa9", NULL };

	for (size_t i = 0; good[i] != NULL; i++)
		cr_expect(lk_ssh_host_ok(good[i]), "refused %s", good[i]);
	for (size_t i = 0; bad[i] != NULL; i++)
		cr_expect(!lk_ssh_host_ok(bad[i]), "took %s", bad[i]);
}

Test(ssh, argv_ends_options_before_the_host)
{
	char **a = lk_ssh_argv("/etc/x", "alias1", "true");
	const char *want[] = { "ssh", "-F", "/etc/x", "-x", "-T", "--",
	    "alias1", "true", NULL };

	for (size_t i = 0; want[i] != NULL; i++)
		cr_expect_str_eq(a[i], want[i]);
	cr_expect_null(a[8]);
	lk_ssh_argv_free(a);
	a = lk_ssh_argv(NULL, "alias1", "true");
	cr_expect_str_eq(a[1], "-x");
	lk_ssh_argv_free(a);
}

/*
 * The command for another host, run here by sh: the program gets the
 * hostile words as its argv, the environment with the secrets that never
 * were on a command line, and its stdin after them, intact.
 */
Test(ssh, remote_command_runs_argv_with_env_from_stdin)
{
	static const char *const env[] = { "TOKEN=s3cr'et $(id)\nline2\n",
	    "EMPTY=", "BIN=\x01\xff\\101", "PCT=100%s %d %% \\n", NULL };
	struct lk_buf cmd = { 0 }, in = { 0 }, want = { 0 };
	struct lk_err err = { 0 };
	const char *argv[] = { "sh", "-c", "printf '%s\\0' \"$@\"; "
	    "printf '%s\\0' \"$TOKEN\" \"$EMPTY\" \"$BIN\" \"$PCT\"; cat", "x",
	    "$(id)", "'; touch /tmp/lookout-ssh-test-x; '", "a\nb", NULL };
	const char stdin_data[] = "the command's own stdin\n\nwith a blank "
	    "line\n";
	struct stat st;
	size_t n;
	int status;
	char *got;

	unlink("/tmp/lookout-ssh-test-x");
	cr_assert_eq(lk_ssh_remote_command(&cmd, &in, argv, "/", env,
	    stdin_data, strlen(stdin_data), &err), LK_OK, "%s", err.msg);
	/* No value of env is on the command line. */
	cr_expect_null(strstr(cmd.s, "s3cr"));
	cr_expect_null(strstr(cmd.s, "\xff"));
	for (size_t i = 4; argv[i] != NULL; i++)
		lk_buf_add(&want, argv[i], strlen(argv[i]) + 1);
	for (size_t i = 0; env[i] != NULL; i++) {
		const char *v = strchr(env[i], '=') + 1;

		lk_buf_add(&want, v, strlen(v) + 1);
	}
	lk_buf_adds(&want, stdin_data);
	for (size_t k = 0; shells[k] != NULL; k++) {
		if (access(shells[k], X_OK) != 0)
			continue;
		got = run_shell(shells[k], cmd.s, in.s, in.len, &n, &status);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "%s: status %d", shells[k], status);
		cr_expect(n == want.len && memcmp(got, want.s, n) == 0,
		    "%s: got %zu bytes, want %zu", shells[k], n, want.len);
		free(got);
	}
	cr_expect(stat("/tmp/lookout-ssh-test-x", &st) != 0);
	lk_buf_free(&cmd);
	lk_buf_free(&in);
	lk_buf_free(&want);
}

Test(ssh, remote_command_refuses_what_it_cannot_run_so)
{
	struct lk_buf cmd = { 0 }, in = { 0 };
	struct lk_err err = { 0 };

	cr_expect_eq(lk_ssh_remote_command(&cmd, &in, (const char *[]){
	    "-x", NULL }, NULL, NULL, NULL, 0, &err), LK_EINPUT);
	cr_expect_eq(lk_ssh_remote_command(&cmd, &in, (const char *[]){
	    "true", NULL }, NULL, (const char *[]){ "A B=1", NULL }, NULL, 0,
	    &err), LK_EINPUT);
	cr_expect_eq(lk_ssh_remote_command(&cmd, &in, (const char *[]){
	    "true", NULL }, NULL, (const char *[]){ "$(id)=1", NULL }, NULL, 0,
	    &err), LK_EINPUT);
	cr_expect_eq(lk_ssh_remote_command(&cmd, &in, (const char *[]){
	    "true", NULL }, NULL, NULL, NULL, 0, &err), LK_OK);
	cr_expect_str_eq(cmd.s, "exec 'true'");
	cr_expect_eq(in.len, 0);
	lk_buf_free(&cmd);
	lk_buf_free(&in);
}

Test(ssh, a_failed_ssh_is_its_last_line)
{
	char out[256];
	const char e1[] = "Warning: Permanently added 'x' to the list of known "
	    "hosts.\r\nssh: connect to host 127.0.0.1 port 1: Connection "
	    "refused\r\n\n";
	const char e2[] = "sh: 1: systemd-stdio-bridge: not found\n";

	lk_ssh_reason("alias1", "systemd-stdio-bridge", 255, 0, e1,
	    strlen(e1), out, sizeof out);
	cr_expect_str_eq(out, "alias1: ssh: connect to host 127.0.0.1 port 1: "
	    "Connection refused");
	lk_ssh_reason("alias1", "systemd-stdio-bridge", 127, 0, e2,
	    strlen(e2), out, sizeof out);
	cr_expect_str_eq(out, "alias1: systemd-stdio-bridge exited with "
	    "status 127: sh: 1: systemd-stdio-bridge: not found");
	lk_ssh_reason("alias1", NULL, 255, 0, "", 0, out, sizeof out);
	cr_expect_str_eq(out, "alias1: ssh failed (status 255) and said "
	    "nothing");
}

Test(ssh, an_ssh_config_others_can_write_is_refused)
{
	char dir[] = "/tmp/lookout-ssh-XXXXXX", path[64];
	struct lk_err err = { 0 };
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/config", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("Host x\n", f);
	fclose(f);
	chmod(path, 0644);
	cr_expect_eq(lk_ssh_config_check(path, &err), LK_OK, "%s", err.msg);
	chmod(path, 0666);
	cr_expect_eq(lk_ssh_config_check(path, &err), LK_EINPUT);
	cr_expect(strstr(err.msg, "mode 0666") != NULL, "%s", err.msg);
	unlink(path);
	cr_expect_eq(lk_ssh_config_check(path, &err), LK_ENOTFOUND);
	rmdir(dir);
}
