/* Store calls of the archiving trim; see archive.h. */
#include "db/archive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "db/rows.h"
#include "db/tx.h"

enum store_outcome db_archive_batch_begin(struct db_pool *pool, const char *stream,
                                          const struct retention_defaults *defaults, int limit, struct archive_batch *b)
{
    memset(b, 0, sizeof *b);
    b->tx = xcalloc(1, sizeof *b->tx);
    enum store_outcome outcome = db_tx_begin(pool, b->tx);
    if (outcome != STORE_OK)
        return outcome;
    PGresult *res;
    const char *lock_params[] = {stream};
    outcome = db_tx_exec(b->tx, STMT_ARCHIVE_LOCK, 1, lock_params, "archive lock", &res);
    b->locked = outcome == STORE_OK && db_bool(res, 0, 0);
    PQclear(res);
    if (!b->locked)
        return outcome;
    char age[24], count[24], lim[24];
    snprintf(age, sizeof age, "%lld", (long long)defaults->max_age_seconds);
    snprintf(count, sizeof count, "%lld", (long long)defaults->max_count);
    snprintf(lim, sizeof lim, "%d", limit);
    const char *params[] = {stream, defaults->max_age_seconds > 0 ? age : NULL, defaults->max_count > 0 ? count : NULL,
                            lim};
    outcome = db_tx_exec(b->tx, STMT_ARCHIVE_DUE, 4, params, "archive due events", &res);
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    if (outcome == STORE_OK) {
        b->incarnation = db_int(res, 0, 0);
        /* A stream with nothing due is one row, its event columns NULL. */
        b->events.count = PQgetisnull(res, 0, 1) ? 0 : PQntuples(res);
        b->events.rows = db_rows_take(&res, 1);
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_archive_batch_delete(struct archive_batch *b, const char *stream, int64_t through,
                                           int64_t *deleted)
{
    char thr[24];
    snprintf(thr, sizeof thr, "%lld", (long long)through);
    const char *params[] = {stream, thr};
    PGresult *res;
    *deleted = 0;
    enum store_outcome outcome = db_tx_exec(b->tx, STMT_ARCHIVE_DELETE, 2, params, "archive delete", &res);
    if (outcome == STORE_OK)
        *deleted = db_int(res, 0, 0);
    PQclear(res);
    return outcome;
}

enum store_outcome db_archive_batch_end(struct archive_batch *b)
{
    db_rows_free(b->events.rows);
    b->events.rows = NULL;
    enum store_outcome outcome = b->tx ? db_tx_end(b->tx) : STORE_OK;
    free(b->tx);
    b->tx = NULL;
    return outcome;
}
