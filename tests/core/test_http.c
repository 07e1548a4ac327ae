/*
 * http: requests through the pool against a small HTTP server on
 * loopback, served by the same loop, which keeps every request it is sent
 * so that the tests can read what went over the wire; and what the pool
 * refuses before a request is sent (http_refusals).
 */
#include "http.h"
#include "loop.h"
#include "util.h"

#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* The server: one connection at a time, closed after each answer. */
struct server {
	struct loop *loop;
	int lfd;
	int cfd;
	int port;
	struct lk_buf in;		/* the request being read */
	char *requests[4];		/* every request read, whole */
	int nrequests;
	const char *answer;		/* what it answers, whole */
	const char *then;		/* to requests after the first, or NULL */
};

struct result {
	bool called;
	bool done;
	long status;
	char body[256];
	char error[256];
};

static struct loop *lp;
static struct http_pool *pool;
static struct server srv;

/* The length of a whole request in b (headers and body), or 0 if more is
 * to come. */
static size_t
request_len(const struct lk_buf *b)
{
	const char *end = b->s != NULL ? strstr(b->s, "\r\n\r\n") : NULL;
	size_t head, body = 0;

	if (end == NULL)
		return 0;
	head = (size_t)(end - b->s) + 4;
	for (const char *l = b->s; l < end; l = strstr(l, "\r\n") + 2) {
		if (strncasecmp(l, "Content-Length:", 15) == 0)
			body = strtoul(l + 15, NULL, 10);
	}
	return b->len >= head + body ? head + body : 0;
}

static void
on_client(struct loop *l, int fd, int mask, void *data)
{
	struct server *s = data;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf);
	size_t len;

	(void)mask;
	if (n > 0)
		lk_buf_add(&s->in, buf, (size_t)n);
	len = request_len(&s->in);
	if (n > 0 && len == 0)
		return;
	if (len > 0 && s->nrequests < 4) {
		const char *a = s->nrequests > 0 && s->then != NULL ?
		    s->then : s->answer;

		s->requests[s->nrequests++] = strndup(s->in.s, len);
		/* A few hundred bytes: the socket's buffer takes them. */
		cr_assert_eq(write(fd, a, strlen(a)), (ssize_t)strlen(a));
	}
	lk_buf_reset(&s->in);
	loop_del_fd(l, fd, LOOP_READABLE);
	close(fd);
	s->cfd = -1;
}

static void
on_accept(struct loop *l, int fd, int mask, void *data)
{
	struct server *s = data;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)mask;
	if (c < 0)
		return;
	cr_assert_eq(s->cfd, -1, "one connection at a time");
	s->cfd = c;
	loop_add_fd(l, c, LOOP_READABLE, on_client, s);
}

static void
setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;
	struct lk_err err = { 0 };

	lp = loop_new();
	cr_assert_eq(http_pool_new(lp, &pool, &err), LK_OK, "%s", err.msg);
	memset(&srv, 0, sizeof srv);
	srv.loop = lp;
	srv.cfd = -1;
	srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	cr_assert_geq(srv.lfd, 0);
	cr_assert_eq(bind(srv.lfd, (struct sockaddr *)&a, sizeof a), 0);
	cr_assert_eq(listen(srv.lfd, 8), 0);
	cr_assert_eq(getsockname(srv.lfd, (struct sockaddr *)&a, &alen), 0);
	srv.port = ntohs(a.sin_port);
	loop_add_fd(lp, srv.lfd, LOOP_READABLE, on_accept, &srv);
}

static void
teardown(void)
{
	http_pool_free(&pool);
	if (srv.cfd >= 0) {
		loop_del_fd(lp, srv.cfd, LOOP_READABLE);
		close(srv.cfd);
	}
	loop_del_fd(lp, srv.lfd, LOOP_READABLE);
	close(srv.lfd);
	for (int i = 0; i < srv.nrequests; i++)
		free(srv.requests[i]);
	lk_buf_free(&srv.in);
	loop_free(&lp);
}

TestSuite(http, .init = setup, .fini = teardown, .timeout = 30);

static void
on_done(const struct http_reply *r, void *data)
{
	struct result *res = data;

	res->called = true;
	res->done = r->done;
	res->status = r->status;
	if (r->body != NULL)
		snprintf(res->body, sizeof res->body, "%.*s", (int)r->len,
		    r->body);
	if (r->error != NULL)
		snprintf(res->error, sizeof res->error, "%s", r->error);
}

/* Sends req to path on the server and runs the loop until it is answered. */
static void
request(struct http_request *req, const char *path, struct result *res)
{
	char url[128];

	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", srv.port, path);
	req->url = url;
	if (req->timeout_ms == 0)
		req->timeout_ms = 10000;
	req->connect_timeout_ms = -1;
	http_start(pool, req, on_done, res);
	while (!res->called)
		cr_assert_geq(loop_run_once(lp, -1), 0);
	cr_assert(res->done, "no answer: %s", res->error);
}

/* The value of header name in request, or NULL; caller frees. */
static char *
header(const char *request, const char *name)
{
	const char *end = strstr(request, "\r\n\r\n");
	size_t n = strlen(name);

	for (const char *l = strstr(request, "\r\n") + 2; l < end;
	    l = strstr(l, "\r\n") + 2) {
		if (strncasecmp(l, name, n) == 0 && l[n] == ':')
			return strndup(l + n + 2, (size_t)(strstr(l, "\r\n") -
			    l) - n - 2);
	}
	return NULL;
}

Test(http, post_sends_the_body_and_the_headers)
{
	static const char *const hdrs[] = { "Content-Type: application/json",
	    "X-Token: t0ken", NULL };
	struct http_request req = { .headers = hdrs, .max_body = 4096 };
	struct result res = { 0 };
	struct lk_buf body = { 0 };
	char *v;

	/* Past the size from which curl asks "Expect: 100-continue" (1 MiB
	 * in curl 7.88, 1 KiB in older ones). */
	lk_buf_adds(&body, "{\"text\": \"");
	for (int i = 0; i < 1100 * 1024; i++)
		lk_buf_addc(&body, 'a' + i % 26);
	lk_buf_adds(&body, "\"}");
	req.body = body.s;
	req.body_len = body.len;
	srv.answer = "HTTP/1.1 202 Accepted\r\nContent-Length: 8\r\n"
	    "Connection: close\r\n\r\naccepted";
	request(&req, "/hook", &res);

	cr_assert_eq(res.status, 202);
	cr_assert_str_eq(res.body, "accepted");
	cr_assert_eq(srv.nrequests, 1);
	cr_assert(strncmp(srv.requests[0], "POST /hook HTTP/1.1\r\n", 21) == 0,
	    "%.40s", srv.requests[0]);
	cr_assert_str_eq(v = header(srv.requests[0], "Content-Type"),
	    "application/json");
	free(v);
	cr_assert_str_eq(v = header(srv.requests[0], "X-Token"), "t0ken");
	free(v);
	cr_assert_null(v = header(srv.requests[0], "Expect"),
	    "Expect: %s", v);
	cr_assert_str_eq(strstr(srv.requests[0], "\r\n\r\n") + 4, body.s);
	lk_buf_free(&body);
}

Test(http, an_empty_body_is_still_a_post)
{
	struct http_request req = { .body = "", .body_len = 0 };
	struct result res = { 0 };
	char *v;

	srv.answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n";
	request(&req, "/empty", &res);
	cr_assert_eq(res.status, 200);
	cr_assert(strncmp(srv.requests[0], "POST /empty ", 12) == 0);
	cr_assert_str_eq(v = header(srv.requests[0], "Content-Length"), "0");
	free(v);
}

Test(http, a_post_follows_no_redirect)
{
	static const char *const hdrs[] = { "Authorization: Bearer s3cret",
	    NULL };
	struct http_request req = { .headers = hdrs, .body = "{}",
	    .body_len = 2 };
	struct result res = { 0 };

	srv.answer = "HTTP/1.1 307 Temporary Redirect\r\nLocation: /elsewhere"
	    "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	request(&req, "/hook", &res);
	/* The 307 is the answer: nothing went to /elsewhere. */
	cr_assert_eq(res.status, 307);
	cr_assert_eq(srv.nrequests, 1);
}

Test(http, without_a_body_it_is_a_get_that_follows_redirects)
{
	struct http_request req = { 0 };
	struct result res = { 0 };

	srv.answer = "HTTP/1.1 302 Found\r\nLocation: /there\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	srv.then = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Connection: close\r\n\r\nthere";
	request(&req, "/here", &res);
	cr_assert_eq(res.status, 200);
	cr_assert_str_eq(res.body, "there");
	cr_assert_eq(srv.nrequests, 2, "the redirect was followed");
	cr_assert(strncmp(srv.requests[0], "GET /here ", 10) == 0);
	cr_assert(strncmp(srv.requests[1], "GET /there ", 11) == 0);
	cr_assert_null(strstr(srv.requests[0], "Content-Length"));
}

/* --- refused before anything is sent --------------------------------- */

struct answer {
	bool called;
	char error[512];
};

static void
on_refused(const struct http_reply *r, void *data)
{
	struct answer *a = data;

	a->called = true;
	snprintf(a->error, sizeof a->error, "%s", r->error ? r->error : "");
}

/* Sends one request with these headers to a port nobody listens on. */
static void
request_nobody(const char *const *headers, struct answer *a)
{
	struct loop *l = loop_new();
	struct http_pool *p = NULL;
	struct lk_err err = { 0 };
	struct http_request req = { .url = "http://127.0.0.1:1/",
	    .timeout_ms = 2000, .connect_timeout_ms = -1,
	    .headers = headers };

	if (http_pool_new(l, &p, &err) != LK_OK) {
		loop_free(&l);
		cr_skip_test("no libcurl here: %s", err.msg);
	}
	http_start(p, &req, on_refused, a);
	for (int i = 0; i < 100 && !a->called; i++)
		loop_run_once(l, 50);
	http_pool_free(&p);
	loop_free(&l);
	cr_assert(a->called, "the request never ended");
}

/*
 * Headers over the cap are refused with the header that went over and the
 * limit, before anything is sent: libcurl would fail the request as "Out
 * of memory" once over its own 1 MiB.
 */
Test(http_refusals, headers_over_the_cap_are_refused_by_name)
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
	request_nobody((const char *const *)lines, &a);
	cr_expect(strstr(a.error, "header X-C: the headers would take ") !=
	    NULL && strstr(a.error, "over the 256 KiB a check may send") !=
	    NULL, "%s", a.error);
	for (int i = 0; i < 3; i++)
		free(lines[i]);
	free(big);
}

Test(http_refusals, headers_under_the_cap_are_sent)
{
	const char *const lines[] = { "X-Token: s3cret", NULL };
	struct answer a = { 0 };

	request_nobody(lines, &a);
	cr_expect_str_eq(a.error, "connection refused");
}
