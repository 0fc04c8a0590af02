/* Store calls for dead letters; see dead_letters.h. */
#include "db/dead_letters.h"

#include <stdio.h>

#include "db/rows.h"

enum store_outcome db_dead_letters_list(struct db_pool *pool, const char *queue, const char *after, int64_t limit,
                                        cJSON **dead_letters, char next_after[DB_CURSOR_LEN])
{
    PGresult *res;
    char lim[24];
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    const char *params[] = {queue, after, lim};
    *dead_letters = NULL;
    next_after[0] = '\0';
    enum store_outcome outcome = db_run(pool, STMT_DEAD_LETTERS_LIST, 3, params, "list dead letters", &res);
    if (outcome != STORE_OK)
        goto out;
    if (!db_bool(res, 0, 0)) {
        outcome = STORE_NOT_FOUND;
        goto out;
    }
    int found = PQgetisnull(res, 0, 1) ? 0 : PQntuples(res);
    int rows = found > limit ? (int)limit : found;
    if (!(*dead_letters = db_raw_array(res, 1, rows)))
        outcome = STORE_ERROR;
    else if (found > limit)
        snprintf(next_after, DB_CURSOR_LEN, "%s", PQgetvalue(res, rows - 1, 2));
out:
    PQclear(res);
    return outcome;
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
