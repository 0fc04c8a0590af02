/* Hostile input: thousands of malformed requests over raw sockets.
 *
 * Starts the service through the harness (with --max-body 65536 so that huge
 * bodies stay cheap), makes fixture streams and queues by ordinary HTTP, then
 * sends STREAMQ_HOSTILE_COUNT (default 5,000) requests from the generator, each
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
 * lists up to N failures per category instead of the worst six.
 *
 * This file runs it all: the service, the workers and their sockets. The
 * requests come from gen.c and its parts, answers.c judges what comes back,
 * report.c keeps the failures and prints the summary, fixtures.c makes and
 * compares the fixtures. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#define IDLE UINT64_MAX /* in in_flight[]: no request */

static const char *const service_args[] = {"--max-body", "65536", "--connection-timeout", "3", NULL};

static struct service_proc sp;
static struct fixture_names fx;
static uint64_t seed, count;
static bool replay;

static atomic_uint_fast64_t next_index;
static atomic_uint_fast64_t done;
static atomic_bool stop;
static _Atomic uint64_t in_flight[WORKERS];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- one exchange over a raw socket ---- */

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
        int n = answers_complete(x, q->head, x->eof || x->reset);
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

/* ---- the workers ---- */

static void run_index(uint64_t index)
{
    struct hreq q = {0};
    struct exchange x;
    hostile_generate(seed, index, &fx, &q);
    double began = now_s();
    if (replay) {
        printf("request %" PRIu64 " [%s] %s (%zu bytes%s%s%s):\n", index, q.category, q.what, q.len,
               q.slow ? ", slow" : "", q.garbage ? ", garbage" : "", q.unfinished ? ", unfinished" : "");
        report_escaped(stdout, q.data, q.len);
    }
    exchange(&q, &x);
    if (replay) {
        printf("answer (%zu bytes%s%s%s):\n", x.len, x.eof ? ", then closed" : "", x.reset ? ", then reset" : "",
               x.timed_out ? ", then silence" : "");
        report_escaped(stdout, x.buf ? x.buf : "", x.len);
    }
    answers_judge(index, &q, &x);
    report_request(q.category, now_s() - began);
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
        atomic_store(&in_flight[w], IDLE);
        atomic_fetch_add(&done, 1);
    }
    return NULL;
}

/* ---- the service ---- */

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
        if (i != IDLE) {
            size_t used = strlen(inflight);
            snprintf(inflight + used, sizeof inflight - used, " %" PRIu64, i);
        }
    }
    report_fail(
        REPORT_NO_INDEX, "run", "the service", "died (%s %d) after %" PRIuFAST64 " requests; in flight:%s; log %s",
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
        report_fail(REPORT_NO_INDEX, "run", "GET /healthz", "status %ld %s", r->status, when);
    response_free(r);
    return ok;
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

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    static const int fatal[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTERM, SIGINT};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal(fatal[i], on_fatal_signal);
    setvbuf(stdout, NULL, _IOLBF, 0);
    curl_global_init(CURL_GLOBAL_ALL);

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
        atomic_store(&in_flight[w], IDLE);

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

    struct fixtures_snapshot *before = NULL, *after = NULL;
    int differences = 0;
    long rss_start = 0, rss_end = 0;
    double started = now_s();
    if (fixtures_make(&sp, &fx)) {
        before = fixtures_snapshot(&sp, &fx);
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
                    report_fail(REPORT_NO_INDEX, "run", "the run", "took longer than %d s; stopped", RUN_LIMIT_S);
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
                report_fail(REPORT_NO_INDEX, "run", "resident memory", "grew from %ld KiB to %ld KiB", rss_start,
                            rss_end);
            after = fixtures_snapshot(&sp, &fx);
            differences = fixtures_compare(before, after, &fx);
        }
    }
    double seconds = now_s() - started;

    bool died = sp.pid <= 0; /* reported already */
    int status = svc_stop(&sp);
    if (status != 0 && !died)
        report_fail(REPORT_NO_INDEX, "run", "the service",
                    "exited with status %d on SIGTERM (sanitizer report or crash?); log %s", status, sp.log_path);
    struct report_run run = {
        .seed = seed,
        .replay = replay,
        .count = count,
        .sent = atomic_load(&done),
        .workers = WORKERS,
        .seconds = seconds,
        .rss_start_kib = rss_start,
        .rss_end_kib = rss_end,
        .rss_limit_kib = RSS_GROWTH_LIMIT_KIB,
        .fixture_differences = differences,
    };
    report_summary(&run);
    fixtures_snapshot_free(before);
    fixtures_snapshot_free(after);
    curl_global_cleanup();
    return report_failures() == 0 ? 0 : 1;
}
