#include "procfs.h"
#include "probes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const cgroup_roots[] = {
	"/sys/fs/cgroup/unified",	/* hybrid: the cgroup2 tree */
	"/sys/fs/cgroup",		/* pure cgroup2 */
	"/sys/fs/cgroup/systemd",	/* legacy: systemd's named v1 tree */
};

size_t
procfs_cgroup_pids(const char *cgroup, pid_t *pids, size_t max)
{
	char path[4096];
	size_t n = 0;

	if (cgroup == NULL || *cgroup != '/' || strstr(cgroup, "..") != NULL)
		return 0;
	for (size_t r = 0; r < sizeof cgroup_roots / sizeof cgroup_roots[0];
	    r++) {
		FILE *f;
		long pid;

		snprintf(path, sizeof path, "%s%s/cgroup.procs",
		    cgroup_roots[r], cgroup);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		while (n < max && fscanf(f, "%ld", &pid) == 1)
			pids[n++] = (pid_t)pid;
		fclose(f);
		if (n > 0)
			return n;
	}
	return n;
}

/* Returns true if /proc/pid/<what> points at something deleted, with the
 * path (without the " (deleted)" suffix) in target. */
static int
link_deleted(pid_t pid, const char *what, char *target, size_t len)
{
	static const char suffix[] = " (deleted)";
	char path[64];
	ssize_t n;
	size_t sl = sizeof suffix - 1;

	snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, what);
	n = readlink(path, target, len - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	if ((size_t)n <= sl || strcmp(target + n - sl, suffix) != 0)
		return 0;
	target[n - sl] = '\0';
	return 1;
}

unsigned
procfs_check_deleted(const pid_t *pids, size_t n, char *detail, size_t len)
{
	unsigned flags = 0;
	char target[4096];

	if (len > 0)
		detail[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (link_deleted(pids[i], "cwd", target, sizeof target)) {
			if (flags == 0)
				snprintf(detail, len, "pid %ld runs in deleted "
				    "%s", (long)pids[i], target);
			flags |= SVC_DELETED_CWD;
		}
		if (link_deleted(pids[i], "exe", target, sizeof target)) {
			if (flags == 0)
				snprintf(detail, len, "pid %ld runs deleted "
				    "binary %s", (long)pids[i], target);
			flags |= SVC_DELETED_EXE;
		}
	}
	return flags;
}
