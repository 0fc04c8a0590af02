/* Store calls for consumer groups: a group's checkpoint on a stream is the
 * next offset it will read, committed by the client after processing. */
#ifndef STREAMQ_DB_CONSUMERS_H
#define STREAMQ_DB_CONSUMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "db/store.h"
#include "src/core/util.h"

struct consumer {
    char group[NAME_MAX_LEN + 1];
    int64_t offset;     /* the next offset the group reads */
    int64_t lag;        /* events written at or past `offset` */
    int64_t updated_us; /* microseconds since the epoch */
};

enum consumer_commit_outcome {
    CONSUMER_COMMITTED,
    CONSUMER_NO_STREAM,
    CONSUMER_PAST_END,   /* offset > version + 1 */
    CONSUMER_REGRESSION, /* backwards without force; `current` holds the committed offset */
};

/* Commits `offset` for `group`. On STORE_OK, `*result` says what happened; `*out` is
 * filled when committed, and out->offset is the committed one on a regression;
 * `*version` is the stream's version (when it exists). */
enum store_outcome db_consumers_commit(struct db_pool *pool, const char *stream, const char *group, int64_t offset,
                                       bool force, enum consumer_commit_outcome *result, struct consumer *out,
                                       int64_t *version) MUST_CHECK;

struct db_tx;
/* The same as a statement of `tx` (db/tx.h); a failed statement fails `tx`. */
enum store_outcome db_consumers_commit_in(struct db_tx *tx, const char *stream, const char *group, int64_t offset,
                                          bool force, enum consumer_commit_outcome *result, struct consumer *out,
                                          int64_t *version) MUST_CHECK;

/* One group's checkpoint. STORE_NOT_FOUND with `*stream_exists` false when the
 * stream is missing, true when only the group is. */
enum store_outcome db_consumers_get(struct db_pool *pool, const char *stream, const char *group, struct consumer *out,
                                    bool *stream_exists) MUST_CHECK;

/* Every group of the stream, by name: a new array in `*groups` (free it), `*n` long.
 * STORE_NOT_FOUND when the stream is missing. */
enum store_outcome db_consumers_list(struct db_pool *pool, const char *stream, struct consumer **groups,
                                     int *n) MUST_CHECK;

/* Deletes the group's checkpoint; STORE_NOT_FOUND as for db_consumers_get. */
enum store_outcome db_consumers_delete(struct db_pool *pool, const char *stream, const char *group,
                                       bool *stream_exists) MUST_CHECK;

#endif
