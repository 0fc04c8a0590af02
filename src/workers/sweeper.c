/* Sweeper thread; see sweeper.h. */
#include "src/workers/sweeper.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "db/messages.h"
#include "src/core/log.h"

/* Rows per sweep step; a full step is followed at once by another. */
#define SWEEP_BATCH 1000
#define SWEEP_MAX_STEPS 50

struct sweeper {
    const struct config *cfg;
    struct db_pool *pool;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    atomic_llong runs, requeued, dead_lettered, expired;
};

static void sweep_once(struct sweeper *s)
{
    struct queue_defaults defaults = {s->cfg->visibility_timeout, s->cfg->max_delivery_attempts};
    for (int step = 0; step < SWEEP_MAX_STEPS; step++) {
        struct sweep_counts c;
        if (db_messages_sweep(s->pool, &defaults, SWEEP_BATCH, &c) != STORE_OK)
            return; /* logged by the store; the next interval tries again */
        atomic_fetch_add(&s->requeued, c.requeued);
        atomic_fetch_add(&s->dead_lettered, c.dead_lettered);
        atomic_fetch_add(&s->expired, c.expired);
        if (c.requeued + c.dead_lettered > 0 || c.expired > 0)
            log_debug("sweeper: %lld leases returned, %lld dead-lettered, %lld past retention", (long long)c.requeued,
                      (long long)c.dead_lettered, (long long)c.expired);
        if (c.requeued + c.dead_lettered < SWEEP_BATCH && c.expired < SWEEP_BATCH)
            return;
    }
}

static void *run(void *arg)
{
    struct sweeper *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        pthread_mutex_unlock(&s->lock);
        sweep_once(s);
        atomic_fetch_add(&s->runs, 1);
        pthread_mutex_lock(&s->lock);

        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = until.tv_nsec + (s->cfg->sweep_interval_ms % 1000) * 1000000;
        until.tv_sec += s->cfg->sweep_interval_ms / 1000 + ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        while (!s->stopping && pthread_cond_timedwait(&s->wake, &s->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

struct sweeper *sweeper_start(const struct config *cfg, struct db_pool *pool)
{
    struct sweeper *s = xcalloc(1, sizeof *s);
    s->cfg = cfg;
    s->pool = pool;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    return s;
}

void sweeper_stop(struct sweeper *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void sweeper_stats(struct sweeper *s, struct sweeper_stats *out)
{
    out->runs = atomic_load(&s->runs);
    out->requeued = atomic_load(&s->requeued);
    out->dead_lettered = atomic_load(&s->dead_lettered);
    out->expired = atomic_load(&s->expired);
}
