/* The exchange log: with STREAMQ_EXCHANGES_DIR set (scripts/test sets it),
 * every response the harness's clients receive is appended, with the request
 * that got it, as one JSON line to <dir>/<program>-<pid>.ndjson, for
 * tools/contract/validate.mjs to check against openapi.yaml after the run.
 * Unset, nothing is written. Safe from any thread and from check's forked
 * test processes (one write per line, O_APPEND, a file per process). */
#ifndef STREAMQ_TEST_EXCHANGE_LOG_H
#define STREAMQ_TEST_EXCHANGE_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* What a client sent and received. `headers` is the raw response header
 * block ("Name: value\r\n" lines; status lines are skipped); `body` holds
 * `len` bytes, of which at most EXCHANGE_LOG_BODY_MAX are kept. */
struct exchange {
    const char *client; /* "curl", "sse" or "raw" */
    const char *method, *target;
    const char *accept;      /* the request's Accept header, or NULL */
    const char *proxy_mount; /* service_proc.proxy_mount: answered through a proxy */
    long status;
    const char *headers;
    const char *body;
    size_t len;
    bool body_complete; /* false when the client stopped reading before the body ended */
};
#define EXCHANGE_LOG_BODY_MAX (1024 * 1024)

void exchange_log_record(const struct exchange *x);

#endif
