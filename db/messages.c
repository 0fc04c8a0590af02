/* Store calls for queue messages; see messages.h. */
#include "db/messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "db/rows.h"
#include "db/tx.h"
#include "src/core/log.h"

static enum store_outcome settle_outcome(const char *word)
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

/* Columns of the enqueue statement. */
enum { EQ_OUTCOME, EQ_ID, EQ_ENQUEUED_US, EQ_VISIBLE_US, EQ_DUPLICATE };

static bool first_outcome_is(const PGresult *res, const char *word)
{
    return PQntuples(res) > 0 && !strcmp(PQgetvalue(res, 0, EQ_OUTCOME), word);
}

/* The enqueue into a queue with a max_depth: the depth is counted by a statement
 * that starts after the queue's lock, so two batches cannot both fit. */
static enum store_outcome enqueue_locked(struct db_pool *pool, const char *queue, const char *body, PGresult **res)
{
    const char *params[] = {queue, body, "t"};
    struct db_tx tx;
    PGresult *lock = NULL;
    *res = NULL;
    if (db_tx_begin(pool, &tx) == STORE_OK) {
        db_tx_exec(&tx, STMT_MESSAGES_DEPTH_LOCK, 1, params, "enqueue depth lock", &lock);
        PQclear(lock);
        db_tx_exec(&tx, STMT_MESSAGES_ENQUEUE, 3, params, "enqueue", res);
    }
    enum store_outcome outcome = db_tx_end(&tx);
    if (outcome != STORE_OK) {
        PQclear(*res);
        *res = NULL;
    }
    return outcome;
}

enum store_outcome db_messages_enqueue(struct db_pool *pool, const char *queue, const char *body, struct db_list *out)
{
    PGresult *res;
    const char *params[] = {queue, body, "f"};
    memset(out, 0, sizeof *out);
    enum store_outcome outcome = db_run(pool, STMT_MESSAGES_ENQUEUE, 3, params, "enqueue", &res);
    if (outcome == STORE_OK && first_outcome_is(res, "limited")) {
        PQclear(res);
        outcome = enqueue_locked(pool, queue, body, &res);
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

void db_messages_enqueued(const struct db_list *list, int i, struct enqueued_message *out)
{
    const PGresult *res = list->rows->res;
    out->id = PQgetvalue(res, i, EQ_ID);
    out->enqueued_us = db_nullable_int(res, i, EQ_ENQUEUED_US);
    out->visible_us = db_nullable_int(res, i, EQ_VISIBLE_US);
    out->duplicate = db_bool(res, i, EQ_DUPLICATE);
}

/* Columns of the dequeue statement. */
enum { DQ_ID, DQ_TYPE, DQ_DATA, DQ_METADATA, DQ_ENQUEUED_US, DQ_DELIVERY_COUNT, DQ_RECEIPT, DQ_VISIBLE_UNTIL_US };

enum store_outcome db_messages_dequeue(struct db_pool *pool, const struct dequeue_input *in,
                                       const struct queue_defaults *defaults, struct db_list *out)
{
    PGresult *res;
    char max[24], vt[24], dvt[24], dattempts[24];
    snprintf(max, sizeof max, "%lld", (long long)in->max_messages);
    snprintf(vt, sizeof vt, "%lld", (long long)in->visibility_timeout);
    snprintf(dvt, sizeof dvt, "%lld", (long long)defaults->visibility_timeout);
    snprintf(dattempts, sizeof dattempts, "%lld", (long long)defaults->max_delivery_attempts);
    const char *params[] = {in->queue, max, in->visibility_timeout >= 0 ? vt : NULL, in->consumer, dvt, dattempts};
    memset(out, 0, sizeof *out);
    enum store_outcome outcome = db_run(pool, STMT_MESSAGES_DEQUEUE, 6, params, "dequeue", &res);
    if (outcome == STORE_OK) {
        out->count = PQntuples(res);
        out->rows = db_rows_take(&res, 0);
    }
    PQclear(res);
    return outcome;
}

void db_messages_dequeued(const struct db_list *list, int i, struct dequeued_message *out)
{
    const PGresult *res = list->rows->res;
    out->id = PQgetvalue(res, i, DQ_ID);
    out->type = PQgetvalue(res, i, DQ_TYPE);
    out->data = db_json_at(res, i, DQ_DATA);
    out->metadata = db_json_at(res, i, DQ_METADATA);
    out->enqueued_us = db_int(res, i, DQ_ENQUEUED_US);
    out->delivery_count = db_int(res, i, DQ_DELIVERY_COUNT);
    out->receipt = PQgetvalue(res, i, DQ_RECEIPT);
    out->visible_until_us = db_int(res, i, DQ_VISIBLE_UNTIL_US);
}

enum store_outcome db_messages_ack(struct db_pool *pool, const char *queue, const char *id, const char *receipt)
{
    PGresult *res;
    const char *params[] = {queue, id, receipt};
    enum store_outcome outcome = db_run(pool, STMT_MESSAGES_ACK, 3, params, "ack", &res);
    if (outcome == STORE_OK)
        outcome = settle_outcome(PQgetvalue(res, 0, 0));
    PQclear(res);
    return outcome;
}

enum store_outcome db_messages_ack_batch(struct db_pool *pool, const char *queue, const char *body,
                                         struct ack_results *out)
{
    PGresult *res;
    const char *params[] = {queue, body};
    memset(out, 0, sizeof *out);
    enum store_outcome outcome = db_run(pool, STMT_MESSAGES_ACK_BATCH, 2, params, "batch ack", &res);
    if (outcome == STORE_OK) {
        out->count = PQntuples(res);
        out->items = xcalloc((size_t)out->count + 1, sizeof *out->items);
    }
    for (int i = 0; outcome == STORE_OK && i < out->count; i++) {
        db_copy(res, i, 0, out->items[i].id, sizeof out->items[i].id);
        out->items[i].outcome = settle_outcome(PQgetvalue(res, i, 1));
        if (out->items[i].outcome == STORE_ERROR)
            outcome = STORE_ERROR;
    }
    if (outcome != STORE_OK)
        db_messages_ack_results_free(out);
    PQclear(res);
    return outcome;
}

void db_messages_ack_results_free(struct ack_results *r)
{
    free(r->items);
    r->items = NULL;
    r->count = 0;
}

enum store_outcome db_messages_nack(struct db_pool *pool, const struct nack_input *in,
                                    const struct queue_defaults *defaults)
{
    PGresult *res;
    char delay[24], attempts[24];
    snprintf(delay, sizeof delay, "%lld", (long long)in->delay_seconds);
    snprintf(attempts, sizeof attempts, "%lld", (long long)defaults->max_delivery_attempts);
    const char *params[] = {in->queue, in->id, in->receipt, in->requeue ? "t" : "f", delay, in->reason, attempts};
    enum store_outcome outcome = db_run(pool, STMT_MESSAGES_NACK, 7, params, "nack", &res);
    if (outcome == STORE_OK)
        outcome = settle_outcome(PQgetvalue(res, 0, 0));
    PQclear(res);
    return outcome;
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
        outcome = settle_outcome(PQgetvalue(res, 0, 0));
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
