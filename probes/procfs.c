#include "procfs.h"
#include "probes.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../core/err.h"

static const char *const cgroup_roots[] = {
	"/sys/fs/cgroup/unified",	/* hybrid: the cgroup2 tree */
	"/sys/fs/cgroup",		/* pure cgroup2 */
	"/sys/fs/cgroup/systemd",	/* legacy: systemd's named v1 tree */
};

/* The path of a /proc/PID/cgroup line in a hierarchy we read, or NULL:
 * "0::/a/b" (cgroup2) or "1:name=systemd:/a/b" (systemd's v1 tree). */
static const char *
line_path(const char *line, size_t n, bool unified, size_t *plen)
{
	const char *c1 = memchr(line, ':', n), *c2;

	if (c1 == NULL || (c2 = memchr(c1 + 1, ':', n - (size_t)(c1 + 1 -
	    line))) == NULL)
		return NULL;
	if (unified ? c2 != c1 + 1 || c1 - line != 1 || *line != '0' :
	    (size_t)(c2 - c1 - 1) != strlen("name=systemd") ||
	    strncmp(c1 + 1, "name=systemd", (size_t)(c2 - c1 - 1)) != 0)
		return NULL;
	*plen = n - (size_t)(c2 + 1 - line);
	return c2 + 1;
}

bool
procfs_unit_cgroup_parse(const char *text, const char *unit, char *out,
    size_t len)
{
	size_t ulen = strlen(unit);

	if (ulen == 0 || len == 0)
		return false;
	/* The unified hierarchy first, as procfs_cgroup_pids reads it. */
	for (int pass = 0; pass < 2; pass++) {
		for (const char *l = text; *l != '\0';) {
			const char *nl = strchr(l, '\n');
			size_t n = nl ? (size_t)(nl - l) : strlen(l), plen;
			const char *path = line_path(l, n, pass == 0, &plen);

			for (size_t i = 0; path != NULL && i + ulen < plen;
			    i++) {
				const char *end = path + i + 1 + ulen;

				if (path[i] == '/' && memcmp(path + i + 1,
				    unit, ulen) == 0 && (end == path + plen ||
				    *end == '/') &&
				    (size_t)(end - path) < len) {
					memcpy(out, path, (size_t)(end - path));
					out[end - path] = '\0';
					return true;
				}
			}
			l = nl ? nl + 1 : l + n;
		}
	}
	return false;
}

bool
procfs_unit_cgroup(pid_t pid, const char *unit, char *out, size_t len)
{
	char path[64], text[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/cgroup", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	return procfs_unit_cgroup_parse(text, unit, out, len);
}

/*
 * The pids the open cgroup.procs fd lists, read from its start, at most
 * max; 0 if it cannot be read (ENODEV once the cgroup is removed).
 * read(2) rather than stdio: `watch` reads one per running unit each
 * cycle, and stdio would add a stat and a buffer to each.
 */
static size_t
read_pids(int fd, pid_t *pids, size_t max)
{
	char buf[4096];
	size_t n = 0, have = 0;
	off_t off = 0;
	ssize_t r = 0;

	/* One pid a line; a line the buffer cut waits for its end.  pread
	 * at 0 restarts the kernel's walk of the cgroup's tasks. */
	while (n < max && (r = pread(fd, buf + have, sizeof buf - 1 - have,
	    off)) > 0) {
		char *p = buf, *end = buf + have + (size_t)r, *nl;

		off += r;
		while (n < max && (nl = memchr(p, '\n', (size_t)(end - p))) !=
		    NULL) {
			long pid;

			*nl = '\0';
			pid = strtol(p, NULL, 10);
			if (pid > 0)
				pids[n++] = (pid_t)pid;
			p = nl + 1;
		}
		/* The kernel's seq_file fills a read while the cgroup has
		 * pids left, so a short one was the end: no read for EOF. */
		if ((size_t)r < sizeof buf - 1 - have)
			break;
		have = (size_t)(end - p);
		memmove(buf, p, have);
	}
	return n;
}

/* Opens the cgroup's cgroup.procs, looking in the unified hierarchy
 * first: how many pids it lists (with *fd open) or 0 (none open). */
static size_t
open_pids(const char *cgroup, pid_t *pids, size_t max, int *fd)
{
	char path[4096];
	size_t n;

	if (cgroup == NULL || *cgroup != '/' || strstr(cgroup, "..") != NULL)
		return 0;
	for (size_t r = 0; r < sizeof cgroup_roots / sizeof cgroup_roots[0];
	    r++) {
		snprintf(path, sizeof path, "%s%s/cgroup.procs",
		    cgroup_roots[r], cgroup);
		if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		if ((n = read_pids(*fd, pids, max)) > 0)
			return n;
		close(*fd);
	}
	return 0;
}

void
procfs_procs_close(struct procfs_procs *pp)
{
	if (pp->cgroup == NULL)
		return;
	close(pp->fd);
	free(pp->cgroup);
	pp->cgroup = NULL;
}

/*
 * Whether fd may stay open: a watched unit keeps one, and with more units
 * than half the descriptors we may have, the rest are opened for each
 * read instead, so that sockets and children always find one.
 */
static bool
may_keep(int fd)
{
	static rlim_t half;
	struct rlimit rl;

	if (half == 0)
		half = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur / 2 : 512;
	return (rlim_t)fd < half;
}

size_t
procfs_procs_read(struct procfs_procs *pp, const char *cgroup, pid_t *pids,
    size_t max)
{
	size_t n;
	int fd;

	if (pp->cgroup != NULL) {
		/* The unit moved to another cgroup, or its cgroup was
		 * removed (ENODEV: it stopped or restarted) or emptied: the
		 * path is walked again. */
		if (cgroup != NULL && strcmp(pp->cgroup, cgroup) == 0 &&
		    (n = read_pids(pp->fd, pids, max)) > 0)
			return n;
		procfs_procs_close(pp);
	}
	if ((n = open_pids(cgroup, pids, max, &fd)) == 0)
		return 0;
	if (may_keep(fd)) {
		pp->fd = fd;
		pp->cgroup = lk_xstrdup(cgroup);
	} else
		close(fd);
	return n;
}

size_t
procfs_cgroup_pids(const char *cgroup, pid_t *pids, size_t max)
{
	int fd;
	size_t n = open_pids(cgroup, pids, max, &fd);

	if (n > 0)
		close(fd);
	return n;
}

/*
 * Reads /proc/pid/<what> into target: 1 if it points at something
 * deleted (target then without the " (deleted)" suffix), 0 if not, -1 if
 * it could not be read.
 */
static int
read_link(pid_t pid, const char *what, char *target, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, what);
	n = readlink(path, target, len - 1);
	if (n < 0) {
		target[0] = '\0';
		return -1;
	}
	target[n] = '\0';
	return procfs_strip_deleted(target);
}

bool
procfs_strip_deleted(char *target)
{
	static const char suffix[] = " (deleted)";
	size_t n = strlen(target), sl = sizeof suffix - 1;

	if (n <= sl || strcmp(target + n - sl, suffix) != 0)
		return false;
	target[n - sl] = '\0';
	return true;
}

static int
link_deleted(pid_t pid, const char *what, char *target, size_t len)
{
	return read_link(pid, what, target, len) == 1;
}

bool
procfs_describe(pid_t pid, struct probe_proc *p)
{
	char path[64];
	size_t n;
	FILE *f;

	memset(p, 0, sizeof *p);
	p->pid = pid;
	snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	n = fread(p->comm, 1, sizeof p->comm - 1, f);
	fclose(f);
	p->comm[n] = '\0';
	p->comm[strcspn(p->comm, "\n")] = '\0';
	p->cwd_deleted = read_link(pid, "cwd", p->cwd, sizeof p->cwd) == 1;
	p->exe_deleted = read_link(pid, "exe", p->exe, sizeof p->exe) == 1;
	return true;
}

/* Adds what one process runs from to flags, the first one in detail. */
static void
note_deleted(unsigned *flags, long pid, const char *cwd, const char *exe,
    char *detail, size_t len)
{
	if (cwd != NULL) {
		if (*flags == 0)
			snprintf(detail, len, "pid %ld runs in deleted %s",
			    pid, cwd);
		*flags |= SVC_DELETED_CWD;
	}
	if (exe != NULL) {
		if (*flags == 0)
			snprintf(detail, len, "pid %ld runs deleted binary %s",
			    pid, exe);
		*flags |= SVC_DELETED_EXE;
	}
}

unsigned
procfs_check_deleted(const pid_t *pids, size_t n, char *detail, size_t len)
{
	unsigned flags = 0;
	char cwd[4096], exe[4096];

	if (len > 0)
		detail[0] = '\0';
	for (size_t i = 0; i < n; i++)
		note_deleted(&flags, (long)pids[i],
		    link_deleted(pids[i], "cwd", cwd, sizeof cwd) ? cwd : NULL,
		    link_deleted(pids[i], "exe", exe, sizeof exe) ? exe : NULL,
		    detail, len);
	return flags;
}

unsigned
procfs_procs_deleted(const struct probe_proc *p, size_t n, char *detail,
    size_t len)
{
	unsigned flags = 0;

	if (len > 0)
		detail[0] = '\0';
	for (size_t i = 0; i < n; i++)
		note_deleted(&flags, p[i].pid, p[i].cwd_deleted ? p[i].cwd :
		    NULL, p[i].exe_deleted ? p[i].exe : NULL, detail, len);
	return flags;
}
