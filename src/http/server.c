/* libmicrohttpd glue: the access handler gathers the body within the limit,
 * routes, and hands the request to one handler; the completion callback logs
 * the request and frees its state. */
#include "src/http/server.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "src/core/log.h"
#include "src/core/prom.h"
#include "src/core/text.h"
#include "src/http/metrics.h"
#include "src/http/problem.h"
#include "src/http/request_head.h"
#include "src/http/router.h"
#include "src/http/waiters.h"

struct http_server {
    struct http_options opts;
    const struct route *routes;
    size_t nroutes;
    struct service *app;
    struct MHD_Daemon *daemon;
    unsigned short port;
    atomic_int active_requests; /* requests between first call and completion */
    pthread_mutex_t threads_lock;
    struct http_thread *threads; /* one per libmicrohttpd thread that took a request */
};

/* Each connection's libmicrohttpd pool (request line, headers, read buffer).
 * libmicrohttpd zeroes all of it after every request, which was the largest
 * single cost of a small request at its default of 32 KiB; 16 KiB still takes
 * request heads several times larger than common proxies allow (8 KiB lines). */
#define HTTP_CONNECTION_MEMORY (16 * 1024)

static const char *const JSON_TYPE = "application/json; charset=utf-8";

/* What one libmicrohttpd thread keeps for itself, reached without a lock on
 * every request: the request id generator and the request metrics, which a
 * scrape sums over server->threads. */
struct http_thread {
    const struct http_server *server;
    uint64_t id_state; /* splitmix64 */
    struct http_metrics *metrics;
    struct http_thread *next;
};

static _Thread_local struct http_thread *this_thread;

static struct http_thread *thread_state(struct http_server *server)
{
    struct http_thread *t = this_thread;
    if (t && t->server == server)
        return t;
    t = xcalloc(1, sizeof *t);
    t->server = server;
    random_bytes(&t->id_state, sizeof t->id_state);
    t->metrics = http_metrics_new(server->nroutes);
    pthread_mutex_lock(&server->threads_lock);
    t->next = server->threads;
    server->threads = t;
    pthread_mutex_unlock(&server->threads_lock);
    this_thread = t;
    return t;
}

/* Request ids need to be unique, not secret: splitmix64 from a per-thread seed,
 * printed without snprintf as it runs on every request. */
static void new_request_id(struct http_thread *t, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 2; i++) {
        uint64_t z = (t->id_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        for (int d = 15; d >= 0; d--, z >>= 4)
            out[i * 16 + d] = hex[z & 15];
    }
    out[32] = '\0';
}

/* A client's id is echoed only when it is short and harmless in a log line. */
static bool request_id_is_acceptable(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.:/+=", c);
        if (!ok || n >= HTTP_REQUEST_ID_MAX)
            return false;
    }
    return n > 0;
}

static void request_begin(struct request *req, struct http_server *server, struct MHD_Connection *conn, const char *url,
                          const char *method, const char *version)
{
    req->conn = conn;
    req->server = server;
    req->svc = server->app;
    req->server_waiters = server->opts.waiters;
    req->url = url;
    req->method = method;
    req->start_us = now_usec();
    req->target_ok = req->target_ok && http_target_is_whole(req, version);
    const char *id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (id && request_id_is_acceptable(id))
        snprintf(req->request_id, sizeof req->request_id, "%s", id);
    else
        new_request_id(thread_state(server), req->request_id);
    atomic_fetch_add(&server->active_requests, 1);
}

static void request_free(struct request *req)
{
    if (req->server)
        http_wait_cancel(req);
    if (req->route_state_free)
        req->route_state_free(req->route_state);
    free(req->body);
    for (int i = 0; i < req->nparams; i++)
        free(req->params[i]);
    for (size_t i = 0; i < req->nscratch; i++)
        free(req->scratch[i]);
    free(req->scratch);
    for (int i = 0; i < req->nextra; i++)
        free(req->extra[i].value);
    free(req);
}

void http_set_header(struct request *req, const char *name, const char *value)
{
    assert(req->nextra < HTTP_MAX_EXTRA_HEADERS);
    if (req->nextra == HTTP_MAX_EXTRA_HEADERS)
        return;
    req->extra[req->nextra].name = name;
    req->extra[req->nextra].value = xstrdup(value);
    req->nextra++;
}

/* Adds the common headers and queues `resp`, which it releases. */
static void queue(struct request *req, unsigned status, const char *content_type, struct MHD_Response *resp)
{
    assert(req->status == 0);
    http_wait_cancel(req);
    if (!resp) {
        req->queue_failed = true;
        req->status = 500;
        return;
    }
    MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (int i = 0; i < req->nextra; i++)
        MHD_add_response_header(resp, req->extra[i].name, req->extra[i].value);
    req->status = (int)status;
    if (MHD_queue_response(req->conn, status, resp) != MHD_YES)
        req->queue_failed = true;
    MHD_destroy_response(resp);
}

void http_reply_owned(struct request *req, unsigned status, const char *content_type, char *body, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
    if (!resp)
        free(body);
    queue(req, status, content_type, resp);
}

void http_reply_static(struct request *req, unsigned status, const char *content_type, const char *body, size_t len)
{
    queue(req, status, content_type, MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT));
}

void http_reply_json(struct request *req, unsigned status, cJSON *root)
{
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        log_error("%s: could not render a response body", req->request_id);
        problem_reply_internal(req);
        return;
    }
    http_reply_owned(req, status, JSON_TYPE, text, strlen(text));
}

void http_reply_json_text(struct request *req, unsigned status, struct text *body)
{
    assert(body->data);
    http_reply_owned(req, status, JSON_TYPE, body->data, body->len);
    *body = (struct text){0};
}

void http_reply_empty(struct request *req, unsigned status)
{
    queue(req, status, NULL, MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT));
}

void http_reply_stream(struct request *req, unsigned status, const char *content_type, MHD_ContentReaderCallback reader,
                       void *cls, MHD_ContentReaderFreeCallback free_cls)
{
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, reader, cls, free_cls);
    if (!resp)
        free_cls(cls);
    queue(req, status, content_type, resp);
}

const char *http_header(struct request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query(struct request *req, const char *name, bool *bad)
{
    const char *raw = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
    *bad = false;
    if (!raw)
        return NULL;
    char *value = percent_decode(raw, strlen(raw), true);
    if (value && !utf8_is_valid(value, strlen(value))) {
        free(value);
        value = NULL;
    }
    if (!value) {
        *bad = true;
        return NULL;
    }
    req->scratch = xrealloc(req->scratch, (req->nscratch + 1) * sizeof *req->scratch);
    req->scratch[req->nscratch++] = value;
    return value;
}

const char *http_param(struct request *req, const char *name)
{
    size_t len = strlen(name);
    for (int i = 0; i < req->nparams; i++)
        if (!strncmp(req->param_names[i], name, len) && req->param_names[i][len] == '}')
            return req->params[i];
    return NULL;
}

/* Runs the matched handler; it either queues a response or parks the request
 * (waiters.c), in which case it runs again from the start when resumed. */
static void run_handler(struct request *req)
{
    req->parked = false;
    req->route->handler(req);
    if (req->status == 0 && !req->parked) {
        log_error("%s: handler for %s %s queued no response", req->request_id, req->method, req->route->pattern);
        problem_reply_internal(req);
    }
}

/* With tokens configured, the presented token must cover the route's scope
 * and every name in its path; nothing runs otherwise. False after 401/403. */
static bool authorized_or_reply(struct request *req)
{
    struct auth *auth = req->server->opts.auth;
    if (!auth || req->route->scope == SCOPE_OPEN)
        return true;
    const char *header = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const struct auth_token *token = auth_check(auth, header);
    if (!token) {
        http_set_header(req, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"streamq\"");
        problem_reply(req, 401, "unauthorized",
                      header ? "the bearer token is not one this service knows (or it is malformed)"
                             : "this call needs a bearer token: Authorization: Bearer <token>");
        return false;
    }
    req->token = token;
    if (token->scope < req->route->scope) {
        problem_reply(req, 403, "forbidden", "a %s token does not cover %s %s (it needs %s)",
                      auth_scope_name(token->scope), req->method, req->route->pattern,
                      auth_scope_name(req->route->scope));
        return false;
    }
    static const char *const named[] = {"stream", "queue", "name"};
    for (size_t i = 0; i < ARRAY_LEN(named); i++) {
        const char *value = http_param(req, named[i]);
        if (value && !auth_name_allowed(token, value)) {
            problem_reply(req, 403, "forbidden", "this token reaches only names starting with %s", token->prefix);
            return false;
        }
    }
    return true;
}

static void dispatch(struct request *req)
{
    struct route_match m;
    if (req->route) { /* resumed after waiting */
        run_handler(req);
        return;
    }
    switch (router_match(req->server->routes, req->server->nroutes, req->method, req->url, &m)) {
    case ROUTER_FOUND:
        req->route = m.route;
        req->nparams = m.nparams;
        for (int i = 0; i < m.nparams; i++) {
            req->param_names[i] = m.names[i];
            req->params[i] = m.values[i]; /* ownership moves to the request */
        }
        if (authorized_or_reply(req))
            run_handler(req);
        return;
    case ROUTER_METHOD_NOT_ALLOWED:
        http_set_header(req, MHD_HTTP_HEADER_ALLOW, m.allow);
        problem_reply(req, 405, "method_not_allowed", "%s is not allowed here; allowed: %s", req->method, m.allow);
        return;
    case ROUTER_NOT_FOUND:
        problem_reply(req, 404, "not_found", "no route for %s %s", req->method, req->url);
        return;
    }
}

static void reply_too_large(struct request *req)
{
    problem_reply(req, 413, "payload_too_large", "the request body is larger than %lld bytes",
                  (long long)req->server->opts.max_body);
}

/* How much of an oversize body is read and dropped so that its sender can read
 * the 413: reading costs bandwidth, never memory, so the bound is generous. */
static size_t drain_limit(size_t max_body)
{
    size_t floor = 16u << 20;
    return 4 * max_body > floor ? 4 * max_body : floor;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct http_server *server = cls;
    struct request *req = *con_cls;
    size_t max_body = server->opts.max_body;

    if (!req) /* on_uri always makes one; this is only a guard */
        *con_cls = req = xcalloc(1, sizeof *req);
    if (!req->conn) {
        request_begin(req, server, conn, url, method, version);
        if (!http_request_head_is_valid_or_reply(req, version))
            return req->queue_failed ? MHD_NO : MHD_YES;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
        int64_t declared;
        if (cl && parse_int64(cl, 0, INT64_MAX, &declared) && (uint64_t)declared > max_body &&
            ((expect && !strcasecmp(expect, "100-continue")) || (uint64_t)declared > drain_limit(max_body))) {
            /* A client that waits for 100 Continue reads this before sending the body;
             * one declaring far more than we would drain is answered and cut off. */
            reply_too_large(req);
            return req->queue_failed ? MHD_NO : MHD_YES;
        }
        /* Otherwise the body is read and dropped (below) and the 413 sent after it,
         * so that a client that sends without waiting can read the answer. */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->status != 0)
            return MHD_YES;
        if (req->body_too_large || req->body_len + n > max_body) {
            /* Chunked uploads have no Content-Length: past the limit, the rest is
             * drained without being kept, so the client can read the 413. A client
             * that keeps sending far past it is cut off with the answer. */
            if (!req->body_too_large) {
                req->body_too_large = true;
                free(req->body);
                req->body = NULL;
                req->body_cap = 0;
            }
            req->body_len += n;
            if (req->body_len > drain_limit(max_body)) {
                reply_too_large(req);
                return req->queue_failed ? MHD_NO : MHD_YES;
            }
            return MHD_YES;
        }
        if (req->body_len + n + 1 > req->body_cap) {
            size_t cap = req->body_cap ? req->body_cap : 1024;
            while (cap < req->body_len + n + 1)
                cap *= 2;
            req->body = xrealloc(req->body, cap);
            req->body_cap = cap;
        }
        memcpy(req->body + req->body_len, upload_data, n);
        req->body_len += n;
        return MHD_YES;
    }
    if (req->status != 0)
        return req->queue_failed ? MHD_NO : MHD_YES;
    if (req->body_too_large) {
        reply_too_large(req);
        return req->queue_failed ? MHD_NO : MHD_YES;
    }
    if (req->body)
        req->body[req->body_len] = '\0';
    dispatch(req);
    return req->queue_failed ? MHD_NO : MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct http_server *server = cls;
    struct request *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    if (!req->conn) { /* refused by libmicrohttpd before it reached us */
        request_free(req);
        return;
    }
    char who[AUTH_LABEL_MAX + 1] = "";
    if (req->token)
        auth_token_name(req->token, who, sizeof who);
    int status = req->status ? req->status : 499;
    int64_t duration_us = now_usec() - req->start_us;
    log_request(req->request_id, req->method, req->route ? req->route->pattern : "-", status, duration_us,
                req->token ? who : NULL);
    size_t route = req->route ? (size_t)(req->route - server->routes) : server->nroutes;
    http_metrics_record(thread_state(server)->metrics, route, status, duration_us);
    request_free(req);
    atomic_fetch_sub(&server->active_requests, 1);
}

/* Keep the path raw so that router.c decodes each segment on its own. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    return strlen(s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    log_debug("libmicrohttpd: %s", msg);
}

struct http_server *http_server_start(const struct http_options *opts, const struct route *routes, size_t nroutes,
                                      struct service *app)
{
    struct http_server *server = xcalloc(1, sizeof *server);
    server->opts = *opts;
    server->routes = routes;
    server->nroutes = nroutes;
    server->app = app;
    atomic_init(&server->active_requests, 0);
    pthread_mutex_init(&server->threads_lock, NULL);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    server->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, server, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)opts->listen_addr,
        MHD_OPTION_THREAD_POOL_SIZE, opts->threads, MHD_OPTION_CONNECTION_TIMEOUT, opts->connection_timeout,
        MHD_OPTION_CONNECTION_LIMIT, opts->connection_limit ? opts->connection_limit : 4096u,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)HTTP_CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, server, MHD_OPTION_URI_LOG_CALLBACK,
        http_on_uri, NULL, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        NULL, MHD_OPTION_END);
    if (!server->daemon) {
        log_error("cannot listen on %s (address in use or not available)", opts->listen);
        pthread_mutex_destroy(&server->threads_lock);
        free(server);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    server->port = info ? info->port : 0;
    return server;
}

void http_request_suspend(struct request *req)
{
    req->parked = true;
    MHD_suspend_connection(req->conn);
}

void http_request_resume(struct request *req)
{
    MHD_resume_connection(req->conn);
}

void http_server_render_metrics(struct http_server *server, struct text *out)
{
    struct http_metrics *total = http_metrics_new(server->nroutes);
    pthread_mutex_lock(&server->threads_lock);
    for (struct http_thread *t = server->threads; t; t = t->next)
        http_metrics_add(total, t->metrics);
    pthread_mutex_unlock(&server->threads_lock);
    http_metrics_render(total, server->routes, out);
    http_metrics_free(total);
    prom_single_int(out, "streamq_http_requests_in_flight", "gauge",
                    "Requests begun and not yet completed, parked ones included (this scrape too).",
                    (uint64_t)atomic_load(&server->active_requests));
    if (server->opts.waiters)
        prom_single_int(out, "streamq_http_waiters_parked", "gauge",
                        "Requests suspended until something they wait for changes (long polls, SSE streams).",
                        (uint64_t)waiters_parked(server->opts.waiters));
}

unsigned short http_server_port(const struct http_server *server)
{
    return server->port;
}

void http_server_stop(struct http_server *server, int64_t grace_ms)
{
    if (!server)
        return;
    MHD_socket listener = MHD_quiesce_daemon(server->daemon);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    int64_t deadline = now_usec() + grace_ms * 1000;
    while (atomic_load(&server->active_requests) > 0 && now_usec() < deadline)
        usleep(10 * 1000);
    if (atomic_load(&server->active_requests) > 0)
        log_warn("shutdown: %d requests still running after %lld ms; closing them",
                 atomic_load(&server->active_requests), (long long)grace_ms);
    MHD_stop_daemon(server->daemon);
    while (server->threads) {
        struct http_thread *t = server->threads;
        server->threads = t->next;
        http_metrics_free(t->metrics);
        free(t);
    }
    pthread_mutex_destroy(&server->threads_lock);
    free(server);
}
