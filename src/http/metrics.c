/* Per-thread request metrics; see metrics.h. Each block has one writer (its
 * thread), so a count is a relaxed load and store, no locked instruction; a
 * scrape's relaxed loads may see a request's count before its bucket, which a
 * scrape taken a moment later would have seen anyway. */
#include "src/http/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "src/core/prom.h"
#include "src/core/util.h"
#include "src/http/router.h"

/* The statuses this service answers get a series each; anything else is
 * counted under its class ("4xx"), so the series stay a fixed set. */
static const int STATUSES[] = {200, 201, 202, 204, 206, 304, 400, 401, 403, 404, 405, 406, 408,
                               409, 410, 412, 413, 414, 415, 422, 429, 431, 499, 500, 503, 504};
#define NSTATUS (ARRAY_LEN(STATUSES) + 5)

/* Upper bounds of the latency buckets, in microseconds: 0.5 ms to 10 s; long
 * polls and SSE streams, held open by design, land in +Inf. */
static const int64_t BOUNDS_US[] = {500,    1000,   2500,   5000,    10000,   25000,   50000,
                                    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
#define NBUCKET (ARRAY_LEN(BOUNDS_US) + 1)

typedef _Atomic uint64_t counter;

struct http_metrics {
    size_t nroutes;    /* rows are nroutes + 1: the last is "no route matched" */
    counter *requests; /* [row * NSTATUS + status slot] */
    counter *buckets;  /* [row * NBUCKET + bucket], not cumulative */
    counter *sum_us;   /* [row] */
};

static size_t status_slot(int status)
{
    for (size_t i = 0; i < ARRAY_LEN(STATUSES); i++)
        if (STATUSES[i] == status)
            return i;
    int class = status / 100;
    return ARRAY_LEN(STATUSES) + (size_t)(class >= 1 && class <= 5 ? class - 1 : 4);
}

static void status_label(size_t slot, char out[16])
{
    if (slot < ARRAY_LEN(STATUSES))
        snprintf(out, 16, "%d", STATUSES[slot]);
    else
        snprintf(out, 16, "%dxx", (int)(slot - ARRAY_LEN(STATUSES)) + 1);
}

struct http_metrics *http_metrics_new(size_t nroutes)
{
    struct http_metrics *m = xcalloc(1, sizeof *m);
    size_t rows = nroutes + 1;
    m->nroutes = nroutes;
    m->requests = xcalloc(rows * NSTATUS, sizeof *m->requests);
    m->buckets = xcalloc(rows * NBUCKET, sizeof *m->buckets);
    m->sum_us = xcalloc(rows, sizeof *m->sum_us);
    return m;
}

void http_metrics_free(struct http_metrics *m)
{
    if (!m)
        return;
    free(m->requests);
    free(m->buckets);
    free(m->sum_us);
    free(m);
}

static void bump(counter *c, uint64_t by)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by, memory_order_relaxed);
}

void http_metrics_record(struct http_metrics *m, size_t route, int status, int64_t duration_us)
{
    if (route > m->nroutes)
        route = m->nroutes;
    if (duration_us < 0)
        duration_us = 0;
    size_t b = 0;
    while (b < ARRAY_LEN(BOUNDS_US) && duration_us > BOUNDS_US[b])
        b++;
    bump(&m->requests[route * NSTATUS + status_slot(status)], 1);
    bump(&m->buckets[route * NBUCKET + b], 1);
    bump(&m->sum_us[route], (uint64_t)duration_us);
}

void http_metrics_add(struct http_metrics *into, const struct http_metrics *from)
{
    size_t rows = into->nroutes + 1;
    for (size_t i = 0; i < rows * NSTATUS; i++)
        bump(&into->requests[i], atomic_load_explicit(&from->requests[i], memory_order_relaxed));
    for (size_t i = 0; i < rows * NBUCKET; i++)
        bump(&into->buckets[i], atomic_load_explicit(&from->buckets[i], memory_order_relaxed));
    for (size_t i = 0; i < rows; i++)
        bump(&into->sum_us[i], atomic_load_explicit(&from->sum_us[i], memory_order_relaxed));
}

static uint64_t get(const counter *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

#define REQUESTS "streamq_http_requests_total"
#define DURATION "streamq_http_request_duration_seconds"

void http_metrics_render(const struct http_metrics *m, const struct route *routes, struct text *out)
{
    prom_family(out, REQUESTS, "counter",
                "HTTP requests answered, by route pattern and status (route \"unmatched\": no route matched).");
    for (size_t r = 0; r <= m->nroutes; r++) {
        const char *method = r < m->nroutes ? routes[r].method : "";
        const char *pattern = r < m->nroutes ? routes[r].pattern : "unmatched";
        for (size_t s = 0; s < NSTATUS; s++) {
            uint64_t n = get(&m->requests[r * NSTATUS + s]);
            if (n == 0)
                continue; /* a series appears with its first request */
            char code[16];
            status_label(s, code);
            struct prom_label labels[] = {{"method", method}, {"route", pattern}, {"code", code}};
            prom_sample_int(out, REQUESTS, NULL, labels, ARRAY_LEN(labels), n);
        }
    }

    prom_family(out, DURATION, "histogram",
                "Time from a request's head to its completion, by route pattern (long polls and SSE included).");
    for (size_t r = 0; r <= m->nroutes; r++) {
        uint64_t count = 0;
        for (size_t b = 0; b < NBUCKET; b++)
            count += get(&m->buckets[r * NBUCKET + b]);
        if (count == 0)
            continue;
        const char *method = r < m->nroutes ? routes[r].method : "";
        const char *pattern = r < m->nroutes ? routes[r].pattern : "unmatched";
        uint64_t cumulative = 0;
        for (size_t b = 0; b < NBUCKET; b++) {
            char le[24];
            cumulative += get(&m->buckets[r * NBUCKET + b]);
            if (b < ARRAY_LEN(BOUNDS_US))
                snprintf(le, sizeof le, "%g", (double)BOUNDS_US[b] / 1e6);
            else
                snprintf(le, sizeof le, "+Inf");
            struct prom_label labels[] = {{"method", method}, {"route", pattern}, {"le", le}};
            prom_sample_int(out, DURATION, "_bucket", labels, ARRAY_LEN(labels), cumulative);
        }
        struct prom_label labels[] = {{"method", method}, {"route", pattern}};
        prom_sample_double(out, DURATION, "_sum", labels, 2, (double)get(&m->sum_us[r]) / 1e6);
        prom_sample_int(out, DURATION, "_count", labels, 2, cumulative);
    }
}
