#include "queue_model.h"

#include <stdio.h>
#include <string.h>

#include "../core/util.h"

#define DEFAULT_STALL_MS (5 * 60 * 1000)
/* Rates are measured over this much recent history. */
#define RATE_WINDOW_MS (5 * 60 * 1000)

void
queue_model_init(struct queue_model *m)
{
	memset(m, 0, sizeof *m);
}

static const struct queue_point *
nth_newest(const struct queue_model *m, size_t i)
{
	size_t idx = (m->next + QUEUE_MODEL_SAMPLES - 1 - i) %
	    QUEUE_MODEL_SAMPLES;

	return i < m->n ? &m->ring[idx] : NULL;
}

size_t
queue_model_history(const struct queue_model *m, int64_t *depths, size_t max)
{
	size_t n = m->n < max ? m->n : max;

	for (size_t i = 0; i < n; i++) {
		const struct queue_point *x = nth_newest(m, n - 1 - i);

		depths[i] = x->ok ? x->depth : -1;
	}
	return n;
}

void
queue_model_add(struct queue_model *m, const struct queue_sample *s)
{
	const struct queue_sample *prev = m->has_good ? &m->last_good : NULL;

	m->ring[m->next] = (struct queue_point){ s->ts_ms, s->depth, s->ok };
	m->last = *s;
	m->next = (m->next + 1) % QUEUE_MODEL_SAMPLES;
	if (m->n < QUEUE_MODEL_SAMPLES)
		m->n++;
	if (!s->ok)
		return;

	/*
	 * Progress: the queue is empty, it shrank, its oldest message
	 * changed, or the source itself reports deliveries.
	 */
	if (prev == NULL || s->depth == 0 ||
	    (prev->depth >= 0 && s->depth >= 0 && s->depth < prev->depth) ||
	    (s->head != 0 && prev->head != 0 && s->head != prev->head) ||
	    s->out_per_min > 0)
		m->last_progress_ms = s->ts_ms;
	m->last_ok_ms = s->ts_ms;
	m->last_good = *s;
	m->has_good = true;
}

/*
 * Net flows from depth alone: increases count as arrivals, decreases as
 * consumption.  Both are lower bounds (a push and a pop between two samples
 * cancel out), which is why reported rates win when a source has them.
 */
static void
depth_rates(const struct queue_model *m, int64_t now_ms, double *in,
    double *out)
{
	const struct queue_point *newer = NULL, *s;
	int64_t span_start = now_ms, span_end = 0;
	double up = 0, down = 0;

	for (size_t i = 0; (s = nth_newest(m, i)) != NULL; i++) {
		if (!s->ok || s->depth < 0)
			continue;
		if (now_ms - s->ts_ms > RATE_WINDOW_MS)
			break;
		if (newer != NULL) {
			int64_t d = newer->depth - s->depth;

			if (d > 0)
				up += (double)d;
			else
				down += (double)-d;
		} else {
			span_end = s->ts_ms;
		}
		span_start = s->ts_ms;
		newer = s;
	}
	if (span_end - span_start < 1000) {
		*in = *out = -1;
		return;
	}
	*in = up * 60000.0 / (double)(span_end - span_start);
	*out = down * 60000.0 / (double)(span_end - span_start);
}

/* Rising over the last three readings, and more than it was a window ago. */
static bool
is_growing(const struct queue_model *m)
{
	const struct queue_point *s[3];
	size_t got = 0;

	for (size_t i = 0; got < 3; i++) {
		const struct queue_point *x = nth_newest(m, i);

		if (x == NULL)
			return false;
		if (x->ok && x->depth >= 0)
			s[got++] = x;
	}
	return s[0]->depth > s[1]->depth && s[1]->depth > s[2]->depth;
}

void
queue_sample_init(struct queue_sample *s, int64_t ts_ms, bool ok)
{
	memset(s, 0, sizeof *s);
	s->ts_ms = ts_ms;
	s->ok = ok;
	s->depth = s->consumers = s->ready = s->unacked = -1;
	s->in_per_min = s->out_per_min = -1;
}

/* RabbitMQ's queue states in which the queue does its work: "flow" is
 * running too, with its publishers held back. */
static bool
broker_state_ok(const char *state)
{
	return state[0] == '\0' || strcmp(state, "running") == 0 ||
	    strcmp(state, "idle") == 0 || strcmp(state, "flow") == 0;
}

/* Appends what RabbitMQ says of the waiting messages when some are held
 * by a consumer that has not acknowledged them: a hung worker. */
static void
add_unacked(const struct queue_sample *good, struct probe_queue *q)
{
	size_t n = strlen(q->reason);

	if (good->unacked > 0 && good->ready >= 0 && n > 0)
		snprintf(q->reason + n, sizeof q->reason - n,
		    " (%lld ready, %lld unacknowledged)",
		    (long long)good->ready, (long long)good->unacked);
}

void
queue_model_derive(const struct queue_model *m, const struct queue_limits *lim,
    int64_t now_ms, struct probe_queue *q)
{
	const struct queue_sample *last = m->n > 0 ? &m->last : NULL;
	const struct queue_sample *good = m->has_good ? &m->last_good : NULL;
	int64_t stall_ms = lim->stall_after_ms > 0 ? lim->stall_after_ms :
	    DEFAULT_STALL_MS;
	int64_t stale_ms = 3 * (lim->interval_ms > 0 ? lim->interval_ms : 5000);
	char dur[32];
	bool stalled;

	q->depth = good ? good->depth : -1;
	q->consumers = good ? good->consumers : -1;
	q->ready = good ? good->ready : -1;
	q->unacked = good ? good->unacked : -1;
	q->rate_in_per_min = q->rate_out_per_min = -1;
	q->drain_minutes = -1;
	q->state = QSTATE_UNKNOWN;
	q->flags = 0;
	q->reason[0] = '\0';

	if (last == NULL) {
		snprintf(q->reason, sizeof q->reason, "not read yet");
		return;
	}
	if (!last->ok || good == NULL || now_ms - m->last_ok_ms > stale_ms) {
		q->flags |= Q_STALE;
		if (good != NULL) {
			lk_fmt_duration(now_ms - m->last_ok_ms, dur,
			    sizeof dur);
			snprintf(q->reason, sizeof q->reason, "source not "
			    "answering: %s (last answer %s ago)",
			    last->ok ? "no reading" : last->error, dur);
		} else {
			snprintf(q->reason, sizeof q->reason, "source not "
			    "answering: %s", last->ok ? "no reading" :
			    last->error);
		}
		return;
	}

	if (good->in_per_min >= 0 || good->out_per_min >= 0) {
		q->rate_in_per_min = good->in_per_min;
		q->rate_out_per_min = good->out_per_min;
	} else {
		depth_rates(m, now_ms, &q->rate_in_per_min,
		    &q->rate_out_per_min);
	}
	if (q->rate_out_per_min > 0 && q->depth > 0) {
		double net = q->rate_out_per_min -
		    (q->rate_in_per_min > 0 ? q->rate_in_per_min : 0);

		if (net > 0)
			q->drain_minutes = (double)q->depth / net;
	}
	if (q->consumers == 0 && q->depth > 0)
		q->flags |= Q_NO_CONSUMERS;
	if (is_growing(m))
		q->flags |= Q_GROWING;

	stalled = q->depth > 0 && now_ms - m->last_progress_ms >= stall_ms;
	if (stalled)
		lk_fmt_duration(now_ms - m->last_progress_ms, dur, sizeof dur);
	if (!broker_state_ok(good->broker_state)) {
		q->state = QSTATE_CRIT;
		snprintf(q->reason, sizeof q->reason, "the broker reports the "
		    "queue %s, with %lld waiting", good->broker_state,
		    (long long)q->depth);
	} else if (good->paused) {
		/*
		 * Paused says why nothing moves, not for how long: seed 001's
		 * queue sat paused for six weeks.  Past stall_after it is
		 * flagged stalled too, and the reason says since when.
		 */
		q->state = QSTATE_PAUSED;
		q->flags |= Q_PAUSED | (stalled ? Q_STALLED : 0);
		snprintf(q->reason, sizeof q->reason, "paused with %lld "
		    "waiting%s%s", (long long)q->depth, stalled ?
		    ", none consumed for " : "", stalled ? dur : "");
	} else if (stalled) {
		q->state = QSTATE_STALLED;
		q->flags |= Q_STALLED;
		snprintf(q->reason, sizeof q->reason, "%lld waiting, none "
		    "consumed for %s", (long long)q->depth, dur);
	} else if (lim->crit >= 0 && q->depth >= lim->crit) {
		q->state = QSTATE_CRIT;
		snprintf(q->reason, sizeof q->reason, "%lld waiting (critical "
		    "at %lld)", (long long)q->depth, (long long)lim->crit);
	} else if (lim->warn >= 0 && q->depth >= lim->warn) {
		q->state = QSTATE_WARN;
		snprintf(q->reason, sizeof q->reason, "%lld waiting (warning "
		    "at %lld)", (long long)q->depth, (long long)lim->warn);
	} else {
		q->state = QSTATE_OK;
	}
	if (q->state == QSTATE_OK && strcmp(good->broker_state, "flow") == 0) {
		q->state = QSTATE_WARN;
		snprintf(q->reason, sizeof q->reason, "%lld waiting, publishers "
		    "held back by the broker's flow control",
		    (long long)q->depth);
	}
	if (q->state == QSTATE_OK && (q->flags & Q_NO_CONSUMERS))
		snprintf(q->reason, sizeof q->reason, "%lld waiting and no "
		    "consumer attached", (long long)q->depth);
	add_unacked(good, q);
}
