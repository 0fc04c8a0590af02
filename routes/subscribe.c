/* Server-Sent Events: GET /streams/{stream}/subscribe. The handler reads the
 * first page (so a missing stream is a plain 404), then answers 200 with a
 * body produced by sse_read as the client takes it: the buffered frames, then
 * the next page, and when there is none the request parks (no thread, no
 * database connection) until an append to the stream, the heartbeat time, or
 * shutdown, which ends the body cleanly. Memory is one page per subscriber: a
 * page is only read when the client has taken the last one, and a client that
 * stops reading is cut off by the connection timeout. */
#include <stdlib.h>
#include <string.h>

#include "db/events.h"
#include "routes/routes.h"
#include "src/core/text.h"
#include "src/http/input.h"
#include "src/http/problem.h"

#define SSE_PAGE 100

struct subscription {
    struct request *req; /* valid until the response is freed (libmicrohttpd ends the request first) */
    struct db_pool *pool;
    char stream[NAME_MAX_LEN + 1];
    int64_t next; /* the next offset to send */
    int64_t heartbeat_us;
    int64_t last_write_us;
    bool parked; /* the next read follows a park: a commit woke it, which the primary shows */
    struct text frames;
    size_t sent; /* bytes of `frames` already handed out */
};

/* `event:` is one line: a type holding a line break would end the field early. */
static void put_event_line(struct text *t, const char *type)
{
    text_cstr(t, "event: ");
    for (const char *p = type; *p; p++)
        text_put(t, *p == '\n' || *p == '\r' ? " " : p, 1);
    text_put(t, "\n", 1);
}

/* Appends one frame per event of the page and moves `next` past them. */
static void add_frames(struct subscription *s, const struct db_list *events)
{
    for (int i = 0; i < events->count; i++) {
        struct event ev;
        db_events_at(events, i, &ev);
        render_int(&s->frames, "id: ", ev.offset);
        text_put(&s->frames, "\n", 1);
        put_event_line(&s->frames, ev.type);
        text_cstr(&s->frames, "data: ");
        event_json(&s->frames, &ev);
        text_cstr(&s->frames, "\n\n");
        s->next = ev.offset + 1;
    }
}

/* Reads the page from `next`; false when the stream is gone or unreachable. */
static bool fetch(struct subscription *s)
{
    struct read_input in = {.stream = s->stream,
                            .from = s->next,
                            .limit = SSE_PAGE,
                            .recency = s->parked ? DB_RECENT_NOW : DB_RECENT_IF_EMPTY};
    struct read_page page;
    s->parked = false;
    if (db_events_read(s->pool, &in, &page) != STORE_OK)
        return false;
    add_frames(s, &page.events);
    db_rows_free(page.events.rows);
    return true;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct subscription *s = cls;
    if (s->sent == s->frames.len) {
        s->frames.len = s->sent = 0;
        if (http_wait_closing(s->req))
            return MHD_CONTENT_READER_END_OF_STREAM;
        http_wait_watch(s->req, WAIT_STREAM, s->stream);
        if (!fetch(s)) {
            http_wait_cancel(s->req);
            return MHD_CONTENT_READER_END_OF_STREAM; /* the client resumes with Last-Event-ID */
        }
        int64_t now = now_usec();
        if (s->frames.len == 0 && now >= s->last_write_us + s->heartbeat_us)
            text_cstr(&s->frames, ": heartbeat\n\n");
        if (s->frames.len == 0) {
            s->parked = true;
            http_wait_park(s->req, s->last_write_us + s->heartbeat_us);
            return 0;
        }
        http_wait_cancel(s->req);
        s->last_write_us = now;
    }
    size_t n = s->frames.len - s->sent < max ? s->frames.len - s->sent : max;
    memcpy(out, s->frames.data + s->sent, n);
    s->sent += n;
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    struct subscription *s = cls;
    text_free(&s->frames);
    free(s);
}

/* Last-Event-ID (the offset of the last frame the client saw) wins over `from`. */
static bool start_or_reply(struct request *req, int64_t *from)
{
    const char *last = http_header(req, "Last-Event-ID");
    int64_t id;
    if (!query_int_or_reply(req, "from", 0, INT64_MAX - 1, 0, from))
        return false;
    if (!last)
        return true;
    if (!parse_int64(last, 0, INT64_MAX - 1, &id)) {
        problem_reply(req, 400, "invalid_parameter", "Last-Event-ID must be the id (an offset) of an earlier event");
        return false;
    }
    *from = id + 1;
    return true;
}

void route_subscribe(struct request *req)
{
    const char *stream;
    int64_t from;
    if (!path_name_or_reply(req, "stream", &stream) || !start_or_reply(req, &from))
        return;
    struct subscription *s = xcalloc(1, sizeof *s);
    s->req = req;
    s->pool = req->svc->pool;
    snprintf(s->stream, sizeof s->stream, "%s", stream);
    s->next = from;
    s->heartbeat_us = req->svc->cfg->sse_heartbeat_seconds * 1000000;
    s->last_write_us = now_usec();
    struct read_input in = {.stream = stream, .from = from, .limit = SSE_PAGE, .recency = DB_RECENT_IF_EMPTY};
    struct read_page page;
    enum store_outcome outcome = db_events_read(s->pool, &in, &page);
    if (outcome != STORE_OK) {
        sse_free(s);
        if (outcome == STORE_NOT_FOUND)
            problem_reply(req, 404, "stream_not_found", "stream %s does not exist", stream);
        else
            route_reply_store_failure(req, outcome);
        return;
    }
    add_frames(s, &page.events);
    db_rows_free(page.events.rows);
    /* A first write at once tells the client (and any proxy) that the stream is open. */
    if (s->frames.len == 0)
        text_cstr(&s->frames, ": subscribed\n\n");
    http_set_header(req, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    http_set_header(req, "X-Accel-Buffering", "no");
    http_reply_stream(req, 200, "text/event-stream", sse_read, s, sse_free);
}
