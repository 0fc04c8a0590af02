/* The sweeper: a background thread that, every sweep interval, returns expired
 * leases to their queues (or dead-letters messages out of deliveries) and
 * deletes queue messages past their retention. Safe beside other instances. */
#ifndef STREAMQ_SWEEPER_H
#define STREAMQ_SWEEPER_H

#include <stdbool.h>
#include <stdint.h>

#include "src/config.h"
#include "src/core/util.h"

struct db_pool;
struct sweeper;

/* Starts the thread; NULL when it could not be created. */
struct sweeper *sweeper_start(const struct config *cfg, struct db_pool *pool) MUST_CHECK;
/* Asks the thread to stop, waits for it, frees. Accepts NULL. */
void sweeper_stop(struct sweeper *s);

/* Totals since start, for /metrics. Any thread. */
struct sweeper_stats {
    int64_t runs, requeued, dead_lettered, expired;
};
void sweeper_stats(struct sweeper *s, struct sweeper_stats *out);

#endif
