/* Reads that include the cold archive; see archive_read.h. */
#include "db/archive_read.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "db/rows.h"
#include "src/core/json.h"
#include "src/core/segment.h"

/* A read that finds the archive grew under it (the worker archived and
 * deleted events between its look at the manifest and at the rows) reads
 * again; this many times at most, then 503. */
#define ARCHIVE_READ_ATTEMPTS 3

struct stream_state {
    int64_t incarnation, first_offset, version;
    const char *since, *until; /* canonical RFC 3339 (as an event's created_at reads), or NULL */
    char since_text[RFC3339_LEN + 1], until_text[RFC3339_LEN + 1];
};

static enum store_outcome stream_state(struct db_pool *pool, const struct read_input *in, struct stream_state *st)
{
    const char *params[] = {in->stream, in->since, in->until};
    PGresult *res;
    memset(st, 0, sizeof *st);
    enum store_outcome outcome = db_run(pool, STMT_ARCHIVE_STREAM, 3, params, "read archive state", &res);
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    if (outcome == STORE_OK) {
        st->incarnation = db_int(res, 0, 0);
        st->first_offset = db_int(res, 0, 1);
        st->version = db_int(res, 0, 2);
        if (!PQgetisnull(res, 0, 3)) {
            rfc3339_format(db_int(res, 0, 3), st->since_text);
            st->since = st->since_text;
        }
        if (!PQgetisnull(res, 0, 4)) {
            rfc3339_format(db_int(res, 0, 4), st->until_text);
            st->until = st->until_text;
        }
    }
    PQclear(res);
    return outcome;
}

/* The stream's manifest, or an empty one when there is none or it is an
 * earlier incarnation's (a stream deleted and created again). */
static enum store_outcome load_manifest(const char *root, const char *stream, const struct stream_state *st,
                                        struct manifest *m, struct archive_page *out)
{
    enum archive_result r = manifest_load(root, stream, m, out->problem, sizeof out->problem);
    if (r == ARCHIVE_DAMAGED)
        return STORE_DAMAGED;
    if (r == ARCHIVE_MISSING || m->incarnation != st->incarnation) {
        manifest_free(m);
        manifest_init(m, stream, st->incarnation);
    }
    return STORE_OK;
}

static bool type_listed(const char *types, const char *type)
{
    size_t n = strlen(type);
    for (const char *p = types;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && !memcmp(p, type, n))
            return true;
        if (!comma)
            return false;
        p = comma + 1;
    }
}

/* The read's type, since and until filters on an archived line, as the live
 * read's SQL applies them (created_at >= since, < until). Times compare as
 * text: both are rfc3339_format's fixed-width UTC form. */
static bool line_matches(const char *line, size_t len, const struct read_input *in, const struct stream_state *st)
{
    if (!in->types && !st->since && !st->until)
        return true;
    cJSON *ev = json_parse(line, len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
    const cJSON *created = cJSON_GetObjectItemCaseSensitive(ev, "created_at");
    bool ok = cJSON_IsString(type) && cJSON_IsString(created) &&
              (!in->types || type_listed(in->types, type->valuestring)) &&
              (!st->since || strcmp(created->valuestring, st->since) >= 0) &&
              (!st->until || strcmp(created->valuestring, st->until) < 0);
    cJSON_Delete(ev);
    return ok;
}

/* Where one pass over the archive stopped. */
enum scan_stop { SCAN_FILLED, SCAN_BOUNDED, SCAN_EXHAUSTED };

struct scan {
    enum scan_stop stop;
    int64_t last_taken; /* SCAN_FILLED: the offset of the page's last archived event */
    int64_t resume;     /* SCAN_BOUNDED: where the next page goes on */
};

static enum store_outcome read_segment(const char *root, const struct manifest *m, int i, struct text *seg,
                                       struct archive_page *out)
{
    enum archive_result r = segment_read(root, m->stream, &m->segments[i], seg, out->problem, sizeof out->problem);
    return r == ARCHIVE_OK ? STORE_OK : STORE_DAMAGED;
}

static void take_line(struct archive_page *out, const char *line, size_t len)
{
    text_put(&out->archived, line, len);
    text_put(&out->archived, "\n", 1);
    out->archived_count++;
}

/* Takes an archived line into the page when it lies on the read's side of
 * `from` and matches its filters; sets sc->stop once the page holds `want`.
 * A line without an offset makes the segment damaged. */
static enum store_outcome consider_line(const struct manifest *m, int i, const char *line, size_t len,
                                        const struct read_input *in, const struct stream_state *st, int64_t from,
                                        int want, struct archive_page *out, struct scan *sc)
{
    int64_t offset;
    if (!segment_line_offset(line, len, &offset)) {
        snprintf(out->problem, sizeof out->problem, "segment %s of stream %s has a line without an offset",
                 m->segments[i].file, m->stream);
        return STORE_DAMAGED;
    }
    if ((in->backward ? offset > from : offset < from) || !line_matches(line, len, in, st))
        return STORE_OK;
    take_line(out, line, len);
    if (out->archived_count == want) {
        sc->stop = SCAN_FILLED;
        sc->last_taken = offset;
    }
    return STORE_OK;
}

/* Archived events from offset `from` up, at most `want`. */
static enum store_outcome scan_forward(const char *root, const struct manifest *m, const struct read_input *in,
                                       const struct stream_state *st, int64_t from, int want, struct archive_page *out,
                                       struct scan *sc)
{
    struct text seg = {0};
    enum store_outcome outcome = STORE_OK;
    sc->stop = SCAN_EXHAUSTED;
    int scanned = 0;
    for (int i = manifest_find(m, from); i < m->count && sc->stop == SCAN_EXHAUSTED; i++) {
        if (scanned++ == ARCHIVE_PAGE_SEGMENTS) {
            sc->stop = SCAN_BOUNDED;
            sc->resume = m->segments[i - 1].last_offset + 1;
            break;
        }
        if ((outcome = read_segment(root, m, i, &seg, out)) != STORE_OK)
            break;
        for (size_t pos = 0; pos < seg.len;) {
            const char *line = seg.data + pos, *nl = memchr(line, '\n', seg.len - pos);
            size_t len = nl ? (size_t)(nl - line) : seg.len - pos;
            pos += len + 1;
            if ((outcome = consider_line(m, i, line, len, in, st, from, want, out, sc)) != STORE_OK)
                goto done;
            if (sc->stop == SCAN_FILLED)
                break;
        }
    }
done:
    text_free(&seg);
    return outcome;
}

/* Archived events from offset `from` down, at most `want`. */
static enum store_outcome scan_backward(const char *root, const struct manifest *m, const struct read_input *in,
                                        const struct stream_state *st, int64_t from, int want, struct archive_page *out,
                                        struct scan *sc)
{
    struct text seg = {0};
    size_t *starts = NULL, cap = 0;
    enum store_outcome outcome = STORE_OK;
    sc->stop = SCAN_EXHAUSTED;
    int scanned = 0, i = manifest_find(m, from);
    if (i == m->count)
        i--;
    for (; i >= 0 && sc->stop == SCAN_EXHAUSTED; i--) {
        if (scanned++ == ARCHIVE_PAGE_SEGMENTS) {
            sc->stop = SCAN_BOUNDED;
            sc->resume = m->segments[i + 1].first_offset - 1;
            break;
        }
        if ((outcome = read_segment(root, m, i, &seg, out)) != STORE_OK)
            break;
        size_t lines = 0;
        for (size_t pos = 0; pos < seg.len;) {
            if (lines == cap) {
                cap = cap ? cap * 2 : 1024;
                starts = xrealloc(starts, cap * sizeof *starts);
            }
            starts[lines++] = pos;
            const char *nl = memchr(seg.data + pos, '\n', seg.len - pos);
            pos = nl ? (size_t)(nl - seg.data) + 1 : seg.len;
        }
        for (size_t k = lines; k-- > 0;) {
            const char *line = seg.data + starts[k];
            size_t end = k + 1 < lines ? starts[k + 1] : seg.len;
            size_t len = end - starts[k] - (end > starts[k] && seg.data[end - 1] == '\n');
            if ((outcome = consider_line(m, i, line, len, in, st, from, want, out, sc)) != STORE_OK)
                goto done;
            if (sc->stop == SCAN_FILLED)
                break;
        }
    }
done:
    free(starts);
    text_free(&seg);
    return outcome;
}

/* The live rows of the page: from `from` (forward) or down to just above
 * `above` (backward), at most `limit`. */
static enum store_outcome read_live(struct db_pool *pool, const struct read_input *in, int64_t from, int64_t limit,
                                    int64_t above, struct archive_page *out)
{
    struct read_input live = *in;
    live.group = NULL;
    /* On the primary, as the stream's state is: the archive's files show the
     * present, which a standby that lags may not have reached. */
    live.recency = DB_RECENT_NOW;
    live.from = from;
    live.limit = limit;
    enum store_outcome outcome = db_events_read(pool, &live, &out->live);
    if (outcome != STORE_OK)
        return outcome;
    out->live_count = out->live.events.count;
    if (in->backward) {
        /* Rows come newest first: keep those above the archive's end. */
        for (int k = 0; k < out->live.events.count; k++) {
            struct event ev;
            db_events_at(&out->live.events, k, &ev);
            if (ev.offset <= above) {
                out->live_count = k;
                break;
            }
        }
    }
    return STORE_OK;
}

/* Whether the rows just read may miss events the worker archived and deleted
 * after the manifest was loaded: the live range starts above where the read
 * needed it to, and the manifest now reaches further. */
static enum store_outcome archive_grew(const char *root, const struct read_input *in, const struct stream_state *st,
                                       const struct manifest *m, int64_t needed_from, struct archive_page *out,
                                       bool *grew)
{
    *grew = false;
    if (out->live.first_offset <= needed_from)
        return STORE_OK;
    struct manifest again;
    enum store_outcome outcome = load_manifest(root, in->stream, st, &again, out);
    if (outcome == STORE_OK)
        *grew = again.archived_through > m->archived_through;
    manifest_free(&again);
    return outcome;
}

static enum store_outcome page_forward(struct db_pool *pool, const char *root, const struct read_input *in,
                                       const struct stream_state *st, const struct manifest *m,
                                       struct archive_page *out, bool *grew)
{
    int64_t through = m->archived_through;
    struct scan sc = {SCAN_EXHAUSTED, 0, 0};
    enum store_outcome outcome = STORE_OK;
    if (in->from <= through)
        outcome = scan_forward(root, m, in, st, in->from, (int)in->limit, out, &sc);
    if (outcome != STORE_OK)
        return outcome;
    if (sc.stop == SCAN_FILLED) {
        out->next = sc.last_taken + 1;
        out->end = sc.last_taken >= st->version;
        return STORE_OK;
    }
    if (sc.stop == SCAN_BOUNDED) {
        out->next = sc.resume;
        out->end = false;
        return STORE_OK;
    }
    int64_t from = in->from > through ? in->from : through + 1;
    int64_t want = in->limit - out->archived_count;
    if ((outcome = read_live(pool, in, from, want, through, out)) != STORE_OK)
        return outcome;
    if ((outcome = archive_grew(root, in, st, m, from, out, grew)) != STORE_OK || *grew)
        return outcome;
    int64_t version = out->live.version;
    if (out->live_count == want) {
        out->next = out->live.last_offset_read + 1;
        out->end = out->live.last_offset_read >= version;
    } else {
        out->next = from > version + 1 ? from : version + 1;
        out->end = true;
    }
    return STORE_OK;
}

static enum store_outcome page_backward(struct db_pool *pool, const char *root, const struct read_input *in,
                                        const struct stream_state *st, const struct manifest *m,
                                        struct archive_page *out, bool *grew)
{
    int64_t through = m->archived_through;
    enum store_outcome outcome;
    if (in->from > through) {
        if ((outcome = read_live(pool, in, in->from, in->limit, through, out)) != STORE_OK)
            return outcome;
        if (out->live_count < in->limit &&
            ((outcome = archive_grew(root, in, st, m, through + 1, out, grew)) != STORE_OK || *grew))
            return outcome;
        if (out->live_count == in->limit) {
            struct event ev;
            db_events_at(&out->live.events, out->live_count - 1, &ev);
            out->next = ev.offset - 1;
            out->end = ev.offset <= out->first_offset;
            return STORE_OK;
        }
    }
    struct scan sc = {SCAN_EXHAUSTED, 0, 0};
    int64_t from = in->from < through ? in->from : through;
    if (m->count > 0 &&
        (outcome = scan_backward(root, m, in, st, from, (int)in->limit - out->live_count, out, &sc)) != STORE_OK)
        return outcome;
    if (sc.stop == SCAN_FILLED) {
        out->next = sc.last_taken - 1;
        out->end = sc.last_taken <= out->first_offset;
    } else if (sc.stop == SCAN_BOUNDED) {
        out->next = sc.resume;
        out->end = false;
    } else {
        out->next = out->first_offset - 1;
        out->end = true;
    }
    return STORE_OK;
}

static void page_reset(struct archive_page *p)
{
    db_rows_free(p->live.events.rows);
    memset(&p->live, 0, sizeof p->live);
    p->live_count = 0;
    p->archived.len = 0;
    p->archived_count = 0;
}

enum store_outcome db_archive_read(struct db_pool *pool, const char *root, const struct read_input *in,
                                   struct archive_page *out)
{
    memset(out, 0, sizeof *out);
    for (int attempt = 0; attempt < ARCHIVE_READ_ATTEMPTS; attempt++) {
        struct stream_state st;
        struct manifest m;
        enum store_outcome outcome = stream_state(pool, in, &st);
        if (outcome != STORE_OK)
            return outcome;
        if ((outcome = load_manifest(root, in->stream, &st, &m, out)) != STORE_OK)
            return outcome;
        out->first_offset =
            m.count > 0 && m.segments[0].first_offset < st.first_offset ? m.segments[0].first_offset : st.first_offset;
        bool grew = false;
        outcome = in->backward ? page_backward(pool, root, in, &st, &m, out, &grew)
                               : page_forward(pool, root, in, &st, &m, out, &grew);
        manifest_free(&m);
        if (outcome != STORE_OK)
            return outcome;
        if (!grew) {
            out->trimmed = in->backward ? out->end && out->first_offset > 0 : in->from < out->first_offset;
            return STORE_OK;
        }
        page_reset(out);
    }
    return STORE_UNAVAILABLE;
}

void db_archive_page_free(struct archive_page *p)
{
    db_rows_free(p->live.events.rows);
    p->live.events.rows = NULL;
    text_free(&p->archived);
}
