/*
 * child: the process runner behind sh{...}, driven by a real loop and real
 * commands.  /bin/sh -c builds scenarios here; the runner never uses one.
 */
#include "child.h"
#include "loop.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct loop	*lp;
static char		 tmpdir[] = "/tmp/lookout-child-XXXXXX";

static void
setup(void)
{
	lp = loop_new();
	cr_assert_not_null(lp);
	cr_assert_not_null(mkdtemp(tmpdir));
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static void
teardown(void)
{
	loop_free(&lp);
	nftw(tmpdir, rm_entry, 8, FTW_DEPTH|FTW_PHYS);
}

TestSuite(child, .init = setup, .fini = teardown, .timeout = 30);

/* What a done callback saw, copied: the result is only valid inside it. */
struct got {
	int	 calls;
	struct child_result r;
	char	*out;
	char	*err;
	char	*spawn_error;
};

static void
done_cb(const struct child_result *r, void *data)
{
	struct got	*g = data;

	g->calls++;
	g->r = *r;
	g->out = strndup(r->out, r->out_len);
	g->err = strndup(r->err, r->err_len);
	g->spawn_error = r->spawn_error != NULL ? strdup(r->spawn_error) : NULL;
	g->r.out = g->r.err = g->r.spawn_error = NULL;
}

static void
got_free(struct got *g)
{
	free(g->out);
	free(g->err);
	free(g->spawn_error);
}

static struct child *
start(const struct child_opts *o, struct got *g)
{
	struct child	*c = NULL;
	struct lk_err	 err = { 0 };
	enum lk_code	 code;

	code = child_start(lp, o, done_cb, g, &c, &err);
	cr_assert_eq(code, LK_OK, "child_start: %s", err.msg);
	cr_assert_not_null(c);
	cr_assert_eq(g->calls, 0, "the callback never runs inside child_start");
	return c;
}

static void
wait_for(struct got *g)
{
	while (g->calls == 0)
		cr_assert_geq(loop_run_once(lp, 1000), 0);
	cr_assert_eq(g->calls, 1);
}

static void
run(const struct child_opts *o, struct got *g)
{
	start(o, g);
	wait_for(g);
}

static char *
tmp_path(const char *name)
{
	static char	buf[PATH_MAX];

	snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
	return buf;
}

/* Gone, or a zombie waiting for a reaper that is not us. */
static bool
proc_gone(pid_t pid)
{
	char	 path[64], buf[512], *p;
	FILE	*f;
	size_t	 n;
	int	 i;

	for (i = 0; i < 50; i++) {
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		if ((f = fopen(path, "r")) == NULL)
			return true;
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' &&
		    p[2] == 'Z')
			return true;
		usleep(20000);
	}
	return false;
}

/* Exit status and output. */

Test(child, exit_status_and_output)
{
	const char	*argv[] = { "/bin/sh", "-c",
	    "echo out; echo err >&2; exit 3", NULL };
	struct child_opts o = { .argv = argv };
	struct got	 g = { 0 };

	run(&o, &g);
	cr_expect_eq(g.r.exit_status, 3);
	cr_expect_eq(g.r.term_signal, 0);
	cr_expect_str_eq(g.out, "out\n");
	cr_expect_str_eq(g.err, "err\n");
	cr_expect_eq(g.r.out_total, 4);
	cr_expect_not(g.r.out_truncated);
	cr_expect_not(g.r.timed_out);
	cr_expect_not(g.r.cancelled);
	cr_expect_null(g.spawn_error);
	cr_expect_gt(g.r.pid, 0);
	got_free(&g);
}

Test(child, path_lookup_and_exit_zero)
{
	const char	*argv[] = { "echo", "hello", NULL };
	struct child_opts o = { .argv = argv };
	struct got	 g = { 0 };

	run(&o, &g);
	cr_expect_eq(g.r.exit_status, 0);
	cr_expect_str_eq(g.out, "hello\n");
	got_free(&g);
}

Test(child, sigchld_fallback_works_too)
{
	const char	*argv[] = { "/bin/sh", "-c", "echo fallback; exit 5",
	    NULL };
	struct child_opts o = { .argv = argv };
	struct got	 g = { 0 };

	loop_free(&lp);
	setenv("LOOKOUT_LOOP_NO_PIDFD", "1", 1);
	lp = loop_new();
	cr_assert_not_null(lp);
	run(&o, &g);
	cr_expect_eq(g.r.exit_status, 5);
	cr_expect_str_eq(g.out, "fallback\n");
	got_free(&g);
}

/* No shell: hostile parameters are single arguments. */

Test(child, hostile_arguments_are_single_argv_elements)
{
	char		 a1[PATH_MAX + 16], a2[PATH_MAX + 16];
	const char	*argv[] = { "printf", "[%s]\\n", a1, a2, "$(id)",
	    "a\nb", "-rf", "`id`", "*", NULL };
	struct child_opts o = { .argv = argv };
	struct got	 g = { 0 };
	char		 want[4 * PATH_MAX];

	snprintf(a1, sizeof a1, "; touch %s", tmp_path("x"));
	snprintf(a2, sizeof a2, "$(touch %s)", tmp_path("y"));
	run(&o, &g);
	cr_expect_eq(g.r.exit_status, 0, "stderr: %s", g.err);
	snprintf(want, sizeof want, "[%s]\n[%s]\n[$(id)]\n[a\nb]\n[-rf]\n"
	    "[`id`]\n[*]\n", a1, a2);
	cr_expect_str_eq(g.out, want);
	cr_expect_neq(access(tmp_path("x"), F_OK), 0, "nothing else ran");
	cr_expect_neq(access(tmp_path("y"), F_OK), 0, "nothing else ran");
	got_free(&g);
}

Test(child, hostile_program_name_is_not_a_command_line)
{
	char		 name[PATH_MAX + 16];
	const char	*argv[] = { name, NULL };
	struct child_opts o = { .argv = argv };
	struct got	 g = { 0 };

	snprintf(name, sizeof name, "true; touch %s", tmp_path("x"));
	run(&o, &g);
	cr_expect_not_null(g.spawn_error);
	cr_expect_eq(g.r.exit_status, -1);
	cr_expect_neq(access(tmp_path("x"), F_OK), 0, "nothing else ran");
	got_free(&g);
}

/* Environment, cwd, stdin. */

Test(child, env_entries_reach_the_child)
{
	const char	*argv[] = { "/bin/sh", "-c",
	    "printf '%s|%s|%s|%s' \"$LK_A\" \"$LK_B\" \"$LK_OVR\" \"$LK_KEEP\"",
	    NULL };
	const char	*env[] = { "LK_A=1", "LK_B=x y; $(id)", "LK_OVR=old",
	    "LK_OVR=new", NULL };
	struct child_opts o = { .argv = argv, .env = env };
	struct got	 g = { 0 };

	setenv("LK_OVR", "inherited", 1);
	setenv("LK_KEEP", "kept", 1);
	run(&o, &g);
	cr_expect_str_eq(g.out, "1|x y; $(id)|new|kept");
	got_free(&g);
}

Test(child, env_path_is_used_for_lookup)
{
	const char	*argv[] = { "lk-test-prog", NULL };
	char		 pathvar[PATH_MAX + 8];
	const char	*env[] = { pathvar, NULL };
	struct child_opts o = { .argv = argv, .env = env };
	struct got	 g = { 0 };
	FILE		*f;

	f = fopen(tmp_path("lk-test-prog"), "w");
	cr_assert_not_null(f);
	fputs("#!/bin/sh\necho found\n", f);
	fclose(f);
	cr_assert_eq(chmod(tmp_path("lk-test-prog"), 0755), 0);
	snprintf(pathvar, sizeof pathvar, "PATH=/nonexistent:%s:/bin", tmpdir);
	run(&o, &g);
	cr_expect_null(g.spawn_error, "%s", g.spawn_error);
	cr_expect_str_eq(g.out, "found\n");
	got_free(&g);
}

Test(child, bad_env_entry_is_refused)
{
	const char	*argv[] = { "true", NULL };
	const char	*env[] = { "NOEQUALS", NULL };
	struct child_opts o = { .argv = argv, .env = env };
	struct got	 g = { 0 };
	struct child	*c = (struct child *)1;
	struct lk_err	 err = { 0 };

	cr_expect_eq(child_start(lp, &o, done_cb, &g, &c, &err), LK_EINPUT);
	cr_expect_null(c);
	cr_expect_neq(strstr(err.msg, "NOEQUALS"), NULL, "%s", err.msg);
	cr_expect_eq(g.calls, 0);
}

Test(child, empty_argv_is_refused)
{
	const char	*none[] = { NULL };
	const char	*empty[] = { "", NULL };
	struct child_opts o = { .argv = NULL };
	struct got	 g = { 0 };
	struct lk_err	 err = { 0 };

	cr_expect_eq(child_start(lp, &o, done_cb, &g, NULL, &err), LK_EINPUT);
	o.argv = none;
	cr_expect_eq(child_start(lp, &o, done_cb, &g, NULL, &err), LK_EINPUT);
	o.argv = empty;
	cr_expect_eq(child_start(lp, &o, done_cb, &g, NULL, &err), LK_EINPUT);
	cr_expect_eq(loop_run_once(lp, 50), 0);
	cr_expect_eq(g.calls, 0);
}

Test(child, cwd_is_used)
{
	const char	*argv[] = { "pwd", "-P", NULL };
	struct child_opts o = { .argv = argv, .cwd = tmpdir };
	struct got	 g = { 0 };
	char		 real[PATH_MAX], want[PATH_MAX + 2];

	cr_assert_not_null(realpath(tmpdir, real));
	snprintf(want, sizeof want, "%s\n", real);
	run(&o, &g);
	cr_expect_str_eq(g.out, want);
	got_free(&g);
}

Test(child, missing_cwd_is_a_spawn_error)
{
	const char	*argv[] = { "true", NULL };
	struct child_opts o = { .argv = argv, .cwd = "/nonexistent/lk" };
	struct got	 g = { 0 };

	run(&o, &g);
	cr_assert_not_null(g.spawn_error);
	cr_expect_str_eq(g.spawn_error,
	    "cannot run true: cd /nonexistent/lk: No such file or directory");
	cr_expect_eq(g.r.exit_status, -1);
	got_free(&g);
}

Test(child, stdin_data_reaches_the_child_but_not_its_cmdline)
{
	static const char secret[] = "hunter2-s3cret";
	const char	*argv[] = { "/bin/sh", "-c",
	    "cat; tr '\\0' ' ' < /proc/$$/cmdline >&2", NULL };
	struct child_opts o = { .argv = argv, .stdin_data = secret,
	    .stdin_len = strlen(secret) };
	struct got	 g = { 0 };

	run(&o, &g);
	cr_expect_str_eq(g.out, secret);
	cr_expect_neq(strstr(g.err, "/bin/sh -c"), NULL, "cmdline: %s", g.err);
	cr_expect_null(strstr(g.err, secret), "cmdline: %s", g.err);
	got_free(&g);
}

Test(child, large_stdin_is_written_without_blocking)
{
	const char	*argv[] = { "wc", "-c", NULL };
	size_t		 n = 1024 * 1024;
	char		*data = malloc(n);
	struct child_opts o = { .argv = argv, .stdin_len = n };
	struct got	 g = { 0 };

	memset(data, 'x', n);
	o.stdin_data = data;
	run(&o, &g);
	cr_expect_eq(atol(g.out), (long)n, "wc said %s", g.out);
	free(data);
	got_free(&g);
}

Test(child, unread_stdin_does_not_kill_us)
{
	const char	*argv[] = { "true", NULL };
	size_t		 n = 1024 * 1024;
	char		*data = calloc(1, n);
	struct child_opts o = { .argv = argv, .stdin_data = data,
	    .stdin_len = n };
	struct got	 g = { 0 };

	signal(SIGPIPE, SIG_DFL);
	run(&o, &g);
	cr_expect_eq(g.r.exit_status, 0);
	free(data);
	got_free(&g);
}

Test(child, no_stdin_data_means_dev_null)
{
	const char	*argv[] = { "cat", NULL };
	struct child_opts o = { .argv = argv };
	struct got	 g = { 0 };

	run(&o, &g);
	cr_expect_eq(g.r.exit_status, 0);
	cr_expect_str_eq(g.out, "");
	got_free(&g);
}

/* What the child inherits. */

Test(child, only_stdio_fds_are_inherited)
{
	const char	*argv[] = { "/bin/sh", "-c",
	    "cd /proc/self/fd && echo *", NULL };
	struct child_opts o = { .argv = argv };
	struct got	 g = { 0 };
	int		 leak;

	/* A library's fd without O_CLOEXEC must not reach the command. */
	leak = open("/dev/null", O_RDONLY);
	cr_assert_geq(leak, 3);
	run(&o, &g);
	/* The 3 is the directory echo's glob reads; sh holds nothing else. */
	cr_expect_str_eq(g.out, "0 1 2 3\n");
	close(leak);
	got_free(&g);
}

Test(child, signal_state_is_reset)
{
	const char	*argv[] = { "grep", "-E", "^Sig(Blk|Ign)",
	    "/proc/self/status", NULL };
	struct child_opts o = { .argv = argv };
	struct got	 g = { 0 };
	sigset_t	 set;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	run(&o, &g);
	cr_expect_str_eq(g.out,
	    "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
	got_free(&g);
}

Test(child, runs_in_its_own_process_group)
{
	const char	*argv[] = { "/bin/sh", "-c",
	    "ps -o pgid= -p $$ 2>/dev/null || cut -d' ' -f5 /proc/$$/stat",
	    NULL };
	struct child_opts o = { .argv = argv };
	struct got	 g = { 0 };

	run(&o, &g);
	cr_expect_eq(atol(g.out), (long)g.r.pid, "pgid %s, pid %d", g.out,
	    (int)g.r.pid);
	cr_expect_neq(atol(g.out), (long)getpgrp());
	got_free(&g);
}

/* Bounded capture. */

Test(child, output_over_max_is_truncated_but_counted)
{
	const char	*argv[] = { "/bin/sh", "-c",
	    "head -c 200000 /dev/zero | tr '\\0' o; "
	    "head -c 70000 /dev/zero | tr '\\0' e >&2", NULL };
	struct child_opts o = { .argv = argv, .max_output = 1000 };
	struct got	 g = { 0 };

	run(&o, &g);
	cr_expect_eq(g.r.exit_status, 0);
	cr_expect_eq(g.r.out_len, 1000);
	cr_expect_eq(strlen(g.out), 1000);
	cr_expect_eq(g.out[999], 'o');
	cr_expect(g.r.out_truncated);
	cr_expect_eq(g.r.out_total, 200000);
	cr_expect_eq(g.r.err_len, 1000);
	cr_expect(g.r.err_truncated);
	cr_expect_eq(g.r.err_total, 70000);
	got_free(&g);
}

Test(child, default_max_output_is_64k)
{
	const char	*argv[] = { "head", "-c", "100000", "/dev/zero", NULL };
	struct child_opts o = { .argv = argv };
	struct got	 g = { 0 };

	run(&o, &g);
	cr_expect_eq(g.r.out_len, CHILD_MAX_OUTPUT);
	cr_expect(g.r.out_truncated);
	cr_expect_eq(g.r.out_total, 100000);
	got_free(&g);
}

/* Timeouts, escalation, cancel. */

Test(child, timeout_ends_a_sleeper_with_sigint)
{
	const char	*argv[] = { "sleep", "30", NULL };
	struct child_opts o = { .argv = argv, .timeout_ms = 200,
	    .grace_ms = 1000 };
	struct got	 g = { 0 };

	run(&o, &g);
	cr_expect(g.r.timed_out);
	cr_expect_not(g.r.cancelled);
	cr_expect_eq(g.r.exit_status, -1);
	cr_expect_eq(g.r.term_signal, SIGINT);
	cr_expect_geq(g.r.duration_ms, 150);
	cr_expect_lt(g.r.duration_ms, 5000);
	got_free(&g);
}

Test(child, ignoring_int_and_term_still_dies_by_sigkill)
{
	const char	*argv[] = { "/bin/sh", "-c",
	    "trap '' INT TERM; echo ready; while :; do sleep 1; done", NULL };
	struct child_opts o = { .argv = argv, .timeout_ms = 200,
	    .grace_ms = 200 };
	struct got	 g = { 0 };

	run(&o, &g);
	cr_expect(g.r.timed_out);
	cr_expect_eq(g.r.term_signal, SIGKILL);
	cr_expect_str_eq(g.out, "ready\n");
	/* timeout + two graces at least; generous above. */
	cr_expect_geq(g.r.duration_ms, 500);
	cr_expect_lt(g.r.duration_ms, 10000);
	got_free(&g);
}

Test(child, stopped_command_still_acts_on_sigint)
{
	/* SIGCONT after SIGINT: a stopped process would otherwise wait for SIGKILL. */
	const char	*argv[] = { "/bin/sh", "-c", "kill -STOP $$; sleep 30",
	    NULL };
	struct child_opts o = { .argv = argv, .timeout_ms = 200,
	    .grace_ms = 2000 };
	struct got	 g = { 0 };

	run(&o, &g);
	cr_expect(g.r.timed_out);
	cr_expect_eq(g.r.term_signal, SIGINT);
	cr_expect_lt(g.r.duration_ms, 2000);
	got_free(&g);
}

Test(child, chatty_command_does_not_starve_its_timeout)
{
	const char	*argv[] = { "yes", NULL };
	struct child_opts o = { .argv = argv, .timeout_ms = 300,
	    .grace_ms = 1000, .max_output = 4096 };
	struct got	 g = { 0 };

	run(&o, &g);
	cr_expect(g.r.timed_out);
	cr_expect_eq(g.r.term_signal, SIGINT);
	cr_expect_eq(g.r.out_len, 4096);
	cr_expect(g.r.out_truncated);
	cr_expect_gt(g.r.out_total, 4096);
	cr_expect_lt(g.r.duration_ms, 5000);
	got_free(&g);
}

Test(child, grandchild_in_the_group_is_killed_too)
{
	/* A background job of sh ignores SIGINT, so SIGTERM must reach it. */
	const char	*argv[] = { "/bin/sh", "-c",
	    "sleep 30 & echo $!; wait", NULL };
	struct child_opts o = { .argv = argv, .timeout_ms = 300,
	    .grace_ms = 300 };
	struct got	 g = { 0 };
	pid_t		 gc;

	run(&o, &g);
	cr_expect(g.r.timed_out);
	gc = (pid_t)atol(g.out);
	cr_assert_gt(gc, 0, "out: %s", g.out);
	cr_expect(proc_gone(gc), "grandchild %d still runs", (int)gc);
	cr_expect_lt(g.r.duration_ms, 10000);
	got_free(&g);
}

Test(child, daemonized_grandchild_does_not_hang_a_timeout)
{
	const char	*argv[] = { "/bin/sh", "-c",
	    "setsid sleep 30 & echo $!; sleep 30", NULL };
	struct child_opts o = { .argv = argv, .timeout_ms = 200,
	    .grace_ms = 200 };
	struct got	 g = { 0 };
	pid_t		 d;

	run(&o, &g);
	d = (pid_t)atol(g.out);
	cr_expect(g.r.timed_out);
	cr_expect_lt(g.r.duration_ms, 10000);
	if (d > 0)
		kill(d, SIGKILL);
	got_free(&g);
}

Test(child, daemonized_grandchild_does_not_hang_an_exit)
{
	const char	*argv[] = { "/bin/sh", "-c",
	    "setsid sleep 30 & echo $!; exit 4", NULL };
	struct child_opts o = { .argv = argv, .grace_ms = 300 };
	struct got	 g = { 0 };
	pid_t		 d;

	run(&o, &g);
	d = (pid_t)atol(g.out);
	cr_expect_eq(g.r.exit_status, 4);
	cr_expect_not(g.r.timed_out);
	cr_expect_geq(g.r.duration_ms, 250, "output read for grace_ms");
	cr_expect_lt(g.r.duration_ms, 10000);
	cr_expect_gt(d, 0, "out: %s", g.out);
	if (d > 0)
		kill(d, SIGKILL);
	got_free(&g);
}

static long long
cancel_cb(struct loop *l, long long id, void *data)
{
	child_cancel(data);
	return LOOP_NOMORE;
}

Test(child, cancel_ends_the_command)
{
	const char	*argv[] = { "sleep", "30", NULL };
	struct child_opts o = { .argv = argv, .grace_ms = 1000 };
	struct got	 g = { 0 };
	struct child	*c;

	c = start(&o, &g);
	cr_expect_eq(child_pid(c), child_pid(c));
	cr_expect_gt(child_pid(c), 0);
	loop_add_timer(lp, 100, cancel_cb, c);
	wait_for(&g);
	cr_expect(g.r.cancelled);
	cr_expect_not(g.r.timed_out);
	cr_expect_eq(g.r.term_signal, SIGINT);
	cr_expect_lt(g.r.duration_ms, 5000);
	got_free(&g);
}

Test(child, cancel_right_after_start)
{
	const char	*argv[] = { "/bin/sh", "-c",
	    "trap '' INT; sleep 30", NULL };
	struct child_opts o = { .argv = argv, .grace_ms = 200 };
	struct got	 g = { 0 };
	struct child	*c;

	c = start(&o, &g);
	child_cancel(c);
	child_cancel(c);	/* a second cancel changes nothing */
	cr_expect_eq(g.calls, 0, "cancel never runs the callback itself");
	wait_for(&g);
	cr_expect(g.r.cancelled);
	cr_expect_neq(g.r.term_signal, 0);
	got_free(&g);
}

/* Spawn errors. */

Test(child, missing_program_is_a_spawn_error_not_127)
{
	const char	*argv[] = { "lookout-no-such-program", "x", NULL };
	const char	*argv127[] = { "/bin/sh", "-c", "exit 127", NULL };
	struct child_opts o = { .argv = argv };
	struct got	 g = { 0 }, g127 = { 0 };

	run(&o, &g);
	cr_assert_not_null(g.spawn_error);
	cr_expect_str_eq(g.spawn_error,
	    "cannot run lookout-no-such-program: No such file or directory");
	cr_expect_eq(g.r.exit_status, -1);
	cr_expect_eq(g.r.term_signal, 0);

	o.argv = argv127;
	run(&o, &g127);
	cr_expect_null(g127.spawn_error);
	cr_expect_eq(g127.r.exit_status, 127);
	got_free(&g);
	got_free(&g127);
}

Test(child, not_executable_is_a_spawn_error)
{
	const char	*argv[] = { NULL, NULL };
	struct child_opts o = { .argv = argv };
	struct got	 g = { 0 };
	char		 path[PATH_MAX];
	FILE		*f;

	snprintf(path, sizeof path, "%s", tmp_path("plain"));
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("echo should not run\n", f);
	fclose(f);
	argv[0] = path;
	run(&o, &g);
	cr_assert_not_null(g.spawn_error);
	cr_expect_neq(strstr(g.spawn_error, "Permission denied"), NULL,
	    "%s", g.spawn_error);
	got_free(&g);
}

Test(child, script_without_shebang_is_not_given_to_a_shell)
{
	const char	*argv[] = { NULL, NULL };
	struct child_opts o = { .argv = argv };
	struct got	 g = { 0 };
	char		 path[PATH_MAX];
	FILE		*f;

	snprintf(path, sizeof path, "%s", tmp_path("noshebang"));
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("echo should not run\n", f);
	fclose(f);
	cr_assert_eq(chmod(path, 0755), 0);
	argv[0] = path;
	run(&o, &g);
	cr_assert_not_null(g.spawn_error);
	cr_expect_neq(strstr(g.spawn_error, "Exec format error"), NULL,
	    "%s", g.spawn_error);
	cr_expect_str_eq(g.out, "");
	got_free(&g);
}

/* Several at once. */

Test(child, children_do_not_hold_each_others_pipes)
{
	const char	*slow[] = { "sleep", "3", NULL };
	const char	*fast[] = { "echo", "fast", NULL };
	struct child_opts os = { .argv = slow, .grace_ms = 200 };
	struct child_opts of = { .argv = fast };
	struct got	 gs = { 0 }, gf = { 0 };
	struct child	*cs;

	cs = start(&os, &gs);
	start(&of, &gf);
	wait_for(&gf);
	cr_expect_eq(gs.calls, 0, "the slow one is still running");
	cr_expect_lt(gf.r.duration_ms, 2000);
	cr_expect_str_eq(gf.out, "fast\n");
	child_cancel(cs);
	wait_for(&gs);
	cr_expect(gs.r.cancelled);
	got_free(&gs);
	got_free(&gf);
}

/* A socket for stdin and stdout: what carries a protocol (ssh under sd-bus). */

Test(child, stdio_fd_is_stdin_and_stdout_and_stderr_is_read)
{
	const char	*argv[] = { "sh", "-c", "read l; echo \"got $l\"; "
	    "echo oops >&2", NULL };
	struct child_opts o = { .argv = argv, .stdio = true };
	struct got	 g = { 0 };
	char		 buf[64] = "";
	int		 sv[2];
	ssize_t		 n;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	o.stdio_fd = sv[1];
	start(&o, &g);
	close(sv[1]);
	cr_assert_eq(write(sv[0], "ping\n", 5), 5);
	n = read(sv[0], buf, sizeof buf - 1);
	cr_expect_eq(n, 9);
	cr_expect_str_eq(buf, "got ping\n");
	wait_for(&g);
	cr_expect_eq(g.r.exit_status, 0);
	cr_expect_str_eq(g.out, "", "stdout is the socket's, not read");
	cr_expect_str_eq(g.err, "oops\n");
	close(sv[0]);
	got_free(&g);
}

Test(child, stdio_fd_with_stdin_data_is_refused)
{
	const char	*argv[] = { "true", NULL };
	struct child_opts o = { .argv = argv, .stdio = true, .stdio_fd = 5,
	    .stdin_data = "x", .stdin_len = 1 };
	struct lk_err	 err = { 0 };
	struct got	 g = { 0 };

	cr_expect_eq(child_start(lp, &o, done_cb, &g, NULL, &err), LK_EINPUT);
	o.stdin_data = NULL;
	o.stdin_len = 0;
	o.stdio_fd = -1;
	cr_expect_eq(child_start(lp, &o, done_cb, &g, NULL, &err), LK_EINPUT);
}

/*
 * With no_tty, the command cannot reach the controlling terminal (where
 * ssh would ask for a password): run in a session of its own whose
 * terminal is a pty, /dev/tty opens without it and does not with it.
 */
static int
tty_reachable(bool no_tty)
{
	const char	*argv[] = { "sh", "-c", ": </dev/tty", NULL };
	struct child_opts o = { .argv = argv, .no_tty = no_tty };
	struct got	 g = { 0 };
	int		 m, s, status;
	pid_t		 pid;

	m = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct loop *l2;
		struct lk_err err = { 0 };

		setsid();
		s = open(ptsname(m), O_RDWR);	/* our controlling terminal */
		if (s < 0)
			_exit(3);
		l2 = loop_new();
		if (child_start(l2, &o, done_cb, &g, NULL, &err) != LK_OK)
			_exit(3);
		while (g.calls == 0)
			loop_run_once(l2, 1000);
		_exit(g.r.exit_status == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	close(m);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 3);
	return WEXITSTATUS(status) == 0;
}

Test(child, no_tty_keeps_the_command_off_the_terminal)
{
	cr_expect(tty_reachable(false), "the pty is its terminal");
	cr_expect(!tty_reachable(true), "no_tty: /dev/tty cannot be opened");
}

/* An owner that goes away takes its command with it, callback and all. */

Test(child, abandon_kills_reaps_and_never_calls_back)
{
	const char	*argv[] = { "sleep", "100", NULL };
	struct child_opts o = { .argv = argv };
	struct got	 g = { 0 };
	struct child	*c = start(&o, &g);
	pid_t		 pid = child_pid(c);

	loop_run_once(lp, 50);
	child_abandon(&c);
	cr_expect_null(c);
	cr_expect_eq(kill(pid, 0), -1, "reaped: not even a zombie");
	for (int i = 0; i < 5; i++)
		loop_run_once(lp, 20);
	cr_expect_eq(g.calls, 0);
	child_abandon(&c);
}
