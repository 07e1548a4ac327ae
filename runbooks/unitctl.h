/*
 * The systemctl.* runbook actions over sd-bus, never a systemctl process.
 *
 * One connection per scope (user or system manager), subscribed to the
 * manager's signals.  start, stop, restart and reload queue a job and wait
 * for its JobRemoved signal, then read the unit's state: systemctl's own
 * success ("the job was queued") is not what an engineer means by "started".
 * enable and disable change the unit-file symlinks, reload the manager and
 * read UnitFileState back.  Several operations may be in flight at once on
 * one connection; each has its own deadline, and nothing here blocks: every
 * call is asynchronous and the bus's fd lives on the loop.
 */
#ifndef LK_UNITCTL_H
#define LK_UNITCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/err.h"

struct loop;
struct unitctl;

enum unitctl_op {
	UNITCTL_START,
	UNITCTL_STOP,
	UNITCTL_RESTART,
	UNITCTL_RELOAD,
	UNITCTL_ENABLE,
	UNITCTL_DISABLE
};

/* Used when unitctl_run is given a timeout <= 0. */
#define UNITCTL_DEFAULT_TIMEOUT_MS 30000

/*
 * How long a start or restart whose job is "done" waits before reading the
 * unit's state.  systemd finishes the start job of a Type=simple service as
 * soon as it has forked, so a service that dies at once would otherwise
 * still read "active (running)".  This catches an immediate crash, not one
 * a second later: that is what the runbook's endpoint check is for.
 */
#define UNITCTL_SETTLE_MS 250

/* "start", "stop", ...; "?" for a value outside the enum. */
const char *unitctl_op_name(enum unitctl_op op);

struct unitctl_result {
	enum unitctl_op op;
	const char *unit;	/* valid only during the callback */
	bool ok;
	/* JobRemoved's result: done, failed, timeout, canceled, dependency,
	 * skipped...; "" for enable and disable and when no job ended. */
	char job_result[32];
	/*
	 * When !ok, why, in systemd's own words where it has any: the D-Bus
	 * error message ("Unit foo.service not found."), the unit's Result and
	 * exit status ("start job done, but the unit entered failed state
	 * (Result: exit-code, status 1)"), "nothing to enable: the unit file
	 * has no [Install] section", or "no answer within 500 ms (...)".
	 */
	char reason[256];
	char active[32], sub[32];	/* the unit's state afterwards */
	char file_state[32];		/* UnitFileState afterwards */
	int64_t main_pid;		/* MainPID afterwards, 0 if none */
	int64_t duration_ms;
};

/* The result and everything it points to belong to unitctl. */
typedef void unitctl_done_cb(const struct unitctl_result *r, void *data);

/*
 * Connects to the user (user = true) or system manager, puts the bus on
 * the loop, matches JobRemoved and subscribes, all before any operation can
 * be sent.  The caller owns the result (unitctl_free).
 */
enum lk_code unitctl_new(struct loop *loop, bool user, struct unitctl **out,
    struct lk_err *err);

/*
 * The same for the manager of another host, through ssh and
 * systemd-stdio-bridge (core/busio.h): ssh_config (or NULL) for ssh -F,
 * host an ssh destination (lk_ssh_host_ok).  When ssh ends, every
 * operation in flight fails with what it said, and so does every one
 * after: unitctl_broken() tells the caller to connect again.
 */
enum lk_code unitctl_new_remote(struct loop *loop, const char *ssh_config,
    const char *host, bool user, struct unitctl **out, struct lk_err *err);
/* Whether the connection is gone for good. */
bool unitctl_broken(const struct unitctl *u);

/*
 * Starts op on unit and returns 0; cb is then called exactly once, from
 * the loop, never from inside unitctl_run, even when the call could not be
 * sent.  timeout_ms <= 0 means UNITCTL_DEFAULT_TIMEOUT_MS.  A timed-out job
 * is left to systemd: the deadline ends our wait, not the job.  Returns -1
 * with errno EINVAL (and never calls cb) for an unknown op, an empty unit
 * name or no cb.  unit is copied; a name without a suffix means a
 * service, as with systemctl.  data is not owned.
 */
int unitctl_run(struct unitctl *u, enum unitctl_op op, const char *unit,
    int64_t timeout_ms, unitctl_done_cb *cb, void *data);

/* Operations still in flight. */
int unitctl_pending(const struct unitctl *u);

/*
 * Frees *up and sets it to NULL.  Operations still in flight are dropped
 * without a callback (their jobs go on in systemd).  Safe from inside a
 * unitctl_done_cb.
 */
void unitctl_free(struct unitctl **up);

/*
 * Sets the wait after a "done" start or restart job for the operations
 * started from now on (UNITCTL_SETTLE_MS by default, 0 for none).  A
 * runbook that checks the endpoint next does not need it.
 */
void unitctl_set_settle(struct unitctl *u, int64_t ms);

#endif
