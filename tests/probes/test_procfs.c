/* probes: processes running from a deleted directory or binary, made real
 * (no fake /proc): a child whose cwd is removed under it, and a child that
 * runs a copy of a binary which is then deleted. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
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

/*
 * Cgroups of our own in the cgroup2 tree, as systemd makes a unit's:
 * kept_base is the tree, kept_cg[i] a path under it, as the unit's
 * ControlGroup property gives it.  The cgroups are real (root only); one
 * child sleeps in each.
 */
static char kept_base[64], kept_cg[2][64];
static pid_t kept_child[2];

static void
kept_make(int slot)
{
	static const char *const bases[] = { "/sys/fs/cgroup/unified",
	    "/sys/fs/cgroup" };
	char path[256];

	for (size_t i = 0; i < 2 && !kept_base[0]; i++) {
		snprintf(path, sizeof path, "%s/cgroup.controllers", bases[i]);
		if (access(path, F_OK) == 0)
			snprintf(kept_base, sizeof kept_base, "%s", bases[i]);
	}
	cr_assert(kept_base[0], "no cgroup2 tree under /sys/fs/cgroup");
	snprintf(kept_cg[slot], sizeof kept_cg[slot], "/lookout-procfs-%ld-%d",
	    (long)getpid(), slot);
	snprintf(path, sizeof path, "%s%s", kept_base, kept_cg[slot]);
	cr_assert_eq(mkdir(path, 0755), 0, "mkdir %s: %s", path,
	    strerror(errno));
}

/* A child that sleeps, moved into kept_cg[slot]. */
static pid_t
kept_spawn(int slot)
{
	char path[256];
	FILE *f;
	pid_t c = fork();

	cr_assert_geq(c, 0);
	if (c == 0) {
		for (;;)
			pause();
	}
	kept_child[slot] = c;
	snprintf(path, sizeof path, "%s%s/cgroup.procs", kept_base,
	    kept_cg[slot]);
	cr_assert_not_null(f = fopen(path, "we"));
	fprintf(f, "%ld\n", (long)c);
	cr_assert_eq(fclose(f), 0, "moving %ld into %s: %s", (long)c, path,
	    strerror(errno));
	return c;
}

static void
kept_kill(int slot)
{
	if (kept_child[slot] > 0) {
		kill(kept_child[slot], SIGKILL);
		waitpid(kept_child[slot], NULL, 0);
		kept_child[slot] = 0;
	}
}

/* The cgroup removed, as systemd does when its unit stops. */
static void
kept_remove(int slot)
{
	char path[256];

	kept_kill(slot);
	snprintf(path, sizeof path, "%s%s", kept_base, kept_cg[slot]);
	if (kept_cg[slot][0])
		cr_expect_eq(rmdir(path), 0, "rmdir %s: %s", path,
		    strerror(errno));
	kept_cg[slot][0] = '\0';
}

static void
kept_teardown(void)
{
	kept_remove(0);
	kept_remove(1);
	teardown();
}

/* Open descriptors, from /proc/self/fd. */
static int
open_fds(void)
{
	char cmd[64], out[32];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof cmd, "ls /proc/%ld/fd | wc -l", (long)getpid());
	if ((p = popen(cmd, "r")) != NULL) {
		if (fgets(out, sizeof out, p) != NULL)
			n = atoi(out);
		pclose(p);
	}
	return n;
}

/* What a unit watched each cycle goes through: its cgroup.procs is opened
 * once and read again from the start; when the unit restarts, systemd
 * removes the cgroup and makes it again at the same path, and the next
 * read lists the new processes, not an empty or stale list. */
Test(procfs, a_kept_cgroup_is_read_again_and_follows_a_restart,
    .fini = kept_teardown)
{
	struct procfs_procs pp = { 0 };
	pid_t pids[8], first, second;
	char cg[64];
	int fd, fds;

	kept_make(0);
	first = kept_spawn(0);
	cr_assert_eq(procfs_procs_read(&pp, kept_cg[0], pids, 8), 1u);
	cr_expect_eq(pids[0], first);
	cr_assert_not_null(pp.cgroup, "the file was not kept open");
	fd = pp.fd;
	fds = open_fds();
	cr_assert_eq(procfs_procs_read(&pp, kept_cg[0], pids, 8), 1u);
	cr_expect_eq(pids[0], first);
	cr_expect_eq(open_fds(), fds);
	/* The same open file, not one opened again by its path, which
	 * would take the same number: a mark on the descriptor stays. */
	cr_assert_eq(fcntl(fd, F_SETFD, 0), 0);
	cr_assert_eq(procfs_procs_read(&pp, kept_cg[0], pids, 8), 1u);
	cr_expect_eq(pids[0], first);
	cr_expect_eq(pp.fd, fd);
	cr_expect_eq(fcntl(pp.fd, F_GETFD), 0, "opened again");
	cr_assert_eq(fcntl(pp.fd, F_SETFD, FD_CLOEXEC), 0);

	/* The restart: the old cgroup goes, a new one takes its path. */
	snprintf(cg, sizeof cg, "%s", kept_cg[0]);
	kept_remove(0);
	kept_make(0);
	cr_assert_str_eq(kept_cg[0], cg);
	second = kept_spawn(0);
	cr_assert_eq(procfs_procs_read(&pp, kept_cg[0], pids, 8), 1u);
	cr_expect_eq(pids[0], second);
	cr_expect_not_null(pp.cgroup);

	/* A cgroup with no processes left is not kept. */
	kept_kill(0);
	cr_expect_eq(procfs_procs_read(&pp, kept_cg[0], pids, 8), 0u);
	cr_expect_null(pp.cgroup);
	procfs_procs_close(&pp);
}

/* Another cgroup given to the same pp (the unit moved to another slice):
 * the kept file is closed, and the new cgroup read. */
Test(procfs, a_kept_cgroup_given_another_path_reads_that_one,
    .fini = kept_teardown)
{
	struct procfs_procs pp = { 0 };
	pid_t pids[8], a, b;

	kept_make(0);
	kept_make(1);
	a = kept_spawn(0);
	b = kept_spawn(1);
	cr_assert_eq(procfs_procs_read(&pp, kept_cg[0], pids, 8), 1u);
	cr_expect_eq(pids[0], a);
	cr_assert_eq(procfs_procs_read(&pp, kept_cg[1], pids, 8), 1u);
	cr_expect_eq(pids[0], b);
	cr_expect_str_eq(pp.cgroup, kept_cg[1]);
	procfs_procs_close(&pp);
	cr_expect_null(pp.cgroup);
}
