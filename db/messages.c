/* Store calls for queue messages; see messages.h. */
#include "db/messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "db/rows.h"
#include "db/tx.h"
#include "src/core/log.h"

enum store_outcome db_messages_settle_outcome(const char *word)
{
    if (!strcmp(word, "acked") || !strcmp(word, "requeued") || !strcmp(word, "dead_lettered") || !strcmp(word, "ok"))
        return STORE_OK;
    if (!strcmp(word, "not_found"))
        return STORE_NOT_FOUND;
    if (!strcmp(word, "stale"))
        return STORE_STALE;
    log_error("settle: unknown outcome %s", word);
    return STORE_ERROR;
}

/* Columns of an enqueue's rows (messages_enqueue's; the group statement's after its request index). */
enum { EQ_OUTCOME, EQ_ID, EQ_ENQUEUED_US, EQ_VISIBLE_US, EQ_DUPLICATE };

static bool first_outcome_is(const PGresult *res, const char *word)
{
    return PQntuples(res) > 0 && !strcmp(PQgetvalue(res, 0, EQ_OUTCOME), word);
}

/* The enqueue into a queue with a max_depth, in `tx`: the depth is counted by
 * a statement that starts after the queue's lock, so two batches cannot both fit. */
static enum store_outcome enqueue_locked(struct db_tx *tx, const char *queue, const char *body, PGresult **res)
{
    const char *params[] = {queue, body, "t"};
    PGresult *lock = NULL;
    db_tx_exec(tx, STMT_MESSAGES_DEPTH_LOCK, 1, params, "enqueue depth lock", &lock);
    PQclear(lock);
    return db_tx_exec(tx, STMT_MESSAGES_ENQUEUE, 3, params, "enqueue", res);
}

/* The same in a transaction of its own. */
static enum store_outcome enqueue_locked_alone(struct db_pool *pool, const char *queue, const char *body,
                                               PGresult **res)
{
    struct db_tx tx;
    *res = NULL;
    if (db_tx_begin(pool, &tx) == STORE_OK)
        (void)enqueue_locked(&tx, queue, body, res);
    enum store_outcome outcome = db_tx_end(&tx);
    if (outcome != STORE_OK) {
        PQclear(*res);
        *res = NULL;
    }
    return outcome;
}

/* An enqueue in `tx` when given, else on its own. */
static enum store_outcome enqueue(struct db_pool *pool, struct db_tx *tx, const char *queue, const char *body,
                                  struct db_list *out)
{
    PGresult *res;
    const char *params[] = {queue, body, "f"};
    memset(out, 0, sizeof *out);
    enum store_outcome outcome = db_tx_or_run(pool, tx, STMT_MESSAGES_ENQUEUE, 3, params, "enqueue", &res);
    if (outcome == STORE_OK && first_outcome_is(res, "limited")) {
        PQclear(res);
        outcome = tx ? enqueue_locked(tx, queue, body, &res) : enqueue_locked_alone(pool, queue, body, &res);
    }
    if (outcome != STORE_OK)
        goto out;
    if (first_outcome_is(res, "full")) {
        outcome = STORE_FULL;
        goto out;
    }
    outcome = STORE_CREATED;
    out->count = PQntuples(res);
    out->rows = db_rows_take(&res, 0);
out:
    PQclear(res);
    return outcome;
}

enum store_outcome db_messages_enqueue(struct db_pool *pool, const char *queue, const char *body, struct db_list *out)
{
    return enqueue(pool, NULL, queue, body, out);
}

enum store_outcome db_messages_enqueue_in(struct db_tx *tx, const char *queue, const char *body, struct db_list *out)
{
    return enqueue(NULL, tx, queue, body, out);
}

void db_messages_enqueued(const struct db_list *list, int i, struct enqueued_message *out)
{
    const PGresult *res = list->rows->res;
    int r = list->rows->first + i, c = list->rows->col;
    out->id = PQgetvalue(res, r, c + EQ_ID);
    out->enqueued_us = db_nullable_int(res, r, c + EQ_ENQUEUED_US);
    out->visible_us = db_nullable_int(res, r, c + EQ_VISIBLE_US);
    out->duplicate = db_bool(res, r, c + EQ_DUPLICATE);
}

/* Columns of a dequeue's rows (after the group statement's request index). */
enum { DQ_ID, DQ_TYPE, DQ_DATA, DQ_METADATA, DQ_ENQUEUED_US, DQ_DELIVERY_COUNT, DQ_RECEIPT, DQ_VISIBLE_UNTIL_US };

void db_messages_dequeued(const struct db_list *list, int i, struct dequeued_message *out)
{
    const PGresult *res = list->rows->res;
    int r = list->rows->first + i, c = list->rows->col;
    out->id = PQgetvalue(res, r, c + DQ_ID);
    out->type = PQgetvalue(res, r, c + DQ_TYPE);
    out->data = db_json_at(res, r, c + DQ_DATA);
    out->metadata = db_json_at(res, r, c + DQ_METADATA);
    out->enqueued_us = db_int(res, r, c + DQ_ENQUEUED_US);
    out->delivery_count = db_int(res, r, c + DQ_DELIVERY_COUNT);
    out->receipt = PQgetvalue(res, r, c + DQ_RECEIPT);
    out->visible_until_us = db_int(res, r, c + DQ_VISIBLE_UNTIL_US);
}

void db_messages_ack_results_free(struct ack_results *r)
{
    free(r->items);
    r->items = NULL;
    r->count = 0;
}

static enum store_outcome nack(struct db_pool *pool, struct db_tx *tx, const struct nack_input *in,
                               const struct queue_defaults *defaults)
{
    PGresult *res;
    char delay[24], attempts[24];
    snprintf(delay, sizeof delay, "%lld", (long long)in->delay_seconds);
    snprintf(attempts, sizeof attempts, "%lld", (long long)defaults->max_delivery_attempts);
    const char *params[] = {in->queue, in->id, in->receipt, in->requeue ? "t" : "f", delay, in->reason, attempts};
    enum store_outcome outcome = db_tx_or_run(pool, tx, STMT_MESSAGES_NACK, 7, params, "nack", &res);
    if (outcome == STORE_OK)
        outcome = db_messages_settle_outcome(PQgetvalue(res, 0, 0));
    PQclear(res);
    return outcome;
}

enum store_outcome db_messages_nack(struct db_pool *pool, const struct nack_input *in,
                                    const struct queue_defaults *defaults)
{
    return nack(pool, NULL, in, defaults);
}

enum store_outcome db_messages_nack_in(struct db_tx *tx, const struct nack_input *in,
                                       const struct queue_defaults *defaults)
{
    return nack(NULL, tx, in, defaults);
}

enum store_outcome db_messages_visibility(struct db_pool *pool, const char *queue, const char *id, const char *receipt,
                                          int64_t timeout, int64_t *visible_until_us)
{
    PGresult *res;
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)timeout);
    const char *params[] = {queue, id, receipt, t};
    *visible_until_us = 0;
    enum store_outcome outcome = db_run(pool, STMT_MESSAGES_VISIBILITY, 4, params, "visibility", &res);
    if (outcome == STORE_OK) {
        outcome = db_messages_settle_outcome(PQgetvalue(res, 0, 0));
        *visible_until_us = db_int(res, 0, 1);
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_messages_sweep(struct db_pool *pool, const struct queue_defaults *defaults, int64_t limit,
                                     struct sweep_counts *out)
{
    PGresult *res;
    char attempts[24], lim[24];
    snprintf(attempts, sizeof attempts, "%lld", (long long)defaults->max_delivery_attempts);
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    const char *params[] = {attempts, lim};
    memset(out, 0, sizeof *out);
    enum store_outcome outcome = db_run(pool, STMT_MESSAGES_SWEEP, 2, params, "sweep", &res);
    if (outcome == STORE_OK) {
        out->requeued = db_int(res, 0, 0);
        out->dead_lettered = db_int(res, 0, 1);
        out->expired = db_int(res, 0, 2);
    }
    PQclear(res);
    return outcome;
}
