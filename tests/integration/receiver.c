/* The loopback webhook receiver; see receiver.h. One acceptor thread, and one
 * detached thread per connection that reads one request, records it, answers
 * and closes. Everything shared sits under one mutex; `changed` is signalled
 * when a request is recorded, held requests are released, a connection ends,
 * or the receiver stops. */
#include "receiver.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEADER_MAX 16384
#define BODY_MAX (8 * 1024 * 1024)
#define IO_TIMEOUT_S 15

struct receiver {
    int listen_fd;
    int port;
    double started;
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_cond_t changed;
    bool stopping;
    int answers[RECEIVER_MAX_REQUESTS]; /* queued answers, taken from next_answer on */
    int nanswers, next_answer;
    unsigned release_gen; /* bumped by receiver_release */
    int release_status;
    struct received *reqs[RECEIVER_MAX_REQUESTS];
    int nreqs;
    int conn_fds[RECEIVER_MAX_CONNECTIONS]; /* -1: free */
    int nconns;
};

struct conn {
    struct receiver *rc;
    int fd;
    int slot;
    int peer_port;
};

double receiver_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *received_header(const struct received *req, const char *name, char *buf, size_t size)
{
    size_t nlen = strlen(name);
    const char *line = req->headers ? strstr(req->headers, "\r\n") : NULL; /* skip the request line */
    while (line && line[2] != '\0' && line[2] != '\r') {
        line += 2;
        size_t len = strcspn(line, "\r");
        if (len > nlen && line[nlen] == ':' && !strncasecmp(line, name, nlen)) {
            const char *v = line + nlen + 1;
            const char *end = line + len;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            snprintf(buf, size, "%.*s", (int)(end - v), v);
            return buf;
        }
        line = strstr(line, "\r\n");
    }
    return NULL;
}

static bool send_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        text += n;
        len -= (size_t)n;
    }
    return true;
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

static void answer(int fd, int status)
{
    char text[256];
    const char *body = status >= 200 && status < 300 ? "ok\n" : "no\n";
    int n = snprintf(text, sizeof text,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     status, reason(status), strlen(body), body);
    send_all(fd, text, (size_t)n);
}

/* Reads one request from `fd` into `req`. Returns false when the connection
 * ended before a whole request came (nothing to record); true otherwise, with
 * req->error set when the request was malformed (then *status is the answer). */
static bool read_request(int fd, struct received *req, int *status)
{
    char *buf = malloc(HEADER_MAX + 1);
    size_t len = 0;
    char *end = NULL;
    if (!buf)
        return false;
    for (;;) {
        buf[len] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) != NULL)
            break;
        if (len == HEADER_MAX)
            goto fail;
        ssize_t n = recv(fd, buf + len, HEADER_MAX - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || memchr(buf + len, '\0', (size_t)n))
            goto fail; /* closed early, or not a header block a client would send */
        len += (size_t)n;
    }
    size_t head_len = (size_t)(end - buf) + 4;
    req->headers = strndup(buf, head_len);
    if (!req->headers)
        goto fail;
    if (sscanf(buf, "%15s %255s", req->method, req->path) != 2) {
        snprintf(req->error, sizeof req->error, "no request line");
        *status = 400;
        goto body_none;
    }
    char value[64];
    if (!received_header(req, "Content-Length", value, sizeof value)) {
        snprintf(req->error, sizeof req->error, "no Content-Length (Transfer-Encoding is not read)");
        *status = 411;
        goto body_none;
    }
    char *stop = NULL;
    errno = 0;
    unsigned long long want = strtoull(value, &stop, 10);
    if (errno || stop == value || *stop || want > BODY_MAX) {
        snprintf(req->error, sizeof req->error, "Content-Length %.40s refused", value);
        *status = want > BODY_MAX ? 413 : 400;
        goto body_none;
    }
    req->body = malloc((size_t)want + 1);
    if (!req->body)
        goto fail;
    size_t have = len - head_len < want ? len - head_len : (size_t)want;
    memcpy(req->body, buf + head_len, have);
    char expect[64];
    if (have < want && received_header(req, "Expect", expect, sizeof expect) && !strcasecmp(expect, "100-continue"))
        send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    while (have < want) {
        ssize_t n = recv(fd, req->body + have, (size_t)want - have, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        have += (size_t)n;
    }
    req->body[have] = '\0';
    req->len = have;
    free(buf);
    received_header(req, "Content-Type", req->content_type, sizeof req->content_type);
    received_header(req, "webhook-id", req->webhook_id, sizeof req->webhook_id);
    received_header(req, "webhook-timestamp", req->webhook_ts, sizeof req->webhook_ts);
    received_header(req, "webhook-signature", req->webhook_sig, sizeof req->webhook_sig);
    return true;
body_none:
    free(buf);
    req->body = calloc(1, 1);
    return req->body != NULL;
fail:
    free(buf);
    return false;
}

static void free_received(struct received *req)
{
    if (req) {
        free(req->headers);
        free(req->body);
        free(req);
    }
}

static void *serve(void *arg)
{
    struct conn c = *(struct conn *)arg;
    struct receiver *rc = c.rc;
    free(arg);
    int status = 0;
    struct received *req = calloc(1, sizeof *req);
    if (!req || !read_request(c.fd, req, &status)) {
        free_received(req);
        goto out;
    }
    req->at = receiver_now();
    req->wall = wall_now();
    req->peer_port = c.peer_port;
    pthread_mutex_lock(&rc->mu);
    if (rc->nreqs == RECEIVER_MAX_REQUESTS) {
        pthread_mutex_unlock(&rc->mu);
        free_received(req);
        answer(c.fd, 503);
        goto out;
    }
    if (!req->error[0])
        status = rc->next_answer < rc->nanswers ? rc->answers[rc->next_answer++] : 200;
    req->status = status;
    rc->reqs[rc->nreqs++] = req; /* from here on it belongs to the receiver and is read-only */
    pthread_cond_broadcast(&rc->changed);
    if (status == RECEIVER_HOLD) {
        unsigned gen = rc->release_gen;
        while (!rc->stopping && rc->release_gen == gen)
            pthread_cond_wait(&rc->changed, &rc->mu);
        status = rc->release_gen != gen ? rc->release_status : RECEIVER_HOLD;
    }
    pthread_mutex_unlock(&rc->mu);
    if (status != RECEIVER_HOLD)
        answer(c.fd, status);
out:
    pthread_mutex_lock(&rc->mu);
    rc->conn_fds[c.slot] = -1;
    close(c.fd);
    rc->nconns--;
    pthread_cond_broadcast(&rc->changed);
    pthread_mutex_unlock(&rc->mu);
    return NULL;
}

static void *accept_loop(void *arg)
{
    struct receiver *rc = arg;
    for (;;) {
        pthread_mutex_lock(&rc->mu);
        bool stop = rc->stopping;
        pthread_mutex_unlock(&rc->mu);
        if (stop || receiver_now() - rc->started > RECEIVER_LIFETIME_S)
            break;
        struct pollfd p = {.fd = rc->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        int fd = accept(rc->listen_fd, (struct sockaddr *)&peer, &plen);
        if (fd < 0)
            continue;
        struct timeval tv = {IO_TIMEOUT_S, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        struct conn *c = malloc(sizeof *c);
        int slot = -1;
        pthread_mutex_lock(&rc->mu);
        for (int i = 0; i < RECEIVER_MAX_CONNECTIONS && slot < 0; i++)
            if (rc->conn_fds[i] < 0)
                slot = i;
        if (slot >= 0 && c) {
            rc->conn_fds[slot] = fd;
            rc->nconns++;
        }
        pthread_mutex_unlock(&rc->mu);
        if (slot < 0 || !c) {
            free(c);
            close(fd);
            continue;
        }
        *c = (struct conn){.rc = rc, .fd = fd, .slot = slot, .peer_port = ntohs(peer.sin_port)};
        pthread_attr_t attr;
        pthread_t t;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, serve, c) != 0) {
            free(c);
            pthread_mutex_lock(&rc->mu);
            rc->conn_fds[slot] = -1;
            close(fd);
            rc->nconns--;
            pthread_mutex_unlock(&rc->mu);
        }
        pthread_attr_destroy(&attr);
    }
    return NULL;
}

struct receiver *receiver_start(void)
{
    struct receiver *rc = calloc(1, sizeof *rc);
    if (!rc)
        return NULL;
    for (int i = 0; i < RECEIVER_MAX_CONNECTIONS; i++)
        rc->conn_fds[i] = -1;
    rc->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof addr;
    if (rc->listen_fd < 0 || bind(rc->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(rc->listen_fd, 64) != 0 || getsockname(rc->listen_fd, (struct sockaddr *)&addr, &alen) != 0) {
        if (rc->listen_fd >= 0)
            close(rc->listen_fd);
        free(rc);
        return NULL;
    }
    rc->port = ntohs(addr.sin_port);
    rc->started = receiver_now();
    pthread_mutex_init(&rc->mu, NULL);
    pthread_cond_init(&rc->changed, NULL);
    if (pthread_create(&rc->acceptor, NULL, accept_loop, rc) != 0) {
        close(rc->listen_fd);
        pthread_cond_destroy(&rc->changed);
        pthread_mutex_destroy(&rc->mu);
        free(rc);
        return NULL;
    }
    return rc;
}

int receiver_port(const struct receiver *rc)
{
    return rc->port;
}

void receiver_answer(struct receiver *rc, int status)
{
    pthread_mutex_lock(&rc->mu);
    bool fits = rc->nanswers < RECEIVER_MAX_REQUESTS;
    if (fits)
        rc->answers[rc->nanswers++] = status;
    pthread_mutex_unlock(&rc->mu);
    ck_assert_msg(fits, "receiver: more than %d answers queued", RECEIVER_MAX_REQUESTS);
}

void receiver_release(struct receiver *rc, int status)
{
    pthread_mutex_lock(&rc->mu);
    rc->release_gen++;
    rc->release_status = status;
    pthread_cond_broadcast(&rc->changed);
    pthread_mutex_unlock(&rc->mu);
}

int receiver_count(struct receiver *rc)
{
    pthread_mutex_lock(&rc->mu);
    int n = rc->nreqs;
    pthread_mutex_unlock(&rc->mu);
    return n;
}

bool receiver_wait(struct receiver *rc, int n, double seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline); /* the condition variable's clock */
    long long ns = deadline.tv_nsec + (long long)(seconds * 1e9);
    deadline.tv_sec += (time_t)(ns / 1000000000);
    deadline.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&rc->mu);
    while (rc->nreqs < n && pthread_cond_timedwait(&rc->changed, &rc->mu, &deadline) != ETIMEDOUT)
        ;
    bool ok = rc->nreqs >= n;
    pthread_mutex_unlock(&rc->mu);
    return ok;
}

const struct received *receiver_at(struct receiver *rc, int i)
{
    pthread_mutex_lock(&rc->mu);
    const struct received *req = i >= 0 && i < rc->nreqs ? rc->reqs[i] : NULL;
    pthread_mutex_unlock(&rc->mu);
    ck_assert_msg(req != NULL, "receiver: no request %d", i);
    return req;
}

cJSON *received_json(const struct received *req)
{
    return req->body ? cJSON_ParseWithLength(req->body, req->len) : NULL;
}

int receiver_acked_events(struct receiver *rc)
{
    int total = 0;
    for (int i = 0, n = receiver_count(rc); i < n; i++) {
        const struct received *req = receiver_at(rc, i);
        if (req->status < 200 || req->status > 299)
            continue;
        cJSON *json = received_json(req);
        total += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(json, "events"));
        cJSON_Delete(json);
    }
    return total;
}

bool receiver_wait_acked(struct receiver *rc, int n, double seconds)
{
    double deadline = receiver_now() + seconds;
    while (receiver_acked_events(rc) < n) {
        if (receiver_now() >= deadline)
            return false;
        usleep(50 * 1000);
    }
    return true;
}

void receiver_stop(struct receiver *rc)
{
    if (!rc)
        return;
    pthread_mutex_lock(&rc->mu);
    rc->stopping = true;
    pthread_cond_broadcast(&rc->changed);
    pthread_mutex_unlock(&rc->mu);
    pthread_join(rc->acceptor, NULL);
    close(rc->listen_fd);
    pthread_mutex_lock(&rc->mu);
    for (int i = 0; i < RECEIVER_MAX_CONNECTIONS; i++)
        if (rc->conn_fds[i] >= 0)
            shutdown(rc->conn_fds[i], SHUT_RDWR); /* wakes a thread blocked reading */
    while (rc->nconns > 0)
        pthread_cond_wait(&rc->changed, &rc->mu);
    pthread_mutex_unlock(&rc->mu);
    for (int i = 0; i < rc->nreqs; i++)
        free_received(rc->reqs[i]);
    pthread_cond_destroy(&rc->changed);
    pthread_mutex_destroy(&rc->mu);
    free(rc);
}
