/* The running service: what every request handler reaches as req->svc (the
 * HTTP layer carries it without looking inside). Built by service.c, shared
 * read-only by all threads (the pool and the append group do their own locking). */
#ifndef STREAMQ_SERVICE_H
#define STREAMQ_SERVICE_H

#include "src/config.h"

struct append_group;
struct db_pool;
struct http_server;

struct service {
    const struct config *cfg;
    struct db_pool *pool;
    struct append_group *appends; /* group commit's writers (db/append_group.h) */
    struct http_server *http;
};

#endif
