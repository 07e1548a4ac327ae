/* probes: processes running from a deleted directory or binary, made real
 * (no fake /proc): a child whose cwd is removed under it, and a child that
 * runs a copy of a binary which is then deleted. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probes.h"
#include "procfs.h"

static char dir[128];
static pid_t child;

static void
setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/lookout-procfs.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	child = 0;
}

static void
teardown(void)
{
	char cmd[256];

	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	(void)system(cmd);
}

TestSuite(procfs, .init = setup, .fini = teardown, .timeout = 10);

/* Starts `sleep 30` in cwd, running the binary at exe, and waits until
 * /proc shows the new image. */
static void
spawn_sleep(const char *cwd, const char *exe)
{
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		if (chdir(cwd) != 0)
			_exit(1);
		execl(exe, "sleep", "30", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		char path[64], buf[256];
		ssize_t n;

		snprintf(path, sizeof path, "/proc/%d/exe", (int)child);
		n = readlink(path, buf, sizeof buf - 1);
		if (n > 0) {
			buf[n] = '\0';
			if (strstr(buf, "sleep") != NULL)
				return;
		}
		usleep(10000);
	}
	cr_assert_fail("child never exec'd %s", exe);
}

Test(procfs, a_healthy_process_has_no_flags)
{
	char detail[256];
	pid_t self = getpid();

	cr_expect_eq(procfs_check_deleted(&self, 1, detail, sizeof detail), 0u);
	cr_expect_str_eq(detail, "");
}

Test(procfs, a_deleted_working_directory)
{
	char release[256], detail[512];

	snprintf(release, sizeof release, "%s/releases-65", dir);
	cr_assert_eq(mkdir(release, 0700), 0);
	spawn_sleep(release, "/bin/sleep");
	cr_expect_eq(procfs_check_deleted(&child, 1, detail, sizeof detail), 0u);
	cr_assert_eq(rmdir(release), 0);
	cr_expect_eq(procfs_check_deleted(&child, 1, detail, sizeof detail),
	    (unsigned)SVC_DELETED_CWD);
	cr_expect(strstr(detail, "runs in deleted ") != NULL, "%s", detail);
	cr_expect(strstr(detail, "releases-65") != NULL, "%s", detail);
}

Test(procfs, a_deleted_binary)
{
	char exe[256], cmd[600], detail[512];

	snprintf(exe, sizeof exe, "%s/sleep-v1", dir);
	snprintf(cmd, sizeof cmd, "cp /bin/sleep '%s'", exe);
	cr_assert_eq(system(cmd), 0);
	spawn_sleep(dir, exe);
	cr_assert_eq(unlink(exe), 0);
	cr_expect(procfs_check_deleted(&child, 1, detail, sizeof detail) &
	    SVC_DELETED_EXE);
}

Test(procfs, cgroup_paths_are_confined)
{
	pid_t pids[4];

	cr_expect_eq(procfs_cgroup_pids("../../etc", pids, 4), 0u);
	cr_expect_eq(procfs_cgroup_pids("relative", pids, 4), 0u);
	cr_expect_eq(procfs_cgroup_pids(NULL, pids, 4), 0u);
}

/* Our own cgroup, read as a unit's would be: this process is in it, and
 * more pids than asked for are cut at max. */
Test(procfs, a_cgroup_lists_its_processes)
{
	char text[4096], cg[2048];
	pid_t pids[512];
	FILE *f = fopen("/proc/self/cgroup", "re");
	/* The cgroup2 line "0::/path", else systemd's v1 tree. */
	const char *key, *l;
	size_t n, k;
	bool self = false;

	cr_assert_not_null(f);
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	key = strstr(text, "0::/") != NULL ? "0::" : ":name=systemd:";
	l = strstr(text, key);
	cr_assert_not_null(l, "no cgroup in %s", text);
	l += strlen(key);
	snprintf(cg, sizeof cg, "%.*s", (int)strcspn(l, "\n"), l);
	/* "/" is the root, where the kernel lists every process: fine too. */
	n = procfs_cgroup_pids(cg, pids, 512);
	cr_assert_gt(n, 0u, "nothing read from %s", cg);
	for (k = 0; k < n; k++)
		self |= pids[k] == getpid();
	cr_expect(self, "pid %d not among the %zu of %s", getpid(), n, cg);
	if (n > 1)
		cr_expect_eq(procfs_cgroup_pids(cg, pids, 1), 1u);
}

static const char *
unit_cgroup(const char *text, const char *unit)
{
	static char out[512];

	if (!procfs_unit_cgroup_parse(text, unit, out, sizeof out))
		return "(none)";
	return out;
}

Test(procfs, a_unit_cgroup_from_a_process_cgroup_file)
{
	const char *v2 = "0::/user.slice/user-1000.slice/user@1000.service/"
	    "app.slice/mail.service\n";
	const char *hybrid = "12:cpu,cpuacct:/user.slice\n"
	    "1:name=systemd:/system.slice/mail.service\n"
	    "0::/system.slice/mail.service\n";
	const char *legacy = "5:memory:/x\n"
	    "1:name=systemd:/system.slice/mail.service\n";

	cr_expect_str_eq(unit_cgroup(v2, "mail.service"),
	    "/user.slice/user-1000.slice/user@1000.service/app.slice/"
	    "mail.service");
	cr_expect_str_eq(unit_cgroup(hybrid, "mail.service"),
	    "/system.slice/mail.service");
	cr_expect_str_eq(unit_cgroup(legacy, "mail.service"),
	    "/system.slice/mail.service");
	/* A delegated unit's process in a sub-cgroup gives the unit's own. */
	cr_expect_str_eq(unit_cgroup("0::/system.slice/ci.service/job/7\n",
	    "ci.service"), "/system.slice/ci.service");
}

Test(procfs, a_process_of_another_unit_gives_no_cgroup)
{
	/* A pid that was reused, or a name that only ends like the unit's. */
	cr_expect_str_eq(unit_cgroup("0::/system.slice/cron.service\n",
	    "mail.service"), "(none)");
	cr_expect_str_eq(unit_cgroup("0::/system.slice/xmail.service\n",
	    "mail.service"), "(none)");
	cr_expect_str_eq(unit_cgroup("0::/system.slice/mail.service.d\n",
	    "mail.service"), "(none)");
	/* Only the hierarchies systemd keeps units in count. */
	cr_expect_str_eq(unit_cgroup("4:memory:/system.slice/mail.service\n",
	    "mail.service"), "(none)");
	cr_expect_str_eq(unit_cgroup("", "mail.service"), "(none)");
}

Test(procfs, a_process_that_is_gone_gives_no_cgroup)
{
	char out[512];

	cr_expect(!procfs_unit_cgroup(999999999, "mail.service", out,
	    sizeof out));
}

Test(procfs, a_process_described_with_its_deleted_directory)
{
	char release[256];
	struct probe_proc p;

	snprintf(release, sizeof release, "%s/releases-66", dir);
	cr_assert_eq(mkdir(release, 0700), 0);
	spawn_sleep(release, "/bin/sleep");
	cr_assert(procfs_describe(child, &p));
	cr_expect_eq(p.pid, child);
	cr_expect_str_eq(p.comm, "sleep");
	cr_expect(strstr(p.cwd, "releases-66") != NULL, "%s", p.cwd);
	cr_expect(strstr(p.exe, "sleep") != NULL, "%s", p.exe);
	cr_expect_not(p.cwd_deleted);
	cr_assert_eq(rmdir(release), 0);
	cr_assert(procfs_describe(child, &p));
	cr_expect(p.cwd_deleted);
	cr_expect(strstr(p.cwd, "releases-66") != NULL &&
	    strstr(p.cwd, "(deleted)") == NULL, "%s", p.cwd);
	cr_expect_not(p.exe_deleted);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	cr_expect_not(procfs_describe(child, &p), "a reaped process is gone");
	child = 0;
}
