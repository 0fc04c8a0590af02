/* The running service: what every request handler reaches as req->svc (the
 * HTTP layer carries it without looking inside). Built by service.c, shared
 * read-only by all threads (the pool and the batchers do their own locking). */
#ifndef STREAMQ_SERVICE_H
#define STREAMQ_SERVICE_H

#include "src/config.h"

struct batcher;
struct db_pool;
struct http_server;

struct service {
    const struct config *cfg;
    struct db_pool *pool;
    /* Group commit's writers (db/batcher.h): appends, and the queue operations
     * of db/queue_group.h. */
    struct batcher *appends, *enqueues, *dequeues, *acks;
    struct http_server *http;
};

#endif
