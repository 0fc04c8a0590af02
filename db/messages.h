/* Store calls for queue messages: enqueue, dequeue under a lease, and settling
 * a delivery (ack, nack, visibility), plus the sweeper's step. Enqueued and
 * dequeued messages are lent from the rows read; routes/messages.c renders them. */
#ifndef STREAMQ_DB_MESSAGES_H
#define STREAMQ_DB_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/queues.h"
#include "db/store.h"
#include "src/core/util.h"

/* A message as enqueue reports it; `id` is borrowed from the list. */
struct enqueued_message {
    const char *id;
    /* Null only when the message was gone again before enqueue read it back. */
    struct db_nullable enqueued_us, visible_us;
    bool duplicate; /* already in the queue or its dead letters: not enqueued again */
};

/* Enqueues the messages of `body` ({"messages": [...]}, as the client sent it, so
 * data keeps its exact numbers); `*out` lists them in the order sent.
 * STORE_CREATED, STORE_FULL (nothing written), ... */
enum store_outcome db_messages_enqueue(struct db_pool *pool, const char *queue, const char *body,
                                       struct db_list *out) MUST_CHECK;
struct db_tx;
/* The same as a statement of `tx` (db/tx.h); a failed statement fails `tx`. */
enum store_outcome db_messages_enqueue_in(struct db_tx *tx, const char *queue, const char *body,
                                          struct db_list *out) MUST_CHECK;
/* Message `i` of a list from db_messages_enqueue; valid until the rows are freed. */
void db_messages_enqueued(const struct db_list *list, int i, struct enqueued_message *out);

struct dequeue_input {
    const char *queue;
    int64_t max_messages;
    int64_t visibility_timeout; /* < 0: the queue's */
    const char *consumer;       /* may be NULL */
};

/* A delivered message; strings are borrowed from the list. */
struct dequeued_message {
    const char *id, *type;
    struct db_json data, metadata; /* metadata: text NULL when there is none */
    int64_t enqueued_us, delivery_count;
    const char *receipt;
    int64_t visible_until_us; /* the lease's end */
};

/* A dequeue leases up to max_messages messages (possibly none), oldest first;
 * it goes through the group commit (db/queue_group.h). */
/* Message `i` of a dequeue's list (db/queue_group.h); valid until the rows are freed. */
void db_messages_dequeued(const struct db_list *list, int i, struct dequeued_message *out);

/* How a settle statement's word ("acked", "stale", ...) reads: STORE_OK,
 * STORE_NOT_FOUND (not in flight), STORE_STALE (another receipt), else
 * STORE_ERROR (logged). */
enum store_outcome db_messages_settle_outcome(const char *word) MUST_CHECK;

struct ack_result {
    char id[UUID_STR_LEN + 1];
    enum store_outcome outcome; /* STORE_OK, STORE_NOT_FOUND or STORE_STALE */
};

struct ack_results {
    struct ack_result *items; /* owned: free with db_messages_ack_results_free */
    int count;
};

/* Releases the outcomes of an ack (db/queue_group.h); accepts a zeroed struct. */
void db_messages_ack_results_free(struct ack_results *r);

struct nack_input {
    const char *queue, *id, *receipt;
    bool requeue;
    int64_t delay_seconds;
    const char *reason; /* may be NULL */
};

enum store_outcome db_messages_nack(struct db_pool *pool, const struct nack_input *in,
                                    const struct queue_defaults *defaults) MUST_CHECK;

/* The same as a statement of `tx` (db/tx.h). */
enum store_outcome db_messages_nack_in(struct db_tx *tx, const struct nack_input *in,
                                       const struct queue_defaults *defaults) MUST_CHECK;

/* Moves the lease's end to now + timeout; `*visible_until_us` gets the new end. */
enum store_outcome db_messages_visibility(struct db_pool *pool, const char *queue, const char *id, const char *receipt,
                                          int64_t timeout, int64_t *visible_until_us) MUST_CHECK;

struct sweep_counts {
    int64_t requeued, dead_lettered, expired;
};

/* One sweeper step over at most `limit` expired leases and retained-out messages. */
enum store_outcome db_messages_sweep(struct db_pool *pool, const struct queue_defaults *defaults, int64_t limit,
                                     struct sweep_counts *out) MUST_CHECK;

#endif
