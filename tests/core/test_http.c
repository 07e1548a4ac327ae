/* http: what the pool refuses before a request is sent. */
#include "http.h"
#include "loop.h"
#include "util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct answer {
	bool called;
	char error[512];
};

static void
on_done(const struct http_reply *r, void *data)
{
	struct answer *a = data;

	a->called = true;
	snprintf(a->error, sizeof a->error, "%s", r->error ? r->error : "");
}

/* Sends one request with these headers to a port nobody listens on. */
static void
request(const char *const *headers, struct answer *a)
{
	struct loop *loop = loop_new();
	struct http_pool *pool = NULL;
	struct lk_err err = { 0 };
	struct http_request req = { .url = "http://127.0.0.1:1/",
	    .timeout_ms = 2000, .connect_timeout_ms = -1,
	    .headers = headers };

	if (http_pool_new(loop, &pool, &err) != LK_OK) {
		loop_free(&loop);
		cr_skip_test("no libcurl here: %s", err.msg);
	}
	http_start(pool, &req, on_done, a);
	for (int i = 0; i < 100 && !a->called; i++)
		loop_run_once(loop, 50);
	http_pool_free(&pool);
	loop_free(&loop);
	cr_assert(a->called, "the request never ended");
}

/*
 * Headers over the cap are refused with the header that went over and the
 * limit, before anything is sent: libcurl would fail the request as "Out
 * of memory" once over its own 1 MiB.
 */
Test(http, headers_over_the_cap_are_refused_by_name)
{
	size_t part = 120 * 1024;
	char *big = lk_xmalloc(part + 16);
	char *names[] = { "X-A", "X-B", "X-C" };
	char *lines[4] = { NULL };
	struct answer a = { 0 };

	memset(big, 'b', part);
	big[part] = '\0';
	for (int i = 0; i < 3; i++)
		lines[i] = lk_xasprintf("%s: %s", names[i], big);
	request((const char *const *)lines, &a);
	cr_expect(strstr(a.error, "header X-C: the headers would take ") !=
	    NULL && strstr(a.error, "over the 256 KiB a check may send") !=
	    NULL, "%s", a.error);
	for (int i = 0; i < 3; i++)
		free(lines[i]);
	free(big);
}

Test(http, headers_under_the_cap_are_sent)
{
	const char *const lines[] = { "X-Token: s3cret", NULL };
	struct answer a = { 0 };

	request(lines, &a);
	cr_expect_str_eq(a.error, "connection refused");
}
