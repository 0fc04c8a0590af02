/* The running service: what every request handler reaches as req->svc (the
 * HTTP layer carries it without looking inside). Built by service.c, shared
 * read-only by all threads (the pool and the batchers do their own locking). */
#ifndef STREAMQ_SERVICE_H
#define STREAMQ_SERVICE_H

#include "src/config.h"
#include "src/core/text.h"

struct batcher;
struct db_pool;
struct depth_cache;
struct http_server;
struct service_workers;

struct service {
    const struct config *cfg;
    struct db_pool *pool;
    /* Group commit's writers (db/batcher.h): appends, and the queue operations
     * of db/queue_group.h. */
    struct batcher *appends, *enqueues, *dequeues, *acks;
    /* POST /transactions, one transaction at a time per writer (db/transactions.h). */
    struct batcher *transactions;
    struct http_server *http;
    struct depth_cache *depths;      /* queue depths for /metrics (db/queues.h) */
    struct service_workers *workers; /* the background threads, known to service.c only */
};

/* Appends the background threads' metrics (sweeper, webhook dispatcher,
 * notifier) in the Prometheus text format: routes/ may not name src/workers/,
 * so service.c, which started them, writes them. Any thread. */
void service_render_worker_metrics(const struct service *svc, struct text *out);

#endif
