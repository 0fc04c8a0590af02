/* Store calls for queues; see queues.h. */
#include "db/queues.h"

#include <stdio.h>
#include <string.h>

#include "db/rows.h"
#include "db/tx.h"

struct numbers {
    char a[24], b[24];
};

static void defaults_text(const struct queue_defaults *d, struct numbers *n)
{
    snprintf(n->a, sizeof n->a, "%lld", (long long)d->visibility_timeout);
    snprintf(n->b, sizeof n->b, "%lld", (long long)d->max_delivery_attempts);
}

enum store_outcome db_queues_meta(struct db_pool *pool, const char *queue, const struct queue_defaults *defaults,
                                  cJSON **meta)
{
    PGresult *res;
    struct numbers d;
    defaults_text(defaults, &d);
    const char *params[] = {queue, d.a, d.b};
    *meta = NULL;
    enum store_outcome outcome = db_run(pool, STMT_QUEUES_META, 3, params, "queue metadata", &res);
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    if (outcome == STORE_OK && !(*meta = cJSON_CreateRaw(PQgetvalue(res, 0, 0))))
        outcome = STORE_ERROR;
    PQclear(res);
    return outcome;
}

enum store_outcome db_queues_list(struct db_pool *pool, const char *prefix, const char *after, int64_t limit,
                                  const struct queue_defaults *defaults, cJSON **queues, char *next_after)
{
    PGresult *res;
    struct numbers d;
    char lim[24];
    defaults_text(defaults, &d);
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    const char *params[] = {prefix, after, lim, d.a, d.b};
    *queues = NULL;
    next_after[0] = '\0';
    enum store_outcome outcome = db_run(pool, STMT_QUEUES_LIST, 5, params, "list queues", &res);
    if (outcome == STORE_OK) {
        int rows = PQntuples(res) > limit ? (int)limit : PQntuples(res);
        if (!(*queues = db_raw_array(res, 0, rows)))
            outcome = STORE_ERROR;
        else if (PQntuples(res) > limit)
            snprintf(next_after, NAME_MAX_LEN + 1, "%s", PQgetvalue(res, rows - 1, 1));
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_queues_configure(struct db_pool *pool, const char *queue, const struct queue_config *in,
                                       const struct queue_defaults *defaults, cJSON **meta)
{
    PGresult *res;
    char vt[24], attempts[24], retention[24], depth[24];
    snprintf(vt, sizeof vt, "%lld", (long long)in->visibility_timeout);
    snprintf(attempts, sizeof attempts, "%lld", (long long)in->max_delivery_attempts);
    snprintf(retention, sizeof retention, "%lld", (long long)in->retention_seconds);
    snprintf(depth, sizeof depth, "%lld", (long long)in->max_depth);
    const char *params[] = {queue,
                            in->has_visibility_timeout && in->visibility_timeout >= 0 ? vt : NULL,
                            in->has_max_delivery_attempts && in->max_delivery_attempts >= 0 ? attempts : NULL,
                            in->has_retention_seconds && in->retention_seconds >= 0 ? retention : NULL,
                            in->has_max_depth && in->max_depth >= 0 ? depth : NULL,
                            in->has_visibility_timeout ? "t" : "f",
                            in->has_max_delivery_attempts ? "t" : "f",
                            in->has_retention_seconds ? "t" : "f",
                            in->has_max_depth ? "t" : "f"};
    struct db_tx tx;
    *meta = NULL;
    /* The new settings and the dead-lettering they imply commit together. */
    if (db_tx_begin(pool, &tx) == STORE_OK) {
        db_tx_exec(&tx, STMT_QUEUES_CONFIGURE, 9, params, "configure queue", &res);
        PQclear(res);
    }
    if (in->has_max_delivery_attempts && tx.outcome == STORE_OK) {
        struct numbers d;
        defaults_text(defaults, &d);
        const char *spent[] = {queue, d.b};
        db_tx_exec(&tx, STMT_QUEUES_DEAD_LETTER_SPENT, 2, spent, "dead-letter spent messages", &res);
        PQclear(res);
    }
    enum store_outcome outcome = db_tx_end(&tx);
    if (outcome != STORE_OK)
        return outcome;
    return db_queues_meta(pool, queue, defaults, meta);
}

enum store_outcome db_queues_purge(struct db_pool *pool, const char *queue, int64_t *purged)
{
    PGresult *res;
    const char *params[] = {queue};
    *purged = 0;
    enum store_outcome outcome = db_run(pool, STMT_QUEUES_PURGE, 1, params, "purge queue", &res);
    if (outcome == STORE_OK) {
        if (!db_bool(res, 0, 0))
            outcome = STORE_NOT_FOUND;
        *purged = db_int(res, 0, 1);
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_queues_delete(struct db_pool *pool, const char *queue)
{
    PGresult *res;
    const char *params[] = {queue};
    enum store_outcome outcome = db_run(pool, STMT_QUEUES_DELETE, 1, params, "delete queue", &res);
    if (outcome == STORE_OK && db_int(res, 0, 0) == 0)
        outcome = STORE_NOT_FOUND;
    PQclear(res);
    return outcome;
}

enum store_outcome db_queues_peek(struct db_pool *pool, const char *queue, const char *state, const char *after,
                                  int64_t limit, cJSON **messages, char next_after[DB_CURSOR_LEN])
{
    PGresult *res;
    char lim[24];
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    const char *params[] = {queue, after, state, lim};
    *messages = NULL;
    next_after[0] = '\0';
    enum store_outcome outcome = db_run(pool, STMT_QUEUES_PEEK, 4, params, "peek queue", &res);
    if (outcome != STORE_OK)
        goto out;
    if (!db_bool(res, 0, 0)) {
        outcome = STORE_NOT_FOUND;
        goto out;
    }
    int found = PQgetisnull(res, 0, 1) ? 0 : PQntuples(res);
    int rows = found > limit ? (int)limit : found;
    if (!(*messages = db_raw_array(res, 1, rows)))
        outcome = STORE_ERROR;
    else if (found > limit)
        snprintf(next_after, DB_CURSOR_LEN, "%s", PQgetvalue(res, rows - 1, 2));
out:
    PQclear(res);
    return outcome;
}
