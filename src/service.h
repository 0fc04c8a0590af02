/* The running service: what every request handler may reach. Built by main.c,
 * shared read-only by all threads (the pool does its own locking). */
#ifndef STREAMQ_SERVICE_H
#define STREAMQ_SERVICE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "src/config.h"

struct db_pool;
struct MHD_Daemon;

struct service {
    const struct config *cfg;
    struct db_pool *pool;
    struct MHD_Daemon *daemon;
    unsigned short port;          /* the bound port, after start */
    atomic_int active_requests;   /* requests between first call and completion */
};

#endif
