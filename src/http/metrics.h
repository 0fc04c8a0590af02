/* Request metrics: counts by route and status and a latency histogram by
 * route, kept per libmicrohttpd thread (server.c) so that counting a request
 * takes no lock and no shared cache line; a scrape adds the threads' blocks up
 * and writes them in the Prometheus text format. */
#ifndef STREAMQ_HTTP_METRICS_H
#define STREAMQ_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "src/core/text.h"

struct route;
struct http_metrics;

/* A block for a table of `nroutes` routes (and the requests no route matched). */
struct http_metrics *http_metrics_new(size_t nroutes);
void http_metrics_free(struct http_metrics *m);

/* Counts one finished request. `route` is its index in the route table, or
 * nroutes when none matched. Only the thread that owns `m` may call it; a
 * scrape may read `m` meanwhile from any thread. */
void http_metrics_record(struct http_metrics *m, size_t route, int status, int64_t duration_us);

/* Adds what `from` counted so far into `into` (a block of the same table that
 * no thread records into). */
void http_metrics_add(struct http_metrics *into, const struct http_metrics *from);

/* Writes streamq_http_requests_total and streamq_http_request_duration_seconds
 * from `m`, labelled with the method and pattern of `routes`. */
void http_metrics_render(const struct http_metrics *m, const struct route *routes, struct text *out);

#endif
