/* The hostile-request generator shared by test_hostile.c: request `index` of a
 * run is a pure function of (seed, index), so one request can be replayed. */
#ifndef STREAMQ_HOSTILE_H
#define STREAMQ_HOSTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

void fixture_names_init(struct fixture_names *fx, uint64_t seed);
/* Fills `out` (zero it first; free with hreq_free) with request `index`. */
void hostile_generate(uint64_t seed, uint64_t index, const struct fixture_names *fx, struct hreq *out);
void hreq_free(struct hreq *r);
/* A new random (v4-shaped) UUID from `state`, a splitmix64 state it advances. */
void hostile_uuid(uint64_t *state, char out[37]);

#endif
