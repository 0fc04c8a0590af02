/* Sweeper thread; see sweeper.h. */
#include "src/workers/sweeper.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "db/messages.h"
#include "src/core/log.h"
#include "src/workers/periodic.h"

/* Rows per sweep step; a full step is followed at once by another. */
#define SWEEP_BATCH 1000
#define SWEEP_MAX_STEPS 50

struct sweeper {
    const struct config *cfg;
    struct db_pool *pool;
    struct periodic *timer;
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

static void run_once(void *arg)
{
    struct sweeper *s = arg;
    sweep_once(s);
    atomic_fetch_add(&s->runs, 1);
}

struct sweeper *sweeper_start(const struct config *cfg, struct db_pool *pool)
{
    struct sweeper *s = xcalloc(1, sizeof *s);
    s->cfg = cfg;
    s->pool = pool;
    s->timer = periodic_start(cfg->sweep_interval_ms, run_once, s);
    if (!s->timer) {
        free(s);
        return NULL;
    }
    return s;
}

void sweeper_stop(struct sweeper *s)
{
    if (!s)
        return;
    periodic_stop(s->timer);
    free(s);
}

void sweeper_stats(struct sweeper *s, struct sweeper_stats *out)
{
    out->runs = atomic_load(&s->runs);
    out->requeued = atomic_load(&s->requeued);
    out->dead_lettered = atomic_load(&s->dead_lettered);
    out->expired = atomic_load(&s->expired);
}
