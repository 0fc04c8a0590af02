/* The notifier: a thread holding one LISTEN connection (db/listen.h). Each
 * notification names the streams and queues a commit changed, and wakes the
 * requests parked on them (src/http/waiters.h); it also wakes parked requests
 * whose deadline passed. When its connection drops it reconnects (every second
 * until it can) and then wakes every waiter once, since notifications sent
 * meanwhile are lost; a waiter that wakes reads again, so nothing is missed. */
#ifndef STREAMQ_WORKERS_NOTIFIER_H
#define STREAMQ_WORKERS_NOTIFIER_H

#include "src/config.h"
#include "src/core/util.h"

struct notifier;
struct waiters;

/* Called on the notifier's thread whenever events were appended (webhooks). */
typedef void (*notifier_events_fn)(void *arg);

/* Starts the thread; LISTENs only when cfg->notify. `on_events` (may be NULL) is
 * called for every notification that names streams. NULL when the thread could
 * not start. */
struct notifier *notifier_start(const struct config *cfg, struct waiters *waiters, notifier_events_fn on_events,
                                void *arg) MUST_CHECK;
/* Stops the thread and frees. Accepts NULL. */
void notifier_stop(struct notifier *n);

/* Times the LISTEN connection was opened again after the first, for /metrics. Any thread. */
long long notifier_reconnects(struct notifier *n);

#endif
