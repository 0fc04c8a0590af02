/* The interface shared by the modules of the hostile test: the request
 * generator (gen*.c; its parts share gen.h), the runner (test_hostile.c),
 * answers.c, report.c and fixtures.c. Request `index` of a run is a pure
 * function of (seed, index), so one request can be replayed. */
#ifndef STREAMQ_HOSTILE_H
#define STREAMQ_HOSTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Fixture groups: each kind of probe that aims at fixtures gets its own stream
 * and queue, so a damaged fixture names the kind of request that damaged it. */
enum fixture_group {
    FX_MAIN,
    FX_TARGET,
    FX_ENCODED,
    FX_NOHOST,
    FX_DUPHOST,
    FX_FRAMING,
    FX_BODY,
    FX_UNFINISHED,
    FX_GROUPS
};

/* Messages per fixture queue: [0] is in flight (long lease), [1] a dead letter,
 * the rest pending. Events per fixture stream: FIXTURE_EVENTS, in two appends. */
#define FIXTURE_MESSAGES 4
#define FIXTURE_EVENTS 4

struct fixture_names {
    char group[FX_GROUPS][16];
    char stream[FX_GROUPS][64];
    char queue[FX_GROUPS][64];
    char event_id[FX_GROUPS][FIXTURE_EVENTS][37];
    char message_id[FX_GROUPS][FIXTURE_MESSAGES][37];
};

/* What an answer must be, beyond the rules every answer obeys. */
enum expect {
    EXPECT_ANY,     /* only the general rules */
    EXPECT_REFUSED, /* a 4xx: never a success */
    EXPECT_STATUS,  /* exactly `status`, with problem `code` when set */
};

struct hreq {
    char *data; /* the bytes sent, possibly several pipelined requests */
    size_t len, cap;
    const char *category;
    char what[200]; /* a short description for the failure list */
    enum expect expect;
    int status;
    const char *code;
    bool garbage;    /* protocol-level garbage: a close without an answer is acceptable */
    bool unfinished; /* deliberately incomplete: half-closed, then read only briefly */
    bool head;       /* the first request is HEAD: its answer has no body */
    bool slow;       /* dribbled in small pieces over about 1.5 s */
    bool smuggle;    /* bytes after the first request must never be answered as a request */
    bool allow_505;  /* the request line names HTTP/2 or later: 505 is the right answer */
    int requests;    /* well-formed requests pipelined in `data` (answers expected) */
};

/* Largest body the service is started with (--max-body); the generator sizes
 * near-limit and over-limit bodies from it. */
#define HOSTILE_MAX_BODY 65536

/* ---- the generator (gen.c); any thread may call, nothing is shared ---- */

/* The fixtures' names and ids for `seed`. */
void fixture_names_init(struct fixture_names *fx, uint64_t seed);
/* Fills `out` (zero it first; free with hreq_free) with request `index`. */
void hostile_generate(uint64_t seed, uint64_t index, const struct fixture_names *fx, struct hreq *out);
void hreq_free(struct hreq *r);
/* A new random (v4-shaped) UUID from `state`, a splitmix64 state it advances. */
void hostile_uuid(uint64_t *state, char out[37]);

/* ---- one request's exchange over a raw socket (filled by test_hostile.c) ---- */

struct exchange {
    char *buf; /* what came back, NUL-terminated; free() it */
    size_t len, cap;
    bool connect_failed, eof, reset, timed_out;
    int connect_errno;
};

/* ---- answers.c: the service's answers, parsed and judged ---- */

/* Final answers complete in x->buf (interim 1xx ones skipped); `head`: the
 * first request was HEAD; `eof`: nothing more will come. */
int answers_complete(const struct exchange *x, bool head, bool eof);
/* Judges what came back for request `index` against the rules every answer
 * obeys and what `q` expects; records a failure (at most one) and the tallies
 * with report.c. Any thread may call. */
void answers_judge(uint64_t index, const struct hreq *q, const struct exchange *x);

/* ---- report.c: failures, tallies and the summary; any thread may call ---- */

/* The index of a failure that is no one request's (fixtures, health, memory). */
#define REPORT_NO_INDEX UINT64_MAX

/* Records a failure of request `index` (or REPORT_NO_INDEX) in `category`
 * (NULL: "run"); `what` says what was sent, `fmt` what went wrong. Both are
 * copied. The first few thousand are kept for the summary. */
void report_fail(uint64_t index, const char *category, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Counts one answer with this status. */
void report_answer(int status);
/* Counts a request of `category` that got no answer: closed (`eof`) or silent. */
void report_silent(const char *category, bool eof);
/* Counts a request of `category` done in `seconds`. */
void report_request(const char *category, double seconds);
/* Writes `n` bytes to `f` escaped (\n, \r, \xNN...), the middle of long ones cut. */
void report_escaped(FILE *f, const char *p, size_t n);

/* The run as a whole, for the summary. */
struct report_run {
    uint64_t seed;
    bool replay;    /* request count - 1 alone was replayed */
    uint64_t count; /* requests due */
    uint64_t sent;  /* requests done */
    int workers;
    double seconds;
    long rss_start_kib, rss_end_kib; /* the service's, after the warm-up and at the end */
    long rss_limit_kib;              /* the growth allowed */
    int fixture_differences;         /* fixture groups that changed */
};

/* Prints the tallies and the worst failures (STREAMQ_HOSTILE_SHOW=N: up to N
 * per category and in all). Call once, after the workers are done. */
void report_summary(const struct report_run *run);
/* Failures recorded so far, kept or not. */
size_t report_failures(void);

/* ---- fixtures.c: the fixture streams and queues, and what they read ---- */

struct service_proc;
struct fixtures_snapshot;

/* Creates every group's stream (FIXTURE_EVENTS events) and queue (a message in
 * flight, a dead letter, the rest pending) over ordinary HTTP; false, with a
 * failure reported, when a step is not answered as it should be. */
bool fixtures_make(const struct service_proc *sp, const struct fixture_names *fx);
/* A new snapshot of what every group reads (free with fixtures_snapshot_free). */
struct fixtures_snapshot *fixtures_snapshot(const struct service_proc *sp, const struct fixture_names *fx);
/* Groups that read differently, each reported as a failure. */
int fixtures_compare(const struct fixtures_snapshot *before, const struct fixtures_snapshot *after,
                     const struct fixture_names *fx);
/* Accepts NULL. */
void fixtures_snapshot_free(struct fixtures_snapshot *s);

#endif
