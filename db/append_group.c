/* Group commit for appends; see append_group.h. */
#include "db/append_group.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "db/arrays.h"
#include "db/pool.h"
#include "db/rows.h"
#include "db/tx.h"
#include "src/core/log.h"

static struct append_job *append_job_of(struct batch_job *b)
{
    return (struct append_job *)((char *)b - offsetof(struct append_job, base));
}

/* Positions hold 4096 events per transaction (see append_batch()). */
#define GROUP_MAX_EVENTS 4096
#define GROUP_MAX_APPENDS 256
#define GROUP_MAX_BYTES (1024 * 1024)

/* Fills each waiter's result from the rows of append_batch(): the rows of one
 * append are adjacent, ordered by offset. */
static bool distribute(const PGresult *res, struct batch_job *group, int count)
{
    struct append_job **by_index = xcalloc((size_t)count, sizeof *by_index);
    bool *filled = xcalloc((size_t)count, sizeof *filled);
    int i = 0, rows = PQntuples(res);
    bool ok = true;
    for (struct batch_job *j = group; j; j = j->next)
        by_index[i++] = append_job_of(j);
    for (int r = 0; r < rows;) {
        int req = (int)db_int(res, r, 0) - 1;
        int end = r;
        while (end < rows && db_int(res, end, 0) - 1 == req)
            end++;
        if (req < 0 || req >= count || filled[req]) {
            ok = false;
            break;
        }
        struct append_job *j = by_index[req];
        j->base.outcome = db_events_outcome(PQgetvalue(res, r, 1));
        j->out.current_version = db_int(res, r, 2);
        if (j->base.outcome == STORE_CREATED || j->base.outcome == STORE_OK) {
            j->out.count = end - r;
            j->out.events = xcalloc((size_t)j->out.count, sizeof *j->out.events);
            for (int k = 0; k < j->out.count; k++) {
                db_copy(res, r + k, 3, j->out.events[k].id, sizeof j->out.events[k].id);
                j->out.events[k].offset = db_int(res, r + k, 4);
                j->out.events[k].position = db_int(res, r + k, 5);
            }
        }
        filled[req] = true;
        r = end;
    }
    for (i = 0; i < count; i++)
        ok &= filled[i];
    free(filled);
    free(by_index);
    return ok;
}

/* Writes the `count` appends of `group` with one call of append_batch(), in
 * `tx` when given, else in a transaction of its own. False when the call failed
 * as a whole (then `*failure` says how) or answered rows that do not fit the group. */
static bool write_appends(struct db_pool *pool, struct db_tx *tx, struct batch_job *group, int count,
                          enum store_outcome *failure)
{
    struct text streams = {0}, expected = {0}, check_ids = {0}, bodies = {0};
    for (struct batch_job *b = group; b; b = b->next) {
        const struct append_job *j = append_job_of(b);
        db_array_item(&streams, j->in->stream, strlen(j->in->stream));
        db_array_item(&expected, j->in->expected, strlen(j->in->expected));
        db_array_item(&check_ids, j->in->check_ids ? "t" : "f", 1);
        /* The client's validated JSON as sent: re-printing it through cJSON's
         * doubles would round numbers that jsonb keeps exact. */
        db_array_item(&bodies, j->in->body, j->base.bytes);
    }
    db_array_end(&streams);
    db_array_end(&expected);
    db_array_end(&check_ids);
    db_array_end(&bodies);

    PGresult *res;
    const char *params[] = {streams.data, expected.data, check_ids.data, bodies.data};
    *failure = db_tx_or_run(pool, tx, STMT_EVENTS_APPEND, 4, params, "append", &res);
    bool ok = *failure == STORE_OK && distribute(res, group, count);
    if (*failure == STORE_OK && !ok) {
        log_error("append: the answer does not fit the %d appends written", count);
        *failure = STORE_ERROR;
    }
    if (!ok)
        for (struct batch_job *b = group; b; b = b->next) {
            db_events_append_result_free(&append_job_of(b)->out);
            memset(&append_job_of(b)->out, 0, sizeof append_job_of(b)->out);
        }
    PQclear(res);
    text_free(&streams);
    text_free(&expected);
    text_free(&check_ids);
    text_free(&bodies);
    return ok;
}

static bool write_batch(struct db_pool *pool, struct batch_job *group, int count, enum store_outcome *failure)
{
    return write_appends(pool, NULL, group, count, failure);
}

void db_append_in(struct db_tx *tx, struct append_job *job)
{
    enum store_outcome failure;
    job->base.next = NULL;
    if (!write_appends(NULL, tx, &job->base, 1, &failure)) {
        job->base.outcome = failure;
        db_tx_fail(tx, failure);
    }
}

const struct batcher_kind db_append_kind = {
    .name = "append",
    .max_jobs = GROUP_MAX_APPENDS,
    .max_items = GROUP_MAX_EVENTS,
    .max_bytes = GROUP_MAX_BYTES,
    .write = write_batch,
};

void db_append_prepare(struct append_job *job)
{
    memset(&job->out, 0, sizeof job->out);
    job->base.items = job->in->events;
    job->base.bytes = strlen(job->in->body);
}
