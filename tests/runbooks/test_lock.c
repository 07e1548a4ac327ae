/*
 * runbooks: the lock behind "one run per runbook and target", a file in a
 * directory that must be the invoker's alone.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runbooks.h"

static char dir[128];

static void
setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/lookout-lock.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	(void)system(cmd);
}

TestSuite(lock, .init = setup, .fini = teardown, .timeout = 10);

Test(lock, is_held_until_closed_in_a_private_directory)
{
	char locks[256], holder[128];
	struct lk_err err = { 0 };
	struct stat st;
	int fd;

	snprintf(locks, sizeof locks, "%s/locks", dir);
	fd = rb_lock_acquire(locks, "restart", "{}", holder, sizeof holder,
	    &err);
	cr_assert_geq(fd, 0, "%s", err.msg);
	cr_assert_eq(stat(locks, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0700);
	cr_expect(rb_lock_held(locks, "restart", "{}"));
	cr_expect_eq(rb_lock_acquire(locks, "restart", "{}", holder,
	    sizeof holder, &err), -1);
	cr_expect(strstr(holder, "(pid ") != NULL, "%s", holder);
	close(fd);
	cr_expect(!rb_lock_held(locks, "restart", "{}"));
}

/*
 * A lock directory others could write, or one that is a link, is refused:
 * a lock file planted there as a link would make the holder's ftruncate()
 * and pwrite() land on someone else's choice of file.
 */
Test(lock, refuses_a_directory_others_could_plant_in)
{
	char locks[256], victim[256], holder[128], cmd[512];
	struct lk_err err = { 0 };
	struct stat st;
	int fd;

	snprintf(locks, sizeof locks, "%s/locks", dir);
	cr_assert_eq(mkdir(locks, 0700), 0);
	chmod(locks, 0777);
	cr_expect_eq(rb_lock_acquire(locks, "restart", "{}", holder,
	    sizeof holder, &err), -2);
	cr_expect(strstr(err.msg, "is not private") != NULL &&
	    strstr(err.msg, "mode 0777") != NULL, "%s", err.msg);

	/* A lock file that is a link is not written through either. */
	chmod(locks, 0700);
	fd = rb_lock_acquire(locks, "restart", "{}", holder, sizeof holder,
	    &err);
	cr_assert_geq(fd, 0, "%s", err.msg);
	close(fd);
	snprintf(cmd, sizeof cmd, "cd '%s' && for f in *.lock; do rm \"$f\" && "
	    "ln -s ../victim \"$f\"; done", locks);
	snprintf(victim, sizeof victim, "%s/victim", dir);
	close(open(victim, O_CREAT | O_WRONLY, 0644));
	cr_assert_eq(system(cmd), 0);
	cr_expect_eq(rb_lock_acquire(locks, "restart", "{}", holder,
	    sizeof holder, &err), -2);
	cr_expect(strstr(err.msg, "runbook lock ") != NULL, "%s", err.msg);
	cr_assert_eq(stat(victim, &st), 0);
	cr_expect_eq(st.st_size, 0);
}
