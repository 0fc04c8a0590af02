/* Store calls for queues as resources: metadata and counts, listing,
 * configuration, peeking, purge and delete. Objects come back as raw JSON
 * rendered by PostgreSQL (queue_json()). */
#ifndef STREAMQ_DB_QUEUES_H
#define STREAMQ_DB_QUEUES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/pool.h"

/* The service-wide defaults a queue falls back on. */
struct queue_defaults {
    int64_t visibility_timeout;
    int64_t max_delivery_attempts;
};

/* A page cursor: "" when there is no next page. */
#define DB_CURSOR_LEN 24

enum store_outcome db_queues_meta(struct db_pool *pool, const char *queue, const struct queue_defaults *defaults,
                                  cJSON **meta) MUST_CHECK;

/* Queues by name after `after` starting with `prefix` (both may be NULL); `next_after`
 * (NAME_MAX_LEN + 1 bytes) is the last name when more follow, else "". */
enum store_outcome db_queues_list(struct db_pool *pool, const char *prefix, const char *after, int64_t limit,
                                  const struct queue_defaults *defaults, cJSON **queues, char *next_after) MUST_CHECK;

struct queue_config {
    /* has_*: the member was given; value < 0 means JSON null (back to the default). */
    bool has_visibility_timeout, has_max_delivery_attempts, has_retention_seconds, has_max_depth;
    int64_t visibility_timeout, max_delivery_attempts, retention_seconds, max_depth;
};

/* Creates or updates the queue's settings and returns its metadata. */
enum store_outcome db_queues_configure(struct db_pool *pool, const char *queue, const struct queue_config *in,
                                       const struct queue_defaults *defaults, cJSON **meta) MUST_CHECK;

/* Removes pending, delayed and in-flight messages; `*purged` counts them. */
enum store_outcome db_queues_purge(struct db_pool *pool, const char *queue, int64_t *purged) MUST_CHECK;

/* Removes the queue with its messages, dead letters and settings. */
enum store_outcome db_queues_delete(struct db_pool *pool, const char *queue) MUST_CHECK;

/* Messages in enqueue order without delivering them. `state` is NULL or
 * "pending", "in_flight", "delayed"; `after` NULL or a cursor from an earlier page. */
enum store_outcome db_queues_peek(struct db_pool *pool, const char *queue, const char *state, const char *after,
                                  int64_t limit, cJSON **messages, char next_after[DB_CURSOR_LEN]) MUST_CHECK;

#endif
