/* Store calls for stream metadata and lifecycle; see streams.h. */
#include "db/streams.h"

#include "db/rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum store_outcome db_streams_meta(struct db_pool *pool, const char *stream, cJSON **meta, int64_t *version)
{
    PGresult *res;
    const char *params[] = {stream};
    *meta = NULL;
    enum store_outcome outcome = db_run(pool, STMT_STREAMS_META, 1, params, "stream metadata", &res);
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    if (outcome == STORE_OK) {
        *version = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        if (!(*meta = cJSON_CreateRaw(PQgetvalue(res, 0, 0))))
            outcome = STORE_ERROR;
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_streams_list(struct db_pool *pool, const char *prefix, const char *after, int64_t limit,
                                   cJSON **streams, char *next_after)
{
    PGresult *res;
    char lim[24];
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    const char *params[] = {prefix, after, lim};
    *streams = NULL;
    next_after[0] = '\0';
    enum store_outcome outcome = db_run(pool, STMT_STREAMS_LIST, 3, params, "list streams", &res);
    if (outcome == STORE_OK) {
        /* One row past the page tells whether there is a next one. */
        int rows = PQntuples(res) > limit ? (int)limit : PQntuples(res);
        bool more = PQntuples(res) > limit;
        *streams = db_raw_array(res, 0, rows);
        if (!*streams)
            outcome = STORE_ERROR;
        else if (more)
            snprintf(next_after, NAME_MAX_LEN + 1, "%s", PQgetvalue(res, rows - 1, 1));
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_streams_set_retention(struct db_pool *pool, const char *stream, const struct retention_input *in,
                                            cJSON **meta)
{
    PGresult *res;
    char age[24], count[24];
    snprintf(age, sizeof age, "%lld", (long long)in->max_age_seconds);
    snprintf(count, sizeof count, "%lld", (long long)in->max_count);
    const char *params[] = {stream, in->max_age_seconds > 0 ? age : NULL, in->max_count > 0 ? count : NULL,
                            in->has_max_age ? "t" : "f", in->has_max_count ? "t" : "f"};
    *meta = NULL;
    enum store_outcome outcome = db_run(pool, STMT_STREAMS_SET_RETENTION, 5, params, "set retention", &res);
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    PQclear(res);
    if (outcome != STORE_OK)
        return outcome;
    int64_t version;
    return db_streams_meta(pool, stream, meta, &version);
}

enum store_outcome db_streams_set_state(struct db_pool *pool, const char *stream, const char *state, cJSON **meta)
{
    PGresult *res;
    const char *params[] = {stream, state};
    *meta = NULL;
    enum store_outcome outcome = db_run(pool, STMT_STREAMS_SET_STATE, 2, params, "set stream state", &res);
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    PQclear(res);
    if (outcome != STORE_OK)
        return outcome;
    int64_t version;
    return db_streams_meta(pool, stream, meta, &version);
}

enum store_outcome db_streams_delete(struct db_pool *pool, const char *stream)
{
    PGresult *res;
    const char *params[] = {stream};
    enum store_outcome outcome = db_run(pool, STMT_STREAMS_DELETE, 1, params, "delete stream", &res);
    if (outcome == STORE_OK && strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        outcome = STORE_NOT_FOUND;
    PQclear(res);
    return outcome;
}
