/* Group commit's writer threads; see batcher.h.
 *
 * Writer threads take queued jobs from the head while they fit one group and
 * hand them to the kind's write(); a writer that finds the queue empty sleeps
 * until the next job arrives. */
#include "db/batcher.h"

#include <pthread.h>
#include <stdlib.h>

#include "src/core/log.h"

struct batcher {
    const struct batcher_kind *kind;
    struct db_pool *pool;
    pthread_mutex_t lock;
    pthread_cond_t queued;
    struct batch_job *head, *tail;
    bool stopping;
    int writers;
    pthread_t *threads;
    struct batcher_stats stats; /* under `lock` */
};

/* Counts a group about to be written. Locked. */
static void count_group(struct batcher *b, int count)
{
    int i = 0;
    while (i < BATCHER_SIZE_BUCKETS && count > 1 << i)
        i++;
    b->stats.groups++;
    b->stats.jobs += count;
    b->stats.by_size[i]++;
}

/* Takes queued jobs from the head while they fit one group. Locked. */
static struct batch_job *take_group(struct batcher *b, int *count)
{
    const struct batcher_kind *k = b->kind;
    struct batch_job *first = b->head, *last = NULL, *j = b->head;
    int items = 0, n = 0;
    size_t bytes = 0;
    while (j && (n == 0 || (n < k->max_jobs && items + j->items <= k->max_items && bytes + j->bytes <= k->max_bytes))) {
        items += j->items;
        bytes += j->bytes;
        n++;
        last = j;
        j = j->next;
    }
    b->head = j;
    if (!b->head)
        b->tail = NULL;
    if (last)
        last->next = NULL;
    *count = n;
    return first;
}

/* Writes `group` in one transaction; when that fails as a whole (two of its
 * jobs collide, one holds data PostgreSQL refuses, a deadlock), writes each
 * job alone, so each gets its own answer. */
static void write_group(struct batcher *b, struct batch_job *group, int count)
{
    enum store_outcome failure;
    if (b->kind->write(b->pool, group, count, &failure))
        return;
    if (count == 1) {
        group->outcome = failure;
        return;
    }
    for (struct batch_job *j = group, *next; j; j = next) {
        next = j->next;
        j->next = NULL;
        if (!b->kind->write(b->pool, j, 1, &failure))
            j->outcome = failure;
        j->next = next;
    }
}

static void *writer_main(void *arg)
{
    struct batcher *b = arg;
    pthread_mutex_lock(&b->lock);
    for (;;) {
        while (!b->head && !b->stopping)
            pthread_cond_wait(&b->queued, &b->lock);
        if (!b->head)
            break;
        int count;
        struct batch_job *group = take_group(b, &count);
        count_group(b, count);
        pthread_mutex_unlock(&b->lock);
        write_group(b, group, count);
        for (struct batch_job *j = group, *next; j; j = next) {
            next = j->next; /* done() may free the job */
            j->finished = true;
            j->done(j);
        }
        pthread_mutex_lock(&b->lock);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

struct batcher *batcher_start(const struct batcher_kind *kind, struct db_pool *pool, int writers)
{
    struct batcher *b = xcalloc(1, sizeof *b);
    b->kind = kind;
    b->pool = pool;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->queued, NULL);
    b->threads = xcalloc((size_t)writers, sizeof *b->threads);
    for (; b->writers < writers; b->writers++) {
        if (pthread_create(&b->threads[b->writers], NULL, writer_main, b) != 0) {
            log_error("cannot start %s writer %d", kind->name, b->writers + 1);
            batcher_stop(b);
            return NULL;
        }
    }
    return b;
}

void batcher_stop(struct batcher *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->lock);
    b->stopping = true;
    pthread_cond_broadcast(&b->queued);
    pthread_mutex_unlock(&b->lock);
    for (int i = 0; i < b->writers; i++)
        pthread_join(b->threads[i], NULL);
    pthread_cond_destroy(&b->queued);
    pthread_mutex_destroy(&b->lock);
    free(b->threads);
    free(b);
}

void batcher_submit(struct batcher *b, struct batch_job *job)
{
    job->outcome = STORE_ERROR;
    job->finished = false;
    job->next = NULL;
    pthread_mutex_lock(&b->lock);
    if (b->stopping) {
        pthread_mutex_unlock(&b->lock);
        job->outcome = STORE_UNAVAILABLE;
        job->finished = true;
        job->done(job);
        return;
    }
    if (b->tail)
        b->tail->next = job;
    else
        b->head = job;
    b->tail = job;
    pthread_cond_signal(&b->queued);
    pthread_mutex_unlock(&b->lock);
}

const char *batcher_stats(struct batcher *b, struct batcher_stats *out)
{
    pthread_mutex_lock(&b->lock);
    *out = b->stats;
    pthread_mutex_unlock(&b->lock);
    return b->kind->name;
}
