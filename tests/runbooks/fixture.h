/* Shared fixture of the engine tests: a timeline in a private directory,
 * a loop, and runbooks loaded from source text. */
#ifndef LK_TEST_RUNBOOKS_FIXTURE_H
#define LK_TEST_RUNBOOKS_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "runbooks.h"
#include "store.h"

static char fx_dir[128];
static struct store *store;
static struct loop *loop;

static inline void
setup(void)
{
	struct store_actor actor = { "tester", NULL, NULL };
	struct lk_err err = { 0 };
	char db[256];

	snprintf(fx_dir, sizeof fx_dir, "/tmp/lookout-engine.XXXXXX");
	cr_assert_not_null(mkdtemp(fx_dir));
	snprintf(db, sizeof db, "%s/t.db", fx_dir);
	cr_assert_eq(store_open(db, &actor, &store, &err), LK_OK, "%s",
	    err.msg);
	loop = loop_new();
}

static inline void
teardown(void)
{
	char cmd[256];

	store_close(&store);
	loop_free(&loop);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx_dir);
	(void)system(cmd);
}

/* The runbook in src, loaded as test.lua; the caller (or a run) owns it. */
static inline struct rb_book *
book(const char *src)
{
	struct rb_book *b = NULL;
	struct lk_err err = { 0 };

	cr_assert_eq(rb_book_load_source("test.lua", src, strlen(src), &b, NULL,
	    &err), LK_OK, "%s", err.msg);
	return b;
}

#endif
