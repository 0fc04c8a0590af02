/* Live-delivery load generator and webhook receiver for bench/live.sh (built by
 * it with cc -O2 -pthread). One process, one poll(2) loop over non-blocking
 * sockets (plus one appender thread in sse mode); everything on 127.0.0.1.
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
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *g_host;
static int g_port;
static struct sockaddr_storage g_addr;
static socklen_t g_addrlen;
static atomic_int g_complaints;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void complain(const char *fmt, ...)
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

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        perror("realloc");
        exit(1);
    }
    return p;
}

/* ---- growable byte buffer ---- */

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + extra + 1 > cap)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
}

static void buf_add(struct buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void buf_consume(struct buf *b, size_t n)
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

struct samples {
    int32_t *v;
    size_t n, cap;
};

static void sample_add(struct samples *s, int64_t us)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = us > INT32_MAX ? INT32_MAX : us < INT32_MIN ? INT32_MIN : (int32_t)us;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

static void samples_sort(struct samples *s)
{
    if (s->n)
        qsort(s->v, s->n, sizeof *s->v, cmp_i32);
}

/* After samples_sort. */
static long pct(const struct samples *s, double q)
{
    if (!s->n)
        return 0;
    size_t i = (size_t)(q * (double)s->n);
    return s->v[i < s->n ? i : s->n - 1];
}

/* ---- sockets ---- */

static void resolve(const char *host, int port)
{
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
static void raise_nofile(rlim_t want)
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
    int cstate;
};

static void http_reset_response(struct http *h)
{
    h->head_done = h->chunked = h->close_after = h->done = false;
    h->status = 0;
    h->clen = -1;
    h->chunk_left = 0;
    h->cstate = CH_SIZE;
    h->body.len = 0;
}

static void http_close(struct http *h)
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
    http_close(h);
    h->fd = connect_nb();
    h->connecting = h->fd >= 0;
    return h->fd >= 0;
}

/* Queues a request (opening the connection when there is none). */
static bool http_request(struct http *h, const char *method, const char *path, const char *extra_headers,
                         const char *body, size_t body_len)
{
    if (h->fd < 0 && !http_open(h))
        return false;
    http_reset_response(h);
    buf_printf(&h->out, "%s %s HTTP/1.1\r\nHost: %s:%d\r\n%s", method, path, g_host, g_port,
               extra_headers ? extra_headers : "");
    if (body)
        buf_printf(&h->out, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", body_len);
    else
        buf_add(&h->out, "\r\n", 2);
    if (body)
        buf_add(&h->out, body, body_len);
    return true;
}

/* Sends what is queued; false on a connection failure. */
static bool http_flush(struct http *h)
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

static bool http_wants_write(const struct http *h)
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
        buf_consume(&h->in, (size_t)(e - h->in.p) + 4);
        if (!h->chunked && h->clen < 0)
            h->clen = 0; /* no body framing: only what this tool asks for is parsed */
    }
    if (!h->chunked) {
        size_t want = (size_t)h->clen - h->body.len, n = h->in.len < want ? h->in.len : want;
        buf_add(&h->body, h->in.p, n);
        buf_consume(&h->in, n);
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
            buf_consume(&h->in, (size_t)(eol - h->in.p) + 2);
            if (h->cstate == CH_DONE) {
                h->done = true;
                return true;
            }
        } else if (h->cstate == CH_DATA) {
            if (!h->in.len)
                return true;
            size_t n = h->in.len < h->chunk_left ? h->in.len : h->chunk_left;
            buf_add(&h->body, h->in.p, n);
            buf_consume(&h->in, n);
            h->chunk_left -= n;
            if (!h->chunk_left)
                h->cstate = CH_DATA_CRLF;
        } else if (h->cstate == CH_DATA_CRLF) {
            if (h->in.len < 2)
                return true;
            buf_consume(&h->in, 2);
            h->cstate = CH_SIZE;
        } else {
            return true;
        }
    }
}

/* Reads what the socket has and parses it; false on a failure, or on EOF
 * before the response was complete (h->eof tells an EOF). */
static bool http_read(struct http *h)
{
    for (;;) {
        buf_reserve(&h->in, 65536);
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
    int64_t end = now_us() + (int64_t)timeout_ms * 1000;
    while (!h->done) {
        int64_t left = (end - now_us()) / 1000;
        if (left <= 0)
            return 0;
        struct pollfd p = {h->fd, (short)(POLLIN | (http_wants_write(h) ? POLLOUT : 0)), 0};
        int n = poll(&p, 1, (int)left);
        if (n <= 0)
            continue;
        if ((p.revents & POLLOUT) && !http_flush(h))
            return 0;
        if ((p.revents & (POLLIN | POLLERR | POLLHUP)) && !http_read(h))
            return 0;
    }
    return h->status;
}

/* One request on a keep-alive connection, waiting for its answer; retried once on
 * a fresh connection when the old one was closed before any answer came. */
static int http_call(struct http *h, const char *method, const char *path, const char *headers, const char *body,
                     size_t len, int timeout_ms)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!http_request(h, method, path, headers, body, len))
            return 0;
        int st = http_wait(h, timeout_ms);
        if (st && (h->close_after || h->eof))
            http_close(h);
        if (st || h->head_done)
            return st;
        http_close(h);
    }
    return 0;
}

/* The integer after the first `key` (e.g. "\"offset\":") at or after *pos; advances *pos. */
static bool next_int(const char **pos, const char *key, int64_t *out)
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

static bool json_int(const char *s, const char *key, int64_t *out)
{
    const char *pos = s;
    return next_int(&pos, key, out);
}

static int arg_int(const char *s, const char *what, long lo, long hi)
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
static int64_t create_stream(struct http *h, const char *stream)
{
    char path[300];
    snprintf(path, sizeof path, "/streams/%s/events", stream);
    static const char body[] = "{\"events\": [{\"type\": \"Setup\", \"data\": {\"n\": 0}}]}";
    int st = http_call(h, "POST", path, NULL, body, sizeof body - 1, 30000);
    int64_t version;
    if (st != 201 || !json_int(h->body.p, "\"version\":", &version)) {
        complain("creating %s: status %d: %.300s", stream, st, st ? h->body.p : "(connection failed)");
        return -1;
    }
    return version + 1;
}

/* ======================= waiters: long-poll wake-up latency ======================= */

struct waiter {
    struct http h;
    int stream;
    int64_t from;
    bool sent_once;
};

struct round {
    int stream, status;
    int64_t offset, t_send, t_201;
    int answered;
};

struct answer {
    int round;
    int64_t t;
};

static const char *g_prefix;
static int g_wait_s;

static void waiter_poll(struct waiter *w)
{
    char path[300];
    snprintf(path, sizeof path, "/streams/%s%d/events?from=%lld&wait=%d", g_prefix, w->stream, (long long)w->from,
             g_wait_s);
    if (!http_request(&w->h, "GET", path, NULL, NULL, 0))
        complain("waiter: cannot connect");
}

static int mode_waiters(int argc, char **argv)
{
    if (argc != 11) {
        fprintf(stderr,
                "usage: live_load waiters HOST PORT PREFIX STREAMS PER_STREAM ROUNDS INTERVAL_MS WAIT_S SYNC_DIR\n");
        return 2;
    }
    g_host = argv[2];
    g_port = arg_int(argv[3], "PORT", 1, 65535);
    g_prefix = argv[4];
    int streams = arg_int(argv[5], "STREAMS", 1, 10000), per = arg_int(argv[6], "PER_STREAM", 1, 100000);
    int rounds = arg_int(argv[7], "ROUNDS", 1, 100000), interval_ms = arg_int(argv[8], "INTERVAL_MS", 1, 60000);
    g_wait_s = arg_int(argv[9], "WAIT_S", 1, 60);
    const char *sync_dir = strcmp(argv[10], "-") ? argv[10] : NULL;
    int nw = streams * per;
    raise_nofile((rlim_t)nw + 64);
    resolve(g_host, g_port);

    struct http app = {.fd = -1};
    int64_t *next = calloc((size_t)streams, sizeof *next);
    char name[300];
    for (int s = 0; s < streams; s++) {
        snprintf(name, sizeof name, "%s%d", g_prefix, s);
        if ((next[s] = create_stream(&app, name)) < 0)
            return 1;
    }

    struct waiter *ws = calloc((size_t)nw, sizeof *ws);
    for (int i = 0; i < nw; i++) {
        ws[i].h.fd = -1;
        ws[i].stream = i % streams;
        ws[i].from = next[ws[i].stream];
        waiter_poll(&ws[i]);
    }
    struct round *rs = calloc((size_t)rounds, sizeof *rs);
    struct answer *ans = NULL;
    size_t nans = 0, cap_ans = 0;
    long unexpected = 0, empty = 0, errors = 0, reconnects = 0, slips = 0;
    struct pollfd *pfd = calloc((size_t)nw + 1, sizeof *pfd);
    enum { P_SETUP, P_SYNC, P_ROUNDS, P_DRAIN } phase = P_SETUP;
    int64_t t_start = now_us(), t_all_sent = 0, t_ready = 0, t0 = 0, t_drain = 0;
    int r_next = 0, connected = 0;
    bool app_busy = false;
    char ready[1024], go[1024];
    if (sync_dir) {
        snprintf(ready, sizeof ready, "%s/ready", sync_dir);
        snprintf(go, sizeof go, "%s/go", sync_dir);
    }

    for (;;) {
        int64_t now = now_us();
        if (phase == P_SETUP) {
            int sent = 0;
            for (int i = 0; i < nw; i++)
                sent += ws[i].h.fd >= 0 && !http_wants_write(&ws[i].h);
            connected = sent;
            if (sent == nw || now > t_start + 30000000) {
                if (!t_all_sent)
                    t_all_sent = now;
                if (now >= t_all_sent + 1500000) {
                    if (sent < nw)
                        complain("only %d of %d long polls were sent after 30 s", sent, nw);
                    if (sync_dir) {
                        FILE *f = fopen(ready, "w");
                        if (f)
                            fclose(f);
                    }
                    phase = P_SYNC;
                    t_ready = now;
                }
            }
        }
        if (phase == P_SYNC && (!sync_dir || access(go, F_OK) == 0 || now > t_ready + 60000000)) {
            phase = P_ROUNDS;
            t0 = now;
        }
        if (phase == P_ROUNDS && !app_busy && r_next < rounds && now >= t0 + (int64_t)r_next * interval_ms * 1000) {
            struct round *r = &rs[r_next];
            if (now > t0 + (int64_t)r_next * interval_ms * 1000 + 50000)
                slips++;
            r->stream = r_next % streams;
            r->offset = next[r->stream]++;
            char path[300], body[200];
            snprintf(path, sizeof path, "/streams/%s%d/events", g_prefix, r->stream);
            int bl =
                snprintf(body, sizeof body, "{\"events\": [{\"type\": \"Wake\", \"data\": {\"round\": %d}}]}", r_next);
            r->t_send = now_us();
            if (http_request(&app, "POST", path, NULL, body, (size_t)bl))
                app_busy = true;
            else
                errors++;
            r_next++;
        }
        if (phase == P_ROUNDS && r_next == rounds && !app_busy) {
            phase = P_DRAIN;
            t_drain = now;
        }
        if (phase == P_DRAIN) {
            long want = 0, got = 0;
            for (int r = 0; r < rounds; r++)
                if (rs[r].status == 201)
                    want += per, got += rs[r].answered;
            if (got >= want || now > t_drain + 5000000)
                break;
        }

        int n = 0;
        pfd[n++] =
            (struct pollfd){app.fd, (short)(app.fd >= 0 ? POLLIN | (http_wants_write(&app) ? POLLOUT : 0) : 0), 0};
        for (int i = 0; i < nw; i++) {
            if (ws[i].h.fd < 0 && phase != P_SETUP) { /* a connect that failed at once: try again */
                reconnects++;
                waiter_poll(&ws[i]);
            }
            pfd[n++] = (struct pollfd){ws[i].h.fd, (short)(POLLIN | (http_wants_write(&ws[i].h) ? POLLOUT : 0)), 0};
        }
        int timeout = 20;
        if (phase == P_ROUNDS && r_next < rounds) {
            int64_t due = (t0 + (int64_t)r_next * interval_ms * 1000 - now) / 1000;
            timeout = due < 0 ? 0 : due < 20 ? (int)due : 20;
        }
        if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR) {
            perror("poll");
            return 1;
        }
        /* The appender first, so that an answer read in the same turn is not stamped before the 201. */
        if (app.fd >= 0 && pfd[0].revents && !app_busy) {
            http_close(&app); /* the server closed the idle keep-alive connection */
        } else if (app.fd >= 0 && pfd[0].revents) {
            bool ok = true;
            if (pfd[0].revents & POLLOUT)
                ok = http_flush(&app);
            if (ok && (pfd[0].revents & (POLLIN | POLLERR | POLLHUP)))
                ok = http_read(&app);
            if (!ok || app.done) {
                struct round *r = &rs[r_next - 1];
                r->t_201 = now_us();
                r->status = ok ? app.status : 0;
                int64_t first, last;
                if (r->status == 201 && json_int(app.body.p, "\"first_offset\":", &first) &&
                    json_int(app.body.p, "\"last_offset\":", &last)) {
                    if (first != r->offset) {
                        complain("round %d: the append got offset %lld, not %lld", r_next - 1, (long long)first,
                                 (long long)r->offset);
                        errors++;
                        r->offset = first;
                    }
                    next[r->stream] = last + 1;
                } else {
                    complain("round %d: append status %d: %.300s", r_next - 1, r->status,
                             ok ? app.body.p : "(connection failed)");
                    errors++;
                    r->status = r->status == 201 ? 0 : r->status;
                    next[r->stream]--;
                }
                if (!ok || app.close_after || app.eof)
                    http_close(&app);
                app_busy = false;
            }
        }
        for (int i = 0; i < nw; i++) {
            struct waiter *w = &ws[i];
            short re = pfd[i + 1].revents;
            if (!re || w->h.fd < 0)
                continue;
            bool ok = true;
            if (re & POLLOUT)
                ok = http_flush(&w->h);
            if (ok && (re & (POLLIN | POLLERR | POLLHUP)))
                ok = http_read(&w->h);
            if (!ok) {
                reconnects++;
                complain("waiter %d: connection lost (%s); reconnecting", i, w->h.eof ? "closed" : strerror(errno));
                http_close(&w->h);
                waiter_poll(w);
                continue;
            }
            if (!w->h.done)
                continue;
            int64_t t = now_us();
            if (w->h.status != 200) {
                errors++;
                complain("waiter %d: status %d: %.300s", i, w->h.status, w->h.body.p);
            } else {
                const char *pos = w->h.body.p;
                int64_t o, nx;
                int count = 0;
                while (next_int(&pos, "\"offset\":", &o)) {
                    count++;
                    int found = -1;
                    for (int r = 0; r < r_next && found < 0; r++)
                        if (rs[r].stream == w->stream && rs[r].offset == o)
                            found = r;
                    if (found < 0) {
                        unexpected++;
                        continue;
                    }
                    if (nans == cap_ans) {
                        cap_ans = cap_ans ? cap_ans * 2 : 65536;
                        ans = xrealloc(ans, cap_ans * sizeof *ans);
                    }
                    ans[nans++] = (struct answer){found, t};
                    rs[found].answered++;
                }
                if (!count)
                    empty++;
                if (json_int(w->h.body.p, "\"next_offset\":", &nx))
                    w->from = nx;
                else
                    errors++;
            }
            if (w->h.close_after || w->h.eof)
                http_close(&w->h);
            waiter_poll(w);
        }
    }

    /* Latencies: answer received - the append's 201 received, and - the append sent. */
    struct samples lat = {0}, lat_sent = {0}, app_lat = {0};
    long expected = 0, answered = 0;
    int rounds_ok = 0;
    struct samples *per_round = calloc((size_t)rounds, sizeof *per_round);
    for (size_t k = 0; k < nans; k++) {
        struct round *r = &rs[ans[k].round];
        if (r->status != 201)
            continue;
        sample_add(&lat, ans[k].t - r->t_201);
        sample_add(&lat_sent, ans[k].t - r->t_send);
        sample_add(&per_round[ans[k].round], ans[k].t - r->t_201);
    }
    for (int r = 0; r < rounds; r++) {
        if (rs[r].status != 201)
            continue;
        rounds_ok++;
        expected += per;
        answered += rs[r].answered < per ? rs[r].answered : per;
        sample_add(&app_lat, rs[r].t_201 - rs[r].t_send);
        samples_sort(&per_round[r]);
        printf("ROUND %d stream %s%d offset %lld append_us %lld answered %d/%d min_us %ld p50_us %ld max_us %ld\n", r,
               g_prefix, rs[r].stream, (long long)rs[r].offset, (long long)(rs[r].t_201 - rs[r].t_send), rs[r].answered,
               per, pct(&per_round[r], 0), pct(&per_round[r], 0.5), pct(&per_round[r], 1));
    }
    samples_sort(&lat);
    samples_sort(&lat_sent);
    samples_sort(&app_lat);
    printf("BENCH waiters=%d connected=%d rounds=%d rounds_ok=%d expected=%ld answered=%ld missing=%ld "
           "unexpected=%ld empty_pages=%ld errors=%ld reconnects=%ld slips=%ld "
           "lat_min_us=%ld lat_p50_us=%ld lat_p90_us=%ld lat_p99_us=%ld lat_max_us=%ld "
           "sent_p50_us=%ld sent_p99_us=%ld sent_max_us=%ld append_p50_us=%ld append_max_us=%ld secs=%.3f\n",
           nw, connected, rounds, rounds_ok, expected, answered, expected - answered, unexpected, empty, errors,
           reconnects, slips, pct(&lat, 0), pct(&lat, 0.5), pct(&lat, 0.9), pct(&lat, 0.99), pct(&lat, 1),
           pct(&lat_sent, 0.5), pct(&lat_sent, 0.99), pct(&lat_sent, 1), pct(&app_lat, 0.5), pct(&app_lat, 1),
           (double)(now_us() - t0) / 1e6);
    fflush(stdout);
    for (int i = 0; i < nw; i++)
        http_close(&ws[i].h);
    return 0;
}

/* ======================= sse: fan-out to subscribers ======================= */

struct sub {
    struct http h;
    int64_t next; /* the next offset expected */
    long frames, dups, gaps, heartbeats;
    bool open, closed;
    int64_t t_last; /* when its last frame came */
};

/* Shared with the appender thread. */
static const char *g_stream;
static int g_batch, g_rate;
static int64_t g_first;          /* the first offset appended */
static int64_t g_max_events;     /* size of g_tsend */
static _Atomic int64_t *g_tsend; /* per offset - g_first: when its append was sent */
static _Atomic int64_t g_appended = 0, g_last_offset = -1, g_app_reqs = 0, g_app_errors = 0;
static atomic_bool g_app_done;
static int64_t g_app_t0, g_app_t1, g_app_end;
static struct samples g_app_lat;

static void *appender(void *arg)
{
    (void)arg;
    struct http h = {.fd = -1};
    struct buf body = {0};
    char path[300];
    snprintf(path, sizeof path, "/streams/%s/events", g_stream);
    g_app_t0 = now_us();
    for (long k = 0;; k++) {
        int64_t now = now_us();
        if (now >= g_app_end)
            break;
        int64_t done = atomic_load(&g_appended);
        if (done + g_batch > g_max_events) {
            complain("sse: appended %lld events, the most this run records", (long long)done);
            break;
        }
        if (g_rate > 0) {
            int64_t due = g_app_t0 + (int64_t)((double)done * 1e6 / g_rate);
            if (due > now) {
                if (due >= g_app_end)
                    break;
                usleep((useconds_t)(due - now));
            }
        }
        body.len = 0;
        buf_add(&body, "{\"events\": [", 12);
        for (int i = 0; i < g_batch; i++)
            buf_printf(&body, "%s{\"type\": \"Fan\", \"data\": {\"seq\": %lld}}", i ? ", " : "", (long long)(done + i));
        buf_add(&body, "]}", 2);
        int64_t t = now_us();
        for (int i = 0; i < g_batch; i++)
            atomic_store(&g_tsend[done + i], t);
        int st = http_call(&h, "POST", path, NULL, body.p, body.len, 30000);
        int64_t t1 = now_us();
        atomic_fetch_add(&g_app_reqs, 1);
        int64_t first, last;
        if (st != 201 || !json_int(h.body.p, "\"first_offset\":", &first) ||
            !json_int(h.body.p, "\"last_offset\":", &last)) {
            atomic_fetch_add(&g_app_errors, 1);
            complain("sse append: status %d: %.300s", st, st ? h.body.p : "(connection failed)");
            continue;
        }
        if (first != g_first + done) {
            /* Another writer on the stream: send times no longer match offsets. */
            atomic_fetch_add(&g_app_errors, 1);
            complain("sse append: got offset %lld, expected %lld", (long long)first, (long long)(g_first + done));
        }
        sample_add(&g_app_lat, t1 - t);
        atomic_store(&g_last_offset, last);
        atomic_store(&g_appended, done + g_batch);
    }
    g_app_t1 = now_us();
    atomic_store(&g_app_done, true);
    http_close(&h);
    free(body.p);
    return NULL;
}

/* Takes the complete frames out of the body read so far. */
static void sub_frames(struct sub *s, struct samples *lat)
{
    size_t off = 0;
    for (;;) {
        char *start = s->h.body.p + off, *e = strstr(start, "\n\n");
        if (!e)
            break;
        *e = '\0';
        if (start[0] == ':') {
            if (!strncmp(start, ": heartbeat", 11))
                s->heartbeats++;
            s->open = true;
        } else {
            const char *id = !strncmp(start, "id: ", 4) ? start : strstr(start, "\nid: ");
            if (id) {
                int64_t o = strtoll(id + (id[0] == '\n' ? 5 : 4), NULL, 10);
                s->frames++;
                s->open = true;
                s->t_last = now_us();
                if (o < s->next)
                    s->dups++;
                else {
                    if (o > s->next)
                        s->gaps++;
                    s->next = o + 1;
                }
                int64_t i = o - g_first;
                if (i >= 0 && i < g_max_events) {
                    int64_t t = atomic_load(&g_tsend[i]);
                    if (t)
                        sample_add(lat, now_us() - t);
                }
            }
        }
        off = (size_t)(e - s->h.body.p) + 2;
    }
    buf_consume(&s->h.body, off);
}

static int mode_sse(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: live_load sse HOST PORT STREAM SUBSCRIBERS SECONDS BATCH RATE\n");
        return 2;
    }
    g_host = argv[2];
    g_port = arg_int(argv[3], "PORT", 1, 65535);
    g_stream = argv[4];
    int nsubs = arg_int(argv[5], "SUBSCRIBERS", 1, 100000), secs = arg_int(argv[6], "SECONDS", 1, 3600);
    g_batch = arg_int(argv[7], "BATCH", 1, 1000);
    g_rate = arg_int(argv[8], "RATE", 0, 10000000);
    raise_nofile((rlim_t)nsubs + 64);
    resolve(g_host, g_port);
    struct http h = {.fd = -1};
    if ((g_first = create_stream(&h, g_stream)) < 0)
        return 1;
    http_close(&h);
    g_max_events = 4000000;
    g_tsend = calloc((size_t)g_max_events, sizeof *g_tsend);

    struct sub *ss = calloc((size_t)nsubs, sizeof *ss);
    char path[300];
    snprintf(path, sizeof path, "/streams/%s/subscribe?from=%lld", g_stream, (long long)g_first);
    for (int i = 0; i < nsubs; i++) {
        ss[i].h.fd = -1;
        ss[i].next = g_first;
        if (!http_request(&ss[i].h, "GET", path, "Accept: text/event-stream\r\n", NULL, 0))
            ss[i].closed = true;
    }
    struct pollfd *pfd = calloc((size_t)nsubs, sizeof *pfd);
    struct samples lat = {0};
    pthread_t thread;
    bool started = false;
    long errors = 0, closed = 0;
    int64_t t_setup = now_us(), t_end_wait = 0;
    for (;;) {
        int64_t now = now_us();
        if (!started) {
            int open = 0;
            for (int i = 0; i < nsubs; i++)
                open += ss[i].open;
            if (open + closed == nsubs || now > t_setup + 30000000) {
                if (open < nsubs)
                    complain("sse: only %d of %d subscriptions open", open, nsubs);
                g_app_end = now_us() + (int64_t)secs * 1000000;
                if (pthread_create(&thread, NULL, appender, NULL) != 0) {
                    perror("pthread_create");
                    return 1;
                }
                started = true;
            }
        } else if (atomic_load(&g_app_done)) {
            if (!t_end_wait)
                t_end_wait = now;
            int64_t last = atomic_load(&g_last_offset);
            bool all = true;
            for (int i = 0; i < nsubs && all; i++)
                all = ss[i].closed || ss[i].next > last;
            if (all || now > t_end_wait + 15000000)
                break;
        }
        for (int i = 0; i < nsubs; i++)
            pfd[i] = (struct pollfd){ss[i].closed ? -1 : ss[i].h.fd,
                                     (short)(POLLIN | (http_wants_write(&ss[i].h) ? POLLOUT : 0)), 0};
        if (poll(pfd, (nfds_t)nsubs, 20) < 0 && errno != EINTR) {
            perror("poll");
            return 1;
        }
        for (int i = 0; i < nsubs; i++) {
            struct sub *s = &ss[i];
            short re = pfd[i].revents;
            if (!re || s->closed)
                continue;
            bool ok = true;
            if (re & POLLOUT)
                ok = http_flush(&s->h);
            if (ok && (re & (POLLIN | POLLERR | POLLHUP)))
                ok = http_read(&s->h);
            if (s->h.head_done && s->h.status != 200) {
                if (s->h.done || !ok) {
                    complain("subscriber %d: status %d: %.300s", i, s->h.status, s->h.body.p ? s->h.body.p : "");
                    errors++;
                    s->closed = true;
                    closed++;
                }
                continue;
            }
            if (s->h.body.len)
                sub_frames(s, &lat);
            if (!ok || s->h.done) {
                complain("subscriber %d: the stream ended (%s) at offset %lld", i,
                         ok         ? "end of body"
                         : s->h.eof ? "connection closed"
                                    : strerror(errno),
                         (long long)s->next);
                s->closed = true;
                closed++;
            }
        }
    }
    if (started)
        pthread_join(thread, NULL);
    int64_t last = atomic_load(&g_last_offset), appended = atomic_load(&g_appended);
    long frames = 0, dups = 0, gaps = 0, complete = 0, heartbeats = 0;
    int64_t t_all = 0;
    for (int i = 0; i < nsubs; i++) {
        struct sub *s = &ss[i];
        frames += s->frames, dups += s->dups, gaps += s->gaps, heartbeats += s->heartbeats;
        if (!s->closed && s->next > last && s->frames == appended && !s->dups && !s->gaps)
            complete++;
        if (s->t_last > t_all)
            t_all = s->t_last;
    }
    if (!t_all)
        t_all = now_us();
    samples_sort(&lat);
    samples_sort(&g_app_lat);
    double app_secs = (double)(g_app_t1 - g_app_t0) / 1e6, del_secs = (double)(t_all - g_app_t0) / 1e6;
    printf("BENCH subscribers=%d appended=%lld append_requests=%lld append_errors=%lld append_secs=%.3f "
           "append_eps=%.0f append_p50_us=%ld append_p99_us=%ld frames=%ld expected=%lld complete=%ld dups=%ld "
           "gaps=%ld closed=%ld errors=%ld heartbeats=%ld deliver_secs=%.3f deliver_eps=%.0f per_sub_eps=%.0f "
           "lag_after_end_ms=%.0f lat_p50_us=%ld lat_p99_us=%ld lat_max_us=%ld\n",
           nsubs, (long long)appended, (long long)atomic_load(&g_app_reqs), (long long)atomic_load(&g_app_errors),
           app_secs, app_secs > 0 ? (double)appended / app_secs : 0, pct(&g_app_lat, 0.5), pct(&g_app_lat, 0.99),
           frames, (long long)appended * nsubs, complete, dups, gaps, closed, errors, heartbeats, del_secs,
           del_secs > 0 ? (double)frames / del_secs : 0, del_secs > 0 ? (double)frames / del_secs / nsubs : 0,
           (double)(t_all - g_app_t1) / 1e3, pct(&lat, 0.5), pct(&lat, 0.99), pct(&lat, 1));
    fflush(stdout);
    for (int i = 0; i < nsubs; i++)
        http_close(&ss[i].h);
    return 0;
}

/* ======================= receiver: a webhook endpoint ======================= */

struct peer {
    int fd;
    struct buf in, out;
    size_t out_off;
};

static int64_t r_next_offset, r_events, r_unique, r_dups, r_gaps, r_requests, r_unsigned, r_bytes, r_bad;
static int64_t r_first_us, r_last_us;

static void receive_body(const char *body)
{
    const char *pos = body;
    int64_t o;
    while (next_int(&pos, "\"offset\":", &o)) {
        r_events++;
        if (o < r_next_offset) {
            r_dups++;
            continue;
        }
        if (o > r_next_offset) {
            if (r_gaps++ < 5)
                complain("receiver: offset %lld after %lld (a gap)", (long long)o, (long long)r_next_offset - 1);
        }
        r_next_offset = o + 1;
        r_unique++;
        r_last_us = wall_us();
    }
}

/* Handles the complete requests in p->in; false to drop the connection. */
static bool peer_requests(struct peer *p)
{
    for (;;) {
        char *e = p->in.len ? strstr(p->in.p, "\r\n\r\n") : NULL;
        if (!e)
            return p->in.len < 65536;
        long clen = -1;
        bool signed_ = false, chunked = false;
        for (char *line = strstr(p->in.p, "\r\n") + 2; line < e; line = strstr(line, "\r\n") + 2) {
            if (!strncasecmp(line, "Content-Length:", 15))
                clen = strtol(line + 15, NULL, 10);
            else if (!strncasecmp(line, "webhook-signature:", 18))
                signed_ = true;
            else if (!strncasecmp(line, "Transfer-Encoding:", 18))
                chunked = true;
        }
        size_t head = (size_t)(e - p->in.p) + 4;
        if (chunked || clen < 0 || strncmp(p->in.p, "POST ", 5) != 0) {
            r_bad++;
            complain("receiver: a request that is not a POST with a Content-Length: %.200s", p->in.p);
            static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            ssize_t w = send(p->fd, bad, sizeof bad - 1, MSG_NOSIGNAL);
            (void)w;
            return false;
        }
        if (p->in.len < head + (size_t)clen)
            return true;
        if (!r_first_us)
            r_first_us = wall_us();
        r_requests++;
        r_bytes += clen;
        if (!signed_)
            r_unsigned++;
        char saved = p->in.p[head + (size_t)clen];
        p->in.p[head + (size_t)clen] = '\0';
        receive_body(p->in.p + head);
        p->in.p[head + (size_t)clen] = saved;
        buf_consume(&p->in, head + (size_t)clen);
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        buf_add(&p->out, ok, sizeof ok - 1);
    }
}

static bool peer_flush(struct peer *p)
{
    while (p->out_off < p->out.len) {
        ssize_t w = send(p->fd, p->out.p + p->out_off, p->out.len - p->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (w <= 0)
            return false;
        p->out_off += (size_t)w;
    }
    p->out.len = p->out_off = 0;
    return true;
}

#define MAX_PEERS 256

static int mode_receiver(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: live_load receiver PORT_FILE EXPECT TIMEOUT_S\n");
        return 2;
    }
    const char *port_file = argv[2];
    int64_t expect = arg_int(argv[3], "EXPECT", 1, 2000000000);
    int timeout_s = arg_int(argv[4], "TIMEOUT_S", 1, 86400);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 128) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
        perror("receiver: listen");
        return 1;
    }
    fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0 || rename(tmp, port_file) != 0) {
        perror("receiver: port file");
        return 1;
    }
    struct peer peers[MAX_PEERS];
    int npeers = 0;
    long connections = 0;
    struct pollfd pfd[MAX_PEERS + 1];
    int64_t end = now_us() + (int64_t)timeout_s * 1000000;
    bool finished = false;
    while (now_us() < end) {
        pfd[0] = (struct pollfd){lfd, POLLIN, 0};
        for (int i = 0; i < npeers; i++)
            pfd[i + 1] = (struct pollfd){peers[i].fd, (short)(POLLIN | (peers[i].out.len ? POLLOUT : 0)), 0};
        if (poll(pfd, (nfds_t)npeers + 1, 100) < 0 && errno != EINTR) {
            perror("poll");
            return 1;
        }
        int polled = npeers; /* peers accepted below are polled from the next turn */
        if (pfd[0].revents & POLLIN) {
            int c;
            while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                if (npeers == MAX_PEERS) {
                    close(c);
                    continue;
                }
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                peers[npeers++] = (struct peer){.fd = c};
                connections++;
            }
        }
        for (int i = polled - 1; i >= 0; i--) {
            struct peer *p = &peers[i];
            short re = pfd[i + 1].revents;
            bool ok = true;
            if (re & (POLLIN | POLLERR | POLLHUP)) {
                for (;;) {
                    buf_reserve(&p->in, 65536);
                    ssize_t r = recv(p->fd, p->in.p + p->in.len, p->in.cap - p->in.len - 1, 0);
                    if (r < 0 && errno == EINTR)
                        continue;
                    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        break;
                    if (r <= 0) {
                        ok = false;
                        break;
                    }
                    p->in.len += (size_t)r;
                    p->in.p[p->in.len] = '\0';
                }
                if (!peer_requests(p))
                    ok = false;
            }
            if (p->out.len && !peer_flush(p))
                ok = false;
            if (!ok) {
                close(p->fd);
                free(p->in.p);
                free(p->out.p);
                peers[i] = peers[--npeers];
            }
        }
        if (r_unique >= expect) {
            finished = true;
            break;
        }
    }
    /* Let the last answers go out before closing. */
    for (int i = 0; i < npeers; i++) {
        int64_t until = now_us() + 1000000;
        while (peers[i].out.len && now_us() < until && peer_flush(&peers[i]))
            usleep(1000);
        close(peers[i].fd);
    }
    printf("BENCH received=%lld expected=%lld finished=%d events=%lld duplicates=%lld gaps=%lld requests=%lld "
           "unsigned=%lld bad=%lld connections=%ld bytes=%lld first_us=%lld last_us=%lld\n",
           (long long)r_unique, (long long)expect, finished, (long long)r_events, (long long)r_dups, (long long)r_gaps,
           (long long)r_requests, (long long)r_unsigned, (long long)r_bad, connections, (long long)r_bytes,
           (long long)r_first_us, (long long)r_last_us);
    fflush(stdout);
    return 0;
}

/* ======================= post: the receiver's baseline ======================= */

static int mode_post(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: live_load post HOST PORT STREAM BATCH COUNT RECEIVER_PORT SYNC_DIR\n");
        return 2;
    }
    g_host = argv[2];
    g_port = arg_int(argv[3], "PORT", 1, 65535);
    const char *stream = argv[4];
    int batch = arg_int(argv[5], "BATCH", 1, 1000), count = arg_int(argv[6], "COUNT", 1, 100000000);
    int rport = arg_int(argv[7], "RECEIVER_PORT", 1, 65535);
    resolve(g_host, g_port);
    /* The bodies the dispatcher would post: {"webhook": name, "events": [page]}. */
    struct http h = {.fd = -1};
    struct buf *bodies = NULL;
    int nbodies = 0;
    int64_t from = 0, got = 0;
    int64_t t_fetch = now_us();
    while (got < count) {
        char path[400];
        int limit = count - got < batch ? (int)(count - got) : batch;
        snprintf(path, sizeof path, "/streams/%s/events?from=%lld&limit=%d", stream, (long long)from, limit);
        int st = http_call(&h, "GET", path, NULL, NULL, 0, 30000);
        const char *ev = st == 200 ? strstr(h.body.p, "\"events\":[") : NULL;
        const char *end = ev ? strstr(ev, "],\"next_offset\":") : NULL;
        int64_t nx;
        if (!end || !json_int(end, "\"next_offset\":", &nx)) {
            complain("post: reading %s: status %d: %.300s", path, st, st ? h.body.p : "(connection failed)");
            return 1;
        }
        ev += strlen("\"events\":[");
        if (end == ev)
            break; /* the stream has fewer events */
        bodies = xrealloc(bodies, (size_t)(nbodies + 1) * sizeof *bodies);
        struct buf *b = &bodies[nbodies++];
        *b = (struct buf){0};
        buf_add(b, "{\"webhook\":\"bench\",\"events\":[", 29);
        buf_add(b, ev, (size_t)(end - ev));
        buf_add(b, "]}", 2);
        got += nx - from;
        from = nx;
    }
    double fetch_secs = (double)(now_us() - t_fetch) / 1e6;
    http_close(&h);
    if (strcmp(argv[8], "-") != 0) {
        char path[1024];
        snprintf(path, sizeof path, "%s/ready", argv[8]);
        FILE *f = fopen(path, "w");
        if (f)
            fclose(f);
        snprintf(path, sizeof path, "%s/go", argv[8]);
        for (int i = 0; i < 6000 && access(path, F_OK) != 0; i++)
            usleep(10000);
    }
    g_port = rport;
    resolve(g_host, g_port);
    long errors = 0;
    int64_t t0 = now_us();
    for (int i = 0; i < nbodies; i++) {
        char headers[300];
        snprintf(headers, sizeof headers,
                 "webhook-id: msg_bench_%d\r\nwebhook-timestamp: %lld\r\n"
                 "webhook-signature: v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n",
                 i, (long long)(wall_us() / 1000000));
        int st = http_call(&h, "POST", "/", headers, bodies[i].p, bodies[i].len, 30000);
        if (st < 200 || st > 299) {
            errors++;
            complain("post: the receiver answered %d", st);
            if (!st)
                break;
        }
    }
    double secs = (double)(now_us() - t0) / 1e6;
    printf("BENCH posts=%d events=%lld errors=%ld secs=%.3f eps=%.0f fetch_secs=%.3f\n", nbodies, (long long)got,
           errors, secs, secs > 0 ? (double)got / secs : 0, fetch_secs);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && !strcmp(argv[1], "waiters"))
        return mode_waiters(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "sse"))
        return mode_sse(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "receiver"))
        return mode_receiver(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "post"))
        return mode_post(argc, argv);
    fprintf(stderr,
            "usage: live_load waiters|sse|receiver|post ... (see the comment at the top of bench/live_load.c)\n");
    return 2;
}
