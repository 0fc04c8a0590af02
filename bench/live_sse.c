/* live_load sse: fan-out to SSE subscribers, with an appender thread (see the
 * comment at the top of bench/live_load.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_load.h"

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
    g_app_t0 = load_now_us();
    for (long k = 0;; k++) {
        int64_t now = load_now_us();
        if (now >= g_app_end)
            break;
        int64_t done = atomic_load(&g_appended);
        if (done + g_batch > g_max_events) {
            load_complain("sse: appended %lld events, the most this run records", (long long)done);
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
        load_buf_add(&body, "{\"events\": [", 12);
        for (int i = 0; i < g_batch; i++)
            load_buf_printf(&body, "%s{\"type\": \"Fan\", \"data\": {\"seq\": %lld}}", i ? ", " : "",
                            (long long)(done + i));
        load_buf_add(&body, "]}", 2);
        int64_t t = load_now_us();
        for (int i = 0; i < g_batch; i++)
            atomic_store(&g_tsend[done + i], t);
        int st = load_http_call(&h, "POST", path, NULL, body.p, body.len, 30000);
        int64_t t1 = load_now_us();
        atomic_fetch_add(&g_app_reqs, 1);
        int64_t first, last;
        if (st != 201 || !load_json_int(h.body.p, "\"first_offset\":", &first) ||
            !load_json_int(h.body.p, "\"last_offset\":", &last)) {
            atomic_fetch_add(&g_app_errors, 1);
            load_complain("sse append: status %d: %.300s", st, st ? h.body.p : "(connection failed)");
            continue;
        }
        if (first != g_first + done) {
            /* Another writer on the stream: send times no longer match offsets. */
            atomic_fetch_add(&g_app_errors, 1);
            load_complain("sse append: got offset %lld, expected %lld", (long long)first, (long long)(g_first + done));
        }
        load_sample_add(&g_app_lat, t1 - t);
        atomic_store(&g_last_offset, last);
        atomic_store(&g_appended, done + g_batch);
    }
    g_app_t1 = load_now_us();
    atomic_store(&g_app_done, true);
    load_http_close(&h);
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
                s->t_last = load_now_us();
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
                        load_sample_add(lat, load_now_us() - t);
                }
            }
        }
        off = (size_t)(e - s->h.body.p) + 2;
    }
    load_buf_consume(&s->h.body, off);
}

int sse_main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: live_load sse HOST PORT STREAM SUBSCRIBERS SECONDS BATCH RATE\n");
        return 2;
    }
    const char *host = argv[2];
    int port = load_arg_int(argv[3], "PORT", 1, 65535);
    g_stream = argv[4];
    int nsubs = load_arg_int(argv[5], "SUBSCRIBERS", 1, 100000), secs = load_arg_int(argv[6], "SECONDS", 1, 3600);
    g_batch = load_arg_int(argv[7], "BATCH", 1, 1000);
    g_rate = load_arg_int(argv[8], "RATE", 0, 10000000);
    load_raise_nofile((rlim_t)nsubs + 64);
    load_resolve(host, port);
    struct http h = {.fd = -1};
    if ((g_first = load_create_stream(&h, g_stream)) < 0)
        return 1;
    load_http_close(&h);
    g_max_events = 4000000;
    g_tsend = calloc((size_t)g_max_events, sizeof *g_tsend);

    struct sub *ss = calloc((size_t)nsubs, sizeof *ss);
    char path[300];
    snprintf(path, sizeof path, "/streams/%s/subscribe?from=%lld", g_stream, (long long)g_first);
    for (int i = 0; i < nsubs; i++) {
        ss[i].h.fd = -1;
        ss[i].next = g_first;
        if (!load_http_request(&ss[i].h, "GET", path, "Accept: text/event-stream\r\n", NULL, 0))
            ss[i].closed = true;
    }
    struct pollfd *pfd = calloc((size_t)nsubs, sizeof *pfd);
    struct samples lat = {0};
    pthread_t thread;
    bool started = false;
    long errors = 0, closed = 0;
    int64_t t_setup = load_now_us(), t_end_wait = 0;
    for (;;) {
        int64_t now = load_now_us();
        if (!started) {
            int open = 0;
            for (int i = 0; i < nsubs; i++)
                open += ss[i].open;
            if (open + closed == nsubs || now > t_setup + 30000000) {
                if (open < nsubs)
                    load_complain("sse: only %d of %d subscriptions open", open, nsubs);
                g_app_end = load_now_us() + (int64_t)secs * 1000000;
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
                                     (short)(POLLIN | (load_http_wants_write(&ss[i].h) ? POLLOUT : 0)), 0};
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
                ok = load_http_flush(&s->h);
            if (ok && (re & (POLLIN | POLLERR | POLLHUP)))
                ok = load_http_read(&s->h);
            if (s->h.head_done && s->h.status != 200) {
                if (s->h.done || !ok) {
                    load_complain("subscriber %d: status %d: %.300s", i, s->h.status, s->h.body.p ? s->h.body.p : "");
                    errors++;
                    s->closed = true;
                    closed++;
                }
                continue;
            }
            if (s->h.body.len)
                sub_frames(s, &lat);
            if (!ok || s->h.done) {
                load_complain("subscriber %d: the stream ended (%s) at offset %lld", i,
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
        t_all = load_now_us();
    load_samples_sort(&lat);
    load_samples_sort(&g_app_lat);
    double app_secs = (double)(g_app_t1 - g_app_t0) / 1e6, del_secs = (double)(t_all - g_app_t0) / 1e6;
    printf("BENCH subscribers=%d appended=%lld append_requests=%lld append_errors=%lld append_secs=%.3f "
           "append_eps=%.0f append_p50_us=%ld append_p99_us=%ld frames=%ld expected=%lld complete=%ld dups=%ld "
           "gaps=%ld closed=%ld errors=%ld heartbeats=%ld deliver_secs=%.3f deliver_eps=%.0f per_sub_eps=%.0f "
           "lag_after_end_ms=%.0f lat_p50_us=%ld lat_p99_us=%ld lat_max_us=%ld\n",
           nsubs, (long long)appended, (long long)atomic_load(&g_app_reqs), (long long)atomic_load(&g_app_errors),
           app_secs, app_secs > 0 ? (double)appended / app_secs : 0, load_pct(&g_app_lat, 0.5),
           load_pct(&g_app_lat, 0.99), frames, (long long)appended * nsubs, complete, dups, gaps, closed, errors,
           heartbeats, del_secs, del_secs > 0 ? (double)frames / del_secs : 0,
           del_secs > 0 ? (double)frames / del_secs / nsubs : 0, (double)(t_all - g_app_t1) / 1e3, load_pct(&lat, 0.5),
           load_pct(&lat, 0.99), load_pct(&lat, 1));
    fflush(stdout);
    for (int i = 0; i < nsubs; i++)
        load_http_close(&ss[i].h);
    return 0;
}
