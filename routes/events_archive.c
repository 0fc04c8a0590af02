/* Reads with include_archive=true when --archive-dir is set: the JSON page and
 * the NDJSON export over the archived segments followed by the live rows
 * (db/archive_read.h). Without an archive directory routes/events.c reads the
 * live rows alone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/archive_read.h"
#include "routes/routes.h"
#include "src/core/log.h"
#include "src/core/text.h"
#include "src/http/input.h"
#include "src/http/problem.h"

bool route_include_archive_or_reply(struct request *req, bool *include)
{
    const char *value;
    *include = false;
    if (!query_string_or_reply(req, "include_archive", &value))
        return false;
    if (value && strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
        problem_reply(req, 400, "invalid_parameter", "include_archive must be true or false");
        return false;
    }
    *include = value && !strcmp(value, "true");
    return true;
}

static void reply_archive_failure(struct request *req, enum store_outcome outcome, const struct archive_page *page,
                                  const char *stream)
{
    if (outcome == STORE_DAMAGED) {
        /* The detail names the file within the archive, not where the archive is. */
        const char *root = req->svc->cfg->archive_dir, *at = strstr(page->problem, root);
        size_t skip = at ? strlen(root) : 0;
        log_error("request %s: archive of stream %s: %s", req->request_id, stream, page->problem);
        problem_reply(req, 500, "archive_damaged", "the archive of stream %s cannot be read: %.*s%s", stream,
                      at ? (int)(at - page->problem) : (int)strlen(page->problem), page->problem, at ? at + skip : "");
    } else
        route_reply_read_failure(req, outcome, stream);
}

/* Appends the live rows of the page as NDJSON lines. */
static void live_lines(struct text *t, const struct archive_page *page)
{
    for (int i = 0; i < page->live_count; i++) {
        struct event ev;
        db_events_at(&page->live.events, i, &ev);
        event_json(t, &ev);
        text_put(t, "\n", 1);
    }
}

/* Appends the page's events as NDJSON lines in read order: forward the
 * archived ones first, backward the live ones first. */
static void page_lines(struct text *t, const struct archive_page *page, bool backward)
{
    if (backward)
        live_lines(t, page);
    text_put(t, page->archived.data ? page->archived.data : "", page->archived.len);
    if (!backward)
        live_lines(t, page);
}

static void reply_page(struct request *req, const struct read_input *in, const struct archive_page *page)
{
    struct text t = {0};
    render_string(&t, "{\"stream\":", in->stream);
    text_cstr(&t, ",\"events\":[");
    size_t from = t.len;
    page_lines(&t, page, in->backward);
    /* A line holds no newline of its own (JSON escapes them), so the lines
     * become array items by turning each newline into a comma, the last one dropped. */
    for (size_t i = from; i < t.len; i++)
        if (t.data[i] == '\n')
            t.data[i] = ',';
    if (t.len > from)
        t.len--;
    render_int(&t, "],\"next_offset\":", page->next);
    render_bool(&t, ",\"end_of_stream\":", page->end);
    render_int(&t, ",\"first_offset\":", page->first_offset);
    render_bool(&t, ",\"trimmed\":", page->trimmed);
    text_cstr(&t, "}");
    http_reply_json_text(req, 200, &t);
}

void route_archive_read_page(struct request *req, const struct read_input *in, int64_t wait)
{
    struct archive_page page;
    bool waiting = !in->backward && route_wait_begin(req, wait, WAIT_STREAM, in->stream);
    enum store_outcome outcome = db_archive_read(req->svc->pool, req->svc->cfg->archive_dir, in, &page);
    if (outcome != STORE_OK)
        reply_archive_failure(req, outcome, &page, in->stream);
    else if (waiting && page.archived_count + page.live_count == 0)
        route_wait_park(req, 0);
    else
        reply_page(req, in, &page);
    db_archive_page_free(&page);
}

#define ARCHIVE_EXPORT_PAGE 10000

/* The NDJSON export over the archive: a page of read-batch-size events (at
 * least ARCHIVE_EXPORT_PAGE) at a time, read as libmicrohttpd asks for more
 * (a page reads at most ARCHIVE_PAGE_SEGMENTS segments of at most
 * SEGMENT_MAX_BYTES each). */
struct archive_export {
    struct db_pool *pool;
    const char *root;
    struct read_input_copy read; /* read.in is where the next page starts */
    struct text buf;             /* rendered, not yet handed over from `pos` */
    size_t pos;
    bool done, failed;
};

static void export_free(void *cls)
{
    struct archive_export *x = cls;
    read_input_copy_free(&x->read);
    text_free(&x->buf);
    free(x);
}

/* Reads and renders the next page into the emptied buffer. */
static enum store_outcome export_fetch(struct archive_export *x, struct archive_page *page)
{
    enum store_outcome outcome = db_archive_read(x->pool, x->root, &x->read.in, page);
    x->buf.len = x->pos = 0;
    if (outcome != STORE_OK)
        return outcome;
    page_lines(&x->buf, page, x->read.in.backward);
    x->read.in.from = page->next;
    x->done = page->end || (x->read.in.backward && page->next < 0);
    return STORE_OK;
}

static ssize_t export_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    struct archive_export *x = cls;
    while (x->pos == x->buf.len) {
        if (x->failed)
            return MHD_CONTENT_READER_END_WITH_ERROR; /* the client sees a cut body */
        if (x->done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        struct archive_page page;
        x->failed = export_fetch(x, &page) != STORE_OK;
        db_archive_page_free(&page);
    }
    size_t n = x->buf.len - x->pos < max ? x->buf.len - x->pos : max;
    memcpy(out, x->buf.data + x->pos, n);
    x->pos += n;
    return (ssize_t)n;
}

void route_archive_export(struct request *req, const struct read_input *in)
{
    struct archive_export *x = xcalloc(1, sizeof *x);
    x->pool = req->svc->pool;
    x->root = req->svc->cfg->archive_dir;
    read_input_copy(&x->read, in);
    /* Pages as large as the largest segment (the worker's batch), so that a
     * page decompresses each segment it needs once, not once per small page. */
    x->read.in.limit =
        req->svc->cfg->read_batch_size > ARCHIVE_EXPORT_PAGE ? req->svc->cfg->read_batch_size : ARCHIVE_EXPORT_PAGE;
    /* The first page is read now so that a missing stream or a damaged
     * archive is a problem answer, not a cut body. */
    struct archive_page page;
    enum store_outcome outcome = export_fetch(x, &page);
    if (outcome != STORE_OK) {
        reply_archive_failure(req, outcome, &page, in->stream);
        db_archive_page_free(&page);
        export_free(x);
        return;
    }
    db_archive_page_free(&page);
    http_reply_stream(req, 200, "application/x-ndjson", export_read, x, export_free);
}
