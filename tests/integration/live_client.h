/* Clients the live suites share (test_live_*.c, test_subscribe.c,
 * test_live_scale.c): a request sent on a thread of its own, so that the test
 * thread can append while a long poll waits, with checks of when it was
 * answered; a parser of Server-Sent Events and a subscriber that reads them on
 * a thread; and SQL on the notifier's connection. Calls and subscribers may
 * run on any thread (no check assertions, no static buffers) except where a
 * comment says "test thread". Times are live_now() seconds. */
#ifndef STREAMQ_TEST_LIVE_CLIENT_H
#define STREAMQ_TEST_LIVE_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "harness.h"

/* Seconds on the monotonic clock. */
double live_now(void);

/* What the live suites allow (no speed is asserted beyond these). */
#define LIVE_SETTLE_MS 500 /* what a long poll gets to reach the service and park */
/* A woken long poll answers this soon after the write returned: below the 1 s
 * recheck of the global read and of dequeue, and far below every deadline, so
 * an answer this soon was woken by the notification. Not a speed figure (the
 * wake-up latency is measured in bench/live.sh); loose, so a loaded machine
 * does not fail it. */
#define LIVE_WAKE_S 0.9
#define LIVE_AT_ONCE_S 2.0 /* an answer that did not wait for a wait=10 comes well before this */

/* Values of `wait` that are not an integer from 0 to 60 (each is a 400). */
extern const char *const live_bad_waits[];
extern const size_t live_bad_waits_len;

/* GET `path` from `svc` and the seconds it took; returns a response to free. Test thread. */
struct response *live_timed_get(const char *path, double *took);

/* ----------------------------------------------------- threaded requests */

/* One request on a thread of its own. Fields below `thread` are written by
 * that thread before `done` is set, and may be read once live_call_done is
 * true or after live_call_join. */
struct live_call {
    const struct service_proc *sp;
    char method[8];
    char *path, *body;
    pthread_t thread;
    atomic_bool done;
    double sent_at;     /* the thread began the request */
    double answered_at; /* the whole answer had arrived */
    struct response *response;
};

/* Sends `method` `path` with `body` (may be NULL; copied) to `sp` on a new
 * thread. Test thread. */
void live_call_start(struct live_call *c, const struct service_proc *sp, const char *method, const char *path,
                     const char *body);
/* True once the answer (or a transport failure) arrived. */
bool live_call_done(struct live_call *c);
/* Waits up to `timeout_s` for the answer; true when it arrived. */
bool live_call_wait(struct live_call *c, double timeout_s);
/* Waits for the thread and returns the response (the caller frees it). */
struct response *live_call_join(struct live_call *c);

/* The call has not been answered yet: it is holding (long poll). Test thread. */
void live_expect_waiting_at(int line, struct live_call *c);
#define EXPECT_WAITING(c) live_expect_waiting_at(__LINE__, (c))
/* Joins the call and asserts it was answered after `write_started` (the
 * append or enqueue that should wake it began) and at most `within_s` after
 * `write_returned` (that call's answer came back). Returns the response (the
 * caller frees it). Test thread. */
struct response *live_expect_woken_at(int line, struct live_call *c, double write_started, double write_returned,
                                      double within_s);
#define EXPECT_WOKEN(c, started, returned, within) live_expect_woken_at(__LINE__, (c), (started), (returned), (within))
/* Joins the call and asserts it was answered `wait_s` ± 0.5 s after it was
 * sent (its wait ran out). Returns the response (the caller frees it). Test thread. */
struct response *live_expect_timed_out_at(int line, struct live_call *c, double wait_s);
#define EXPECT_TIMED_OUT(c, wait_s) live_expect_timed_out_at(__LINE__, (c), (wait_s))

/* Starts a long poll (GET `path`, or POST with `body`) to `svc` and checks
 * that it is still holding LIVE_SETTLE_MS later. Test thread. */
void live_start_waiting_at(int line, struct live_call *c, const char *method, const char *path, const char *body);
#define START_WAITING(c, method, path, body) live_start_waiting_at(__LINE__, (c), (method), (path), (body))

/* A write to `svc` timed from the test thread: when it began and when its answer came back. */
struct live_write {
    double started, returned;
};
/* Appends `body` to `stream`; asserts 201. Test thread. */
struct live_write live_append(const char *stream, const char *body);
/* Appends one event of `type` with data {"n": n}; asserts 201. Test thread. */
struct live_write live_append_one(const char *stream, const char *type, int n);
/* Enqueues `body` to `queue`; asserts 201. Test thread. */
struct live_write live_enqueue(const char *queue, const char *body);

/* ------------------------------------------------------ Server-Sent Events */

/* One dispatched event: the fields as sent, NULL when a field was absent; the
 * data lines joined with "\n" as EventSource does. Immutable once dispatched. */
struct sse_frame {
    char *id, *event, *data;
    int data_lines;
    double at; /* the blank line that ended it arrived */
};

/* An incremental parser of a text/event-stream body (lines ending in LF, CRLF
 * or CR). Not thread-safe: the caller serializes. */
struct sse_parser {
    char *line; /* the line being read */
    size_t len, cap;
    bool after_cr;
    struct sse_frame next; /* fields of the frame being read */
    bool next_has_field, next_heartbeat;
    struct sse_frame *frames; /* room for `max_frames`; later frames are counted in `dropped` */
    int nframes, max_frames, dropped;
    int heartbeats; /* comment lines ": heartbeat" that a blank line ended */
    int comments;   /* every comment line */
    int bad_lines;  /* lines that are neither a comment nor id/event/data/retry */
    char first_bad[128];
    char *raw; /* the first SSE_RAW_MAX bytes of the body, NUL-terminated */
    size_t raw_len;
};
#define SSE_RAW_MAX (256 * 1024)

void sse_parser_init(struct sse_parser *p, int max_frames);
void sse_parser_feed(struct sse_parser *p, const char *bytes, size_t n);
void sse_parser_free(struct sse_parser *p);

/* A subscriber: GET `path` with Accept: text/event-stream (and Last-Event-ID
 * when given), read on a thread of its own until the body ends or sse_close. */
struct sse_client {
    pthread_t thread;
    pthread_mutex_t mu;
    char url[1200];
    char last_event_id[64];
    const char *proxy_mount; /* of the service_proc, for the exchange log */
    atomic_bool stop;
    /* Under `mu`: */
    struct sse_parser p;
    long status;
    char content_type[128];
    bool headers_done, finished;
    int curl_result; /* CURLcode of the ended transfer */
    double finished_at;
};

/* Starts a subscriber of `path` on `sp`; `last_event_id` may be NULL. Test thread. */
void sse_open(struct sse_client *c, const struct service_proc *sp, const char *path, const char *last_event_id);
/* Waits up to `timeout_s` for the response headers; returns the status (0 when
 * none came), and the Content-Type into `type` (may be NULL). */
long sse_wait_headers(struct sse_client *c, double timeout_s, char *type, size_t typelen);
/* Waits up to `timeout_s` until `n` frames arrived or the body ended; returns
 * how many arrived. */
int sse_wait_frames(struct sse_client *c, int n, double timeout_s);
/* The same for heartbeats. */
int sse_wait_heartbeats(struct sse_client *c, int n, double timeout_s);
/* Waits up to `timeout_s` for the body to end; true when it did. */
bool sse_wait_finished(struct sse_client *c, double timeout_s);
/* Frames and heartbeats so far. */
int sse_frames(struct sse_client *c);
int sse_heartbeats(struct sse_client *c);
/* Frame `i` (< sse_frames()); borrowed, valid until sse_close. */
const struct sse_frame *sse_frame_at(struct sse_client *c, int i);
/* Copies the body read so far (at most SSE_RAW_MAX bytes) into a new string (free it). */
char *sse_raw(struct sse_client *c);
/* Stops reading (if still open), waits for the thread, frees. */
void sse_close(struct sse_client *c);

/* ------------------------------------------------------- own instances */

/* SIGKILLs `sp` if it still runs when this process exits: a failed assertion
 * ends a test's process at once, and an instance the test started must not
 * outlive it. `sp` must be static (it is read at exit). At most 8. Test thread. */
void live_kill_at_exit(struct service_proc *sp);

/* ------------------------------------------------------------------- SQL */

/* The first column of the first row of `sql` as an integer. Test thread. */
long long live_sql_int(const char *sql);
/* Terminates, from PostgreSQL, the LISTEN connection of the services on
 * `schema` (application_name streamq, last query LISTEN "streamq.<schema>.…");
 * returns how many were terminated. Test thread. */
int live_terminate_notifier(const char *schema);
/* How many LISTEN connections of the services on `schema` exist. Test thread. */
int live_notifiers(const char *schema);

#endif
