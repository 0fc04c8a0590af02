/* Helpers shared by the stream and event integration suites (test_streams.c,
 * test_events.c): request wrappers for the stream routes, response checks that
 * name the caller's line, and a service started with small limits so that
 * batch and body edges are cheap to reach. All of them talk to `svc`. */
#ifndef STREAMQ_TEST_STREAMS_FIXTURES_H
#define STREAMQ_TEST_STREAMS_FIXTURES_H

#include <check.h>
#include <stdbool.h>

#include "harness.h"

/* The limits streams_fixtures_main starts the service with. */
#define MAX_BATCH 10   /* --max-batch */
#define MAX_BODY 65536 /* --max-body */
#define JSON_TYPE "application/json; charset=utf-8"
#define PROBLEM_TYPE "application/problem+json"

/* A new string (free it) printed from `fmt`; asserts the allocation succeeded. */
char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* GET of a printf-style path; returns a response to free. */
struct response *get(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* POST /streams/{stream}/events with `body` and optional extra headers
 * (NULL-terminated, may be NULL); returns a response to free. */
struct response *append_raw(const char *stream, const char *body, const char *const *headers);
/* Append with a printf-style body; returns a response to free. */
struct response *appendf(const char *stream, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* POST /streams/{stream}/{action} without a body ("archive", "unarchive");
 * returns a response to free. */
struct response *post_action(const char *stream, const char *action);

/* The value of header `name`, or NULL; borrowed, valid for the next three calls. */
const char *header(const struct response *r, const char *name);

/* A JSON response with `status`, our Content-Type and a request id. */
void expect_json_at(int line, const struct response *r, long status);
#define expect_json(r, status) expect_json_at(__LINE__, (r), (status))
/* A problem+json response with `status` and `code`, and every member a problem carries. */
void expect_problem_at(int line, const struct response *r, long status, const char *code);
#define expect_problem(r, status, code) expect_problem_at(__LINE__, (r), (status), (code))

/* Sends the request, checks the problem, frees the response. */
#define expect_problem_free(expr, status, code)                                                                    \
    do {                                                                                                           \
        struct response *r_ = (expr);                                                                              \
        expect_problem_at(__LINE__, r_, (status), (code));                                                         \
        response_free(r_);                                                                                         \
    } while (0)

/* Member `name` of `obj`, asserted present (and of the type); borrowed from `obj`. */
const cJSON *field(const cJSON *obj, const char *name);
const char *str_field(const cJSON *obj, const char *name);
long long int_field(const cJSON *obj, const char *name);

/* True when `s` matches the extended regular expression `pattern`. */
bool matches(const char *pattern, const char *s);
/* True for the service's timestamps: UTC with microseconds. */
bool is_timestamp(const char *s);

/* GET /healthz is 200: the service survived what the test sent it. */
void expect_healthy(void);

/* Appends `n` events of `type` (data {"i": k} for the k-th) in batches of at
 * most MAX_BATCH; asserts every batch is 201 and the stream was empty. */
void append_n(const char *stream, int n, const char *type);
/* One event of `type`; returns the response (201 asserted) to free. */
struct response *append_one(const char *stream, const char *type);

/* Starts `svc` with the limits above, runs `suite`, stops `svc`; returns the
 * process exit status (see harness_main). */
int streams_fixtures_main(Suite *suite);

#endif
