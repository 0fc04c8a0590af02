/* Transactions of several operations; see transactions.h. */
#include "db/transactions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "db/rows.h"
#include "db/tx.h"

static struct transaction_job *transaction_of(struct batch_job *b)
{
    return (struct transaction_job *)((char *)b - offsetof(struct transaction_job, base));
}

/* Whether the operation did what its single route answers 2xx for. */
static bool op_succeeded(const struct tx_op *op)
{
    switch (op->kind) {
    case TX_APPEND:
        return op->append.base.outcome == STORE_CREATED || op->append.base.outcome == STORE_OK;
    case TX_ENQUEUE:
        return op->enqueue.base.outcome == STORE_CREATED;
    case TX_ACK:
        return op->ack.base.outcome == STORE_OK && op->ack.out.count == 1 && op->ack.out.items[0].outcome == STORE_OK;
    case TX_NACK:
        return op->outcome == STORE_OK;
    case TX_COMMIT_OFFSET:
        return op->outcome == STORE_OK && op->commit.result == CONSUMER_COMMITTED;
    }
    return false;
}

static void run_op(struct db_tx *tx, struct tx_op *op, const struct queue_defaults *defaults)
{
    struct tx_commit_offset *c = &op->commit;
    switch (op->kind) {
    case TX_APPEND:
        db_append_in(tx, &op->append);
        break;
    case TX_ENQUEUE:
        op->enqueue.base.outcome = db_messages_enqueue_in(tx, op->enqueue.queue, op->enqueue.body, &op->enqueue.out);
        break;
    case TX_ACK:
        db_ack_in(tx, &op->ack);
        break;
    case TX_NACK:
        op->outcome = db_messages_nack_in(tx, &op->nack, defaults);
        break;
    case TX_COMMIT_OFFSET:
        op->outcome =
            db_consumers_commit_in(tx, c->stream, c->group, c->offset, c->force, &c->result, &c->out, &c->version);
        break;
    }
}

/* Takes the transaction_id and looks for its earlier answer; true when it was
 * found (then nothing may run) or the lookup failed (`tx` failed with it).
 * `hash` gets the hash of the request's operations. */
static bool answered_before(struct db_tx *tx, struct transaction_job *j, char hash[65])
{
    const char *params[] = {j->transaction_id, j->body};
    PGresult *res = NULL;
    (void)db_tx_exec(tx, STMT_TRANSACTIONS_LOCK, 1, params, "transaction id lock", &res);
    PQclear(res);
    if (db_tx_exec(tx, STMT_TRANSACTIONS_FIND, 2, params, "transaction id lookup", &res) != STORE_OK) {
        PQclear(res);
        return true;
    }
    snprintf(hash, 65, "%s", PQgetvalue(res, 0, 0));
    bool found = !PQgetisnull(res, 0, 2);
    if (found) {
        j->result = db_bool(res, 0, 1) ? TX_REPLAYED : TX_ID_REUSED;
        if (j->result == TX_REPLAYED)
            text_cstr(&j->response, PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return found;
}

/* Runs the operations in order until one does not succeed; when all did,
 * renders the answer and stores it under the transaction_id. */
static void run_ops(struct db_tx *tx, struct transaction_job *j, const char *hash)
{
    for (int i = 0; i < j->count; i++) {
        run_op(tx, &j->ops[i], &j->defaults);
        if (!op_succeeded(&j->ops[i])) {
            j->result = TX_REFUSED;
            j->failed = i;
            db_tx_fail(tx, STORE_ERROR); /* rolls back whatever the earlier ones wrote */
            return;
        }
    }
    j->render(j, &j->response);
    if (j->transaction_id) {
        const char *params[] = {j->transaction_id, hash, j->response.data};
        PGresult *res = NULL;
        (void)db_tx_exec(tx, STMT_TRANSACTIONS_STORE, 3, params, "store transaction", &res);
        PQclear(res);
    }
    if (tx->outcome == STORE_OK)
        j->result = TX_COMMITTED;
}

/* Runs `j` in `tx`: alone (a refusal fails `tx`), or as a part of a group
 * (a savepoint: a refusal undoes only this part). Sets j->result and, when
 * that is TX_FAILED, j->base.outcome. */
static void run_transaction(struct db_tx *tx, struct transaction_job *j, bool part)
{
    char hash[65] = "";
    j->result = TX_FAILED;
    j->failed = -1;
    if (part && !db_tx_part_begin(tx)) {
        j->base.outcome = tx->outcome;
        return;
    }
    if (!(j->transaction_id && answered_before(tx, j, hash)))
        run_ops(tx, j, hash);
    enum store_outcome failure = tx->outcome;
    if (part && !db_tx_part_end(tx) && j->result != TX_REFUSED)
        j->result = TX_FAILED;
    if (j->result == TX_FAILED)
        j->base.outcome = failure != STORE_OK ? failure : tx->outcome != STORE_OK ? tx->outcome : STORE_ERROR;
}

/* Several requests' transactions in one PostgreSQL transaction, one savepoint
 * each, share one commit: a worker's step costs PostgreSQL a commit (and its
 * WAL flush) far more than its statements. Each request is answered as if it
 * ran alone, in this order; one that is refused rolls back to its savepoint. */
static bool write_transactions(struct db_pool *pool, struct batch_job *group, int count, enum store_outcome *failure)
{
    (void)failure;
    struct db_tx tx;
    enum store_outcome begun = db_tx_begin(pool, &tx);
    for (struct batch_job *b = group; b; b = b->next) {
        struct transaction_job *j = transaction_of(b);
        j->result = TX_FAILED;
        j->failed = -1;
        j->base.outcome = begun;
        if (begun == STORE_OK)
            run_transaction(&tx, j, count > 1);
    }
    enum store_outcome end = db_tx_end(&tx);
    for (struct batch_job *b = group; b; b = b->next) {
        struct transaction_job *j = transaction_of(b);
        if (j->result == TX_REFUSED || (end == STORE_OK && j->result != TX_FAILED)) {
            j->base.outcome = STORE_OK;
            continue;
        }
        /* Nothing was applied (a failed COMMIT included); a link lost during
         * the COMMIT leaves it unknown, which a retry with the transaction_id
         * settles. */
        if (j->result != TX_FAILED || j->base.outcome == STORE_OK)
            j->base.outcome = end != STORE_OK ? end : STORE_ERROR;
        j->result = TX_FAILED;
        text_free(&j->response);
        memset(&j->response, 0, sizeof j->response);
    }
    return true;
}

/* A group stays below PostgreSQL's cache of 64 subtransactions per
 * transaction (past it every snapshot slows down), and within the 4096
 * events one transaction's positions hold (append_batch()). */
const struct batcher_kind db_transaction_kind = {
    .name = "transaction",
    .max_jobs = 32,
    .max_items = TX_MAX_EVENTS,
    .max_bytes = 1024 * 1024,
    .write = write_transactions,
};

void db_transaction_prepare(struct transaction_job *job)
{
    job->base.items = 0;
    for (int i = 0; i < job->count; i++)
        if (job->ops[i].kind == TX_APPEND)
            job->base.items += job->ops[i].append.in->events;
    job->base.bytes = strlen(job->body);
    job->failed = -1;
    memset(&job->response, 0, sizeof job->response);
}

void db_transaction_results_free(struct transaction_job *job)
{
    for (int i = 0; i < job->count; i++) {
        struct tx_op *op = &job->ops[i];
        db_events_append_result_free(&op->append.out);
        db_rows_free(op->enqueue.out.rows);
        op->enqueue.out.rows = NULL;
        db_messages_ack_results_free(&op->ack.out);
    }
    text_free(&job->response);
    memset(&job->response, 0, sizeof job->response);
}

enum store_outcome db_transactions_expire(struct db_pool *pool, int64_t max_age_seconds, int limit, int64_t *deleted)
{
    char age[24], lim[24];
    snprintf(age, sizeof age, "%lld", (long long)max_age_seconds);
    snprintf(lim, sizeof lim, "%d", limit);
    const char *params[] = {age, lim};
    PGresult *res;
    *deleted = 0;
    enum store_outcome outcome = db_run(pool, STMT_TRANSACTIONS_EXPIRE, 2, params, "expire transactions", &res);
    if (outcome == STORE_OK)
        *deleted = db_int(res, 0, 0);
    PQclear(res);
    return outcome;
}
