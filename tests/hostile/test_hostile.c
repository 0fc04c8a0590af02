/* Hostile input: thousands of malformed requests over raw sockets.
 *
 * Starts the service through the harness (with --max-body 65536 so that huge
 * bodies stay cheap), makes fixture streams and queues by ordinary HTTP, then
 * sends STREAMQ_HOSTILE_COUNT (default 5,000) requests from generator.c, each
 * on a fresh connection, eight at a time: every route with every method, bad
 * names and ids, bad query values, wrong JSON types, broken, deep and huge
 * JSON, odd and duplicated headers, bad framing (Content-Length, chunking,
 * smuggling), bytes a request target must not hold, missing or doubled Host,
 * broken request lines, pipelines, unfinished requests and a few slow senders.
 *
 * It asserts, for every answer: no 5xx but 503 (505 only for a well-formed
 * version other than 1.x); every 4xx or 503 the service writes itself (it
 * carries X-Request-Id; libmicrohttpd's own answers do not) is
 * application/problem+json with a matching "status" and a "code"; what the
 * generator says the answer must be (400 for a raw NUL in the target, 413 for
 * an over-size body, 400 for HTTP/1.1 without Host...); a close without an
 * answer only for protocol-level garbage; no answer to a request hidden behind
 * ambiguous framing. And for the run: the process never dies, /healthz answers
 * every 500 requests, the fixtures read the same after the run (versions,
 * events, counts, messages, dead letters), and resident memory grows by less
 * than 64 MiB after a warm-up of 500 requests. The service runs with a 16 MiB
 * ASan quarantine so that the allocator's own hoard does not count as growth.
 *
 * The seed is printed first; request i depends on (seed, i) alone, and its
 * category on i alone (the reported defects are the first requests of their
 * categories, at the same indices under every seed). Replay one request:
 *   STREAMQ_HOSTILE_SEED=<seed> STREAMQ_HOSTILE_INDEX=<i> bash scripts/test hostile
 * sends request i only (after making the fixtures) and prints its bytes and the
 * answer, escaped, in build-test/meson-logs/testlog.txt. STREAMQ_HOSTILE_SHOW=N
 * lists up to N failures per category instead of the worst six. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "hostile.h"

#define DEFAULT_COUNT 5000
#define WORKERS 8
#define ANSWER_TIMEOUT_MS 10000 /* a well-formed request */
#define GARBAGE_TIMEOUT_MS 800  /* protocol garbage: the service may wait for more */
#define UNFINISHED_WAIT_MS 150  /* an unfinished request: any early answer is checked */
#define SMUGGLE_WAIT_MS 250     /* after the first answer, for an answer to hidden bytes */
#define SEND_TIMEOUT_MS 5000
#define SLOW_PIECES 15  /* a slow sender's request in this many pieces, */
#define SLOW_GAP_MS 100 /* this far apart */
#define HEALTH_EVERY 500
#define RSS_GROWTH_LIMIT_KIB (64 * 1024)
/* Requests before the memory baseline: ASan's quarantine, allocator caches and
 * the database pool fill up first. */
#define RSS_WARM_UP 500
#define RUN_LIMIT_S 200
#define FAILURES_KEPT 4000
#define FAILURES_SHOWN_PER_CATEGORY 6
#define FAILURES_SHOWN 90
#define NONE UINT64_MAX

static const char *const service_args[] = {"--max-body", "65536", "--connection-timeout", "3", NULL};

static struct service_proc sp;
static struct fixture_names fx;
static uint64_t seed, count;
static bool replay;

static atomic_uint_fast64_t next_index;
static atomic_uint_fast64_t done;
static atomic_bool stop;
static _Atomic uint64_t in_flight[WORKERS];

/* Tallies, under `lock`. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long by_status[600];
static long closed_silently, silent_timeouts, answers_total;

struct category_tally {
    const char *name;
    long requests, failures, silent;
    double seconds; /* spent by the workers on this category's requests */
};
static struct category_tally tallies[32];

struct failure {
    uint64_t index; /* NONE: not one request's (fixtures, health, memory) */
    const char *category;
    char what[200];
    char why[240];
    int severity; /* 3: a write to a fixture succeeded; 2: another success where a refusal
                     was due, or a hidden request ran; 1: a 5xx */
};
static struct failure *failures;
static size_t failures_kept, failures_total;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct category_tally *tally_of(const char *name)
{
    for (size_t i = 0; i < sizeof tallies / sizeof tallies[0]; i++) {
        if (!tallies[i].name)
            tallies[i].name = name;
        if (tallies[i].name == name || !strcmp(tallies[i].name, name))
            return &tallies[i];
    }
    return &tallies[0];
}

static void fail(uint64_t index, const char *category, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(uint64_t index, const char *category, const char *what, const char *fmt, ...)
{
    pthread_mutex_lock(&lock);
    failures_total++;
    if (category)
        tally_of(category)->failures++;
    if (failures_kept < FAILURES_KEPT) {
        struct failure *f = &failures[failures_kept++];
        f->index = index;
        f->category = category ? category : "run";
        snprintf(f->what, sizeof f->what, "%s", what ? what : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->why, sizeof f->why, fmt, ap);
        va_end(ap);
        /* For the summary's order: writes that succeeded on a fixture first. */
        bool success = !strncmp(f->why, "status 2", 8) || !strncmp(f->why, "answered the request hidden", 27);
        bool fixture_write = strstr(f->what, "[fixture]") && strncmp(f->what, "GET ", 4) &&
                             strncmp(f->what, "HEAD ", 5) && !strstr(f->what, " GET ");
        f->severity = success ? 2 + fixture_write : !strncmp(f->why, "status 5", 8);
    }
    pthread_mutex_unlock(&lock);
}

static void print_escaped(FILE *f, const char *p, size_t n)
{
    const size_t head = 3000, tail = 300;
    for (size_t i = 0; i < n; i++) {
        if (n > head + tail && i == head) {
            fprintf(f, "\n... (%zu bytes not shown) ...\n", n - head - tail);
            i = n - tail;
        }
        unsigned char c = (unsigned char)p[i];
        if (c == '\n')
            fputs("\\n\n", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c == '\\')
            fputs("\\\\", f);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc('\n', f);
}

/* ---- one exchange over a raw socket ---- */

struct exchange {
    char *buf; /* what came back */
    size_t len, cap;
    bool connect_failed, eof, reset, timed_out;
    int connect_errno;
};

static int remaining_ms(double deadline)
{
    double left = deadline - now_s();
    return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Sends `n` bytes; false once the service stops taking them (it may have
 * answered early, as with 413, or closed). */
static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += k;
        n -= (size_t)k;
    }
    return true;
}

struct answer {
    int status;
    bool request_id, chunked;
    char content_type[128];
    const char *body; /* into the exchange buffer; NULL when none or chunked */
    size_t body_len;
};

/* Parses one response at buf[*pos...]: 1 when complete (and *pos moves past
 * it), 0 when more bytes are needed, -1 when the bytes are not a response. */
static int parse_answer(const char *buf, size_t len, size_t *pos, bool head, bool eof, struct answer *a)
{
    const char *p = buf + *pos;
    size_t avail = len - *pos;
    memset(a, 0, sizeof *a);
    if (avail == 0)
        return 0;
    if (memcmp(p, "HTTP/1.", avail < 7 ? avail : 7) != 0)
        return -1;
    const char *end = memmem(p, avail, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t header_len = (size_t)(end - p) + 4;
    if (header_len < 12 || p[8] != ' ' || sscanf(p + 9, "%3d", &a->status) != 1 || a->status < 100)
        return -1;
    long long content_length = -1;
    for (const char *line = (const char *)memchr(p, '\n', header_len) + 1; line < end;) {
        const char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
        size_t n = (size_t)(eol - line);
        char text[512];
        snprintf(text, sizeof text, "%.*s", (int)(n < sizeof text - 1 ? n : sizeof text - 1), line);
        char *colon = strchr(text, ':');
        if (colon) {
            *colon = '\0';
            const char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            if (!strcasecmp(text, "Content-Length"))
                content_length = strtoll(v, NULL, 10);
            else if (!strcasecmp(text, "Transfer-Encoding"))
                a->chunked = strcasestr(v, "chunked") != NULL;
            else if (!strcasecmp(text, "X-Request-Id"))
                a->request_id = true;
            else if (!strcasecmp(text, "Content-Type"))
                snprintf(a->content_type, sizeof a->content_type, "%s", v);
        }
        line = eol + 2;
    }
    size_t at = *pos + header_len;
    if (head || a->status < 200 || a->status == 204 || a->status == 304) {
        *pos = at;
        return 1;
    }
    if (a->chunked) {
        for (;;) {
            const char *eol = memmem(buf + at, len - at, "\r\n", 2);
            if (!eol)
                return 0;
            unsigned long long size = strtoull(buf + at, NULL, 16);
            at = (size_t)(eol - buf) + 2;
            if (size == 0) {
                /* Trailers, if any, end with an empty line. */
                for (;;) {
                    const char *te = memmem(buf + at, len - at, "\r\n", 2);
                    if (!te)
                        return 0;
                    bool empty = te == buf + at;
                    at = (size_t)(te - buf) + 2;
                    if (empty) {
                        *pos = at;
                        return 1;
                    }
                }
            }
            if (len - at < size + 2)
                return 0;
            at += size + 2;
        }
    }
    if (content_length >= 0) {
        if (len - at < (size_t)content_length)
            return 0;
        a->body = buf + at;
        a->body_len = (size_t)content_length;
        *pos = at + (size_t)content_length;
        return 1;
    }
    if (!eof) /* delimited by the close */
        return 0;
    a->body = buf + at;
    a->body_len = len - at;
    *pos = len;
    return 1;
}

/* Final answers complete in the buffer (interim 1xx ones skipped). */
static int complete_answers(const struct exchange *x, bool head, bool eof)
{
    size_t pos = 0;
    int n = 0;
    struct answer a;
    while (parse_answer(x->buf, x->len, &pos, head && n == 0, eof, &a) == 1)
        if (a.status >= 200)
            n++;
    return n;
}

static void receive(int fd, struct exchange *x, double deadline)
{
    if (x->len + 65536 > x->cap) {
        x->cap = x->cap ? x->cap * 2 : 131072;
        x->buf = realloc(x->buf, x->cap);
        if (!x->buf)
            abort();
    }
    struct pollfd pfd = {fd, POLLIN, 0};
    int ready = poll(&pfd, 1, remaining_ms(deadline));
    if (ready == 0) {
        x->timed_out = true;
        return;
    }
    ssize_t k = recv(fd, x->buf + x->len, x->cap - x->len - 1, 0);
    if (k > 0) {
        x->len += (size_t)k;
        x->buf[x->len] = '\0';
    } else if (k == 0) {
        x->eof = true;
    } else if (errno != EINTR && errno != EAGAIN) {
        x->reset = true;
    }
}

static void exchange(const struct hreq *q, struct exchange *x)
{
    memset(x, 0, sizeof *x);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sp.port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        x->connect_failed = true;
        x->connect_errno = errno;
        if (fd >= 0)
            close(fd);
        return;
    }
    struct timeval tv = {SEND_TIMEOUT_MS / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    if (q->slow) {
        size_t piece = (q->len + SLOW_PIECES - 1) / SLOW_PIECES;
        for (size_t at = 0; at < q->len; at += piece) {
            if (!send_all(fd, q->data + at, q->len - at < piece ? q->len - at : piece))
                break;
            if (at + piece < q->len)
                sleep_ms(SLOW_GAP_MS);
        }
    } else {
        send_all(fd, q->data, q->len);
    }
    if (q->unfinished)
        shutdown(fd, SHUT_WR);

    int wanted = q->requests > 0 ? q->requests : 1;
    int wait = q->unfinished ? UNFINISHED_WAIT_MS : q->garbage ? GARBAGE_TIMEOUT_MS : ANSWER_TIMEOUT_MS;
    double deadline = now_s() + wait / 1000.0;
    bool extra_wait = false;
    while (!x->eof && !x->reset && !x->timed_out) {
        receive(fd, x, deadline);
        int n = complete_answers(x, q->head, x->eof || x->reset);
        if (n >= wanted && !q->smuggle)
            break;
        if (n >= wanted && q->smuggle && !extra_wait) {
            extra_wait = true; /* anything more is an answer to the hidden request */
            deadline = now_s() + SMUGGLE_WAIT_MS / 1000.0;
        }
        if (n > wanted)
            break;
    }
    if (extra_wait)
        x->timed_out = false;
    close(fd);
}

/* ---- checks ---- */

/* What is wrong with one answer, into `why` (empty when nothing). */
static void judge_answer(const struct hreq *q, const struct answer *a, bool first, char *why, size_t size)
{
    why[0] = '\0';
    int s = a->status;
    if (s >= 500 && s != 503 && !(s == 505 && q->allow_505)) {
        snprintf(why, size, "status %d", s);
        return;
    }
    if ((s >= 400 && s < 500) || s == 503) {
        if (a->request_id) {
            if (strncasecmp(a->content_type, "application/problem+json", 24) != 0) {
                snprintf(why, size, "status %d written by the service with Content-Type '%s'", s, a->content_type);
                return;
            }
            if (a->body) {
                cJSON *doc = cJSON_ParseWithLength(a->body, a->body_len);
                const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "status");
                const cJSON *code = cJSON_GetObjectItemCaseSensitive(doc, "code");
                bool ok = cJSON_IsObject(doc) && cJSON_IsNumber(st) && st->valuedouble == s && cJSON_IsString(code);
                cJSON_Delete(doc);
                if (!ok) {
                    snprintf(why, size, "status %d problem body lacks a matching status or a code: %.80s", s, a->body);
                    return;
                }
            }
        }
    }
    if (!first)
        return;
    if (q->expect == EXPECT_STATUS && s != q->status) {
        snprintf(why, size, "status %d, must be %d", s, q->status);
        return;
    }
    if (q->expect == EXPECT_STATUS && q->code && a->body) {
        cJSON *doc = cJSON_ParseWithLength(a->body, a->body_len);
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(doc, "code");
        if (!cJSON_IsString(code) || strcmp(code->valuestring, q->code) != 0)
            snprintf(why, size, "status %d with code '%s', must be '%s'", s,
                     cJSON_IsString(code) ? code->valuestring : "(none)", q->code);
        cJSON_Delete(doc);
        return;
    }
    if (q->expect == EXPECT_REFUSED && (s < 400 || s >= 500))
        snprintf(why, size, "status %d, must be refused with a 4xx", s);
}

static void judge(uint64_t index, const struct hreq *q, const struct exchange *x)
{
    char why[240] = "";
    if (x->connect_failed) {
        fail(index, q->category, q->what, "could not connect: %s", strerror(x->connect_errno));
        return;
    }
    bool eof = x->eof || x->reset;
    int wanted = q->requests > 0 ? q->requests : 1;
    size_t pos = 0;
    int n = 0, statuses[2] = {0};
    struct answer a;
    int r;
    /* The answers owed; past them, only a smuggled request's answer matters
     * (libmicrohttpd 0.9.75 sends some early error headers twice: junk there
     * is not judged). */
    while ((r = parse_answer(x->buf, x->len, &pos, q->head && n == 0, eof, &a)) == 1) {
        if (a.status < 200)
            continue;
        if (n < 2)
            statuses[n] = a.status;
        n++;
        if (n > wanted)
            continue;
        char one[240];
        judge_answer(q, &a, n == 1, one, sizeof one);
        if (one[0] && !why[0])
            snprintf(why, sizeof why, "%s%s", n > 1 ? "pipelined answer: " : "", one);
        pthread_mutex_lock(&lock);
        by_status[a.status < 600 ? a.status : 599]++;
        answers_total++;
        pthread_mutex_unlock(&lock);
    }
    if (n < wanted && r == -1 && !why[0])
        snprintf(why, sizeof why, "not an HTTP answer: %.60s", x->buf + pos);
    else if (n < wanted && r == 0 && pos < x->len && eof && !why[0])
        snprintf(why, sizeof why, "answer cut short after %zu bytes", x->len - pos);
    if (n == 0) {
        pthread_mutex_lock(&lock);
        if (eof)
            closed_silently++;
        else
            silent_timeouts++;
        tally_of(q->category)->silent++;
        pthread_mutex_unlock(&lock);
        if (!q->garbage && !why[0])
            snprintf(why, sizeof why, "%s",
                     eof ? (x->reset ? "connection reset without an answer" : "connection closed without an answer")
                         : "no answer in time");
    } else if (q->smuggle && n > wanted) {
        snprintf(why, sizeof why, "answered the request hidden after it: statuses %d then %d", statuses[0],
                 statuses[1]);
    } else if (n < q->requests && !q->garbage && !why[0]) {
        snprintf(why, sizeof why, "%d answers to %d pipelined requests", n, q->requests);
    }
    if (why[0])
        fail(index, q->category, q->what, "%s", why);
}

static void run_index(uint64_t index)
{
    struct hreq q = {0};
    struct exchange x;
    hostile_generate(seed, index, &fx, &q);
    double began = now_s();
    if (replay) {
        printf("request %" PRIu64 " [%s] %s (%zu bytes%s%s%s):\n", index, q.category, q.what, q.len,
               q.slow ? ", slow" : "", q.garbage ? ", garbage" : "", q.unfinished ? ", unfinished" : "");
        print_escaped(stdout, q.data, q.len);
    }
    exchange(&q, &x);
    if (replay) {
        printf("answer (%zu bytes%s%s%s):\n", x.len, x.eof ? ", then closed" : "", x.reset ? ", then reset" : "",
               x.timed_out ? ", then silence" : "");
        print_escaped(stdout, x.buf ? x.buf : "", x.len);
    }
    judge(index, &q, &x);
    pthread_mutex_lock(&lock);
    struct category_tally *t = tally_of(q.category);
    t->requests++;
    t->seconds += now_s() - began;
    pthread_mutex_unlock(&lock);
    free(x.buf);
    hreq_free(&q);
}

static void *worker(void *arg)
{
    int w = (int)(intptr_t)arg;
    while (!atomic_load(&stop)) {
        uint64_t i = atomic_fetch_add(&next_index, 1);
        if (i >= count)
            break;
        atomic_store(&in_flight[w], i);
        run_index(i);
        atomic_store(&in_flight[w], NONE);
        atomic_fetch_add(&done, 1);
    }
    return NULL;
}

/* ---- the service and its fixtures ---- */

/* True (and the run stops) when the service has exited. */
static bool service_died(void)
{
    int status;
    if (sp.pid <= 0)
        return true;
    if (waitpid(sp.pid, &status, WNOHANG) != sp.pid)
        return false;
    char inflight[128] = "";
    for (int w = 0; w < WORKERS; w++) {
        uint64_t i = atomic_load(&in_flight[w]);
        if (i != NONE) {
            size_t used = strlen(inflight);
            snprintf(inflight + used, sizeof inflight - used, " %" PRIu64, i);
        }
    }
    fail(NONE, "run", "the service", "died (%s %d) after %" PRIuFAST64 " requests; in flight:%s; log %s",
         WIFSIGNALED(status) ? "signal" : "exit status", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
         atomic_load(&done), inflight[0] ? inflight : " none", sp.log_path);
    sp.pid = 0; /* reaped: svc_stop now reports failure */
    atomic_store(&stop, true);
    return true;
}

static bool healthy(const char *when)
{
    struct response *r = http(&sp, "GET", "/healthz", NULL, NULL);
    bool ok = r->status == 200;
    if (!ok)
        fail(NONE, "run", "GET /healthz", "status %ld %s", r->status, when);
    response_free(r);
    return ok;
}

/* One request of the fixture setup; false (and a failure) unless `status`. */
static bool setup_step(const char *method, const char *path, const char *body, long status, struct response **out)
{
    struct response *r = http(&sp, method, path, body, NULL);
    bool ok = r->status == status;
    if (!ok)
        fail(NONE, "fixtures", path, "setup %s answered %ld (want %ld): %.200s", method, r->status, status, r->body);
    if (out && ok)
        *out = r;
    else
        response_free(r);
    return ok;
}

static bool make_fixtures(void)
{
    char path[256], body[2048];
    for (int g = 0; g < FX_GROUPS; g++) {
        const char *s = fx.stream[g], *qn = fx.queue[g];
        snprintf(path, sizeof path, "/streams/%s/events", s);
        size_t n = (size_t)snprintf(body, sizeof body, "{\"expected_version\":\"no_stream\",\"events\":[");
        for (int e = 0; e < FIXTURE_EVENTS - 1; e++)
            n += (size_t)snprintf(body + n, sizeof body - n,
                                  "%s{\"id\":\"%s\",\"type\":\"FixtureCreated\",\"data\":{\"group\":\"%s\",\"i\":%d},"
                                  "\"metadata\":{\"fixture\":true}}",
                                  e ? "," : "", fx.event_id[g][e], fx.group[g], e);
        snprintf(body + n, sizeof body - n, "]}");
        if (!setup_step("POST", path, body, 201, NULL))
            return false;
        snprintf(body, sizeof body,
                 "{\"expected_version\":%d,\"events\":[{\"id\":\"%s\",\"type\":\"FixtureUpdated\",\"data\":[1,\"two\","
                 "null]}]}",
                 FIXTURE_EVENTS - 2, fx.event_id[g][FIXTURE_EVENTS - 1]);
        if (!setup_step("POST", path, body, 201, NULL))
            return false;

        snprintf(path, sizeof path, "/queues/%s", qn);
        if (!setup_step("PUT", path, "{\"visibility_timeout\":3600,\"max_delivery_attempts\":5}", 200, NULL))
            return false;
        /* [0] leased for an hour, [1] dead-lettered, the rest pending. */
        for (int m = 0; m < 2; m++) {
            snprintf(path, sizeof path, "/queues/%s/messages", qn);
            snprintf(body, sizeof body, "{\"messages\":[{\"id\":\"%s\",\"type\":\"FixtureJob\",\"data\":{\"i\":%d}}]}",
                     fx.message_id[g][m], m);
            struct response *r = NULL;
            if (!setup_step("POST", path, body, 201, NULL))
                return false;
            snprintf(path, sizeof path, "/queues/%s/dequeue", qn);
            if (!setup_step("POST", path, "{\"max_messages\":1,\"visibility_timeout\":3600,\"consumer\":\"fixture\"}",
                            200, &r))
                return false;
            const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(r->json, "messages");
            const cJSON *first = cJSON_GetArrayItem(msgs, 0);
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(first, "id");
            const cJSON *receipt = cJSON_GetObjectItemCaseSensitive(first, "receipt");
            if (!cJSON_IsString(id) || strcmp(id->valuestring, fx.message_id[g][m]) || !cJSON_IsString(receipt)) {
                fail(NONE, "fixtures", path, "dequeue did not lease %s: %.200s", fx.message_id[g][m], r->body);
                response_free(r);
                return false;
            }
            if (m == 1) {
                snprintf(path, sizeof path, "/queues/%s/messages/%s/nack", qn, fx.message_id[g][m]);
                snprintf(body, sizeof body, "{\"receipt\":\"%s\",\"requeue\":false,\"reason\":\"fixture\"}",
                         receipt->valuestring);
                if (!setup_step("POST", path, body, 204, NULL)) {
                    response_free(r);
                    return false;
                }
            }
            response_free(r);
        }
        snprintf(path, sizeof path, "/queues/%s/messages", qn);
        n = (size_t)snprintf(body, sizeof body, "{\"messages\":[");
        for (int m = 2; m < FIXTURE_MESSAGES; m++)
            n += (size_t)snprintf(body + n, sizeof body - n,
                                  "%s{\"id\":\"%s\",\"type\":\"FixtureJob\",\"data\":{\"i\":%d}}", m > 2 ? "," : "",
                                  fx.message_id[g][m], m);
        snprintf(body + n, sizeof body - n, "]}");
        if (!setup_step("POST", path, body, 201, NULL))
            return false;
    }
    return true;
}

/* What is compared before and after: for each group, these reads. */
static const struct {
    bool stream; /* of the group's stream, else of its queue */
    const char *suffix;
} snapshot_parts[] = {
    {true, ""},
    {true, "/events?limit=1000"},
    {false, ""},
    {false, "/messages?limit=1000"},
    {false, "/messages?state=pending&limit=1000"},
    {false, "/messages?state=in_flight&limit=1000"},
    {false, "/dead-letters?limit=1000"},
};
#define SNAPSHOT_PARTS (sizeof snapshot_parts / sizeof snapshot_parts[0])

static void snapshot_path(char *out, size_t size, int g, size_t p)
{
    snprintf(out, size, "/%s/%s%s", snapshot_parts[p].stream ? "streams" : "queues",
             snapshot_parts[p].stream ? fx.stream[g] : fx.queue[g], snapshot_parts[p].suffix);
}

struct snapshot {
    long status[FX_GROUPS][SNAPSHOT_PARTS];
    char *text[FX_GROUPS][SNAPSHOT_PARTS]; /* the body, volatile members removed */
};

static void take_snapshot(struct snapshot *s)
{
    char path[256];
    for (int g = 0; g < FX_GROUPS; g++)
        for (size_t p = 0; p < SNAPSHOT_PARTS; p++) {
            snapshot_path(path, sizeof path, g, p);
            struct response *r = http(&sp, "GET", path, NULL, NULL);
            s->status[g][p] = r->status;
            if (r->json) {
                /* The age of the oldest pending message grows by itself. */
                cJSON_DeleteItemFromObjectCaseSensitive(r->json, "oldest_pending_age_seconds");
                s->text[g][p] = cJSON_PrintUnformatted(r->json);
            } else {
                s->text[g][p] = strdup(r->body);
            }
            response_free(r);
        }
}

/* One failure per damaged group: the first read that changed, and how many did. */
static int compare_snapshots(const struct snapshot *before, const struct snapshot *after)
{
    int damaged = 0;
    char path[256], what[200];
    for (int g = 0; g < FX_GROUPS; g++) {
        int changed = 0;
        size_t first = 0;
        for (size_t p = 0; p < SNAPSHOT_PARTS; p++)
            if (before->status[g][p] != after->status[g][p] || strcmp(before->text[g][p], after->text[g][p]) != 0)
                if (changed++ == 0)
                    first = p;
        if (changed == 0)
            continue;
        damaged++;
        snapshot_path(path, sizeof path, g, first);
        snprintf(what, sizeof what, "fixture group '%s'", fx.group[g]);
        fail(NONE, "fixtures", what, "%d of %zu reads changed; GET %.80s was %ld %.60s... and is %ld %.60s...", changed,
             SNAPSHOT_PARTS, path, before->status[g][first], before->text[g][first], after->status[g][first],
             after->text[g][first]);
    }
    return damaged;
}

static void free_snapshot(struct snapshot *s)
{
    for (int g = 0; g < FX_GROUPS; g++)
        for (size_t p = 0; p < SNAPSHOT_PARTS; p++)
            free(s->text[g][p]);
}

/* ---- the run ---- */

/* Should this program die (a sanitizer abort, the meson timeout), the service
 * it started must not outlive it. */
static void on_fatal_signal(int sig)
{
    if (sp.pid > 0)
        kill(sp.pid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

static uint64_t env_u64(const char *name, uint64_t fallback, bool *given)
{
    const char *v = getenv(name);
    if (given)
        *given = v && *v;
    return v && *v ? strtoull(v, NULL, 0) : fallback;
}

static int by_name(const void *a, const void *b)
{
    const struct category_tally *x = a, *y = b;
    if (!x->name || !y->name)
        return !x->name - !y->name;
    return strcmp(x->name, y->name);
}

static int by_category_severity_index(const void *a, const void *b)
{
    const struct failure *x = a, *y = b;
    bool xr = x->index == NONE, yr = y->index == NONE;
    if (xr != yr)
        return xr ? -1 : 1;
    int c = strcmp(x->category, y->category);
    if (c)
        return c;
    if (x->severity != y->severity)
        return y->severity - x->severity;
    return x->index < y->index ? -1 : x->index > y->index;
}

static void print_summary(double seconds, long rss_start, long rss_end, int fixture_differences)
{
    if (replay)
        printf("\nhostile: seed 0x%016" PRIx64 ", request %" PRIu64 " replayed\n", seed, count - 1);
    else
        printf("\nhostile: seed 0x%016" PRIx64 ", %" PRIuFAST64 " of %" PRIu64
               " requests sent in %.1f s (%d workers)\n",
               seed, atomic_load(&done), count, seconds, WORKERS);
    printf("answers by status (%ld answers):", answers_total);
    for (int s = 0; s < 600; s++)
        if (by_status[s])
            printf(" %d:%ld", s, by_status[s]);
    printf("\nno answer: %ld closed without one, %ld still silent at the deadline (garbage and unfinished requests)\n",
           closed_silently, silent_timeouts);
    qsort(tallies, sizeof tallies / sizeof tallies[0], sizeof tallies[0], by_name);
    printf("by category: requests, unanswered, failures, worker-seconds\n");
    for (size_t i = 0; i < sizeof tallies / sizeof tallies[0] && tallies[i].name; i++)
        printf("  %-14s %5ld %5ld %5ld %7.1f\n", tallies[i].name, tallies[i].requests, tallies[i].silent,
               tallies[i].failures, tallies[i].seconds);
    printf("resident memory: %ld MiB after the warm-up, %ld MiB at the end (limit: +%d MiB)\n", rss_start / 1024,
           rss_end / 1024, RSS_GROWTH_LIMIT_KIB / 1024);
    if (fixture_differences == 0)
        printf("fixtures: unchanged\n");
    else
        printf("fixtures: %d of %d groups CHANGED (see below)\n", fixture_differences, FX_GROUPS);
    if (failures_total == 0) {
        printf("no failures\n");
        return;
    }
    /* STREAMQ_HOSTILE_SHOW=N lifts the limits to N per category and in all. */
    uint64_t per_category = env_u64("STREAMQ_HOSTILE_SHOW", FAILURES_SHOWN_PER_CATEGORY, NULL);
    uint64_t in_all = env_u64("STREAMQ_HOSTILE_SHOW", FAILURES_SHOWN, NULL);
    printf("\n%zu FAILURES (the worst %" PRIu64 " per category, %" PRIu64 " in all):\n", failures_total, per_category,
           in_all);
    qsort(failures, failures_kept, sizeof *failures, by_category_severity_index);
    uint64_t shown = 0, same = 0;
    for (size_t i = 0; i < failures_kept && shown < in_all; i++) {
        const struct failure *f = &failures[i];
        same = i > 0 && !strcmp(failures[i - 1].category, f->category) ? same + 1 : 0;
        if (same >= per_category && f->index != NONE)
            continue;
        if (f->index == NONE)
            printf("  [%s] %s: %s\n", f->category, f->what, f->why);
        else
            printf("  #%" PRIu64 " [%s] %s -> %s\n", f->index, f->category, f->what, f->why);
        shown++;
    }
    printf("\nreplay one: STREAMQ_HOSTILE_SEED=0x%016" PRIx64 " STREAMQ_HOSTILE_INDEX=<#> bash scripts/test hostile\n",
           seed);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    static const int fatal[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTERM, SIGINT};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal(fatal[i], on_fatal_signal);
    setvbuf(stdout, NULL, _IOLBF, 0);
    curl_global_init(CURL_GLOBAL_ALL);
    failures = calloc(FAILURES_KEPT, sizeof *failures);

    bool seeded, indexed;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t clock_seed = ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 40);
    seed = env_u64("STREAMQ_HOSTILE_SEED", clock_seed, &seeded);
    uint64_t only = env_u64("STREAMQ_HOSTILE_INDEX", 0, &indexed);
    count = env_u64("STREAMQ_HOSTILE_COUNT", DEFAULT_COUNT, NULL);
    replay = indexed;
    if (replay && !seeded)
        printf("hostile: STREAMQ_HOSTILE_INDEX without STREAMQ_HOSTILE_SEED replays a request of a new seed\n");
    printf("hostile: seed 0x%016" PRIx64 " (%s; set STREAMQ_HOSTILE_SEED to repeat)%s\n", seed,
           seeded ? "from STREAMQ_HOSTILE_SEED" : "from the clock", replay ? ", replaying one request" : "");
    fixture_names_init(&fx, seed);
    for (int w = 0; w < WORKERS; w++)
        atomic_store(&in_flight[w], NONE);

    /* ASan keeps up to 256 MiB of freed memory in quarantine, and its fake stacks
     * for use-after-return checks grow with every thread's deepest call: both would
     * hide real growth behind their own. The service gets a 16 MiB quarantine and no
     * fake stacks (the other suites keep them). */
    const char *asan = getenv("ASAN_OPTIONS");
    char asan_options[1024];
    snprintf(asan_options, sizeof asan_options, "%s%squarantine_size_mb=16:detect_stack_use_after_return=0",
             asan ? asan : "", asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", asan_options, 1);
    if (!svc_start(&sp, NULL, service_args)) {
        fprintf(stderr, "could not start streamq\n");
        return 1;
    }
    printf("service pid %d on port %d, log %s\n", (int)sp.pid, sp.port, sp.log_path);

    struct snapshot before = {0}, after = {0};
    int differences = 0;
    long rss_start = 0, rss_end = 0;
    double started = now_s();
    if (make_fixtures()) {
        take_snapshot(&before);
        rss_start = svc_rss_kib(&sp);
        started = now_s();
        if (replay) {
            count = only + 1;
            atomic_store(&next_index, only);
            worker((void *)(intptr_t)0);
        } else {
            pthread_t threads[WORKERS];
            for (int w = 0; w < WORKERS; w++)
                pthread_create(&threads[w], NULL, worker, (void *)(intptr_t)w);
            uint64_t next_health = HEALTH_EVERY;
            bool warm = count < 2 * RSS_WARM_UP; /* a short run: the baseline stays the start */
            while (atomic_load(&done) < count && !service_died()) {
                sleep_ms(20);
                if (atomic_load(&done) >= next_health) {
                    char when[64];
                    snprintf(when, sizeof when, "after %" PRIuFAST64 " requests", atomic_load(&done));
                    healthy(when);
                    long rss = svc_rss_kib(&sp);
                    printf("%s: healthy, resident memory %ld MiB\n", when, rss / 1024);
                    if (!warm && atomic_load(&done) >= RSS_WARM_UP) {
                        warm = true;
                        rss_start = rss;
                    }
                    next_health += HEALTH_EVERY;
                }
                if (now_s() - started > RUN_LIMIT_S) {
                    fail(NONE, "run", "the run", "took longer than %d s; stopped", RUN_LIMIT_S);
                    atomic_store(&stop, true);
                    break;
                }
            }
            for (int w = 0; w < WORKERS; w++)
                pthread_join(threads[w], NULL);
        }
        if (!service_died()) {
            healthy("after the run");
            rss_end = svc_rss_kib(&sp);
            if (rss_end - rss_start >= RSS_GROWTH_LIMIT_KIB)
                fail(NONE, "run", "resident memory", "grew from %ld KiB to %ld KiB", rss_start, rss_end);
            take_snapshot(&after);
            differences = compare_snapshots(&before, &after);
        }
    }
    double seconds = now_s() - started;

    bool died = sp.pid <= 0; /* reported already */
    int status = svc_stop(&sp);
    if (status != 0 && !died)
        fail(NONE, "run", "the service", "exited with status %d on SIGTERM (sanitizer report or crash?); log %s",
             status, sp.log_path);
    print_summary(seconds, rss_start, rss_end, differences);
    free_snapshot(&before);
    free_snapshot(&after);
    free(failures);
    curl_global_cleanup();
    return failures_total == 0 ? 0 : 1;
}
