/* The archiving trim; see archive.h. */
#include "src/workers/archive.h"

#include <stdlib.h>
#include <unistd.h>

#include "db/archive.h"
#include "src/core/log.h"
#include "src/core/segment.h"

/* The manifest to extend: the stream's, or a new one when there is none or
 * it is an older incarnation's (the stream was deleted and created again;
 * that one's segments are removed once the new manifest is stored). */
static bool manifest_for(const struct archiver *a, const char *stream, int64_t incarnation, struct manifest *m)
{
    char err[512];
    enum archive_result r = manifest_load(a->root, stream, m, err, sizeof err);
    if (r == ARCHIVE_DAMAGED) {
        log_error("archive: %s; stream %s is not trimmed until this is repaired", err, stream);
        return false;
    }
    if (r == ARCHIVE_OK && m->incarnation == incarnation)
        return true;
    struct manifest old = *m;
    manifest_init(m, stream, incarnation);
    if (r == ARCHIVE_OK) {
        if (!manifest_store(a->root, m, err, sizeof err)) {
            log_error("archive: %s", err);
            manifest_free(&old);
            return false;
        }
        segment_remove_all(a->root, &old);
    }
    manifest_free(&old);
    return true;
}

/* Writes the NDJSON in `seg` as one segment and lists it in `m`. */
static bool flush_segment(const struct archiver *a, struct manifest *m, struct text *seg, int64_t first, int64_t last,
                          int64_t count)
{
    char err[512];
    struct segment_info info;
    if (!segment_write(a->root, m->stream, seg->data, seg->len, first, last, count, &info, err, sizeof err)) {
        log_error("archive: %s", err);
        return false;
    }
    manifest_add(m, &info);
    seg->len = 0;
    return true;
}

/* Writes the batch's events above m->archived_through as segments of at most
 * SEGMENT_MAX_BYTES each; `*archived` counts them. */
static bool write_segments(const struct archiver *a, const struct db_list *events, struct manifest *m,
                           int64_t *archived)
{
    struct text seg = {0}, line = {0};
    int64_t first = -1, last = -1, count = 0, through = m->archived_through;
    bool ok = true;
    for (int i = 0; i < events->count && ok; i++) {
        struct event ev;
        db_events_at(events, i, &ev);
        if (ev.offset <= through)
            continue;
        line.len = 0;
        a->render(&line, &ev);
        text_put(&line, "\n", 1);
        if (count > 0 && seg.len + line.len > SEGMENT_MAX_BYTES) {
            ok = flush_segment(a, m, &seg, first, last, count);
            count = 0;
        }
        if (count == 0)
            first = ev.offset;
        text_put(&seg, line.data, line.len);
        last = ev.offset;
        count++;
        *archived += 1;
    }
    if (ok && count > 0)
        ok = flush_segment(a, m, &seg, first, last, count);
    text_free(&seg);
    text_free(&line);
    return ok;
}

enum store_outcome archive_trim_batch(const struct archiver *a, const char *stream,
                                      const struct retention_defaults *defaults, int limit, int64_t *trimmed,
                                      int64_t *archived)
{
    struct archive_batch b;
    *trimmed = *archived = 0;
    enum store_outcome outcome = db_archive_batch_begin(a->pool, stream, defaults, limit, &b);
    if (outcome != STORE_OK || !b.locked || b.events.count == 0) {
        enum store_outcome end = db_archive_batch_end(&b);
        return outcome == STORE_NOT_FOUND ? STORE_OK : outcome != STORE_OK ? outcome : end;
    }
    struct manifest m;
    int64_t written = 0;
    bool ok = manifest_for(a, stream, b.incarnation, &m);
    int64_t before = m.archived_through;
    ok = ok && write_segments(a, &b.events, &m, &written);
    if (ok && m.archived_through != before) {
        char err[512];
        ok = manifest_store(a->root, &m, err, sizeof err);
        if (!ok)
            log_error("archive: %s", err);
    }
    manifest_free(&m);
    if (!ok) {
        db_archive_batch_end(&b); /* rolls back: nothing is deleted that is not archived */
        return STORE_ERROR;
    }
    if (a->crash_after_manifest)
        _exit(86); /* tests: archived and durable, rows not yet deleted */
    struct event last;
    db_events_at(&b.events, b.events.count - 1, &last);
    outcome = db_archive_batch_delete(&b, stream, last.offset, trimmed);
    enum store_outcome end = db_archive_batch_end(&b);
    if (outcome == STORE_OK)
        outcome = end;
    if (outcome != STORE_OK)
        *trimmed = 0;
    else
        *archived = written;
    return outcome;
}
