/* Request helpers and response checks that every integration suite shares:
 * sending to `svc`, reading headers and JSON members, and asserting what a
 * client would see (status, content type, problem members), reported at the
 * caller's line. Resource-specific helpers live in the *_fixtures files.
 * Everything here talks to `svc` and uses static buffers: call it from the
 * test's own thread only. */
#ifndef STREAMQ_TEST_CHECKS_H
#define STREAMQ_TEST_CHECKS_H

#include <check.h>
#include <stdbool.h>

#include "harness.h"

#define JSON_TYPE "application/json; charset=utf-8"
#define PROBLEM_TYPE "application/problem+json"
#define UUID_LEN 36

/* A printf-style string in a rotating static buffer (8 of 2 KiB): good for
 * paths and short bodies, valid for the next seven calls; asserts it fits. */
const char *fmt(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* Sends `body` (may be NULL) to `path`; returns a response to free. */
struct response *request(const char *method, const char *path, const char *body);
/* The same with a printf-style body of any length. */
struct response *requestf(const char *method, const char *path, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* GET of a printf-style path of any length; returns a response to free. */
struct response *get(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* The value of header `name`, or NULL; borrowed, valid for the next three calls. */
const char *header(const struct response *r, const char *name);

/* A JSON response with `status`, our Content-Type and a request id. */
void expect_json_at(int line, const struct response *r, long status);
#define EXPECT_JSON(r, status) expect_json_at(__LINE__, (r), (status))
/* A problem+json response with `status` and `code`, and every member a problem carries. */
void expect_problem_at(int line, const struct response *r, long status, const char *code);
#define EXPECT_PROBLEM(r, status, code) expect_problem_at(__LINE__, (r), (status), (code))
/* Sends the request, checks the problem, frees the response. */
#define EXPECT_PROBLEM_FREE(expr, status, code)                                                                        \
    do {                                                                                                               \
        struct response *r_ = (expr);                                                                                  \
        expect_problem_at(__LINE__, r_, (status), (code));                                                             \
        response_free(r_);                                                                                             \
    } while (0)
/* Sends the request, checks it is 204 with no body, frees the response. */
#define EXPECT_204_FREE(expr)                                                                                          \
    do {                                                                                                               \
        struct response *r_ = (expr);                                                                                  \
        ck_assert_msg(r_->status == 204 && r_->len == 0, "line %d: status %ld, body %s", __LINE__, r_->status,         \
                      r_->body);                                                                                       \
        response_free(r_);                                                                                             \
    } while (0)
/* GET of `path` is 404 with problem `code`: the resource was never made. */
void expect_absent_at(int line, const char *path, const char *code);
#define EXPECT_ABSENT(path, code) expect_absent_at(__LINE__, (path), (code))

/* A new body (free it) {"<member>":[…]} of `count` items {"type": `type`,
 * "data": {"i": k}}, k counting from `first`: a batch of events or messages. */
char *numbered_batch(const char *member, const char *type, int first, int count);

/* Member `name` of `obj`, asserted present (and of the type); borrowed from `obj`. */
const cJSON *field(const cJSON *obj, const char *name);
const char *str_field(const cJSON *obj, const char *name);
long long int_field(const cJSON *obj, const char *name);
/* Element `i` of array member `name`, asserted present; borrowed from `obj`. */
const cJSON *array_item(const cJSON *obj, const char *name, int i);
/* Size of array member `name`, asserted an array. */
int array_size(const cJSON *obj, const char *name);

/* True when `s` matches the extended regular expression `pattern`. */
bool matches(const char *pattern, const char *s);
/* True for the service's timestamps: UTC with microseconds (false for NULL). */
bool is_timestamp(const char *s);
/* Seconds since the epoch of one of the service's timestamps (asserted valid). */
double timestamp_seconds(const char *s);
/* The wall clock now, in seconds since the epoch. */
double now_seconds(void);
/* True when `s` is a UUID in the canonical 8-4-4-4-12 form (false for NULL). */
bool is_uuid(const char *s);
/* A new random (v4) UUID into `out`. */
void new_uuid(char out[UUID_LEN + 1]);

/* What came back on a raw connection: the status (0 when the connection closed
 * without an answer) and everything read, NUL-terminated. */
struct raw_answer {
    int status;
    char text[8192];
    size_t len;
    bool sent_all; /* false when the service closed before taking every byte */
};
/* Sends `len` bytes as they are (NUL bytes, bad framing and all) on a new
 * connection to `svc`, then reads until the service closes or 5 s pass. */
void raw_exchange(const char *bytes, size_t len, struct raw_answer *out);
/* The value of header `name` in a raw answer, copied into `buf`; NULL when absent. */
const char *raw_header(const struct raw_answer *a, const char *name, char *buf, size_t size);

/* GET /healthz is 200: the service survived what the test sent it. */
void expect_healthy(void);

#endif
