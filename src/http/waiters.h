/* Requests parked until something they wait for changes: long polls (and later
 * SSE streams) hold no thread and no database connection while they wait. A
 * handler watches a key before it reads, and parks when the read found nothing;
 * the request is resumed (and its handler runs again from the start) when the
 * notifier reports a change to that key, when its deadline passes, or at
 * shutdown. A wake may be spurious; the handler just reads again.
 *
 * Threads: handlers call http_wait_*; the notifier thread calls waiters_wake*,
 * waiters_expire; service.c calls waiters_close. All are thread-safe. */
#ifndef STREAMQ_HTTP_WAITERS_H
#define STREAMQ_HTTP_WAITERS_H

#include <stdbool.h>
#include <stdint.h>

#include "src/core/util.h"

struct request;
struct waiters;

enum wait_kind {
    WAIT_STREAM,        /* key: a stream name */
    WAIT_STREAM_PREFIX, /* key: a name prefix ("" for every stream) */
    WAIT_QUEUE,         /* key: a queue name */
};

struct waiters *waiters_new(void) MUST_CHECK;
/* Frees the registry; every watch must be gone (after waiters_close and the
 * server's stop). Accepts NULL. */
void waiters_free(struct waiters *w);

/* Handler side. */

/* Registers `req`'s interest in `key` before the handler reads, so that a change
 * committed between the read and http_wait_park still wakes it. One watch per
 * request at a time; a second call replaces the first. */
void http_wait_watch(struct request *req, enum wait_kind kind, const char *key);
/* The read found nothing: suspends `req` until a change to the watched key, the
 * monotonic time `deadline_us`, or shutdown, whichever comes first (at once when
 * one already happened). The handler must then return without a response. */
void http_wait_park(struct request *req, int64_t deadline_us);
/* Drops the request's watch, if any (also done when a response is queued). */
void http_wait_cancel(struct request *req);
/* True once shutdown began: handlers answer with what they have instead of parking. */
bool http_wait_closing(struct request *req);

/* Notifier side. */

/* Wakes every watch on `key` of `kind` (for WAIT_STREAM, also the prefix watches
 * whose prefix `key` starts with). `key` "*" wakes every watch of that kind. */
void waiters_wake(struct waiters *w, enum wait_kind kind, const char *key);
/* Wakes every watch: after the notifier lost its connection, notifications may
 * have been missed. */
void waiters_wake_all(struct waiters *w);
/* Wakes parked requests whose deadline passed (monotonic `now_us`); returns the
 * earliest deadline still ahead, or INT64_MAX when none. */
int64_t waiters_expire(struct waiters *w, int64_t now_us);
/* Shutdown: wakes every watch, and parks from now on return at once. */
void waiters_close(struct waiters *w);
/* Parked requests right now (for logs, metrics and tests). */
int waiters_parked(struct waiters *w);
/* A file descriptor that becomes readable when a request parks with a deadline
 * earlier than any before it; the notifier polls it beside its database link
 * and calls waiters_expire. Reading it is the notifier's job (waiters_ack). */
int waiters_fd(struct waiters *w);
void waiters_ack(struct waiters *w);

#endif
