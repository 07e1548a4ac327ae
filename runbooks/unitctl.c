/*
 * The systemctl.* actions over sd-bus.  See unitctl.h for what each
 * operation waits for.
 *
 * An operation is a small state machine that always has at most one call
 * in flight, on a slot it owns: dropping the slot cancels the call, which
 * is how a deadline or unitctl_free ends an operation cleanly.  Results are
 * never handed over from inside sd_bus_process: a finished operation moves
 * to a queue that a zero-delay loop timer delivers, so a callback may start
 * new operations or free the whole unitctl without pulling the bus out from
 * under sd-bus.
 */
#include "unitctl.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>

#include "../core/loop.h"
#include "../core/busio.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_UNIT_PATH "/org/freedesktop/systemd1/unit"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define PROPS "org.freedesktop.DBus.Properties"

/* JobRemoved signals remembered for jobs whose path we have not been told
 * yet (see on_job_removed). */
#define SEEN_MAX 32

enum stage {
	ST_CALL,	/* waiting for the method's reply */
	ST_JOB,		/* waiting for the job's JobRemoved */
	ST_SETTLE,	/* job done; giving a crash a moment to show */
	ST_RELOAD,	/* waiting for Manager.Reload */
	ST_STATE,	/* reading the unit's properties */
	ST_DONE
};

struct uop {
	struct unitctl *u;
	struct uop *prev, *next;	/* in u->ops, then in the done queue */
	enum unitctl_op op;
	enum stage stage;
	char *unit;
	char *path;		/* the unit's object path */
	char *job;		/* the job's object path, once known */
	sd_bus_slot *slot;	/* the call in flight; owned */
	long long deadline;	/* timer ids, 0 when not armed */
	long long settle;
	long long start_ms, end_ms;
	unitctl_done_cb *cb;
	void *data;
	char unit_result[32];	/* the service's Result */
	int exec_code;		/* ExecMainCode: CLD_EXITED, CLD_KILLED... */
	int exec_status;	/* ExecMainStatus */
	struct unitctl_result res;
};

struct seen_job {
	char *path;
	char result[32];
};

struct unitctl {
	struct loop *loop;
	sd_bus *bus;
	bool user;
	struct busio io;
	long long kick;		/* delivers the done queue, 0 if not armed */
	struct uop *ops;	/* in flight */
	struct uop *done_head, *done_tail;
	struct seen_job seen[SEEN_MAX];
	unsigned seen_next;
	int pending;		/* operations whose callback is still due */
	bool broken;		/* the connection is gone */
	bool delivering;	/* inside on_kick */
	bool dead;		/* unitctl_free called while delivering */
	int64_t settle_ms;	/* see unitctl_set_settle */
	char error[LK_ERR_MAX];
	/* Another host's manager (unitctl_new_remote), or NULL. */
	char *host;
	struct busio_ssh *ssh;	/* the ssh that carries the bus */
};

static void read_state(struct uop *op);
static void really_free(struct unitctl *u);

static const char *const op_names[] = {
	[UNITCTL_START] = "start",
	[UNITCTL_STOP] = "stop",
	[UNITCTL_RESTART] = "restart",
	[UNITCTL_RELOAD] = "reload",
	[UNITCTL_ENABLE] = "enable",
	[UNITCTL_DISABLE] = "disable",
};

const char *
unitctl_op_name(enum unitctl_op op)
{
	if ((unsigned)op >= sizeof op_names / sizeof op_names[0])
		return "?";
	return op_names[op];
}

static void
copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* --- finishing and delivering --------------------------------------------- */

static void
op_release(struct uop *op)
{
	struct loop *l = op->u->loop;

	op->slot = sd_bus_slot_unref(op->slot);
	if (op->deadline)
		loop_del_timer(l, op->deadline);
	if (op->settle)
		loop_del_timer(l, op->settle);
	op->deadline = op->settle = 0;
}

static void
op_free(struct uop *op)
{
	op_release(op);
	free(op->unit);
	free(op->path);
	free(op->job);
	free(op);
}

static long long
on_kick(struct loop *l, long long id, void *data)
{
	struct unitctl *u = data;
	struct uop *op;

	(void)l;
	(void)id;
	u->kick = 0;
	u->delivering = true;
	while (!u->dead && (op = u->done_head) != NULL) {
		u->done_head = op->next;
		if (u->done_head == NULL)
			u->done_tail = NULL;
		u->pending--;
		op->res.unit = op->unit;
		op->cb(&op->res, op->data);
		op_free(op);
	}
	u->delivering = false;
	if (u->dead)
		really_free(u);
	return LOOP_NOMORE;
}

/* Ends op's wait and queues its result for delivery from the loop. */
static void
finish(struct uop *op)
{
	struct unitctl *u = op->u;

	if (op->stage == ST_DONE)
		return;
	op->stage = ST_DONE;
	op_release(op);
	op->res.duration_ms = loop_now_ms() - op->start_ms;
	if (op->prev != NULL)
		op->prev->next = op->next;
	else
		u->ops = op->next;
	if (op->next != NULL)
		op->next->prev = op->prev;
	op->prev = op->next = NULL;
	if (u->done_tail != NULL)
		u->done_tail->next = op;
	else
		u->done_head = op;
	u->done_tail = op;
	if (u->kick == 0)
		u->kick = loop_add_timer(u->loop, 0, on_kick, u);
}

static void op_fail(struct uop *op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
op_fail(struct uop *op, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(op->res.reason, sizeof op->res.reason, fmt, ap);
	va_end(ap);
	op->res.ok = false;
	finish(op);
}

/* --- the bus on the loop -------------------------------------------------- */

static void
process(struct unitctl *u)
{
	int r;

	do {
		r = sd_bus_process(u->bus, NULL);
	} while (r > 0);
	if (r < 0 && !u->broken) {
		/*
		 * A closed connection stays readable for ever: stop watching
		 * it, or every pass would spin on it.
		 */
		const char *said = u->ssh ? busio_ssh_said(u->ssh) : "";

		u->broken = true;
		snprintf(u->error, sizeof u->error,
		    "connection to the systemd %s manager%s%s lost: %s%s%s",
		    u->user ? "user" : "system", u->host ? " on " : "",
		    u->host ? u->host : "", strerror(-r),
		    said[0] ? "; ssh said: " : "", said);
		while (u->ops != NULL)
			op_fail(u->ops, "%s", u->error);
	}
	busio_update(&u->io, u->broken);
}

/* The ssh under another host's bus ended: every operation fails with
 * what it said. */
static void
on_ssh_gone(void *owner)
{
	struct unitctl *u = owner;

	if (u->broken)
		return;
	u->broken = true;
	snprintf(u->error, sizeof u->error, "%s", busio_ssh_why(u->ssh) ?
	    busio_ssh_why(u->ssh) : "ssh ended");
	while (u->ops != NULL)
		op_fail(u->ops, "%s", u->error);
	busio_update(&u->io, true);
}

static void
process_cb(void *owner)
{
	process(owner);
}


/* --- calls ---------------------------------------------------------------- */

/*
 * Sends one call for op on a slot op owns.  sd-bus's own call timeout is
 * set past op's deadline, so that the deadline, with its clearer message,
 * is what ends a slow call.
 */
static int
op_call(struct uop *op, const char *path, const char *iface,
    const char *member, sd_bus_message_handler_t cb, const char *types, ...)
{
	struct unitctl *u = op->u;
	sd_bus_message *m = NULL;
	long long left = op->end_ms - loop_now_ms();
	va_list ap;
	int r;

	if (u->broken)
		return -ENOTCONN;
	r = sd_bus_message_new_method_call(u->bus, &m, SD_DEST, path, iface,
	    member);
	if (r >= 0 && types != NULL) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_call_async(u->bus, &op->slot, m, cb, op,
		    (uint64_t)(left > 0 ? left + 1000 : 1000) * 1000);
	sd_bus_message_unref(m);
	return r;
}

/*
 * Common start of every reply handler: the call is over, so its slot goes
 * (sd-bus holds its own reference while the handler runs).  An error
 * reply ends op with systemd's message.
 */
static bool
reply_ok(struct uop *op, sd_bus_message *m)
{
	const sd_bus_error *e;

	op->slot = sd_bus_slot_unref(op->slot);
	if (!sd_bus_message_is_method_error(m, NULL))
		return true;
	e = sd_bus_message_get_error(m);
	if (e != NULL && e->message != NULL)
		op_fail(op, "%s", e->message);
	else
		op_fail(op, "%s failed: %s", unitctl_op_name(op->op),
		    strerror(sd_bus_message_get_errno(m)));
	return false;
}

/* --- the verdict ---------------------------------------------------------- */

/*
 * "the unit entered failed state (Result: exit-code, status 1)", or
 * "the unit is activating (auto-restart; Result: signal, SIGKILL)".
 */
static void
describe_unit(const struct uop *op, char *buf, size_t len)
{
	const struct unitctl_result *r = &op->res;
	const char *sig;
	char why[80] = "";

	if (op->unit_result[0] != '\0' &&
	    strcmp(op->unit_result, "success") != 0) {
		sig = sigabbrev_np(op->exec_status);
		if (op->exec_code == CLD_EXITED)
			snprintf(why, sizeof why, "Result: %s, status %d",
			    op->unit_result, op->exec_status);
		else if ((op->exec_code == CLD_KILLED ||
		    op->exec_code == CLD_DUMPED) && sig != NULL)
			snprintf(why, sizeof why, "Result: %s, SIG%s",
			    op->unit_result, sig);
		else
			snprintf(why, sizeof why, "Result: %s",
			    op->unit_result);
	}
	if (strcmp(r->active, "failed") == 0)
		snprintf(buf, len, "the unit entered failed state%s%s%s",
		    why[0] ? " (" : "", why, why[0] ? ")" : "");
	else
		snprintf(buf, len, "the unit is %s (%s%s%s)", r->active,
		    r->sub, why[0] ? "; " : "", why);
}

/* What a JobRemoved result other than "done" means, after "<op> job ". */
static const char *
job_result_text(const char *result)
{
	static const struct {
		const char *result, *text;
	} texts[] = {
		{ "failed", "failed" },
		{ "dependency", "failed: a unit it depends on failed" },
		{ "timeout", "timed out in systemd" },
		{ "canceled", "was canceled (another job replaced it)" },
		{ "skipped", "was skipped" },
		{ "invalid", "does not apply to the unit in its state" },
		{ "assert", "failed: an Assert*= condition of the unit failed" },
		{ "unsupported", "is not supported for this unit type" },
		{ "collected", "was collected before it ran" },
		{ "once", "was refused: the unit may only be started once" },
	};

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		if (strcmp(texts[i].result, result) == 0)
			return texts[i].text;
	return NULL;
}

/* A unit that is up, or that ran to completion (a oneshot), after start. */
static bool
unit_up(const struct uop *op)
{
	const char *a = op->res.active;

	if (strcmp(a, "active") == 0 || strcmp(a, "reloading") == 0)
		return true;
	if (strcmp(a, "failed") == 0)
		return false;
	return op->unit_result[0] == '\0' ||
	    strcmp(op->unit_result, "success") == 0;
}

static void
verdict(struct uop *op)
{
	struct unitctl_result *r = &op->res;
	const char *name = unitctl_op_name(op->op);
	const char *text;
	char state[160];

	r->ok = true;
	if (op->op == UNITCTL_ENABLE || op->op == UNITCTL_DISABLE) {
		finish(op);
		return;
	}
	describe_unit(op, state, sizeof state);
	if (strcmp(r->job_result, "done") != 0) {
		text = job_result_text(r->job_result);
		if (text != NULL)
			op_fail(op, "%s job %s: %s", name, text, state);
		else
			op_fail(op, "%s job ended with result '%s': %s", name,
			    r->job_result, state);
		return;
	}
	if ((op->op == UNITCTL_START || op->op == UNITCTL_RESTART) &&
	    !unit_up(op)) {
		op_fail(op, "%s job done, but %s", name, state);
		return;
	}
	finish(op);
}

/* --- the steps ------------------------------------------------------------ */

static int
on_state(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct uop *op = data;
	struct unitctl_result *r = &op->res;
	const char *key, *str;

	(void)ret;
	if (!reply_ok(op, m))
		return 0;
	if (sd_bus_message_enter_container(m, 'a', "{sv}") <= 0) {
		op_fail(op, "read the state of %s: malformed reply", op->unit);
		return 0;
	}
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		char *dst = NULL;
		size_t len = 0;
		uint32_t u32;
		int32_t i32;

		if (sd_bus_message_read(m, "s", &key) <= 0)
			break;
		if (strcmp(key, "ActiveState") == 0)
			dst = r->active, len = sizeof r->active;
		else if (strcmp(key, "SubState") == 0)
			dst = r->sub, len = sizeof r->sub;
		else if (strcmp(key, "UnitFileState") == 0)
			dst = r->file_state, len = sizeof r->file_state;
		else if (strcmp(key, "Result") == 0)
			dst = op->unit_result, len = sizeof op->unit_result;

		if (dst != NULL && sd_bus_message_read(m, "v", "s", &str) > 0)
			copy_str(dst, len, str);
		else if (dst == NULL && strcmp(key, "MainPID") == 0 &&
		    sd_bus_message_read(m, "v", "u", &u32) > 0)
			r->main_pid = u32;
		else if (dst == NULL && strcmp(key, "ExecMainCode") == 0 &&
		    sd_bus_message_read(m, "v", "i", &i32) > 0)
			op->exec_code = i32;
		else if (dst == NULL && strcmp(key, "ExecMainStatus") == 0 &&
		    sd_bus_message_read(m, "v", "i", &i32) > 0)
			op->exec_status = i32;
		else
			sd_bus_message_skip(m, "v");
		sd_bus_message_exit_container(m);
	}
	sd_bus_message_exit_container(m);
	verdict(op);
	return 0;
}

/*
 * Every property of the unit in one call (the empty interface name means
 * all of them, as `systemctl show` does): Unit for the states and the file
 * state, Service for MainPID, Result and the exit status.
 */
static void
read_state(struct uop *op)
{
	int r;

	op->stage = ST_STATE;
	r = op_call(op, op->path, PROPS, "GetAll", on_state, "s", "");
	if (r < 0)
		op_fail(op, "read the state of %s: %s", op->unit, strerror(-r));
	busio_update(&op->u->io, op->u->broken);
}

static long long
on_settle(struct loop *l, long long id, void *data)
{
	struct uop *op = data;

	(void)l;
	(void)id;
	op->settle = 0;
	read_state(op);
	return LOOP_NOMORE;
}

static void
job_ended(struct uop *op, const char *result)
{
	copy_str(op->res.job_result, sizeof op->res.job_result, result);
	if ((op->op == UNITCTL_START || op->op == UNITCTL_RESTART) &&
	    strcmp(result, "done") == 0 && op->u->settle_ms > 0) {
		op->stage = ST_SETTLE;
		op->settle = loop_add_timer(op->u->loop, op->u->settle_ms,
		    on_settle, op);
		return;
	}
	read_state(op);
}

static bool
calls_outstanding(const struct unitctl *u)
{
	for (const struct uop *op = u->ops; op != NULL; op = op->next)
		if (op->stage == ST_CALL && op->job == NULL)
			return true;
	return false;
}

/*
 * JobRemoved(u id, o job, s unit, s result).  The match was installed
 * before any job could be queued.  systemd answers StartUnit before it runs
 * the job, so the reply normally comes first; but where the signal does
 * come first, it is remembered until the reply names its job.
 */
static int
on_job_removed(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct unitctl *u = data;
	const char *job, *unit, *result;
	struct seen_job *s;
	uint32_t id;

	(void)ret;
	if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) <= 0)
		return 0;
	for (struct uop *op = u->ops; op != NULL; op = op->next) {
		if (op->stage == ST_JOB && strcmp(op->job, job) == 0) {
			job_ended(op, result);
			return 0;
		}
	}
	if (!calls_outstanding(u))
		return 0;
	s = &u->seen[u->seen_next++ % SEEN_MAX];
	free(s->path);
	s->path = lk_xstrdup(job);
	copy_str(s->result, sizeof s->result, result);
	return 0;
}

static int
on_job_queued(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct uop *op = data;
	struct unitctl *u = op->u;
	const char *job;

	(void)ret;
	if (!reply_ok(op, m))
		return 0;
	if (sd_bus_message_read(m, "o", &job) <= 0) {
		op_fail(op, "%s %s: malformed reply", unitctl_op_name(op->op),
		    op->unit);
		return 0;
	}
	op->job = lk_xstrdup(job);
	for (size_t i = 0; i < SEEN_MAX; i++) {
		struct seen_job *s = &u->seen[i];

		if (s->path != NULL && strcmp(s->path, job) == 0) {
			free(s->path);
			s->path = NULL;
			job_ended(op, s->result);
			return 0;
		}
	}
	op->stage = ST_JOB;
	return 0;
}

static int
on_reloaded(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct uop *op = data;

	(void)ret;
	if (reply_ok(op, m))
		read_state(op);
	return 0;
}

/*
 * The symlinks changed; the manager must reload to see them, as
 * `systemctl enable` does, before UnitFileState means anything.
 */
static void
reload_manager(struct uop *op)
{
	int r;

	op->stage = ST_RELOAD;
	r = op_call(op, SD_PATH, SD_MANAGER, "Reload", on_reloaded, NULL);
	if (r < 0)
		op_fail(op, "reload the systemd manager: %s", strerror(-r));
	busio_update(&op->u->io, op->u->broken);
}

/* Counts the a(sss) of changes at m's position. */
static int
count_changes(sd_bus_message *m)
{
	const char *type, *from, *to;
	int n = 0;

	if (sd_bus_message_enter_container(m, 'a', "(sss)") <= 0)
		return -1;
	while (sd_bus_message_read(m, "(sss)", &type, &from, &to) > 0)
		n++;
	sd_bus_message_exit_container(m);
	return n;
}

static int
on_enabled(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct uop *op = data;
	int carries = 0, changes;

	(void)ret;
	if (!reply_ok(op, m))
		return 0;
	if (sd_bus_message_read(m, "b", &carries) <= 0 ||
	    (changes = count_changes(m)) < 0) {
		op_fail(op, "enable %s: malformed reply", op->unit);
		return 0;
	}
	/* An already enabled unit carries install info and changes nothing. */
	if (!carries && changes == 0) {
		op_fail(op, "nothing to enable: the unit file has no "
		    "[Install] section");
		return 0;
	}
	reload_manager(op);
	return 0;
}

static int
on_disabled(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct uop *op = data;

	(void)ret;
	if (!reply_ok(op, m))
		return 0;
	if (count_changes(m) < 0) {
		op_fail(op, "disable %s: malformed reply", op->unit);
		return 0;
	}
	reload_manager(op);
	return 0;
}

static long long
on_deadline(struct loop *l, long long id, void *data)
{
	struct uop *op = data;
	const char *name = unitctl_op_name(op->op);
	const char *what = "";

	(void)l;
	(void)id;
	op->deadline = 0;
	switch (op->stage) {
	case ST_CALL:
		what = "systemd has not answered the call";
		break;
	case ST_JOB:
		what = "the job is still queued or running";
		break;
	case ST_SETTLE:
	case ST_STATE:
		what = "reading the unit's state";
		break;
	case ST_RELOAD:
		what = "the manager is still reloading";
		break;
	case ST_DONE:
		return LOOP_NOMORE;
	}
	op_fail(op, "no answer within %lld ms (%s %s: %s)",
	    op->end_ms - op->start_ms, name, op->unit, what);
	return LOOP_NOMORE;
}

/* --- the API -------------------------------------------------------------- */

int
unitctl_run(struct unitctl *u, enum unitctl_op op, const char *unit,
    int64_t timeout_ms, unitctl_done_cb *cb, void *data)
{
	static const char *const methods[] = {
		[UNITCTL_START] = "StartUnit",
		[UNITCTL_STOP] = "StopUnit",
		[UNITCTL_RESTART] = "RestartUnit",
		[UNITCTL_RELOAD] = "ReloadUnit",
	};
	struct uop *o;
	int r;

	if ((unsigned)op > UNITCTL_DISABLE || unit == NULL ||
	    unit[0] == '\0' || cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (timeout_ms <= 0)
		timeout_ms = UNITCTL_DEFAULT_TIMEOUT_MS;
	o = lk_xcalloc(1, sizeof *o);
	o->u = u;
	o->op = op;
	o->res.op = op;
	o->cb = cb;
	o->data = data;
	/* Like systemctl, a bare name means a service. */
	o->unit = strchr(unit, '.') ? lk_xstrdup(unit) :
	    lk_xasprintf("%s.service", unit);
	o->start_ms = loop_now_ms();
	o->end_ms = o->start_ms + timeout_ms;
	o->stage = ST_CALL;
	o->next = u->ops;
	if (u->ops != NULL)
		u->ops->prev = o;
	u->ops = o;
	u->pending++;

	/*
	 * The object path follows from the name (systemctl does the same);
	 * systemd loads the unit when the path is used, so this also works
	 * for a unit that stop has just let go of.
	 */
	r = sd_bus_path_encode(SD_UNIT_PATH, o->unit, &o->path);
	if (r < 0) {
		op_fail(o, "%s %s: %s", unitctl_op_name(op), o->unit,
		    strerror(-r));
		return 0;
	}
	o->deadline = loop_add_timer(u->loop, timeout_ms, on_deadline, o);
	if (u->broken)
		r = -ENOTCONN;
	else if (op == UNITCTL_ENABLE)
		r = op_call(o, SD_PATH, SD_MANAGER, "EnableUnitFiles",
		    on_enabled, "asbb", 1, o->unit, 0, 0);
	else if (op == UNITCTL_DISABLE)
		r = op_call(o, SD_PATH, SD_MANAGER, "DisableUnitFiles",
		    on_disabled, "asb", 1, o->unit, 0);
	else
		r = op_call(o, SD_PATH, SD_MANAGER, methods[op],
		    on_job_queued, "ss", o->unit, "replace");
	if (r < 0)
		op_fail(o, "%s %s: %s", unitctl_op_name(op), o->unit,
		    u->broken && u->error[0] ? u->error : strerror(-r));
	busio_update(&u->io, u->broken);
	return 0;
}

int
unitctl_pending(const struct unitctl *u)
{
	return u->pending;
}

static int
on_subscribed(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct unitctl *u = data;
	const sd_bus_error *e;

	(void)ret;
	/*
	 * Without a subscription no JobRemoved would come and every job
	 * would end at its deadline; say why instead.
	 */
	if (!sd_bus_message_is_method_error(m, NULL))
		return 0;
	e = sd_bus_message_get_error(m);
	snprintf(u->error, sizeof u->error, "subscribe to the systemd %s "
	    "manager: %s", u->user ? "user" : "system",
	    e && e->message ? e->message : "error");
	u->broken = true;
	while (u->ops != NULL)
		op_fail(u->ops, "%s", u->error);
	return 0;
}

static enum lk_code
new_conn(struct loop *loop, const char *ssh_config, const char *host,
    bool user, struct unitctl **out, struct lk_err *err)
{
	struct unitctl *u = lk_xcalloc(1, sizeof *u);
	const char *scope = user ? "user" : "system";
	const char *sender = NULL;
	int r;

	*out = NULL;
	u->loop = loop;
	u->settle_ms = UNITCTL_SETTLE_MS;
	u->user = user;
	if (host != NULL) {
		u->host = lk_xstrdup(host);
		if (busio_open_remote(loop, ssh_config, host, user,
		    on_ssh_gone, u, &u->bus, &sender, &u->ssh, err) !=
		    LK_OK) {
			unitctl_free(&u);
			return err->code;
		}
	} else if ((r = busio_open(user, &u->bus, &sender)) < 0) {
		unitctl_free(&u);
		return lk_fail(err, LK_EIO, "connect to the systemd %s "
		    "manager: %s", scope, strerror(-r));
	}
	busio_init(&u->io, loop, u->bus, process_cb, u);
	/*
	 * Match first, subscribe second, and only then send anything else:
	 * the bus keeps our messages in order, so no job can end before
	 * both are in place.
	 */
	r = sd_bus_match_signal_async(u->bus, NULL, sender, SD_PATH,
	    SD_MANAGER, "JobRemoved", on_job_removed, NULL, u);
	if (r >= 0)
		r = sd_bus_call_method_async(u->bus, NULL, SD_DEST, SD_PATH,
		    SD_MANAGER, "Subscribe", on_subscribed, u, "");
	if (r < 0) {
		unitctl_free(&u);
		return lk_fail(err, LK_EIO, "subscribe to the systemd %s "
		    "manager: %s", scope, strerror(-r));
	}
	busio_update(&u->io, u->broken);
	*out = u;
	return LK_OK;
}

enum lk_code
unitctl_new(struct loop *loop, bool user, struct unitctl **out,
    struct lk_err *err)
{
	return new_conn(loop, NULL, NULL, user, out, err);
}

enum lk_code
unitctl_new_remote(struct loop *loop, const char *ssh_config,
    const char *host, bool user, struct unitctl **out, struct lk_err *err)
{
	return new_conn(loop, ssh_config, host, user, out, err);
}

bool
unitctl_broken(const struct unitctl *u)
{
	return u->broken;
}

static void
really_free(struct unitctl *u)
{
	struct uop *op;

	while ((op = u->ops) != NULL) {
		u->ops = op->next;
		op_free(op);
	}
	while ((op = u->done_head) != NULL) {
		u->done_head = op->next;
		op_free(op);
	}
	if (u->bus != NULL)
		busio_detach(&u->io);
	if (u->kick)
		loop_del_timer(u->loop, u->kick);
	/*
	 * No flush: it would block until systemd read everything queued,
	 * and what is queued belongs to operations being dropped.
	 */
	if (u->bus != NULL)
		sd_bus_close_unref(u->bus);
	busio_ssh_free(&u->ssh);
	free(u->host);
	for (size_t i = 0; i < SEEN_MAX; i++)
		free(u->seen[i].path);
	free(u);
}

void
unitctl_free(struct unitctl **up)
{
	struct unitctl *u = up ? *up : NULL;

	if (u == NULL)
		return;
	*up = NULL;
	/* on_kick is walking the done queue: it frees u when it returns. */
	if (u->delivering) {
		u->dead = true;
		return;
	}
	really_free(u);
}

void
unitctl_set_settle(struct unitctl *u, int64_t ms)
{
	u->settle_ms = ms > 0 ? ms : 0;
}
