/* Group commit for appends; see append_group.h.
 *
 * Leader/follower, no extra thread: a request queues itself; while fewer than
 * `max_writers` groups are being written, a waiting request becomes a leader,
 * takes every queued append (up to the limits below) and writes them as one
 * transaction, then wakes the others with their results. One transaction costs
 * PostgreSQL far more than one more event in it, so under load this multiplies
 * appends per second; alone, a request is written at once, as before. */
#include "db/append_group.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/arrays.h"
#include "db/pool.h"
#include "db/rows.h"
#include "src/core/log.h"

/* Positions hold 4096 events per transaction (see append_batch()). */
#define GROUP_MAX_EVENTS 4096
#define GROUP_MAX_APPENDS 256
#define GROUP_MAX_BYTES (1024 * 1024)

struct waiter {
    const struct append_input *in;
    struct append_result *out;
    enum store_outcome outcome;
    size_t body_len;
    int events;
    bool done;
    struct waiter *next;
};

static pthread_mutex_t group_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t group_done = PTHREAD_COND_INITIALIZER;
static struct waiter *queue_head, *queue_tail;
static int writers;

/* Takes queued waiters from the head while they fit one transaction. Locked. */
static struct waiter *take_group(int *count)
{
    struct waiter *first = queue_head, *last = NULL, *w = queue_head;
    int events = 0, n = 0;
    size_t bytes = 0;
    while (w && (n == 0 || (events + w->events <= GROUP_MAX_EVENTS && n < GROUP_MAX_APPENDS &&
                            bytes + w->body_len <= GROUP_MAX_BYTES))) {
        events += w->events;
        bytes += w->body_len;
        n++;
        last = w;
        w = w->next;
    }
    queue_head = w;
    if (!queue_head)
        queue_tail = NULL;
    if (last)
        last->next = NULL;
    *count = n;
    return first;
}

/* Fills each waiter's result from the rows of append_batch(): the rows of one
 * append are adjacent, ordered by offset. */
static bool distribute(const PGresult *res, struct waiter *group, int count)
{
    struct waiter **by_index = xcalloc((size_t)count, sizeof *by_index);
    bool *filled = xcalloc((size_t)count, sizeof *filled);
    int i = 0, rows = PQntuples(res);
    bool ok = true;
    for (struct waiter *w = group; w; w = w->next)
        by_index[i++] = w;
    for (int r = 0; r < rows;) {
        int req = (int)db_int(res, r, 0) - 1;
        int end = r;
        while (end < rows && db_int(res, end, 0) - 1 == req)
            end++;
        if (req < 0 || req >= count || filled[req]) {
            ok = false;
            break;
        }
        struct waiter *w = by_index[req];
        w->outcome = db_events_outcome(PQgetvalue(res, r, 1));
        w->out->current_version = db_int(res, r, 2);
        if (w->outcome == STORE_CREATED || w->outcome == STORE_OK) {
            w->out->count = end - r;
            w->out->events = xcalloc((size_t)w->out->count, sizeof *w->out->events);
            for (int k = 0; k < w->out->count; k++) {
                db_copy(res, r + k, 3, w->out->events[k].id, sizeof w->out->events[k].id);
                w->out->events[k].offset = db_int(res, r + k, 4);
                w->out->events[k].position = db_int(res, r + k, 5);
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

/* Writes the `count` appends of `group` with one call of append_batch(), in one
 * transaction. False when the call failed as a whole (then `*failure` says how)
 * or answered rows that do not fit the group. */
static bool write_batch(struct db_pool *pool, struct waiter *group, int count, enum store_outcome *failure)
{
    struct text streams = {0}, expected = {0}, check_ids = {0}, bodies = {0};
    for (struct waiter *w = group; w; w = w->next) {
        db_array_item(&streams, w->in->stream, strlen(w->in->stream));
        db_array_item(&expected, w->in->expected, strlen(w->in->expected));
        db_array_item(&check_ids, w->in->check_ids ? "t" : "f", 1);
        /* The client's validated JSON as sent: re-printing it through cJSON's
         * doubles would round numbers that jsonb keeps exact. */
        db_array_item(&bodies, w->in->body, w->body_len);
    }
    db_array_end(&streams);
    db_array_end(&expected);
    db_array_end(&check_ids);
    db_array_end(&bodies);

    PGresult *res;
    const char *params[] = {streams.data, expected.data, check_ids.data, bodies.data};
    *failure = db_run(pool, STMT_EVENTS_APPEND, 4, params, "append", &res);
    bool ok = *failure == STORE_OK && distribute(res, group, count);
    if (*failure == STORE_OK && !ok) {
        log_error("append: the answer does not fit the %d appends written", count);
        *failure = STORE_ERROR;
    }
    PQclear(res);
    text_free(&streams);
    text_free(&expected);
    text_free(&check_ids);
    text_free(&bodies);
    return ok;
}

/* Writes `group` in one transaction. When that fails as a whole (two of its
 * appends carry the same new id, one holds data PostgreSQL refuses), writes
 * each append alone, so each gets its own answer. */
static void write_group(struct db_pool *pool, struct waiter *group, int count)
{
    enum store_outcome failure;
    if (write_batch(pool, group, count, &failure))
        return;
    if (count == 1) {
        db_events_append_result_free(group->out);
        memset(group->out, 0, sizeof *group->out);
        group->outcome = failure;
        return;
    }
    for (struct waiter *w = group, *next; w; w = next) {
        next = w->next;
        w->next = NULL;
        db_events_append_result_free(w->out);
        memset(w->out, 0, sizeof *w->out);
        if (!write_batch(pool, w, 1, &failure))
            w->outcome = failure;
        w->next = next;
    }
}

enum store_outcome db_append_group(struct db_pool *pool, const struct append_input *in, struct append_result *out,
                                   int max_writers)
{
    struct waiter self = {
        .in = in, .out = out, .outcome = STORE_ERROR, .body_len = strlen(in->body), .events = in->events};
    memset(out, 0, sizeof *out);

    pthread_mutex_lock(&group_lock);
    if (queue_tail)
        queue_tail->next = &self;
    else
        queue_head = &self;
    queue_tail = &self;
    while (!self.done) {
        if (queue_head && writers < max_writers) {
            int count;
            struct waiter *group = take_group(&count);
            writers++;
            pthread_mutex_unlock(&group_lock);
            write_group(pool, group, count);
            pthread_mutex_lock(&group_lock);
            /* Marked under the lock: waiters read `done` only while holding it. */
            for (struct waiter *w = group; w; w = w->next)
                w->done = true;
            writers--;
            pthread_cond_broadcast(&group_done);
            continue;
        }
        pthread_cond_wait(&group_done, &group_lock);
    }
    pthread_mutex_unlock(&group_lock);
    return self.outcome;
}
