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
