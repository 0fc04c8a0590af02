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

/* Where reads ran (db/standby.h) and the standby's state, for /metrics. Any thread. */
struct db_read_stats {
    bool configured;          /* --read-database-url is set; the rest of the standby figures mean something */
    bool in_service;          /* reads go to the standby now */
    int64_t lag_ms;           /* at the last check; -1 unknown (down, not a standby, or too far behind to tell) */
    long long on_standby;     /* read statements run on the standby */
    long long on_primary;     /* read statements run on the primary (the standby out of service, or asked again) */
    long long asked_again;    /* standby answers that were asked again on the primary */
    long long out_of_service; /* times the standby left service */
};
void db_read_stats(struct db_pool *pool, struct db_read_stats *out);

/* Statements that failed since start, by SQLSTATE class ("23", "40", ...;
 * "none" when the link failed without one). */
struct db_error_count {
    char sqlstate_class[8];
    long long count;
};
/* Fills up to `max` classes that counted any error; returns how many. Any thread. */
int db_statement_errors(struct db_error_count *out, int max);

#endif
