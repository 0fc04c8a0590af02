/* Helpers shared by the queue integration suites (test_queues.c,
 * test_queues_peek.c, test_messages.c, test_messages_settle.c,
 * test_dead_letters.c): request wrappers for the queue routes, checks of queue
 * counts and configuration, and a service started with small limits and a fast
 * sweeper. The generic request helpers and response checks are in
 * checks.h. All of them talk to `svc` and may use fmt()'s buffers. */
#ifndef STREAMQ_TEST_QUEUE_FIXTURES_H
#define STREAMQ_TEST_QUEUE_FIXTURES_H

#include <check.h>

#include "checks.h"
#include "harness.h"

/* The limits qf_main starts the service with. */
#define QF_MAX_BATCH 10       /* --max-batch */
#define QF_MAX_BODY 65536     /* --max-body */
#define QF_SWEEP_MS 200       /* --sweep-interval-ms */
#define QF_DEFAULT_VT 30      /* --visibility-timeout (service default) */
#define QF_DEFAULT_ATTEMPTS 5 /* --max-delivery-attempts (service default) */
#define QF_DEFAULT_RETENTION 1209600

/* POST /queues/{queue}/messages/{id}/{action} with `body`; returns a response to free. */
struct response *qf_settle(const char *queue, const char *id, const char *action, const char *body);

/* Enqueues `n` messages of `type` (data {"i": k}, k from 0) in batches of at
 * most QF_MAX_BATCH; asserts every batch is 201. Their ids go to `ids` when
 * not NULL (room for `n`). */
void qf_enqueue_n(const char *queue, int n, const char *type, char (*ids)[UUID_LEN + 1]);

/* One delivery as the dequeue reports it. */
struct qf_delivery {
    char id[UUID_LEN + 1];
    char type[64];
    char receipt[256];
    char visible_until[40];
    long long delivery_count;
};
/* POST /queues/{queue}/dequeue with `body` (may be NULL); asserts 200 and
 * copies up to `max` deliveries into `out`; returns how many came back. */
int qf_dequeue(const char *queue, const char *body, struct qf_delivery *out, int max);
/* Dequeues one message with `body` (may be NULL); asserts exactly one came back. */
void qf_dequeue_one(const char *queue, const char *body, struct qf_delivery *out);
/* Dequeues the one message of a single-message queue whose lease just ended,
 * with `body` (may be NULL). The sweeper may hold that row for an instant while
 * it releases the lease, and a dequeue skips locked rows (SKIP LOCKED), so an
 * empty answer is retried for up to 3 s; asserts one came back. */
void qf_dequeue_again(const char *queue, const char *body, struct qf_delivery *out);

/* GET /queues/{queue} (asserted 200) and member `name` of it, e.g. "pending" or "config.max_depth". */
long long qf_meta(const char *queue, const char *name);
/* The queue's pending, in-flight, delayed and dead-letter counts are these. */
void qf_expect_counts_at(int line, const char *queue, long long pending, long long in_flight, long long delayed,
                         long long dead_letters);
#define QF_EXPECT_COUNTS(q, p, i, d, dl) qf_expect_counts_at(__LINE__, (q), (p), (i), (d), (dl))

/* PUT /queues/{queue} with `body`; returns a response to free. */
struct response *qf_put_config(const char *queue, const char *body);
/* GET /queues/{queue} asserted 200; returns the response to free. */
struct response *qf_get_queue(const char *queue);
/* The config member of a metadata body matches these (-1: null). */
void qf_expect_config_at(int line, const cJSON *meta, long long vt, long long attempts, long long retention,
                         long long depth);
#define EXPECT_CONFIG(meta, vt, attempts, retention, depth)                                                            \
    qf_expect_config_at(__LINE__, (meta), (vt), (attempts), (retention), (depth))

/* Polls GET /queues/{queue}/dead-letters until it lists `n` entries or
 * `timeout_ms` passes; returns the last count seen. */
int qf_wait_dead_letters(const char *queue, int n, int timeout_ms);

/* Starts `svc` with the limits above, runs `suite`, stops `svc`; returns the
 * process exit status (see harness_main). */
int qf_main(Suite *suite);

#endif
