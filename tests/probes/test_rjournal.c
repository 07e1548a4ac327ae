/*
 * probes/rjournal.c: another host's journal.  The command the remote
 * shell gets is run here by a real sh, with a journalctl stand-in that
 * prints its arguments: hostile unit names and cgroups must arrive as the
 * words they were, and nothing in them may run.  And journalctl's JSON
 * lines, in each form MESSAGE takes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "private.h"
#include "../core/util.h"

TestSuite(rjournal, .timeout = 30);

static char dir[] = "/tmp/lookout-rjournal-XXXXXX";

static void
stub(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert(chmod(path, 0755) == 0);
}

/* A journalctl that prints each argument on a line of its own, and a
 * systemctl that knows where the manager is and where its unit
 * ("show -p ControlGroup --value [-- UNIT]"). */
static void
mkstub(void)
{
	cr_assert_not_null(mkdtemp(dir));
	stub("journalctl", "#!/bin/sh\n"
	    "for a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
	stub("systemctl", "#!/bin/sh\n"
	    "[ \"$*\" = '--user show -p ControlGroup --value' ] && "
	    "echo /m.slice/mgr\n"
	    "[ \"$6\" = -- ] && printf '/m.slice/mgr/x.slice/%s\\n' \"$7\"\n"
	    "exit 0\n");
}

static void
rmstub(void)
{
	char cmd[300];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert(system(cmd) == 0);
}

/* Runs the remote shell text with sh, in dir, the stand-in first in PATH;
 * returns what it printed. */
static char *
run_remote(const char *text)
{
	int p[2];
	struct lk_buf out = { 0 };
	char buf[4096], path[512];
	ssize_t r;
	pid_t pid;
	int st;

	snprintf(path, sizeof path, "%s:/usr/bin:/bin", dir);
	cr_assert(pipe(p) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		if (chdir(dir) != 0)
			_exit(126);
		setenv("PATH", path, 1);
		execl("/bin/sh", "sh", "-c", text, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((r = read(p[0], buf, sizeof buf)) > 0)
		lk_buf_add(&out, buf, (size_t)r);
	close(p[0]);
	cr_assert(waitpid(pid, &st, 0) == pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	lk_buf_addc(&out, '\0');
	return out.s;
}

static bool
exists_in_dir(const char *name)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

Test(rjournal, a_user_unit_and_its_cgroup_arrive_as_words,
    .init = mkstub, .fini = rmstub)
{
	/* No unit is named so, but nothing here may rely on that. */
	const char *unit = "a'b;$(touch x1)`touch x2`\".service";
	const char *cg = "/s.slice/m gr/'; touch x3; '/$(touch x4).service";
	struct lk_buf cmd = { 0 };
	struct lk_err err = { 0 };
	char want[2048], uid[32], *got;

	cr_assert_eq(rjournal_command(&cmd, unit, "user", 50, true, cg,
	    NULL, &err), LK_OK, "%s", err.msg);
	got = run_remote(cmd.s);
	snprintf(uid, sizeof uid, "_UID=%ld", (long)getuid());
	snprintf(want, sizeof want, "\n--no-pager\n-q\n-o\njson\n"
	    "--output-fields=MESSAGE,PRIORITY\n-n\n50\n--follow\n"
	    "_SYSTEMD_USER_UNIT=%s\n%s\n+\nUSER_UNIT=%s\n%s\n"
	    "_SYSTEMD_CGROUP=/m.slice/mgr/init.scope\n+\n"
	    "COREDUMP_USER_UNIT=%s\n%s\n_UID=0\n+\n"
	    "OBJECT_SYSTEMD_USER_UNIT=%s\n%s\n_UID=0\n+\n"
	    "_SYSTEMD_CGROUP=/m.slice/mgr/app.slice/%s\n%s\n+\n"
	    "_SYSTEMD_CGROUP=%s\n%s\n", unit, uid, unit, uid, unit, uid,
	    unit, uid, unit, uid, cg, uid);
	cr_expect_str_eq(got, want);
	cr_expect(!exists_in_dir("x1") && !exists_in_dir("x2") &&
	    !exists_in_dir("x3") && !exists_in_dir("x4"),
	    "something in the words ran");
	free(got);
	lk_buf_free(&cmd);
}

Test(rjournal, a_system_unit_once_without_a_cgroup,
    .init = mkstub, .fini = rmstub)
{
	struct lk_buf cmd = { 0 };
	struct lk_err err = { 0 };
	char *got;

	cr_assert_eq(rjournal_command(&cmd, "$(touch y).service", "system",
	    7, false, NULL, NULL, &err), LK_OK);
	got = run_remote(cmd.s);
	cr_expect_str_eq(got, "\n--no-pager\n-q\n-o\njson\n"
	    "--output-fields=MESSAGE,PRIORITY\n-n\n7\n-u\n$(touch y).service\n");
	cr_expect(!exists_in_dir("y"));
	free(got);
	lk_buf_free(&cmd);
}

/* Without the cgroup from the probes (not read yet), its manager is
 * asked there; one in the default app.slice is not matched twice. */
Test(rjournal, the_cgroup_is_asked_there_when_not_known,
    .init = mkstub, .fini = rmstub)
{
	struct lk_buf cmd = { 0 };
	struct lk_err err = { 0 };
	char want[1024], uid[32], *got;

	cr_assert_eq(rjournal_command(&cmd, "w'$(touch z).service", "user",
	    3, false, NULL, NULL, &err), LK_OK);
	got = run_remote(cmd.s);
	snprintf(uid, sizeof uid, "_UID=%ld", (long)getuid());
#define U "w'$(touch z).service"
	snprintf(want, sizeof want, "\n--no-pager\n-q\n-o\njson\n"
	    "--output-fields=MESSAGE,PRIORITY\n-n\n3\n"
	    "_SYSTEMD_USER_UNIT=" U "\n%s\n+\nUSER_UNIT=" U "\n%s\n"
	    "_SYSTEMD_CGROUP=/m.slice/mgr/init.scope\n+\n"
	    "COREDUMP_USER_UNIT=" U "\n%s\n_UID=0\n+\n"
	    "OBJECT_SYSTEMD_USER_UNIT=" U "\n%s\n_UID=0\n+\n"
	    "_SYSTEMD_CGROUP=/m.slice/mgr/app.slice/" U "\n%s\n+\n"
	    "_SYSTEMD_CGROUP=/m.slice/mgr/x.slice/" U "\n%s\n",
	    uid, uid, uid, uid, uid, uid);
#undef U
	cr_expect_str_eq(got, want);
	cr_expect(!exists_in_dir("z"));
	free(got);
	lk_buf_free(&cmd);
}

/* After a dropped connection: every entry after the last one read, and
 * on following. */
Test(rjournal, a_resumed_journal_asks_for_every_entry_after_the_cursor,
    .init = mkstub, .fini = rmstub)
{
	struct lk_buf cmd = { 0 };
	struct lk_err err = { 0 };
	char *got;

	cr_assert_eq(rjournal_command(&cmd, "a.service", "system", 7, true,
	    NULL, "s=ab12;i=3f;b=cd;m=1a;t=5;x=9", &err), LK_OK);
	got = run_remote(cmd.s);
	cr_expect_str_eq(got, "\n--no-pager\n-q\n-o\njson\n"
	    "--output-fields=MESSAGE,PRIORITY\n-n\nall\n"
	    "--after-cursor=s=ab12;i=3f;b=cd;m=1a;t=5;x=9\n--follow\n"
	    "-u\na.service\n");
	free(got);
	lk_buf_free(&cmd);
}

Test(rjournal, the_unit_is_a_single_quoted_word_in_the_text)
{
	struct lk_buf cmd = { 0 };
	struct lk_err err = { 0 };

	cr_assert_eq(rjournal_command(&cmd, "x'y.service", "user", 1, true,
	    NULL, NULL, &err), LK_OK);
	/* What ssh carries: exec and each word in single quotes. */
	cr_expect(strncmp(cmd.s, "exec 'sh' '-c' '", 16) == 0, "%s", cmd.s);
	cr_expect_not_null(strstr(cmd.s, " 'x'\\''y.service' ''"), "%s",
	    cmd.s);
	lk_buf_free(&cmd);
}

Test(rjournal, json_lines_in_each_form)
{
	struct lk_buf m = { 0 };
	int64_t us;
	int prio;
	const char *s;

	s = "{\"__REALTIME_TIMESTAMP\":\"1700000000123456\",\"PRIORITY\":\"3\","
	    "\"MESSAGE\":\"NameError: \\u001b[31mx\"}";
	cr_assert(rjournal_parse(s, strlen(s), &us, &prio, &m, NULL));
	cr_expect_eq(us, 1700000000123456LL);
	cr_expect_eq(prio, 3);
	cr_expect_eq(m.len, 17);
	cr_expect(memcmp(m.s, "NameError: \x1b[31mx", 17) == 0);

	/* Not UTF-8: an array of byte values, NUL included. */
	s = "{\"__REALTIME_TIMESTAMP\":\"5\",\"MESSAGE\":[104,255,0,105]}";
	cr_assert(rjournal_parse(s, strlen(s), &us, &prio, &m, NULL));
	cr_expect_eq(prio, 6);
	cr_expect_eq(m.len, 4);
	cr_expect(memcmp(m.s, "h\xff\0i", 4) == 0);

	/* Longer than journalctl shows without --all. */
	s = "{\"__REALTIME_TIMESTAMP\":\"5\",\"MESSAGE\":null}";
	cr_assert(rjournal_parse(s, strlen(s), &us, &prio, &m, NULL));
	cr_expect_not_null(strstr(m.s, "more than 4096 bytes"));

	/* A NUL inside a JSON string is kept too. */
	s = "{\"MESSAGE\":\"a\\u0000b\",\"PRIORITY\":\"9\"}";
	cr_assert(rjournal_parse(s, strlen(s), &us, &prio, &m, NULL));
	cr_expect_eq(m.len, 3);
	cr_expect_eq(prio, 6);

	cr_expect_not(rjournal_parse("{\"PRIORITY\":\"3\"}", 16, &us, &prio,
	    &m, NULL));
	cr_expect_not(rjournal_parse("", 0, &us, &prio, &m, NULL));
	cr_expect_not(rjournal_parse("not json", 8, &us, &prio, &m, NULL));
	s = "{\"MESSAGE\":[1,256]}";
	cr_expect_not(rjournal_parse(s, strlen(s), &us, &prio, &m, NULL));
	s = "[\"MESSAGE\"]";
	cr_expect_not(rjournal_parse(s, strlen(s), &us, &prio, &m, NULL));
	lk_buf_free(&m);
}

/* The cursor a resumed connection gives back to the host: only what
 * journalctl writes one with. */
Test(rjournal, an_entry_cursor_is_kept_only_when_it_looks_like_one)
{
	struct lk_buf m = { 0 };
	char cursor[RJ_CURSOR_MAX], big[RJ_CURSOR_MAX + 64];
	int64_t us;
	int prio;
	const char *s;

	s = "{\"__CURSOR\":\"s=0a;i=1b2;b=c3;m=d4;t=5e;x=6f\","
	    "\"MESSAGE\":\"x\"}";
	cr_assert(rjournal_parse(s, strlen(s), &us, &prio, &m, cursor));
	cr_expect_str_eq(cursor, "s=0a;i=1b2;b=c3;m=d4;t=5e;x=6f");

	s = "{\"__CURSOR\":\"s=0a' --file=/etc/shadow\",\"MESSAGE\":\"x\"}";
	cr_assert(rjournal_parse(s, strlen(s), &us, &prio, &m, cursor));
	cr_expect_str_eq(cursor, "");

	s = "{\"__CURSOR\":7,\"MESSAGE\":\"x\"}";
	cr_assert(rjournal_parse(s, strlen(s), &us, &prio, &m, cursor));
	cr_expect_str_eq(cursor, "");

	snprintf(big, sizeof big, "{\"__CURSOR\":\"%0*d\",\"MESSAGE\":\"x\"}",
	    RJ_CURSOR_MAX, 0);
	cr_assert(rjournal_parse(big, strlen(big), &us, &prio, &m, cursor));
	cr_expect_str_eq(cursor, "");

	s = "{\"MESSAGE\":\"x\"}";
	cr_assert(rjournal_parse(s, strlen(s), &us, &prio, &m, cursor));
	cr_expect_str_eq(cursor, "");
	lk_buf_free(&m);
}
