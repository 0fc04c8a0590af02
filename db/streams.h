/* Store calls for stream metadata and lifecycle. Metadata comes back as raw
 * JSON objects rendered by PostgreSQL (stream_json()). */
#ifndef STREAMQ_DB_STREAMS_H
#define STREAMQ_DB_STREAMS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/pool.h"

/* The stream's metadata as a new raw object in `*meta` and its version. */
enum store_outcome db_streams_meta(struct db_pool *pool, const char *stream, cJSON **meta, int64_t *version) MUST_CHECK;

/* Up to `limit` streams by name after `after` (may be NULL) starting with `prefix`
 * (may be NULL): a new array in `*streams`; `next_after` (NAME_MAX_LEN + 1 bytes)
 * is set to the last name when the page is full, else "". */
enum store_outcome db_streams_list(struct db_pool *pool, const char *prefix, const char *after, int64_t limit,
                                   cJSON **streams, char *next_after) MUST_CHECK;

struct retention_input {
    bool has_max_age, has_max_count;    /* absent members keep their stored value */
    int64_t max_age_seconds, max_count; /* <= 0 means no limit (JSON null) */
};

/* Stores the policy and returns the metadata after it. STORE_NOT_FOUND for no stream. */
enum store_outcome db_streams_set_retention(struct db_pool *pool, const char *stream, const struct retention_input *in,
                                            cJSON **meta) MUST_CHECK;

/* Sets the state to "active" or "archived"; returns the metadata after it. */
enum store_outcome db_streams_set_state(struct db_pool *pool, const char *stream, const char *state,
                                        cJSON **meta) MUST_CHECK;

/* Deletes the stream with its events, retention and checkpoints. */
enum store_outcome db_streams_delete(struct db_pool *pool, const char *stream) MUST_CHECK;

#endif
