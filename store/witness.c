/*
 * The chain's head, witnessed outside the file: the systemd journal.
 *
 * The hash chain finds an event edited, inserted or deleted in the middle,
 * but not the newest events deleted with the head row rewritten to the
 * event before them: what is left is a valid, shorter chain.  So at every
 * milestone, at the end of every run and when a command that appended
 * exits, lookout sends the head (its seq and hash) to the journal, which
 * another user cannot edit, which keeps it apart from the file, and which
 * can be sealed (journalctl --setup-keys) and forwarded off the host.
 * verify then compares the chain with the last head the journal saw.
 *
 * A witness names the timeline two ways: LOOKOUT_TIMELINE, the file's path
 * without links, and LOOKOUT_TIMELINE_ID, the hash of its first event
 * (which no edit of the file can change without breaking the chain from
 * there on).  verify reads the witnesses matching either, so a moved file
 * still finds its own, and a file rewritten under the same path still
 * meets the witnesses of what it replaced.
 *
 * LOOKOUT_WITNESS=off turns both sides off: the test suite sets it, so
 * that tests never write to the host's journal (the ones about the
 * witness run with a journald of their own, tests/sandbox --journal).
 */
#include "private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-journal.h>

/* MESSAGE_ID of a witness: journalctl MESSAGE_ID=... lists them all. */
#define WITNESS_MESSAGE_ID "6c9e1f0b2a7d4e3c9b8a5f4e3d2c1b0a"

static bool
witness_on(void)
{
	const char *v = getenv("LOOKOUT_WITNESS");

	return v == NULL || strcmp(v, "off") != 0;
}

/* The hash of event seq, or "" when there is none. */
static void
event_hash(struct store *s, int64_t seq, char out[STORE_HASH_HEX])
{
	sqlite3_stmt *st = s->st_event_hash;

	out[0] = '\0';
	sqlite3_bind_int64(st, 1, seq);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, STORE_HASH_HEX, "%s",
		    (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
}

void
store_witness(struct store *s)
{
	char hash[STORE_HASH_HEX] = "", id[STORE_HASH_HEX];
	int64_t seq = 0;
	char *real;

	if (!s->witness_due || !witness_on())
		return;
	s->witness_due = false;
	if (sqlite3_step(s->st_head) == SQLITE_ROW) {
		seq = sqlite3_column_int64(s->st_head, 0);
		snprintf(hash, sizeof hash, "%s",
		    (const char *)sqlite3_column_text(s->st_head, 1));
	}
	sqlite3_reset(s->st_head);
	if (seq == 0)
		return;
	event_hash(s, 1, id);
	real = realpath(s->path, NULL);
	/* Best effort: without a journal there is nothing to tell, and
	 * verify says it found no witness. */
	sd_journal_send("MESSAGE=timeline %s: head at event %" PRId64
	    ", hash %.16s", real ? real : s->path, seq, hash,
	    "MESSAGE_ID=" WITNESS_MESSAGE_ID,
	    "SYSLOG_IDENTIFIER=lookout",
	    "PRIORITY=6",
	    "LOOKOUT_TIMELINE=%s", real ? real : s->path,
	    "LOOKOUT_TIMELINE_ID=%s", id,
	    "LOOKOUT_HEAD_SEQ=%" PRId64, seq,
	    "LOOKOUT_HEAD_HASH=%s", hash,
	    NULL);
	free(real);
}

/* The value of field in the current entry, in buf; false when absent. */
static bool
field(sd_journal *j, const char *name, char *buf, size_t len)
{
	const void *data;
	size_t n, k = strlen(name);

	if (sd_journal_get_data(j, name, &data, &n) < 0 || n <= k ||
	    ((const char *)data)[k] != '=')
		return false;
	n -= k + 1;
	if (n >= len)
		n = len - 1;
	memcpy(buf, (const char *)data + k + 1, n);
	buf[n] = '\0';
	return true;
}

struct seen {
	int64_t seq;
	char hash[STORE_HASH_HEX];
	int64_t ms;
	char path[512];
};

/* The witness of the highest head among the journal's entries for this
 * timeline; false when there is none. */
static bool
last_witness(sd_journal *j, const char *id, const char *path,
    struct seen *best)
{
	char match[STORE_HASH_HEX + 600], num[32];
	bool found = false;

	sd_journal_flush_matches(j);
	if (id[0] != '\0') {
		snprintf(match, sizeof match, "LOOKOUT_TIMELINE_ID=%s", id);
		sd_journal_add_match(j, match, 0);
		sd_journal_add_disjunction(j);
	}
	snprintf(match, sizeof match, "LOOKOUT_TIMELINE=%s", path);
	sd_journal_add_match(j, match, 0);
	sd_journal_seek_head(j);
	while (sd_journal_next(j) > 0) {
		struct seen w = { 0 };
		uint64_t usec = 0;
		char *end;

		if (!field(j, "LOOKOUT_HEAD_SEQ", num, sizeof num) ||
		    !field(j, "LOOKOUT_HEAD_HASH", w.hash, sizeof w.hash))
			continue;
		w.seq = strtoll(num, &end, 10);
		if (*end != '\0' || w.seq <= 0)
			continue;
		field(j, "LOOKOUT_TIMELINE", w.path, sizeof w.path);
		sd_journal_get_realtime_usec(j, &usec);
		w.ms = (int64_t)(usec / 1000);
		if (!found || w.seq >= best->seq) {
			*best = w;
			found = true;
		}
	}
	return found;
}

static void
witness_fail(struct store_verify_report *r, int64_t seq, const char *why)
{
	r->ok = false;
	r->bad_seq = seq;
	snprintf(r->reason, sizeof r->reason, "%s", why);
}

void
store_witness_check(struct store *s, struct store_verify_report *r)
{
	char id[STORE_HASH_HEX], hash[STORE_HASH_HEX], when[LK_ISO_LEN];
	struct seen w = { 0 };
	sd_journal *j = NULL;
	char *real;
	int rc;

	if (!witness_on()) {
		snprintf(r->witness, sizeof r->witness, "the journal's witness "
		    "is off (LOOKOUT_WITNESS=off): the chain alone was "
		    "checked");
		return;
	}
	if ((rc = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY)) < 0) {
		snprintf(r->witness, sizeof r->witness, "no journal to read "
		    "the witness from (%s): the chain alone was checked",
		    strerror(-rc));
		return;
	}
	if (sd_journal_seek_head(j) < 0 || sd_journal_next(j) <= 0) {
		snprintf(r->witness, sizeof r->witness, "the journal holds "
		    "nothing this user can read: the chain alone was checked");
		sd_journal_close(j);
		return;
	}
	event_hash(s, 1, id);
	real = realpath(s->path, NULL);
	if (!last_witness(j, id, real ? real : s->path, &w)) {
		snprintf(r->witness, sizeof r->witness, "no witness of this "
		    "timeline in the journal yet (one is written at every "
		    "milestone, run end and exit of a command that appended)");
	} else {
		lk_iso8601(w.ms, when);
		event_hash(s, w.seq, hash);
		if (w.seq > r->last_seq) {
			snprintf(r->witness, sizeof r->witness, "the journal "
			    "witnessed event %lld (hash %.12s, at %s) but the "
			    "chain ends at event %lld: the witnessed head is "
			    "missing, events were removed from its end",
			    (long long)w.seq, w.hash, when,
			    (long long)r->last_seq);
			witness_fail(r, r->last_seq + 1, r->witness);
		} else if (strcmp(hash, w.hash) != 0) {
			snprintf(r->witness, sizeof r->witness, "event %lld is "
			    "not the one the journal witnessed (hash %.12s, at "
			    "%s): the chain was rewritten", (long long)w.seq,
			    w.hash, when);
			witness_fail(r, w.seq, r->witness);
		} else {
			snprintf(r->witness, sizeof r->witness, "the journal "
			    "witnessed event %lld (at %s); %lld event%s "
			    "follow%s it", (long long)w.seq, when,
			    (long long)(r->last_seq - w.seq),
			    r->last_seq - w.seq == 1 ? "" : "s",
			    r->last_seq - w.seq == 1 ? "s" : "");
		}
	}
	free(real);
	sd_journal_close(j);
}
