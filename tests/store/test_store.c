/* store: opening, durable appends, the hash chain and incidents. */
#include "fixture.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

TestSuite(store, .init = fx_setup, .fini = fx_teardown, .timeout = 30);

Test(store, creates_private_directory_and_file)
{
	struct stat st;
	char dir[600];

	snprintf(dir, sizeof dir, "%s/state/lookout", fx_dir);
	cr_assert_eq(stat(dir, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0700, "directory mode %o",
	    st.st_mode & 0777);
	cr_assert_eq(stat(fx_path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600, "file mode %o",
	    st.st_mode & 0777);
	fx_append("test.event", "x");
	snprintf(dir, sizeof dir, "%s-wal", fx_path);
	cr_assert_eq(stat(dir, &st), 0);
	cr_expect_eq(st.st_mode & 0077, 0, "wal mode %o", st.st_mode & 0777);
}

Test(store, appends_are_sequential_and_read_back)
{
	int64_t a = fx_append("test.event", "first");
	int64_t b = fx_append("test.event", "second");
	struct lk_err err = { 0 };
	struct store_verify_report r;

	cr_expect_eq(a, 1);
	cr_expect_eq(b, 2);
	cr_assert_eq(store_verify(fx_store, 0, &r, &err), LK_OK);
	cr_expect(r.ok, "%s", r.reason);
	cr_expect_eq(r.checked, 2);
}

static int
collect_actor(const struct store_event *ev, void *arg)
{
	char *out = arg;

	snprintf(out, 256, "%s|%s|%s|%s|%s", ev->actor_user, ev->actor_from,
	    ev->actor_tty, ev->kind, ev->message);
	return 0;
}

Test(store, every_event_carries_the_actor)
{
	struct lk_err err = { 0 };
	char got[256] = "";

	fx_append("test.event", "hello");
	cr_assert_eq(store_event_foreach(fx_store, 0, collect_actor, got,
	    &err), LK_OK);
	cr_expect_str_eq(got, "alice|203.0.113.9|/dev/pts/3|test.event|hello");
}

Test(store, rejects_event_data_that_is_not_json)
{
	struct store_new_event ev = { .kind = "x", .data = "{nope" };
	struct lk_err err = { 0 };

	cr_expect_eq(store_append(fx_store, &ev, NULL, &err), LK_EINPUT);
	cr_expect(strstr(err.msg, "not JSON") != NULL, "%s", err.msg);
}

static void
expect_broken(int64_t seq, const char *words)
{
	struct store_verify_report r;
	struct lk_err err = { 0 };

	cr_assert_eq(store_verify(fx_store, 0, &r, &err), LK_OK, "%s", err.msg);
	cr_assert_not(r.ok, "verify passed a tampered chain");
	cr_expect_eq(r.bad_seq, seq, "blamed %lld: %s", (long long)r.bad_seq,
	    r.reason);
	cr_expect(strstr(r.reason, words) != NULL, "reason: %s", r.reason);
}

Test(store, verify_names_an_edited_event)
{
	for (int i = 0; i < 5; i++)
		fx_append("test.event", "steady");
	fx_tamper("UPDATE events SET message = 'nothing happened' "
	    "WHERE seq = 3");
	expect_broken(3, "event 3 was edited");
}

Test(store, verify_names_a_deleted_event)
{
	for (int i = 0; i < 5; i++)
		fx_append("test.event", "steady");
	fx_tamper("DELETE FROM events WHERE seq = 2");
	expect_broken(2, "event 2 is missing");
}

Test(store, verify_notices_the_tail_deleted)
{
	for (int i = 0; i < 5; i++)
		fx_append("test.event", "steady");
	fx_tamper("DELETE FROM events WHERE seq >= 4");
	expect_broken(4, "missing");
}

Test(store, verify_notices_a_renumbered_insert)
{
	for (int i = 0; i < 3; i++)
		fx_append("test.event", "steady");
	/* Slip a forged event in at seq 2 by moving the others up. */
	fx_tamper("UPDATE events SET seq = seq + 10 WHERE seq >= 2;"
	    "UPDATE events SET seq = seq - 9 WHERE seq >= 12;"
	    "INSERT INTO events(seq, ts, actor_user, kind, message, prev_hash,"
	    " hash) SELECT 2, ts, actor_user, kind, 'forged', hash, hash"
	    " FROM events WHERE seq = 1");
	expect_broken(2, "event 2");
}

Test(store, verify_notices_an_appended_forgery)
{
	fx_append("test.event", "steady");
	fx_tamper("INSERT INTO events(seq, ts, actor_user, kind, message,"
	    " prev_hash, hash) SELECT 2, ts, actor_user, kind, 'forged',"
	    " hash, hash FROM events WHERE seq = 1");
	expect_broken(2, "event 2");
}

Test(store, a_recomputed_hash_still_breaks_the_next_link)
{
	fx_append("test.event", "one");
	fx_append("test.event", "two");
	/* Someone edits event 1 and writes a new (fake) hash for it: event 2
	 * still points at the original. */
	fx_tamper("UPDATE events SET message = 'edited', hash = "
	    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"
	    " WHERE seq = 1");
	expect_broken(1, "edited");
}

static void
file_digest(const char *path, char out[64])
{
	char cmd[600];
	FILE *p;

	snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_not_null(fgets(out, 64, p));
	pclose(p);
}

Test(store, refuses_a_newer_schema_and_leaves_it_alone)
{
	char before[64], after[64];
	struct store *s = NULL;
	struct lk_err err = { 0 };

	store_close(&fx_store);
	fx_tamper("PRAGMA user_version = 99");
	file_digest(fx_path, before);
	cr_expect_eq(store_open(fx_path, &fx_actor, &s, &err), LK_EINPUT);
	cr_expect_null(s);
	cr_expect(strstr(err.msg, "schema version 99 is newer") != NULL,
	    "%s", err.msg);
	file_digest(fx_path, after);
	cr_expect_str_eq(before, after);
}

Test(store, refuses_a_file_that_is_not_a_database)
{
	char path[600], before[64], after[64];
	struct store *s = NULL;
	struct lk_err err = { 0 };
	FILE *f;

	snprintf(path, sizeof path, "%s/notes.txt", fx_dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fchmod(fileno(f), 0600);
	for (int i = 0; i < 200; i++)
		fputs("this is my shopping list, not a timeline\n", f);
	fclose(f);
	file_digest(path, before);
	cr_expect_eq(store_open(path, &fx_actor, &s, &err), LK_EINPUT);
	cr_expect(strstr(err.msg, "not a lookout timeline") != NULL, "%s",
	    err.msg);
	file_digest(path, after);
	cr_expect_str_eq(before, after);
}

Test(store, refuses_an_unwritable_path)
{
	char path[600];
	struct store *s = NULL;
	struct lk_err err = { 0 };

	/* A regular file where a directory should be: even root cannot. */
	snprintf(path, sizeof path, "%s/timeline.db/inner.db", fx_path);
	cr_expect_eq(store_open(path, &fx_actor, &s, &err), LK_EIO);
	cr_expect(strstr(err.msg, "not a directory") != NULL, "%s", err.msg);
}

/*
 * Gives path mode, then opens the fixture's timeline: it must be refused
 * with a message that holds want (where "%s" is path, "%u" the invoker's
 * name), and path must be left with that mode.
 */
static void
expect_refused(const char *path, mode_t mode, const char *want)
{
	struct passwd *pw = getpwuid(geteuid());
	struct store *s = NULL;
	struct lk_err err = { 0 };
	struct stat st;
	char msg[1024];

	store_close(&fx_store);
	cr_assert_eq(chmod(path, mode), 0);
	cr_expect_eq(store_open(fx_path, &fx_actor, &s, &err), LK_EINPUT);
	cr_expect_null(s);
	snprintf(msg, sizeof msg, want, path, pw ? pw->pw_name : "?");
	cr_expect(strstr(err.msg, msg) != NULL, "want \"%s\" in: %s", msg,
	    err.msg);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, mode);
}

/*
 * Open to others, a file or directory is refused rather than tightened:
 * what others could do meanwhile (keep the file open for writing, plant a
 * link) a chmod does not undo.  Left as it was, and the message says whose
 * it is and its mode.
 */
Test(store, refuses_a_copy_open_to_others)
{
	expect_refused(fx_path, 0644, "%s: not private (owner %s, mode 0644)");
}

Test(store, refuses_a_directory_open_to_others)
{
	char dir[600];

	snprintf(dir, sizeof dir, "%s/state/lookout", fx_dir);
	expect_refused(dir, 0755, "directory %s is not private (owner %s, "
	    "mode 0755)");
}

Test(store, refuses_a_directory_above_that_others_can_write)
{
	struct store *s = NULL;
	struct lk_err err = { 0 };
	char dir[600];

	snprintf(dir, sizeof dir, "%s/state", fx_dir);
	expect_refused(dir, 0777, "directory %s can be changed by others "
	    "(owner %s, mode 0777)");
	/* Sticky, as /tmp: others cannot rename what is ours in it. */
	chmod(dir, 01777);
	cr_expect_eq(store_open(fx_path, &fx_actor, &s, &err), LK_OK, "%s",
	    err.msg);
	store_close(&s);
}

Test(store, refuses_a_planted_wal_link)
{
	char wal[600], victim[600];
	struct store *s = NULL;
	struct lk_err err = { 0 };
	struct stat st;

	store_close(&fx_store);
	snprintf(wal, sizeof wal, "%s-wal", fx_path);
	snprintf(victim, sizeof victim, "%s/victim", fx_dir);
	close(open(victim, O_CREAT | O_WRONLY, 0644));
	unlink(wal);
	cr_assert_eq(symlink(victim, wal), 0);
	cr_expect_eq(store_open(fx_path, &fx_actor, &s, &err), LK_EINPUT);
	cr_expect(strstr(err.msg, "-wal is a symbolic link") != NULL, "%s",
	    err.msg);
	cr_assert_eq(stat(victim, &st), 0);
	cr_expect_eq(st.st_size, 0);
	cr_expect_eq(st.st_mode & 0777, 0644);
}

Test(store, follows_a_link_only_where_nobody_else_could_plant_it)
{
	char link[700], path[800], real[600], pub[600];
	struct store *s = NULL;
	struct lk_err err = { 0 };

	store_close(&fx_store);
	snprintf(real, sizeof real, "%s/state/lookout", fx_dir);
	snprintf(link, sizeof link, "%s/alias", fx_dir);
	cr_assert_eq(symlink("state/lookout", link), 0);
	snprintf(path, sizeof path, "%s/timeline.db", link);
	cr_assert_eq(store_open(path, &fx_actor, &s, &err), LK_OK, "%s",
	    err.msg);
	cr_expect_str_eq(store_dir(s), real);
	store_close(&s);

	/* The same link where others may write: anyone could have made it. */
	snprintf(pub, sizeof pub, "%s/pub", fx_dir);
	cr_assert_eq(mkdir(pub, 0700), 0);
	chmod(pub, 0777);
	snprintf(link, sizeof link, "%s/alias", pub);
	cr_assert_eq(symlink(real, link), 0);
	snprintf(path, sizeof path, "%s/timeline.db", link);
	cr_expect_eq(store_open(path, &fx_actor, &s, &err), LK_EINPUT);
	cr_expect(strstr(err.msg, "/pub/alias is a symbolic link owned by ") != NULL,
	    "%s", err.msg);
}

Test(store, a_timeline_that_must_exist_creates_nothing)
{
	char dir[600], path[700];
	struct store *s = NULL;
	struct lk_err err = { 0 };
	struct stat st;

	snprintf(dir, sizeof dir, "%s/elsewhere", fx_dir);
	snprintf(path, sizeof path, "%s/timeline.db", dir);
	cr_expect_eq(store_open_existing(path, &fx_actor, &s, &err),
	    LK_ENOTFOUND);
	cr_expect(strstr(err.msg, "no timeline at ") != NULL, "%s", err.msg);
	cr_expect_neq(stat(dir, &st), 0, "%s was created", dir);
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_expect_eq(store_open_existing(path, &fx_actor, &s, &err),
	    LK_ENOTFOUND);
	cr_expect_neq(stat(path, &st), 0, "%s was created", path);
	/* And one that exists opens. */
	cr_expect_eq(store_open_existing(fx_path, &fx_actor, &s, &err), LK_OK,
	    "%s", err.msg);
	store_close(&s);
}

Test(store, incident_lifecycle)
{
	const char *svcs[] = { "message-bus", "dashboard" };
	struct store_incident *inc = NULL;
	struct lk_err err = { 0 };
	int64_t id = 0;

	cr_assert_eq(store_incident_open(fx_store, "message-bus down", "p2",
	    svcs, 2, &id, &err), LK_OK, "%s", err.msg);
	cr_expect_eq(id, 1);
	cr_assert_eq(store_incident_note(fx_store, id, "NameError in app.py",
	    &err), LK_OK);
	cr_assert_eq(store_incident_advance(fx_store, id, STORE_ACKNOWLEDGED,
	    NULL, &err), LK_OK);
	cr_assert_eq(store_incident_advance(fx_store, id, STORE_RESOLVED,
	    "started and enabled", &err), LK_OK);

	cr_assert_eq(store_incident_get(fx_store, id, &inc, &err), LK_OK);
	cr_expect_str_eq(inc->title, "message-bus down");
	cr_expect_str_eq(inc->severity, "P2");
	cr_expect_str_eq(inc->status, "resolved");
	cr_assert_eq(inc->nservices, 2);
	cr_expect_str_eq(inc->services[1], "dashboard");
	cr_expect_neq(inc->milestones[STORE_ACKNOWLEDGED], 0);
	cr_expect_eq(inc->milestones[STORE_MITIGATED], 0);
	cr_expect_neq(inc->milestones[STORE_RESOLVED], 0);
	cr_expect_str_eq(inc->opened_by, "alice");
	store_incident_free(&inc);
	cr_expect_null(inc);

	/* Milestones only move forward. */
	cr_expect_eq(store_incident_advance(fx_store, id, STORE_RESOLVED, NULL,
	    &err), LK_ESTATE);
	cr_expect(strstr(err.msg, "already resolved") != NULL, "%s", err.msg);
	cr_expect_eq(store_incident_advance(fx_store, id, STORE_MITIGATED, NULL,
	    &err), LK_ESTATE);
	cr_expect(strstr(err.msg, "cannot go back") != NULL, "%s", err.msg);
	cr_expect_eq(store_incident_advance(fx_store, id, STORE_CLOSED, NULL,
	    &err), LK_OK);
}

Test(store, incident_bad_input)
{
	struct lk_err err = { 0 };
	int64_t id = 0;

	cr_expect_eq(store_incident_open(fx_store, "  ", "P2", NULL, 0, &id,
	    &err), LK_EINPUT);
	cr_expect_str_eq(err.msg, "incident title is empty");
	cr_expect_eq(store_incident_open(fx_store, "x", "P5", NULL, 0, &id,
	    &err), LK_EINPUT);
	cr_expect(strstr(err.msg, "\"P5\"") != NULL, "%s", err.msg);
	cr_expect_eq(store_incident_open(fx_store, "bad \xff utf8", "P2", NULL,
	    0, &id, &err), LK_EINPUT);
	cr_expect_eq(store_incident_note(fx_store, 42, "hello", &err),
	    LK_ENOTFOUND);
	cr_expect(strstr(err.msg, "incident 42: no such incident") != NULL,
	    "%s", err.msg);
	cr_expect_eq(id, 0);
}

static int
count_incidents(const struct store_incident *inc, void *arg)
{
	int *n = arg;

	(*n)++;
	return 0;
}

Test(store, incident_ids_are_allocated_once_each)
{
	struct lk_err err = { 0 };
	int64_t a = 0, b = 0;
	int n = 0;

	cr_assert_eq(store_incident_open(fx_store, "a", NULL, NULL, 0, &a,
	    &err), LK_OK);
	fx_append("state.change", "between");
	cr_assert_eq(store_incident_open(fx_store, "b", NULL, NULL, 0, &b,
	    &err), LK_OK);
	cr_expect_eq(a, 1);
	cr_expect_eq(b, 2);
	cr_assert_eq(store_incident_foreach(fx_store, count_incidents, &n,
	    &err), LK_OK);
	cr_expect_eq(n, 2);
}

Test(store, an_edited_incident_title_is_caught)
{
	struct lk_err err = { 0 };
	int64_t id = 0;

	cr_assert_eq(store_incident_open(fx_store, "disk full", "P1", NULL, 0,
	    &id, &err), LK_OK);
	/* Incidents are read from their events, so the only way to change a
	 * title is to edit an event, which the chain catches. */
	fx_tamper("UPDATE events SET message = 'minor blip' WHERE seq = 1");
	expect_broken(1, "edited");
}

Test(store, two_handles_share_one_chain)
{
	struct store *other = NULL;
	struct lk_err err = { 0 };
	struct store_verify_report r;
	const struct store_actor bob = { "bob", NULL, NULL };

	cr_assert_eq(store_open(fx_path, &bob, &other, &err), LK_OK);
	for (int i = 0; i < 10; i++) {
		struct store_new_event ev = { .kind = "test.event" };
		int64_t seq;

		fx_append("test.event", "alice");
		cr_assert_eq(store_append(other, &ev, &seq, &err), LK_OK);
		cr_expect_eq(seq, 2 * i + 2);
	}
	store_close(&other);
	cr_assert_eq(store_verify(fx_store, 0, &r, &err), LK_OK);
	cr_expect(r.ok, "%s", r.reason);
	cr_expect_eq(r.checked, 20);
}

static int64_t
count_samples(void)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	cr_assert_eq(sqlite3_open(fx_path, &db), SQLITE_OK);
	sqlite3_prepare_v2(db, "SELECT count(*) FROM samples", -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

Test(store, samples_are_written_per_cycle_and_pruned_by_age)
{
	struct lk_err err = { 0 };
	int64_t now = lk_now_ms();
	struct store_sample old[2] = {
		{ now - 3600 * 1000, "queue", "mail", "stalled", 42, -1, 0 },
		{ now - 3600 * 1000, "service", "message-bus", "failed", -1, -1, 0 },
	};
	struct store_sample fresh[2] = {
		{ now, "queue", "mail", "ok", 0, -1, 0 },
		{ now, "service", "message-bus", "active ok", -1, 3.2, 0 },
	};
	struct store_verify_report r;

	cr_assert_eq(store_samples_add(fx_store, old, 2, 0, &err), LK_OK, "%s",
	    err.msg);
	cr_expect_eq(count_samples(), 2);
	/* Keep ten minutes: the hour-old cycle goes. */
	cr_assert_eq(store_samples_add(fx_store, fresh, 2, 600 * 1000, &err),
	    LK_OK);
	cr_expect_eq(count_samples(), 2);
	/* Samples are not events: the chain is untouched. */
	cr_assert_eq(store_verify(fx_store, 0, &r, &err), LK_OK);
	cr_expect(r.ok);
	cr_expect_eq(r.checked, 0);
}

Test(store, samples_with_repeat_ms_are_changes_and_a_pulse)
{
	struct lk_err err = { 0 };
	const int64_t rep = 600 * 1000;
	struct store_sample v[] = {
		{ 1000, "service", "bus", "active/running ok", 2, 3, rep },
		/* The same state and count, a cycle later: left out. */
		{ 2000, "service", "bus", "active/running ok", 2, 4, rep },
		/* Another service's first: written. */
		{ 2000, "service", "web", "active/running ok", -1, -1, rep },
		/* The count rose: written. */
		{ 3000, "service", "bus", "active/running ok", 3, 3, rep },
		/* So did the state: written. */
		{ 4000, "service", "bus", "failed/failed none", 3, -1, rep },
		/* No count where there was one: written. */
		{ 5000, "service", "bus", "failed/failed none", -1, -1, rep },
		{ 6000, "service", "web", "active/running ok", -1, -1, rep },
		/* Unchanged, but the last is repeat_ms old: the pulse. */
		{ 5000 + rep, "service", "bus", "failed/failed none", -1, -1,
		    rep },
	};

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		cr_assert_eq(store_samples_add(fx_store, &v[i], 1, 0, &err),
		    LK_OK, "%s", err.msg);
	cr_expect_eq(count_samples(), 6);
}

Test(store, a_value_at_a_time_is_the_one_in_effect_then)
{
	struct lk_err err = { 0 };
	struct store_sample v[] = {
		{ 1000, "service", "bus", "active/running ok", 2, -1, 0 },
		{ 5000, "service", "bus", "active/running ok", 3, -1, 0 },
		{ 7000, "service", "bus", "inactive/dead none", -1, -1, 0 },
		{ 9000, "service", "bus", "active/running ok", 4, -1, 0 },
	};
	int64_t ts = 0;
	double value = -1;

	cr_assert_eq(store_samples_add(fx_store, v, 4, 0, &err), LK_OK);
	/* The last sample before 4000, no more than 3500 older. */
	cr_assert_eq(store_sample_value_at(fx_store, "service", "bus", 4000,
	    3500, &ts, &value, &err), LK_OK, "%s", err.msg);
	cr_expect_eq(ts, 1000);
	cr_expect_eq(value, 2);
	/* Too stale by then: the first one after. */
	cr_assert_eq(store_sample_value_at(fx_store, "service", "bus", 4000,
	    2000, &ts, &value, &err), LK_OK);
	cr_expect_eq(ts, 5000);
	cr_expect_eq(value, 3);
	/* No value then (stopped: the count may start again from 0), and
	 * an older one does not stand in for it: the first one after. */
	cr_assert_eq(store_sample_value_at(fx_store, "service", "bus", 8000,
	    5000, &ts, &value, &err), LK_OK);
	cr_expect_eq(ts, 9000);
	cr_expect_eq(value, 4);
	cr_expect_eq(store_sample_value_at(fx_store, "service", "bus", 10000,
	    500, &ts, &value, &err), LK_ENOTFOUND);
	cr_expect_eq(store_sample_value_at(fx_store, "service", "web", 0,
	    500, &ts, &value, &err), LK_ENOTFOUND);
	/* A look back to time 0 is a look back like any other. */
	cr_assert_eq(store_sample_value_at(fx_store, "service", "bus", 1000,
	    1000, &ts, &value, &err), LK_OK);
	cr_expect_eq(ts, 1000);
	cr_expect_eq(value, 2);
}

static void
collect_sample(const struct store_sample *v, void *arg)
{
	char *out = arg;
	char line[64];

	snprintf(line, sizeof line, "%s:%g ", v->state, v->value);
	strcat(out, line);
}

Test(store, samples_read_back_oldest_first_from_a_time)
{
	struct lk_err err = { 0 };
	struct store_sample v[3] = {
		{ 1000, "queue", "mail", "ok", 3, -1, 0 },
		{ 2000, "queue", "mail", "stalled", 5, -1, 0 },
		{ 2000, "queue", "other", "ok", 9, -1, 0 },
	};
	char got[256] = "";

	cr_assert_eq(store_samples_add(fx_store, v, 3, 0, &err), LK_OK);
	cr_assert_eq(store_samples_since(fx_store, "queue", "mail", 0,
	    collect_sample, got, &err), LK_OK);
	cr_expect_str_eq(got, "ok:3 stalled:5 ");
	got[0] = '\0';
	cr_assert_eq(store_samples_since(fx_store, "queue", "mail", 1500,
	    collect_sample, got, &err), LK_OK);
	cr_expect_str_eq(got, "stalled:5 ");
}

Test(store, a_series_of_changes_starts_with_the_one_in_effect)
{
	struct lk_err err = { 0 };
	struct store_sample v[4] = {
		{ 1000, "queue", "mail", "ok", 5, -1, 0 },
		{ 9000, "queue", "mail", "ok", 5, -1, 0 },	/* a pulse */
		{ 20000, "queue", "mail", "ok", 7, -1, 0 },
		{ 9500, "queue", "other", "ok", 1, -1, 0 },
	};
	char got[256] = "";

	cr_assert_eq(store_samples_add(fx_store, v, 4, 0, &err), LK_OK);
	/* At 15 s the depth was what the sample of 9 s said. */
	cr_assert_eq(store_samples_series(fx_store, "queue", "mail", 15000,
	    10000, collect_sample, got, &err), LK_OK);
	cr_expect_str_eq(got, "ok:5 ok:7 ");
	/* One older than stale_ms is not trusted to hold still. */
	got[0] = '\0';
	cr_assert_eq(store_samples_series(fx_store, "queue", "mail", 15000,
	    5000, collect_sample, got, &err), LK_OK);
	cr_expect_str_eq(got, "ok:7 ");
	/* One at since_ms itself comes once. */
	got[0] = '\0';
	cr_assert_eq(store_samples_series(fx_store, "queue", "mail", 9000,
	    10000, collect_sample, got, &err), LK_OK);
	cr_expect_str_eq(got, "ok:5 ok:5 ok:7 ");
}

static off_t
wal_size(void)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof path, "%s-wal", fx_path);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void
reopen(void)
{
	struct lk_err err = { 0 };

	cr_assert_eq(store_open(fx_path, &fx_actor, &fx_store, &err), LK_OK,
	    "%s", err.msg);
}

Test(store, a_grown_log_is_folded_back_when_its_writer_closes)
{
	struct store_verify_report r;
	struct lk_err err = { 0 };

	/* A few events: the log keeps them and closing costs nothing. */
	for (int i = 0; i < 3; i++)
		fx_append("test.event", "small");
	store_close(&fx_store);
	cr_expect_gt(wal_size(), 0);
	/* Hundreds of commits: the next open would have to read them all. */
	reopen();
	for (int i = 0; i < 300; i++)
		fx_append("test.event", "many");
	store_close(&fx_store);
	cr_expect_eq(wal_size(), 0);
	/* Nothing was lost in the fold. */
	reopen();
	cr_assert_eq(store_verify(fx_store, 0, &r, &err), LK_OK);
	cr_expect(r.ok, "%s", r.reason);
	cr_expect_eq(r.checked, 303);
}

Test(store, a_log_another_reader_is_using_is_left_alone)
{
	sqlite3 *db;

	/* A second console in the middle of reading the timeline. */
	cr_assert_eq(sqlite3_open(fx_path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "BEGIN; SELECT count(*) FROM events",
	    NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < 300; i++)
		fx_append("test.event", "many");
	/* Closing does not wait for the reader, and leaves the log whole. */
	store_close(&fx_store);
	cr_expect_gt(wal_size(), 0);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	reopen();
}

Test(store, a_heartbeat_is_one_row_per_watcher_and_the_latest_wins)
{
	struct lk_err err = { 0 };
	char who[64];
	int64_t ts = -1;

	cr_assert_eq(store_heartbeat_last(fx_store, who, sizeof who, &ts, &err),
	    LK_OK, "%s", err.msg);
	cr_expect_eq(ts, 0, "no watcher yet");
	cr_assert_eq(store_heartbeat(fx_store, "watch@a[1]", 1000, &err), LK_OK,
	    "%s", err.msg);
	cr_assert_eq(store_heartbeat(fx_store, "watch@b[2]", 3000, &err), LK_OK);
	cr_assert_eq(store_heartbeat(fx_store, "watch@a[1]", 2000, &err), LK_OK);
	cr_assert_eq(store_heartbeat_last(fx_store, who, sizeof who, &ts, &err),
	    LK_OK);
	cr_expect_eq(ts, 3000);
	cr_expect_str_eq(who, "watch@b[2]");
	cr_assert_eq(store_heartbeat(fx_store, "watch@a[1]", 4000, &err), LK_OK);
	cr_assert_eq(store_heartbeat_last(fx_store, who, sizeof who, &ts, &err),
	    LK_OK);
	cr_expect(ts == 4000 && strcmp(who, "watch@a[1]") == 0, "%s %lld", who,
	    (long long)ts);
	{
		sqlite3 *db;
		sqlite3_stmt *st;

		cr_assert_eq(sqlite3_open(fx_path, &db), SQLITE_OK);
		cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM "
		    "heartbeats", -1, &st, NULL), SQLITE_OK);
		cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
		cr_expect_eq(sqlite3_column_int(st, 0), 2, "one row each");
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
}

static struct store_incident *
incident(int64_t id)
{
	struct store_incident *inc = NULL;
	struct lk_err err = { 0 };

	cr_assert_eq(store_incident_get(fx_store, id, &inc, &err), LK_OK, "%s",
	    err.msg);
	return inc;
}

Test(store, a_watcher_opens_with_the_time_it_first_saw_the_failure)
{
	struct store_incident *inc;
	struct lk_err err = { 0 };
	int64_t id;

	cr_assert_eq(store_incident_open_detected(fx_store, "down", "P2", NULL,
	    0, 1000, &id, &err), LK_OK, "%s", err.msg);
	inc = incident(id);
	cr_expect_eq(inc->milestones[STORE_DETECTED], 1000);
	cr_expect(inc->inferred[STORE_DETECTED]);
	cr_expect_gt(inc->opened_at, 1000);
	store_incident_free(&inc);
}

Test(store, a_person_s_milestone_wins_over_an_inferred_one)
{
	struct store_incident *inc;
	struct lk_err err = { 0 };
	int64_t id;

	cr_assert_eq(store_incident_open(fx_store, "down", "P2", NULL, 0, &id,
	    &err), LK_OK);
	cr_assert_eq(store_incident_infer(fx_store, id, STORE_MITIGATED, 5000,
	    "checks pass again", &err), LK_OK, "%s", err.msg);
	inc = incident(id);
	cr_expect_eq(inc->milestones[STORE_MITIGATED], 5000);
	cr_expect(inc->inferred[STORE_MITIGATED]);
	cr_expect_str_eq(inc->status, "mitigated");
	store_incident_free(&inc);
	/* A person may still acknowledge (earlier than an inferred
	 * milestone) and set mitigated, which then is theirs. */
	cr_assert_eq(store_incident_advance(fx_store, id, STORE_ACKNOWLEDGED,
	    NULL, &err), LK_OK, "%s", err.msg);
	cr_assert_eq(store_incident_advance(fx_store, id, STORE_MITIGATED,
	    "rolled back", &err), LK_OK, "%s", err.msg);
	inc = incident(id);
	cr_expect_neq(inc->milestones[STORE_MITIGATED], 5000);
	cr_expect_not(inc->inferred[STORE_MITIGATED]);
	store_incident_free(&inc);
	/* Neither a person nor an inference sets it again. */
	cr_expect_eq(store_incident_advance(fx_store, id, STORE_MITIGATED, NULL,
	    &err), LK_ESTATE);
	cr_expect_eq(store_incident_infer(fx_store, id, STORE_MITIGATED, 0,
	    NULL, &err), LK_ESTATE);
	/* And an inference never goes back before what is reached. */
	cr_expect_eq(store_incident_infer(fx_store, id, STORE_ACKNOWLEDGED, 0,
	    NULL, &err), LK_ESTATE);
	cr_assert_eq(store_incident_infer(fx_store, id, STORE_RESOLVED, 0,
	    "healthy for 5m", &err), LK_OK, "%s", err.msg);
	inc = incident(id);
	cr_expect_str_eq(inc->status, "resolved");
	cr_expect(inc->inferred[STORE_RESOLVED]);
	store_incident_free(&inc);
}
