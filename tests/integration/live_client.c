/* Clients the live suites share; see live_client.h. */
#include "live_client.h"

#include "exchange_log.h"

#include <check.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double live_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleeps `ms` milliseconds. */
static void sleep_ms(int ms)
{
    usleep((useconds_t)ms * 1000);
}

const char *const live_bad_waits[] = {
    "61", "-1", "1.5", "x", "", "1e1", "99999999999999999999", "%2B5", /* %2B: "+" */
};
const size_t live_bad_waits_len = sizeof live_bad_waits / sizeof live_bad_waits[0];

struct response *live_timed_get(const char *path, double *took)
{
    double t0 = live_now();
    struct response *r = http(&svc, "GET", path, NULL, NULL);
    *took = live_now() - t0;
    return r;
}

/* ----------------------------------------------------- threaded requests */

static void *call_main(void *arg)
{
    struct live_call *c = arg;
    c->sent_at = live_now();
    struct response *r = http(c->sp, c->method, c->path, c->body, NULL);
    c->answered_at = live_now();
    c->response = r;
    atomic_store(&c->done, true);
    return NULL;
}

void live_call_start(struct live_call *c, const struct service_proc *sp, const char *method, const char *path,
                     const char *body)
{
    memset(c, 0, sizeof *c);
    c->sp = sp;
    snprintf(c->method, sizeof c->method, "%s", method);
    c->path = strdup(path);
    c->body = body ? strdup(body) : NULL;
    ck_assert(c->path && (!body || c->body));
    atomic_init(&c->done, false);
    ck_assert_int_eq(pthread_create(&c->thread, NULL, call_main, c), 0);
}

bool live_call_done(struct live_call *c)
{
    return atomic_load(&c->done);
}

bool live_call_wait(struct live_call *c, double timeout_s)
{
    double until = live_now() + timeout_s;
    while (!live_call_done(c)) {
        if (live_now() >= until)
            return false;
        sleep_ms(2);
    }
    return true;
}

struct response *live_call_join(struct live_call *c)
{
    pthread_join(c->thread, NULL);
    free(c->path);
    free(c->body);
    c->path = c->body = NULL;
    struct response *r = c->response;
    c->response = NULL;
    return r;
}

void live_expect_waiting_at(int line, struct live_call *c)
{
    if (!live_call_done(c))
        return;
    ck_assert_msg(false,
                  "line %d: %s %s was answered %.3f s after it was sent, before anything woke it (status %ld: %s)",
                  line, c->method, c->path, c->answered_at - c->sent_at, c->response ? c->response->status : 0,
                  c->response ? c->response->body : "");
}

struct response *live_expect_woken_at(int line, struct live_call *c, double write_started, double write_returned,
                                      double within_s)
{
    char what[1100];
    snprintf(what, sizeof what, "%s %s", c->method, c->path);
    struct response *r = live_call_join(c);
    ck_assert_msg(c->answered_at >= write_started,
                  "line %d: %s was answered %.3f s before the write that should wake it began (status %ld: %s)", line,
                  what, write_started - c->answered_at, r->status, r->body);
    ck_assert_msg(c->answered_at - write_returned <= within_s,
                  "line %d: %s was answered %.3f s after the write returned; want at most %.3f s (status %ld: %s)",
                  line, what, c->answered_at - write_returned, within_s, r->status, r->body);
    return r;
}

struct response *live_expect_timed_out_at(int line, struct live_call *c, double wait_s)
{
    char what[1100];
    snprintf(what, sizeof what, "%s %s", c->method, c->path);
    struct response *r = live_call_join(c);
    double took = c->answered_at - c->sent_at;
    ck_assert_msg(took >= wait_s - 0.5 && took <= wait_s + 0.5,
                  "line %d: %s was answered after %.3f s; want %.1f s ± 0.5 s (status %ld: %s)", line, what, took,
                  wait_s, r->status, r->body);
    return r;
}

void live_start_waiting_at(int line, struct live_call *c, const char *method, const char *path, const char *body)
{
    live_call_start(c, &svc, method, path, body);
    sleep_ms(LIVE_SETTLE_MS);
    live_expect_waiting_at(line, c);
}

/* `method` `path` with `body` to `svc`, timed; asserts 201. */
static struct live_write timed_write(const char *method, const char *path, const char *body)
{
    struct live_write w = {.started = live_now()};
    struct response *r = http(&svc, method, path, body, NULL);
    w.returned = live_now();
    ck_assert_msg(r->status == 201, "%s %s: %ld, want 201: %s", method, path, r->status, r->body);
    response_free(r);
    return w;
}

struct live_write live_append(const char *stream, const char *body)
{
    char path[600];
    snprintf(path, sizeof path, "/streams/%s/events", stream);
    return timed_write("POST", path, body);
}

struct live_write live_append_one(const char *stream, const char *type, int n)
{
    char body[400];
    snprintf(body, sizeof body, "{\"events\":[{\"type\":\"%s\",\"data\":{\"n\":%d}}]}", type, n);
    return live_append(stream, body);
}

struct live_write live_enqueue(const char *queue, const char *body)
{
    char path[600];
    snprintf(path, sizeof path, "/queues/%s/messages", queue);
    return timed_write("POST", path, body);
}

/* ------------------------------------------------------ Server-Sent Events */

/* Appends `n` bytes of `s` to the heap string `*dst` (NULL: a new one),
 * separated by "\n" from what it held when `join` is true. */
static void append_text(char **dst, const char *s, size_t n, bool join)
{
    size_t old = *dst ? strlen(*dst) : 0;
    char *out = realloc(*dst, old + n + 2);
    if (!out)
        abort();
    size_t at = old;
    if (*dst && join)
        out[at++] = '\n';
    memcpy(out + at, s, n);
    out[at + n] = '\0';
    *dst = out;
}

static void clear_frame(struct sse_frame *f)
{
    free(f->id);
    free(f->event);
    free(f->data);
    memset(f, 0, sizeof *f);
}

/* A blank line: dispatches the frame read so far (if any field came). */
static void end_frame(struct sse_parser *p)
{
    if (p->next_has_field) {
        if (p->nframes < p->max_frames) {
            p->next.at = live_now();
            p->frames[p->nframes++] = p->next;
            memset(&p->next, 0, sizeof p->next);
        } else {
            p->dropped++;
            clear_frame(&p->next);
        }
    } else if (p->next_heartbeat) {
        p->heartbeats++;
    }
    p->next_has_field = p->next_heartbeat = false;
}

static void bad_line(struct sse_parser *p, const char *line)
{
    if (p->bad_lines++ == 0)
        snprintf(p->first_bad, sizeof p->first_bad, "%s", line);
}

static void take_line(struct sse_parser *p)
{
    const char *line = p->line ? p->line : "";
    if (p->len == 0) {
        end_frame(p);
        return;
    }
    if (line[0] == ':') {
        p->comments++;
        p->next_heartbeat = !strcmp(line, ": heartbeat");
        return;
    }
    const char *colon = strchr(line, ':');
    size_t name_len = colon ? (size_t)(colon - line) : p->len;
    const char *value = colon ? colon + 1 + (colon[1] == ' ') : "";
    size_t value_len = strlen(value);
    if (name_len == 2 && !strncmp(line, "id", 2)) {
        free(p->next.id);
        p->next.id = NULL;
        append_text(&p->next.id, value, value_len, false);
    } else if (name_len == 5 && !strncmp(line, "event", 5)) {
        free(p->next.event);
        p->next.event = NULL;
        append_text(&p->next.event, value, value_len, false);
    } else if (name_len == 4 && !strncmp(line, "data", 4)) {
        append_text(&p->next.data, value, value_len, true);
        p->next.data_lines++;
    } else if (name_len == 5 && !strncmp(line, "retry", 5)) {
        return;
    } else {
        bad_line(p, line);
        return;
    }
    p->next_has_field = true;
}

void sse_parser_init(struct sse_parser *p, int max_frames)
{
    memset(p, 0, sizeof *p);
    p->max_frames = max_frames;
    p->frames = calloc((size_t)max_frames, sizeof *p->frames);
    p->raw = calloc(1, 1);
    if (!p->frames || !p->raw)
        abort();
}

void sse_parser_feed(struct sse_parser *p, const char *bytes, size_t n)
{
    if (p->raw_len < SSE_RAW_MAX) {
        size_t keep = n < SSE_RAW_MAX - p->raw_len ? n : SSE_RAW_MAX - p->raw_len;
        char *raw = realloc(p->raw, p->raw_len + keep + 1);
        if (!raw)
            abort();
        memcpy(raw + p->raw_len, bytes, keep);
        p->raw_len += keep;
        raw[p->raw_len] = '\0';
        p->raw = raw;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = bytes[i];
        if (ch == '\n' && p->after_cr) { /* the LF of a CRLF */
            p->after_cr = false;
            continue;
        }
        p->after_cr = ch == '\r';
        if (ch == '\n' || ch == '\r') {
            take_line(p);
            p->len = 0;
            if (p->line)
                p->line[0] = '\0';
            continue;
        }
        if (p->len + 2 > p->cap) {
            p->cap = p->cap ? p->cap * 2 : 256;
            p->line = realloc(p->line, p->cap);
            if (!p->line)
                abort();
        }
        p->line[p->len++] = ch;
        p->line[p->len] = '\0';
    }
}

void sse_parser_free(struct sse_parser *p)
{
    for (int i = 0; i < p->nframes; i++)
        clear_frame(&p->frames[i]);
    clear_frame(&p->next);
    free(p->frames);
    free(p->line);
    free(p->raw);
    memset(p, 0, sizeof *p);
}

static size_t sse_on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct sse_client *c = arg;
    pthread_mutex_lock(&c->mu);
    sse_parser_feed(&c->p, ptr, size * nmemb);
    pthread_mutex_unlock(&c->mu);
    return size * nmemb;
}

/* What sse_main hands its callbacks. */
struct sse_io {
    struct sse_client *c;
    CURL *curl;
    char *headers; /* the raw header block, for the exchange log */
    size_t headers_len;
};

static size_t sse_on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct sse_io *io = arg;
    size_t n = size * nmemb;
    io->headers = realloc(io->headers, io->headers_len + n + 1);
    memcpy(io->headers + io->headers_len, ptr, n);
    io->headers_len += n;
    io->headers[io->headers_len] = '\0';
    if (n == 2 && ptr[0] == '\r' && ptr[1] == '\n') {
        long status = 0;
        const char *type = NULL;
        curl_easy_getinfo(io->curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(io->curl, CURLINFO_CONTENT_TYPE, &type);
        if (status >= 200) {
            pthread_mutex_lock(&io->c->mu);
            io->c->status = status;
            snprintf(io->c->content_type, sizeof io->c->content_type, "%s", type ? type : "");
            io->c->headers_done = true;
            pthread_mutex_unlock(&io->c->mu);
        }
    }
    return n;
}

static void *sse_main(void *arg)
{
    struct sse_client *c = arg;
    struct sse_io io = {.c = c, .curl = curl_easy_init()};
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: text/event-stream");
    char line[128];
    if (c->last_event_id[0]) {
        snprintf(line, sizeof line, "Last-Event-ID: %s", c->last_event_id);
        headers = curl_slist_append(headers, line);
    }
    curl_easy_setopt(io.curl, CURLOPT_URL, c->url);
    curl_easy_setopt(io.curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(io.curl, CURLOPT_WRITEFUNCTION, sse_on_body);
    curl_easy_setopt(io.curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(io.curl, CURLOPT_HEADERFUNCTION, sse_on_header);
    curl_easy_setopt(io.curl, CURLOPT_HEADERDATA, &io);
    CURLM *multi = curl_multi_init();
    curl_multi_add_handle(multi, io.curl);
    int running = 1, result = -1;
    /* A multi handle, so that an idle subscription notices `stop` within 20 ms. */
    while (running && !atomic_load(&c->stop)) {
        if (curl_multi_perform(multi, &running) != CURLM_OK)
            break;
        if (running)
            curl_multi_poll(multi, NULL, 0, 20, NULL);
    }
    int queued;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(multi, &queued)))
        if (msg->msg == CURLMSG_DONE)
            result = (int)msg->data.result;
    curl_multi_remove_handle(multi, io.curl);
    curl_multi_cleanup(multi);
    curl_easy_cleanup(io.curl);
    curl_slist_free_all(headers);
    pthread_mutex_lock(&c->mu);
    c->finished = result >= 0;
    c->curl_result = result;
    c->finished_at = live_now();
    const char *target = strchr(c->url + strlen("http://"), '/');
    exchange_log_record(&(struct exchange){.client = "sse",
                                           .method = "GET",
                                           .target = target ? target : "/",
                                           .accept = "text/event-stream",
                                           .proxy_mount = c->proxy_mount,
                                           .status = c->status,
                                           .headers = io.headers,
                                           .body = c->p.raw,
                                           .len = c->p.raw_len,
                                           .body_complete = result == 0 && c->p.raw_len < SSE_RAW_MAX});
    pthread_mutex_unlock(&c->mu);
    free(io.headers);
    return NULL;
}

void sse_open(struct sse_client *c, const struct service_proc *sp, const char *path, const char *last_event_id)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    atomic_init(&c->stop, false);
    int n = snprintf(c->url, sizeof c->url, "http://127.0.0.1:%d%s", sp->port, path);
    ck_assert_msg(n > 0 && (size_t)n < sizeof c->url, "subscribe path too long");
    c->proxy_mount = sp->proxy_mount;
    if (last_event_id)
        snprintf(c->last_event_id, sizeof c->last_event_id, "%s", last_event_id);
    sse_parser_init(&c->p, 4096);
    ck_assert_int_eq(pthread_create(&c->thread, NULL, sse_main, c), 0);
}

/* Waits up to `timeout_s` until `ready(c)` (called under the lock) holds or the
 * body ended. */
static void wait_until(struct sse_client *c, bool (*ready)(struct sse_client *, int), int n, double timeout_s)
{
    double until = live_now() + timeout_s;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        bool stop = ready(c, n) || c->finished;
        pthread_mutex_unlock(&c->mu);
        if (stop || live_now() >= until)
            return;
        sleep_ms(2);
    }
}

static bool have_headers(struct sse_client *c, int n)
{
    (void)n;
    return c->headers_done;
}

static bool have_frames(struct sse_client *c, int n)
{
    return c->p.nframes >= n;
}

static bool have_heartbeats(struct sse_client *c, int n)
{
    return c->p.heartbeats >= n;
}

static bool have_end(struct sse_client *c, int n)
{
    (void)n;
    return c->finished;
}

long sse_wait_headers(struct sse_client *c, double timeout_s, char *type, size_t typelen)
{
    wait_until(c, have_headers, 0, timeout_s);
    pthread_mutex_lock(&c->mu);
    long status = c->status;
    if (type)
        snprintf(type, typelen, "%s", c->content_type);
    pthread_mutex_unlock(&c->mu);
    return status;
}

int sse_wait_frames(struct sse_client *c, int n, double timeout_s)
{
    wait_until(c, have_frames, n, timeout_s);
    return sse_frames(c);
}

int sse_wait_heartbeats(struct sse_client *c, int n, double timeout_s)
{
    wait_until(c, have_heartbeats, n, timeout_s);
    return sse_heartbeats(c);
}

bool sse_wait_finished(struct sse_client *c, double timeout_s)
{
    wait_until(c, have_end, 0, timeout_s);
    pthread_mutex_lock(&c->mu);
    bool done = c->finished;
    pthread_mutex_unlock(&c->mu);
    return done;
}

int sse_frames(struct sse_client *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->p.nframes;
    pthread_mutex_unlock(&c->mu);
    return n;
}

int sse_heartbeats(struct sse_client *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->p.heartbeats;
    pthread_mutex_unlock(&c->mu);
    return n;
}

const struct sse_frame *sse_frame_at(struct sse_client *c, int i)
{
    pthread_mutex_lock(&c->mu);
    /* The array never moves and a dispatched frame never changes. */
    const struct sse_frame *f = i >= 0 && i < c->p.nframes ? &c->p.frames[i] : NULL;
    pthread_mutex_unlock(&c->mu);
    return f;
}

char *sse_raw(struct sse_client *c)
{
    pthread_mutex_lock(&c->mu);
    char *copy = strdup(c->p.raw);
    pthread_mutex_unlock(&c->mu);
    if (!copy)
        abort();
    return copy;
}

void sse_close(struct sse_client *c)
{
    atomic_store(&c->stop, true);
    pthread_join(c->thread, NULL);
    sse_parser_free(&c->p);
    pthread_mutex_destroy(&c->mu);
}

/* ------------------------------------------------------- own instances */

static struct service_proc *at_exit[8];
static int at_exit_count;

static void kill_left_over(void)
{
    for (int i = 0; i < at_exit_count; i++)
        svc_kill(at_exit[i]); /* does nothing once svc_stop reaped it */
}

void live_kill_at_exit(struct service_proc *sp)
{
    for (int i = 0; i < at_exit_count; i++)
        if (at_exit[i] == sp)
            return;
    ck_assert_int_lt(at_exit_count, 8);
    if (at_exit_count == 0)
        atexit(kill_left_over);
    at_exit[at_exit_count++] = sp;
}

/* ------------------------------------------------------------------- SQL */

/* Runs `sql` with up to one text parameter; returns the first value as an integer. */
static long long sql_int_param(const char *sql, const char *param)
{
    PGconn *pg = PQconnectdb(test_database_conninfo());
    ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "test database: %s", PQerrorMessage(pg));
    const char *values[1] = {param};
    PGresult *res = PQexecParams(pg, sql, param ? 1 : 0, NULL, param ? values : NULL, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1, "%s: %s", sql,
                  PQresultErrorMessage(res));
    long long n = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(pg);
    return n;
}

long long live_sql_int(const char *sql)
{
    return sql_int_param(sql, NULL);
}

/* The channel the services on `schema` (no table prefix) LISTEN on, as the
 * LISTEN statement quotes it. */
static void channel_of(const char *schema, char *out, size_t size)
{
    snprintf(out, size, "\"streamq.%s.\"", schema);
}

int live_terminate_notifier(const char *schema)
{
    char channel[128];
    channel_of(schema, channel, sizeof channel);
    return (int)sql_int_param("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                              " WHERE application_name = 'streamq' AND datname = current_database()"
                              " AND query LIKE 'LISTEN%' AND position($1 in query) > 0",
                              channel);
}

int live_notifiers(const char *schema)
{
    char channel[128];
    channel_of(schema, channel, sizeof channel);
    return (int)sql_int_param("SELECT count(*) FROM pg_stat_activity"
                              " WHERE application_name = 'streamq' AND datname = current_database()"
                              " AND query LIKE 'LISTEN%' AND position($1 in query) > 0",
                              channel);
}
