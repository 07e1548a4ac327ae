/* Internals shared by the files of probes/.  Not part of the public API. */
#ifndef LK_PROBES_PRIVATE_H
#define LK_PROBES_PRIVATE_H

#include "probes.h"

struct config;
struct lk_buf;
struct http_pool;
struct pqueue;

/*
 * How often a sample that repeats its subject's last one is written all
 * the same (probes_record_now): the pulse that tells "unchanged" from "not
 * looked at".  A reader of the series trusts a sample this long.
 */
#define PROBES_SAMPLE_REPEAT_MS (10 * 60 * 1000)

/*
 * A connection to another host that fails or drops (a manager's bus over
 * ssh, a followed journal) is made again after PROBE_RETRY_FIRST_MS, then
 * twice as late each time, at most PROBE_RETRY_MAX_MS.  Returns the wait
 * before this try and doubles *wait_ms for the next.
 */
#define PROBE_RETRY_FIRST_MS 1000
#define PROBE_RETRY_MAX_MS 60000
static inline int64_t
probe_retry_next(int64_t *wait_ms)
{
	int64_t now = *wait_ms;

	*wait_ms = now * 2 < PROBE_RETRY_MAX_MS ? now * 2 : PROBE_RETRY_MAX_MS;
	return now;
}

/* The owner's pieces that the queue sources use. */
struct loop *probes_loop(const struct probes *p);
/* NULL unless the configuration makes HTTP requests: see probes_new(). */
struct http_pool *probes_http(const struct probes *p);
struct store *probes_store(const struct probes *p);
/* Marks the state changed: it is re-derived and the subscriber told once,
 * from the loop (see changed() in probes.c). */
void probes_changed(struct probes *p);

/*
 * hosts.c: the managers of other hosts, one connection per host and
 * scope, and the /proc checks of their units, one ssh per host a cycle.
 */
struct phosts;
struct sysd;
/* NULL without hosts in cfg; fails on an ssh_config others could write. */
enum lk_code phosts_new(struct probes *p, const struct config *cfg,
    struct phosts **out, struct lk_err *err);
void phosts_free(struct phosts **h);
/* The manager of host (its user or system one), connected on first use;
 * cb(sd, data) is its change callback.  NULL when host is no
 * destination (err says why). */
struct sysd *phosts_manager(struct phosts *h, const char *host, bool user,
    void (*cb)(struct sysd *, void *), void *data, struct lk_err *err);
size_t phosts_nmanagers(const struct phosts *h);
struct sysd *phosts_manager_at(const struct phosts *h, size_t i);
/* How long a host may take to answer (config ssh_timeout). */
int64_t phosts_timeout_ms(const struct phosts *h);
/* Starts one /proc check per host that has running units, unless the
 * last one is still on its way; probes_procs_arrived() follows. */
void phosts_read_procs(struct phosts *h);
/*
 * The units of sd (another host's manager) changed: until a first check
 * of its host came back, one starts now (or once the one on its way is
 * back), so that a one-shot status has the flags; later checks follow
 * the cycle.
 */
void phosts_units_changed(struct phosts *h, const struct sysd *sd);
/* No /proc check is on its way. */
bool phosts_settled(const struct phosts *h);
/* What the last check of sd's host found in cgroup: flags (deleted cwd,
 * exe) with detail, and the processes. */
unsigned phosts_proc_flags(const struct phosts *h, const struct sysd *sd,
    const char *cgroup, char *detail, size_t len);
size_t phosts_procs(const struct phosts *h, const struct sysd *sd,
    const char *cgroup, struct probe_proc *out, size_t max);
/* probes.c: a host's /proc check has come back for the units of sd. */
void probes_procs_arrived(struct probes *p, struct sysd *sd);

/* queues.c: one pqueue per configured queue, in config order. */
struct pqueue *probe_queues_new(struct probes *p, const struct config *cfg,
    size_t *n);
void probe_queues_free(struct pqueue *q, size_t n);
void probe_queues_read(struct pqueue *q, size_t n);
void probe_queues_derive(struct pqueue *q, size_t n);
bool probe_queues_settled(const struct pqueue *q, size_t n);
int64_t probe_queues_max_wait(const struct pqueue *q, size_t n, int64_t floor);
const struct probe_queue *probe_queue_state(const struct pqueue *q, size_t n,
    size_t i);
size_t probe_queue_history(const struct pqueue *q, size_t n, size_t i,
    int64_t *depths, size_t max);

/* journal.c: its pure parts, here for the unit tests. */

/* The ring of a journal's newest lines.  Each slot owns its text. */
struct jring {
	struct jslot *slots;
	size_t cap;
	size_t head;		/* the oldest line's slot */
	size_t n;
};
void jring_init(struct jring *r, size_t cap);
void jring_free(struct jring *r);
/* Appends a copy of the n bytes at msg, cut at PROBE_JOURNAL_LINE_MAX,
 * dropping the oldest line when the ring is full. */
void jring_push(struct jring *r, int64_t realtime_us, int priority,
    const void *msg, size_t n);
const struct probe_journal_line *jring_get(const struct jring *r, size_t i);

/*
 * Where user managers that journald cannot name keep their units, learnt
 * from the journal's _SYSTEMD_CGROUP values (see journal.c, "Which entries
 * are the unit's").  Owns its strings.
 */
#define JPLACES_MAX 16
struct jplaces {
	char *dir[JPLACES_MAX];
	size_t n;
};
/* Learns from one value ("/a.slice/b/app.slice/c.service", len bytes). */
void jplaces_learn(struct jplaces *pl, const char *cgroup, size_t len);
/* The cgroup unit has in each place, as "_SYSTEMD_CGROUP=..." matches;
 * returns how many were written to out (the caller frees them). */
size_t jplaces_matches(const struct jplaces *pl, const char *unit,
    char **out, size_t max);
void jplaces_free(struct jplaces *pl);

/* Why a journal holds no line of unit, from what the journal directories
 * (NULL-terminated, e.g. /run/log/journal) hold and this user may read. */
void journal_why_empty(const char *const *dirs, const char *unit, char *out,
    size_t len);

/*
 * rjournal.c: another host's journal, journalctl there over ssh.  The
 * lines go to a ring like the local reader's; the owner hears the news
 * through journal_call_back(), always from a timer of rjournal's own.
 */
struct rjournal;
/* The longest line of journalctl's JSON kept; a longer one is skipped. */
#define RJ_JSON_MAX (64 * 1024)
/* NULL on failure (err says why: a bad host, no fds). */
struct rjournal *rjournal_new(struct loop *loop,
    const struct probe_journal_host *h, const char *unit, const char *scope,
    size_t lines, bool follow, struct probe_journal *owner,
    struct lk_err *err);
/* Stops its ssh (killed with its group) and frees; sets *rj to NULL. */
void rjournal_free(struct rjournal **rj);
const struct jring *rjournal_ring(const struct rjournal *rj);
bool rjournal_caught_up(const struct rjournal *rj);
const char *rjournal_status(const struct rjournal *rj);
/* The shell text the remote side runs: a fixed script, the unit, scope,
 * count, cgroup (or NULL) and the cursor to resume after (or NULL: the
 * last count entries), each a quoted word.  For the unit tests. */
enum lk_code rjournal_command(struct lk_buf *cmd, const char *unit,
    const char *scope, size_t lines, bool follow, const char *cgroup,
    const char *after_cursor, struct lk_err *err);
/* A journal cursor's longest text kept, and the characters journalctl
 * writes one with; another cursor is not used. */
#define RJ_CURSOR_MAX 256
#define RJ_CURSOR_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
	"0123456789=;_-"
/* One line of journalctl -o json as a journal line: false for what is
 * not an entry with a message.  msg gets the message's raw bytes, cursor
 * (if not NULL, RJ_CURSOR_MAX bytes) the entry's __CURSOR, or "" when it
 * has none or one of characters a cursor does not have. */
bool rjournal_parse(const char *s, size_t len, int64_t *realtime_us,
    int *priority, struct lk_buf *msg, char *cursor);
/* journal.c: tells pj's callback, which may free pj (and so rj). */
void journal_call_back(struct probe_journal *pj, size_t added);

#endif
