/*
 * core/trust: which files lookout trusts.  The hostile user is played for
 * real where one is involved: a child that drops to nobody creates the
 * files, directories and links that root is then asked to trust.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "trust.h"

#define NOBODY 65534

static char base[64];

/* A directory of root's that nobody may read and enter, but not write. */
static void
setup(void)
{
	snprintf(base, sizeof base, "/tmp/lk-trust.XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	cr_assert_eq(chmod(base, 0755), 0);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(trust, .init = setup, .fini = teardown, .timeout = 10);

static const char *
at(const char *rel)
{
	static char paths[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(paths[i], sizeof paths[i], "%s/%s", base, rel);
	return paths[i];
}

static void
put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(fd, 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cr_assert_eq(chmod(path, mode), 0);
}

static void
dir(const char *path, mode_t mode)
{
	cr_assert_eq(mkdir(path, 0700), 0, "mkdir %s: %s", path,
	    strerror(errno));
	cr_assert_eq(chmod(path, mode), 0);
}

/* Runs sh -c script as nobody, the user sharing the host with root. */
static void
as_nobody(const char *script)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY,
		    NOBODY) != 0 || setresuid(NOBODY, NOBODY, NOBODY) != 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "as nobody: %s", script);
}

static struct lk_err err;

static enum lk_code
check(const char *path)
{
	memset(&err, 0, sizeof err);
	return trust_check_path(path, 0, &err);
}

Test(trust, a_file_of_roots_in_directories_of_roots_is_trusted)
{
	struct lk_buf b = { 0 };

	put(at("lookout.lua"), "interval = \"5s\"\n", 0644);
	cr_expect_eq(check(at("lookout.lua")), LK_OK, "%s", err.msg);
	cr_expect_eq(trust_read("config", at("lookout.lua"), 0, 100, &b,
	    &err), LK_OK, "%s", err.msg);
	cr_expect_str_eq(b.s, "interval = \"5s\"\n");
	/* At most max + 1 bytes, so that the caller sees it is too big. */
	cr_expect_eq(trust_read("config", at("lookout.lua"), 0, 3, &b,
	    &err), LK_OK);
	cr_expect_eq(b.len, 4);
	lk_buf_free(&b);
}

Test(trust, a_file_others_or_its_group_may_write_is_refused)
{
	put(at("world.lua"), "x", 0666);
	cr_expect_eq(check(at("world.lua")), LK_EREFUSED);
	cr_expect(strstr(err.msg, "not trusted") && strstr(err.msg,
	    "writable by its group and others (owner root, mode 0666)"),
	    "%s", err.msg);
	cr_expect(strstr(err.msg, at("world.lua")) != NULL, "%s", err.msg);
	put(at("group.lua"), "x", 0664);
	cr_expect_eq(check(at("group.lua")), LK_EREFUSED);
	cr_expect(strstr(err.msg, "writable by its group (owner root, mode "
	    "0664)"), "%s", err.msg);
}

Test(trust, a_file_nobody_planted_in_a_sticky_directory_is_refused)
{
	char script[512];

	dir(at("drop"), 01777);
	snprintf(script, sizeof script, "umask 022; echo x >%s",
	    at("drop/evil.lua"));
	as_nobody(script);
	cr_expect_eq(check(at("drop/evil.lua")), LK_EREFUSED);
	cr_expect(strstr(err.msg, "belongs to nobody, not to root (mode "
	    "0644)") != NULL, "%s", err.msg);
	/* The same file is theirs to use when they run lookout. */
	cr_expect_eq(trust_check_path(at("drop/evil.lua"), NOBODY, &err), LK_OK,
	    "%s", err.msg);
	/* And a file of root's in the same sticky directory is root's. */
	put(at("drop/mine.lua"), "x", 0644);
	cr_expect_eq(check(at("drop/mine.lua")), LK_OK, "%s", err.msg);
}

Test(trust, a_directory_others_may_write_is_refused_on_the_way)
{
	dir(at("open"), 0777);
	put(at("open/rb.lua"), "x", 0644);
	cr_expect_eq(check(at("open/rb.lua")), LK_EREFUSED);
	cr_expect(strstr(err.msg, "directory ") && strstr(err.msg, "/open is "
	    "writable by its group and others (owner root, mode 0777)"),
	    "%s", err.msg);
	/* Deeper down, a directory of root's does not make it safe. */
	dir(at("open/sub"), 0755);
	put(at("open/sub/rb.lua"), "x", 0644);
	cr_expect_eq(check(at("open/sub/rb.lua")), LK_EREFUSED);
	cr_expect(strstr(err.msg, "/open is writable") != NULL, "%s", err.msg);
}

Test(trust, a_directory_another_user_owns_is_refused_on_the_way)
{
	char script[512];

	dir(at("drop"), 01777);
	snprintf(script, sizeof script, "umask 022; mkdir %s && cp /dev/null "
	    "%s", at("drop/theirs"), at("drop/theirs/x"));
	as_nobody(script);
	/* Even a file of root's, once the directory it is in is theirs. */
	cr_expect_eq(check(at("drop/theirs/x")), LK_EREFUSED);
	cr_expect(strstr(err.msg, "directory ") && strstr(err.msg,
	    "/drop/theirs belongs to nobody, not to root (mode 0755)"), "%s",
	    err.msg);
}

Test(trust, links_are_followed_only_where_nobody_else_put_them)
{
	char script[512];

	put(at("real.lua"), "x", 0644);
	cr_assert_eq(symlink("real.lua", at("link.lua")), 0);
	cr_expect_eq(check(at("link.lua")), LK_OK, "%s", err.msg);
	/* A link of root's that leads somewhere others may write. */
	dir(at("open"), 0777);
	put(at("open/x.lua"), "x", 0644);
	cr_assert_eq(symlink(at("open/x.lua"), at("bad.lua")), 0);
	cr_expect_eq(check(at("bad.lua")), LK_EREFUSED);
	cr_expect(strstr(err.msg, "/open is writable") != NULL, "%s", err.msg);
	/* A link nobody planted in a sticky directory, to a file of root's. */
	dir(at("drop"), 01777);
	snprintf(script, sizeof script, "ln -s %s %s", at("real.lua"),
	    at("drop/lookout.lua"));
	as_nobody(script);
	cr_expect_eq(check(at("drop/lookout.lua")), LK_EREFUSED);
	cr_expect(strstr(err.msg, "/drop/lookout.lua is a symbolic link owned "
	    "by nobody, in a directory others can write (") && strstr(err.msg,
	    "/drop: owner root, mode 1777); not following it"), "%s", err.msg);
	/* A loop ends. */
	cr_assert_eq(symlink("loop2", at("loop1")), 0);
	cr_assert_eq(symlink("loop1", at("loop2")), 0);
	cr_expect_eq(check(at("loop1")), LK_EIO);
	cr_expect(strstr(err.msg, "too many levels") != NULL, "%s", err.msg);
}

Test(trust, relative_paths_and_dot_dot_are_walked_from_the_working_directory)
{
	char cwd[4096];

	cr_assert_not_null(getcwd(cwd, sizeof cwd));
	dir(at("a"), 0755);
	dir(at("open"), 0777);
	put(at("a/x.lua"), "x", 0644);
	cr_assert_eq(chdir(at("a")), 0);
	cr_expect_eq(check("x.lua"), LK_OK, "%s", err.msg);
	cr_expect_eq(check("./../a/./x.lua"), LK_OK, "%s", err.msg);
	cr_expect_eq(check("../open/../a/x.lua"), LK_EREFUSED, "%s",
	    err.msg);
	cr_expect_eq(check("missing.lua"), LK_ENOTFOUND);
	cr_expect(strstr(err.msg, "missing.lua: no such file") != NULL, "%s",
	    err.msg);
	cr_assert_eq(chdir(cwd), 0);
}

/* A FIFO would block an open() for reading until someone writes. */
Test(trust, what_is_not_a_regular_file_is_refused_without_waiting,
    .timeout = 5)
{
	struct lk_buf b = { 0 };
	struct timespec t0, t1;

	cr_assert_eq(mkfifo(at("fifo.lua"), 0600), 0);
	dir(at("dir.lua"), 0755);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_expect_eq(trust_read("runbook", at("fifo.lua"), 0, 100, &b, &err),
	    LK_EREFUSED);
	cr_expect(strstr(err.msg, "runbook ") == err.msg && strstr(err.msg,
	    "fifo.lua: not a regular file (a FIFO)"), "%s", err.msg);
	cr_expect_eq(trust_read("config", "/dev/zero", 0, 100, &b, &err),
	    LK_EREFUSED);
	cr_expect_str_eq(err.msg, "config /dev/zero: not a regular file (a "
	    "character device)");
	cr_expect_eq(trust_read("runbook", at("dir.lua"), 0, 100, &b, &err),
	    LK_EREFUSED);
	cr_expect(strstr(err.msg, "dir.lua: not a regular file (a "
	    "directory)") != NULL, "%s", err.msg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_expect_lt(t1.tv_sec - t0.tv_sec, 2);
	lk_buf_free(&b);
}

Test(trust, a_directory_of_runbooks_is_checked_as_the_last_of_its_path)
{
	int fd;

	dir(at("books"), 0755);
	fd = trust_open("runbook directory", at("books"), 0, TRUST_DIR,
	    &err);
	cr_expect_geq(fd, 0, "%s", err.msg);
	if (fd >= 0)
		close(fd);
	/* Sticky lets a path cross /tmp, not hold runbooks of its own. */
	dir(at("drop"), 01777);
	cr_expect_lt(trust_open("runbook directory", at("drop"), 0,
	    TRUST_DIR, &err), 0);
	cr_expect_eq(err.code, LK_EREFUSED);
	cr_expect(strstr(err.msg, "runbook directory ") == err.msg &&
	    strstr(err.msg, "/drop is writable by its group and others (owner "
	    "root, mode 1777)"), "%s", err.msg);
	put(at("file"), "x", 0644);
	cr_expect_lt(trust_open(NULL, at("file"), 0, TRUST_DIR, &err), 0);
	cr_expect(strstr(err.msg, "not a directory (a file)") != NULL, "%s",
	    err.msg);
}
