/* The webhook dispatcher: a thread that claims due webhooks (db/webhook_delivery.h),
 * builds each one's next batch, and POSTs it with libcurl. Deliveries run side
 * by side on one curl multi handle, so one slow or failing receiver never
 * delays another; each webhook's own deliveries are sequential. A 2xx moves the
 * position past the batch; anything else, or no answer within 10 s, is retried
 * after 1 s, doubling to 5 minutes, with the same batch and webhook-id.
 * Cadence: it looks for due webhooks every 250 ms, at once when poked (an
 * append committed) and after each successful delivery (a backlog drains batch
 * after batch); idle webhooks are looked at again every 5 s regardless. */
#ifndef STREAMQ_WORKERS_WEBHOOKS_H
#define STREAMQ_WORKERS_WEBHOOKS_H

#include <stdint.h>

#include "db/webhook_delivery.h"
#include "src/config.h"
#include "src/core/util.h"

struct dispatcher;

/* Builds the next batch of `w`: the batch in flight again when w->delivery_id is
 * set (same events), else the events after its position (at most max_batch, of
 * its types), rendered as {"webhook", "events"}. Handed in by service.c, since
 * events are rendered by routes/. */
typedef enum store_outcome (*webhook_batch_fn)(struct db_pool *pool, const struct due_webhook *w,
                                               struct webhook_batch *out);

struct dispatcher *webhooks_start(const struct config *cfg, struct db_pool *pool, webhook_batch_fn build) MUST_CHECK;
/* Asks for a look at every idle webhook soon (events were appended). Any thread. */
void webhooks_poke(struct dispatcher *d);
/* Stops the thread (deliveries in flight are abandoned and will be retried) and frees. */
void webhooks_stop(struct dispatcher *d);

/* Delivery attempts that finished since start, by webhook, for /metrics. */
struct webhook_counts {
    char webhook[NAME_MAX_LEN + 1];
    long long deliveries, failures; /* every attempt; those that did not get a 2xx */
};
/* A new array (free it) of one entry per webhook that had an attempt; returns its length. Any thread. */
int webhooks_counts(struct dispatcher *d, struct webhook_counts **out);

#endif
