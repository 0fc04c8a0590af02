/* Event reads: per-stream reads (JSON pages and NDJSON export), a consumer
 * group's read, one event by offset, and the global read. Appends are in
 * routes/append.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/events.h"
#include "routes/routes.h"
#include "src/core/json.h"
#include "src/core/text.h"
#include "src/http/input.h"
#include "src/http/problem.h"

#define PAGE_LIMIT_DEFAULT 100
#define PAGE_LIMIT_MAX 1000
#define POSITION_MAX 9007199254740991LL /* 2^53 - 1 */

void event_json(struct text *t, const struct event *ev)
{
    render_string(t, "{\"id\":", ev->id);
    render_string(t, ",\"stream\":", ev->stream);
    render_int(t, ",\"offset\":", ev->offset);
    render_int(t, ",\"global_position\":", ev->global_position);
    render_string(t, ",\"type\":", ev->type);
    render_json(t, ",\"data\":", ev->data);
    render_json(t, ",\"metadata\":", ev->metadata);
    render_time(t, ",\"created_at\":", ev->created_us);
    text_cstr(t, "}");
}

/* Appends the events of `events`: comma-separated as a JSON array's items, or
 * for NDJSON each on a line of its own. */
static void events_json(struct text *t, const struct db_list *events, bool ndjson)
{
    for (int i = 0; i < events->count; i++) {
        struct event ev;
        db_events_at(events, i, &ev);
        if (i > 0 && !ndjson)
            text_put(t, ",", 1);
        event_json(t, &ev);
        if (ndjson)
            text_put(t, "\n", 1);
    }
}

/* The `type` filter of a stream's reads: absent, or a comma-separated list of types. */
static bool types_query_or_reply(struct request *req, const char **types)
{
    if (!query_string_or_reply(req, "type", types))
        return false;
    if (*types && (!**types || strlen(*types) > 20 * BATCH_TYPE_MAX_LEN)) {
        problem_reply(req, 400, "invalid_parameter", "type must be a comma-separated list of event types");
        return false;
    }
    return true;
}

/* Query parameters shared by the JSON and NDJSON reads; false after replying
 * 400. `*archive`: include_archive=true and an archive directory is set. */
static bool read_input_or_reply(struct request *req, struct read_input *in, bool *archive)
{
    const char *direction;
    int64_t from;
    memset(in, 0, sizeof *in);
    if (!path_name_or_reply(req, "stream", &in->stream) || !route_include_archive_or_reply(req, archive) ||
        !query_string_or_reply(req, "direction", &direction) ||
        !query_int_or_reply(req, "limit", 1, PAGE_LIMIT_MAX, PAGE_LIMIT_DEFAULT, &in->limit) ||
        !query_int_or_reply(req, "from", 0, INT64_MAX, -1, &from) || !types_query_or_reply(req, &in->types) ||
        !query_string_or_reply(req, "since", &in->since) || !query_string_or_reply(req, "until", &in->until))
        return false;
    if (direction && strcmp(direction, "forward") != 0 && strcmp(direction, "backward") != 0) {
        problem_reply(req, 400, "invalid_parameter", "direction must be forward or backward");
        return false;
    }
    in->backward = direction && !strcmp(direction, "backward");
    in->from = from >= 0 ? from : in->backward ? INT64_MAX : 0;
    if ((in->since && !rfc3339_is_valid(in->since)) || (in->until && !rfc3339_is_valid(in->until))) {
        problem_reply(req, 400, "invalid_parameter", "since and until must be RFC 3339 date-times");
        return false;
    }
    *archive = *archive && *req->svc->cfg->archive_dir;
    return true;
}

/* Where a reader goes on after `page`, and whether it reached the end. */
static void page_position(const struct read_input *in, const struct read_page *page, int64_t *next, bool *end)
{
    bool full = page->events.count == in->limit;
    if (!in->backward) {
        *next = full ? page->last_offset_read + 1 : (in->from > page->version + 1 ? in->from : page->version + 1);
        *end = !full || page->last_offset_read >= page->version;
    } else {
        *next = full ? page->last_offset_read - 1 : page->first_offset - 1;
        *end = !full || page->last_offset_read <= page->first_offset;
    }
}

void route_reply_read_failure(struct request *req, enum store_outcome outcome, const char *stream)
{
    switch (outcome) {
    case STORE_NOT_FOUND:
        problem_reply(req, 404, "stream_not_found", "stream %s does not exist", stream);
        break;
    case STORE_INVALID:
        problem_reply(req, 400, "invalid_parameter", "a query parameter was refused by PostgreSQL (%s)",
                      "check since and until");
        break;
    default:
        route_reply_store_failure(req, outcome);
        break;
    }
}

/* NDJSON export: pages of read-batch-size rows fetched as libmicrohttpd asks
 * for more, so memory stays about two pages however long the stream. A page is
 * rendered while PostgreSQL reads the next one; the last page is rendered a
 * block at a time. */
void read_input_copy(struct read_input_copy *c, const struct read_input *in)
{
    c->in = *in;
    c->in.stream = c->stream = xstrdup(in->stream);
    c->in.types = c->types = in->types ? xstrdup(in->types) : NULL;
    c->in.since = c->since = in->since ? xstrdup(in->since) : NULL;
    c->in.until = c->until = in->until ? xstrdup(in->until) : NULL;
}

void read_input_copy_free(struct read_input_copy *c)
{
    free(c->stream);
    free(c->types);
    free(c->since);
    free(c->until);
}

struct ndjson_export {
    struct db_pool *pool;
    struct read_input_copy read; /* read.in is where the next page starts */
    struct db_list page;         /* owned */
    int next_row;                /* the page's first row not yet rendered */
    struct text buf;             /* rendered, not yet handed over from `pos` */
    size_t pos;
    bool last_page; /* the page held is the last one */
    bool failed;    /* the next page could not be read: the body ends cut after `buf` */
};

static void ndjson_free(void *cls)
{
    struct ndjson_export *x = cls;
    read_input_copy_free(&x->read);
    db_rows_free(x->page.rows);
    text_free(&x->buf);
    free(x);
}

/* Renders rows of the page held into the emptied buffer until it holds `want` bytes or the page ends. */
static void ndjson_render(struct ndjson_export *x, size_t want)
{
    x->buf.len = x->pos = 0;
    for (; x->next_row < x->page.count && x->buf.len < want; x->next_row++) {
        char id[UUID_STR_LEN + 1];
        struct event ev;
        db_events_export_at(&x->page, x->next_row, &ev, id);
        ev.stream = x->read.in.stream;
        event_json(&x->buf, &ev);
        text_put(&x->buf, "\n", 1);
    }
}

static void ndjson_render_rest(void *cls)
{
    ndjson_render(cls, SIZE_MAX);
}

/* Reads the page at x->read.in.from, rendering the rest of the page held meanwhile,
 * and moves the cursor past it. */
static enum store_outcome ndjson_fetch(struct ndjson_export *x)
{
    struct db_list next;
    int64_t last = 0;
    enum store_outcome outcome = db_events_export_page(x->pool, &x->read.in, &next, &last, ndjson_render_rest, x);
    db_rows_free(x->page.rows);
    x->page = next;
    x->next_row = 0;
    if (outcome != STORE_OK)
        return outcome;
    /* A short page was everything there was; a full one may be followed by more. */
    x->last_page = x->page.count < x->read.in.limit;
    x->read.in.from = x->read.in.backward ? last - 1 : last + 1;
    return STORE_OK;
}

static ssize_t ndjson_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct ndjson_export *x = cls;
    while (x->pos == x->buf.len) {
        if (x->failed)
            return MHD_CONTENT_READER_END_WITH_ERROR; /* the client sees a cut body */
        if (!x->last_page)
            x->failed = ndjson_fetch(x) != STORE_OK;
        else if (x->next_row < x->page.count)
            ndjson_render(x, max);
        else
            return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = x->buf.len - x->pos < max ? x->buf.len - x->pos : max;
    memcpy(out, x->buf.data + x->pos, n);
    x->pos += n;
    return (ssize_t)n;
}

static void reply_ndjson(struct request *req, const struct read_input *in)
{
    struct ndjson_export *x = xcalloc(1, sizeof *x);
    x->pool = req->svc->pool;
    read_input_copy(&x->read, in);
    x->read.in.limit = req->svc->cfg->read_batch_size;
    /* The first page is read now so that a missing stream is a 404, not a cut body. */
    enum store_outcome outcome = ndjson_fetch(x);
    if (outcome != STORE_OK) {
        route_reply_read_failure(req, outcome, in->stream);
        ndjson_free(x);
        return;
    }
    http_reply_stream(req, 200, "application/x-ndjson", ndjson_read, x, ndjson_free);
}

static bool wants_ndjson(struct request *req)
{
    const char *accept = http_header(req, "Accept");
    return accept && strstr(accept, "application/x-ndjson");
}

static void reply_page(struct request *req, const struct read_input *in, struct read_page *page)
{
    int64_t next;
    bool end;
    page_position(in, page, &next, &end);
    struct text t = {0};
    render_string(&t, "{\"stream\":", in->stream);
    text_cstr(&t, ",\"events\":[");
    events_json(&t, &page->events, false);
    render_int(&t, "],\"next_offset\":", next);
    render_bool(&t, ",\"end_of_stream\":", end);
    render_int(&t, ",\"first_offset\":", page->first_offset);
    /* Retention removed offsets this read asked for: forward, it started before
     * them (and so at first_offset); backward, it ran into them. */
    render_bool(&t, ",\"trimmed\":", in->backward ? end && page->first_offset > 0 : page->asked < page->first_offset);
    text_cstr(&t, "}");
    http_reply_json_text(req, 200, &t);
    db_rows_free(page->events.rows);
}

/* A page of the stream read, or of a consumer group's read (in->group set);
 * with `wait`, parks while the page is empty (route_wait_begin). */
static void read_page_or_wait(struct request *req, struct read_input *in, int64_t wait)
{
    struct read_page page;
    in->recency = route_wait_recency(req, in->backward ? 0 : wait);
    bool waiting = !in->backward && route_wait_begin(req, wait, WAIT_STREAM, in->stream);
    enum store_outcome outcome = db_events_read(req->svc->pool, in, &page);
    if (outcome != STORE_OK) {
        route_reply_read_failure(req, outcome, in->stream);
        return;
    }
    if (waiting && page.events.count == 0) {
        db_rows_free(page.events.rows);
        route_wait_park(req, 0);
        return;
    }
    in->from = page.from;
    reply_page(req, in, &page);
}

void route_events_read(struct request *req)
{
    struct read_input in;
    int64_t wait;
    bool archive;
    if (!read_input_or_reply(req, &in, &archive) || !route_wait_query_or_reply(req, &wait))
        return;
    if (wants_ndjson(req) && archive)
        route_archive_export(req, &in);
    else if (wants_ndjson(req))
        reply_ndjson(req, &in);
    else if (archive)
        route_archive_read_page(req, &in, wait);
    else
        read_page_or_wait(req, &in, wait);
}

/* The NDJSON form of the read under a path of its own, so that the read's
 * description (openapi.yaml) has one content type and generated clients get a
 * typed page there. */
void route_events_export(struct request *req)
{
    struct read_input in;
    bool archive;
    if (!read_input_or_reply(req, &in, &archive))
        return;
    if (archive)
        route_archive_export(req, &in);
    else
        reply_ndjson(req, &in);
}

void route_consumers_read(struct request *req)
{
    struct read_input in = {0};
    int64_t wait;
    if (!path_name_or_reply(req, "stream", &in.stream) || !path_name_or_reply(req, "group", &in.group) ||
        !query_int_or_reply(req, "limit", 1, PAGE_LIMIT_MAX, PAGE_LIMIT_DEFAULT, &in.limit) ||
        !types_query_or_reply(req, &in.types) || !route_wait_query_or_reply(req, &wait))
        return;
    read_page_or_wait(req, &in, wait);
}

void route_events_get(struct request *req)
{
    const char *stream, *offset_text = http_param(req, "offset");
    int64_t offset;
    struct db_list event;
    bool stream_exists;
    if (!path_name_or_reply(req, "stream", &stream))
        return;
    if (!offset_text || !parse_int64(offset_text, 0, INT64_MAX, &offset)) {
        problem_reply(req, 400, "invalid_parameter", "the offset must be a non-negative integer");
        return;
    }
    enum store_outcome outcome = db_events_get(req->svc->pool, stream, offset, &event, &stream_exists);
    switch (outcome) {
    case STORE_OK: {
        struct text t = {0};
        events_json(&t, &event, false);
        http_reply_json_text(req, 200, &t);
        db_rows_free(event.rows);
        break;
    }
    case STORE_NOT_FOUND:
        if (stream_exists)
            problem_reply(req, 404, "event_not_found", "stream %s has no event at offset %lld", stream,
                          (long long)offset);
        else
            problem_reply(req, 404, "stream_not_found", "stream %s does not exist", stream);
        break;
    default:
        route_reply_store_failure(req, outcome);
        break;
    }
}

#define GLOBAL_RECHECK_MS 1000

void route_events_global_read(struct request *req)
{
    struct global_read_input in;
    struct db_list events;
    int64_t next;
    int64_t wait;
    if (!query_int_or_reply(req, "from_position", 0, POSITION_MAX, 0, &in.from_position) ||
        !query_int_or_reply(req, "limit", 1, PAGE_LIMIT_MAX, PAGE_LIMIT_DEFAULT, &in.limit) ||
        !query_string_or_reply(req, "type", &in.types) ||
        !query_string_or_reply(req, "stream_prefix", &in.stream_prefix) || !route_wait_query_or_reply(req, &wait))
        return;
    if (in.types && !*in.types) {
        problem_reply(req, 400, "invalid_parameter", "type must be a comma-separated list of event types");
        return;
    }
    in.stream_prefix = route_visible_prefix(req, in.stream_prefix);
    in.recency = route_wait_recency(req, wait);
    bool waiting = route_wait_begin(req, wait, WAIT_STREAM_PREFIX, in.stream_prefix ? in.stream_prefix : "");
    enum store_outcome outcome = db_events_global_read(req->svc->pool, &in, &events, &next);
    if (outcome == STORE_OK && waiting && events.count == 0) {
        /* An event may have committed already and still be held back by an older
         * transaction that is running (the no-skip rule); that transaction's end
         * sends no notification, so look again each second. */
        db_rows_free(events.rows);
        route_wait_park(req, GLOBAL_RECHECK_MS);
        return;
    }
    switch (outcome) {
    case STORE_OK: {
        struct text t = {0};
        text_cstr(&t, "{\"events\":[");
        events_json(&t, &events, false);
        render_int(&t, "],\"next_position\":", next);
        text_cstr(&t, "}");
        http_reply_json_text(req, 200, &t);
        db_rows_free(events.rows);
        break;
    }
    default:
        route_reply_store_failure(req, outcome);
        break;
    }
}
