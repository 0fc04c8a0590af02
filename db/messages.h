/* Store calls for queue messages: enqueue, dequeue under a lease, and settling
 * a delivery (ack, nack, visibility), plus the sweeper's step. */
#ifndef STREAMQ_DB_MESSAGES_H
#define STREAMQ_DB_MESSAGES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/pool.h"
#include "db/queues.h"

#define DB_TIMESTAMP_LEN 40

/* Enqueues the messages of `body` ({"messages": [...]}, as the client sent it, so
 * data keeps its exact numbers). `*messages` gets [{id, enqueued_at, visible_at,
 * duplicate}]. STORE_CREATED, STORE_FULL (nothing written), ... */
enum store_outcome db_messages_enqueue(struct db_pool *pool, const char *queue, const char *body,
                                       cJSON **messages) MUST_CHECK;

struct dequeue_input {
    const char *queue;
    int64_t max_messages;
    int64_t visibility_timeout; /* < 0: the queue's */
    const char *consumer;       /* may be NULL */
};

/* Leases up to max_messages messages: `*messages` gets [{id, type, data, metadata,
 * enqueued_at, delivery_count, receipt, visible_until}], possibly empty. */
enum store_outcome db_messages_dequeue(struct db_pool *pool, const struct dequeue_input *in,
                                       const struct queue_defaults *defaults, cJSON **messages) MUST_CHECK;

/* STORE_OK, STORE_NOT_FOUND (not in flight), STORE_STALE (another receipt). */
enum store_outcome db_messages_ack(struct db_pool *pool, const char *queue, const char *id,
                                   const char *receipt) MUST_CHECK;

/* Acks each {id, receipt} of `body` ({"acks": [...]}): ids into `*acked`, the rest
 * into `*failed` as {id, code}. */
enum store_outcome db_messages_ack_batch(struct db_pool *pool, const char *queue, const char *body, cJSON **acked,
                                         cJSON **failed) MUST_CHECK;

struct nack_input {
    const char *queue, *id, *receipt;
    bool requeue;
    int64_t delay_seconds;
    const char *reason; /* may be NULL */
};

enum store_outcome db_messages_nack(struct db_pool *pool, const struct nack_input *in,
                                    const struct queue_defaults *defaults) MUST_CHECK;

/* Moves the lease's end to now + timeout; `visible_until` gets the new end. */
enum store_outcome db_messages_visibility(struct db_pool *pool, const char *queue, const char *id, const char *receipt,
                                          int64_t timeout, char visible_until[DB_TIMESTAMP_LEN]) MUST_CHECK;

struct sweep_counts {
    int64_t requeued, dead_lettered, expired;
};

/* One sweeper step over at most `limit` expired leases and retained-out messages. */
enum store_outcome db_messages_sweep(struct db_pool *pool, const struct queue_defaults *defaults, int64_t limit,
                                     struct sweep_counts *out) MUST_CHECK;

#endif
