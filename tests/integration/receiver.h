/* A loopback HTTP/1.1 receiver for webhook deliveries: a thread that listens
 * on 127.0.0.1 (a free port), reads each request's headers and Content-Length
 * body, records it, and answers with the status the test queued for it (200
 * when none is queued), then closes the connection. Connections are served
 * side by side, so a request held unanswered does not stop the next one.
 * It is bounded: at most RECEIVER_MAX_REQUESTS requests are recorded (later
 * ones are answered 503), at most RECEIVER_MAX_CONNECTIONS served at once, and
 * it stops accepting by itself RECEIVER_LIFETIME_S after it started. Its
 * threads never call check's assertions; all functions here are for the
 * test's own thread. */
#ifndef STREAMQ_TEST_RECEIVER_H
#define STREAMQ_TEST_RECEIVER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define RECEIVER_MAX_REQUESTS 256
#define RECEIVER_MAX_CONNECTIONS 16
#define RECEIVER_LIFETIME_S 300

/* As a queued answer: keep the request unanswered until receiver_release (or
 * receiver_stop, which closes the connection without an answer). */
#define RECEIVER_HOLD 0

/* One request as it arrived; immutable once it is recorded. */
struct received {
    double at;     /* receiver_now() when its body was complete */
    double wall;   /* the wall clock then, seconds since the epoch */
    int peer_port; /* the sender's (ephemeral) port */
    int status;    /* the answer chosen for it; RECEIVER_HOLD when it was held */
    char method[16];
    char path[256];
    char content_type[128]; /* "" when absent */
    char webhook_id[128];   /* "" when absent */
    char webhook_ts[64];    /* webhook-timestamp, "" when absent */
    char webhook_sig[512];  /* webhook-signature, "" when absent */
    char error[128];        /* "" unless it was malformed (answered 400 or 411) */
    char *headers;          /* the raw header block, NUL-terminated */
    char *body;             /* the raw body, NUL-terminated (len bytes) */
    size_t len;
};

struct receiver;

/* Starts a receiver; NULL when it could not listen. */
struct receiver *receiver_start(void);
/* Its port on 127.0.0.1. */
int receiver_port(const struct receiver *rc);
/* Queues `status` (or RECEIVER_HOLD) as the answer to the next request that has none. */
void receiver_answer(struct receiver *rc, int status);
/* Answers every request being held with `status`. */
void receiver_release(struct receiver *rc, int status);
/* How many requests have been recorded. */
int receiver_count(struct receiver *rc);
/* Waits up to `seconds` until at least `n` requests are recorded; true when they are. */
bool receiver_wait(struct receiver *rc, int n, double seconds);
/* Request `i` (0-based, in arrival order); borrowed, valid until receiver_stop. */
const struct received *receiver_at(struct receiver *rc, int i);
/* Stops accepting, closes the connections still open (held ones unanswered),
 * waits for its threads and frees everything. Accepts NULL. */
void receiver_stop(struct receiver *rc);

/* The body of `req` parsed (a new object to delete), NULL when it is not JSON. */
cJSON *received_json(const struct received *req);
/* How many events ("events" members of the bodies) the requests answered 2xx
 * carried, counting an event again each time it came again. */
int receiver_acked_events(struct receiver *rc);
/* Waits up to `seconds` until receiver_acked_events reaches `n`; true when it did. */
bool receiver_wait_acked(struct receiver *rc, int n, double seconds);

/* A monotonic clock in seconds: the clock of received.at. */
double receiver_now(void);
/* The value of header `name` (case-insensitive) of `req`, copied into `buf`; NULL when absent. */
const char *received_header(const struct received *req, const char *name, char *buf, size_t size);

#endif
