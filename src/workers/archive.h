/* The archiving trim of the retention worker (--archive-dir): a stream's due
 * events leave PostgreSQL only after they are in the cold archive. One batch:
 * read the events due (bounded, under the stream's trim try-lock), write the
 * ones above the manifest's archived_through as segments (src/core/segment.h),
 * store the manifest, and only then delete the rows, all in one transaction. A
 * crash after the manifest and before the commit leaves the rows; the next
 * batch finds them archived already and only deletes them. */
#ifndef STREAMQ_WORKERS_ARCHIVE_H
#define STREAMQ_WORKERS_ARCHIVE_H

#include <stdint.h>

#include "db/events.h"
#include "db/retention.h"
#include "src/core/text.h"

/* Renders an event as a read returns it (routes' event_json), so that an
 * archived line and a read are the same bytes. */
typedef void (*event_render_fn)(struct text *t, const struct event *ev);

struct archiver {
    struct db_pool *pool;
    const char *root; /* --archive-dir */
    event_render_fn render;
    bool crash_after_manifest; /* STREAMQ_TEST_CRASH_AFTER_ARCHIVE: tests' crash point */
};

/* Archives and deletes up to `limit` of the stream's events past retention;
 * `*trimmed` is how many rows went (0 too when another instance holds the
 * stream), `*archived` how many events were written to segments. */
enum store_outcome archive_trim_batch(const struct archiver *a, const char *stream,
                                      const struct retention_defaults *defaults, int limit, int64_t *trimmed,
                                      int64_t *archived) MUST_CHECK;

#endif
