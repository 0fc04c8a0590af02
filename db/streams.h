/* Store calls for stream metadata and lifecycle. Metadata comes back as
 * struct stream_meta; routes/streams.c renders it. */
#ifndef STREAMQ_DB_STREAMS_H
#define STREAMQ_DB_STREAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "db/store.h"
#include "src/core/util.h"

struct stream_meta {
    char stream[NAME_MAX_LEN + 1];
    int64_t version;                              /* offset of the last event ever written; -1 before the first */
    int64_t length;                               /* events still retained */
    struct db_nullable first_offset, last_offset; /* null when no event is retained */
    int64_t created_us;
    struct db_nullable last_event_us;
    char state[16];                                /* "active" or "archived" */
    struct db_nullable max_age_seconds, max_count; /* the stream's own policy; null: no limit */
    bool has_policy;                               /* false: the service's defaults apply instead */
    struct db_nullable trimmed_through;            /* the last offset retention removed; null: none yet */
    struct db_nullable trimmed_at_us;              /* when it last removed any */
};

/* The stream's metadata in `*meta`. STORE_NOT_FOUND for no stream. */
enum store_outcome db_streams_meta(struct db_pool *pool, const char *stream, struct stream_meta *meta) MUST_CHECK;

struct stream_list {
    struct stream_meta *items; /* owned; free with db_streams_list_free */
    int count;
    char next_after[NAME_MAX_LEN + 1]; /* the last name when more follow, else "" */
};

/* Up to `limit` streams by name after `after` (may be NULL) starting with `prefix`
 * (may be NULL). */
enum store_outcome db_streams_list(struct db_pool *pool, const char *prefix, const char *after, int64_t limit,
                                   struct stream_list *out) MUST_CHECK;
/* Releases what db_streams_list filled in; accepts a zeroed list. */
void db_streams_list_free(struct stream_list *list);

struct retention_input {
    bool has_max_age, has_max_count;    /* absent members keep their stored value */
    int64_t max_age_seconds, max_count; /* <= 0 means no limit (JSON null) */
};

/* Stores the policy and returns the metadata after it. STORE_NOT_FOUND for no stream. */
enum store_outcome db_streams_set_retention(struct db_pool *pool, const char *stream, const struct retention_input *in,
                                            struct stream_meta *meta) MUST_CHECK;

/* Sets the state to "active" or "archived"; returns the metadata after it. */
enum store_outcome db_streams_set_state(struct db_pool *pool, const char *stream, const char *state,
                                        struct stream_meta *meta) MUST_CHECK;

/* Deletes the stream with its events, retention and checkpoints. */
enum store_outcome db_streams_delete(struct db_pool *pool, const char *stream) MUST_CHECK;

#endif
