/* Store calls for events; see events.h. */
#include "db/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/append_group.h"
#include "db/rows.h"
#include "src/core/log.h"
#include "src/core/text.h"

enum store_outcome db_events_outcome(const char *word)
{
    if (!strcmp(word, "created"))
        return STORE_CREATED;
    if (!strcmp(word, "idempotent"))
        return STORE_OK;
    if (!strcmp(word, "version_conflict"))
        return STORE_VERSION_CONFLICT;
    if (!strcmp(word, "duplicate"))
        return STORE_DUPLICATE;
    if (!strcmp(word, "archived"))
        return STORE_ARCHIVED;
    if (!strcmp(word, "invalid"))
        return STORE_INVALID;
    log_error("append: unknown outcome %s", word);
    return STORE_ERROR;
}

enum store_outcome db_events_append(struct db_pool *pool, const struct append_input *in, struct append_result *out,
                                    int max_writers)
{
    return db_append_group(pool, in, out, max_writers);
}

enum store_outcome db_events_append_one(struct db_pool *pool, const struct append_input *in, struct append_result *out)
{
    memset(out, 0, sizeof *out);
    PGresult *res;
    const char *params[] = {in->stream, in->expected, in->body, in->check_ids ? "t" : "f"};
    enum store_outcome outcome = db_run(pool, STMT_EVENTS_APPEND, 4, params, "append", &res);
    if (outcome != STORE_OK)
        goto out;
    int rows = PQntuples(res);
    if (rows == 0) {
        outcome = STORE_ERROR;
        goto out;
    }
    outcome = db_events_outcome(PQgetvalue(res, 0, 0));
    out->current_version = db_int(res, 0, 1);
    if (outcome != STORE_CREATED && outcome != STORE_OK)
        goto out;
    out->events = xcalloc((size_t)rows, sizeof *out->events);
    out->count = rows;
    for (int i = 0; i < rows; i++) {
        snprintf(out->events[i].id, sizeof out->events[i].id, "%s", PQgetvalue(res, i, 2));
        out->events[i].offset = db_int(res, i, 3);
        out->events[i].position = db_int(res, i, 4);
    }
out:
    PQclear(res);
    return outcome;
}

void db_events_append_result_free(struct append_result *r)
{
    free(r->events);
    r->events = NULL;
}

/* Event columns as EVENT_COLUMNS in statements.c lists them, from the first. */
enum { EV_ID, EV_STREAM, EV_OFFSET, EV_POSITION, EV_TYPE, EV_DATA, EV_METADATA, EV_CREATED_US };

/* Appends the API's JSON object for the event in `row`, whose columns start at
 * `col`. Rendered here rather than in SQL: it is the hot path of every read. */
static void render_event(struct text *t, const PGresult *res, int row, int col)
{
    text_cstr(t, "{\"id\":\"");
    text_cstr(t, PQgetvalue(res, row, col + EV_ID));
    text_cstr(t, "\",\"stream\":");
    text_json_string(t, PQgetvalue(res, row, col + EV_STREAM));
    text_cstr(t, ",\"offset\":");
    text_cstr(t, PQgetvalue(res, row, col + EV_OFFSET));
    text_cstr(t, ",\"global_position\":");
    text_cstr(t, PQgetvalue(res, row, col + EV_POSITION));
    text_cstr(t, ",\"type\":");
    text_json_string(t, PQgetvalue(res, row, col + EV_TYPE));
    text_cstr(t, ",\"data\":");
    text_put(t, PQgetvalue(res, row, col + EV_DATA), (size_t)PQgetlength(res, row, col + EV_DATA));
    text_cstr(t, ",\"metadata\":");
    if (PQgetisnull(res, row, col + EV_METADATA))
        text_cstr(t, "null");
    else
        text_put(t, PQgetvalue(res, row, col + EV_METADATA), (size_t)PQgetlength(res, row, col + EV_METADATA));
    text_cstr(t, ",\"created_at\":");
    text_json_time(t, db_int(res, row, col + EV_CREATED_US));
    text_put(t, "}", 1);
}

/* A new array of raw event objects for rows [0, count); NULL on allocation failure. */
static cJSON *event_array(const PGresult *res, int col, int count)
{
    struct text t = {0};
    cJSON *array = cJSON_CreateArray();
    for (int i = 0; array && i < count; i++) {
        t.len = 0;
        render_event(&t, res, i, col);
        cJSON *raw = cJSON_CreateRaw(t.data);
        if (!raw || !cJSON_AddItemToArray(array, raw)) {
            cJSON_Delete(raw);
            cJSON_Delete(array);
            array = NULL;
        }
    }
    free(t.data);
    return array;
}

/* Columns of the page queries: version, first_offset, then the event. */
#define READ_EVENT_COL 2

/* Runs the page query for `in`; the caller owns the result. */
static enum store_outcome read_rows(struct db_pool *pool, const struct read_input *in, PGresult **res,
                                    struct read_page *out)
{
    char from[24], limit[24];
    snprintf(from, sizeof from, "%lld", (long long)in->from);
    snprintf(limit, sizeof limit, "%lld", (long long)in->limit);
    const char *params[] = {in->stream, from, in->types, in->since, in->until, limit};
    memset(out, 0, sizeof *out);
    enum store_outcome outcome =
        db_run(pool, in->backward ? STMT_EVENTS_READ_BACKWARD : STMT_EVENTS_READ_FORWARD, 6, params, "read", res);
    if (outcome != STORE_OK)
        return outcome;
    int rows = PQntuples(*res);
    if (rows == 0)
        return STORE_NOT_FOUND;
    out->version = db_int(*res, 0, 0);
    out->first_offset = db_int(*res, 0, 1);
    out->count = PQgetisnull(*res, 0, READ_EVENT_COL) ? 0 : rows;
    if (out->count > 0)
        out->last_offset_read = db_int(*res, rows - 1, READ_EVENT_COL + EV_OFFSET);
    return STORE_OK;
}

enum store_outcome db_events_read(struct db_pool *pool, const struct read_input *in, struct read_page *out)
{
    PGresult *res;
    enum store_outcome outcome = read_rows(pool, in, &res, out);
    if (outcome == STORE_OK) {
        out->events = event_array(res, READ_EVENT_COL, out->count);
        if (!out->events)
            outcome = STORE_ERROR;
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_events_read_ndjson(struct db_pool *pool, const struct read_input *in, char **buf, size_t *len,
                                         size_t *cap, struct read_page *out)
{
    PGresult *res;
    enum store_outcome outcome = read_rows(pool, in, &res, out);
    struct text t = {*buf, *len, *cap};
    for (int i = 0; outcome == STORE_OK && i < out->count; i++) {
        render_event(&t, res, i, READ_EVENT_COL);
        text_put(&t, "\n", 1);
    }
    *buf = t.data;
    *len = t.len;
    *cap = t.cap;
    PQclear(res);
    return outcome;
}

enum store_outcome db_events_get(struct db_pool *pool, const char *stream, int64_t offset, cJSON **out,
                                 bool *stream_exists)
{
    char off[24];
    snprintf(off, sizeof off, "%lld", (long long)offset);
    const char *params[] = {stream, off};
    *out = NULL;
    *stream_exists = false;
    PGresult *res;
    enum store_outcome outcome = db_run(pool, STMT_EVENTS_GET, 2, params, "get event", &res);
    if (outcome == STORE_OK) {
        *stream_exists = !strcmp(PQgetvalue(res, 0, 0), "t");
        if (PQgetisnull(res, 0, 1)) {
            outcome = STORE_NOT_FOUND;
        } else {
            struct text t = {0};
            render_event(&t, res, 0, 1);
            if (!(*out = cJSON_CreateRaw(t.data)))
                outcome = STORE_ERROR;
            free(t.data);
        }
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_events_global_read(struct db_pool *pool, const struct global_read_input *in, cJSON **events,
                                         int64_t *next_position)
{
    char from[24], limit[24];
    snprintf(from, sizeof from, "%lld", (long long)in->from_position);
    snprintf(limit, sizeof limit, "%lld", (long long)in->limit);
    const char *params[] = {from, limit, in->types, in->stream_prefix};
    *events = NULL;
    *next_position = in->from_position;
    PGresult *res;
    enum store_outcome outcome = db_run(pool, STMT_EVENTS_GLOBAL_READ, 4, params, "global read", &res);
    if (outcome != STORE_OK)
        goto out;
    int rows = PQntuples(res);
    int count = rows > 0 && !PQgetisnull(res, 0, 1) ? rows : 0;
    *events = event_array(res, 1, count);
    if (!*events) {
        outcome = STORE_ERROR;
        goto out;
    }
    if (count == in->limit) {
        *next_position = db_int(res, count - 1, 1 + EV_POSITION);
    } else {
        /* The whole range below the watermark was scanned: continue from just
         * below it, which skips gaps and other streams' events for filtered readers. */
        int64_t below = db_int(res, 0, 0);
        if (below - 1 > *next_position)
            *next_position = below - 1;
    }
out:
    PQclear(res);
    return outcome;
}
