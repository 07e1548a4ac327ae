/*
 * HTTP requests on the loop, through one libcurl multi handle: GETs for
 * the checks and the queues' APIs, POSTs for the notifications.
 *
 * Every request is bounded: connect and total timeouts, a low-speed limit,
 * a cap on the body enforced as it arrives, http/https only (redirects
 * too), at most HTTP_MAX_REDIRECTS redirects, TLS verified unless the
 * caller says insecure.  The reason for a failure is one precise phrase:
 * "connection refused", "timed out after 2000 ms", "body over 1 MiB".
 */
#ifndef LK_HTTP_H
#define LK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define HTTP_MAX_REDIRECTS 5
/*
 * What the headers of one request may take in all, counted as "Name:
 * value" lines.  libcurl builds a request in at most 1 MiB and fails one
 * that does not fit as "Out of memory"; servers refuse far less (8 to 64
 * KiB).  A request over this is refused before it is sent, naming the
 * header that went over.
 */
#define HTTP_MAX_HEADERS (256 * 1024)

struct loop;
struct http_pool;

struct http_request {
	const char *url;
	int64_t timeout_ms;		/* total; required */
	int64_t connect_timeout_ms;	/* < 0: the total timeout */
	int64_t max_body;		/* bytes */
	bool insecure;			/* skip TLS verification */
	const char *const *headers;	/* "Name: value", NULL-terminated */
	const char *user;		/* basic auth, or NULL */
	const char *password;		/* read from the environment by caller */
	/*
	 * A POST of body_len bytes at body, or NULL: a GET.  A POST follows
	 * no redirect: a 3xx is its answer, so that a body and headers meant
	 * for one place (a token, an incident) are never sent on to another.
	 * It is sent at once, without "Expect: 100-continue", which costs a
	 * round trip (a second, with a server that ignores it).  The body
	 * names its own type in headers ("Content-Type: application/json").
	 */
	const char *body;
	size_t body_len;
};

struct http_reply {
	bool done;			/* a response arrived (any status) */
	long status;
	const char *body;		/* valid during the callback only */
	size_t len;
	double latency_ms;
	const char *error;		/* transport failure reason, or NULL */
};

typedef void http_done_cb(const struct http_reply *r, void *data);

/*
 * The first pool of the process loads libcurl (curldl.h), which costs a few
 * milliseconds and fails with LK_EIO where libcurl is missing: create a pool
 * only once something will make a request.
 */
enum lk_code http_pool_new(struct loop *loop, struct http_pool **out,
    struct lk_err *err);
/* Cancels every request in flight (their callbacks are not called). */
void http_pool_free(struct http_pool **p);

/*
 * Starts a request; cb runs exactly once from the loop (never from inside
 * this call), unless the pool is freed first.  The request's strings are
 * copied.  At most a fixed number of requests run at once; the others wait
 * their turn in order, and their timeouts count from this call: "timed out
 * after 2000 ms" means no answer within 2000 ms of asking, queue or not.
 * A request curl refuses ends the same way, with the reason.
 */
void http_start(struct http_pool *p, const struct http_request *req,
    http_done_cb *cb, void *data);

/*
 * url with any password in its userinfo replaced by "***"; caller frees.
 * Loads libcurl too; where it cannot, a placeholder that shows nothing of
 * url.
 */
char *http_redact_url(const char *url);

#endif
