/* Store calls of the webhook dispatcher (src/workers/webhooks.c). Which instance
 * delivers a webhook is decided by a session advisory lock taken on the
 * dispatcher's own connection (the link): at most one instance holds it, and it
 * ends with that instance's connection, so when an instance dies another takes
 * the webhook over at its next claim. The batch in flight is recorded in the row
 * (delivery_id, delivery_end) before it is sent, so a retry, by any instance,
 * sends the same events under the same webhook-id. */
#ifndef STREAMQ_DB_WEBHOOK_DELIVERY_H
#define STREAMQ_DB_WEBHOOK_DELIVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "db/pool.h"
#include "db/webhooks.h"

/* db/ only: reads WEBHOOK_COLUMNS (statements.c) from `row`, after one leading column. */
void db_webhook_read_row(const PGresult *res, int row, struct webhook *w);

struct db_delivery_link;

struct db_delivery_link *db_delivery_link_open(const struct config *cfg, char *err, size_t errlen);
void db_delivery_link_close(struct db_delivery_link *link);

/* Takes up to `max` webhooks that are due (not paused, next attempt passed; with
 * `idle_too` also those waiting only for new events) and not in `busy` (this
 * instance's deliveries in flight, `nbusy` names), locking each. Returns how
 * many went into `out`, -1 when the link failed. */
int db_delivery_claim(struct db_delivery_link *link, const char *const *busy, int nbusy, bool idle_too,
                      struct due_webhook *out, int max);
/* Gives up the lock of `name` after an attempt. False when the link failed. */
bool db_delivery_release(struct db_delivery_link *link, const char *name);

/* Records the batch about to be sent: a new delivery id and its end. */
enum store_outcome db_delivery_begin(struct db_pool *pool, const char *name, int64_t end,
                                     char delivery_id[DELIVERY_ID_LEN + 1]) MUST_CHECK;
/* After a 2xx: the position moves to the batch's end, failures are cleared. Does
 * nothing when the webhook changed meanwhile (another delivery id). */
enum store_outcome db_delivery_succeeded(struct db_pool *pool, const char *name, const char *delivery_id) MUST_CHECK;
/* After a failure: counts it, keeps the batch, and sets the next attempt `delay_ms` away. */
enum store_outcome db_delivery_failed(struct db_pool *pool, const char *name, const char *delivery_id,
                                      const char *error, int64_t delay_ms) MUST_CHECK;
/* Nothing to send: the position moves from `from` to `position` (past events the
 * webhook's types filter out), unless it was moved meanwhile; the next look is
 * `delay_ms` away. */
enum store_outcome db_delivery_idle(struct db_pool *pool, const char *name, int64_t from, int64_t position,
                                    int64_t delay_ms) MUST_CHECK;

#endif
