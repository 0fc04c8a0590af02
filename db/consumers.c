/* Consumer group checkpoints; see consumers.h. */
#include "db/consumers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "db/rows.h"
#include "db/standby.h"
#include "db/tx.h"
#include "src/core/util.h"

/* Events from `offset` to the end that are still retained: those retention
 * removed (below first_offset) are not there to be read. */
static int64_t lag_of(int64_t version, int64_t offset, int64_t first_offset)
{
    int64_t from = offset > first_offset ? offset : first_offset;
    return version + 1 > from ? version + 1 - from : 0;
}

static enum store_outcome commit(struct db_pool *pool, struct db_tx *tx, const char *stream, const char *group,
                                 int64_t offset, bool force, enum consumer_commit_outcome *result, struct consumer *out,
                                 int64_t *version)
{
    PGresult *res;
    char off[24];
    snprintf(off, sizeof off, "%lld", (long long)offset);
    const char *params[] = {stream, group, off, force ? "t" : "f"};
    memset(out, 0, sizeof *out);
    snprintf(out->group, sizeof out->group, "%s", group);
    *version = -1;
    enum store_outcome outcome =
        db_tx_or_run(pool, tx, STMT_CONSUMERS_COMMIT, 4, params, "commit consumer offset", &res);
    if (outcome != STORE_OK)
        goto out;
    if (PQgetisnull(res, 0, 0)) {
        *result = CONSUMER_NO_STREAM;
        goto out;
    }
    *version = db_int(res, 0, 0);
    if (!PQgetisnull(res, 0, 2)) {
        *result = CONSUMER_COMMITTED;
        out->offset = db_int(res, 0, 2);
        out->updated_us = db_int(res, 0, 3);
    } else if (offset > *version + 1) {
        *result = CONSUMER_PAST_END;
    } else {
        *result = CONSUMER_REGRESSION;
        out->offset = db_int(res, 0, 1);
    }
    out->lag = lag_of(*version, out->offset, db_int(res, 0, 4));
out:
    PQclear(res);
    return outcome;
}

enum store_outcome db_consumers_commit(struct db_pool *pool, const char *stream, const char *group, int64_t offset,
                                       bool force, enum consumer_commit_outcome *result, struct consumer *out,
                                       int64_t *version)
{
    return commit(pool, NULL, stream, group, offset, force, result, out, version);
}

enum store_outcome db_consumers_commit_in(struct db_tx *tx, const char *stream, const char *group, int64_t offset,
                                          bool force, enum consumer_commit_outcome *result, struct consumer *out,
                                          int64_t *version)
{
    return commit(NULL, tx, stream, group, offset, force, result, out, version);
}

/* The stream and the group exist. */
static bool group_found(const PGresult *res, const void *cls)
{
    (void)cls;
    return PQntuples(res) == 1 && !PQgetisnull(res, 0, 1);
}

enum store_outcome db_consumers_get(struct db_pool *pool, const char *stream, const char *group, struct consumer *out,
                                    bool *stream_exists)
{
    PGresult *res;
    const char *params[] = {stream, group};
    memset(out, 0, sizeof *out);
    snprintf(out->group, sizeof out->group, "%s", group);
    *stream_exists = false;
    enum store_outcome outcome =
        db_run_read(pool, DB_RECENT_ANY, STMT_CONSUMERS_GET, 2, params, "get consumer", group_found, NULL, &res);
    if (outcome == STORE_OK) {
        *stream_exists = PQntuples(res) == 1;
        if (!*stream_exists || PQgetisnull(res, 0, 1)) {
            outcome = STORE_NOT_FOUND;
        } else {
            out->offset = db_int(res, 0, 1);
            out->updated_us = db_int(res, 0, 2);
            out->lag = lag_of(db_int(res, 0, 0), out->offset, db_int(res, 0, 3));
        }
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_consumers_list(struct db_pool *pool, const char *stream, struct consumer **groups, int *n)
{
    PGresult *res;
    const char *params[] = {stream};
    *groups = NULL;
    *n = 0;
    enum store_outcome outcome = db_run_read(pool, DB_RECENT_ANY, STMT_CONSUMERS_LIST, 1, params, "list consumers",
                                             db_final_has_rows, NULL, &res);
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    if (outcome == STORE_OK) {
        int rows = PQntuples(res);
        *groups = xcalloc((size_t)rows, sizeof **groups);
        for (int i = 0; i < rows; i++) {
            if (PQgetisnull(res, i, 1))
                continue; /* the stream has no groups */
            struct consumer *c = &(*groups)[(*n)++];
            snprintf(c->group, sizeof c->group, "%s", PQgetvalue(res, i, 1));
            c->offset = db_int(res, i, 2);
            c->updated_us = db_int(res, i, 3);
            c->lag = lag_of(db_int(res, i, 0), c->offset, db_int(res, i, 4));
        }
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_consumers_delete(struct db_pool *pool, const char *stream, const char *group, bool *stream_exists)
{
    PGresult *res;
    const char *params[] = {stream, group};
    *stream_exists = false;
    enum store_outcome outcome = db_run(pool, STMT_CONSUMERS_DELETE, 2, params, "delete consumer", &res);
    if (outcome == STORE_OK) {
        *stream_exists = db_bool(res, 0, 0);
        if (db_int(res, 0, 1) == 0)
            outcome = STORE_NOT_FOUND;
    }
    PQclear(res);
    return outcome;
}
