/* What the files of the live_load benchmark tool share (bench/live_load.c: main,
 * arguments, timing, buffers, latency samples, sockets and the HTTP/1.1 client;
 * bench/live_waiters.c, bench/live_sse.c, bench/live_webhook.c: the modes).
 * Private to bench/; each name here starts with its file's (live_load.c: load_). */
#ifndef LIVE_LOAD_H
#define LIVE_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

/* ---- live_load.c ---- */

int64_t load_now_us(void);  /* CLOCK_MONOTONIC, µs */
int64_t load_wall_us(void); /* CLOCK_REALTIME, µs */
/* A line on stderr ("live_load: ..."); only the first 10 of the run are printed. */
void load_complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *load_xrealloc(void *p, size_t n); /* exits when out of memory */

/* A growable byte buffer; these functions keep it NUL-terminated. */
struct buf {
    char *p;
    size_t len, cap;
};

void load_buf_reserve(struct buf *b, size_t extra);
void load_buf_add(struct buf *b, const char *s, size_t n);
void load_buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void load_buf_consume(struct buf *b, size_t n); /* drops the first n bytes */

/* Latency samples (µs, signed: an answer may beat the append's own 201). */
struct samples {
    int32_t *v;
    size_t n, cap;
};

void load_sample_add(struct samples *s, int64_t us);
void load_samples_sort(struct samples *s);
long load_pct(const struct samples *s, double q); /* after load_samples_sort; q in 0..1 */

/* Points the HTTP client at host:port (connections and the Host header); exits when it does not resolve. */
void load_resolve(const char *host, int port);
/* Enough descriptors for `want` sockets: raises the soft limit, and the hard one when allowed. */
void load_raise_nofile(rlim_t want);

/* An HTTP/1.1 client connection (non-blocking): Content-Length and chunked bodies. */
struct http {
    int fd;
    bool connecting;
    struct buf out;
    size_t out_off;
    struct buf in;   /* raw bytes not yet parsed */
    struct buf body; /* decoded body so far */
    bool head_done, chunked, close_after, done, eof;
    int status;
    long clen;
    size_t chunk_left;
    int cstate; /* where a chunked body is (live_load.c) */
};

void load_http_close(struct http *h);
/* Queues a request (opening the connection when there is none). */
bool load_http_request(struct http *h, const char *method, const char *path, const char *extra_headers,
                       const char *body, size_t body_len);
bool load_http_flush(struct http *h); /* sends what is queued; false on a connection failure */
bool load_http_wants_write(const struct http *h);
/* Reads what the socket has and parses it; false on a failure, or on EOF
 * before the response was complete (h->eof tells an EOF). */
bool load_http_read(struct http *h);
/* One request on a keep-alive connection, waiting for its answer; its status, 0 on a failure or timeout. */
int load_http_call(struct http *h, const char *method, const char *path, const char *headers, const char *body,
                   size_t len, int timeout_ms);

/* The integer after the first `key` (e.g. "\"offset\":") at or after *pos; advances *pos. */
bool load_next_int(const char **pos, const char *key, int64_t *out);
bool load_json_int(const char *s, const char *key, int64_t *out);
/* argv[i] as an int in lo..hi; exits with a message naming `what` when it is not. */
int load_arg_int(const char *s, const char *what, long lo, long hi);
/* Appends one event to `stream` (creating it); the stream's next offset, -1 on a failure. */
int64_t load_create_stream(struct http *h, const char *stream);

/* ---- the modes: main(argc, argv) of "live_load waiters|sse|receiver|post ..." ---- */

int waiters_main(int argc, char **argv);          /* live_waiters.c */
int sse_main(int argc, char **argv);              /* live_sse.c */
int webhook_receiver_main(int argc, char **argv); /* live_webhook.c */
int webhook_post_main(int argc, char **argv);     /* live_webhook.c */

#endif
