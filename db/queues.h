/* Store calls for queues as resources: metadata and counts, listing,
 * configuration, peeking, purge and delete. Metadata comes back as struct
 * queue_meta, peeked messages as rows lent through db_queues_peeked;
 * routes/queues.c renders both. */
#ifndef STREAMQ_DB_QUEUES_H
#define STREAMQ_DB_QUEUES_H

#include <stdbool.h>
#include <stdint.h>

#include "db/store.h"
#include "src/core/util.h"

/* The service-wide defaults a queue falls back on. */
struct queue_defaults {
    int64_t visibility_timeout;
    int64_t max_delivery_attempts;
};

struct queue_meta {
    char queue[NAME_MAX_LEN + 1];
    int64_t pending, in_flight, delayed, dead_letters;
    /* Age of the oldest pending message in milliseconds, rounded; null when none is pending. */
    struct db_nullable oldest_pending_age_ms;
    /* The queue's settings, or the service's defaults where it sets none. */
    int64_t visibility_timeout, max_delivery_attempts, retention_seconds;
    struct db_nullable max_depth; /* null: no limit */
    /* What retention did last (null: nothing yet): the enqueue time of the newest
     * message dead-lettered for its age and when; the failure time of the newest
     * dead letter deleted for its age and when. */
    struct db_nullable expired_through_us, expired_at_us;
    struct db_nullable dead_letters_deleted_through_us, dead_letters_deleted_at_us;
    struct db_nullable dead_letter_retention_seconds; /* not read here: the service's setting, set by routes */
};

enum store_outcome db_queues_meta(struct db_pool *pool, const char *queue, const struct queue_defaults *defaults,
                                  struct queue_meta *meta) MUST_CHECK;

struct queue_list {
    struct queue_meta *items; /* owned; free with db_queues_list_free */
    int count;
    char next_after[NAME_MAX_LEN + 1]; /* the last name when more follow, else "" */
};

/* Queues by name after `after` starting with `prefix` (both may be NULL). */
enum store_outcome db_queues_list(struct db_pool *pool, const char *prefix, const char *after, int64_t limit,
                                  const struct queue_defaults *defaults, struct queue_list *out) MUST_CHECK;
/* Releases what db_queues_list filled in; accepts a zeroed list. */
void db_queues_list_free(struct queue_list *list);

struct queue_config {
    /* has_*: the member was given; value < 0 means JSON null (back to the default). */
    bool has_visibility_timeout, has_max_delivery_attempts, has_retention_seconds, has_max_depth;
    int64_t visibility_timeout, max_delivery_attempts, retention_seconds, max_depth;
};

/* Creates or updates the queue's settings and returns its metadata. */
enum store_outcome db_queues_configure(struct db_pool *pool, const char *queue, const struct queue_config *in,
                                       const struct queue_defaults *defaults, struct queue_meta *meta) MUST_CHECK;

/* Removes pending, delayed and in-flight messages; `*purged` counts them. */
enum store_outcome db_queues_purge(struct db_pool *pool, const char *queue, int64_t *purged) MUST_CHECK;

/* Removes the queue with its messages, dead letters and settings. */
enum store_outcome db_queues_delete(struct db_pool *pool, const char *queue) MUST_CHECK;

/* A message as peek shows it. Strings are borrowed from the page. */
struct peeked_message {
    const char *id, *type;
    int64_t enqueued_us, visible_us, delivery_count;
    const char *consumer;                /* the lease's, or NULL (also when the lease named none) */
    struct db_nullable visible_until_us; /* the lease's end; null when not leased */
};

/* Messages in enqueue order without delivering them. `state` is NULL or
 * "pending", "in_flight", "delayed"; `after` NULL or a cursor from an earlier page. */
enum store_outcome db_queues_peek(struct db_pool *pool, const char *queue, const char *state, const char *after,
                                  int64_t limit, struct db_seq_page *out) MUST_CHECK;
/* Message `i` of a page from db_queues_peek (0 <= i < page->count); its strings
 * are valid until the rows are freed. */
void db_queues_peeked(const struct db_seq_page *page, int i, struct peeked_message *out);

/* Queue depths for /metrics, cached: a scrape reads the queues at most once
 * per refresh interval however often it comes, and several scrapes at once
 * share one read. These figures are only reported, never acted on, so their
 * being up to one interval old is harmless (DESIGN.md keeps queue state out
 * of in-process caches for decisions). */
struct queue_depths {
    /* Owned; free with db_queue_depths_free. The name and counts are read;
     * the settings are only those a queue sets itself (0 where it has none). */
    struct queue_meta *items;
    int count;
    int64_t read_at_us; /* monotonic time of the read; 0 when there never was one */
};
struct depth_cache;

struct depth_cache *db_depth_cache_new(int64_t refresh_ms);
void db_depth_cache_free(struct depth_cache *cache);

/* A copy of the latest depths, read again first when they are older than the
 * refresh interval (and no read was tried within it). A failed read is
 * returned as its outcome, with the last good depths (if any) in `out`. */
enum store_outcome db_queue_depths(struct db_pool *pool, struct depth_cache *cache, struct queue_depths *out);
/* Releases what db_queue_depths filled in; accepts a zeroed value. */
void db_queue_depths_free(struct queue_depths *d);

#endif
