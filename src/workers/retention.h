/* The retention worker: a background thread that, every retention interval,
 * trims the streams whose retention policy (or the service's defaults,
 * --retention-max-age and --retention-max-count) no longer keeps their oldest
 * events, and deletes dead letters older than --dead-letter-retention. Work is
 * done in batches of at most RETENTION_BATCH rows, one short transaction each;
 * it takes no lock an append waits on for longer than one batch's final update,
 * and is safe beside other instances doing the same. (Queue messages past their
 * retention are dead-lettered by the sweeper.) */
#ifndef STREAMQ_RETENTION_H
#define STREAMQ_RETENTION_H

#include <stdint.h>

#include "src/config.h"
#include "src/core/util.h"
#include "src/workers/archive.h"

struct db_pool;
struct retention;

/* Starts the thread; NULL when it could not be created. With --archive-dir,
 * trimmed events are archived first (archive.h), rendered by `render`. */
struct retention *retention_start(const struct config *cfg, struct db_pool *pool, event_render_fn render) MUST_CHECK;
/* Asks the thread to stop (between batches), waits for it, frees. Accepts NULL. */
void retention_stop(struct retention *r);

/* Totals since start, for /metrics. Any thread. */
struct retention_stats {
    int64_t runs, events_trimmed, events_archived, dead_letters_deleted;
};
void retention_stats(struct retention *r, struct retention_stats *out);

#endif
