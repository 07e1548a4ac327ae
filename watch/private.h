/*
 * Internals shared by the files of watch/: the rules (rules.c) and the
 * incidents they feed (track.c), both pure computation over the probes'
 * states and the time they are given, so that every rule is unit-tested
 * without a manager, a timeline or a clock (tests/watch/); and the log
 * (log.c).  Not part of the public API.
 */
#ifndef LK_WATCH_PRIVATE_H
#define LK_WATCH_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../config/config.h"
#include "../probes/probes.h"

/* --- the rules (rules.c) ------------------------------------------------- */

/*
 * One service's or queue's settings, the configuration's watch = { ... }
 * with the defaults filled in.  The rules are CONFIG_WATCH_*.
 */
struct wsettings {
	bool off;
	char severity[4];		/* "" : each rule's own */
	int64_t unhealthy_after;
	int64_t down_after_ms;
	int64_t restarts;
	int64_t restart_window_ms;
	int64_t paused_after_ms;
	int64_t crit_after_ms;
	int64_t growing_for_ms;
	unsigned ignore;		/* 1u << rule */
};

/* c may be NULL (a unit found without a configuration). */
void wsettings_from(const struct config_watch *c, struct wsettings *out);

/* The severity of an incident opened by rule r: the setting, else the
 * rule's own. */
const char *wsettings_severity(const struct wsettings *s, int r);

/* Failing checks kept as evidence of an "unhealthy", the first and the
 * latest ones. */
#define WCHECKS_MAX 5
#define WLABEL_MAX 192

struct wcheck {
	int64_t at_ms;
	char reason[PROBE_REASON_MAX];
};

enum waction_kind {
	/*
	 * The subject's state changed: from, to, and how many changes the
	 * window (one interval from the first) held; a flap is one action.
	 * at_ms is when the first came.
	 */
	WA_CHANGE,
	/* Rule fired: open an incident (or add to the subject's).  at_ms is
	 * the first failing sample, not the time it fired. */
	WA_FIRE,
	/* Rule no longer holds, from at_ms. */
	WA_CLEAR,
	/* A rule that only warns began to hold (not-enabled, stale). */
	WA_WARN,
	/* Nothing holds any more, from at_ms, or for the first time since
	 * the rules were told of the subject. */
	WA_HEALTHY,
	/* Something began to hold (fired or not yet). */
	WA_SICK,
};

/* What the rules ask for; valid during the callback only. */
struct waction {
	enum waction_kind kind;
	size_t id;			/* the subject's, see wrules_add */
	const char *subject;
	bool queue;
	int rule;			/* FIRE, CLEAR, WARN */
	const char *severity;		/* FIRE */
	int64_t at_ms;
	const char *from;		/* CHANGE */
	const char *to;			/* CHANGE; the state now otherwise */
	int count;			/* CHANGE */
	const char *reason;		/* why, now ("" when nothing to say) */
	const char *first_reason;	/* FIRE: at the first failing sample */
	const struct wcheck *checks;	/* FIRE of unhealthy: in a row */
	size_t nchecks;
	int64_t nfailed;		/* FIRE of unhealthy: how many */
};

struct wrules;
typedef void wrules_cb(const struct waction *a, void *data);

/* window_ms: how long state changes are gathered into one CHANGE. */
struct wrules *wrules_new(int64_t window_ms, wrules_cb *cb, void *data);
void wrules_free(struct wrules **w);
void wrules_set_window(struct wrules *w, int64_t window_ms);

/*
 * The subjects: after wrules_reset, wrules_add each service and queue
 * (again); a subject of the same kind and name keeps its state and its
 * id.  wrules_prune then drops the ones not added again.
 */
void wrules_reset(struct wrules *w);
size_t wrules_add(struct wrules *w, bool queue, const char *name,
    const struct wsettings *s);
void wrules_prune(struct wrules *w);
size_t wrules_count(const struct wrules *w);

/* A new state of subject id at now_ms (wall clock), from the probes. */
void wrules_service(struct wrules *w, size_t id,
    const struct probe_service *s, int64_t now_ms);
void wrules_queue(struct wrules *w, size_t id, const struct probe_queue *q,
    int64_t now_ms);
/* What is due by now_ms: a grace that ran out, a window that closed. */
void wrules_tick(struct wrules *w, int64_t now_ms);
/* The earliest time something will be due; 0: nothing. */
int64_t wrules_next(const struct wrules *w);
/* Closes every open window now (on the way out). */
void wrules_flush(struct wrules *w, int64_t now_ms);

/* The state the subject was last seen in ("failed/failed (failed)"). */
const char *wrules_label(const struct wrules *w, size_t id);

/* --- the incidents (track.c) ---------------------------------------------- */

/*
 * The incidents the watcher follows: for each, its subjects and whether
 * each is healthy again.  Mitigated when all are, at the latest of the
 * times they became so; resolved once that has held for resolve_after.
 */
enum wtrack_kind { WT_MITIGATED, WT_RESOLVED };
/* subject and rule: what opened it (the first fire), rule -1 unknown. */
typedef void wtrack_cb(enum wtrack_kind kind, int64_t id, int64_t at_ms,
    const char *subject, int rule, void *data);

struct wtrack;
struct wtrack *wtrack_new(int64_t resolve_after_ms, wtrack_cb *cb,
    void *data);
void wtrack_free(struct wtrack **t);
void wtrack_set_resolve_after(struct wtrack *t, int64_t ms);

/* An incident the watcher opened before (found open at start), by rule
 * (-1: unknown): its subjects count as failing until seen healthy. */
void wtrack_adopt(struct wtrack *t, int64_t id, const char *const *subjects,
    size_t n, int rule);
/* The incident subject is part of, 0: none. */
int64_t wtrack_find(const struct wtrack *t, const char *subject);
bool wtrack_has(const struct wtrack *t, int64_t id);
/* Rule of subject fired into incident id (which is followed from now). */
void wtrack_fire(struct wtrack *t, int64_t id, const char *subject,
    int rule);
/*
 * Whether the evidence of rule of subject is due in incident id at now:
 * none given in the last gap_ms.  A rule that fires, clears and fires
 * again (a check that flaps) adds its evidence once a gap, not every
 * turn.  Records now when it is due.
 */
bool wtrack_evidence_due(struct wtrack *t, int64_t id, const char *subject,
    int rule, int64_t now, int64_t gap_ms);
void wtrack_sick(struct wtrack *t, const char *subject);
void wtrack_healthy(struct wtrack *t, const char *subject, int64_t at_ms);
void wtrack_tick(struct wtrack *t, int64_t now_ms);
int64_t wtrack_next(const struct wtrack *t);
/* No longer followed: a person resolved or closed it. */
void wtrack_forget(struct wtrack *t, int64_t id);
size_t wtrack_count(const struct wtrack *t);

/* --- the log (log.c) ------------------------------------------------------ */

/*
 * One line per event on stderr.  When stderr is the journal (its device
 * and inode are $JOURNAL_STREAM's), each line starts with sd-daemon's
 * "<N>" so that journald records its priority; otherwise with the time.
 * Text from outside is escaped.  Levels are syslog's (LOG_ERR ...).
 */
void wlog_init(void);
void wlog(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
