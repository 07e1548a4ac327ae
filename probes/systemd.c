/*
 * The systemd probe over sd-bus.  See systemd.h for the shape of a refresh.
 */
#include "systemd.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "../core/loop.h"
#include "../core/busio.h"
#include "private.h"
#include "procfs.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"
#define SD_SERVICE "org.freedesktop.systemd1.Service"
#define PROPS "org.freedesktop.DBus.Properties"

struct sysd {
	struct loop *loop;
	sd_bus *bus;
	bool user;
	struct busio io;
	sysd_change_cb *cb;
	void *cb_data;
	struct sysd_unit *units;
	size_t *by_name;	/* indexes into units, in order of name */
	size_t n, cap;
	int pending;		/* calls in flight */
	int64_t answer_ms;	/* see sysd_set_answer_ms; 0: none */
	long long silence_timer;	/* armed while calls are in flight */
	bool answered;		/* a reply came since it was armed */
	bool silent;		/* error says the manager does not answer */
	bool files_stale;	/* unit-file states need reading */
	bool dispatching;	/* inside sd_bus_process */
	bool changed;		/* notify once processing ends */
	char error[LK_ERR_MAX];

	/*
	 * A manager on another host (sysd_new_remote): the bus rides on
	 * ssh, which may fail, hang or end at any time.  Then the connection
	 * is dropped, the units keep the state last read, and another
	 * connection is tried after retry_ms (probe_retry_next), and after
	 * 1 s again once one answers.
	 */
	char *host;		/* NULL: this machine's manager */
	char *ssh_config;
	struct busio_ssh *ssh;
	bool down;		/* no connection: error says why */
	bool reconnected;	/* the connection has not answered yet */
	long long retry_timer;
	long long lost_timer;	/* the bus broke; ssh is to say why */
	int64_t retry_ms;
};

/* How long a broken bus waits for its ssh to end and say why. */
#define LOST_WAIT_MS	1000


static void
notify(struct sysd *s)
{
	if (s->dispatching) {
		s->changed = true;
		return;
	}
	if (s->cb != NULL)
		s->cb(s, s->cb_data);
}

/* "systemd user manager", "systemd system manager on db1". */
static const char *
who(const struct sysd *s, char *buf, size_t len)
{
	snprintf(buf, len, "systemd %s manager%s%s", s->user ? "user" :
	    "system", s->host ? " on " : "", s->host ? s->host : "");
	return buf;
}

static void
set_error(struct sysd *s, const char *what, const sd_bus_error *e, int r)
{
	char w[300];

	snprintf(s->error, sizeof s->error, "%s: %s: %s", who(s, w, sizeof w),
	    what, e && e->message ? e->message : strerror(r < 0 ? -r : r));
}

static bool
is_service(const char *unit)
{
	size_t len = strlen(unit);

	return len > 8 && strcmp(unit + len - 8, ".service") == 0;
}

/* Stopped: systemd may have unloaded it (see props_stopped). */
static bool
is_stopped(const struct sysd_unit *u)
{
	return strcmp(u->active, "inactive") == 0;
}

static void
copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* Where name is in s->by_name (*found), or where it would go. */
static size_t
name_slot(const struct sysd *s, const char *name, bool *found)
{
	size_t lo = 0, hi = s->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->units[s->by_name[mid]].name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct sysd_unit *
unit_by_name(struct sysd *s, const char *name)
{
	bool found;
	size_t k = name_slot(s, name, &found);

	return found ? &s->units[s->by_name[k]] : NULL;
}

static struct sysd_unit *
unit_by_path(struct sysd *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->units[i].path && strcmp(s->units[i].path, path) == 0)
			return &s->units[i];
	return NULL;
}

/* --- the bus on the loop ------------------------------------------------- */

static long long on_lost(struct loop *l, long long id, void *data);

static void
process(struct sysd *s)
{
	int r;

	s->dispatching = true;
	do {
		r = sd_bus_process(s->bus, NULL);
	} while (r > 0);
	s->dispatching = false;
	if (r < 0 && s->error[0] == '\0')
		set_error(s, "connection lost", NULL, r);
	/* Another host's bus broke: its ssh is ending, and will say why. */
	if (r < 0 && s->host != NULL) {
		busio_update(&s->io, true);
		if (s->lost_timer == 0)
			s->lost_timer = loop_add_timer(s->loop, LOST_WAIT_MS,
			    on_lost, s);
	} else {
		busio_update(&s->io, false);
	}
	if (s->changed) {
		s->changed = false;
		notify(s);
	}
}

static void
process_cb(void *owner)
{
	process(owner);
}


/* --- a manager on another host ------------------------------------------ */

static enum lk_code connect_bus(struct sysd *s, struct lk_err *err);
static void lose(struct sysd *s, const char *why);

/* Drops the connection and everything in flight on it. */
static void
disconnect(struct sysd *s)
{
	if (s->bus != NULL)
		busio_detach(&s->io);
	if (s->silence_timer)
		loop_del_timer(s->loop, s->silence_timer);
	if (s->lost_timer)
		loop_del_timer(s->loop, s->lost_timer);
	s->silence_timer = s->lost_timer = 0;
	/*
	 * Pending calls' slots free their unit_call when the bus goes.  No
	 * flush: it waits until the manager has read everything queued,
	 * which a stopped manager never does (sd-bus gives up after 90 s),
	 * and nothing queued is worth delivering to one we are leaving.
	 */
	if (s->bus != NULL)
		sd_bus_close_unref(s->bus);
	s->bus = NULL;
	busio_ssh_free(&s->ssh);
	s->pending = 0;
	s->silent = false;
}

static long long
on_retry(struct loop *l, long long id, void *data)
{
	struct sysd *s = data;
	struct lk_err err = { 0 };

	(void)l;
	(void)id;
	s->retry_timer = 0;
	if (connect_bus(s, &err) != LK_OK) {
		lose(s, err.msg);
		return LOOP_NOMORE;
	}
	/* Anything may have changed while we could not see it.  It stays
	 * down, with the reason it had, until the manager answers. */
	s->files_stale = true;
	sysd_refresh(s);
	return LOOP_NOMORE;
}

/*
 * The connection to another host is gone (ssh ended, the bus broke, or
 * nothing answered in time): the units keep what was last read, error
 * says why, and another connection is tried later.
 */
static void
lose_quietly(struct sysd *s, const char *why)
{
	disconnect(s);
	s->down = true;
	s->reconnected = false;
	snprintf(s->error, sizeof s->error, "%s", why);
	if (s->retry_timer == 0) {
		s->retry_timer = loop_add_timer(s->loop,
		    probe_retry_next(&s->retry_ms), on_retry, s);
	}
}

static void
lose(struct sysd *s, const char *why)
{
	lose_quietly(s, why);
	notify(s);
}

static void
lose_silent(struct sysd *s)
{
	char why[sizeof s->error], w[300];
	const char *said = s->ssh ? busio_ssh_said(s->ssh) : "";

	snprintf(why, sizeof why, "%s: no answer within %lld s%s%s",
	    who(s, w, sizeof w), (long long)((s->answer_ms + 999) / 1000),
	    said[0] ? "; ssh said: " : "", said);
	lose(s, why);
}

static void
on_ssh_gone(void *owner)
{
	struct sysd *s = owner;
	char why[sizeof s->error];

	snprintf(why, sizeof why, "%s", busio_ssh_why(s->ssh) ?
	    busio_ssh_why(s->ssh) : "ssh ended");
	lose(s, why);
}

static long long
on_lost(struct loop *l, long long id, void *data)
{
	struct sysd *s = data;
	char why[sizeof s->error];

	(void)l;
	(void)id;
	s->lost_timer = 0;
	snprintf(why, sizeof why, "%s", s->error);
	lose(s, why);
	return LOOP_NOMORE;
}

/* --- a manager that does not answer ------------------------------------ */

static void lose_silent(struct sysd *s);

static long long
on_silence(struct loop *l, long long id, void *data)
{
	struct sysd *s = data;

	(void)l;
	(void)id;
	if (s->pending <= 0) {
		s->silence_timer = 0;
		return LOOP_NOMORE;
	}
	/* A busy manager answering one call at a time is not a silent one. */
	if (s->answered) {
		s->answered = false;
		return s->answer_ms;
	}
	s->silence_timer = 0;
	if (s->host != NULL) {
		lose_silent(s);
		return LOOP_NOMORE;
	}
	s->silent = true;
	snprintf(s->error, sizeof s->error, "systemd %s manager: no answer "
	    "within %lld s", s->user ? "user" : "system",
	    (long long)((s->answer_ms + 999) / 1000));
	notify(s);
	return LOOP_NOMORE;
}

/* A call is on its way: the manager has answer_ms to answer something. */
static void
asked(struct sysd *s)
{
	s->pending++;
	if (s->answer_ms > 0 && s->silence_timer == 0 && !s->silent) {
		s->answered = false;
		s->silence_timer = loop_add_timer(s->loop, s->answer_ms,
		    on_silence, s);
	}
}

/* A reply arrived, or sd-bus's own error in its place (NoReply, when it
 * gave up waiting), which is not the manager answering. */
static void
heard(struct sysd *s, sd_bus_message *m)
{
	s->pending--;
	/* Every answer is in: the next call has answer_ms of its own. */
	if (s->pending <= 0 && s->silence_timer) {
		loop_del_timer(s->loop, s->silence_timer);
		s->silence_timer = 0;
	}
	if (sd_bus_message_is_method_error(m, SD_BUS_ERROR_NO_REPLY))
		return;
	s->answered = true;
	s->retry_ms = PROBE_RETRY_FIRST_MS;
	if (s->reconnected) {
		s->reconnected = false;
		s->down = false;
		s->error[0] = '\0';
		s->changed = true;
	}
	if (s->silent) {
		s->silent = false;
		s->error[0] = '\0';
		s->changed = true;
	}
}

void
sysd_set_answer_ms(struct sysd *s, int64_t ms)
{
	s->answer_ms = ms > 0 ? ms : 0;
}

/* --- replies --------------------------------------------------------------- */

static bool
reply_ok(struct sysd *s, sd_bus_message *m, const char *what)
{
	const sd_bus_error *e;

	heard(s, m);
	if (!sd_bus_message_is_method_error(m, NULL))
		return true;
	e = sd_bus_message_get_error(m);
	/* "No answer within N s" says it better than sd-bus's time-out, and
	 * what ssh said better than a connection that ended. */
	if (!s->silent && !s->down && (s->host == NULL ||
	    !sd_bus_message_is_method_error(m, SD_BUS_ERROR_NO_REPLY)))
		set_error(s, what, e, sd_bus_message_get_errno(m));
	s->changed = true;
	return false;
}

/* One row of ListUnits / ListUnitsByNames. */
struct unit_row {
	const char *name, *desc, *load, *active, *sub, *follow, *path;
	const char *jtype, *jpath;
	uint32_t jid;
};

/* Calls fn for every row of a reply of type a(ssssssouso). */
static void
for_each_unit_row(struct sysd *s, sd_bus_message *m,
    void (*fn)(struct sysd *, const struct unit_row *))
{
	struct unit_row r;
	int rc = sd_bus_message_enter_container(m, 'a', "(ssssssouso)");

	while (rc > 0 && (rc = sd_bus_message_read(m, "(ssssssouso)", &r.name,
	    &r.desc, &r.load, &r.active, &r.sub, &r.follow, &r.path, &r.jid,
	    &r.jtype, &r.jpath)) > 0)
		fn(s, &r);
}

static void
update_unit(struct sysd *s, const struct unit_row *r)
{
	struct sysd_unit *u = unit_by_name(s, r->name);

	if (u == NULL)
		return;
	copy_str(u->load, sizeof u->load, r->load);
	copy_str(u->active, sizeof u->active, r->active);
	copy_str(u->sub, sizeof u->sub, r->sub);
	if (u->path == NULL)
		u->path = lk_xstrdup(r->path);
	u->known = true;
}

static int
on_list_units(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct sysd *s = data;

	(void)ret;
	if (!reply_ok(s, m, "ListUnitsByNames"))
		return 0;
	for_each_unit_row(s, m, update_unit);
	s->changed = true;
	return 0;
}

/* Reads the variant at m's position into u if key is a property we use
 * (the Service ones, and the Unit's StateChangeTimestamp), and skips it
 * otherwise. */
static void
read_value(struct sysd_unit *u, const char *key, sd_bus_message *m)
{
	uint32_t v32;
	int32_t i32;
	uint64_t v64;
	const char *str;

	if (strcmp(key, "StateChangeTimestamp") == 0 &&
	    sd_bus_message_read(m, "v", "t", &v64) > 0)
		u->since_us = (int64_t)v64;
	else if (strcmp(key, "MainPID") == 0 &&
	    sd_bus_message_read(m, "v", "u", &v32) > 0)
		u->main_pid = v32;
	else if (strcmp(key, "NRestarts") == 0 &&
	    sd_bus_message_read(m, "v", "u", &v32) > 0) {
		u->restarts = v32;
		u->restarts_read = true;
	} else if (strcmp(key, "ControlGroup") == 0 &&
	    sd_bus_message_read(m, "v", "s", &str) > 0) {
		copy_str(u->cgroup, sizeof u->cgroup, str);
		u->cgroup_gen++;
	} else if (strcmp(key, "Result") == 0 &&
	    sd_bus_message_read(m, "v", "s", &str) > 0)
		copy_str(u->result, sizeof u->result, str);
	else if (strcmp(key, "ExecMainStatus") == 0 &&
	    sd_bus_message_read(m, "v", "i", &i32) > 0)
		u->exit_status = i32;
	else
		sd_bus_message_skip(m, "v");
}

/* Reads the Service properties we use from an a{sv} at m's position. */
static void
read_service_props(struct sysd_unit *u, sd_bus_message *m)
{
	const char *key;

	if (sd_bus_message_enter_container(m, 'a', "{sv}") <= 0)
		return;
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		if (sd_bus_message_read(m, "s", &key) <= 0)
			break;
		read_value(u, key, m);
		sd_bus_message_exit_container(m);
	}
	sd_bus_message_exit_container(m);
}

/* The same for the Unit interface (from PropertiesChanged). */
static void
read_unit_props(struct sysd_unit *u, sd_bus_message *m)
{
	const char *key, *str;

	if (sd_bus_message_enter_container(m, 'a', "{sv}") <= 0)
		return;
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		char *dst = NULL;
		size_t len = 0;

		if (sd_bus_message_read(m, "s", &key) <= 0)
			break;
		if (strcmp(key, "StateChangeTimestamp") == 0) {
			read_value(u, key, m);
			sd_bus_message_exit_container(m);
			continue;
		}
		if (strcmp(key, "ActiveState") == 0)
			dst = u->active, len = sizeof u->active;
		else if (strcmp(key, "SubState") == 0)
			dst = u->sub, len = sizeof u->sub;
		else if (strcmp(key, "LoadState") == 0)
			dst = u->load, len = sizeof u->load;
		else if (strcmp(key, "UnitFileState") == 0)
			dst = u->file_state, len = sizeof u->file_state;
		if (dst != NULL && sd_bus_message_read(m, "v", "s", &str) > 0)
			copy_str(dst, len, str);
		else
			sd_bus_message_skip(m, "v");
		sd_bus_message_exit_container(m);
	}
	sd_bus_message_exit_container(m);
}

struct unit_call {
	struct sysd *s;
	size_t idx;
	const char *prop;	/* the property asked for, a static string */
	bool by_name;		/* a file state from GetUnitFileState */
};

static void get_prop(struct sysd *s, size_t i, const char *prop);

/*
 * A running unit's cgroup, read from its main process's /proc/PID/cgroup
 * when that names the unit: a local read instead of one more call for
 * systemd to answer.  Otherwise (no main process, or it just exited and its
 * pid went to another) the manager is asked.
 */
static void
find_cgroup(struct sysd *s, size_t i)
{
	struct sysd_unit *u = &s->units[i];

	/* Another host's /proc is not ours to read. */
	if (s->host == NULL && u->main_pid > 0 &&
	    procfs_unit_cgroup((pid_t)u->main_pid,
	    u->name, u->cgroup, sizeof u->cgroup)) {
		u->cgroup_gen++;
		return;
	}
	get_prop(s, i, "ControlGroup");
}

static int
on_service_prop(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct unit_call *c = data;
	struct sysd *s = c->s;

	(void)ret;
	if (reply_ok(s, m, "Get") && c->idx < s->n) {
		read_value(&s->units[c->idx], c->prop, m);
		if (strcmp(c->prop, "MainPID") == 0)
			find_cgroup(s, c->idx);
	}
	s->changed = true;
	return 0;
}

static int
on_file_state(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct unit_call *c = data;
	struct sysd *s = c->s;
	const char *state;

	(void)ret;
	/* A unit without a file (transient, or not found) has no state. */
	heard(s, m);
	if (!sd_bus_message_is_method_error(m, NULL) && c->idx < s->n &&
	    (c->by_name ? sd_bus_message_read(m, "s", &state) :
	    sd_bus_message_read(m, "v", "s", &state)) > 0)
		copy_str(s->units[c->idx].file_state,
		    sizeof s->units[c->idx].file_state, state);
	s->changed = true;
	return 0;
}

/* --- calls ----------------------------------------------------------------- */

/*
 * Queues an asynchronous call.  When data is a unit_call, the slot owns it:
 * sd-bus frees it after the reply, or when the bus goes away first.
 */
static void
call_async(struct sysd *s, sd_bus_message *msg, sd_bus_message_handler_t cb,
    void *data, const char *what)
{
	sd_bus_slot *slot = NULL;
	int r = sd_bus_call_async(s->bus, &slot, msg, cb, data, 0);

	if (r < 0) {
		set_error(s, what, NULL, r);
		if (data != s)
			free(data);
		return;
	}
	if (data != s)
		sd_bus_slot_set_destroy_callback(slot, free);
	sd_bus_slot_set_floating(slot, 1);
	sd_bus_slot_unref(slot);
	asked(s);
}

/* Sends msg, a call about unit i, and drops it: the reply reaches cb with
 * a unit_call that the slot owns (call_async). */
static void
call_unit(struct sysd *s, sd_bus_message *msg, sd_bus_message_handler_t cb,
    size_t i, const char *prop, bool by_name, const char *what)
{
	struct unit_call *c = lk_xmalloc(sizeof *c);

	*c = (struct unit_call){ .s = s, .idx = i, .prop = prop,
	    .by_name = by_name };
	call_async(s, msg, cb, c, what);
	sd_bus_message_unref(msg);
}

static void
get_prop(struct sysd *s, size_t i, const char *prop)
{
	struct sysd_unit *u = &s->units[i];
	sd_bus_message *msg = NULL;
	/* The one Unit property among the Service ones we read. */
	const char *iface = strcmp(prop, "StateChangeTimestamp") == 0 ?
	    SD_UNIT : SD_SERVICE;

	if (sd_bus_message_new_method_call(s->bus, &msg, SD_DEST, u->path,
	    PROPS, "Get") < 0 ||
	    sd_bus_message_append(msg, "ss", iface, prop) < 0) {
		sd_bus_message_unref(msg);
		return;
	}
	call_unit(s, msg, on_service_prop, i, prop, false, "Get");
}

/*
 * The properties worth reading depend on what the unit is doing.  A
 * running unit has a main process and a cgroup to check in /proc; a failed
 * one has a result and an exit status to explain it; both have the time
 * they entered that state.  A stopped one has none of these (its restart
 * count stays as last read).  Asking for these few properties one by one
 * costs systemd much less than GetAll, which renders about 150 of them per
 * unit.
 */
static const char *const props_running[] = {
	"MainPID", "NRestarts", "StateChangeTimestamp", NULL
	/* and the cgroup: find_cgroup */
};
static const char *const props_failed[] = {
	"Result", "ExecMainStatus", "NRestarts", "StateChangeTimestamp", NULL
};
/* A unit that is not a service has no Service properties. */
static const char *const props_other[] = { "StateChangeTimestamp", NULL };
/* A stopped unit: nothing.  systemd unloads an unreferenced stopped unit,
 * so every call about it makes the manager load it from disk again, and
 * a freshly loaded unit has no timestamps to give. */
static const char *const props_stopped[] = { NULL };

static void
get_service_props(struct sysd *s, size_t i)
{
	struct sysd_unit *u = &s->units[i];
	const char *const *props = props_running;

	if (u->path == NULL)
		return;
	/* A unit that does not exist has no properties worth a call. */
	if (strcmp(u->load, "not-found") == 0) {
		u->main_pid = 0;
		u->cgroup[0] = '\0';
		u->since_us = 0;
		return;
	}
	if (is_stopped(u))
		props = props_stopped;
	else if (!is_service(u->name))
		props = props_other;
	else if (strcmp(u->active, "failed") == 0)
		props = props_failed;
	/* What is not read is what a unit in this state does not have. */
	if (props != props_running) {
		u->main_pid = 0;
		u->cgroup[0] = '\0';
	}
	if (props == props_stopped)
		u->since_us = 0;
	for (; *props != NULL; props++)
		get_prop(s, i, *props);
}

/*
 * The unit-file state (enabled, disabled, static...), one call per unit,
 * although ListUnitFilesByPatterns could answer for all units in one call:
 * systemd caches a loaded unit's file state after the first Get, while
 * ListUnitFilesByPatterns walks every unit directory and works out every
 * state afresh on each call.  Measured with 200 user units, systemd 252
 * spends about 180 ms of CPU on the one call and about 20 ms on the 200
 * cached Gets.
 *
 * A stopped unit is the exception: systemd unloads it once nothing refers
 * to it, so a Get on its object loads it from disk again (some 200 system
 * calls: the unit file, every drop-in directory) only to work out its
 * state uncached.  The manager's GetUnitFileState works the state out by
 * name without loading the unit: measured with 10 stopped units among
 * 200, a one-shot status spends 26 ms instead of 34 ms waiting on systemd.
 */
static void
get_file_state(struct sysd *s, size_t i)
{
	struct sysd_unit *u = &s->units[i];
	bool stopped = is_stopped(u);
	sd_bus_message *msg = NULL;
	int r;

	if (u->path == NULL)
		return;
	if (stopped)
		r = sd_bus_message_new_method_call(s->bus, &msg, SD_DEST,
		    SD_PATH, SD_MANAGER, "GetUnitFileState");
	else
		r = sd_bus_message_new_method_call(s->bus, &msg, SD_DEST,
		    u->path, PROPS, "Get");
	if (r >= 0)
		r = stopped ? sd_bus_message_append(msg, "s", u->name) :
		    sd_bus_message_append(msg, "ss", SD_UNIT, "UnitFileState");
	if (r < 0) {
		sd_bus_message_unref(msg);
		return;
	}
	call_unit(s, msg, on_file_state, i, "UnitFileState", stopped,
	    stopped ? "GetUnitFileState" : "Get UnitFileState");
}

/*
 * Second half of a refresh: once ListUnitsByNames has told us every unit's
 * object path and state, read the per-service properties that state calls
 * for (and, when needed, the unit-file states), all pipelined.
 */
static int
on_list_then_details(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct sysd *s = data;
	bool files = s->files_stale;

	on_list_units(m, data, ret);
	s->files_stale = false;
	for (size_t i = 0; i < s->n; i++) {
		get_service_props(s, i);
		/* A unit systemd did not find has no file, so no file state:
		 * systemd would answer "" to every one of these calls. */
		if (files && strcmp(s->units[i].load, "not-found") == 0)
			s->units[i].file_state[0] = '\0';
		else if (files)
			get_file_state(s, i);
	}
	return 0;
}

void
sysd_refresh(struct sysd *s)
{
	sd_bus_message *msg = NULL;
	char **names;

	if (s->n == 0 || s->bus == NULL)
		return;
	names = calloc(s->n + 1, sizeof *names);
	if (names == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		names[i] = s->units[i].name;
	if (sd_bus_message_new_method_call(s->bus, &msg, SD_DEST, SD_PATH,
	    SD_MANAGER, "ListUnitsByNames") >= 0 &&
	    sd_bus_message_append_strv(msg, names) >= 0)
		call_async(s, msg, on_list_then_details, s,
		    "ListUnitsByNames");
	sd_bus_message_unref(msg);
	free(names);
	busio_update(&s->io, false);
}

size_t
sysd_track(struct sysd *s, const char *unit)
{
	struct sysd_unit *u;
	bool found;
	size_t k = name_slot(s, unit, &found);

	if (found)
		return s->by_name[k];
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->units = lk_xrealloc(s->units, s->cap * sizeof *s->units);
		s->by_name = lk_xrealloc(s->by_name,
		    s->cap * sizeof *s->by_name);
	}
	memmove(&s->by_name[k + 1], &s->by_name[k],
	    (s->n - k) * sizeof *s->by_name);
	s->by_name[k] = s->n;
	u = &s->units[s->n];
	memset(u, 0, sizeof *u);
	u->name = lk_xstrdup(unit);
	s->files_stale = true;
	return s->n++;
}

/* Without a config: failed units, and services that are running. */
static void
discover_unit(struct sysd *s, const struct unit_row *r)
{
	if (strcmp(r->active, "failed") == 0 ||
	    (is_service(r->name) && strcmp(r->sub, "running") == 0))
		sysd_track(s, r->name);
}

static int
on_discover(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct sysd *s = data;

	(void)ret;
	if (!reply_ok(s, m, "ListUnits"))
		return 0;
	for_each_unit_row(s, m, discover_unit);
	sysd_refresh(s);
	return 0;
}

void
sysd_discover(struct sysd *s)
{
	int r = sd_bus_call_method_async(s->bus, NULL, SD_DEST, SD_PATH,
	    SD_MANAGER, "ListUnits", on_discover, s, "");

	if (r < 0)
		set_error(s, "ListUnits", NULL, r);
	else
		asked(s);
	busio_update(&s->io, false);
}

/* --- signals --------------------------------------------------------------- */

static int
on_properties_changed(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct sysd *s = data;
	struct sysd_unit *u = unit_by_path(s, sd_bus_message_get_path(m));
	const char *iface;

	(void)ret;
	if (u == NULL || sd_bus_message_read(m, "s", &iface) <= 0)
		return 0;
	if (strcmp(iface, SD_UNIT) == 0)
		read_unit_props(u, m);
	else if (strcmp(iface, SD_SERVICE) == 0)
		read_service_props(u, m);
	else
		return 0;
	s->changed = true;
	return 0;
}

static int
on_unit_files_changed(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct sysd *s = data;

	(void)m;
	(void)ret;
	for (size_t i = 0; i < s->n; i++)
		get_file_state(s, i);
	return 0;
}

/*
 * A daemon-reload can change any unit without a PropertiesChanged for it
 * (a unit file that appeared makes a not-found unit loaded): once the
 * manager says the reload is over, everything is read again.
 */
static int
on_reloading(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct sysd *s = data;
	int active = 0;

	(void)ret;
	if (sd_bus_message_read(m, "b", &active) > 0 && !active) {
		s->files_stale = true;
		sysd_refresh(s);
	}
	return 0;
}

static int
on_pong(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	(void)ret;
	reply_ok(data, m, "Ping");
	return 0;
}

void
sysd_ping(struct sysd *s)
{
	if (s->bus == NULL || s->pending > 0)
		return;
	if (sd_bus_call_method_async(s->bus, NULL, SD_DEST, SD_PATH,
	    "org.freedesktop.DBus.Peer", "Ping", on_pong, s, "") >= 0)
		asked(s);
	busio_update(&s->io, false);
}

static int
on_subscribed(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	(void)ret;
	reply_ok(data, m, "Subscribe");
	return 0;
}

/*
 * Connects (or connects again) to the manager: the bus, the signals we
 * follow, and Subscribe, all queued without waiting for an answer.
 */
static enum lk_code
connect_bus(struct sysd *s, struct lk_err *err)
{
	const char *sender;
	char w[300];
	int r;

	if (s->host != NULL) {
		if (busio_open_remote(s->loop, s->ssh_config, s->host, s->user,
		    on_ssh_gone, s, &s->bus, &sender, &s->ssh, err) != LK_OK)
			return err->code;
		s->reconnected = true;
	} else if ((r = busio_open(s->user, &s->bus, &sender)) < 0) {
		return lk_fail(err, LK_EIO, "connect to the systemd %s "
		    "manager: %s", s->user ? "user" : "system", strerror(-r));
	}
	busio_init(&s->io, s->loop, s->bus, process_cb, s);
	/* Unit signals are only sent to subscribers. */
	r = sd_bus_match_signal_async(s->bus, NULL, sender, NULL, PROPS,
	    "PropertiesChanged", on_properties_changed, NULL, s);
	if (r >= 0)
		r = sd_bus_match_signal_async(s->bus, NULL, sender, SD_PATH,
		    SD_MANAGER, "UnitFilesChanged", on_unit_files_changed,
		    NULL, s);
	if (r >= 0)
		r = sd_bus_match_signal_async(s->bus, NULL, sender, SD_PATH,
		    SD_MANAGER, "Reloading", on_reloading, NULL, s);
	if (r >= 0)
		r = sd_bus_call_method_async(s->bus, NULL, SD_DEST, SD_PATH,
		    SD_MANAGER, "Subscribe", on_subscribed, s, "");
	if (r < 0) {
		lk_fail(err, LK_EIO, "subscribe to the %s: %s",
		    who(s, w, sizeof w), strerror(-r));
		disconnect(s);
		return err->code;
	}
	asked(s);
	busio_update(&s->io, false);
	return LK_OK;
}

static struct sysd *
sysd_alloc(struct loop *loop, bool user, sysd_change_cb *cb, void *data)
{
	struct sysd *s = lk_xcalloc(1, sizeof *s);

	s->loop = loop;
	s->user = user;
	s->cb = cb;
	s->cb_data = data;
	s->retry_ms = PROBE_RETRY_FIRST_MS;
	return s;
}

enum lk_code
sysd_new(struct loop *loop, bool user, sysd_change_cb *cb, void *data,
    struct sysd **out, struct lk_err *err)
{
	struct sysd *s = sysd_alloc(loop, user, cb, data);

	*out = NULL;
	if (connect_bus(s, err) != LK_OK) {
		sysd_free(&s);
		return err->code;
	}
	*out = s;
	return LK_OK;
}

enum lk_code
sysd_new_remote(struct loop *loop, const char *ssh_config, const char *host,
    bool user, sysd_change_cb *cb, void *data, struct sysd **out,
    struct lk_err *err)
{
	struct sysd *s = sysd_alloc(loop, user, cb, data);

	*out = NULL;
	s->host = lk_xstrdup(host);
	s->ssh_config = ssh_config ? lk_xstrdup(ssh_config) : NULL;
	if (connect_bus(s, err) != LK_OK) {
		/* A host name ssh cannot take is the configuration's fault;
		 * anything else may pass, and is tried again. */
		if (err->code == LK_EINPUT) {
			sysd_free(&s);
			return err->code;
		}
		lose_quietly(s, err->msg);
	}
	*out = s;
	return LK_OK;
}

void
sysd_free(struct sysd **sp)
{
	struct sysd *s = sp ? *sp : NULL;

	if (s == NULL)
		return;
	disconnect(s);
	if (s->retry_timer)
		loop_del_timer(s->loop, s->retry_timer);
	free(s->host);
	free(s->ssh_config);
	for (size_t i = 0; i < s->n; i++) {
		free(s->units[i].name);
		free(s->units[i].path);
	}
	free(s->units);
	free(s->by_name);
	free(s);
	*sp = NULL;
}

bool
sysd_idle(const struct sysd *s)
{
	/* A broken connection to another host is idle once ssh has said
	 * why (lost_timer waits for that). */
	if (s->down || s->silent)
		return true;
	/*
	 * Nor is a connection that has not answered once: sd-bus answers
	 * the calls queued on one that ssh could not open with "no reply"
	 * before it says the connection is gone, and ssh says why later
	 * still, so nothing pending is no sign of an answer here.
	 */
	return s->pending <= 0 && s->lost_timer == 0 && !s->reconnected;
}

const char *
sysd_host(const struct sysd *s)
{
	return s->host;
}

bool
sysd_down(const struct sysd *s)
{
	return s->down;
}

bool
sysd_silent(const struct sysd *s)
{
	return s->silent;
}

const char *
sysd_error(const struct sysd *s)
{
	return s->error[0] ? s->error : NULL;
}

size_t
sysd_count(const struct sysd *s)
{
	return s->n;
}

const struct sysd_unit *
sysd_unit(const struct sysd *s, size_t i)
{
	return i < s->n ? &s->units[i] : NULL;
}

const char *
sysd_scope(const struct sysd *s)
{
	return s->user ? "user" : "system";
}
