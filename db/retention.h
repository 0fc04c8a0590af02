/* Store calls of the retention worker (src/workers/retention.c): which streams
 * have events to trim, trimming one in a bounded batch, and deleting old dead
 * letters. Each call is one statement, so one short transaction; each is safe
 * while other instances make the same calls and while appends run. */
#ifndef STREAMQ_DB_RETENTION_H
#define STREAMQ_DB_RETENTION_H

#include <stdint.h>

#include "db/store.h"
#include "src/core/util.h"

/* The service's defaults for streams without a policy of their own; <= 0: no
 * limit. Row trimming takes events by age only `age_grace` seconds after they
 * expire (partitioned, whole-partition drops take them first). */
struct retention_defaults {
    int64_t max_age_seconds;
    int64_t max_count;
    int64_t age_grace;
};

struct retention_candidates {
    char (*names)[NAME_MAX_LEN + 1]; /* owned; free with db_retention_candidates_free */
    int count;
};

/* Up to `limit` streams named after `after` ("" for the first), by name, that
 * have events their policy (or the defaults) no longer keeps. */
enum store_outcome db_retention_candidates(struct db_pool *pool, const struct retention_defaults *defaults,
                                           const char *after, int limit, struct retention_candidates *out) MUST_CHECK;
/* Releases what db_retention_candidates filled in; accepts a zeroed struct. */
void db_retention_candidates_free(struct retention_candidates *c);

/* Deletes up to `limit` of the stream's oldest events past retention and moves
 * its first_offset past them. `*trimmed` is how many went: 0 too when another
 * instance is trimming the stream at this moment. */
enum store_outcome db_retention_trim(struct db_pool *pool, const char *stream,
                                     const struct retention_defaults *defaults, int limit, int64_t *trimmed) MUST_CHECK;

/* Deletes up to `limit` dead letters that failed more than `max_age_seconds`
 * ago; `*deleted` is how many. */
enum store_outcome db_retention_dead_letters(struct db_pool *pool, int64_t max_age_seconds, int limit,
                                             int64_t *deleted) MUST_CHECK;

/* Time partitioning (schema/008_partitioning.sql). Each call is one short
 * transaction under a try-lock shared by every instance; waits for table locks
 * are cut at 100 ms, so none holds appends up. */

/* Creates the events partitions from the current one through `ahead` widths
 * later that are missing; `*created` is how many. */
enum store_outcome db_retention_add_partitions(struct db_pool *pool, int ahead, int64_t *created) MUST_CHECK;

/* Drops the oldest events partition when every event in it is past retention
 * and moves the streams' first_offset past it. `*dropped` is how many events
 * went (0: none due, kept, or busy); `name` (NAME_MAX_LEN + 1 bytes) the
 * partition's name. */
enum store_outcome db_retention_drop_partition(struct db_pool *pool, const struct retention_defaults *defaults,
                                               int64_t *dropped, char *name) MUST_CHECK;

/* Deletes up to `limit` ids of events whose partition was dropped; `*deleted`
 * is how many. */
enum store_outcome db_retention_forget_ids(struct db_pool *pool, int limit, int64_t *deleted) MUST_CHECK;

#endif
