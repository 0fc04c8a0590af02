/* Group commit for appends; see append_group.h.
 *
 * Writer threads take queued appends from the head while they fit one
 * transaction and write them with one statement; a writer that finds the
 * queue empty sleeps until the next append arrives. */
#include "db/append_group.h"

#include <pthread.h>
#include <stdbool.h>
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

struct append_group {
    struct db_pool *pool;
    pthread_mutex_t lock;
    pthread_cond_t queued;
    struct append_job *head, *tail;
    bool stopping;
    int writers;
    pthread_t *threads;
    struct append_group_stats stats; /* under `lock` */
};

/* Counts a group about to be written. Locked. */
static void count_group(struct append_group *g, int count)
{
    int b = 0;
    while (b < APPEND_GROUP_BUCKETS && count > 1 << b)
        b++;
    g->stats.groups++;
    g->stats.appends += count;
    g->stats.by_size[b]++;
}

/* Takes queued jobs from the head while they fit one transaction. Locked. */
static struct append_job *take_group(struct append_group *g, int *count)
{
    struct append_job *first = g->head, *last = NULL, *j = g->head;
    int events = 0, n = 0;
    size_t bytes = 0;
    while (j && (n == 0 || (events + j->in->events <= GROUP_MAX_EVENTS && n < GROUP_MAX_APPENDS &&
                            bytes + j->body_len <= GROUP_MAX_BYTES))) {
        events += j->in->events;
        bytes += j->body_len;
        n++;
        last = j;
        j = j->next;
    }
    g->head = j;
    if (!g->head)
        g->tail = NULL;
    if (last)
        last->next = NULL;
    *count = n;
    return first;
}

/* Fills each waiter's result from the rows of append_batch(): the rows of one
 * append are adjacent, ordered by offset. */
static bool distribute(const PGresult *res, struct append_job *group, int count)
{
    struct append_job **by_index = xcalloc((size_t)count, sizeof *by_index);
    bool *filled = xcalloc((size_t)count, sizeof *filled);
    int i = 0, rows = PQntuples(res);
    bool ok = true;
    for (struct append_job *j = group; j; j = j->next)
        by_index[i++] = j;
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
        j->outcome = db_events_outcome(PQgetvalue(res, r, 1));
        j->out.current_version = db_int(res, r, 2);
        if (j->outcome == STORE_CREATED || j->outcome == STORE_OK) {
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

/* Writes the `count` appends of `group` with one call of append_batch(), in one
 * transaction. False when the call failed as a whole (then `*failure` says how)
 * or answered rows that do not fit the group. */
static bool write_batch(struct db_pool *pool, struct append_job *group, int count, enum store_outcome *failure)
{
    struct text streams = {0}, expected = {0}, check_ids = {0}, bodies = {0};
    for (struct append_job *j = group; j; j = j->next) {
        db_array_item(&streams, j->in->stream, strlen(j->in->stream));
        db_array_item(&expected, j->in->expected, strlen(j->in->expected));
        db_array_item(&check_ids, j->in->check_ids ? "t" : "f", 1);
        /* The client's validated JSON as sent: re-printing it through cJSON's
         * doubles would round numbers that jsonb keeps exact. */
        db_array_item(&bodies, j->in->body, j->body_len);
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
static void write_group(struct db_pool *pool, struct append_job *group, int count)
{
    enum store_outcome failure;
    if (write_batch(pool, group, count, &failure))
        return;
    if (count == 1) {
        db_events_append_result_free(&group->out);
        memset(&group->out, 0, sizeof group->out);
        group->outcome = failure;
        return;
    }
    for (struct append_job *j = group, *next; j; j = next) {
        next = j->next;
        j->next = NULL;
        db_events_append_result_free(&j->out);
        memset(&j->out, 0, sizeof j->out);
        if (!write_batch(pool, j, 1, &failure))
            j->outcome = failure;
        j->next = next;
    }
}

static void *writer_main(void *arg)
{
    struct append_group *g = arg;
    pthread_mutex_lock(&g->lock);
    for (;;) {
        while (!g->head && !g->stopping)
            pthread_cond_wait(&g->queued, &g->lock);
        if (!g->head)
            break;
        int count;
        struct append_job *group = take_group(g, &count);
        count_group(g, count);
        pthread_mutex_unlock(&g->lock);
        write_group(g->pool, group, count);
        for (struct append_job *j = group, *next; j; j = next) {
            next = j->next; /* done() may free the job */
            j->done(j);
        }
        pthread_mutex_lock(&g->lock);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

struct append_group *append_group_start(struct db_pool *pool, int writers)
{
    struct append_group *g = xcalloc(1, sizeof *g);
    g->pool = pool;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->queued, NULL);
    g->threads = xcalloc((size_t)writers, sizeof *g->threads);
    for (; g->writers < writers; g->writers++) {
        if (pthread_create(&g->threads[g->writers], NULL, writer_main, g) != 0) {
            log_error("cannot start append writer %d", g->writers + 1);
            append_group_stop(g);
            return NULL;
        }
    }
    return g;
}

void append_group_stop(struct append_group *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_broadcast(&g->queued);
    pthread_mutex_unlock(&g->lock);
    for (int i = 0; i < g->writers; i++)
        pthread_join(g->threads[i], NULL);
    pthread_cond_destroy(&g->queued);
    pthread_mutex_destroy(&g->lock);
    free(g->threads);
    free(g);
}

void db_append_submit(struct append_group *g, struct append_job *job)
{
    memset(&job->out, 0, sizeof job->out);
    job->outcome = STORE_ERROR;
    job->body_len = strlen(job->in->body);
    job->next = NULL;
    pthread_mutex_lock(&g->lock);
    if (g->stopping) {
        pthread_mutex_unlock(&g->lock);
        job->outcome = STORE_UNAVAILABLE;
        job->done(job);
        return;
    }
    if (g->tail)
        g->tail->next = job;
    else
        g->head = job;
    g->tail = job;
    pthread_cond_signal(&g->queued);
    pthread_mutex_unlock(&g->lock);
}

void append_group_stats(struct append_group *g, struct append_group_stats *out)
{
    pthread_mutex_lock(&g->lock);
    *out = g->stats;
    pthread_mutex_unlock(&g->lock);
}
