/* Store calls for events; see events.h. */
#include "db/events.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "db/rows.h"
#include "db/standby.h"
#include "src/core/log.h"

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

void db_events_append_result_free(struct append_result *r)
{
    free(r->events);
    r->events = NULL;
}

/* Event columns as EVENT_COLUMNS in statements.c lists them, from the first. */
enum { EV_ID, EV_STREAM, EV_OFFSET, EV_POSITION, EV_TYPE, EV_DATA, EV_METADATA, EV_CREATED_US };

void db_events_at(const struct db_list *events, int i, struct event *out)
{
    const PGresult *res = events->rows->res;
    int col = events->rows->col;
    out->id = PQgetvalue(res, i, col + EV_ID);
    out->stream = PQgetvalue(res, i, col + EV_STREAM);
    out->offset = db_int(res, i, col + EV_OFFSET);
    out->global_position = db_int(res, i, col + EV_POSITION);
    out->type = PQgetvalue(res, i, col + EV_TYPE);
    out->data = db_json_at(res, i, col + EV_DATA);
    out->metadata = db_json_at(res, i, col + EV_METADATA);
    out->created_us = db_int(res, i, col + EV_CREATED_US);
}

/* Columns of the page queries: version, first_offset, then the event. */
#define READ_EVENT_COL 2

/* A standby's page is kept when the stream exists there and, for a reader
 * that parks on an empty page, it holds an event. */
static bool page_final(const PGresult *res, const void *cls)
{
    const enum db_recency *recency = cls;
    return PQntuples(res) > 0 && (*recency != DB_RECENT_IF_EMPTY || !PQgetisnull(res, 0, READ_EVENT_COL));
}

/* The same for the global read: its first row is the watermark, then an event or NULLs. */
static bool global_page_final(const PGresult *res, const void *cls)
{
    const enum db_recency *recency = cls;
    return *recency != DB_RECENT_IF_EMPTY || (PQntuples(res) > 0 && !PQgetisnull(res, 0, 1));
}

/* The stream exists and has the event. */
static bool event_found(const PGresult *res, const void *cls)
{
    (void)cls;
    return PQntuples(res) > 0 && db_bool(res, 0, 0) && !PQgetisnull(res, 0, 1);
}

enum store_outcome db_events_read(struct db_pool *pool, const struct read_input *in, struct read_page *out)
{
    char from[24], limit[24];
    snprintf(from, sizeof from, "%lld", (long long)in->from);
    snprintf(limit, sizeof limit, "%lld", (long long)in->limit);
    const char *params[] = {in->stream, from, in->types, in->since, in->until, limit};
    const char *group_params[] = {in->stream, in->group, in->types, limit};
    memset(out, 0, sizeof *out);
    PGresult *res;
    /* A group's read has the offset it reads from and the committed one as leading columns too. */
    int col = in->group ? READ_EVENT_COL + 2 : READ_EVENT_COL;
    enum store_outcome outcome =
        in->group ? db_run(pool, STMT_CONSUMERS_READ, 4, group_params, "read from group", &res)
                  : db_run_read(pool, in->recency, in->backward ? STMT_EVENTS_READ_BACKWARD : STMT_EVENTS_READ_FORWARD,
                                6, params, "read", page_final, &in->recency, &res);
    if (outcome != STORE_OK)
        goto out;
    int rows = PQntuples(res);
    if (rows == 0) {
        outcome = STORE_NOT_FOUND;
        goto out;
    }
    out->version = db_int(res, 0, 0);
    out->first_offset = db_int(res, 0, 1);
    out->from = in->group ? db_int(res, 0, 2) : in->from;
    out->asked = in->group ? db_int(res, 0, 3) : in->from;
    /* A stream with nothing in the page is one row, its event columns NULL. */
    out->events.count = PQgetisnull(res, 0, col) ? 0 : rows;
    if (out->events.count > 0)
        out->last_offset_read = db_int(res, rows - 1, col + EV_OFFSET);
    out->events.rows = db_rows_take(&res, col);
out:
    PQclear(res);
    return outcome;
}

enum store_outcome db_events_get(struct db_pool *pool, const char *stream, int64_t offset, struct db_list *event,
                                 bool *stream_exists)
{
    char off[24];
    snprintf(off, sizeof off, "%lld", (long long)offset);
    const char *params[] = {stream, off};
    memset(event, 0, sizeof *event);
    *stream_exists = false;
    PGresult *res;
    enum store_outcome outcome =
        db_run_read(pool, DB_RECENT_ANY, STMT_EVENTS_GET, 2, params, "get event", event_found, NULL, &res);
    if (outcome == STORE_OK) {
        *stream_exists = db_bool(res, 0, 0);
        if (PQgetisnull(res, 0, 1)) {
            outcome = STORE_NOT_FOUND;
        } else {
            event->count = 1;
            event->rows = db_rows_take(&res, 1);
        }
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_events_global_read(struct db_pool *pool, const struct global_read_input *in,
                                         struct db_list *events, int64_t *next_position)
{
    char from[24], limit[24];
    snprintf(from, sizeof from, "%lld", (long long)in->from_position);
    snprintf(limit, sizeof limit, "%lld", (long long)in->limit);
    const char *params[] = {from, limit, in->types, in->stream_prefix};
    memset(events, 0, sizeof *events);
    *next_position = in->from_position;
    PGresult *res;
    enum store_outcome outcome = db_run_read(pool, in->recency, STMT_EVENTS_GLOBAL_READ, 4, params, "global read",
                                             global_page_final, &in->recency, &res);
    if (outcome != STORE_OK)
        goto out;
    int rows = PQntuples(res);
    int count = rows > 0 && !PQgetisnull(res, 0, 1) ? rows : 0;
    if (count == in->limit) {
        *next_position = db_int(res, count - 1, 1 + EV_POSITION);
    } else {
        /* The whole range below the watermark was scanned: continue from just
         * below it, which skips gaps and other streams' events for filtered readers. */
        int64_t below = db_int(res, 0, 0);
        if (below - 1 > *next_position)
            *next_position = below - 1;
    }
    events->count = count;
    events->rows = db_rows_take(&res, 1);
out:
    PQclear(res);
    return outcome;
}

/* Columns of the export statements, all in binary format. */
enum { EX_ID, EX_OFFSET, EX_POSITION, EX_TYPE, EX_DATA, EX_METADATA, EX_CREATED };

/* PostgreSQL's binary int8 and timestamptz: 8 bytes, big-endian. */
static int64_t binary_int64(const PGresult *res, int row, int col)
{
    assert(PQgetlength(res, row, col) == 8);
    const unsigned char *p = (const unsigned char *)PQgetvalue(res, row, col);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

/* A binary jsonb is a format version byte (1) before the text jsonb_out prints. */
static struct db_json binary_jsonb(const PGresult *res, int row, int col)
{
    struct db_json v = {NULL, 0};
    if (PQgetisnull(res, row, col))
        return v;
    assert(PQgetlength(res, row, col) >= 1 && PQgetvalue(res, row, col)[0] == 1);
    v.text = PQgetvalue(res, row, col) + 1;
    v.len = (size_t)PQgetlength(res, row, col) - 1;
    return v;
}

/* Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
#define PG_EPOCH_UNIX_US INT64_C(946684800000000)

void db_events_export_at(const struct db_list *events, int i, struct event *out, char id[UUID_STR_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    const PGresult *res = events->rows->res;
    assert(PQgetlength(res, i, EX_ID) == 16);
    const unsigned char *uuid = (const unsigned char *)PQgetvalue(res, i, EX_ID);
    char *p = id;
    for (int b = 0; b < 16; b++) {
        if (b == 4 || b == 6 || b == 8 || b == 10)
            *p++ = '-';
        *p++ = hex[uuid[b] >> 4];
        *p++ = hex[uuid[b] & 15];
    }
    *p = '\0';
    out->id = id;
    out->stream = NULL;
    out->offset = binary_int64(res, i, EX_OFFSET);
    out->global_position = binary_int64(res, i, EX_POSITION);
    out->type = PQgetvalue(res, i, EX_TYPE); /* libpq ends every value with a NUL */
    out->data = binary_jsonb(res, i, EX_DATA);
    out->metadata = binary_jsonb(res, i, EX_METADATA);
    out->created_us = binary_int64(res, i, EX_CREATED) + PG_EPOCH_UNIX_US;
}

/* One export page on `rd`'s connection (see db_events_export_page). `meanwhile`
 * NULL once it has run. */
static enum store_outcome export_page(struct db_read *rd, const struct read_input *in, const char *const *params,
                                      struct db_list *out, int64_t *last_offset, void (*meanwhile)(void *), void *cls)
{
    enum stmt_id page = in->backward ? STMT_EVENTS_EXPORT_BACKWARD : STMT_EVENTS_EXPORT_FORWARD;
    PGresult *res = db_exec_meanwhile(rd->conn, page, 6, params, meanwhile, cls);
    enum store_outcome outcome = db_outcome(rd->conn, res, "export");
    if (outcome != STORE_OK)
        goto out;
    int rows = PQntuples(res);
    if (rows > 0) {
        assert(PQnfields(res) == EX_CREATED + 1 && PQfformat(res, EX_ID) == 1);
        *last_offset = binary_int64(res, rows - 1, EX_OFFSET);
        out->count = rows;
        out->rows = db_rows_take(&res, 0);
        goto out;
    }
    /* No event: the end of the stream, or no stream at all. */
    PQclear(res);
    res = db_exec(rd->conn, STMT_EVENTS_STREAM_EXISTS, 1, params);
    outcome = db_outcome(rd->conn, res, "export");
    if (outcome == STORE_OK && !db_bool(res, 0, 0))
        outcome = STORE_NOT_FOUND;
out:
    PQclear(res);
    return outcome;
}

enum store_outcome db_events_export_page(struct db_pool *pool, const struct read_input *in, struct db_list *out,
                                         int64_t *last_offset, void (*meanwhile)(void *), void *cls)
{
    char from[24], limit[24];
    snprintf(from, sizeof from, "%lld", (long long)in->from);
    snprintf(limit, sizeof limit, "%lld", (long long)in->limit);
    const char *params[] = {in->stream, from, in->types, in->since, in->until, limit};
    memset(out, 0, sizeof *out);
    struct db_read rd;
    if (!db_read_acquire(pool, DB_RECENT_ANY, &rd)) {
        if (meanwhile)
            meanwhile(cls);
        return STORE_UNAVAILABLE;
    }
    enum store_outcome outcome = export_page(&rd, in, params, out, last_offset, meanwhile, cls);
    /* A standby that failed, or has no such stream (yet): the primary reads
     * the page again; the page rendered meanwhile is done by now. */
    if ((outcome == STORE_UNAVAILABLE || outcome == STORE_NOT_FOUND) && db_read_on_standby(&rd))
        outcome = db_read_move_to_primary(&rd) ? export_page(&rd, in, params, out, last_offset, NULL, NULL)
                                               : STORE_UNAVAILABLE;
    db_read_release(&rd);
    return outcome;
}
