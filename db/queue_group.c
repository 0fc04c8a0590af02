/* Group commit for queue operations; see queue_group.h. Each write function
 * builds one typed array per column from the group's jobs, runs its group
 * statement (db/statements.c) in one transaction, and hands each job its rows. */
#include "db/queue_group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/arrays.h"
#include "db/pool.h"
#include "db/rows.h"
#include "db/tx.h"
#include "src/core/log.h"

#define CONTAINER(ptr, type) ((type *)(void *)((char *)(ptr)-offsetof(type, base)))

/* What one group statement may carry: PostgreSQL takes far larger arrays, but a
 * group this size already costs little per job, and a bigger one keeps the
 * first of its requests waiting longer. */
#define GROUP_MAX_JOBS 256
#define GROUP_MAX_ROWS 4096
#define GROUP_MAX_BYTES (1024 * 1024)
#define QUEUE_KIND(word, fn)                                                                                           \
    {                                                                                                                  \
        .name = word, .max_jobs = GROUP_MAX_JOBS, .max_items = GROUP_MAX_ROWS, .max_bytes = GROUP_MAX_BYTES,           \
        .write = fn                                                                                                    \
    }

/* The request index (1-based, column 0) of row `r`. */
static int request_of(const PGresult *res, int r)
{
    return (int)db_int(res, r, 0);
}

/* Runs a group statement with the typed-array literals `arrays` (freed here)
 * as its first parameters; false when it failed (`*failure` says how). */
static bool run_group(struct db_pool *pool, struct db_tx *tx, enum stmt_id id, const char *what, struct text *arrays,
                      int narrays, const char *const *more, int nmore, enum store_outcome *failure, PGresult **res)
{
    const char *params[8];
    for (int i = 0; i < narrays; i++)
        params[i] = arrays[i].data;
    for (int i = 0; i < nmore; i++)
        params[narrays + i] = more[i];
    *failure = db_tx_or_run(pool, tx, id, narrays + nmore, params, what, res);
    for (int i = 0; i < narrays; i++)
        text_free(&arrays[i]);
    if (*failure == STORE_OK)
        return true;
    PQclear(*res);
    *res = NULL;
    return false;
}

/* ---- enqueue ---- */

/* Enqueues into a queue with a max_depth: the group statement wrote nothing
 * for it; the depth check needs the queue's lock (db_messages_enqueue). */
static void enqueue_alone(struct db_pool *pool, struct enqueue_job *j)
{
    db_rows_free(j->out.rows);
    memset(&j->out, 0, sizeof j->out);
    j->base.outcome = db_messages_enqueue(pool, j->queue, j->body, &j->out);
}

static bool write_enqueues(struct db_pool *pool, struct batch_job *group, int count, enum store_outcome *failure)
{
    struct text arrays[2] = {{0}}; /* queues, bodies */
    for (struct batch_job *b = group; b; b = b->next) {
        struct enqueue_job *j = CONTAINER(b, struct enqueue_job);
        db_array_item(&arrays[0], j->queue, strlen(j->queue));
        db_array_item(&arrays[1], j->body, b->bytes);
    }
    for (int i = 0; i < 2; i++)
        db_array_end(&arrays[i]);
    PGresult *res;
    if (!run_group(pool, NULL, STMT_QUEUE_GROUP_ENQUEUE, "enqueue", arrays, 2, NULL, 0, failure, &res))
        return false;
    const PGresult *rows = res;
    struct db_rows_shared *shared = db_rows_share(&res);
    int r = 0, n = PQntuples(rows), req = 1;
    bool ok = true;
    for (struct batch_job *b = group; b && ok; b = b->next, req++) {
        struct enqueue_job *j = CONTAINER(b, struct enqueue_job);
        int first = r;
        while (r < n && request_of(rows, r) == req)
            r++;
        ok = r - first == j->messages;
        if (!ok)
            break;
        if (!strcmp(PQgetvalue(rows, first, 1), "limited")) {
            j->base.outcome = STORE_OK; /* written below, once the group's rows are handed out */
            continue;
        }
        j->base.outcome = STORE_CREATED;
        j->out.count = j->messages;
        j->out.rows = db_rows_slice(shared, 1, first);
    }
    db_rows_unshare(shared);
    if (!ok || r != n) {
        log_error("enqueue: the answer does not fit the %d enqueues written", count);
        for (struct batch_job *b = group; b; b = b->next) {
            struct enqueue_job *j = CONTAINER(b, struct enqueue_job);
            db_rows_free(j->out.rows);
            memset(&j->out, 0, sizeof j->out);
        }
        *failure = STORE_ERROR;
        return false;
    }
    for (struct batch_job *b = group; b; b = b->next)
        if (b->outcome == STORE_OK)
            enqueue_alone(pool, CONTAINER(b, struct enqueue_job));
    return true;
}

const struct batcher_kind db_enqueue_kind = QUEUE_KIND("enqueue", write_enqueues);

void db_enqueue_prepare(struct enqueue_job *job)
{
    memset(&job->out, 0, sizeof job->out);
    job->base.items = job->messages;
    job->base.bytes = strlen(job->body);
}

/* ---- dequeue ---- */

static bool write_dequeues(struct db_pool *pool, struct batch_job *group, int count, enum store_outcome *failure)
{
    struct text arrays[4] = {{0}}; /* queues, max_messages, visibility timeouts, consumers */
    const struct queue_defaults *d = &CONTAINER(group, struct dequeue_job)->defaults;
    for (struct batch_job *b = group; b; b = b->next) {
        const struct dequeue_input *in = CONTAINER(b, struct dequeue_job)->in;
        db_array_item(&arrays[0], in->queue, strlen(in->queue));
        db_array_int(&arrays[1], in->max_messages);
        if (in->visibility_timeout >= 0)
            db_array_int(&arrays[2], in->visibility_timeout);
        else
            db_array_null(&arrays[2]);
        if (in->consumer)
            db_array_item(&arrays[3], in->consumer, strlen(in->consumer));
        else
            db_array_null(&arrays[3]);
    }
    for (int i = 0; i < 4; i++)
        db_array_end(&arrays[i]);
    char dvt[24], dattempts[24];
    snprintf(dvt, sizeof dvt, "%lld", (long long)d->visibility_timeout);
    snprintf(dattempts, sizeof dattempts, "%lld", (long long)d->max_delivery_attempts);
    const char *defaults[] = {dvt, dattempts};
    PGresult *res;
    if (!run_group(pool, NULL, STMT_QUEUE_GROUP_DEQUEUE, "dequeue", arrays, 4, defaults, 2, failure, &res))
        return false;
    const PGresult *rows = res;
    struct db_rows_shared *shared = db_rows_share(&res);
    int r = 0, n = PQntuples(rows), req = 1;
    for (struct batch_job *b = group; b; b = b->next, req++) {
        struct dequeue_job *j = CONTAINER(b, struct dequeue_job);
        int first = r;
        while (r < n && request_of(rows, r) == req)
            r++;
        j->base.outcome = STORE_OK;
        j->out.count = r - first;
        j->out.rows = j->out.count > 0 ? db_rows_slice(shared, 1, first) : NULL;
    }
    db_rows_unshare(shared);
    if (r != n)
        /* Messages leased for no request would stay invisible until their lease
         * ran out; never expected, as the rows come ordered by request. */
        log_error("dequeue: %d leased messages fit none of the %d dequeues", n - r, count);
    return true;
}

const struct batcher_kind db_dequeue_kind = QUEUE_KIND("dequeue", write_dequeues);

void db_dequeue_prepare(struct dequeue_job *job)
{
    memset(&job->out, 0, sizeof job->out);
    job->base.items = (int)job->in->max_messages;
    job->base.bytes = strlen(job->in->queue) + (job->in->consumer ? strlen(job->in->consumer) : 0);
}

/* ---- ack ---- */

/* The acks of `group` in `tx` when given, else in a transaction of their own. */
static bool write_acks_in(struct db_pool *pool, struct db_tx *tx, struct batch_job *group, int count,
                          enum store_outcome *failure)
{
    struct text arrays[3] = {{0}}; /* queues, ids, receipts */
    int total = 0;
    for (struct batch_job *b = group; b; b = b->next) {
        const struct ack_job *j = CONTAINER(b, struct ack_job);
        for (int k = 0; k < j->count; k++) {
            db_array_item(&arrays[0], j->queue, strlen(j->queue));
            db_array_item(&arrays[1], j->ids[k], strlen(j->ids[k]));
            db_array_item(&arrays[2], j->receipts[k], strlen(j->receipts[k]));
        }
        total += j->count;
    }
    for (int i = 0; i < 3; i++)
        db_array_end(&arrays[i]);
    PGresult *res;
    if (!run_group(pool, tx, STMT_QUEUE_GROUP_ACK, "ack", arrays, 3, NULL, 0, failure, &res))
        return false;
    if (PQntuples(res) != total) {
        log_error("ack: %d answers for the %d acks of %d requests", PQntuples(res), total, count);
        *failure = STORE_ERROR;
        PQclear(res);
        return false;
    }
    int r = 0;
    for (struct batch_job *b = group; b; b = b->next) {
        struct ack_job *j = CONTAINER(b, struct ack_job);
        j->out.count = j->count;
        j->out.items = xcalloc((size_t)j->count + 1, sizeof *j->out.items);
        j->base.outcome = STORE_OK;
        for (int k = 0; k < j->count; k++, r++) {
            snprintf(j->out.items[k].id, sizeof j->out.items[k].id, "%s", j->ids[k]);
            j->out.items[k].outcome = db_messages_settle_outcome(PQgetvalue(res, r, 0));
            if (j->out.items[k].outcome == STORE_ERROR)
                j->base.outcome = STORE_ERROR;
        }
    }
    PQclear(res);
    return true;
}

static bool write_acks(struct db_pool *pool, struct batch_job *group, int count, enum store_outcome *failure)
{
    return write_acks_in(pool, NULL, group, count, failure);
}

const struct batcher_kind db_ack_kind = QUEUE_KIND("ack", write_acks);

void db_ack_in(struct db_tx *tx, struct ack_job *job)
{
    enum store_outcome failure;
    job->base.next = NULL;
    if (!write_acks_in(NULL, tx, &job->base, 1, &failure)) {
        job->base.outcome = failure;
        db_tx_fail(tx, failure);
    }
}

void db_ack_prepare(struct ack_job *job)
{
    memset(&job->out, 0, sizeof job->out);
    job->base.items = job->count;
    job->base.bytes = 0;
    for (int k = 0; k < job->count; k++)
        job->base.bytes += strlen(job->ids[k]) + strlen(job->receipts[k]);
}
