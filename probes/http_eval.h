/*
 * Judging an HTTP response against a check's assertions.  Pure: the
 * transfer itself lives in http.c, so every rule here is unit-tested
 * without a network.
 */
#ifndef LK_HTTP_EVAL_H
#define LK_HTTP_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "../config/config.h"

struct http_response {
	long status;
	const char *body;	/* not NUL-terminated; may be NULL if len 0 */
	size_t len;
	double latency_ms;
};

/*
 * Returns true when the response passes every assertion of c; otherwise
 * writes one precise reason, e.g. "HTTP 404 with an empty body (expected
 * 200)" or "invalid JSON at byte 0".
 */
bool http_eval(const struct config_http *c, const struct http_response *r,
    char *reason, size_t len);

/*
 * The same, for a runbook's http.check, whose reason may quote a value of
 * the body or of the check that holds a secret: every such value is
 * scrubbed with sc (core/scrub.h) before it is escaped, shortened or
 * formatted into the reason, where scrubbing the reason would come too
 * late.  The verdict is the same as http_eval's; sc may be NULL.
 */
struct lk_scrub;
bool http_eval_scrubbed(const struct config_http *c,
    const struct http_response *r, const struct lk_scrub *sc, char *reason,
    size_t len);

#endif
