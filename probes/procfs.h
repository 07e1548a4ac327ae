/*
 * /proc sanity: "active" is not "working".  A unit whose processes run from
 * a directory or binary that has been deleted (seed 001: workers started
 * from a release directory that a later deploy removed) looks healthy to
 * systemd; these checks say otherwise.
 */
#ifndef LK_PROCFS_H
#define LK_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Reads the pids in a unit's cgroup (systemd's ControlGroup property, e.g.
 * "/user.slice/.../app.service"), looking in the unified hierarchy first.
 * Returns how many were written to pids (at most max), 0 if none readable.
 */
size_t procfs_cgroup_pids(const char *cgroup, pid_t *pids, size_t max);

/*
 * A cgroup's cgroup.procs kept open from one read to the next, for what
 * reads the same unit's every cycle (`watch`): a path walk saved each
 * time.  Zeroed is closed.  It stays valid across the unit's restarts: a
 * removed cgroup answers ENODEV and is opened again by its path.
 */
struct procfs_procs {
	char *cgroup;		/* the cgroup fd lists; NULL: closed */
	int fd;
};

/* procfs_cgroup_pids() through pp, which keeps the file open when the
 * cgroup lists processes (and fewer than half our descriptors are used). */
size_t procfs_procs_read(struct procfs_procs *pp, const char *cgroup,
    pid_t *pids, size_t max);
void procfs_procs_close(struct procfs_procs *pp);

/*
 * The cgroup of unit from the text of a /proc/PID/cgroup file of one of its
 * processes: the path in the unified (or else systemd's named) hierarchy,
 * cut after the path component that is the unit's name, so that a process
 * in a sub-cgroup of a delegated unit still gives the unit's own.  Returns
 * false if no path names the unit (the process is not the unit's).
 */
bool procfs_unit_cgroup_parse(const char *text, const char *unit, char *out,
    size_t len);

/* The same, reading /proc/PID/cgroup.  False if the process is gone. */
bool procfs_unit_cgroup(pid_t pid, const char *unit, char *out, size_t len);

/*
 * Checks each pid's cwd and exe.  Returns SVC_DELETED_CWD and/or
 * SVC_DELETED_EXE and describes the first finding in detail, e.g.
 * "pid 812 runs in deleted /srv/app/releases/65".  Processes we may not
 * inspect are skipped.
 */
unsigned procfs_check_deleted(const pid_t *pids, size_t n, char *detail,
    size_t len);

/* Fills p for pid (where it runs, from what binary); false if the process
 * is gone. */
struct probe_proc;
bool procfs_describe(pid_t pid, struct probe_proc *p);

/* Whether a link's target as readlink() gives it is deleted: strips the
 * " (deleted)" the kernel puts after it. */
bool procfs_strip_deleted(char *target);

/* procfs_check_deleted() for processes already described (another
 * host's, read over ssh). */
unsigned procfs_procs_deleted(const struct probe_proc *p, size_t n,
    char *detail, size_t len);

#endif
