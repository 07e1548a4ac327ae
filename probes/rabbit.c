#include "rabbit.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>

static double
rate_per_min(json_t *stats, const char *name)
{
	json_t *r = json_object_get(json_object_get(stats, name), "rate");
	double v = json_is_number(r) ? json_number_value(r) * 60.0 : -1;

	/* A broker's absurd rate is no rate, not infinity in our JSON. */
	return isfinite(v) && v >= 0 ? v : -1;
}

static int64_t
count_or_unknown(json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);

	return json_is_integer(v) && json_integer_value(v) >= 0 ?
	    json_integer_value(v) : -1;
}

int
rabbit_parse_queue(const char *body, size_t len, struct queue_sample *s,
    char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *root = json_loadb(body ? body : "", len, 0, &jerr);
	json_t *messages, *stats, *state;

	if (!json_is_object(root)) {
		if (root == NULL)
			snprintf(why, whylen, "invalid JSON at byte %d",
			    jerr.position);
		else
			snprintf(why, whylen, "expected a JSON object");
		json_decref(root);
		return -1;
	}
	messages = json_object_get(root, "messages");
	if (!json_is_integer(messages) || json_integer_value(messages) < 0) {
		snprintf(why, whylen, "no message count");
		json_decref(root);
		return -1;
	}
	s->depth = json_integer_value(messages);
	s->consumers = count_or_unknown(root, "consumers");
	s->ready = count_or_unknown(root, "messages_ready");
	s->unacked = count_or_unknown(root, "messages_unacknowledged");
	snprintf(s->broker_state, sizeof s->broker_state, "%s",
	    json_is_string(state = json_object_get(root, "state")) ?
	    json_string_value(state) : "");
	s->in_per_min = s->out_per_min = -1;
	stats = json_object_get(root, "message_stats");
	if (json_is_object(stats)) {
		s->in_per_min = rate_per_min(stats, "publish_details");
		s->out_per_min = rate_per_min(stats, "deliver_get_details");
		if (s->out_per_min < 0)
			s->out_per_min = rate_per_min(stats, "ack_details");
	}
	json_decref(root);
	return 0;
}
