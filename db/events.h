/* Store calls for events: append, per-stream reads and the global read. Read
 * events stay in the rows PostgreSQL returned and are lent one at a time
 * (db_events_at), so the hot paths copy no column; routes/events.c renders them. */
#ifndef STREAMQ_DB_EVENTS_H
#define STREAMQ_DB_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "db/store.h"
#include "src/core/util.h"

struct append_input {
    const char *stream;
    const char *expected; /* "any", "no_stream", "exists" or a decimal version */
    const char *body;     /* the request body: {"events": [{id?, type, data, metadata?}...]} */
    bool check_ids;       /* some id came from the client: look for retries and duplicates */
    int events;           /* how many events the body holds */
};

struct appended_event {
    char id[UUID_STR_LEN + 1];
    int64_t offset;
    int64_t position;
};

struct append_result {
    int64_t current_version;       /* the stream's version after (or, on conflict, as found) */
    struct appended_event *events; /* owned; free with db_events_append_result_free */
    int count;
};

/* An append is written by db_append_submit (db/append_group.h); its outcome is
 * STORE_CREATED (written), STORE_OK (idempotent retry: nothing written, the
 * original offsets), STORE_VERSION_CONFLICT, STORE_DUPLICATE, STORE_ARCHIVED,
 * STORE_INVALID, STORE_UNAVAILABLE or STORE_ERROR. */
void db_events_append_result_free(struct append_result *r);

/* The outcome named by append_batch() ("created", "idempotent", ...). */
enum store_outcome db_events_outcome(const char *word);

struct read_input {
    const char *stream;
    const char *group; /* a consumer group: read from its committed offset (from is ignored) */
    int64_t from;      /* first offset (backward: last), inclusive */
    bool backward;
    const char *types; /* comma-separated, or NULL */
    const char *since; /* RFC 3339, or NULL */
    const char *until;
    int64_t limit;
    enum db_recency recency; /* a group's read is always on the primary: it must see the group's last commit */
};

/* An event as read; strings and JSON are borrowed from the rows. */
struct event {
    const char *id, *stream;
    int64_t offset, global_position;
    const char *type;
    struct db_json data, metadata; /* metadata: text NULL when there is none */
    int64_t created_us;
};

/* Event `i` of a list a read filled in (0 <= i < events->count); valid until
 * db_rows_free(events->rows). */
void db_events_at(const struct db_list *events, int i, struct event *out);

struct read_page {
    struct db_list events; /* owned: release with db_rows_free(events.rows) */
    int64_t version;       /* the stream's version */
    int64_t first_offset;
    int64_t last_offset_read; /* offset of the last event in the page, when there is one */
    int64_t from;             /* where the page starts: in->from, or the group's offset or first_offset */
    int64_t asked;            /* the first offset asked for: in->from, or the group's committed offset */
};

/* One page of a stream. STORE_NOT_FOUND when the stream does not exist. */
enum store_outcome db_events_read(struct db_pool *pool, const struct read_input *in, struct read_page *out) MUST_CHECK;

/* The event at `offset` as a list of one in `*event`. STORE_NOT_FOUND with
 * `*stream_exists` telling which of the two is missing. */
enum store_outcome db_events_get(struct db_pool *pool, const char *stream, int64_t offset, struct db_list *event,
                                 bool *stream_exists) MUST_CHECK;

/* A page of an export (`in->limit` events from `in->from`, in->group unused)
 * into `*events`, and the offset of its last event. STORE_OK with no event at
 * the end of the stream; STORE_NOT_FOUND when the stream does not exist.
 * `meanwhile(cls)` (may be NULL) runs once, on every path, while PostgreSQL
 * reads the page: the caller renders the previous page then. */
enum store_outcome db_events_export_page(struct db_pool *pool, const struct read_input *in, struct db_list *events,
                                         int64_t *last_offset, void (*meanwhile)(void *), void *cls) MUST_CHECK;

/* Event `i` of an export page; its id is written to `id`, and `stream` is left
 * NULL: every event of the page is of the stream asked for. */
void db_events_export_at(const struct db_list *events, int i, struct event *out, char id[UUID_STR_LEN + 1]);

struct global_read_input {
    int64_t from_position; /* exclusive */
    int64_t limit;
    const char *types;
    const char *stream_prefix;
    enum db_recency recency;
};

/* Events of every stream after `from_position`, below the commit watermark,
 * into `*events`. `next_position` is where the reader continues. */
enum store_outcome db_events_global_read(struct db_pool *pool, const struct global_read_input *in,
                                         struct db_list *events, int64_t *next_position) MUST_CHECK;

#endif
