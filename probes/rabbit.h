/*
 * Parsing the RabbitMQ management API's queue object
 * (GET /api/queues/VHOST/NAME).  Pure, so it can be fuzzed and tested
 * without a broker.
 */
#ifndef LK_RABBIT_H
#define LK_RABBIT_H

#include <stddef.h>

#include "queue_model.h"

/*
 * Fills depth (messages), ready, unacked, consumers, the queue's state and
 * the publish / deliver rates (per minute; -1 when the broker has none
 * yet) of s from body.  Returns 0, or
 * -1 with a reason such as "invalid JSON at byte 0" or "no message count".
 */
int rabbit_parse_queue(const char *body, size_t len, struct queue_sample *s,
    char *why, size_t whylen);

#endif
