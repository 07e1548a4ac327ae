/*
 * The systemd probe: unit state over sd-bus, never a systemctl process.
 *
 * One connection per scope (the user manager, the system manager).  A
 * refresh is one ListUnitsByNames call for every tracked unit plus, per
 * service, pipelined Gets of the few Service properties its state calls
 * for (none for a unit that was not found); unit-file states (enabled or
 * not) are read once at start and again when systemd says unit files
 * changed.  PropertiesChanged signals update a unit between refreshes,
 * so a crash shows within a second, and a daemon-reload (the Reloading
 * signal) brings a refresh of its own.  Nothing here blocks: every call is
 * asynchronous and the bus's fd lives on the loop.
 */
#ifndef LK_SYSTEMD_H
#define LK_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

struct loop;
struct sysd;

struct sysd_unit {
	char *name;
	char *path;		/* D-Bus object path, NULL until known */
	char load[32];
	char active[32];
	char sub[32];
	char file_state[32];	/* "enabled", "disabled", "static", ... */
	char result[32];	/* systemd's Result: "success", "exit-code"... */
	int exit_status;	/* ExecMainStatus */
	char cgroup[512];
	/* Counts the times cgroup was read: once a refresh for a running
	 * unit, so a reader of the unit's processes can tell a new one. */
	unsigned cgroup_gen;
	int64_t main_pid;
	int64_t restarts;
	int64_t since_us;	/* StateChangeTimestamp; 0: unknown */
	bool known;		/* state read at least once */
	bool restarts_read;	/* NRestarts read at least once */
};

/* Called after any tracked unit changed (or a refresh completed). */
typedef void sysd_change_cb(struct sysd *s, void *data);

/*
 * Connects to the user (user = true) or system manager and puts the bus on
 * the loop.  The caller owns the result (sysd_free).  Fails with a clear
 * message when no manager is reachable.
 */
enum lk_code sysd_new(struct loop *loop, bool user, sysd_change_cb *cb,
    void *data, struct sysd **out, struct lk_err *err);
void sysd_free(struct sysd **s);

/*
 * The same for a manager on another host, through ssh (core/busio.h),
 * with ssh_config (or NULL) for ssh's -F.  Only a host name ssh cannot
 * take fails here: a host that cannot be reached is a state, not an
 * error, and the connection is tried again and again, later each time
 * (1 s, 2 s, 4 s... up to a minute).  Until then, and while a connection
 * leaves calls unanswered for longer than sysd_set_answer_ms(), which
 * ends it, sysd_down() is true, sysd_error() says why, and the units keep
 * the state last read.
 */
enum lk_code sysd_new_remote(struct loop *loop, const char *ssh_config,
    const char *host, bool user, sysd_change_cb *cb, void *data,
    struct sysd **out, struct lk_err *err);
/*
 * Asks the manager for nothing (Peer.Ping) when nothing else is asked, so
 * that one that stopped answering is noticed within sysd_set_answer_ms()
 * even while there is nothing to read: another host can freeze, or drop
 * off the network, without closing the connection.
 */
void sysd_ping(struct sysd *s);
/* The host, or NULL for this machine's manager. */
const char *sysd_host(const struct sysd *s);
/* Another host's manager that cannot be reached now. */
bool sysd_down(const struct sysd *s);

/* Starts tracking unit; returns its index.  Idempotent per name. */
size_t sysd_track(struct sysd *s, const char *unit);

/*
 * Tracks what `lookout` shows without a config: the manager's failed units
 * and its running services.  Asynchronous: the units appear with the
 * following refresh.
 */
void sysd_discover(struct sysd *s);

/* Issues a refresh of every tracked unit. */
void sysd_refresh(struct sysd *s);

/*
 * How long the manager may leave a call unanswered before it counts as not
 * answering (a manager that is stopped, or stuck, accepts a connection and
 * calls, and says nothing until sd-bus gives up after 90 s): from then on,
 * until it answers again, sysd_error() is "systemd user manager: no answer
 * within N s" and sysd_idle() is true, so nobody waits for it any longer.
 * 0 (the default): as long as sd-bus waits.
 */
void sysd_set_answer_ms(struct sysd *s, int64_t ms);

/* True when no call is in flight (every answer so far is in), or the
 * manager has stopped answering (sysd_set_answer_ms). */
bool sysd_idle(const struct sysd *s);
/* True when it has stopped answering. */
bool sysd_silent(const struct sysd *s);

/* Set when the connection failed, a call came back with an error, or the
 * manager does not answer. */
const char *sysd_error(const struct sysd *s);

size_t sysd_count(const struct sysd *s);
const struct sysd_unit *sysd_unit(const struct sysd *s, size_t i);
const char *sysd_scope(const struct sysd *s);

#endif
