/*
 * Another host's journal: one ssh running a fixed, read-only journalctl
 * there, its JSON lines read on the loop into the same ring the local
 * reader fills (journal.c), so that a view cannot tell them apart.
 *
 * What runs there is a fixed sh script; the unit, its scope, its cgroup
 * and the line count reach it as positional parameters, each quoted for
 * the remote shell by core/ssh.c and used inside the script only as
 * "$N", never as shell text.  Nothing is installed or written there.
 *
 * Which entries are the unit's.  For the system manager, journalctl -u
 * says it.  For a user manager, journalctl --user -u matches
 * _SYSTEMD_USER_UNIT and USER_UNIT, which journald records only under
 * user@UID.service; a manager started anywhere else (a container, the
 * test sandbox) gets neither, as journal.c explains, and its units are
 * found by their cgroup alone.  So the script matches what --user-unit
 * matches (the same four terms, with the remote user's uid, which only
 * the remote side knows), and asks the manager there (systemctl --user
 * show, read-only) for its own cgroup: the unit's lines are also those
 * of its cgroup in the manager's app.slice, where a user unit runs by
 * default (so a unit that crashed and is gone is found too), and in
 * the cgroup the unit has now, if elsewhere (the probes' reading, when
 * there is one, else the manager's).  The manager's own lines about the
 * unit must come from its init.scope: where one journal holds several
 * managers of one user (containers sharing a journald, the sandbox's
 * "hosts"), "Started x.service" of another is not this one's.  And not
 * --user: that opens only user-UID.journal files, which journald keeps
 * for uids of 1000 and above; root's units, or those of a journald
 * without SplitMode=uid, are in system.journal.
 *
 * journalctl -o json writes one object a line; MESSAGE is a string, an
 * array of byte values (when it is not UTF-8) or null (longer than 4096
 * bytes, without --all).  A line of JSON longer than RJ_JSON_MAX is
 * skipped to its end: nothing a line of PROBE_JOURNAL_LINE_MAX bytes can
 * take needs more.
 *
 * When the backlog is in.  journalctl -f writes the last lines at once
 * and then waits, saying nothing; the script writes an empty line first,
 * so that the connection is known to be up, and the backlog is taken as
 * complete once output has paused for QUIET_MS after it.  A one-shot read
 * is complete when journalctl exits.
 *
 * When the connection drops.  A followed journal connects again, after
 * 1 s, then twice as long each time up to a minute (back to 1 s after a
 * connection that lasted), and resumes after the cursor of the last entry
 * it read: nothing shown twice, nothing logged meanwhile missed.  The view
 * says what happened and when the next try is.
 */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/child.h"
#include "../core/loop.h"
#include "../core/ssh.h"
#include "../core/util.h"

#define QUIET_MS 300
/* A connection that lasted this long starts the waits over. */
#define RETRY_LASTED_MS 30000

static const char journal_script[] =
    "printf '\\n'; u=$(id -u); n=$1; m=$2; s=$3; unit=$4; cg=$5; c=$6; "
    "set -- --no-pager -q -o json --output-fields=MESSAGE,PRIORITY "
    "-n \"$n\"; "
    "[ -n \"$c\" ] && set -- \"$@\" \"--after-cursor=$c\"; "
    "[ \"$m\" = follow ] && set -- \"$@\" --follow; "
    "if [ \"$s\" = system ]; then "
    "exec journalctl \"$@\" -u \"$unit\"; fi; "
    "r=$(systemctl --user show -p ControlGroup --value 2>/dev/null); "
    "[ -n \"$cg\" ] || "
    "cg=$(systemctl --user show -p ControlGroup --value -- \"$unit\" "
    "2>/dev/null); "
    "set -- \"$@\" \"_SYSTEMD_USER_UNIT=$unit\" \"_UID=$u\" + "
    "\"USER_UNIT=$unit\" \"_UID=$u\"; "
    "[ -n \"$r\" ] && set -- \"$@\" \"_SYSTEMD_CGROUP=$r/init.scope\"; "
    "set -- \"$@\" + \"COREDUMP_USER_UNIT=$unit\" \"_UID=$u\" _UID=0 + "
    "\"OBJECT_SYSTEMD_USER_UNIT=$unit\" \"_UID=$u\" _UID=0; "
    "[ -n \"$r\" ] && "
    "set -- \"$@\" + \"_SYSTEMD_CGROUP=$r/app.slice/$unit\" \"_UID=$u\"; "
    "[ -n \"$cg\" ] && [ \"$cg\" != \"$r/app.slice/$unit\" ] && "
    "set -- \"$@\" + \"_SYSTEMD_CGROUP=$cg\" \"_UID=$u\"; "
    "exec journalctl \"$@\"";

struct rjournal {
	struct loop *loop;
	struct probe_journal *owner;
	char *host;
	char *ssh_config;	/* or NULL */
	char *unit;
	char *scope;
	char *cgroup;		/* or NULL */
	size_t lines;
	bool follow;
	int64_t timeout_ms;
	char cursor[RJ_CURSOR_MAX];	/* the last entry's: resume after */
	int64_t retry_ms;		/* the wait before connecting again */
	long long started_ms;		/* when this connection began */
	long long retry_timer;

	struct child *child;
	struct lk_buf line;	/* the JSON line being read */
	bool skipping;		/* the line is too long: drop to its end */
	bool up;		/* the script's first line arrived */
	bool caught_up;
	bool tell_caught_up;
	bool failed;		/* this connection failed or ended */
	bool status_news;	/* status changed since the owner heard */
	size_t added;
	long long quiet_timer;	/* the backlog is in when it fires */
	long long tell_timer;	/* the owner hears the news from the loop */
	long long answer_timer;	/* no answer within timeout_ms */

	struct jring ring;
	char status[LK_ERR_MAX];
};

enum lk_code
rjournal_command(struct lk_buf *cmd, const char *unit, const char *scope,
    size_t lines, bool follow, const char *cgroup, const char *after_cursor,
    struct lk_err *err)
{
	struct lk_buf in = { 0 };
	char n[32];
	const char *argv[] = { "sh", "-c", journal_script, "lookout-journal",
	    n, follow ? "follow" : "once", scope, unit,
	    cgroup != NULL ? cgroup : "", after_cursor != NULL ?
	    after_cursor : "", NULL };
	enum lk_code code;

	/* After a cursor, every entry since: none was shown yet. */
	if (after_cursor != NULL && after_cursor[0] != '\0')
		snprintf(n, sizeof n, "all");
	else
		snprintf(n, sizeof n, "%zu", lines);
	code = lk_ssh_remote_command(cmd, &in, argv, NULL, NULL, NULL, 0, err);
	lk_buf_free(&in);
	return code;
}

/* ---------------------------------------------------------------------------
 * The news, always from a timer of its own, so that the owner may free us
 * from its callback whatever was running before. */

static long long
on_tell(struct loop *l, long long id, void *data)
{
	struct rjournal *rj = data;
	size_t added = rj->added < rj->ring.n ? rj->added : rj->ring.n;
	bool news = added > 0 || rj->tell_caught_up || rj->status_news;

	(void)l;
	(void)id;
	rj->tell_timer = 0;
	if (!rj->caught_up && !rj->failed)
		return LOOP_NOMORE;
	rj->added = 0;
	rj->tell_caught_up = false;
	rj->status_news = false;
	if (news)
		journal_call_back(rj->owner, added);	/* may free rj */
	return LOOP_NOMORE;
}

static void
tell_soon(struct rjournal *rj)
{
	if (rj->tell_timer == 0)
		rj->tell_timer = loop_add_timer(rj->loop, 0, on_tell, rj);
}

static void
set_caught_up(struct rjournal *rj)
{
	if (rj->quiet_timer) {
		loop_del_timer(rj->loop, rj->quiet_timer);
		rj->quiet_timer = 0;
	}
	if (rj->caught_up)
		return;
	rj->caught_up = rj->tell_caught_up = true;
	if (rj->ring.n == 0 && rj->status[0] == '\0')
		snprintf(rj->status, sizeof rj->status, "journal of %s on %s: "
		    "no entries", rj->unit, rj->host);
	tell_soon(rj);
}

static long long
on_quiet(struct loop *l, long long id, void *data)
{
	struct rjournal *rj = data;

	(void)l;
	(void)id;
	rj->quiet_timer = 0;
	set_caught_up(rj);
	return LOOP_NOMORE;
}

static long long
on_no_answer(struct loop *l, long long id, void *data)
{
	struct rjournal *rj = data;

	(void)l;
	(void)id;
	rj->answer_timer = 0;
	/* Said, not final: ssh may still connect, and then lines come. */
	if (!rj->up && !rj->failed) {
		snprintf(rj->status, sizeof rj->status, "journal of %s on %s: "
		    "no answer within %lld s", rj->unit, rj->host,
		    (long long)(rj->timeout_ms / 1000));
		rj->status_news = true;
		tell_soon(rj);
	}
	if (!rj->up && !rj->failed && !rj->caught_up)
		set_caught_up(rj);
	return LOOP_NOMORE;
}

/* ---------------------------------------------------------------------------
 * Reading. */

static void
take_line(struct rjournal *rj, const char *s, size_t len)
{
	struct lk_buf msg = { 0 };
	char cursor[RJ_CURSOR_MAX];
	int64_t us;
	int prio;

	if (!rj->up) {
		/* The script's empty first line: connected, journalctl runs. */
		rj->up = true;
		if (rj->status[0] != '\0') {
			rj->status[0] = '\0';
			rj->status_news = true;
			tell_soon(rj);
		}
		return;
	}
	if (len == 0)
		return;
	if (rjournal_parse(s, len, &us, &prio, &msg, cursor)) {
		if (cursor[0] != '\0')
			memcpy(rj->cursor, cursor, sizeof rj->cursor);
		jring_push(&rj->ring, us, prio, msg.s, msg.len);
		rj->added++;
		rj->status[0] = '\0';
	}
	lk_buf_free(&msg);
}

static void
on_output(void *data, int stream, const char *buf, size_t len)
{
	struct rjournal *rj = data;
	const char *end = buf + len;

	if (stream != 1)
		return;
	while (buf < end) {
		const char *nl = memchr(buf, '\n', (size_t)(end - buf));
		size_t n = (size_t)((nl != NULL ? nl : end) - buf);

		if (!rj->skipping) {
			if (rj->line.len + n > RJ_JSON_MAX)
				rj->skipping = true;
			else
				lk_buf_add(&rj->line, buf, n);
		}
		if (nl == NULL)
			break;
		if (!rj->skipping)
			take_line(rj, rj->line.s != NULL ? rj->line.s : "",
			    rj->line.len);
		rj->skipping = false;
		lk_buf_reset(&rj->line);
		buf = nl + 1;
	}
	if (rj->caught_up) {
		if (rj->added > 0)
			tell_soon(rj);
		return;
	}
	/* The backlog comes in a burst: it is in when output pauses. */
	if (rj->up && rj->follow) {
		if (rj->quiet_timer)
			loop_del_timer(rj->loop, rj->quiet_timer);
		rj->quiet_timer = loop_add_timer(rj->loop, QUIET_MS, on_quiet,
		    rj);
	}
}

static enum lk_code connect_child(struct rjournal *rj, struct lk_err *err);

static long long
on_retry(struct loop *l, long long id, void *data)
{
	struct rjournal *rj = data;
	struct lk_err err = { 0 };

	(void)l;
	(void)id;
	rj->retry_timer = 0;
	if (connect_child(rj, &err) != LK_OK) {
		/* No ssh could start (no fds, say): said, and tried again. */
		snprintf(rj->status, sizeof rj->status, "journal of %s on %s: "
		    "%.200s; connecting again in %lld s", rj->unit, rj->host,
		    err.msg, (long long)(rj->retry_ms / 1000));
		rj->status_news = true;
		tell_soon(rj);
		rj->retry_timer = loop_add_timer(rj->loop,
		    probe_retry_next(&rj->retry_ms), on_retry, rj);
	}
	return LOOP_NOMORE;
}

/* A followed journal's connection ended: said, and made again later. */
static void
retry_later(struct rjournal *rj)
{
	size_t n = strlen(rj->status);

	if (loop_now_ms() - rj->started_ms >= RETRY_LASTED_MS)
		rj->retry_ms = PROBE_RETRY_FIRST_MS;
	snprintf(rj->status + n, sizeof rj->status - n, "; connecting again "
	    "in %lld s", (long long)(rj->retry_ms / 1000));
	rj->retry_timer = loop_add_timer(rj->loop,
	    probe_retry_next(&rj->retry_ms), on_retry, rj);
}

static void
on_done(const struct child_result *r, void *data)
{
	struct rjournal *rj = data;

	rj->child = NULL;
	if (rj->answer_timer) {
		loop_del_timer(rj->loop, rj->answer_timer);
		rj->answer_timer = 0;
	}
	if (rj->quiet_timer) {
		loop_del_timer(rj->loop, rj->quiet_timer);
		rj->quiet_timer = 0;
	}
	if (r->spawn_error != NULL) {
		snprintf(rj->status, sizeof rj->status, "journal of %s on %s: "
		    "%s", rj->unit, rj->host, r->spawn_error);
		rj->failed = true;
	} else if (r->exit_status != 0 || r->term_signal != 0 ||
	    (rj->follow && !rj->up)) {
		char why[LK_ERR_MAX - 96];

		lk_ssh_reason(rj->host, "journalctl", r->exit_status,
		    r->term_signal, r->err, r->err_len, why, sizeof why);
		snprintf(rj->status, sizeof rj->status, "journal of %s: %s",
		    rj->unit, why);
		rj->failed = true;
	} else if (rj->follow) {
		snprintf(rj->status, sizeof rj->status, "journal of %s on %s: "
		    "journalctl stopped", rj->unit, rj->host);
		rj->failed = true;
	}
	if (rj->failed)
		rj->status_news = true;
	if (rj->follow)
		retry_later(rj);
	set_caught_up(rj);
	tell_soon(rj);
}

/* Starts this connection's ssh: the last lines, or after a drop, every
 * entry after the last one read. */
static enum lk_code
connect_child(struct rjournal *rj, struct lk_err *err)
{
	struct child_opts o = { 0 };
	struct lk_buf cmd = { 0 };
	char **ssh;
	enum lk_code code;

	if (rjournal_command(&cmd, rj->unit, rj->scope, rj->lines,
	    rj->follow, rj->cgroup, rj->cursor, err) != LK_OK) {
		lk_buf_free(&cmd);
		return err->code;
	}
	rj->up = rj->failed = rj->skipping = false;
	lk_buf_reset(&rj->line);
	ssh = lk_ssh_argv(rj->ssh_config, rj->host, cmd.s);
	o.argv = (const char *const *)ssh;
	o.env = lk_ssh_env;
	o.no_tty = true;
	/* Following has no end; a one-shot read has the host's time. */
	o.timeout_ms = rj->follow ? 0 : rj->timeout_ms;
	o.grace_ms = 300;
	/* The lines go through on_output; what is kept is for a reason. */
	o.max_output = 8192;
	o.on_output = on_output;
	o.output_data = rj;
	code = child_start(rj->loop, &o, on_done, rj, &rj->child, err);
	lk_ssh_argv_free(ssh);
	lk_buf_free(&cmd);
	if (code != LK_OK)
		return code;
	rj->started_ms = loop_now_ms();
	if (rj->follow && rj->timeout_ms > 0)
		rj->answer_timer = loop_add_timer(rj->loop, rj->timeout_ms,
		    on_no_answer, rj);
	return LK_OK;
}

struct rjournal *
rjournal_new(struct loop *loop, const struct probe_journal_host *h,
    const char *unit, const char *scope, size_t lines, bool follow,
    struct probe_journal *owner, struct lk_err *err)
{
	struct rjournal *rj;

	if (!lk_ssh_host_ok(h->host)) {
		lk_fail(err, LK_EINPUT, "journal of %s: \"%s\" is not an ssh "
		    "destination", unit, h->host);
		return NULL;
	}
	rj = lk_xcalloc(1, sizeof *rj);
	rj->loop = loop;
	rj->owner = owner;
	rj->host = lk_xstrdup(h->host);
	rj->ssh_config = h->ssh_config ? lk_xstrdup(h->ssh_config) : NULL;
	rj->unit = lk_xstrdup(unit);
	rj->scope = lk_xstrdup(scope);
	rj->cgroup = h->cgroup ? lk_xstrdup(h->cgroup) : NULL;
	rj->lines = lines;
	rj->follow = follow;
	rj->timeout_ms = h->timeout_ms;
	rj->retry_ms = PROBE_RETRY_FIRST_MS;
	jring_init(&rj->ring, lines);
	if (connect_child(rj, err) != LK_OK) {
		rjournal_free(&rj);
		return NULL;
	}
	return rj;
}

void
rjournal_free(struct rjournal **rjp)
{
	struct rjournal *rj = *rjp;

	*rjp = NULL;
	if (rj == NULL)
		return;
	/* ssh dies with its group; journalctl there sees its stdout close. */
	child_abandon(&rj->child);
	if (rj->quiet_timer)
		loop_del_timer(rj->loop, rj->quiet_timer);
	if (rj->tell_timer)
		loop_del_timer(rj->loop, rj->tell_timer);
	if (rj->answer_timer)
		loop_del_timer(rj->loop, rj->answer_timer);
	if (rj->retry_timer)
		loop_del_timer(rj->loop, rj->retry_timer);
	lk_buf_free(&rj->line);
	jring_free(&rj->ring);
	free(rj->host);
	free(rj->ssh_config);
	free(rj->unit);
	free(rj->scope);
	free(rj->cgroup);
	free(rj);
}

const struct jring *
rjournal_ring(const struct rjournal *rj)
{
	return &rj->ring;
}

bool
rjournal_caught_up(const struct rjournal *rj)
{
	return rj->caught_up;
}

const char *
rjournal_status(const struct rjournal *rj)
{
	return rj->status[0] ? rj->status : NULL;
}
