/* A transaction of several operations (POST /transactions): appends,
 * enqueues, acks, nacks and consumer commits run in the order given, in one
 * PostgreSQL transaction on one connection, each with the statement its single
 * route uses (db/append_group.h, db/queue_group.h, db/messages.h,
 * db/consumers.h) and each with that route's outcome. It commits only when
 * every operation succeeded. It goes through a batcher (db/batcher.h) of its
 * own, so that the request waits suspended and no HTTP thread waits on
 * PostgreSQL; the transactions of a group share one PostgreSQL transaction,
 * each in a savepoint of its own, and one commit. */
#ifndef STREAMQ_DB_TRANSACTIONS_H
#define STREAMQ_DB_TRANSACTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "db/append_group.h"
#include "db/batcher.h"
#include "db/consumers.h"
#include "db/messages.h"
#include "db/queue_group.h"
#include "src/core/text.h"

/* Events one transaction may append: positions hold 4096 per PostgreSQL
 * transaction (see append_batch()). */
#define TX_MAX_EVENTS 4096

enum tx_op_kind { TX_APPEND, TX_ENQUEUE, TX_ACK, TX_NACK, TX_COMMIT_OFFSET };

/* A consumer commit: inputs, then what db_consumers_commit answers. */
struct tx_commit_offset {
    const char *stream, *group;
    int64_t offset;
    bool force;
    enum consumer_commit_outcome result;
    struct consumer out;
    int64_t version;
};

/* One operation: its inputs, set by the caller as for the single route, and its
 * outcome, set by the writer (read through the job of its kind: the append's
 * and enqueue's base.outcome, the ack's base.outcome and out.items[0], `outcome`
 * for nack and commit_offset). */
struct tx_op {
    enum tx_op_kind kind;
    struct append_job append;
    struct enqueue_job enqueue;
    struct ack_job ack;
    struct nack_input nack;
    struct tx_commit_offset commit;
    enum store_outcome outcome; /* nack and commit_offset */
};

enum tx_result {
    TX_COMMITTED, /* every operation succeeded; `response` holds the answer */
    TX_REFUSED,   /* operation `failed` did not succeed: nothing was applied */
    TX_REPLAYED,  /* transaction_id committed before: `response` is its answer, nothing ran */
    TX_ID_REUSED, /* transaction_id committed before with other operations: nothing ran */
    TX_FAILED,    /* base.outcome says how (unavailable, error): nothing was applied */
};

struct transaction_job {
    struct batch_job base;
    struct tx_op *ops; /* borrowed until done() */
    int count;
    const char *transaction_id; /* NULL when the client sent none */
    const char *body;           /* the request, for the hash of its operations */
    struct queue_defaults defaults;
    /* Renders the answer of a transaction whose operations all succeeded (on a
     * writer thread, before the commit, as the answer is stored with it). */
    void (*render)(const struct transaction_job *job, struct text *out);
    /* Set before done(). */
    enum tx_result result;
    int failed;
    struct text response;
};

/* The kind of batcher that runs transactions (batcher_start). */
extern const struct batcher_kind db_transaction_kind;

/* Readies `job` (inputs set) for batcher_submit. */
void db_transaction_prepare(struct transaction_job *job);
/* Releases what the writer filled in, the operations' results included. */
void db_transaction_results_free(struct transaction_job *job);

/* Deletes up to `limit` remembered transactions older than `max_age_seconds`;
 * `*deleted` is how many. */
enum store_outcome db_transactions_expire(struct db_pool *pool, int64_t max_age_seconds, int limit,
                                          int64_t *deleted) MUST_CHECK;

#endif
