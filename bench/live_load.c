/* Live-delivery load generator and webhook receiver for bench/live.sh (built by
 * it with cc -O2 -pthread). One process, one poll(2) loop over non-blocking
 * sockets (plus one appender thread in sse mode); everything on 127.0.0.1.
 * This file: main, arguments and the helpers the modes share (live_load.h);
 * the modes are in live_waiters.c, live_sse.c and live_webhook.c.
 *
 *   live_load waiters HOST PORT PREFIX STREAMS PER_STREAM ROUNDS INTERVAL_MS WAIT_S SYNC_DIR
 *     Appends one event to each of STREAMS streams PREFIX0.. (creating them), then
 *     holds STREAMS x PER_STREAM long polls GET /streams/PREFIXs/events?from=<next>&wait=WAIT_S.
 *     When every request is sent and 1.5 s passed it creates SYNC_DIR/ready and
 *     waits (up to 60 s) for SYNC_DIR/go ("-" skips both). Then ROUNDS rounds,
 *     one every INTERVAL_MS: one event appended to stream (round % STREAMS) on a
 *     separate keep-alive connection. Each waiter answered re-polls at once from
 *     its next_offset. Wake-up latency = answer received - the append's 201
 *     received (both client side); also from the append's request sent.
 *     One "ROUND ..." line per round, then one "BENCH ..." line.
 *
 *   live_load sse HOST PORT STREAM SUBSCRIBERS SECONDS BATCH RATE
 *     Appends one event to STREAM (creating it), opens SUBSCRIBERS
 *     GET /streams/STREAM/subscribe?from=<end>, waits for each to be open, then
 *     a thread appends BATCH-event batches for SECONDS (RATE events/s, 0 = as
 *     fast as one connection goes) while the loop reads every frame, checking
 *     that each subscriber gets every offset once and in order. Ends when every
 *     subscriber has the last event, or 15 s after the appends. One "BENCH" line.
 *
 *   live_load receiver PORT_FILE EXPECT TIMEOUT_S
 *     A webhook receiver on 127.0.0.1:<free port> (written to PORT_FILE): answers
 *     every POST with 200 at once, counts the events ("offset" members) and checks
 *     that offsets come in order from 0 (a lower one is a duplicate, a higher one
 *     a gap) and that each POST has a webhook-signature header (its value is not
 *     checked). Exits when EXPECT distinct events arrived, or after TIMEOUT_S.
 *     Times are CLOCK_REALTIME in µs (first_us, last_us), for the script.
 *
 *   live_load post HOST PORT STREAM BATCH COUNT RECEIVER_PORT SYNC_DIR
 *     The receiver's baseline: reads the first COUNT events of STREAM from
 *     streamq in pages of BATCH, wraps each page as {"webhook":"bench","events":[...]}
 *     (what the dispatcher posts), creates SYNC_DIR/ready and waits (up to 60 s)
 *     for SYNC_DIR/go ("-" skips both), then POSTs them one after the other on
 *     one keep-alive connection to the receiver, as fast as it answers. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "live_load.h"

static const char *g_host;
static int g_port;
static struct sockaddr_storage g_addr;
static socklen_t g_addrlen;
static atomic_int g_complaints;

int64_t load_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t load_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void load_complain(const char *fmt, ...)
{
    if (atomic_fetch_add(&g_complaints, 1) >= 10)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("live_load: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void *load_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        perror("realloc");
        exit(1);
    }
    return p;
}

/* ---- growable byte buffer ---- */

void load_buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + extra + 1 > cap)
            cap *= 2;
        b->p = load_xrealloc(b->p, cap);
        b->cap = cap;
    }
}

void load_buf_add(struct buf *b, const char *s, size_t n)
{
    load_buf_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void load_buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    load_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void load_buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->p, b->p + n, b->len - n);
        b->len -= n;
    }
    if (b->p)
        b->p[b->len] = '\0';
}

/* ---- latency samples (µs, signed: an answer may beat the append's own 201) ---- */

void load_sample_add(struct samples *s, int64_t us)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = load_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = us > INT32_MAX ? INT32_MAX : us < INT32_MIN ? INT32_MIN : (int32_t)us;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

void load_samples_sort(struct samples *s)
{
    if (s->n)
        qsort(s->v, s->n, sizeof *s->v, cmp_i32);
}

/* After load_samples_sort. */
long load_pct(const struct samples *s, double q)
{
    if (!s->n)
        return 0;
    size_t i = (size_t)(q * (double)s->n);
    return s->v[i < s->n ? i : s->n - 1];
}

/* ---- sockets ---- */

void load_resolve(const char *host, int port)
{
    g_host = host;
    g_port = port;
    struct addrinfo hints = {0}, *ai;
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, p, &hints, &ai) != 0) {
        fprintf(stderr, "live_load: cannot resolve %s\n", host);
        exit(1);
    }
    memcpy(&g_addr, ai->ai_addr, ai->ai_addrlen);
    g_addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
}

static void nonblocking(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* A non-blocking connect to g_addr; -1 on an immediate failure. */
static int connect_nb(void)
{
    int fd = socket(g_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    nonblocking(fd);
    if (connect(fd, (struct sockaddr *)&g_addr, g_addrlen) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Enough descriptors for `want` sockets: raises the soft limit, and the hard one when allowed. */
void load_raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur >= want)
        return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        struct rlimit hard = {want, want};
        if (setrlimit(RLIMIT_NOFILE, &hard) == 0)
            return;
        rl.rlim_cur = rl.rlim_max;
    } else {
        rl.rlim_cur = want;
    }
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want)
        fprintf(stderr, "live_load: RLIMIT_NOFILE is %llu, fewer than the %llu descriptors wanted\n",
                (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

/* ---- HTTP/1.1 client connection: Content-Length and chunked bodies ---- */

enum { CH_SIZE, CH_DATA, CH_DATA_CRLF, CH_TRAILER, CH_DONE };

static void http_reset_response(struct http *h)
{
    h->head_done = h->chunked = h->close_after = h->done = false;
    h->status = 0;
    h->clen = -1;
    h->chunk_left = 0;
    h->cstate = CH_SIZE;
    h->body.len = 0;
}

void load_http_close(struct http *h)
{
    if (h->fd >= 0)
        close(h->fd);
    h->fd = -1;
    h->in.len = h->out.len = h->out_off = 0;
    h->connecting = false;
    h->eof = false;
    http_reset_response(h);
}

static bool http_open(struct http *h)
{
    load_http_close(h);
    h->fd = connect_nb();
    h->connecting = h->fd >= 0;
    return h->fd >= 0;
}

/* Queues a request (opening the connection when there is none). */
bool load_http_request(struct http *h, const char *method, const char *path, const char *extra_headers,
                       const char *body, size_t body_len)
{
    if (h->fd < 0 && !http_open(h))
        return false;
    http_reset_response(h);
    load_buf_printf(&h->out, "%s %s HTTP/1.1\r\nHost: %s:%d\r\n%s", method, path, g_host, g_port,
                    extra_headers ? extra_headers : "");
    if (body)
        load_buf_printf(&h->out, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", body_len);
    else
        load_buf_add(&h->out, "\r\n", 2);
    if (body)
        load_buf_add(&h->out, body, body_len);
    return true;
}

/* Sends what is queued; false on a connection failure. */
bool load_http_flush(struct http *h)
{
    if (h->connecting) {
        int err = 0;
        socklen_t l = sizeof err;
        if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0 || err != 0)
            return false;
        h->connecting = false;
    }
    while (h->out_off < h->out.len) {
        ssize_t w = send(h->fd, h->out.p + h->out_off, h->out.len - h->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN))
            return true;
        if (w <= 0)
            return false;
        h->out_off += (size_t)w;
    }
    h->out.len = h->out_off = 0;
    return true;
}

bool load_http_wants_write(const struct http *h)
{
    return h->connecting || h->out_off < h->out.len;
}

/* Parses what arrived; false on a protocol error. Sets h->done for a complete response. */
static bool http_parse(struct http *h)
{
    if (!h->head_done) {
        char *e = h->in.len ? strstr(h->in.p, "\r\n\r\n") : NULL;
        if (!e)
            return true;
        if (h->in.len < 12 || strncmp(h->in.p, "HTTP/1.", 7) != 0)
            return false;
        h->status = atoi(h->in.p + 9);
        for (char *line = strstr(h->in.p, "\r\n") + 2; line < e; line = strstr(line, "\r\n") + 2) {
            char *eol = strstr(line, "\r\n");
            if (!strncasecmp(line, "Content-Length:", 15))
                h->clen = strtol(line + 15, NULL, 10);
            else if (!strncasecmp(line, "Transfer-Encoding:", 18)) {
                char *c = strcasestr(line, "chunked");
                h->chunked = c && c < eol;
            } else if (!strncasecmp(line, "Connection:", 11)) {
                char *c = strcasestr(line, "close");
                h->close_after = c && c < eol;
            }
        }
        h->head_done = true;
        load_buf_consume(&h->in, (size_t)(e - h->in.p) + 4);
        if (!h->chunked && h->clen < 0)
            h->clen = 0; /* no body framing: only what this tool asks for is parsed */
    }
    if (!h->chunked) {
        size_t want = (size_t)h->clen - h->body.len, n = h->in.len < want ? h->in.len : want;
        load_buf_add(&h->body, h->in.p, n);
        load_buf_consume(&h->in, n);
        h->done = h->body.len == (size_t)h->clen;
        return true;
    }
    for (;;) {
        if (h->cstate == CH_SIZE || h->cstate == CH_TRAILER) {
            char *eol = h->in.len ? strstr(h->in.p, "\r\n") : NULL;
            if (!eol)
                return true;
            if (h->cstate == CH_SIZE) {
                char *end;
                h->chunk_left = strtoul(h->in.p, &end, 16);
                if (end == h->in.p)
                    return false;
                h->cstate = h->chunk_left ? CH_DATA : CH_TRAILER;
            } else if (eol == h->in.p) {
                h->cstate = CH_DONE;
            }
            load_buf_consume(&h->in, (size_t)(eol - h->in.p) + 2);
            if (h->cstate == CH_DONE) {
                h->done = true;
                return true;
            }
        } else if (h->cstate == CH_DATA) {
            if (!h->in.len)
                return true;
            size_t n = h->in.len < h->chunk_left ? h->in.len : h->chunk_left;
            load_buf_add(&h->body, h->in.p, n);
            load_buf_consume(&h->in, n);
            h->chunk_left -= n;
            if (!h->chunk_left)
                h->cstate = CH_DATA_CRLF;
        } else if (h->cstate == CH_DATA_CRLF) {
            if (h->in.len < 2)
                return true;
            load_buf_consume(&h->in, 2);
            h->cstate = CH_SIZE;
        } else {
            return true;
        }
    }
}

/* Reads what the socket has and parses it; false on a failure, or on EOF
 * before the response was complete (h->eof tells an EOF). */
bool load_http_read(struct http *h)
{
    for (;;) {
        load_buf_reserve(&h->in, 65536);
        ssize_t r = recv(h->fd, h->in.p + h->in.len, h->in.cap - h->in.len - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (r == 0) {
            h->eof = true;
            break;
        }
        if (r < 0)
            return false;
        h->in.len += (size_t)r;
        h->in.p[h->in.len] = '\0';
        if (!http_parse(h))
            return false;
    }
    if (!http_parse(h))
        return false;
    return !(h->eof && !h->done);
}

/* Waits for the whole response to the queued request; its status, 0 on a failure or timeout. */
static int http_wait(struct http *h, int timeout_ms)
{
    int64_t end = load_now_us() + (int64_t)timeout_ms * 1000;
    while (!h->done) {
        int64_t left = (end - load_now_us()) / 1000;
        if (left <= 0)
            return 0;
        struct pollfd p = {h->fd, (short)(POLLIN | (load_http_wants_write(h) ? POLLOUT : 0)), 0};
        int n = poll(&p, 1, (int)left);
        if (n <= 0)
            continue;
        if ((p.revents & POLLOUT) && !load_http_flush(h))
            return 0;
        if ((p.revents & (POLLIN | POLLERR | POLLHUP)) && !load_http_read(h))
            return 0;
    }
    return h->status;
}

/* One request on a keep-alive connection, waiting for its answer; retried once on
 * a fresh connection when the old one was closed before any answer came. */
int load_http_call(struct http *h, const char *method, const char *path, const char *headers, const char *body,
                   size_t len, int timeout_ms)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!load_http_request(h, method, path, headers, body, len))
            return 0;
        int st = http_wait(h, timeout_ms);
        if (st && (h->close_after || h->eof))
            load_http_close(h);
        if (st || h->head_done)
            return st;
        load_http_close(h);
    }
    return 0;
}

/* The integer after the first `key` (e.g. "\"offset\":") at or after *pos; advances *pos. */
bool load_next_int(const char **pos, const char *key, int64_t *out)
{
    const char *p = strstr(*pos, key);
    if (!p)
        return false;
    p += strlen(key);
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p)
        return false;
    *out = v;
    *pos = end;
    return true;
}

bool load_json_int(const char *s, const char *key, int64_t *out)
{
    const char *pos = s;
    return load_next_int(&pos, key, out);
}

int load_arg_int(const char *s, const char *what, long lo, long hi)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "live_load: %s must be %ld-%ld, not %s\n", what, lo, hi, s);
        exit(2);
    }
    return (int)v;
}

/* Appends one event to `stream` (creating it); the stream's next offset, -1 on a failure. */
int64_t load_create_stream(struct http *h, const char *stream)
{
    char path[300];
    snprintf(path, sizeof path, "/streams/%s/events", stream);
    static const char body[] = "{\"events\": [{\"type\": \"Setup\", \"data\": {\"n\": 0}}]}";
    int st = load_http_call(h, "POST", path, NULL, body, sizeof body - 1, 30000);
    int64_t version;
    if (st != 201 || !load_json_int(h->body.p, "\"version\":", &version)) {
        load_complain("creating %s: status %d: %.300s", stream, st, st ? h->body.p : "(connection failed)");
        return -1;
    }
    return version + 1;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && !strcmp(argv[1], "waiters"))
        return waiters_main(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "sse"))
        return sse_main(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "receiver"))
        return webhook_receiver_main(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "post"))
        return webhook_post_main(argc, argv);
    fprintf(stderr,
            "usage: live_load waiters|sse|receiver|post ... (see the comment at the top of bench/live_load.c)\n");
    return 2;
}
