/* Queue-cycle load generator for bench/queues.sh (built by it with cc -O2 -pthread).
 *
 *   queue_load HOST PORT QUEUE BATCH WORKERS SECONDS [MODE]
 *
 * WORKERS threads, each with one keep-alive HTTP/1.1 connection (plain sockets,
 * TCP_NODELAY), loop for SECONDS:
 *   POST /queues/QUEUE/messages  with BATCH messages
 *   POST /queues/QUEUE/dequeue   {"max_messages": BATCH}
 *   ack what came back: POST /queues/QUEUE/messages/{id}/ack {"receipt"} when BATCH is 1,
 *                       POST /queues/QUEUE/ack {"acks": [...]} otherwise.
 * A worker checks the clock only before an enqueue, so it finishes the cycle in
 * progress and leaves nothing leased; acks that complete after SECONDS are not
 * counted. Prints one line:
 *   BENCH acked=N secs=S cycles=C enqueued=E dequeued=D empty_dequeues=Z errors=X
 *         deq_p50_us= deq_p99_us= deq_avg_us= enq_… ack_… (the same for enqueue and ack)
 * (latencies of the requests started within SECONDS; an ack of a batch of 1 is one request). Failed requests are
 * counted in errors and the first few are printed to stderr.
 *
 * MODE "step" or "step-tx" (BATCH 1) measures a worker's step instead: each
 * worker dequeues one message and then acks it, appends one event to its own
 * stream QUEUE-w<i> and enqueues the follow-up message into QUEUE (which keeps
 * the queue fed) - as three calls ("step") or as one POST /transactions
 * ("step-tx"). An empty dequeue enqueues one message to start with. acked
 * counts completed steps; the ack_* latencies are those of the step (the three
 * calls, or the transaction), the dequeue's its own. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 100
#define ID_LEN 64
#define RECEIPT_LEN 256

static const char *g_host;
static int g_port;
static const char *g_queue;
static int g_batch;
static const char *g_mode = "cycle";
static double g_t0, g_end;
static struct worker *g_workers;
static atomic_int g_errors_printed;

struct lat {
    uint32_t *v;
    size_t n, cap;
};

struct worker {
    pthread_t thread;
    int fd;
    char *buf; /* response buffer */
    size_t cap, len;
    long acked, cycles, enqueued, dequeued, empty, errors;
    struct lat deq, enq, ack;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void lat_add(struct lat *l, double secs)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4096;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v) {
            perror("realloc");
            exit(1);
        }
    }
    double us = secs * 1e6;
    l->v[l->n++] = us > 4e9 ? 4000000000u : (uint32_t)us;
}

static void complain(const char *fmt, ...)
{
    if (atomic_fetch_add(&g_errors_printed, 1) >= 5)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int connect_to(void)
{
    struct addrinfo hints = {0}, *ai;
    char port[16];
    snprintf(port, sizeof port, "%d", g_port);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(g_host, port, &hints, &ai) != 0)
        return -1;
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Sends one POST and reads the whole response into w->buf; returns the status
 * (0 on a connection failure), *body points into w->buf. */
static int post(struct worker *w, const char *path, const char *body, size_t body_len, const char **resp_body,
                size_t *resp_len)
{
    char head[512];
    for (int attempt = 0; attempt < 2; attempt++) {
        if (w->fd < 0 && (w->fd = connect_to()) < 0)
            return 0;
        int hl = snprintf(head, sizeof head,
                          "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n",
                          path, g_host, g_port, body_len);
        char *req = malloc((size_t)hl + body_len);
        memcpy(req, head, (size_t)hl);
        memcpy(req + hl, body, body_len);
        int rc = write_all(w->fd, req, (size_t)hl + body_len);
        free(req);
        if (rc != 0)
            goto reconnect;
        w->len = 0;
        size_t header_end = 0, content_length = 0;
        int status = 0, close_after = 0;
        for (;;) {
            if (w->cap - w->len < 4096) {
                w->cap *= 2;
                w->buf = realloc(w->buf, w->cap);
            }
            ssize_t r = recv(w->fd, w->buf + w->len, w->cap - w->len - 1, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            w->len += (size_t)r;
            w->buf[w->len] = '\0';
            if (!header_end) {
                char *e = strstr(w->buf, "\r\n\r\n");
                if (!e)
                    continue;
                header_end = (size_t)(e - w->buf) + 4;
                status = atoi(w->buf + 9);
                for (char *line = strstr(w->buf, "\r\n") + 2; line < e; line = strstr(line, "\r\n") + 2) {
                    if (!strncasecmp(line, "Content-Length:", 15))
                        content_length = strtoul(line + 15, NULL, 10);
                    else if (!strncasecmp(line, "Connection:", 11)) {
                        const char *c = strcasestr(line, "close");
                        close_after = c && c < strstr(line, "\r\n");
                    } else if (!strncasecmp(line, "Transfer-Encoding:", 18)) {
                        fprintf(stderr, "queue_load: chunked responses are not supported\n");
                        exit(1);
                    }
                }
            }
            if (header_end && w->len >= header_end + content_length) {
                *resp_body = w->buf + header_end;
                *resp_len = content_length;
                w->buf[header_end + content_length] = '\0';
                if (close_after) {
                    close(w->fd);
                    w->fd = -1;
                }
                return status;
            }
        }
        if (header_end) /* a partial response: not a stale keep-alive socket */
            return 0;
    reconnect:
        close(w->fd);
        w->fd = -1;
    }
    return 0;
}

/* The value of the string member `key` after *pos in JSON text, copied to out;
 * advances *pos past it. Returns 0 when there is none. */
static int next_string(const char **pos, const char *key, char *out, size_t outlen)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(*pos, pat);
    if (!p)
        return 0;
    p += strlen(pat);
    while (*p == ' ' || *p == ':')
        p++;
    if (*p != '"')
        return 0;
    p++;
    const char *q = strchr(p, '"');
    if (!q || (size_t)(q - p) >= outlen)
        return 0;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
    *pos = q + 1;
    return 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    char path[512], enq_body[8192], ids[MAX_BATCH][ID_LEN], receipts[MAX_BATCH][RECEIPT_LEN];
    char *ack_body = malloc(64 * 1024);
    const char *rb;
    size_t rl;
    w->fd = -1;
    w->cap = 64 * 1024;
    w->buf = malloc(w->cap);
    long order = 0;
    char deq_body[64];
    int deq_len = snprintf(deq_body, sizeof deq_body, "{\"max_messages\": %d}", g_batch);

    while (now_s() < g_end) {
        double t = now_s();
        int in_window = t < g_end;
        /* enqueue */
        size_t n = (size_t)snprintf(enq_body, sizeof enq_body, "{\"messages\": [");
        for (int i = 0; i < g_batch; i++)
            n += (size_t)snprintf(
                enq_body + n, sizeof enq_body - n,
                "%s{\"type\": \"Bench\", \"data\": {\"order\": %ld, \"sku\": \"abc-123\", \"qty\": 1}}", i ? ", " : "",
                ++order);
        n += (size_t)snprintf(enq_body + n, sizeof enq_body - n, "]}");
        snprintf(path, sizeof path, "/queues/%s/messages", g_queue);
        int st = post(w, path, enq_body, n, &rb, &rl);
        double t1 = now_s();
        if (st != 201) {
            w->errors++;
            complain("enqueue: status %d: %.300s", st, st ? rb : "(connection failed)");
            if (!st)
                usleep(10000);
            continue;
        }
        w->enqueued += g_batch;
        if (in_window)
            lat_add(&w->enq, t1 - t);

        /* dequeue */
        snprintf(path, sizeof path, "/queues/%s/dequeue", g_queue);
        t = now_s();
        st = post(w, path, deq_body, (size_t)deq_len, &rb, &rl);
        t1 = now_s();
        if (st != 200) {
            w->errors++;
            complain("dequeue: status %d: %.300s", st, st ? rb : "(connection failed)");
            continue;
        }
        if (t < g_end)
            lat_add(&w->deq, t1 - t);
        int got = 0;
        const char *pos = rb;
        while (got < MAX_BATCH && next_string(&pos, "id", ids[got], ID_LEN)) {
            if (!next_string(&pos, "receipt", receipts[got], RECEIPT_LEN)) {
                complain("dequeue: message without a receipt: %.300s", rb);
                break;
            }
            got++;
        }
        w->dequeued += got;
        if (got == 0) {
            w->empty++;
            continue;
        }

        /* ack */
        t = now_s();
        long acked = 0;
        if (g_batch == 1) {
            for (int i = 0; i < got; i++) {
                snprintf(path, sizeof path, "/queues/%s/messages/%.63s/ack", g_queue, ids[i]);
                int bl = snprintf(ack_body, 64 * 1024, "{\"receipt\": \"%s\"}", receipts[i]);
                st = post(w, path, ack_body, (size_t)bl, &rb, &rl);
                if (st == 204)
                    acked++;
                else {
                    w->errors++;
                    complain("ack: status %d: %.300s", st, st ? rb : "(connection failed)");
                }
            }
        } else {
            size_t bl = (size_t)snprintf(ack_body, 64 * 1024, "{\"acks\": [");
            for (int i = 0; i < got; i++)
                bl += (size_t)snprintf(ack_body + bl, 64 * 1024 - bl, "%s{\"id\": \"%s\", \"receipt\": \"%s\"}",
                                       i ? ", " : "", ids[i], receipts[i]);
            bl += (size_t)snprintf(ack_body + bl, 64 * 1024 - bl, "]}");
            snprintf(path, sizeof path, "/queues/%s/ack", g_queue);
            st = post(w, path, ack_body, bl, &rb, &rl);
            if (st == 200) {
                /* {"acked": ["id", ...], "failed": [...]}: count the strings in acked */
                const char *a = strstr(rb, "\"acked\"");
                const char *end = a ? strchr(a, ']') : NULL;
                long quotes = 0;
                for (const char *p = a ? strchr(a, '[') : NULL; p && p < end; p++)
                    quotes += *p == '"';
                acked = quotes / 2;
                if (acked != got) {
                    w->errors += got - acked;
                    complain("batch ack: %ld of %d acked: %.300s", acked, got, rb);
                }
            } else {
                w->errors++;
                complain("batch ack: status %d: %.300s", st, st ? rb : "(connection failed)");
            }
        }
        t1 = now_s();
        if (t < g_end)
            lat_add(&w->ack, t1 - t);
        if (t1 <= g_end) {
            w->acked += acked;
            w->cycles++;
        }
    }
    if (w->fd >= 0)
        close(w->fd);
    free(w->buf);
    free(ack_body);
    return NULL;
}

/* One message, as the steps enqueue it. */
static const char step_message[] = "{\"type\": \"Step\", \"data\": {\"order\": 1, \"sku\": \"abc-123\", \"qty\": 1}}";

/* The step after a dequeue of `id`/`receipt`: 1 when every call succeeded. */
static int step(struct worker *w, int index, const char *id, const char *receipt)
{
    char path[512], body[2048];
    const char *rb;
    size_t rl;
    int st, n;
    if (!strcmp(g_mode, "step-tx")) {
        n = snprintf(body, sizeof body,
                     "{\"operations\": [{\"op\": \"ack\", \"queue\": \"%s\", \"id\": \"%s\", \"receipt\": \"%s\"}, "
                     "{\"op\": \"append\", \"stream\": \"%s-w%d\", \"events\": [{\"type\": \"Processed\", \"data\": "
                     "{\"message\": \"%s\"}}]}, {\"op\": \"enqueue\", \"queue\": \"%s\", \"messages\": [%s]}]}",
                     g_queue, id, receipt, g_queue, index, id, g_queue, step_message);
        st = post(w, "/transactions", body, (size_t)n, &rb, &rl);
        if (st == 200)
            return 1;
        complain("transaction: status %d: %.300s", st, st ? rb : "(connection failed)");
        return 0;
    }
    snprintf(path, sizeof path, "/queues/%s/messages/%.63s/ack", g_queue, id);
    n = snprintf(body, sizeof body, "{\"receipt\": \"%s\"}", receipt);
    if ((st = post(w, path, body, (size_t)n, &rb, &rl)) != 204)
        goto failed;
    snprintf(path, sizeof path, "/streams/%s-w%d/events", g_queue, index);
    n = snprintf(body, sizeof body, "{\"events\": [{\"type\": \"Processed\", \"data\": {\"message\": \"%s\"}}]}", id);
    if ((st = post(w, path, body, (size_t)n, &rb, &rl)) != 201)
        goto failed;
    snprintf(path, sizeof path, "/queues/%s/messages", g_queue);
    n = snprintf(body, sizeof body, "{\"messages\": [%s]}", step_message);
    if ((st = post(w, path, body, (size_t)n, &rb, &rl)) != 201)
        goto failed;
    return 1;
failed:
    complain("step %s: status %d: %.300s", path, st, st ? rb : "(connection failed)");
    return 0;
}

static void *run_steps(void *arg)
{
    struct worker *w = arg;
    char path[512], id[ID_LEN], receipt[RECEIPT_LEN], body[512];
    const char *rb;
    size_t rl;
    int index = (int)(w - g_workers);
    w->fd = -1;
    w->cap = 64 * 1024;
    w->buf = malloc(w->cap);
    snprintf(path, sizeof path, "/queues/%s/dequeue", g_queue);
    while (now_s() < g_end) {
        double t = now_s();
        int st = post(w, path, "{\"max_messages\": 1}", 19, &rb, &rl);
        double t1 = now_s();
        if (st != 200) {
            w->errors++;
            complain("dequeue: status %d: %.300s", st, st ? rb : "(connection failed)");
            continue;
        }
        lat_add(&w->deq, t1 - t);
        const char *pos = rb;
        if (!next_string(&pos, "id", id, sizeof id) || !next_string(&pos, "receipt", receipt, sizeof receipt)) {
            w->empty++;
            char enq[256];
            int n = snprintf(enq, sizeof enq, "{\"messages\": [%s]}", step_message);
            snprintf(body, sizeof body, "/queues/%s/messages", g_queue);
            if (post(w, body, enq, (size_t)n, &rb, &rl) != 201)
                w->errors++;
            continue;
        }
        w->dequeued++;
        t = now_s();
        int ok = step(w, index, id, receipt);
        t1 = now_s();
        w->errors += !ok;
        if (t < g_end)
            lat_add(&w->ack, t1 - t);
        if (ok && t1 <= g_end) {
            w->acked++;
            w->cycles++;
        }
    }
    if (w->fd >= 0)
        close(w->fd);
    free(w->buf);
    return NULL;
}

static void merge(struct worker *ws, int n, size_t off, uint32_t *p50, uint32_t *p99, uint32_t *avg)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += ((struct lat *)((char *)&ws[i] + off))->n;
    *p50 = *p99 = *avg = 0;
    if (!total)
        return;
    uint32_t *all = malloc(total * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        struct lat *l = (struct lat *)((char *)&ws[i] + off);
        memcpy(all + k, l->v, l->n * sizeof *all);
        k += l->n;
    }
    double sum = 0;
    for (size_t j = 0; j < total; j++)
        sum += all[j];
    *avg = (uint32_t)(sum / (double)total);
    qsort(all, total, sizeof *all, cmp_u32);
    *p50 = all[(size_t)(total * 0.50)];
    *p99 = all[(size_t)(total * 0.99)];
    free(all);
}

int main(int argc, char **argv)
{
    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: queue_load HOST PORT QUEUE BATCH WORKERS SECONDS [cycle|step|step-tx]\n");
        return 2;
    }
    if (argc == 8)
        g_mode = argv[7];
    g_host = argv[1];
    g_port = atoi(argv[2]);
    g_queue = argv[3];
    g_batch = atoi(argv[4]);
    int workers = atoi(argv[5]);
    double secs = atof(argv[6]);
    if (g_batch < 1 || g_batch > MAX_BATCH || workers < 1 || secs <= 0) {
        fprintf(stderr, "queue_load: BATCH 1-%d, WORKERS >= 1, SECONDS > 0\n", MAX_BATCH);
        return 2;
    }
    bool steps = !strcmp(g_mode, "step") || !strcmp(g_mode, "step-tx");
    if (!steps && strcmp(g_mode, "cycle") != 0) {
        fprintf(stderr, "queue_load: MODE is cycle, step or step-tx\n");
        return 2;
    }
    struct worker *ws = g_workers = calloc((size_t)workers, sizeof *ws);
    g_t0 = now_s();
    g_end = g_t0 + secs;
    for (int i = 0; i < workers; i++)
        if (pthread_create(&ws[i].thread, NULL, steps ? run_steps : run, &ws[i]) != 0) {
            perror("pthread_create");
            return 1;
        }
    long acked = 0, cycles = 0, enq = 0, deq = 0, empty = 0, errors = 0;
    for (int i = 0; i < workers; i++) {
        pthread_join(ws[i].thread, NULL);
        acked += ws[i].acked, cycles += ws[i].cycles, enq += ws[i].enqueued, deq += ws[i].dequeued;
        empty += ws[i].empty, errors += ws[i].errors;
    }
    uint32_t d50, d99, davg, e50, e99, eavg, a50, a99, aavg;
    merge(ws, workers, offsetof(struct worker, deq), &d50, &d99, &davg);
    merge(ws, workers, offsetof(struct worker, enq), &e50, &e99, &eavg);
    merge(ws, workers, offsetof(struct worker, ack), &a50, &a99, &aavg);
    printf("BENCH acked=%ld secs=%.3f cycles=%ld enqueued=%ld dequeued=%ld empty_dequeues=%ld errors=%ld "
           "deq_p50_us=%u deq_p99_us=%u deq_avg_us=%u enq_p50_us=%u enq_p99_us=%u enq_avg_us=%u "
           "ack_p50_us=%u ack_p99_us=%u ack_avg_us=%u\n",
           acked, secs, cycles, enq, deq, empty, errors, d50, d99, davg, e50, e99, eavg, a50, a99, aavg);
    return 0;
}
