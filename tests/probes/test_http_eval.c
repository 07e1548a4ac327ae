/* probes: judging HTTP responses, with the reasons an engineer reads. */
#include <criterion/criterion.h>
#include <string.h>

#include "http_eval.h"

static int ok200[] = { 200 };
static int ok_many[] = { 200, 201, 204 };

static struct config_http
check(void)
{
	struct config_http c;

	memset(&c, 0, sizeof c);
	c.url = "http://127.0.0.1/";
	c.status = ok200;
	c.nstatus = 1;
	c.max_latency_ms = -1;
	c.timeout_ms = 2000;
	c.max_body = 1 << 20;
	return c;
}

static bool
eval(const struct config_http *c, long status, const char *body,
    double latency, char *reason)
{
	struct http_response r = { status, body, body ? strlen(body) : 0,
	    latency };

	return http_eval(c, &r, reason, 256);
}

TestSuite(http_eval, .timeout = 10);

Test(http_eval, the_seed_404_with_an_empty_body)
{
	struct config_http c = check();
	char reason[256];

	cr_expect_not(eval(&c, 404, "", 3, reason));
	cr_expect_str_eq(reason, "HTTP 404 with an empty body (expected 200)");
	cr_expect_not(eval(&c, 500, "oops", 3, reason));
	cr_expect_str_eq(reason, "HTTP 500 (expected 200)");
}

Test(http_eval, a_list_of_statuses)
{
	struct config_http c = check();
	char reason[256];

	c.status = ok_many;
	c.nstatus = 3;
	cr_expect(eval(&c, 204, "", 1, reason));
	cr_expect_not(eval(&c, 302, "x", 1, reason));
	cr_expect_str_eq(reason, "HTTP 302 (expected 200, 201 or 204)");
}

Test(http_eval, json_must_parse)
{
	struct config_http c = check();
	char reason[256];

	c.json = 1;
	cr_expect(eval(&c, 200, "{\"messages\": []}", 1, reason));
	cr_expect_not(eval(&c, 200, "", 1, reason));
	cr_expect_str_eq(reason, "invalid JSON at byte 0");
	cr_expect_not(eval(&c, 200, "{\"a\": tru}", 1, reason));
	cr_expect(strncmp(reason, "invalid JSON at byte ", 21) == 0, "%s",
	    reason);
}

Test(http_eval, a_json_field_equals_a_value)
{
	struct config_http c = check();
	char reason[256];

	c.json_path = "status.db";
	c.json_equals = "\"up\"";
	cr_expect(eval(&c, 200, "{\"status\": {\"db\": \"up\"}}", 1, reason));
	cr_expect_not(eval(&c, 200, "{\"status\": {\"db\": \"down\"}}", 1,
	    reason));
	cr_expect_str_eq(reason, "field status.db is \"down\" (expected \"up\")");
	cr_expect_not(eval(&c, 200, "{\"status\": {}}", 1, reason));
	cr_expect_str_eq(reason, "field status.db is missing");
	c.json_path = "items.1";
	c.json_equals = "2";
	cr_expect(eval(&c, 200, "{\"items\": [1, 2]}", 1, reason));
}

Test(http_eval, body_contains_and_latency)
{
	struct config_http c = check();
	char reason[256];

	c.body_contains = "pong";
	c.max_latency_ms = 1000;
	cr_expect(eval(&c, 200, "ping pong", 999, reason));
	cr_expect_not(eval(&c, 200, "ping", 1, reason));
	cr_expect_str_eq(reason, "body does not contain \"pong\"");
	cr_expect_not(eval(&c, 200, "pong", 2300, reason));
	cr_expect_str_eq(reason, "slow: 2300 ms (max 1000 ms)");
}
