/* Integration harness: starts the real streamq binary on a free port against
 * the test database and talks to it over HTTP with libcurl. */
#ifndef STREAMQ_TEST_HARNESS_H
#define STREAMQ_TEST_HARNESS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct service_proc {
    pid_t pid;
    int port;
    char log_path[256];
    char port_path[272]; /* --port-file: where the service writes its bound port */
    char schema[64];
    /* Non-NULL when `port` is a proxy's in front of instances (test_nginx):
     * the path prefix it also serves streamq under. The exchange log marks
     * such answers, since some are the proxy's own (a 502 while an instance
     * is down). */
    const char *proxy_mount;
};

/* Starts $STREAMQ_BIN with --listen 127.0.0.1:0 --schema <schema> and `args`
 * (NULL-terminated, may be NULL); waits until it listens. `schema` NULL: one per process. */
bool svc_start(struct service_proc *sp, const char *schema, const char *const *args);
/* Spawns `n` processes at once on the same schema, then waits until all listen. */
bool svc_start_many(struct service_proc *sps, int n, const char *schema, const char *const *args);
/* SIGTERM, wait, and return the exit status (-1 if it died by a signal); also -1
 * when the log shows a sanitizer report. */
int svc_stop(struct service_proc *sp);
/* SIGKILL, as a crash would, and reap the process. */
void svc_kill(struct service_proc *sp);
/* Runs the binary to completion with `args` and the test environment; returns its
 * exit status and, in `out` (may be NULL), the first `outlen` bytes of stderr+stdout. */
int svc_run_to_exit(const char *const *args, char *out, size_t outlen);
/* True when the log file contains `needle`. */
bool svc_log_contains(const struct service_proc *sp, const char *needle);
/* Resident memory of the process in KiB (from /proc). */
long svc_rss_kib(const struct service_proc *sp);

struct response {
    long status;
    char *body;
    size_t len;
    char *headers; /* raw header block */
    cJSON *json;   /* parsed body when it is JSON, else NULL */
};

/* Sends a request; `headers` is a NULL-terminated list of "Name: value" (may be NULL).
 * Never returns NULL; status 0 means the request failed at the transport level. */
struct response *http(const struct service_proc *sp, const char *method, const char *path, const char *body,
                      const char *const *headers);
/* printf-style body convenience. */
struct response *httpf(const struct service_proc *sp, const char *method, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void response_free(struct response *r);
/* The value of header `name` (case-insensitive), copied into `buf`; NULL when absent. */
const char *response_header(const struct response *r, const char *name, char *buf, size_t size);
/* The problem `code` of a problem+json response, or "" */
const char *response_code(const struct response *r);
/* Integer member of the JSON body (or nested object via "a.b"); LLONG_MIN when missing. */
long long response_int(const struct response *r, const char *path);

/* A name unique to this run: prefix + random suffix, in a static rotating buffer. */
const char *unique_name(const char *prefix);

/* The service every test in a binary shares, started by harness_main. */
extern struct service_proc svc;

/* Starts `svc`, runs the suite, stops `svc`; returns the process exit status.
 * Fails when a test fails or the service exits unclean (leaks, crash). */
struct Suite;
int harness_main(struct Suite *suite, const char *const *service_args);

/* Connection string of the test database (from the PG* variables), for direct SQL. */
const char *test_database_conninfo(void);
/* Runs `sql` (no parameters) on the test database, asserting it succeeds; returns
 * the first column of the first row as an integer (0 when there is none). */
long long sql_value(const char *sql);

#endif
