/* Store calls for the operational routes, and the figures of the pool
 * (db/pool.c) that /metrics reports: held in memory, no query. */
#ifndef STREAMQ_DB_OPS_H
#define STREAMQ_DB_OPS_H

#include "db/store.h"
#include "src/core/util.h"

/* STORE_OK when a pooled connection answers a query, else STORE_UNAVAILABLE. */
enum store_outcome db_ops_ping(struct db_pool *pool) MUST_CHECK;

/* Pool figures for /metrics: slots, connections open and lent out now; since
 * start, acquires that had to wait and that gave up, connections handed out
 * and the microseconds spent waiting for them. Any thread. */
struct db_pool_stats {
    int size, open, in_use;
    long long waits, timeouts;
    long long acquires, acquire_us;
};
void db_pool_stats(struct db_pool *pool, struct db_pool_stats *out);

/* Statements that failed since start, by SQLSTATE class ("23", "40", ...;
 * "none" when the link failed without one). */
struct db_error_count {
    char sqlstate_class[8];
    long long count;
};
/* Fills up to `max` classes that counted any error; returns how many. Any thread. */
int db_statement_errors(struct db_error_count *out, int max);

#endif
