/* Store calls for dead letters; see dead_letters.h. */
#include "db/dead_letters.h"

#include <stdio.h>
#include <string.h>

#include "db/pool.h"
#include "db/rows.h"
#include "db/standby.h"

/* Columns of the list query: whether the queue exists, each dead letter, its sequence number. */
enum { DL_EXISTS, DL_ID, DL_TYPE, DL_DATA, DL_METADATA, DL_ENQUEUED_US, DL_FAILED_US, DL_DELIVERY_COUNT, DL_REASON };

enum store_outcome db_dead_letters_list(struct db_pool *pool, const char *queue, const char *after, int64_t limit,
                                        struct db_seq_page *out)
{
    PGresult *res;
    char lim[24];
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    const char *params[] = {queue, after, lim};
    memset(out, 0, sizeof *out);
    enum store_outcome outcome = db_run_read(pool, DB_RECENT_ANY, STMT_DEAD_LETTERS_LIST, 3, params,
                                             "list dead letters", db_final_first_true, NULL, &res);
    if (outcome == STORE_OK)
        outcome = db_seq_page_take(&res, limit, out);
    PQclear(res);
    return outcome;
}

void db_dead_letters_at(const struct db_seq_page *page, int i, struct dead_letter *out)
{
    const PGresult *res = page->rows->res;
    out->id = PQgetvalue(res, i, DL_ID);
    out->type = PQgetvalue(res, i, DL_TYPE);
    out->data = db_json_at(res, i, DL_DATA);
    out->metadata = db_json_at(res, i, DL_METADATA);
    out->enqueued_us = db_int(res, i, DL_ENQUEUED_US);
    out->failed_us = db_int(res, i, DL_FAILED_US);
    out->delivery_count = db_int(res, i, DL_DELIVERY_COUNT);
    out->reason = PQgetvalue(res, i, DL_REASON);
}

enum store_outcome db_dead_letters_redrive(struct db_pool *pool, const char *queue, const char *ids_array,
                                           int64_t *redriven)
{
    PGresult *res;
    const char *params[] = {queue, ids_array};
    *redriven = 0;
    enum store_outcome outcome = db_run(pool, STMT_DEAD_LETTERS_REDRIVE, 2, params, "redrive", &res);
    if (outcome == STORE_OK) {
        if (!db_bool(res, 0, 0))
            outcome = STORE_NOT_FOUND;
        *redriven = db_int(res, 0, 1);
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_dead_letters_delete(struct db_pool *pool, const char *queue, const char *id)
{
    PGresult *res;
    const char *params[] = {queue, id};
    enum store_outcome outcome = db_run(pool, STMT_DEAD_LETTERS_DELETE, 2, params, "delete dead letter", &res);
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    PQclear(res);
    return outcome;
}
