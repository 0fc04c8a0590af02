/* Reads from a PostgreSQL hot standby (--read-database-url). Store calls that
 * only read run through db_run_read (or db_read_acquire) with the recency they
 * need; everything else stays on the primary (db_run, db_pool_acquire). A read
 * goes to the standby while it is in service: it answered the last check and
 * had replayed the primary's WAL of at most --max-replica-lag-ms ago. A read
 * the standby fails (link lost, cancelled by a recovery conflict) runs again
 * on the primary, and the standby leaves service until the next check finds it
 * well. Without a standby every read runs on the primary. Thread-safe. */
#ifndef STREAMQ_DB_STANDBY_H
#define STREAMQ_DB_STANDBY_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/statements.h"
#include "db/store.h"
#include "src/config.h"

struct db_conn;
struct db_standby;

/* The standby of cfg->read_database_url, out of service until its first check.
 * Opens no connection yet, so it cannot fail. For db/pool.c. */
struct db_standby *db_standby_new(const struct config *cfg) MUST_CHECK;
/* Accepts NULL. */
void db_standby_free(struct db_standby *standby);

/* True when the standby's answer `res` of a read may be kept; false sends the
 * read to the primary (a "not found", or nothing for a reader that would park). */
typedef bool (*db_read_final_fn)(const PGresult *res, const void *cls);

/* Finals for the common shapes: the answer has a row (the thing read exists),
 * and its first column (an EXISTS) is true. */
bool db_final_has_rows(const PGresult *res, const void *cls);
bool db_final_first_true(const PGresult *res, const void *cls);

/* db_run for a read: on the standby when `recency` and the standby allow, and
 * again on the primary when the standby failed or `final` (may be NULL: every
 * answer is final) refused its answer. The caller owns `*res` (NULL when no
 * connection could be had) and PQclears it. */
enum store_outcome db_run_read(struct db_pool *pool, enum db_recency recency, enum stmt_id id, int nparams,
                               const char *const *values, const char *what, db_read_final_fn final, const void *cls,
                               PGresult **res) MUST_CHECK;

/* A read holding its connection for more than one statement. */
struct db_read {
    struct db_pool *pool; /* the primary's */
    struct db_pool *from; /* where `conn` came from: `pool` or the standby's */
    struct db_conn *conn;
};
/* Borrows a connection for a read of `recency`; false: none could be had. */
bool db_read_acquire(struct db_pool *pool, enum db_recency recency, struct db_read *rd) MUST_CHECK;
/* True when `rd` reads on the standby. */
bool db_read_on_standby(const struct db_read *rd);
/* Gives the standby's connection back (taking the standby out of service when
 * its link failed) and borrows the primary's; false: none could be had (`conn`
 * is then NULL). */
bool db_read_move_to_primary(struct db_read *rd) MUST_CHECK;
/* Gives the connection back; accepts a NULL `conn`. */
void db_read_release(struct db_read *rd);

/* One check of the standby: the primary's flushed WAL position, and how far
 * the standby has replayed it; puts the standby in or out of service. For the
 * periodic thread that service.c starts when a standby is configured; no-op
 * without one. */
void db_standby_check(struct db_pool *pool);
/* How often db_standby_check should run: a quarter of --max-replica-lag-ms,
 * from 25 ms to 1 s, so that the lag is known to within that. */
int64_t db_standby_check_interval_ms(const struct config *cfg);

/* Where reads ran, for /metrics: db_read_stats in db/ops.h. */

#endif
