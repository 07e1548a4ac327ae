/* Internals shared by the files of probes/.  Not part of the public API. */
#ifndef LK_PROBES_PRIVATE_H
#define LK_PROBES_PRIVATE_H

#include "probes.h"

struct config;
struct http_pool;
struct pqueue;

/* The owner's pieces that the queue sources use. */
struct loop *probes_loop(const struct probes *p);
/* NULL unless the configuration makes HTTP requests: see probes_new(). */
struct http_pool *probes_http(const struct probes *p);
struct store *probes_store(const struct probes *p);
/* Marks the state changed: it is re-derived and the subscriber told once,
 * from the loop (see changed() in probes.c). */
void probes_changed(struct probes *p);

/* queues.c: one pqueue per configured queue, in config order. */
struct pqueue *probe_queues_new(struct probes *p, const struct config *cfg,
    size_t *n);
void probe_queues_free(struct pqueue *q, size_t n);
void probe_queues_read(struct pqueue *q, size_t n);
void probe_queues_derive(struct pqueue *q, size_t n);
bool probe_queues_settled(const struct pqueue *q, size_t n);
int64_t probe_queues_max_wait(const struct pqueue *q, size_t n, int64_t floor);
const struct probe_queue *probe_queue_state(const struct pqueue *q, size_t n,
    size_t i);
size_t probe_queue_history(const struct pqueue *q, size_t n, size_t i,
    int64_t *depths, size_t max);

#endif
