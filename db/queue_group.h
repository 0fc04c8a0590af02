/* Group commit for queue operations (db/batcher.h): the enqueues, dequeues and
 * acks queued at one moment, from any number of requests, are each written in
 * one transaction with one set-based statement, and each request still gets
 * its own answer, exactly as db/messages.h describes it for one request. */
#ifndef STREAMQ_DB_QUEUE_GROUP_H
#define STREAMQ_DB_QUEUE_GROUP_H

#include "db/batcher.h"
#include "db/messages.h"

/* An enqueue: the messages of `body` ({"messages": [...]}, as the client sent
 * it, without an id twice) into `queue`. base.outcome and `out` as
 * db_messages_enqueue answers them (read `out` with db_messages_enqueued; free
 * its rows with db_rows_free). */
struct enqueue_job {
    struct batch_job base;
    const char *queue, *body; /* borrowed until done() */
    int messages;             /* how many `body` holds */
    struct db_list out;
};

/* A dequeue. base.outcome and `out` as db_messages_dequeue answers them (read
 * `out` with db_messages_dequeued; free its rows with db_rows_free). The
 * group takes the service's defaults from its first job. */
struct dequeue_job {
    struct batch_job base;
    const struct dequeue_input *in; /* borrowed until done() */
    struct queue_defaults defaults;
    struct db_list out;
};

/* One or more acks to one queue: message ids[k] with receipts[k]. base.outcome
 * STORE_OK with one outcome per ack in `out` (STORE_OK, STORE_NOT_FOUND or
 * STORE_STALE, in the order given; free with db_messages_ack_results_free), or
 * how the whole failed. */
struct ack_job {
    struct batch_job base;
    const char *queue;
    const char *const *ids, *const *receipts; /* borrowed until done() */
    int count;
    struct ack_results out;
};

extern const struct batcher_kind db_enqueue_kind, db_dequeue_kind, db_ack_kind;

/* Ready a job whose inputs are set for batcher_submit on a batcher of its kind. */
void db_enqueue_prepare(struct enqueue_job *job);
void db_dequeue_prepare(struct dequeue_job *job);
void db_ack_prepare(struct ack_job *job);

struct db_tx;
/* Writes the acks of `job` (readied) as a statement of `tx`, with the same
 * outcomes as through the group commit; a failed statement fails `tx`. */
void db_ack_in(struct db_tx *tx, struct ack_job *job);

#endif
