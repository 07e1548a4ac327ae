/*
 * libcurl multi on the loop: CURLMOPT_SOCKETFUNCTION tells us which fds to
 * watch, CURLMOPT_TIMERFUNCTION when to call back; we answer both with
 * curl_multi_socket_action() and collect finished transfers after each.
 *
 * libcurl itself is reached through the table of curldl.h, loaded by the
 * first http_pool_new(): a command that makes no request never loads it.
 */
#include "http.h"

#include "curldl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "util.h"

/*
 * Requests handed to curl at once; more wait in the pool.  A thousand
 * checks started in the same cycle would otherwise open a thousand
 * connections at once, mostly to the same few servers; with a cap, each
 * finished request's connection is reused by the next (keep-alive), the
 * way `curl --parallel` works.
 */
#define HTTP_MAX_CONNECTIONS 50

struct http_xfer {
	struct http_pool *pool;
	CURL *easy;			/* from when it is sent (easy_get) */
	char *url;
	bool insecure;
	struct curl_slist *headers;
	char *post;			/* the body to POST, or NULL: a GET */
	size_t post_len;
	struct lk_buf body;
	int64_t max_body;
	int64_t timeout_ms;
	int64_t connect_timeout_ms;
	long long asked_ms;		/* when http_start was called */
	bool over_cap;
	char *userpwd;
	http_done_cb *cb;
	void *data;
	char errbuf[CURL_ERROR_SIZE];
	struct http_xfer *next;		/* in pool->active, waiting or failed */
	struct http_xfer *prev;
	char *fail_reason;
	double fail_latency_ms;		/* how long it waited, if it failed */
};

struct http_pool {
	struct loop *loop;
	const struct curldl *curl;
	CURLM *multi;
	long long timer;
	size_t busy;			/* in flight or waiting */
	size_t running;			/* handed to curl */
	struct http_xfer *active;	/* in flight, owned by the pool */
	struct http_xfer *waiting;	/* not started yet, oldest first */
	struct http_xfer *waiting_tail;
	struct http_xfer *failed;	/* refused at start; reported next pass */
	long long failed_timer;
	CURL *spare[HTTP_MAX_CONNECTIONS];	/* easy handles to reuse */
	size_t nspare;
};

/*
 * An easy handle for a request about to be sent.  A cycle may send
 * thousands of requests but runs at most HTTP_MAX_CONNECTIONS at once, so
 * a finished request's handle is reset and reused: making one per request
 * allocates, faults in and frees a receive buffer and the handle's own
 * state each time.
 */
static CURL *
easy_get(struct http_pool *p)
{
	return p->nspare > 0 ? p->spare[--p->nspare] : p->curl->easy_init();
}

/* Keeps e for the next request, every option back to its default:
 * curl_easy_reset forgets the URL, credentials and headers of the last. */
static void
easy_put(struct http_pool *p, CURL *e)
{
	if (e == NULL)
		return;
	if (p->nspare < HTTP_MAX_CONNECTIONS) {
		p->curl->easy_reset(e);
		p->spare[p->nspare++] = e;
	} else
		p->curl->easy_cleanup(e);
}

static size_t
on_body(char *ptr, size_t size, size_t n, void *data)
{
	struct http_xfer *x = data;
	size_t len = size * n;

	/* Returning less than len makes curl stop with CURLE_WRITE_ERROR. */
	if ((int64_t)(x->body.len + len) > x->max_body) {
		x->over_cap = true;
		return 0;
	}
	lk_buf_add(&x->body, ptr, len);
	return len;
}

static void
xfer_free(struct http_xfer *x)
{
	const struct curldl *curl = x->pool->curl;

	if (x->easy != NULL)
		curl->easy_cleanup(x->easy);
	/* A header may carry a token: do not leave it in freed memory. */
	for (struct curl_slist *h = x->headers; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl->slist_free_all(x->headers);
	free(x->post);
	free(x->url);
	lk_buf_free(&x->body);
	if (x->userpwd != NULL) {
		/* The password was in here: do not leave it in freed memory. */
		explicit_bzero(x->userpwd, strlen(x->userpwd));
		free(x->userpwd);
	}
	free(x->fail_reason);
	free(x);
}

/* One phrase for a transport failure.  Never includes the URL, which may
 * carry credentials. */
static void
transfer_reason(struct http_xfer *x, CURLcode rc, char *buf, size_t len)
{
	const struct curldl *curl = x->pool->curl;
	long os_errno = 0, redirects = 0;
	char size[32];

	curl->easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os_errno);
	curl->easy_getinfo(x->easy, CURLINFO_REDIRECT_COUNT, &redirects);
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		if (os_errno == ECONNREFUSED)
			snprintf(buf, len, "connection refused");
		else
			snprintf(buf, len, "cannot connect: %.180s",
			    os_errno ? strerror((int)os_errno) : x->errbuf);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(buf, len, "timed out after %lld ms",
		    (long long)x->timeout_ms);
		break;
	case CURLE_WRITE_ERROR:
		lk_fmt_size(x->max_body, size, sizeof size);
		snprintf(buf, len, x->over_cap ? "body over %s" :
		    "could not store the body (%s cap)", size);
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		snprintf(buf, len, "too many redirects (more than %d)",
		    HTTP_MAX_REDIRECTS);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(buf, len, redirects > 0 ? "redirect to a protocol "
		    "other than http or https refused" : "only http and https "
		    "URLs are checked");
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(buf, len, "cannot resolve host");
		break;
	case CURLE_GOT_NOTHING:
		snprintf(buf, len, "empty reply from server");
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		snprintf(buf, len, "TLS certificate not trusted: %.180s", x->errbuf);
		break;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		snprintf(buf, len, "connection reset");
		break;
	default:
		snprintf(buf, len, "%.200s", x->errbuf[0] ? x->errbuf :
		    curl->easy_strerror(rc));
		break;
	}
}

static void
finish(struct http_xfer *x, CURLcode rc)
{
	const struct curldl *curl = x->pool->curl;
	struct http_reply r = { 0 };
	char reason[256];
	double total = 0;

	curl->easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &total);
	r.latency_ms = total * 1000.0;
	if (rc == CURLE_OK) {
		r.done = true;
		curl->easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r.status);
		r.body = x->body.s;
		r.len = x->body.len;
	} else {
		transfer_reason(x, rc, reason, sizeof reason);
		r.error = reason;
	}
	x->cb(&r, x->data);
}

static void
unlink_active(struct http_pool *p, struct http_xfer *x)
{
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		p->active = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	x->next = x->prev = NULL;
	p->busy--;
	p->running--;
}

static void refuse(struct http_pool *p, struct http_xfer *x);

/* Sets every option of x's request on e, with left ms of its timeout to
 * go.  Returns curl's verdict on the first option it refused. */
static CURLcode
configure(struct http_xfer *x, CURL *e, int64_t left)
{
	const struct curldl *curl = x->pool->curl;
	int64_t connect = x->connect_timeout_ms < left ?
	    x->connect_timeout_ms : left;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) if (rc == CURLE_OK) rc = curl->easy_setopt(e, opt, val)
	SET(CURLOPT_URL, x->url);
	SET(CURLOPT_PRIVATE, x);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, x->post != NULL ? 0L : 1L);
	SET(CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRECTS);
	if (x->post != NULL) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->post_len);
		SET(CURLOPT_POSTFIELDS, x->post);
	}
	SET(CURLOPT_TIMEOUT_MS, (long)left);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)connect);
	/* A server that trickles is cut off by the total timeout; the
	 * low-speed limit ends a stalled transfer sooner when the timeout is
	 * long. */
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, (long)(x->timeout_ms / 1000 > 0 ?
	    x->timeout_ms / 1000 : 1));
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body);
	SET(CURLOPT_SSL_VERIFYPEER, x->insecure ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, x->insecure ? 0L : 2L);
	SET(CURLOPT_USERAGENT, "lookout/" LOOKOUT_VERSION);
	SET(CURLOPT_HTTPHEADER, x->headers);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	if (x->userpwd != NULL)
		SET(CURLOPT_USERPWD, x->userpwd);
#undef SET
	return rc;
}

/*
 * Hands waiting requests to curl while fewer than HTTP_MAX_CONNECTIONS
 * run.  The time a request waited counts against its timeout: "timed out
 * after N ms" means no answer came within N ms of asking, queue or not,
 * and `status`, which waits for the longest timeout only, gets an answer
 * for every request.
 */
static void
start_waiting(struct http_pool *p)
{
	while (p->waiting != NULL && p->running < HTTP_MAX_CONNECTIONS) {
		struct http_xfer *x = p->waiting;
		int64_t left = x->timeout_ms - (loop_now_ms() - x->asked_ms);
		CURLcode rc;
		CURL *e;

		p->waiting = x->next;
		if (p->waiting == NULL)
			p->waiting_tail = NULL;
		x->next = NULL;
		p->busy--;
		if (left <= 0) {
			x->fail_reason = lk_xasprintf("timed out after %lld ms",
			    (long long)x->timeout_ms);
			x->fail_latency_ms = (double)x->timeout_ms;
			refuse(p, x);
			continue;
		}
		if ((e = easy_get(p)) == NULL) {
			x->fail_reason = lk_xstrdup("libcurl: no easy handle");
			refuse(p, x);
			continue;
		}
		if ((rc = configure(x, e, left)) != CURLE_OK) {
			x->fail_reason = lk_xasprintf("invalid request: %s",
			    p->curl->easy_strerror(rc));
			easy_put(p, e);
			refuse(p, x);
			continue;
		}
		if (p->curl->multi_add_handle(p->multi, e) != CURLM_OK) {
			x->fail_reason = lk_xstrdup("libcurl refused the "
			    "request");
			easy_put(p, e);
			refuse(p, x);
			continue;
		}
		x->easy = e;
		x->next = p->active;
		if (p->active != NULL)
			p->active->prev = x;
		p->active = x;
		p->busy++;
		p->running++;
	}
}

static void
collect(struct http_pool *p)
{
	CURLMsg *msg;
	int left;

	while ((msg = p->curl->multi_info_read(p->multi, &left)) != NULL) {
		struct http_xfer *x = NULL;
		CURLcode rc;

		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg does not outlive multi_remove_handle. */
		rc = msg->data.result;
		p->curl->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &x);
		p->curl->multi_remove_handle(p->multi, x->easy);
		unlink_active(p, x);
		finish(x, rc);
		easy_put(p, x->easy);
		x->easy = NULL;
		xfer_free(x);
	}
	start_waiting(p);
}

static void
on_socket_ready(struct loop *l, int fd, int mask, void *data)
{
	struct http_pool *p = data;
	int running, ev = 0;

	(void)l;
	if (mask & LOOP_READABLE)
		ev |= CURL_CSELECT_IN;
	if (mask & LOOP_WRITABLE)
		ev |= CURL_CSELECT_OUT;
	p->curl->multi_socket_action(p->multi, fd, ev, &running);
	collect(p);
}

static long long
on_timeout(struct loop *l, long long id, void *data)
{
	struct http_pool *p = data;
	int running;

	(void)l;
	(void)id;
	p->timer = 0;
	p->curl->multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	collect(p);
	return LOOP_NOMORE;
}

static int
socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http_pool *p = userp;
	int mask = 0;

	(void)e;
	(void)socketp;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		mask |= LOOP_READABLE;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		mask |= LOOP_WRITABLE;
	/* Only what changes: each change is a call into the kernel. */
	loop_del_fd(p->loop, s, ~mask & (LOOP_READABLE | LOOP_WRITABLE));
	if (mask != 0)
		loop_add_fd(p->loop, s, mask, on_socket_ready, p);
	return 0;
}

static int
timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct http_pool *p = userp;

	(void)m;
	if (p->timer) {
		loop_del_timer(p->loop, p->timer);
		p->timer = 0;
	}
	if (timeout_ms >= 0)
		p->timer = loop_add_timer(p->loop, timeout_ms, on_timeout, p);
	return 0;
}

enum lk_code
http_pool_new(struct loop *loop, struct http_pool **out, struct lk_err *err)
{
	const struct curldl *curl;
	struct http_pool *p;

	if (curldl_load(&curl, err) != LK_OK)
		return err->code;
	p = lk_xcalloc(1, sizeof *p);
	p->loop = loop;
	p->curl = curl;
	p->multi = curl->multi_init();
	if (p->multi == NULL) {
		free(p);
		return lk_fail(err, LK_ENOMEM, "libcurl: no multi handle");
	}
	curl->multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl->multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl->multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl->multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	/* Keep every connection of the running requests open for the next
	 * ones (see start_waiting). */
	curl->multi_setopt(p->multi, CURLMOPT_MAXCONNECTS,
	    (long)HTTP_MAX_CONNECTIONS);
	*out = p;
	return LK_OK;
}

static long long
report_failed(struct loop *l, long long id, void *data)
{
	struct http_pool *p = data;

	(void)l;
	(void)id;
	p->failed_timer = 0;
	while (p->failed != NULL) {
		struct http_xfer *x = p->failed;
		struct http_reply r = { .error = x->fail_reason,
		    .latency_ms = x->fail_latency_ms };

		p->failed = x->next;
		x->cb(&r, x->data);
		xfer_free(x);
	}
	return LOOP_NOMORE;
}

static void
add_header(struct http_xfer *x, const char *h)
{
	struct curl_slist *l = x->pool->curl->slist_append(x->headers, h);

	if (l == NULL)
		lk_oom();
	x->headers = l;
}

void
http_start(struct http_pool *p, const struct http_request *req,
    http_done_cb *cb, void *data)
{
	struct http_xfer *x = lk_xcalloc(1, sizeof *x);
	size_t bytes = 0;

	x->pool = p;
	x->cb = cb;
	x->data = data;
	x->url = lk_xstrdup(req->url);
	x->insecure = req->insecure;
	x->max_body = req->max_body > 0 ? req->max_body : 1 << 20;
	x->timeout_ms = req->timeout_ms;
	x->connect_timeout_ms = req->connect_timeout_ms >= 0 ?
	    req->connect_timeout_ms : req->timeout_ms;
	x->asked_ms = loop_now_ms();
	for (const char *const *h = req->headers; h != NULL && *h; h++) {
		/* As libcurl sends it: the line and its CRLF. */
		bytes += strlen(*h) + 2;
		if (bytes > HTTP_MAX_HEADERS) {
			char cap[32];

			lk_fmt_size(HTTP_MAX_HEADERS, cap, sizeof cap);
			x->fail_reason = lk_xasprintf("header %.*s: the headers "
			    "would take %zu bytes, over the %s a check may send",
			    (int)strcspn(*h, ":"), *h, bytes, cap);
			refuse(p, x);
			return;
		}
		add_header(x, *h);
	}
	if (req->body != NULL) {
		/* One byte more, so that an empty body is not NULL. */
		x->post = lk_xmalloc(req->body_len + 1);
		memcpy(x->post, req->body, req->body_len);
		x->post_len = req->body_len;
		/* "Expect:" with no value: curl sends no Expect header. */
		add_header(x, "Expect:");
	}
	if (req->user != NULL)
		x->userpwd = lk_xasprintf("%s:%s", req->user,
		    req->password ? req->password : "");
	/* Queued, then sent in order: see start_waiting. */
	if (p->waiting_tail != NULL)
		p->waiting_tail->next = x;
	else
		p->waiting = x;
	p->waiting_tail = x;
	p->busy++;
	start_waiting(p);
}

/* Report from the loop, never from inside the caller's own call. */
static void
refuse(struct http_pool *p, struct http_xfer *x)
{
	x->next = p->failed;
	p->failed = x;
	if (!p->failed_timer)
		p->failed_timer = loop_add_timer(p->loop, 0, report_failed, p);
}

void
http_pool_free(struct http_pool **pp)
{
	struct http_pool *p = pp ? *pp : NULL;

	if (p == NULL)
		return;
	while (p->active != NULL) {
		struct http_xfer *x = p->active;

		p->curl->multi_remove_handle(p->multi, x->easy);
		unlink_active(p, x);
		xfer_free(x);
	}
	while (p->waiting != NULL) {
		struct http_xfer *x = p->waiting;

		p->waiting = x->next;
		xfer_free(x);
	}
	while (p->failed != NULL) {
		struct http_xfer *x = p->failed;

		p->failed = x->next;
		xfer_free(x);
	}
	if (p->timer)
		loop_del_timer(p->loop, p->timer);
	if (p->failed_timer)
		loop_del_timer(p->loop, p->failed_timer);
	while (p->nspare > 0)
		p->curl->easy_cleanup(p->spare[--p->nspare]);
	p->curl->multi_cleanup(p->multi);
	free(p);
	*pp = NULL;
}

char *
http_redact_url(const char *url)
{
	const struct curldl *curl;
	CURLU *u;
	char *pw = NULL, *out = NULL, *copy;

	/* Without libcurl the request that follows fails with the reason;
	 * a URL that is only displayed is not worth a second URL parser. */
	if (curldl_load(&curl, NULL) != LK_OK)
		return lk_xstrdup("(URL not shown: " CURLDL_SONAME
		    " cannot be loaded)");
	u = curl->url();
	if (u == NULL || curl->url_set(u, CURLUPART_URL, url, 0) !=
	    CURLUE_OK) {
		curl->url_cleanup(u);
		return lk_xstrdup("(invalid URL)");
	}
	if (curl->url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK) {
		curl->url_set(u, CURLUPART_PASSWORD, "***", 0);
		curl->free(pw);
	}
	if (curl->url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
		out = NULL;
	copy = lk_xstrdup(out ? out : "(invalid URL)");
	curl->free(out);
	curl->url_cleanup(u);
	return copy;
}
