/*
 * One unit's journal, read on the loop.
 *
 * sd-journal is a library over mmap()ed files, not a connection: every
 * step may fault pages in from disk, and finding a unit's entries in a
 * large journal walks the entry arrays of many files.  So no pass of the
 * loop reads more than one batch (BATCH_ENTRIES entries, or BATCH_MS
 * milliseconds, whichever ends first); what is left continues in the next
 * pass, from a zero-delay timer, after the loop has polled the terminal.
 * With the journal in the page cache an entry costs about 10 µs (a step
 * under the unit's five OR terms, and two fields; measured on a small
 * shared VM), so a batch is about 2 ms and the console never waits for
 * one.  A 1,000-line backlog takes ten passes (five stepping back, five
 * reading), some 40 ms in all.  A cold cache can make one step take
 * milliseconds, which no count bounds, hence the clock as well.
 *
 * Reading goes through phases, each resumable after any entry:
 *
 *   SCAN     user scope only: learn, from the journal's cgroup values,
 *            where managers that journald cannot name keep their units
 *   BACK     from the tail, step back over the last `want` entries
 *   FORWARD  read forward from there to the end, into the ring
 *   IDLE     following: at the end, waiting for the inotify fd of
 *            sd_journal_get_fd() (or the timeout of
 *            sd_journal_get_timeout(), where inotify cannot see)
 *   DONE     a one-shot read is complete, or reading failed
 *
 * Which entries are the unit's.  journald names the unit of an entry from
 * the cgroup of the process that logged it.  On a real host a user
 * manager runs as user@UID.service, and journald records
 * _SYSTEMD_USER_UNIT for the processes of its units and USER_UNIT in the
 * manager's own lines about them ("Main process exited"); for the system
 * manager, _SYSTEMD_UNIT and UNIT.  We match what journalctl -u and
 * --user-unit match, for the same reasons (see add_matches()).  A user
 * manager started in any other cgroup (the test sandbox, a CI container:
 * ".../lookout-test-1-2.slice/manager") gets none of those for its units:
 * journald cannot tell a unit from the path, and records only
 * _SYSTEMD_CGROUP=.../manager/app.slice/crasher.service.  Matches are
 * exact, so we must know that path: the SCAN phase finds, among the
 * journal's distinct cgroup values, those journald could not name whose
 * last component is a unit, learns the directories such units live in
 * (and the manager's default app.slice), and matches the unit's cgroup in
 * each, which also finds a unit that has not logged yet.
 *
 * A process that exits before journald reads its first line loses all of
 * this (journald 252 reads the sender's cgroup from /proc then): its
 * lines carry no unit and no cgroup, and no match can find them.
 */
#include "private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "../core/loop.h"
#include "../core/util.h"

#define BATCH_ENTRIES 200
#define BATCH_MS 8

enum phase { PH_SCAN, PH_BACK, PH_FORWARD, PH_IDLE, PH_DONE };

/* What one pass may still do. */
struct batch {
	int left;		/* entries */
	long long until;	/* loop_now_ms() */
};

static bool
batch_over(struct batch *b)
{
	return b->left <= 0 || loop_now_ms() >= b->until;
}

struct jslot {
	struct probe_journal_line line;
	char *buf;		/* line.text points here */
	size_t cap;
};

struct probe_journal {
	struct loop *loop;
	sd_journal *j;
	char *unit;
	bool user;
	bool follow;
	probe_journal_cb *cb;
	void *cb_data;

	enum phase phase;
	bool phase_started;	/* the current phase has set itself up */
	size_t want;		/* lines to step back over */
	size_t back;		/* stepped back so far */
	uint64_t back_from_us;	/* realtime when stepping back began */
	bool current_unread;	/* the entry under the cursor comes first */
	bool caught_up;
	bool tell_caught_up;	/* the callback has yet to hear it */
	size_t added;		/* lines since the last callback */
	struct jplaces places;

	int fd;			/* sd_journal_get_fd(), -1 if not following */
	long long wake_timer;	/* sd_journal_get_timeout() */
	long long more_timer;	/* the next batch, in the next pass */

	bool in_cb;		/* the callback runs; free is deferred */
	bool freed;
	bool told_failure;

	struct jring ring;
	char status[LK_ERR_MAX];
	bool failed;		/* status holds why reading stopped */

	/* Another host's, read over ssh (rjournal.c): then j is NULL and
	 * everything above but the callback is unused. */
	struct rjournal *remote;
};

/* ---------------------------------------------------------------------------
 * The ring. */

void
jring_init(struct jring *r, size_t cap)
{
	r->slots = lk_xcalloc(cap, sizeof *r->slots);
	r->cap = cap;
	r->head = 0;
	r->n = 0;
}

void
jring_free(struct jring *r)
{
	for (size_t i = 0; i < r->cap; i++)
		free(r->slots[i].buf);
	free(r->slots);
	r->slots = NULL;
	r->cap = r->n = r->head = 0;
}

void
jring_push(struct jring *r, int64_t realtime_us, int priority,
    const void *msg, size_t n)
{
	struct jslot *s;
	size_t keep = n > PROBE_JOURNAL_LINE_MAX ? PROBE_JOURNAL_LINE_MAX : n;

	if (r->n < r->cap)
		s = &r->slots[(r->head + r->n++) % r->cap];
	else {
		s = &r->slots[r->head];
		r->head = (r->head + 1) % r->cap;
	}
	/* A slot's buffer only grows, so a full ring stops allocating. */
	if (s->cap < keep + 1) {
		s->buf = lk_xrealloc(s->buf, keep + 1);
		s->cap = keep + 1;
	}
	if (keep > 0)
		memcpy(s->buf, msg, keep);
	s->buf[keep] = '\0';
	s->line.realtime_us = realtime_us;
	s->line.priority = priority;
	s->line.cut = n > keep;
	s->line.len = keep;
	s->line.text = s->buf;
}

const struct probe_journal_line *
jring_get(const struct jring *r, size_t i)
{
	if (i >= r->n)
		return NULL;
	return &r->slots[(r->head + i) % r->cap].line;
}

/* ---------------------------------------------------------------------------
 * Names and cgroups. */

/* A unit name as systemd accepts one, roughly: name.type, from its
 * alphabet.  Rejecting more than systemd would only hide a unit. */
static bool
is_unit_name(const char *s, size_t n)
{
	static const char *const types[] = { "service", "socket", "target",
	    "device", "mount", "automount", "swap", "timer", "path", "slice",
	    "scope" };
	const char *dot = NULL;

	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.')
			dot = s + i;
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(":-_@\\", c) != NULL) ||
		    c == '\0')
			return false;
	}
	if (dot == NULL || dot == s)
		return false;
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
		if ((size_t)(s + n - dot - 1) == strlen(types[t]) &&
		    memcmp(dot + 1, types[t], strlen(types[t])) == 0)
			return true;
	return false;
}

/* A component of a cgroup path as a unit name: systemd prefixes some with
 * '_' (see cg_escape below). */
static bool
is_unit_component(const char *s, size_t n)
{
	if (n > 1 && s[0] == '_') {
		s++;
		n--;
	}
	return is_unit_name(s, n);
}

static bool
is_slice_component(const char *s, size_t n)
{
	return n > 6 && memcmp(s + n - 6, ".slice", 6) == 0 &&
	    is_unit_component(s, n);
}

/*
 * The unit's name as a cgroup directory, as systemd's cg_escape() makes
 * it: a '_' before names that could be taken for the kernel's own files
 * (the cgroup controllers' "memory.max" and the like).
 */
static char *
cg_escape(const char *unit)
{
	static const char *const controllers[] = { "cpu", "cpuacct", "cpuset",
	    "io", "blkio", "memory", "devices", "pids", "bpf-firewall",
	    "bpf-devices", "bpf-foreign", "bpf-socket-bind",
	    "bpf-restrict-network-interfaces" };
	const char *dot = strrchr(unit, '.');
	bool prefix = unit[0] == '_' || unit[0] == '.' ||
	    strncmp(unit, "cgroup.", 7) == 0;

	for (size_t i = 0; !prefix && dot != NULL &&
	    i < sizeof controllers / sizeof controllers[0]; i++)
		prefix = strlen(controllers[i]) == (size_t)(dot - unit) &&
		    strncmp(unit, controllers[i], (size_t)(dot - unit)) == 0;
	return lk_xasprintf("%s%s", prefix ? "_" : "", unit);
}

static void
places_add(struct jplaces *pl, const char *dir, size_t n)
{
	for (size_t i = 0; i < pl->n; i++)
		if (strlen(pl->dir[i]) == n && memcmp(pl->dir[i], dir, n) == 0)
			return;
	if (pl->n < JPLACES_MAX)
		pl->dir[pl->n++] = lk_xasprintf("%.*s", (int)n, dir);
}

/*
 * journald names a unit when, after the leading slices, the path goes on
 * with a unit (the system's units, and user@UID.service, under which it
 * finds the user's).  Only the other paths teach us anything: a manager
 * there is one journald cannot name.  Such a path ending in a unit tells
 * where that manager keeps units: the directory of the unit, and the
 * manager's own directory above its slices, with app.slice in it, where a
 * user manager puts services by default.
 */
void
jplaces_learn(struct jplaces *pl, const char *cg, size_t len)
{
	const char *p = cg, *end = cg + len, *last, *dir_end;
	size_t n;

	for (;;) {
		const char *slash;

		while (p < end && *p == '/')
			p++;
		slash = memchr(p, '/', (size_t)(end - p));
		n = (size_t)((slash != NULL ? slash : end) - p);
		if (!is_slice_component(p, n))
			break;
		p += n;
	}
	if (p >= end || is_unit_component(p, n))
		return;
	last = cg + len;
	while (last > cg && last[-1] != '/')
		last--;
	if (last == cg || !is_unit_component(last, (size_t)(end - last)))
		return;
	dir_end = last - 1;
	places_add(pl, cg, (size_t)(dir_end - cg));
	/* Up over the slices to the manager's own directory. */
	for (;;) {
		const char *c = dir_end;

		while (c > cg && c[-1] != '/')
			c--;
		if (c == cg || !is_slice_component(c, (size_t)(dir_end - c)))
			break;
		dir_end = c - 1;
	}
	if (dir_end > cg) {
		char *app = lk_xasprintf("%.*s/app.slice", (int)(dir_end - cg),
		    cg);

		places_add(pl, cg, (size_t)(dir_end - cg));
		places_add(pl, app, strlen(app));
		free(app);
	}
}

size_t
jplaces_matches(const struct jplaces *pl, const char *unit, char **out,
    size_t max)
{
	char *name = cg_escape(unit);
	size_t n = 0;

	for (size_t i = 0; i < pl->n && n < max; i++)
		out[n++] = lk_xasprintf("_SYSTEMD_CGROUP=%s/%s", pl->dir[i],
		    name);
	free(name);
	return n;
}

void
jplaces_free(struct jplaces *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		free(pl->dir[i]);
	pl->n = 0;
}

/* ---------------------------------------------------------------------------
 * Why there is nothing. */

static void
user_name(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw != NULL)
		snprintf(buf, len, "user %s", pw->pw_name);
	else
		snprintf(buf, len, "uid %ld", (long)geteuid());
}

/*
 * sd_journal_open() succeeds whatever it could not read, and its list of
 * failures is not public; so when nothing matched, look for ourselves at
 * what there was to read: journal files in dirs/MACHINE-ID/.
 */
void
journal_why_empty(const char *const *dirs, const char *unit, char *out,
    size_t len)
{
	char denied[1024] = "", who[96];
	int files = 0;

	for (size_t d = 0; dirs[d] != NULL && denied[0] == '\0'; d++) {
		DIR *top = opendir(dirs[d]);
		struct dirent *e;

		if (top == NULL && errno == EACCES)
			snprintf(denied, sizeof denied, "%s", dirs[d]);

		while (top != NULL && denied[0] == '\0' &&
		    (e = readdir(top)) != NULL) {
			char path[512];
			DIR *sub;
			struct dirent *f;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", dirs[d],
			    e->d_name);
			if ((sub = opendir(path)) == NULL) {
				if (errno == EACCES)
					snprintf(denied, sizeof denied, "%s",
					    path);
				continue;
			}
			while (denied[0] == '\0' && (f = readdir(sub)) != NULL) {
				size_t n = strlen(f->d_name);
				char file[1024];
				int fd;

				if (n < 8 || strcmp(f->d_name + n - 8,
				    ".journal") != 0)
					continue;
				files++;
				snprintf(file, sizeof file, "%s/%s", path,
				    f->d_name);
				fd = open(file, O_RDONLY | O_CLOEXEC |
				    O_NOCTTY | O_NONBLOCK);
				if (fd >= 0)
					close(fd);
				else if (errno == EACCES)
					snprintf(denied, sizeof denied, "%s",
					    file);
			}
			closedir(sub);
		}
		if (top != NULL)
			closedir(top);
	}
	user_name(who, sizeof who);
	if (denied[0] != '\0')
		snprintf(out, len, "journal of %s: %s may not read %s (the "
		    "groups systemd-journal and adm may)", unit, who, denied);
	else if (files == 0)
		snprintf(out, len, "journal of %s: no journal files in %s%s%s "
		    "(is systemd-journald running?)", unit, dirs[0],
		    dirs[0] && dirs[1] ? " or " : "",
		    dirs[0] && dirs[1] ? dirs[1] : "");
	else
		snprintf(out, len, "journal of %s: no entries", unit);
}

/* ---------------------------------------------------------------------------
 * Reading. */

static void step(struct probe_journal *pj);
static long long on_timer(struct loop *l, long long id, void *data);

/* Reading stops for good; the status says why and the callback hears it
 * once. */
static void
fail(struct probe_journal *pj, const char *what, int r)
{
	snprintf(pj->status, sizeof pj->status, "journal of %s: %s: %s",
	    pj->unit, what, strerror(r < 0 ? -r : r));
	pj->failed = true;
	pj->phase = PH_DONE;
	if (pj->fd >= 0) {
		loop_del_fd(pj->loop, pj->fd, LOOP_READABLE);
		pj->fd = -1;
	}
}

/* Adds matches from m: a "" starts the next OR term, a NULL ends. */
static int
add_terms(sd_journal *j, const char *const *m)
{
	int r = 0;

	for (; *m != NULL && r >= 0; m++)
		r = **m == '\0' ? sd_journal_add_disjunction(j) :
		    sd_journal_add_match(j, *m, 0);
	return r;
}

/*
 * journalctl's own matches (add_matches_for_unit and
 * add_matches_for_user_unit in systemd's logs-show.c), one OR term each:
 * the unit's own lines; its manager's lines about it (PID 1's, or the user
 * manager's, which runs as the user); systemd-coredump's reports of its
 * crashes; and other privileged daemons' lines about it.  Then, for a user
 * unit, its cgroups in managers journald cannot name (see the top of this
 * file).  Within a term, matches on one field are ORed and on different
 * fields ANDed; the user's uid keeps another user's unit of the same name
 * out.
 */
static int
add_matches(struct probe_journal *pj)
{
	char m[4][320], uid[32], *cg[JPLACES_MAX];
	const char *terms[32];
	size_t n = 0, ncg;
	int r;

	if (!pj->user) {
		snprintf(m[0], sizeof m[0], "_SYSTEMD_UNIT=%s", pj->unit);
		snprintf(m[1], sizeof m[1], "COREDUMP_UNIT=%s", pj->unit);
		snprintf(m[2], sizeof m[2], "UNIT=%s", pj->unit);
		snprintf(m[3], sizeof m[3], "OBJECT_SYSTEMD_UNIT=%s", pj->unit);
		{
			const char *const sys[] = { m[0], "",
			    "MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1",
			    "_UID=0", m[1], "", "_PID=1", m[2], "", "_UID=0",
			    m[3], NULL };

			return add_terms(pj->j, sys);
		}
	}
	snprintf(uid, sizeof uid, "_UID=%ld", (long)geteuid());
	snprintf(m[0], sizeof m[0], "_SYSTEMD_USER_UNIT=%s", pj->unit);
	snprintf(m[1], sizeof m[1], "USER_UNIT=%s", pj->unit);
	snprintf(m[2], sizeof m[2], "COREDUMP_USER_UNIT=%s", pj->unit);
	snprintf(m[3], sizeof m[3], "OBJECT_SYSTEMD_USER_UNIT=%s", pj->unit);
	for (size_t t = 0; t < 4; t++) {
		if (t > 0)
			terms[n++] = "";
		terms[n++] = m[t];
		terms[n++] = uid;
		/* Coredumps and the other daemons log as root. */
		if (t >= 2)
			terms[n++] = "_UID=0";
	}
	ncg = jplaces_matches(&pj->places, pj->unit, cg, JPLACES_MAX);
	if (ncg > 0) {
		terms[n++] = "";
		for (size_t i = 0; i < ncg; i++)
			terms[n++] = cg[i];
		terms[n++] = uid;
	}
	terms[n] = NULL;
	r = add_terms(pj->j, terms);
	for (size_t i = 0; i < ncg; i++)
		free(cg[i]);
	return r;
}

/* What get_data returns MESSAGE up to: one byte more than we keep, so a
 * longer message shows as cut. */
static void
message_threshold(struct probe_journal *pj)
{
	sd_journal_set_data_threshold(pj->j,
	    sizeof "MESSAGE=" - 1 + PROBE_JOURNAL_LINE_MAX + 1);
}

/* The journal's distinct cgroups; then the matches. */
static void
scan_some(struct probe_journal *pj, struct batch *b)
{
	const void *d;
	size_t l;
	int r;

	if (!pj->phase_started) {
		/* Paths may be long; the threshold is for MESSAGE. */
		sd_journal_set_data_threshold(pj->j, 0);
		if ((r = sd_journal_query_unique(pj->j, "_SYSTEMD_CGROUP")) < 0) {
			fail(pj, "listing cgroups", r);
			return;
		}
		pj->phase_started = true;
	}
	for (; !batch_over(b); b->left--) {
		r = sd_journal_enumerate_available_unique(pj->j, &d, &l);
		if (r < 0) {
			fail(pj, "listing cgroups", r);
			return;
		}
		if (r == 0) {
			message_threshold(pj);
			if ((r = add_matches(pj)) < 0) {
				fail(pj, "matching", r);
				return;
			}
			pj->phase = PH_BACK;
			pj->phase_started = false;
			return;
		}
		if (l > 16 && memcmp(d, "_SYSTEMD_CGROUP=", 16) == 0)
			jplaces_learn(&pj->places, (const char *)d + 16, l - 16);
	}
}

/* Steps back from the tail over the last `want` entries, a few at a time
 * so that the clock is looked at. */
static void
back_some(struct probe_journal *pj, struct batch *b)
{
	bool first_reached = false;
	int r;

	if (!pj->phase_started) {
		if ((r = sd_journal_seek_tail(pj->j)) < 0) {
			fail(pj, "seeking", r);
			return;
		}
		pj->back_from_us = (uint64_t)lk_now_ms() * 1000;
		pj->phase_started = true;
	}
	while (!first_reached && pj->back < pj->want && !batch_over(b)) {
		size_t ask = pj->want - pj->back < 20 ? pj->want - pj->back : 20;

		if ((r = sd_journal_previous_skip(pj->j, ask)) < 0) {
			fail(pj, "reading", r);
			return;
		}
		b->left -= (int)ask;
		pj->back += (size_t)r;
		/* Fewer than asked: the unit's first entry is under the
		 * cursor. */
		first_reached = (size_t)r < ask;
	}
	if (!first_reached && pj->back < pj->want)
		return;
	pj->current_unread = pj->back > 0;
	pj->phase = PH_FORWARD;
	pj->phase_started = false;
	/*
	 * Nothing of the unit yet.  Left at the tail, systemd 252 skips the
	 * first matching entry appended later once sd_journal_next() has
	 * returned 0 there; a position in time does not.  A second back
	 * covers an entry received before we looked but written after.
	 */
	if (pj->back == 0 && pj->follow &&
	    (r = sd_journal_seek_realtime_usec(pj->j,
	    pj->back_from_us - 1000000)) < 0)
		fail(pj, "seeking", r);
}

/* Copies the entry under the cursor into the ring; one without a message
 * (structured data only) is skipped, as journalctl skips it. */
static void
take(struct probe_journal *pj)
{
	const void *d, *pd;
	size_t l, pl;
	uint64_t ts = 0;
	int prio = 6;		/* journalctl's, for an entry without one */

	if (sd_journal_get_data(pj->j, "MESSAGE", &d, &l) < 0 || l < 8)
		return;
	(void)sd_journal_get_realtime_usec(pj->j, &ts);
	if (sd_journal_get_data(pj->j, "PRIORITY", &pd, &pl) >= 0 && pl == 10) {
		char c = ((const char *)pd)[9];

		if (c >= '0' && c <= '7')
			prio = c - '0';
	}
	jring_push(&pj->ring, (int64_t)ts, prio, (const char *)d + 8, l - 8);
	pj->added++;
}

static void
forward_some(struct probe_journal *pj, struct batch *b)
{
	int r;

	for (; !batch_over(b); b->left--) {
		if (pj->current_unread) {
			pj->current_unread = false;
			take(pj);
			continue;
		}
		if ((r = sd_journal_next(pj->j)) < 0) {
			fail(pj, "reading", r);
			return;
		}
		if (r == 0) {
			if (!pj->caught_up)
				pj->caught_up = pj->tell_caught_up = true;
			pj->phase = pj->follow ? PH_IDLE : PH_DONE;
			return;
		}
		take(pj);
	}
}

static void
free_now(struct probe_journal *pj)
{
	if (pj->more_timer)
		loop_del_timer(pj->loop, pj->more_timer);
	if (pj->wake_timer)
		loop_del_timer(pj->loop, pj->wake_timer);
	if (pj->fd >= 0)
		loop_del_fd(pj->loop, pj->fd, LOOP_READABLE);
	rjournal_free(&pj->remote);
	if (pj->j != NULL)
		sd_journal_close(pj->j);
	jring_free(&pj->ring);
	jplaces_free(&pj->places);
	free(pj->unit);
	free(pj);
}

/*
 * Tells the callback what changed since it last heard, if anything.  The
 * backlog is told once, whole, when caught up, however many passes it
 * took: a one-shot reader wants all of it, and a view has nothing to show
 * in the first half of it.
 */
static void
tell(struct probe_journal *pj)
{
	size_t added = pj->added < pj->ring.n ? pj->added : pj->ring.n;
	bool news = added > 0 || pj->tell_caught_up ||
	    (pj->failed && !pj->told_failure);

	if (!pj->caught_up && !pj->failed)
		return;
	pj->added = 0;
	pj->tell_caught_up = false;
	if (!news || pj->cb == NULL)
		return;
	pj->told_failure = pj->failed;
	journal_call_back(pj, added);
}

/* One batch of whatever is to do, then the news. */
static void
step(struct probe_journal *pj)
{
	struct batch b = { BATCH_ENTRIES, loop_now_ms() + BATCH_MS };

	while (!batch_over(&b) && pj->phase != PH_IDLE &&
	    pj->phase != PH_DONE) {
		if (pj->phase == PH_SCAN)
			scan_some(pj, &b);
		else if (pj->phase == PH_BACK)
			back_some(pj, &b);
		else
			forward_some(pj, &b);
	}
	if (pj->phase != PH_IDLE && pj->phase != PH_DONE &&
	    pj->more_timer == 0)
		pj->more_timer = loop_add_timer(pj->loop, 0, on_timer, pj);
	/* A failure's status stays; "no entries" goes with the first line. */
	if (!pj->failed && (pj->ring.n > 0 || !pj->caught_up))
		pj->status[0] = '\0';
	else if (!pj->failed && pj->status[0] == '\0') {
		static const char *const dirs[] = { "/run/log/journal",
		    "/var/log/journal", NULL };

		journal_why_empty(dirs, pj->unit, pj->status,
		    sizeof pj->status);
	}
	tell(pj);
}

/* Re-arms the timer sd-journal asks for, if any (it does where inotify
 * cannot watch the files, on network file systems). */

static void
arm_wake(struct probe_journal *pj)
{
	uint64_t until = UINT64_MAX;

	if (pj->wake_timer) {
		loop_del_timer(pj->loop, pj->wake_timer);
		pj->wake_timer = 0;
	}
	if (sd_journal_get_timeout(pj->j, &until) >= 0 && until != UINT64_MAX) {
		long long ms = ((long long)until - loop_now_ms() * 1000) / 1000;

		pj->wake_timer = loop_add_timer(pj->loop, ms > 0 ? ms : 0,
		    on_timer, pj);
	}
}

/* The files changed (or may have): read on from where we are. */
static void
on_change(struct probe_journal *pj)
{
	int r = sd_journal_process(pj->j);

	if (r < 0) {
		fail(pj, "watching", r);
		tell(pj);
		return;
	}
	arm_wake(pj);
	if (pj->phase == PH_IDLE) {
		pj->phase = PH_FORWARD;
		step(pj);
	}
}

/* Both timers: sd-journal's own timeout, and the next batch. */
static long long
on_timer(struct loop *l, long long id, void *data)
{
	struct probe_journal *pj = data;

	(void)l;
	if (id == pj->wake_timer) {
		pj->wake_timer = 0;
		on_change(pj);
	} else {
		pj->more_timer = 0;
		step(pj);
	}
	return LOOP_NOMORE;
}

static void
on_fd(struct loop *l, int fd, int mask, void *data)
{
	(void)l;
	(void)fd;
	(void)mask;
	on_change(data);
}

static enum lk_code
journal_check_args(const char *unit, const char *scope, size_t lines,
    struct lk_err *err)
{
	if (unit == NULL || !is_unit_name(unit, strlen(unit)))
		return lk_fail(err, LK_EINPUT, "journal: \"%s\" is not a unit "
		    "name", unit ? unit : "");
	if (scope == NULL || (strcmp(scope, "user") != 0 &&
	    strcmp(scope, "system") != 0))
		return lk_fail(err, LK_EINPUT, "journal of %s: scope \"%s\" is "
		    "neither user nor system", unit, scope ? scope : "");
	if (lines < 1 || lines > PROBE_JOURNAL_LINES_MAX)
		return lk_fail(err, LK_EINPUT, "journal of %s: %zu lines is not "
		    "between 1 and %d", unit, lines, PROBE_JOURNAL_LINES_MAX);
	return LK_OK;
}

/* A handle with what a local and a remote journal share; the caller
 * opens its source, and frees it with free_now if that fails. */
static struct probe_journal *
journal_new(struct loop *loop, const char *unit, const char *scope,
    bool follow, probe_journal_cb *cb, void *data)
{
	struct probe_journal *pj = lk_xcalloc(1, sizeof *pj);

	pj->loop = loop;
	pj->unit = lk_xstrdup(unit);
	pj->user = strcmp(scope, "user") == 0;
	pj->follow = follow;
	pj->cb = cb;
	pj->cb_data = data;
	pj->fd = -1;
	return pj;
}

static enum lk_code
journal_open(struct loop *loop, const char *unit, const char *scope,
    size_t lines, bool follow, probe_journal_cb *cb, void *data,
    struct probe_journal **out, struct lk_err *err)
{
	struct probe_journal *pj;
	int r;

	*out = NULL;
	if (journal_check_args(unit, scope, lines, err) != LK_OK)
		return err->code;
	pj = journal_new(loop, unit, scope, follow, cb, data);
	/* Local only: other machines' journals (containers, remote) have
	 * units of the same names that are not ours. */
	r = sd_journal_open(&pj->j, SD_JOURNAL_LOCAL_ONLY);
	if (r < 0) {
		free_now(pj);
		return lk_fail(err, LK_EIO, "journal of %s: cannot open: %s",
		    unit, strerror(-r));
	}
	pj->want = lines;
	jring_init(&pj->ring, lines);
	message_threshold(pj);
	/* Only the user scope has cgroups to learn: see the top. */
	pj->phase = pj->user ? PH_SCAN : PH_BACK;
	if (!pj->user && (r = add_matches(pj)) < 0) {
		free_now(pj);
		return lk_fail(err, LK_EIO, "journal of %s: matching: %s", unit,
		    strerror(-r));
	}
	/*
	 * The fd before any reading, as sd_journal_get_fd(3) advises: the
	 * files are watched from this call on, and a line written between
	 * our last read and a later call would wake nobody until the next.
	 */
	if (follow) {
		pj->fd = sd_journal_get_fd(pj->j);
		if (pj->fd < 0) {
			r = pj->fd;
			pj->fd = -1;
			free_now(pj);
			return lk_fail(err, LK_EIO, "journal of %s: cannot "
			    "watch: %s", unit, strerror(-r));
		}
		loop_add_fd(loop, pj->fd, LOOP_READABLE, on_fd, pj);
		arm_wake(pj);
	}
	pj->more_timer = loop_add_timer(loop, 0, on_timer, pj);
	*out = pj;
	return LK_OK;
}

enum lk_code
probe_journal_follow(struct loop *loop, const char *unit, const char *scope,
    size_t lines, probe_journal_cb *cb, void *data,
    struct probe_journal **out, struct lk_err *err)
{
	return journal_open(loop, unit, scope, lines, true, cb, data, out, err);
}

enum lk_code
probe_journal_last(struct loop *loop, const char *unit, const char *scope,
    size_t lines, probe_journal_cb *cb, void *data,
    struct probe_journal **out, struct lk_err *err)
{
	return journal_open(loop, unit, scope, lines, false, cb, data, out,
	    err);
}

/*
 * Another host's journal: the same handle, its lines, state and status
 * kept by rjournal.c, which calls journal_call_back() with its news.
 */
static enum lk_code
journal_open_remote(struct loop *loop, const struct probe_journal_host *h,
    const char *unit, const char *scope, size_t lines, bool follow,
    probe_journal_cb *cb, void *data, struct probe_journal **out,
    struct lk_err *err)
{
	struct probe_journal *pj;

	*out = NULL;
	if (journal_check_args(unit, scope, lines, err) != LK_OK)
		return err->code;
	if (h == NULL || h->host == NULL)
		return lk_fail(err, LK_EINPUT, "journal of %s: no host", unit);
	pj = journal_new(loop, unit, scope, follow, cb, data);
	pj->remote = rjournal_new(loop, h, unit, scope, lines, follow, pj,
	    err);
	if (pj->remote == NULL) {
		free_now(pj);
		return err->code;
	}
	*out = pj;
	return LK_OK;
}

void
journal_call_back(struct probe_journal *pj, size_t added)
{
	if (pj->cb == NULL)
		return;
	pj->in_cb = true;
	pj->cb(pj, added, pj->cb_data);
	pj->in_cb = false;
	if (pj->freed)
		free_now(pj);
}

enum lk_code
probe_journal_follow_remote(struct loop *loop,
    const struct probe_journal_host *h, const char *unit, const char *scope,
    size_t lines, probe_journal_cb *cb, void *data,
    struct probe_journal **out, struct lk_err *err)
{
	return journal_open_remote(loop, h, unit, scope, lines, true, cb, data,
	    out, err);
}

enum lk_code
probe_journal_last_remote(struct loop *loop,
    const struct probe_journal_host *h, const char *unit, const char *scope,
    size_t lines, probe_journal_cb *cb, void *data,
    struct probe_journal **out, struct lk_err *err)
{
	return journal_open_remote(loop, h, unit, scope, lines, false, cb,
	    data, out, err);
}

void
probe_journal_free(struct probe_journal **pjp)
{
	struct probe_journal *pj = *pjp;

	*pjp = NULL;
	if (pj == NULL)
		return;
	if (pj->in_cb) {
		pj->freed = true;
		return;
	}
	free_now(pj);
}

static const struct jring *
ring_of(const struct probe_journal *pj)
{
	return pj->remote != NULL ? rjournal_ring(pj->remote) : &pj->ring;
}

size_t
probe_journal_count(const struct probe_journal *pj)
{
	return ring_of(pj)->n;
}

const struct probe_journal_line *
probe_journal_line(const struct probe_journal *pj, size_t i)
{
	return jring_get(ring_of(pj), i);
}

bool
probe_journal_caught_up(const struct probe_journal *pj)
{
	return pj->remote != NULL ? rjournal_caught_up(pj->remote) :
	    pj->caught_up;
}

const char *
probe_journal_status(const struct probe_journal *pj)
{
	if (pj->remote != NULL)
		return rjournal_status(pj->remote);
	return pj->status[0] ? pj->status : NULL;
}
