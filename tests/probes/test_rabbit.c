/* probes: the RabbitMQ management API's queue object. */
#include <criterion/criterion.h>
#include <string.h>

#include "rabbit.h"

TestSuite(rabbit, .timeout = 10);

static int
parse(const char *body, struct queue_sample *s, char *why)
{
	memset(s, 0, sizeof *s);
	return rabbit_parse_queue(body, strlen(body), s, why, 128);
}

Test(rabbit, a_queue_with_stats)
{
	struct queue_sample s;
	char why[128];

	cr_assert_eq(parse("{\"messages\": 1200, \"consumers\": 0, "
	    "\"message_stats\": {\"publish_details\": {\"rate\": 2.5}, "
	    "\"deliver_get_details\": {\"rate\": 0.0}}}", &s, why), 0, "%s",
	    why);
	cr_expect_eq(s.depth, 1200);
	cr_expect_eq(s.consumers, 0);
	cr_expect_eq(s.in_per_min, 150.0);
	cr_expect_eq(s.out_per_min, 0.0);
}

Test(rabbit, ready_unacknowledged_and_state)
{
	struct queue_sample s;
	char why[128];

	cr_assert_eq(parse("{\"messages\": 42, \"messages_ready\": 40, "
	    "\"messages_unacknowledged\": 2, \"consumers\": 1, "
	    "\"state\": \"running\"}", &s, why), 0, "%s", why);
	cr_expect_eq(s.ready, 40);
	cr_expect_eq(s.unacked, 2);
	cr_expect_str_eq(s.broker_state, "running");
	/* Older brokers, or a queue on a node that is down, say less. */
	cr_assert_eq(parse("{\"messages\": 0, \"state\": 7}", &s, why), 0);
	cr_expect_eq(s.ready, -1);
	cr_expect_eq(s.unacked, -1);
	cr_expect_eq(s.consumers, -1);
	cr_expect_str_eq(s.broker_state, "");
	/* A state longer than any RabbitMQ has is cut, not overflowed. */
	cr_assert_eq(parse("{\"messages\": 0, \"state\": "
	    "\"a-state-no-broker-has-ever-had\"}", &s, why), 0);
	cr_expect_eq(strlen(s.broker_state), sizeof s.broker_state - 1);
}

Test(rabbit, a_new_queue_has_no_rates_yet)
{
	struct queue_sample s;
	char why[128];

	cr_assert_eq(parse("{\"messages\": 3, \"consumers\": 2}", &s, why), 0);
	cr_expect_eq(s.in_per_min, -1);
	cr_expect_eq(s.out_per_min, -1);
}

Test(rabbit, bad_bodies_say_why)
{
	struct queue_sample s;
	char why[128];

	cr_expect_eq(parse("", &s, why), -1);
	cr_expect_str_eq(why, "invalid JSON at byte 0");
	cr_expect_eq(parse("[1]", &s, why), -1);
	cr_expect_str_eq(why, "expected a JSON object");
	cr_expect_eq(parse("{\"messages\": \"lots\"}", &s, why), -1);
	cr_expect_str_eq(why, "no message count");
}
