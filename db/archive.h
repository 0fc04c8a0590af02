/* Store calls of the archiving trim (src/workers/archive.c): one transaction
 * per batch that takes the stream's trim try-lock, lends the events due, and,
 * once the worker has written them to the archive, deletes them. The lock is
 * held from the read to the delete, so no other instance trims the stream in
 * between; a crash before the commit deletes nothing. */
#ifndef STREAMQ_DB_ARCHIVE_H
#define STREAMQ_DB_ARCHIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "db/events.h"
#include "db/retention.h"
#include "db/store.h"

struct archive_batch {
    struct db_tx *tx;      /* owned */
    bool locked;           /* false: another trimmer holds the stream; nothing to do */
    int64_t incarnation;   /* the stream's created_at in microseconds */
    struct db_list events; /* the events due, by offset (db_events_at) */
};

/* Opens the batch's transaction and reads up to `limit` of the stream's
 * oldest events its policy (or the defaults) no longer keeps. Whatever it
 * returns, call db_archive_batch_end once. STORE_NOT_FOUND: no such stream. */
enum store_outcome db_archive_batch_begin(struct db_pool *pool, const char *stream,
                                          const struct retention_defaults *defaults, int limit,
                                          struct archive_batch *b) MUST_CHECK;
/* Deletes the stream's events up to `through` in the batch's transaction and
 * moves first_offset past them; `*deleted` is how many went. */
enum store_outcome db_archive_batch_delete(struct archive_batch *b, const char *stream, int64_t through,
                                           int64_t *deleted) MUST_CHECK;
/* Commits (when every step succeeded, else rolls back) and frees the batch. */
enum store_outcome db_archive_batch_end(struct archive_batch *b);

#endif
