/* Reads that include the cold archive (include_archive=true): a page of a
 * stream's events from its archived segments (src/core/segment.h) for offsets
 * up to the manifest's archived_through, followed by (backward: preceded by)
 * its live rows above that offset, so an event both archived and not yet
 * deleted (a crash between the two) is read once. Archived events are kept
 * as the NDJSON lines the archive holds, byte for byte a read's JSON. */
#ifndef STREAMQ_DB_ARCHIVE_READ_H
#define STREAMQ_DB_ARCHIVE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/events.h"
#include "db/store.h"
#include "src/core/text.h"

/* Segments a page reads at most: a page of a filtered read over a long
 * archive ends early (end_of_stream false) rather than hold a request thread. */
#define ARCHIVE_PAGE_SEGMENTS 8

struct archive_page {
    struct text archived; /* archived events of the page, each line ending in '\n' */
    int archived_count;
    struct read_page live; /* live rows; only the first live_count belong to the page */
    int live_count;
    int64_t first_offset; /* the lowest offset still readable (archived or live) */
    int64_t next;         /* where the reader continues */
    bool end;             /* no more events in the direction read (for now) */
    bool trimmed;         /* offsets the read asked for are gone from both */
    char problem[512];    /* STORE_DAMAGED: which file and what is wrong */
};

/* One page of `in` (in->group unused) with the archive under `root`, at most
 * in->limit events: forward the archived ones first, backward the live ones
 * first. STORE_NOT_FOUND: no such stream; STORE_DAMAGED: see out->problem.
 * Free with db_archive_page_free whatever it returns. */
enum store_outcome db_archive_read(struct db_pool *pool, const char *root, const struct read_input *in,
                                   struct archive_page *out) MUST_CHECK;
void db_archive_page_free(struct archive_page *p);

#endif
