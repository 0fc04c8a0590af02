/* The only module that talks to libmicrohttpd: request state, body buffering
 * with the size limit, request ids, and queueing responses. It knows nothing of
 * the routes or the store: the route table and the application's context are
 * handed to it at start. */
#ifndef STREAMQ_HTTP_H
#define STREAMQ_HTTP_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "src/core/util.h"

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_EXTRA_HEADERS 6
#define HTTP_REQUEST_ID_MAX 64

struct route;
struct http_server;
struct waiters;
struct auth;
struct auth_token;
struct watch;
struct text;
/* The application's context, handed to http_server_start and reachable from
 * every request; opaque to this layer. */
struct service;

struct http_options {
    const struct sockaddr_storage *listen_addr;
    const char *listen; /* as configured, for messages */
    unsigned threads;
    unsigned connection_timeout; /* seconds */
    size_t max_body;
    unsigned connection_limit;
    struct waiters *waiters; /* where handlers park requests (waiters.h) */
    struct auth *auth;       /* bearer tokens (auth.h); NULL: every route is open */
};

struct http_header {
    const char *name; /* static string */
    char *value;      /* owned */
};

struct request {
    struct MHD_Connection *conn;
    struct service *svc; /* the application's context */
    struct http_server *server;
    const char *method;     /* "GET", ...; HEAD is routed as GET */
    const char *url;        /* raw path, not percent-decoded */
    uintptr_t target_start; /* where the raw target began, to detect a NUL in it */
    size_t target_len;
    bool target_ok;
    char request_id[HTTP_REQUEST_ID_MAX + 1];
    int64_t start_us;
    /* The bearer token the request presented, once checked; NULL when tokens
     * are off or the route is open. Handlers of lists and of the global read
     * narrow what they show to its name prefix. */
    const struct auth_token *token;

    char *body; /* NUL-terminated once complete */
    size_t body_len, body_cap;
    bool body_too_large;

    const struct route *route;     /* matched route, for logs */
    char *params[HTTP_MAX_PARAMS]; /* decoded path parameters; NULL when undecodable */
    const char *param_names[HTTP_MAX_PARAMS];
    int nparams;

    char **scratch; /* strings freed with the request (decoded query values) */
    size_t nscratch;

    struct http_header extra[HTTP_MAX_EXTRA_HEADERS];
    int nextra;

    /* Waiting (waiters.c): the request's watch, guarded by the registry's lock;
     * `parked` tells the dispatcher that no response is due yet; `wait_until_us`
     * is for handlers, 0 until a handler sets the deadline of a long poll. */
    struct waiters *server_waiters;
    struct watch *watch;
    bool parked;
    int64_t wait_until_us;

    /* What a handler keeps while its request is suspended (e.g. an append
     * handed to the group commit's writers), found again when the handler
     * runs after the resume; freed with the request by `route_state_free`. */
    void *route_state;
    void (*route_state_free)(void *state);

    /* 1 + the index of the operation of a transaction (POST /transactions)
     * being checked or answered: its problems carry "operation"; 0: none. */
    int problem_operation;

    int status; /* 0 until a response is queued */
    bool queue_failed;
};

/* Starts serving `routes` (borrowed, static) on opts->listen_addr; `app` is what
 * requests reach as req->svc. Returns NULL (logged) when it cannot listen. */
struct http_server *http_server_start(const struct http_options *opts, const struct route *routes, size_t nroutes,
                                      struct service *app) MUST_CHECK;
/* For waiters.c only: suspend the request's connection (from its handler) and
 * resume it (from any thread). */
void http_request_suspend(struct request *req);
void http_request_resume(struct request *req);

/* Appends the request metrics of every thread (http/metrics.h), requests in
 * flight and parked waiters, in the Prometheus text format. Any thread. */
void http_server_render_metrics(struct http_server *server, struct text *out);

/* The bound port (useful with port 0). */
unsigned short http_server_port(const struct http_server *server);
/* Stops accepting, waits up to `grace_ms` for in-flight requests, then stops and
 * frees the server. Accepts NULL. */
void http_server_stop(struct http_server *server, int64_t grace_ms);

/* Responses. Each queues exactly one response for `req`; call one per request. */

/* Takes ownership of `root` on every path; NULL answers 500. */
void http_reply_json(struct request *req, unsigned status, cJSON *root);
/* Queues `body`, JSON text a renderer wrote, taking its buffer: `body` is left empty. */
void http_reply_json_text(struct request *req, unsigned status, struct text *body);
/* Takes ownership of `body` (malloc'd, `len` bytes). */
void http_reply_owned(struct request *req, unsigned status, const char *content_type, char *body, size_t len);
/* `body` is static and outlives the daemon. */
void http_reply_static(struct request *req, unsigned status, const char *content_type, const char *body, size_t len);
void http_reply_empty(struct request *req, unsigned status);
/* Streams a body produced by `reader` (libmicrohttpd content-reader contract); `free_cls`
 * releases `cls` when the response is done, whatever happened. */
void http_reply_stream(struct request *req, unsigned status, const char *content_type, MHD_ContentReaderCallback reader,
                       void *cls, MHD_ContentReaderFreeCallback free_cls);

/* Adds a header to the response queued later; `name` must be a static string. */
void http_set_header(struct request *req, const char *name, const char *value);

/* Request inspection. Returned strings live as long as the request. */
const char *http_header(struct request *req, const char *name);
/* Percent-decoded query value, NULL when absent; `*bad` set when an escape is malformed,
 * decodes to NUL, or the value is not UTF-8. */
const char *http_query(struct request *req, const char *name, bool *bad);
/* The decoded path parameter `name`; NULL when absent or undecodable. */
const char *http_param(struct request *req, const char *name);

#endif
