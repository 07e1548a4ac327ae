/* Shared fixture for the store tests: a fresh timeline in a private dir. */
#ifndef LK_TEST_FIXTURE_H
#define LK_TEST_FIXTURE_H

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static char fx_dir[256];
static char fx_path[512];
static struct store *fx_store;
static const struct store_actor fx_actor = { "alice", "203.0.113.9",
    "/dev/pts/3" };

static inline void
fx_setup(void)
{
	struct lk_err err = { 0 };

	snprintf(fx_dir, sizeof fx_dir, "/tmp/lookout-test.XXXXXX");
	cr_assert_not_null(mkdtemp(fx_dir));
	snprintf(fx_path, sizeof fx_path, "%s/state/lookout/timeline.db",
	    fx_dir);
	cr_assert_eq(store_open(fx_path, &fx_actor, &fx_store, &err), LK_OK,
	    "%s", err.msg);
}

static inline void
fx_teardown(void)
{
	char cmd[512];

	store_close(&fx_store);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx_dir);
	(void)system(cmd);
}

/* Runs SQL on the timeline behind lookout's back, as an attacker with the
 * sqlite3 shell would. */
static inline void
fx_tamper(const char *sql)
{
	sqlite3 *db;

	cr_assert_eq(sqlite3_open(fx_path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

static inline int64_t
fx_append(const char *kind, const char *message)
{
	struct store_new_event ev = { .kind = kind, .message = message };
	struct lk_err err = { 0 };
	int64_t seq = 0;

	cr_assert_eq(store_append(fx_store, &ev, &seq, &err), LK_OK, "%s",
	    err.msg);
	return seq;
}

#endif
