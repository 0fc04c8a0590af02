/* A background thread that runs one step, sleeps an interval (on the monotonic
 * clock), and again, until stopped: the shape of the sweeper and of retention.
 * Stopping wakes the sleep at once; a step under way finishes first (a step
 * that may run long keeps a flag of its own, set before periodic_stop). */
#ifndef STREAMQ_WORKERS_PERIODIC_H
#define STREAMQ_WORKERS_PERIODIC_H

#include <stdbool.h>
#include <stdint.h>

#include "src/core/util.h"

struct periodic;

/* Starts the thread: step(arg) at once, then every `interval_ms` after the end
 * of the previous step. NULL when the thread cannot start. */
struct periodic *periodic_start(int64_t interval_ms, void (*step)(void *arg), void *arg) MUST_CHECK;
/* Stops the thread and waits for it; accepts NULL. */
void periodic_stop(struct periodic *p);

#endif
