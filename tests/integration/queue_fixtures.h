/* Helpers shared by the queue integration suites (test_queues.c,
 * test_messages.c, test_dead_letters.c): request wrappers for the queue
 * routes, response checks that name the caller's line, and a service started
 * with small limits and a fast sweeper. All of them talk to `svc`. Names carry
 * a qf_ prefix so that they link next to streams_fixtures.c. */
#ifndef STREAMQ_TEST_QUEUE_FIXTURES_H
#define STREAMQ_TEST_QUEUE_FIXTURES_H

#include <check.h>
#include <stdbool.h>

#include "harness.h"

/* The limits qf_main starts the service with. */
#define QF_MAX_BATCH 10        /* --max-batch */
#define QF_MAX_BODY 65536      /* --max-body */
#define QF_SWEEP_MS 200        /* --sweep-interval-ms */
#define QF_DEFAULT_VT 30       /* --visibility-timeout (service default) */
#define QF_DEFAULT_ATTEMPTS 5  /* --max-delivery-attempts (service default) */
#define QF_DEFAULT_RETENTION 1209600
#define QF_JSON_TYPE "application/json; charset=utf-8"
#define QF_PROBLEM_TYPE "application/problem+json"
#define QF_UUID_LEN 36

/* A printf-style string in a rotating static buffer (8 of 2 KiB): good for
 * paths and short bodies, valid for the next seven calls. */
const char *qf_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sends `body` (may be NULL) to `path`; returns a response to free. */
struct response *qf_send(const char *method, const char *path, const char *body);
/* The same with a printf-style body. */
struct response *qf_sendf(const char *method, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* POST /queues/{queue}/messages/{id}/{action} with `body`; returns a response to free. */
struct response *qf_settle(const char *queue, const char *id, const char *action, const char *body);

/* The value of header `name`, or NULL; borrowed, valid for the next three calls. */
const char *qf_header(const struct response *r, const char *name);

/* A JSON response with `status`, our Content-Type and a request id. */
void qf_expect_json_at(int line, const struct response *r, long status);
#define QF_EXPECT_JSON(r, status) qf_expect_json_at(__LINE__, (r), (status))
/* A problem+json response with `status` and `code`, and every member a problem carries. */
void qf_expect_problem_at(int line, const struct response *r, long status, const char *code);
#define QF_EXPECT_PROBLEM(r, status, code) qf_expect_problem_at(__LINE__, (r), (status), (code))
/* Sends the request, checks the problem, frees the response. */
#define QF_EXPECT_PROBLEM_FREE(expr, status, code)                                                                 \
    do {                                                                                                           \
        struct response *qf_r_ = (expr);                                                                           \
        qf_expect_problem_at(__LINE__, qf_r_, (status), (code));                                                   \
        response_free(qf_r_);                                                                                      \
    } while (0)
/* Sends the request, checks it is 204 with no body, frees the response. */
#define QF_EXPECT_204_FREE(expr)                                                                                   \
    do {                                                                                                           \
        struct response *qf_r_ = (expr);                                                                           \
        ck_assert_msg(qf_r_->status == 204 && qf_r_->len == 0, "line %d: status %ld, body %s", __LINE__,          \
                      qf_r_->status, qf_r_->body);                                                                 \
        response_free(qf_r_);                                                                                      \
    } while (0)

/* Member `name` of `obj`, asserted present (and of the type); borrowed from `obj`. */
const cJSON *qf_field(const cJSON *obj, const char *name);
const char *qf_str_field(const cJSON *obj, const char *name);
long long qf_int_field(const cJSON *obj, const char *name);
/* Element `i` of array member `name`, asserted present. */
const cJSON *qf_item(const cJSON *obj, const char *name, int i);
/* Size of array member `name`, asserted an array. */
int qf_count(const cJSON *obj, const char *name);

/* True for the service's timestamps: UTC with microseconds. */
bool qf_is_timestamp(const char *s);
/* Seconds since the epoch of one of the service's timestamps (asserted valid). */
double qf_ts(const char *s);
/* The wall clock now, in seconds since the epoch. */
double qf_now(void);
/* True when `s` is a UUID in the canonical 8-4-4-4-12 form. */
bool qf_is_uuid(const char *s);
/* A new random (v4) UUID into `out`. */
void qf_uuid(char out[QF_UUID_LEN + 1]);

/* GET /healthz is 200: the service survived what the test sent it. */
void qf_expect_healthy(void);

/* Enqueues `n` messages of `type` (data {"i": k}, k from 0) in batches of at
 * most QF_MAX_BATCH; asserts every batch is 201. Their ids go to `ids` when
 * not NULL (room for `n`). */
void qf_enqueue_n(const char *queue, int n, const char *type, char (*ids)[QF_UUID_LEN + 1]);

/* One delivery as the dequeue reports it. */
struct qf_delivery {
    char id[QF_UUID_LEN + 1];
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

/* GET /queues/{queue} (asserted 200) and member `name` of it, e.g. "pending" or "config.max_depth". */
long long qf_meta(const char *queue, const char *name);
/* The queue's pending, in-flight, delayed and dead-letter counts are these. */
void qf_expect_counts_at(int line, const char *queue, long long pending, long long in_flight, long long delayed,
                         long long dead_letters);
#define QF_EXPECT_COUNTS(q, p, i, d, dl) qf_expect_counts_at(__LINE__, (q), (p), (i), (d), (dl))
/* GET of `path` is 404 with problem `code`: the resource was never made. */
void qf_expect_absent_at(int line, const char *path, const char *code);
#define QF_EXPECT_ABSENT(path, code) qf_expect_absent_at(__LINE__, (path), (code))

/* Polls GET /queues/{queue}/dead-letters until it lists `n` entries or
 * `timeout_ms` passes; returns the last count seen. */
int qf_wait_dead_letters(const char *queue, int n, int timeout_ms);

/* Starts `svc` with the limits above, runs `suite`, stops `svc`; returns the
 * process exit status (see harness_main). */
int qf_main(Suite *suite);

#endif
