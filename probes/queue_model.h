/*
 * The queue model: turns a queue's recent samples into the state an
 * engineer acts on (rates, time to drain, ok/warn/crit/stalled/paused, and
 * the flags).  Pure computation, no I/O, so every rule is unit-tested.
 */
#ifndef LK_QUEUE_MODEL_H
#define LK_QUEUE_MODEL_H

#include "probes.h"

#define QUEUE_MODEL_SAMPLES 128

/* One reading of a queue's source. */
struct queue_sample {
	int64_t ts_ms;
	bool ok;			/* the source answered */
	char error[128];		/* why not, when !ok */
	int64_t depth;			/* -1: unknown */
	int64_t consumers;		/* -1: unknown */
	bool paused;
	/*
	 * A fingerprint of the oldest waiting message (0: unknown).  A list
	 * whose producers and consumers run at the same rate keeps its depth;
	 * a changing head is what shows it is still being consumed.
	 */
	uint64_t head;
	double in_per_min;		/* reported by the source, < 0: unknown */
	double out_per_min;
	/* RabbitMQ splits depth into ready and delivered-but-unacknowledged
	 * messages, and reports the queue process's state ("running",
	 * "idle", "flow", "down", "crashed"...).  -1 / "": not reported. */
	int64_t ready;
	int64_t unacked;
	char broker_state[16];
};

struct queue_limits {
	int64_t warn;			/* -1: unset */
	int64_t crit;			/* -1: unset */
	int64_t stall_after_ms;		/* -1: unset (default 5 min) */
	int64_t interval_ms;		/* how often the source is read */
};

/*
 * What the history needs of a sample: rates and growth are computed from
 * depths over time.  The rest (the error text above all) is kept for the
 * latest sample only, so that a hundred queues do not carry a hundred
 * rings of error strings.
 */
struct queue_point {
	int64_t ts_ms;
	int64_t depth;			/* -1: unknown */
	bool ok;
};

struct queue_model {
	struct queue_point ring[QUEUE_MODEL_SAMPLES];
	size_t n;			/* samples held */
	size_t next;			/* where the next one goes */
	int64_t last_progress_ms;	/* last time we saw a message consumed */
	int64_t last_ok_ms;
	struct queue_sample last;	/* the newest sample, valid when n > 0 */
	bool has_good;			/* last_good holds a reading */
	struct queue_sample last_good;
};

/* A sample taken at ts_ms that knows nothing yet: every count -1. */
void queue_sample_init(struct queue_sample *s, int64_t ts_ms, bool ok);

void queue_model_init(struct queue_model *m);
void queue_model_add(struct queue_model *m, const struct queue_sample *s);

/* The depths of the last max samples, oldest first (-1: the source did not
 * answer); returns how many were written. */
size_t queue_model_history(const struct queue_model *m, int64_t *depths,
    size_t max);

/* Fills out's depth, consumers, rates, state, reason and flags as of now. */
void queue_model_derive(const struct queue_model *m,
    const struct queue_limits *lim, int64_t now_ms, struct probe_queue *out);

#endif
