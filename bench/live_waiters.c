/* live_load waiters: long-poll wake-up latency (see the comment at the top of
 * bench/live_load.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_load.h"

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
    if (!load_http_request(&w->h, "GET", path, NULL, NULL, 0))
        load_complain("waiter: cannot connect");
}

int waiters_main(int argc, char **argv)
{
    if (argc != 11) {
        fprintf(stderr,
                "usage: live_load waiters HOST PORT PREFIX STREAMS PER_STREAM ROUNDS INTERVAL_MS WAIT_S SYNC_DIR\n");
        return 2;
    }
    const char *host = argv[2];
    int port = load_arg_int(argv[3], "PORT", 1, 65535);
    g_prefix = argv[4];
    int streams = load_arg_int(argv[5], "STREAMS", 1, 10000), per = load_arg_int(argv[6], "PER_STREAM", 1, 100000);
    int rounds = load_arg_int(argv[7], "ROUNDS", 1, 100000),
        interval_ms = load_arg_int(argv[8], "INTERVAL_MS", 1, 60000);
    g_wait_s = load_arg_int(argv[9], "WAIT_S", 1, 60);
    const char *sync_dir = strcmp(argv[10], "-") ? argv[10] : NULL;
    int nw = streams * per;
    load_raise_nofile((rlim_t)nw + 64);
    load_resolve(host, port);

    struct http app = {.fd = -1};
    int64_t *next = calloc((size_t)streams, sizeof *next);
    char name[300];
    for (int s = 0; s < streams; s++) {
        snprintf(name, sizeof name, "%s%d", g_prefix, s);
        if ((next[s] = load_create_stream(&app, name)) < 0)
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
    int64_t t_start = load_now_us(), t_all_sent = 0, t_ready = 0, t0 = 0, t_drain = 0;
    int r_next = 0, connected = 0;
    bool app_busy = false;
    char ready[1024], go[1024];
    if (sync_dir) {
        snprintf(ready, sizeof ready, "%s/ready", sync_dir);
        snprintf(go, sizeof go, "%s/go", sync_dir);
    }

    for (;;) {
        int64_t now = load_now_us();
        if (phase == P_SETUP) {
            int sent = 0;
            for (int i = 0; i < nw; i++)
                sent += ws[i].h.fd >= 0 && !load_http_wants_write(&ws[i].h);
            connected = sent;
            if (sent == nw || now > t_start + 30000000) {
                if (!t_all_sent)
                    t_all_sent = now;
                if (now >= t_all_sent + 1500000) {
                    if (sent < nw)
                        load_complain("only %d of %d long polls were sent after 30 s", sent, nw);
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
            r->t_send = load_now_us();
            if (load_http_request(&app, "POST", path, NULL, body, (size_t)bl))
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
            (struct pollfd){app.fd, (short)(app.fd >= 0 ? POLLIN | (load_http_wants_write(&app) ? POLLOUT : 0) : 0), 0};
        for (int i = 0; i < nw; i++) {
            if (ws[i].h.fd < 0 && phase != P_SETUP) { /* a connect that failed at once: try again */
                reconnects++;
                waiter_poll(&ws[i]);
            }
            pfd[n++] =
                (struct pollfd){ws[i].h.fd, (short)(POLLIN | (load_http_wants_write(&ws[i].h) ? POLLOUT : 0)), 0};
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
            load_http_close(&app); /* the server closed the idle keep-alive connection */
        } else if (app.fd >= 0 && pfd[0].revents) {
            bool ok = true;
            if (pfd[0].revents & POLLOUT)
                ok = load_http_flush(&app);
            if (ok && (pfd[0].revents & (POLLIN | POLLERR | POLLHUP)))
                ok = load_http_read(&app);
            if (!ok || app.done) {
                struct round *r = &rs[r_next - 1];
                r->t_201 = load_now_us();
                r->status = ok ? app.status : 0;
                int64_t first, last;
                if (r->status == 201 && load_json_int(app.body.p, "\"first_offset\":", &first) &&
                    load_json_int(app.body.p, "\"last_offset\":", &last)) {
                    if (first != r->offset) {
                        load_complain("round %d: the append got offset %lld, not %lld", r_next - 1, (long long)first,
                                      (long long)r->offset);
                        errors++;
                        r->offset = first;
                    }
                    next[r->stream] = last + 1;
                } else {
                    load_complain("round %d: append status %d: %.300s", r_next - 1, r->status,
                                  ok ? app.body.p : "(connection failed)");
                    errors++;
                    r->status = r->status == 201 ? 0 : r->status;
                    next[r->stream]--;
                }
                if (!ok || app.close_after || app.eof)
                    load_http_close(&app);
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
                ok = load_http_flush(&w->h);
            if (ok && (re & (POLLIN | POLLERR | POLLHUP)))
                ok = load_http_read(&w->h);
            if (!ok) {
                reconnects++;
                load_complain("waiter %d: connection lost (%s); reconnecting", i,
                              w->h.eof ? "closed" : strerror(errno));
                load_http_close(&w->h);
                waiter_poll(w);
                continue;
            }
            if (!w->h.done)
                continue;
            int64_t t = load_now_us();
            if (w->h.status != 200) {
                errors++;
                load_complain("waiter %d: status %d: %.300s", i, w->h.status, w->h.body.p);
            } else {
                const char *pos = w->h.body.p;
                int64_t o, nx;
                int count = 0;
                while (load_next_int(&pos, "\"offset\":", &o)) {
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
                        ans = load_xrealloc(ans, cap_ans * sizeof *ans);
                    }
                    ans[nans++] = (struct answer){found, t};
                    rs[found].answered++;
                }
                if (!count)
                    empty++;
                if (load_json_int(w->h.body.p, "\"next_offset\":", &nx))
                    w->from = nx;
                else
                    errors++;
            }
            if (w->h.close_after || w->h.eof)
                load_http_close(&w->h);
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
        load_sample_add(&lat, ans[k].t - r->t_201);
        load_sample_add(&lat_sent, ans[k].t - r->t_send);
        load_sample_add(&per_round[ans[k].round], ans[k].t - r->t_201);
    }
    for (int r = 0; r < rounds; r++) {
        if (rs[r].status != 201)
            continue;
        rounds_ok++;
        expected += per;
        answered += rs[r].answered < per ? rs[r].answered : per;
        load_sample_add(&app_lat, rs[r].t_201 - rs[r].t_send);
        load_samples_sort(&per_round[r]);
        printf("ROUND %d stream %s%d offset %lld append_us %lld answered %d/%d min_us %ld p50_us %ld max_us %ld\n", r,
               g_prefix, rs[r].stream, (long long)rs[r].offset, (long long)(rs[r].t_201 - rs[r].t_send), rs[r].answered,
               per, load_pct(&per_round[r], 0), load_pct(&per_round[r], 0.5), load_pct(&per_round[r], 1));
    }
    load_samples_sort(&lat);
    load_samples_sort(&lat_sent);
    load_samples_sort(&app_lat);
    printf("BENCH waiters=%d connected=%d rounds=%d rounds_ok=%d expected=%ld answered=%ld missing=%ld "
           "unexpected=%ld empty_pages=%ld errors=%ld reconnects=%ld slips=%ld "
           "lat_min_us=%ld lat_p50_us=%ld lat_p90_us=%ld lat_p99_us=%ld lat_max_us=%ld "
           "sent_p50_us=%ld sent_p99_us=%ld sent_max_us=%ld append_p50_us=%ld append_max_us=%ld secs=%.3f\n",
           nw, connected, rounds, rounds_ok, expected, answered, expected - answered, unexpected, empty, errors,
           reconnects, slips, load_pct(&lat, 0), load_pct(&lat, 0.5), load_pct(&lat, 0.9), load_pct(&lat, 0.99),
           load_pct(&lat, 1), load_pct(&lat_sent, 0.5), load_pct(&lat_sent, 0.99), load_pct(&lat_sent, 1),
           load_pct(&app_lat, 0.5), load_pct(&app_lat, 1), (double)(load_now_us() - t0) / 1e6);
    fflush(stdout);
    for (int i = 0; i < nw; i++)
        load_http_close(&ws[i].h);
    return 0;
}
