/* The core of the hostile-request generator (see hostile.h; the parts share
 * gen.h): randomness, byte buffers, the route table, request assembly and the
 * schedule that gives request `index` its category. The categories live in
 * gen_line.c (the request line), gen_body.c (bodies) and gen_message.c (header
 * fields and framing), their string tables in gen_tables.c. */
#include "gen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- randomness: splitmix64, one state per request ---- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t gen_rnd(struct rng *r)
{
    return splitmix(&r->s);
}

size_t gen_below(struct rng *r, size_t n)
{
    return (size_t)(gen_rnd(r) % n);
}

bool gen_chance(struct rng *r, unsigned percent)
{
    return gen_rnd(r) % 100 < percent;
}

void hostile_uuid(uint64_t *state, char out[37])
{
    uint64_t hi = splitmix(state), lo = splitmix(state);
    snprintf(out, 37, "%08llx-%04llx-4%03llx-%04llx-%012llx", (unsigned long long)(hi >> 32),
             (unsigned long long)((hi >> 16) & 0xffff), (unsigned long long)(hi & 0xfff),
             (unsigned long long)(0x8000 | ((lo >> 48) & 0x3fff)), (unsigned long long)(lo & 0xffffffffffffull));
}

/* ---- byte buffers (requests hold NUL bytes: never treated as strings) ---- */

void gen_buf_put(struct buf *b, const void *data, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void gen_buf_str(struct buf *b, const char *s)
{
    gen_buf_put(b, s, strlen(s));
}

void gen_buf_byte(struct buf *b, char c)
{
    gen_buf_put(b, &c, 1);
}

void gen_buf_printf(struct buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    if ((size_t)n < sizeof small) {
        gen_buf_put(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        abort();
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    gen_buf_put(b, big, (size_t)n);
    free(big);
}

void gen_buf_repeat(struct buf *b, const char *s, size_t times)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < times; i++)
        gen_buf_put(b, s, n);
}

void gen_buf_insert(struct buf *b, size_t at, const void *data, size_t n)
{
    gen_buf_put(b, data, n); /* grows; then shift the tail right */
    memmove(b->p + at + n, b->p + at, b->n - n - at);
    memcpy(b->p + at, data, n);
}

void gen_buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- the routes ---- */

/* Every route of routes/table.c. */
const struct route gen_routes[] = {
    {"GET", "/healthz", B_NONE, ""},
    {"GET", "/readyz", B_NONE, ""},
    {"GET", "/version", B_NONE, ""},
    {"GET", "/openapi.yaml", B_NONE, ""},
    {"GET", "/streams", B_NONE, "prefix after limit"},
    {"GET", "/streams/{stream}", B_NONE, ""},
    {"DELETE", "/streams/{stream}", B_NONE, ""},
    {"PUT", "/streams/{stream}/retention", B_RETENTION, ""},
    {"POST", "/streams/{stream}/archive", B_NONE, ""},
    {"POST", "/streams/{stream}/unarchive", B_NONE, ""},
    {"POST", "/streams/{stream}/events", B_APPEND, ""},
    {"GET", "/streams/{stream}/events", B_NONE, "from limit direction type since until wait"},
    {"GET", "/streams/{stream}/events/{offset}", B_NONE, ""},
    {"GET", "/events", B_NONE, "from_position limit type stream_prefix wait"},
    {"GET", "/queues", B_NONE, "prefix after limit"},
    {"GET", "/queues/{queue}", B_NONE, ""},
    {"PUT", "/queues/{queue}", B_QUEUE_PUT, ""},
    {"DELETE", "/queues/{queue}", B_NONE, ""},
    {"POST", "/queues/{queue}/purge", B_NONE, ""},
    {"GET", "/queues/{queue}/messages", B_NONE, "state after limit"},
    {"POST", "/queues/{queue}/messages", B_ENQUEUE, ""},
    {"POST", "/queues/{queue}/dequeue", B_DEQUEUE, ""},
    {"POST", "/queues/{queue}/ack", B_ACK_BATCH, ""},
    {"POST", "/queues/{queue}/messages/{id}/ack", B_ACK, ""},
    {"POST", "/queues/{queue}/messages/{id}/nack", B_NACK, ""},
    {"POST", "/queues/{queue}/messages/{id}/visibility", B_VISIBILITY, ""},
    {"GET", "/queues/{queue}/dead-letters", B_NONE, "after limit"},
    {"POST", "/queues/{queue}/dead-letters/redrive", B_REDRIVE, ""},
    {"DELETE", "/queues/{queue}/dead-letters/{id}", B_NONE, ""},
};

/* Routes API.md describes that the table does not serve (yet): probed only
 * with bad names and broken bodies, and never with a valid name where the
 * route could hold the connection (subscribe) or call out (webhooks). */
const struct route gen_api_extra[] = {
    {"GET", "/streams/{stream}/consumers", B_NONE, ""},
    {"GET", "/streams/{stream}/consumers/{group}", B_NONE, ""},
    {"PUT", "/streams/{stream}/consumers/{group}", B_NONE, ""},
    {"DELETE", "/streams/{stream}/consumers/{group}", B_NONE, ""},
    {"GET", "/webhooks/{name}", B_NONE, ""},
    {"PUT", "/webhooks/{name}", B_NONE, ""},
    {"POST", "/webhooks/{name}/pause", B_NONE, ""},
    {"POST", "/transactions", B_NONE, ""},
};

_Static_assert(ARRAY_LEN(gen_routes) == GEN_ROUTES, "GEN_ROUTES in gen.h");
_Static_assert(ARRAY_LEN(gen_api_extra) == GEN_API_EXTRA, "GEN_API_EXTRA in gen.h");

bool gen_is_read(const char *method)
{
    return !strcmp(method, "GET") || !strcmp(method, "HEAD");
}

bool gen_has_name(const struct route *rt)
{
    return strchr(rt->pattern, '{') != NULL;
}

/* Expands `pattern`: the first placeholder becomes `name`, the second `second`
 * (both raw bytes, already encoded as they should go on the wire). */
void gen_expand(struct buf *b, const char *pattern, const char *name, size_t name_len, const char *second,
                size_t second_len)
{
    int seen = 0;
    for (const char *p = pattern; *p;) {
        if (*p == '{') {
            if (seen++ == 0)
                gen_buf_put(b, name, name_len);
            else
                gen_buf_put(b, second, second_len);
            p = strchr(p, '}') + 1;
        } else {
            gen_buf_byte(b, *p++);
        }
    }
}

/* ---- the generator's state for one request ---- */

void gen_describe(struct gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->out->what, sizeof g->out->what, fmt, ap);
    va_end(ap);
}

void gen_expect_status(struct gen *g, int status, const char *code)
{
    g->out->expect = EXPECT_STATUS;
    g->out->status = status;
    g->out->code = code;
}

const char *gen_fixture_name(const struct gen *g, const char *pattern, int group)
{
    return !strncmp(pattern, "/streams", 8) ? g->fx->stream[group] : g->fx->queue[group];
}

/* The second path parameter for a fixture: offset 1, the dead letter for the
 * dead-letter routes, else the message in flight. */
const char *gen_fixture_second(const struct gen *g, const char *pattern, int group)
{
    if (strstr(pattern, "{offset}"))
        return "1";
    if (strstr(pattern, "dead-letters/{id}"))
        return g->fx->message_id[group][1];
    return g->fx->message_id[group][0];
}

const char *gen_throwaway_second(struct gen *g, const char *pattern)
{
    if (strstr(pattern, "{offset}"))
        return "0";
    if (strstr(pattern, "{group}"))
        return "hostile-group";
    hostile_uuid(&g->r.s, g->uuid);
    return g->uuid;
}

/* Path of `rt` with a fixture's names (`group` >= 0) or throw-away ones. */
void gen_route_path(struct gen *g, struct buf *b, const struct route *rt, int group)
{
    if (group >= 0) {
        const char *name = gen_fixture_name(g, rt->pattern, group), *second = gen_fixture_second(g, rt->pattern, group);
        gen_expand(b, rt->pattern, name, strlen(name), second, strlen(second));
    } else {
        const char *second = gen_throwaway_second(g, rt->pattern);
        gen_expand(b, rt->pattern, g->throwaway, strlen(g->throwaway), second, strlen(second));
    }
}

/* ---- request assembly ---- */

void gen_req_free(struct req *q)
{
    gen_buf_free(&q->target);
    gen_buf_free(&q->headers);
    gen_buf_free(&q->body);
}

void gen_emit(struct buf *out, const struct req *q)
{
    gen_buf_str(out, q->method);
    gen_buf_byte(out, ' ');
    gen_buf_put(out, q->target.p, q->target.n);
    gen_buf_byte(out, ' ');
    gen_buf_str(out, q->version ? q->version : "HTTP/1.1");
    gen_buf_str(out, "\r\n");
    if (!q->no_host)
        gen_buf_str(out, "Host: 127.0.0.1\r\n");
    if (q->with_body && !q->no_type)
        gen_buf_str(out, "Content-Type: application/json\r\n");
    if (q->with_body && !q->no_length)
        gen_buf_printf(out, "Content-Length: %zu\r\n", q->body.n);
    gen_buf_put(out, q->headers.p, q->headers.n);
    gen_buf_str(out, "\r\n");
    if (q->with_body)
        gen_buf_put(out, q->body.p, q->body.n);
}

/* A request for `rt` on a fixture (group >= 0) or throw-away names, with a
 * valid body when the route takes one. */
void gen_plain_request(struct gen *g, struct req *q, const struct route *rt, int group)
{
    q->method = rt->method;
    gen_route_path(g, &q->target, rt, group);
    if (rt->body != B_NONE) {
        q->with_body = true;
        gen_body_valid(g, &q->body, rt->body, group);
    }
}

void gen_finish(struct gen *g, struct req *q)
{
    gen_emit(&g->req, q);
    g->out->head = !strcmp(q->method, "HEAD");
    gen_req_free(q);
}

/* The i-th (cyclically) route that takes a JSON body. */
const struct route *gen_body_route(size_t i)
{
    size_t n = 0;
    for (size_t r = 0; r < GEN_ROUTES; r++)
        n += gen_routes[r].body != B_NONE;
    i %= n;
    for (size_t r = 0; r < GEN_ROUTES; r++)
        if (gen_routes[r].body != B_NONE && i-- == 0)
            return &gen_routes[r];
    return &gen_routes[0];
}

const struct route *gen_find_route(const char *method, const char *pattern)
{
    for (size_t r = 0; r < GEN_ROUTES; r++)
        if (!strcmp(gen_routes[r].method, method) && !strcmp(gen_routes[r].pattern, pattern))
            return &gen_routes[r];
    abort();
}

/* ---- the schedule ---- */

enum category {
    C_ROUTE_METHOD,
    C_BAD_NAME,
    C_BAD_QUERY,
    C_WRONG_TYPES,
    C_BROKEN_JSON,
    C_DEEP_JSON,
    C_HUGE_BODY,
    C_HEADERS,
    C_FRAMING,
    C_TARGET_BYTES,
    C_NO_HOST,
    C_DUP_HOST,
    C_REQUEST_LINE,
    C_PIPELINE,
    C_UNFINISHED,
    C_COUNT
};

static const struct {
    const char *name;
    unsigned weight; /* slots out of the 32 of each round */
    void (*fn)(struct gen *);
} categories[C_COUNT] = {
    [C_ROUTE_METHOD] = {"route-method", 3, gen_line_route_method},
    [C_BAD_NAME] = {"bad-name", 3, gen_line_bad_name},
    [C_BAD_QUERY] = {"bad-query", 3, gen_line_bad_query},
    [C_WRONG_TYPES] = {"wrong-types", 3, gen_body_wrong_types},
    [C_BROKEN_JSON] = {"broken-json", 3, gen_body_broken_json},
    [C_DEEP_JSON] = {"deep-json", 1, gen_body_deep_json},
    [C_HUGE_BODY] = {"huge-body", 1, gen_body_huge},
    [C_HEADERS] = {"headers", 3, gen_message_headers},
    [C_FRAMING] = {"framing", 2, gen_message_framing},
    [C_TARGET_BYTES] = {"target-bytes", 3, gen_line_target_bytes},
    [C_NO_HOST] = {"no-host", 1, gen_message_no_host},
    [C_DUP_HOST] = {"dup-host", 1, gen_message_dup_host},
    [C_REQUEST_LINE] = {"request-line", 2, gen_line_broken},
    [C_PIPELINE] = {"pipeline", 2, gen_message_pipeline},
    [C_UNFINISHED] = {"unfinished", 1, gen_message_unfinished},
};

#define SLOW_EVERY 613 /* one slow sender in this many requests, at most SLOW_MAX */
#define SLOW_MAX 10

void fixture_names_init(struct fixture_names *fx, uint64_t seed)
{
    static const char *const groups[FX_GROUPS] = {"main",    "target", "encoded", "nohost",
                                                  "duphost", "frame",  "body",    "unfinished"};
    memset(fx, 0, sizeof *fx);
    for (int g = 0; g < FX_GROUPS; g++) {
        uint64_t state = seed ^ (0xF1F7u + (uint64_t)g * 0x100000001B3ull);
        snprintf(fx->group[g], sizeof fx->group[g], "%s", groups[g]);
        snprintf(fx->stream[g], sizeof fx->stream[g], "fx-%s-%016llx", groups[g], (unsigned long long)seed);
        snprintf(fx->queue[g], sizeof fx->queue[g], "fq-%s-%016llx", groups[g], (unsigned long long)seed);
        for (int i = 0; i < FIXTURE_EVENTS; i++)
            hostile_uuid(&state, fx->event_id[g][i]);
        for (int i = 0; i < FIXTURE_MESSAGES; i++)
            hostile_uuid(&state, fx->message_id[g][i]);
    }
}

void hostile_generate(uint64_t seed, uint64_t index, const struct fixture_names *fx, struct hreq *out)
{
    struct gen g = {.seed = seed, .index = index, .fx = fx, .out = out};
    g.r.s = seed ^ (index * 0xD1B54A32D192ED03ull);
    gen_rnd(&g.r);
    snprintf(g.throwaway, sizeof g.throwaway, "hx-%llu-%08llx", (unsigned long long)index,
             (unsigned long long)(seed & 0xffffffffu));

    unsigned total = 0;
    for (int c = 0; c < C_COUNT; c++)
        total += categories[c].weight;
    unsigned slot = (unsigned)(index % total), start = 0;
    int cat = 0;
    while (slot >= start + categories[cat].weight)
        start += categories[cat++].weight;
    g.k = index / total * categories[cat].weight + (slot - start);

    bool slow = index % SLOW_EVERY == SLOW_EVERY / 2 && index / SLOW_EVERY < SLOW_MAX;
    if (slow) { /* a well-formed kind, dribbled */
        static const enum category kinds[] = {C_ROUTE_METHOD, C_BAD_NAME, C_WRONG_TYPES, C_BAD_QUERY, C_TARGET_BYTES};
        cat = kinds[(index / SLOW_EVERY) % ARRAY_LEN(kinds)];
    }
    out->category = categories[cat].name;
    out->requests = 1;
    categories[cat].fn(&g);
    out->slow = slow;
    out->data = g.req.p;
    out->len = g.req.n;
    out->cap = g.req.cap;
}

void hreq_free(struct hreq *r)
{
    free(r->data);
    memset(r, 0, sizeof *r);
}
