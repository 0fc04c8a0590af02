/* Helpers shared by the stream and event integration suites (test_streams.c,
 * test_events_append*.c, test_events_read*.c): request wrappers for the stream
 * routes and a service started with small limits so that batch and body edges
 * are cheap to reach. The generic request helpers and response checks are in
 * checks.h. All of them talk to `svc`; none uses fmt()'s buffers, so a body
 * made with fmt() stays valid across them. */
#ifndef STREAMQ_TEST_STREAMS_FIXTURES_H
#define STREAMQ_TEST_STREAMS_FIXTURES_H

#include <check.h>

#include "checks.h"
#include "harness.h"

/* The limits streams_fixtures_main starts the service with. */
#define MAX_BATCH 10   /* --max-batch */
#define MAX_BODY 65536 /* --max-body */

/* POST /streams/{stream}/events with `body` and optional extra headers
 * (NULL-terminated, may be NULL); returns a response to free. */
struct response *append_raw(const char *stream, const char *body, const char *const *headers);
/* Append with a printf-style body of any length; returns a response to free. */
struct response *appendf(const char *stream, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* POST /streams/{stream}/{action} without a body ("archive", "unarchive");
 * returns a response to free. */
struct response *post_action(const char *stream, const char *action);

/* Appends `n` events of `type` (data {"i": k} for the k-th) in batches of at
 * most MAX_BATCH; asserts every batch is 201 and the stream was empty. */
void append_n(const char *stream, int n, const char *type);
/* One event of `type`; returns the response (201 asserted) to free. */
struct response *append_one(const char *stream, const char *type);

/* The stream's version from GET /streams/{s}; LLONG_MIN when it is 404. */
long long stream_version(const char *stream);
/* Number of events a forward read returns (limit 1000). */
int event_count(const char *stream);

/* Starts `svc` with the limits above, runs `suite`, stops `svc`; returns the
 * process exit status (see harness_main). */
int streams_fixtures_main(Suite *suite);

#endif
