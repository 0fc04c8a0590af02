/* Store calls for stream metadata and lifecycle; see streams.h. */
#include "db/streams.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "db/rows.h"
#include "db/standby.h"

/* Columns as STREAM_COLUMNS in statements.c lists them. */
enum {
    SM_STREAM,
    SM_VERSION,
    SM_LENGTH,
    SM_FIRST_OFFSET,
    SM_LAST_OFFSET,
    SM_CREATED_US,
    SM_LAST_EVENT_US,
    SM_STATE,
    SM_MAX_AGE,
    SM_MAX_COUNT,
    SM_HAS_POLICY,
    SM_TRIMMED_THROUGH,
    SM_TRIMMED_AT_US,
};

static void row_to_meta(const PGresult *res, int row, struct stream_meta *m)
{
    db_copy(res, row, SM_STREAM, m->stream, sizeof m->stream);
    m->version = db_int(res, row, SM_VERSION);
    m->length = db_int(res, row, SM_LENGTH);
    m->first_offset = db_nullable_int(res, row, SM_FIRST_OFFSET);
    m->last_offset = db_nullable_int(res, row, SM_LAST_OFFSET);
    m->created_us = db_int(res, row, SM_CREATED_US);
    m->last_event_us = db_nullable_int(res, row, SM_LAST_EVENT_US);
    db_copy(res, row, SM_STATE, m->state, sizeof m->state);
    m->max_age_seconds = db_nullable_int(res, row, SM_MAX_AGE);
    m->max_count = db_nullable_int(res, row, SM_MAX_COUNT);
    m->has_policy = db_bool(res, row, SM_HAS_POLICY);
    m->trimmed_through = db_nullable_int(res, row, SM_TRIMMED_THROUGH);
    m->trimmed_at_us = db_nullable_int(res, row, SM_TRIMMED_AT_US);
}

enum store_outcome db_streams_meta(struct db_pool *pool, const char *stream, struct stream_meta *meta)
{
    PGresult *res;
    const char *params[] = {stream};
    memset(meta, 0, sizeof *meta);
    enum store_outcome outcome = db_run_read(pool, DB_RECENT_ANY, STMT_STREAMS_META, 1, params, "stream metadata",
                                             db_final_has_rows, NULL, &res);
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    if (outcome == STORE_OK)
        row_to_meta(res, 0, meta);
    PQclear(res);
    return outcome;
}

enum store_outcome db_streams_list(struct db_pool *pool, const char *prefix, const char *after, int64_t limit,
                                   struct stream_list *out)
{
    PGresult *res;
    char lim[24];
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    const char *params[] = {prefix, after, lim};
    memset(out, 0, sizeof *out);
    enum store_outcome outcome =
        db_run_read(pool, DB_RECENT_ANY, STMT_STREAMS_LIST, 3, params, "list streams", NULL, NULL, &res);
    if (outcome == STORE_OK) {
        /* One row past the page tells whether there is a next one. */
        int rows = PQntuples(res) > limit ? (int)limit : PQntuples(res);
        out->items = xcalloc((size_t)rows + 1, sizeof *out->items);
        out->count = rows;
        for (int i = 0; i < rows; i++)
            row_to_meta(res, i, &out->items[i]);
        if (PQntuples(res) > limit)
            snprintf(out->next_after, sizeof out->next_after, "%s", out->items[rows - 1].stream);
    }
    PQclear(res);
    return outcome;
}

void db_streams_list_free(struct stream_list *list)
{
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

enum store_outcome db_streams_set_retention(struct db_pool *pool, const char *stream, const struct retention_input *in,
                                            struct stream_meta *meta)
{
    PGresult *res;
    char age[24], count[24];
    snprintf(age, sizeof age, "%lld", (long long)in->max_age_seconds);
    snprintf(count, sizeof count, "%lld", (long long)in->max_count);
    const char *params[] = {stream, in->max_age_seconds > 0 ? age : NULL, in->max_count > 0 ? count : NULL,
                            in->has_max_age ? "t" : "f", in->has_max_count ? "t" : "f"};
    memset(meta, 0, sizeof *meta);
    enum store_outcome outcome = db_run(pool, STMT_STREAMS_SET_RETENTION, 5, params, "set retention", &res);
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    PQclear(res);
    if (outcome != STORE_OK)
        return outcome;
    return db_streams_meta(pool, stream, meta);
}

enum store_outcome db_streams_set_state(struct db_pool *pool, const char *stream, const char *state,
                                        struct stream_meta *meta)
{
    PGresult *res;
    const char *params[] = {stream, state};
    memset(meta, 0, sizeof *meta);
    enum store_outcome outcome = db_run(pool, STMT_STREAMS_SET_STATE, 2, params, "set stream state", &res);
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    PQclear(res);
    if (outcome != STORE_OK)
        return outcome;
    return db_streams_meta(pool, stream, meta);
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
