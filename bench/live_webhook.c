/* live_load receiver (a webhook endpoint) and live_load post (its baseline: the
 * same bodies POSTed by this tool); see the comment at the top of bench/live_load.c. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "live_load.h"

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
    while (load_next_int(&pos, "\"offset\":", &o)) {
        r_events++;
        if (o < r_next_offset) {
            r_dups++;
            continue;
        }
        if (o > r_next_offset) {
            if (r_gaps++ < 5)
                load_complain("receiver: offset %lld after %lld (a gap)", (long long)o, (long long)r_next_offset - 1);
        }
        r_next_offset = o + 1;
        r_unique++;
        r_last_us = load_wall_us();
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
            load_complain("receiver: a request that is not a POST with a Content-Length: %.200s", p->in.p);
            static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            ssize_t w = send(p->fd, bad, sizeof bad - 1, MSG_NOSIGNAL);
            (void)w;
            return false;
        }
        if (p->in.len < head + (size_t)clen)
            return true;
        if (!r_first_us)
            r_first_us = load_wall_us();
        r_requests++;
        r_bytes += clen;
        if (!signed_)
            r_unsigned++;
        char saved = p->in.p[head + (size_t)clen];
        p->in.p[head + (size_t)clen] = '\0';
        receive_body(p->in.p + head);
        p->in.p[head + (size_t)clen] = saved;
        load_buf_consume(&p->in, head + (size_t)clen);
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        load_buf_add(&p->out, ok, sizeof ok - 1);
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

int webhook_receiver_main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: live_load receiver PORT_FILE EXPECT TIMEOUT_S\n");
        return 2;
    }
    const char *port_file = argv[2];
    int64_t expect = load_arg_int(argv[3], "EXPECT", 1, 2000000000);
    int timeout_s = load_arg_int(argv[4], "TIMEOUT_S", 1, 86400);
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
    int64_t end = load_now_us() + (int64_t)timeout_s * 1000000;
    bool finished = false;
    while (load_now_us() < end) {
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
                    load_buf_reserve(&p->in, 65536);
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
        int64_t until = load_now_us() + 1000000;
        while (peers[i].out.len && load_now_us() < until && peer_flush(&peers[i]))
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

int webhook_post_main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: live_load post HOST PORT STREAM BATCH COUNT RECEIVER_PORT SYNC_DIR\n");
        return 2;
    }
    const char *host = argv[2];
    int port = load_arg_int(argv[3], "PORT", 1, 65535);
    const char *stream = argv[4];
    int batch = load_arg_int(argv[5], "BATCH", 1, 1000), count = load_arg_int(argv[6], "COUNT", 1, 100000000);
    int rport = load_arg_int(argv[7], "RECEIVER_PORT", 1, 65535);
    load_resolve(host, port);
    /* The bodies the dispatcher would post: {"webhook": name, "events": [page]}. */
    struct http h = {.fd = -1};
    struct buf *bodies = NULL;
    int nbodies = 0;
    int64_t from = 0, got = 0;
    int64_t t_fetch = load_now_us();
    while (got < count) {
        char path[400];
        int limit = count - got < batch ? (int)(count - got) : batch;
        snprintf(path, sizeof path, "/streams/%s/events?from=%lld&limit=%d", stream, (long long)from, limit);
        int st = load_http_call(&h, "GET", path, NULL, NULL, 0, 30000);
        const char *ev = st == 200 ? strstr(h.body.p, "\"events\":[") : NULL;
        const char *end = ev ? strstr(ev, "],\"next_offset\":") : NULL;
        int64_t nx;
        if (!end || !load_json_int(end, "\"next_offset\":", &nx)) {
            load_complain("post: reading %s: status %d: %.300s", path, st, st ? h.body.p : "(connection failed)");
            return 1;
        }
        ev += strlen("\"events\":[");
        if (end == ev)
            break; /* the stream has fewer events */
        bodies = load_xrealloc(bodies, (size_t)(nbodies + 1) * sizeof *bodies);
        struct buf *b = &bodies[nbodies++];
        *b = (struct buf){0};
        load_buf_add(b, "{\"webhook\":\"bench\",\"events\":[", 29);
        load_buf_add(b, ev, (size_t)(end - ev));
        load_buf_add(b, "]}", 2);
        got += nx - from;
        from = nx;
    }
    double fetch_secs = (double)(load_now_us() - t_fetch) / 1e6;
    load_http_close(&h);
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
    load_resolve(host, rport);
    long errors = 0;
    int64_t t0 = load_now_us();
    for (int i = 0; i < nbodies; i++) {
        char headers[300];
        snprintf(headers, sizeof headers,
                 "webhook-id: msg_bench_%d\r\nwebhook-timestamp: %lld\r\n"
                 "webhook-signature: v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n",
                 i, (long long)(load_wall_us() / 1000000));
        int st = load_http_call(&h, "POST", "/", headers, bodies[i].p, bodies[i].len, 30000);
        if (st < 200 || st > 299) {
            errors++;
            load_complain("post: the receiver answered %d", st);
            if (!st)
                break;
        }
    }
    double secs = (double)(load_now_us() - t0) / 1e6;
    printf("BENCH posts=%d events=%lld errors=%ld secs=%.3f eps=%.0f fetch_secs=%.3f\n", nbodies, (long long)got,
           errors, secs, secs > 0 ? (double)got / secs : 0, fetch_secs);
    fflush(stdout);
    return 0;
}
