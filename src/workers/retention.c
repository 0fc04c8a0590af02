/* Retention worker thread; see retention.h. */
#include "src/workers/retention.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "db/retention.h"
#include "db/transactions.h"
#include "src/core/log.h"
#include "src/workers/archive.h"
#include "src/workers/periodic.h"

/* Rows per transaction: small enough that a batch holds its row locks for
 * milliseconds, large enough that a backlog clears in few round trips. */
#define RETENTION_BATCH 1000
/* Events per archiving batch: each one costs four fsyncs (segment, manifest,
 * their directory twice) besides the commit's, so it archives more at once;
 * its segments stay small (SEGMENT_MAX_BYTES) all the same. */
#define ARCHIVE_BATCH 10000
/* Streams asked for per candidate page. */
#define RETENTION_PAGE 100
/* Batches per stream (and of dead letters) per run: one stream's backlog of
 * millions does not keep the others waiting; the next run goes on with it. */
#define RETENTION_MAX_STEPS 100

struct retention {
    const struct config *cfg;
    struct db_pool *pool;
    struct periodic *timer;
    struct archiver archiver; /* root NULL: trimmed events are deleted, not archived */
    atomic_bool stop_now;     /* read between batches: a stop does not wait for a whole run */
    atomic_llong runs, events_trimmed, events_archived, dead_letters_deleted;
};

/* Trims one stream until nothing more is due or its share of this run is used. */
static void trim_stream(struct retention *r, const struct retention_defaults *defaults, const char *stream)
{
    for (int step = 0; step < RETENTION_MAX_STEPS && !atomic_load(&r->stop_now); step++) {
        int64_t trimmed, archived = 0;
        enum store_outcome outcome =
            r->archiver.root ? archive_trim_batch(&r->archiver, stream, defaults, ARCHIVE_BATCH, &trimmed, &archived)
                             : db_retention_trim(r->pool, stream, defaults, RETENTION_BATCH, &trimmed);
        if (outcome != STORE_OK)
            return; /* logged where it failed; the next run tries again */
        atomic_fetch_add(&r->events_trimmed, trimmed);
        atomic_fetch_add(&r->events_archived, archived);
        if (trimmed < (r->archiver.root ? ARCHIVE_BATCH : RETENTION_BATCH))
            return;
    }
}

static void trim_streams(struct retention *r)
{
    struct retention_defaults defaults = {r->cfg->retention_max_age, r->cfg->retention_max_count};
    char after[NAME_MAX_LEN + 1] = "";
    while (!atomic_load(&r->stop_now)) {
        struct retention_candidates page;
        if (db_retention_candidates(r->pool, &defaults, after, RETENTION_PAGE, &page) != STORE_OK)
            return;
        for (int i = 0; i < page.count; i++)
            trim_stream(r, &defaults, page.names[i]);
        bool more = page.count == RETENTION_PAGE;
        if (more)
            memcpy(after, page.names[page.count - 1], sizeof after);
        db_retention_candidates_free(&page);
        if (!more)
            return;
    }
}

static void delete_dead_letters(struct retention *r)
{
    if (r->cfg->dead_letter_retention <= 0)
        return;
    for (int step = 0; step < RETENTION_MAX_STEPS && !atomic_load(&r->stop_now); step++) {
        int64_t deleted;
        if (db_retention_dead_letters(r->pool, r->cfg->dead_letter_retention, RETENTION_BATCH, &deleted) != STORE_OK)
            return;
        atomic_fetch_add(&r->dead_letters_deleted, deleted);
        if (deleted < RETENTION_BATCH)
            return;
    }
}

/* The answers of transactions past --transaction-id-ttl: their retries may run again. */
static void expire_transactions(struct retention *r)
{
    for (int step = 0; step < RETENTION_MAX_STEPS && !atomic_load(&r->stop_now); step++) {
        int64_t deleted;
        if (db_transactions_expire(r->pool, r->cfg->transaction_id_ttl, RETENTION_BATCH, &deleted) != STORE_OK ||
            deleted < RETENTION_BATCH)
            return;
    }
}

/* One run: every stream's due events, the old dead letters, then the
 * remembered transactions past their age. */
static void run_once(void *arg)
{
    struct retention *r = arg;
    long long trimmed = atomic_load(&r->events_trimmed), deleted = atomic_load(&r->dead_letters_deleted);
    trim_streams(r);
    delete_dead_letters(r);
    expire_transactions(r);
    trimmed = atomic_load(&r->events_trimmed) - trimmed;
    deleted = atomic_load(&r->dead_letters_deleted) - deleted;
    if (trimmed > 0 || deleted > 0)
        log_debug("retention: %lld events trimmed, %lld dead letters deleted", trimmed, deleted);
    atomic_fetch_add(&r->runs, 1);
}

struct retention *retention_start(const struct config *cfg, struct db_pool *pool, event_render_fn render)
{
    struct retention *r = xcalloc(1, sizeof *r);
    r->cfg = cfg;
    r->pool = pool;
    if (cfg->archive_dir && *cfg->archive_dir) {
        const char *crash = getenv("STREAMQ_TEST_CRASH_AFTER_ARCHIVE");
        r->archiver = (struct archiver){pool, cfg->archive_dir, render, crash && *crash};
    }
    r->timer = periodic_start(cfg->retention_interval_ms, run_once, r);
    if (!r->timer) {
        free(r);
        return NULL;
    }
    return r;
}

void retention_stop(struct retention *r)
{
    if (!r)
        return;
    atomic_store(&r->stop_now, true);
    periodic_stop(r->timer);
    free(r);
}

void retention_stats(struct retention *r, struct retention_stats *out)
{
    out->runs = atomic_load(&r->runs);
    out->events_trimmed = atomic_load(&r->events_trimmed);
    out->events_archived = atomic_load(&r->events_archived);
    out->dead_letters_deleted = atomic_load(&r->dead_letters_deleted);
}
