/* The hostile-request generator (see hostile.h): fifteen categories of
 * malformed HTTP, each request built from a splitmix64 state derived from
 * (seed, index) alone. Requests that could legitimately change state aim at
 * throw-away names (hx-<index>-<seed>); fixtures are aimed at only with
 * requests that the contract or RFC 9110/9112/8259 says must be refused. */
#include "hostile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- randomness: splitmix64, one state per request ---- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

struct rng {
    uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
    return splitmix(&r->s);
}

static size_t below(struct rng *r, size_t n)
{
    return (size_t)(rnd(r) % n);
}

static bool chance(struct rng *r, unsigned percent)
{
    return rnd(r) % 100 < percent;
}

#define PICK(r, a) ((a)[below((r), ARRAY_LEN(a))])

void hostile_uuid(uint64_t *state, char out[37])
{
    uint64_t hi = splitmix(state), lo = splitmix(state);
    snprintf(out, 37, "%08llx-%04llx-4%03llx-%04llx-%012llx", (unsigned long long)(hi >> 32),
             (unsigned long long)((hi >> 16) & 0xffff), (unsigned long long)(hi & 0xfff),
             (unsigned long long)(0x8000 | ((lo >> 48) & 0x3fff)), (unsigned long long)(lo & 0xffffffffffffull));
}

/* ---- byte buffers (requests hold NUL bytes: never treated as strings) ---- */

struct buf {
    char *p;
    size_t n, cap;
};

static void buf_put(struct buf *b, const void *data, size_t n)
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

static void buf_str(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

static void buf_byte(struct buf *b, char c)
{
    buf_put(b, &c, 1);
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    if ((size_t)n < sizeof small) {
        buf_put(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        abort();
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf_put(b, big, (size_t)n);
    free(big);
}

static void buf_repeat(struct buf *b, const char *s, size_t times)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < times; i++)
        buf_put(b, s, n);
}

static void buf_insert(struct buf *b, size_t at, const void *data, size_t n)
{
    buf_put(b, data, n); /* grows; then shift the tail right */
    memmove(b->p + at + n, b->p + at, b->n - n - at);
    memcpy(b->p + at, data, n);
}

static void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- the routes ---- */

enum body_kind {
    B_NONE,
    B_APPEND,
    B_RETENTION,
    B_QUEUE_PUT,
    B_ENQUEUE,
    B_DEQUEUE,
    B_ACK_BATCH,
    B_ACK,
    B_NACK,
    B_VISIBILITY,
    B_REDRIVE,
};

struct route {
    const char *method, *pattern;
    enum body_kind body;
    const char *params; /* query parameters, space-separated */
};

/* Every route of routes/table.c. */
static const struct route routes[] = {
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
static const struct route api_extra[] = {
    {"GET", "/streams/{stream}/consumers", B_NONE, ""},
    {"GET", "/streams/{stream}/consumers/{group}", B_NONE, ""},
    {"PUT", "/streams/{stream}/consumers/{group}", B_NONE, ""},
    {"DELETE", "/streams/{stream}/consumers/{group}", B_NONE, ""},
    {"GET", "/webhooks/{name}", B_NONE, ""},
    {"PUT", "/webhooks/{name}", B_NONE, ""},
    {"POST", "/webhooks/{name}/pause", B_NONE, ""},
    {"POST", "/transactions", B_NONE, ""},
};

static bool is_read(const char *method)
{
    return !strcmp(method, "GET") || !strcmp(method, "HEAD");
}

static bool has_name(const struct route *rt)
{
    return strchr(rt->pattern, '{') != NULL;
}

/* A name parameter followed by more segments: an empty name there is
 * unambiguous and must be 400 invalid_name. */
static bool name_then_literal(const struct route *rt)
{
    const char *close = strchr(rt->pattern, '}');
    return close && close[1] == '/';
}

static bool second_is_offset(const struct route *rt)
{
    return strstr(rt->pattern, "{offset}") != NULL;
}

static bool has_second(const struct route *rt)
{
    const char *open = strchr(rt->pattern, '{');
    return open && strchr(open + 1, '{');
}

/* Expands `pattern`: the first placeholder becomes `name`, the second `second`
 * (both raw bytes, already encoded as they should go on the wire). */
static void expand(struct buf *b, const char *pattern, const char *name, size_t name_len, const char *second,
                   size_t second_len)
{
    int seen = 0;
    for (const char *p = pattern; *p;) {
        if (*p == '{') {
            if (seen++ == 0)
                buf_put(b, name, name_len);
            else
                buf_put(b, second, second_len);
            p = strchr(p, '}') + 1;
        } else {
            buf_byte(b, *p++);
        }
    }
}

/* ---- the generator's state for one request ---- */

struct gen {
    struct rng r;
    uint64_t seed, index, k; /* k: requests of this category before this one */
    const struct fixture_names *fx;
    struct hreq *out;
    struct buf req;     /* the bytes */
    char throwaway[80]; /* a valid name no fixture has */
    char uuid[37];      /* a fresh random UUID */
};

static void describe(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void describe(struct gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->out->what, sizeof g->out->what, fmt, ap);
    va_end(ap);
}

static void expect_status(struct gen *g, int status, const char *code)
{
    g->out->expect = EXPECT_STATUS;
    g->out->status = status;
    g->out->code = code;
}

static const char *fixture_name(const struct gen *g, const char *pattern, int group)
{
    return !strncmp(pattern, "/streams", 8) ? g->fx->stream[group] : g->fx->queue[group];
}

/* The second path parameter for a fixture: offset 1, the dead letter for the
 * dead-letter routes, else the message in flight. */
static const char *fixture_second(const struct gen *g, const char *pattern, int group)
{
    if (strstr(pattern, "{offset}"))
        return "1";
    if (strstr(pattern, "dead-letters/{id}"))
        return g->fx->message_id[group][1];
    return g->fx->message_id[group][0];
}

static const char *throwaway_second(struct gen *g, const char *pattern)
{
    if (strstr(pattern, "{offset}"))
        return "0";
    if (strstr(pattern, "{group}"))
        return "hostile-group";
    hostile_uuid(&g->r.s, g->uuid);
    return g->uuid;
}

/* Path of `rt` with a fixture's names (`group` >= 0) or throw-away ones. */
static void route_path(struct gen *g, struct buf *b, const struct route *rt, int group)
{
    if (group >= 0) {
        const char *name = fixture_name(g, rt->pattern, group), *second = fixture_second(g, rt->pattern, group);
        expand(b, rt->pattern, name, strlen(name), second, strlen(second));
    } else {
        const char *second = throwaway_second(g, rt->pattern);
        expand(b, rt->pattern, g->throwaway, strlen(g->throwaway), second, strlen(second));
    }
}

/* ---- request assembly ---- */

struct req {
    const char *method;
    struct buf target;
    const char *version; /* NULL: HTTP/1.1 */
    struct buf headers;  /* extra lines, each ending in CRLF */
    struct buf body;
    bool with_body; /* send the body with a Content-Length */
    bool no_host, no_length, no_type;
};

static void req_free(struct req *q)
{
    buf_free(&q->target);
    buf_free(&q->headers);
    buf_free(&q->body);
}

static void emit(struct buf *out, const struct req *q)
{
    buf_str(out, q->method);
    buf_byte(out, ' ');
    buf_put(out, q->target.p, q->target.n);
    buf_byte(out, ' ');
    buf_str(out, q->version ? q->version : "HTTP/1.1");
    buf_str(out, "\r\n");
    if (!q->no_host)
        buf_str(out, "Host: 127.0.0.1\r\n");
    if (q->with_body && !q->no_type)
        buf_str(out, "Content-Type: application/json\r\n");
    if (q->with_body && !q->no_length)
        buf_printf(out, "Content-Length: %zu\r\n", q->body.n);
    buf_put(out, q->headers.p, q->headers.n);
    buf_str(out, "\r\n");
    if (q->with_body)
        buf_put(out, q->body.p, q->body.n);
}

/* ---- bodies ---- */

enum slot_kind { S_INT, S_STR, S_BOOL, S_META, S_UUID, S_ITEMS, S_IDS, S_VERSION, S_ANY };

struct slot {
    const char *name;
    enum slot_kind kind;
    bool in_item; /* a member of the first element of the S_ITEMS array */
    const char *valid;
};

struct shape {
    enum body_kind kind;
    struct slot slots[7];
};

static const struct shape shapes[] = {
    {B_APPEND,
     {{"expected_version", S_VERSION, false, "\"any\""},
      {"events", S_ITEMS, false, NULL},
      {"id", S_UUID, true, NULL},
      {"type", S_STR, true, "\"Hostile\""},
      {"data", S_ANY, true, "{\"k\":1}"},
      {"metadata", S_META, true, "{\"m\":\"x\"}"}}},
    {B_RETENTION, {{"max_age_seconds", S_INT, false, "86400"}, {"max_count", S_INT, false, "1000"}}},
    {B_QUEUE_PUT,
     {{"visibility_timeout", S_INT, false, "30"},
      {"max_delivery_attempts", S_INT, false, "5"},
      {"retention_seconds", S_INT, false, "3600"},
      {"max_depth", S_INT, false, "1000"}}},
    {B_ENQUEUE,
     {{"messages", S_ITEMS, false, NULL},
      {"id", S_UUID, true, NULL},
      {"type", S_STR, true, "\"Hostile\""},
      {"data", S_ANY, true, "{}"},
      {"metadata", S_META, true, "{}"},
      {"delay_seconds", S_INT, true, "0"}}},
    {B_DEQUEUE,
     {{"max_messages", S_INT, false, "1"},
      {"visibility_timeout", S_INT, false, "3600"},
      {"wait_seconds", S_INT, false, "0"},
      {"consumer", S_STR, false, "\"hostile\""}}},
    {B_ACK_BATCH, {{"acks", S_ITEMS, false, NULL}, {"id", S_UUID, true, NULL}, {"receipt", S_STR, true, "\"bogus\""}}},
    {B_ACK, {{"receipt", S_STR, false, "\"bogus\""}}},
    {B_NACK,
     {{"receipt", S_STR, false, "\"bogus\""},
      {"requeue", S_BOOL, false, "false"},
      {"delay_seconds", S_INT, false, "0"},
      {"reason", S_STR, false, "\"hostile\""}}},
    {B_VISIBILITY, {{"receipt", S_STR, false, "\"bogus\""}, {"visibility_timeout", S_INT, false, "60"}}},
    {B_REDRIVE, {{"ids", S_IDS, false, NULL}}},
};

static const struct shape *shape_of(enum body_kind kind)
{
    for (size_t i = 0; i < ARRAY_LEN(shapes); i++)
        if (shapes[i].kind == kind)
            return &shapes[i];
    return NULL;
}

static int slot_count(const struct shape *s)
{
    int n = 0;
    while (n < (int)ARRAY_LEN(s->slots) && s->slots[n].name)
        n++;
    return n;
}

/* Values of the wrong JSON type for each kind of member: the contract says 400. */
static const char *const wrong_int[] = {"\"1\"", "true", "false", "[]",        "{}",
                                        "1.5",   "\"\"", "[1]",   "{\"v\":1}", "\"0x10\""};
static const char *const wrong_str[] = {"1", "true", "[]", "{}", "[\"x\"]", "0", "{\"s\":\"x\"}", "false"};
static const char *const wrong_bool[] = {"\"false\"", "\"true\"", "0", "1", "[]", "{}", "\"no\""};
static const char *const wrong_meta[] = {"1", "\"x\"", "[]", "true", "[{}]"};
static const char *const wrong_uuid[] = {"1",
                                         "\"not-a-uuid\"",
                                         "[]",
                                         "{}",
                                         "true",
                                         "\"123e4567-e89b-12d3-a456-42661417400\"",
                                         "\"123e4567-e89b-12d3-a456-4266141740000\"",
                                         "\"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz\""};
static const char *const wrong_items[] = {"{}", "\"x\"", "1", "true", "[1]", "[null]", "[\"x\"]", "[[]]"};
static const char *const wrong_ids[] = {"\"x\"", "1", "{}", "true", "[1]", "[\"not-a-uuid\"]", "[null]", "[[]]"};
static const char *const wrong_version[] = {"true", "[]", "{}", "1.5", "\"bogus\"", "\"\"", "\"ANY\"", "[\"any\"]"};

static const char *wrong_value(struct rng *r, enum slot_kind kind)
{
    switch (kind) {
    case S_INT:
        return PICK(r, wrong_int);
    case S_STR:
        return PICK(r, wrong_str);
    case S_BOOL:
        return PICK(r, wrong_bool);
    case S_META:
        return PICK(r, wrong_meta);
    case S_UUID:
        return PICK(r, wrong_uuid);
    case S_ITEMS:
        return PICK(r, wrong_items);
    case S_IDS:
        return PICK(r, wrong_ids);
    case S_VERSION:
        return PICK(r, wrong_version);
    case S_ANY:
        break;
    }
    return "null";
}

/* Renders the body of `kind`; slot `mutate` (-1: none) gets `value` instead.
 * With a fixture `group`, ids name its messages: the batch ack acks the one in
 * flight and the redrive redrives its dead letter (if the request ever ran). */
static void render_body(struct gen *g, struct buf *b, enum body_kind kind, int mutate, const char *value, int group)
{
    const struct shape *s = shape_of(kind);
    int n = slot_count(s);
    bool first = true;
    buf_byte(b, '{');
    for (int i = 0; i < n; i++) {
        const struct slot *sl = &s->slots[i];
        if (sl->in_item)
            continue;
        if (!first)
            buf_byte(b, ',');
        first = false;
        buf_printf(b, "\"%s\":", sl->name);
        if (i == mutate) {
            buf_str(b, value);
            continue;
        }
        switch (sl->kind) {
        case S_ITEMS: {
            buf_str(b, "[{");
            bool item_first = true;
            for (int j = 0; j < n; j++) {
                const struct slot *it = &s->slots[j];
                if (!it->in_item)
                    continue;
                if (!item_first)
                    buf_byte(b, ',');
                item_first = false;
                buf_printf(b, "\"%s\":", it->name);
                if (j == mutate) {
                    buf_str(b, value);
                } else if (it->kind == S_UUID) {
                    if (group >= 0 && kind == B_ACK_BATCH) {
                        buf_printf(b, "\"%s\"", g->fx->message_id[group][0]);
                    } else {
                        hostile_uuid(&g->r.s, g->uuid);
                        buf_printf(b, "\"%s\"", g->uuid);
                    }
                } else {
                    buf_str(b, it->valid);
                }
            }
            buf_str(b, "}]");
            break;
        }
        case S_IDS:
            if (group >= 0) {
                buf_printf(b, "[\"%s\"]", g->fx->message_id[group][1]);
            } else {
                hostile_uuid(&g->r.s, g->uuid);
                buf_printf(b, "[\"%s\"]", g->uuid);
            }
            break;
        default:
            buf_str(b, sl->valid);
            break;
        }
    }
    buf_byte(b, '}');
}

static void valid_body(struct gen *g, struct buf *b, enum body_kind kind, int group)
{
    render_body(g, b, kind, -1, NULL, group);
}

/* A request for `rt` on a fixture (group >= 0) or throw-away names, with a
 * valid body when the route takes one. */
static void plain_request(struct gen *g, struct req *q, const struct route *rt, int group)
{
    q->method = rt->method;
    route_path(g, &q->target, rt, group);
    if (rt->body != B_NONE) {
        q->with_body = true;
        valid_body(g, &q->body, rt->body, group);
    }
}

static void finish(struct gen *g, struct req *q)
{
    emit(&g->req, q);
    g->out->head = !strcmp(q->method, "HEAD");
    req_free(q);
}

/* The i-th (cyclically) route that takes a JSON body. */
static const struct route *body_route(size_t i)
{
    size_t n = 0;
    for (size_t r = 0; r < ARRAY_LEN(routes); r++)
        n += routes[r].body != B_NONE;
    i %= n;
    for (size_t r = 0; r < ARRAY_LEN(routes); r++)
        if (routes[r].body != B_NONE && i-- == 0)
            return &routes[r];
    return &routes[0];
}

static size_t named_count(void)
{
    size_t n = 0;
    for (size_t r = 0; r < ARRAY_LEN(routes); r++)
        n += has_name(&routes[r]);
    return n;
}

/* The i-th (cyclically) route with a name in its path. */
static const struct route *named_route(size_t i)
{
    i %= named_count();
    for (size_t r = 0; r < ARRAY_LEN(routes); r++)
        if (has_name(&routes[r]) && i-- == 0)
            return &routes[r];
    return &routes[0];
}

static const struct route *find_route(const char *method, const char *pattern)
{
    for (size_t r = 0; r < ARRAY_LEN(routes); r++)
        if (!strcmp(routes[r].method, method) && !strcmp(routes[r].pattern, pattern))
            return &routes[r];
    abort();
}

/* ---- category: every route with every method ---- */

static const char *const methods[] = {"GET",      "HEAD",     "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
                                      "PROPFIND", "M-SEARCH", "FOO",  "get", "delete", "Post",  "CONNECT"};

static void gen_route_method(struct gen *g)
{
    const struct route *rt = &routes[g->k % ARRAY_LEN(routes)];
    const char *method = methods[(g->k / ARRAY_LEN(routes)) % ARRAY_LEN(methods)];
    struct req q = {.method = method};
    /* POST, PUT and DELETE could be a route somewhere: throw-away names only. */
    bool risky = !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "DELETE");
    int group = !risky && chance(&g->r, 50) ? FX_MAIN : -1;
    route_path(g, &q.target, rt, group);
    if (!strcmp(method, rt->method) && rt->body != B_NONE) {
        q.with_body = true;
        valid_body(g, &q.body, rt->body, group);
    } else if (!is_read(method) && chance(&g->r, 50)) {
        q.with_body = true;
        if (rt->body != B_NONE && group < 0)
            valid_body(g, &q.body, rt->body, -1);
        else
            buf_str(&q.body, "{\"hostile\":true}");
    }
    describe(g, "%s %s (%s names)", method, rt->pattern, group >= 0 ? "fixture" : "throw-away");
    finish(g, &q);
}

/* ---- category: bad names and ids in the path ---- */

struct bad_value {
    const char *text; /* as it goes on the wire */
    bool refused;     /* after percent-decoding it is not a valid name: 400 */
};

static const struct bad_value bad_names[] = {
    {"", true},
    {"..", false}, /* dot-segments: a server may normalise them away */
    {".", false},
    {"%2E%2E", false}, /* the same, once unreserved characters are normalised */
    {"%00", true},
    {"a%00", true},
    {"a%00b", true},
    {"%2F", true},
    {"a%2Fb", true},
    {"a%2f..%2fb", true},
    {"x'%3B%20DROP%20TABLE%20events%3B--", true},
    {"x%27%20OR%20%271%27%3D%271", true},
    {"%27%3Bselect%20pg_sleep(5)%3B--", true},
    {"%FF", true},
    {"a%C0%AF", true},
    {"%ED%A0%80", true},
    {"a%E2%82", true},
    {"%C3%A9", true},
    {"a%20b", true},
    {"a%09b", true},
    {"%G1", true},
    {"%", true},
    {"a%", true},
    {"a%2", true},
    {"a*b", true},
    {"a%3Fb", true},
    {"a%23b", true},
    {"~x", true},
    {"a+b", true},
    {"%u0041", true},
    {"a,b", true},
    {"a%5Cb", true},
};

static const char *const bad_offsets[] = {"-1",   "abc", "1.5", "99999999999999999999", "%00", "0x1", "+1",
                                          "%201", "1e3", "%FF", "9223372036854775808",  "1%00"};
static const char *const bad_ids[] = {
    "not-a-uuid", "%00",     "123e4567-e89b-12d3-a456-42661417400", "123e4567-e89b-12d3-a456-4266141740000",
    "%FF",        "x'%3B--", "123e4567e89b12d3a456426614174000%00", "{}",
    "%2F",        "1"};

static void gen_bad_name(struct gen *g)
{
    struct req q = {0};
    bool first_round = g->k < named_count();
    bool extra = !first_round && g->k % 5 == 4;
    const struct route *rt = extra ? &api_extra[(g->k / 5) % ARRAY_LEN(api_extra)] : named_route(g->k);
    q.method = rt->method;

    unsigned variant = first_round ? 9 : (unsigned)below(&g->r, 10);
    if (!extra && variant == 0) {
        /* A fixture's name with a percent-encoded NUL or slash after it: refused. */
        static const char *const tails[] = {"%00", "%00zzz", "%2F", "%2Fx", "%2F..", "%00%2F"};
        const char *tail = PICK(&g->r, tails);
        const char *name = fixture_name(g, rt->pattern, FX_ENCODED);
        const char *second = fixture_second(g, rt->pattern, FX_ENCODED);
        struct buf nb = {0};
        buf_str(&nb, name);
        buf_str(&nb, tail);
        expand(&q.target, rt->pattern, nb.p, nb.n, second, strlen(second));
        buf_free(&nb);
        if (rt->body != B_NONE) {
            q.with_body = true;
            valid_body(g, &q.body, rt->body, FX_ENCODED);
        }
        expect_status(g, 400, "invalid_name");
        describe(g, "%s %s: fixture name + %s", rt->method, rt->pattern, tail);
        finish(g, &q);
        return;
    }
    if (has_second(rt) && !extra && variant <= 3) {
        /* A bad id or offset after a valid throw-away name. */
        const char *bad = second_is_offset(rt) ? PICK(&g->r, bad_offsets) : PICK(&g->r, bad_ids);
        expand(&q.target, rt->pattern, g->throwaway, strlen(g->throwaway), bad, strlen(bad));
        if (rt->body != B_NONE) {
            q.with_body = true;
            valid_body(g, &q.body, rt->body, -1);
        }
        expect_status(g, 400, NULL);
        describe(g, "%s %s: bad %s '%s'", rt->method, rt->pattern, second_is_offset(rt) ? "offset" : "id", bad);
        finish(g, &q);
        return;
    }
    struct bad_value bad;
    struct buf long_name = {0};
    if (first_round) { /* an empty name on every route (POST /streams//events...) */
        bad = bad_names[0];
    } else if (variant == 4) {
        buf_repeat(&long_name, "a", 201);
        bad = (struct bad_value){long_name.p, true};
    } else {
        bad = PICK(&g->r, bad_names);
    }
    const char *second = throwaway_second(g, rt->pattern);
    expand(&q.target, rt->pattern, bad.text, strlen(bad.text), second, strlen(second));
    if (rt->body != B_NONE) {
        q.with_body = true;
        valid_body(g, &q.body, rt->body, -1);
    } else if (extra && !is_read(rt->method)) {
        q.with_body = true;
        buf_str(&q.body, "{\"offset\":0,\"url\":\"http://127.0.0.1:9/\",\"operations\":[]}");
    }
    bool empty = bad.text[0] == '\0';
    if (!extra && bad.refused && (!empty || name_then_literal(rt)))
        expect_status(g, 400, "invalid_name");
    describe(g, "%s %s: name '%.60s'%s", rt->method, rt->pattern, bad.text, strlen(bad.text) > 60 ? "..." : "");
    buf_free(&long_name);
    finish(g, &q);
}

/* ---- category: bad query values ---- */

struct bad_query {
    const char *text;
    bool refused; /* invalid UTF-8 or NUL once decoded: 400 whatever the parameter */
};

static const struct bad_query bad_queries[] = {
    {"%FF", true},
    {"a%FFb", true},
    {"%C0%AF", true},
    {"%ED%A0%80", true},
    {"%F8%88%80%80%80", true},
    {"%E2%82", true},
    {"%80", true},
    {"%00", true},
    {"a%00b", true},
    {"1%00", true},
    {"%", false},
    {"%G0", false},
    {"%4", false},
    {"abc", false},
    {"1.5", false},
    {"-1", false},
    {"-9223372036854775809", false},
    {"99999999999999999999999", false},
    {"9223372036854775807", false},
    {"9223372036854775808", false},
    {"", false},
    {"1e3", false},
    {"+1", false},
    {"%2B1", false},
    {"%201", false},
    {"0x10", false},
    {"NaN", false},
    {"Infinity", false},
    {"'%3B%20DROP%20TABLE%20events%3B--", false},
    {"%27%20OR%201%3D1--", false},
    {"a,b,,c", false},
    {",", false},
    {"%22", false},
    {"null", false},
    {"[]", false},
    {"2020-13-45T99:99:99Z", false},
    {"9999-12-31T23:59:60Z", false},
    {"0000-00-00T00:00:00Z", false},
    {"2026-11-24T10:00:00.1234567890123Z", false},
    {"2026-11-24T10:00:00%2B25:00", false},
    {"-292277022657-01-27T08:29:52Z", false},
    {"%C3%A9", false},
};

static void gen_bad_query(struct gen *g)
{
    static const char *const query_routes[] = {"/streams",
                                               "/streams/{stream}/events",
                                               "/events",
                                               "/queues",
                                               "/queues/{queue}/messages",
                                               "/queues/{queue}/dead-letters",
                                               "/streams/{stream}/events/{offset}",
                                               "/streams/{stream}",
                                               "/healthz"};
    /* The first requests send %FF to each text parameter in turn: the reported defect. */
    static const struct {
        const char *pattern, *param;
    } text_params[] = {{"/events", "type"},
                       {"/events", "stream_prefix"},
                       {"/streams", "prefix"},
                       {"/streams", "after"},
                       {"/queues", "prefix"},
                       {"/queues", "after"},
                       {"/streams/{stream}/events", "type"},
                       {"/streams/{stream}/events", "direction"},
                       {"/streams/{stream}/events", "since"},
                       {"/streams/{stream}/events", "until"},
                       {"/queues/{queue}/messages", "state"},
                       {"/queues/{queue}/messages", "after"},
                       {"/queues/{queue}/dead-letters", "after"}};
    if (g->k < ARRAY_LEN(text_params)) {
        struct req q = {.method = "GET"};
        route_path(g, &q.target, find_route("GET", text_params[g->k].pattern), FX_MAIN);
        buf_printf(&q.target, "?%s=%%FF", text_params[g->k].param);
        expect_status(g, 400, NULL);
        describe(g, "GET %s ?%s=%%FF", text_params[g->k].pattern, text_params[g->k].param);
        finish(g, &q);
        return;
    }
    const char *pattern = query_routes[g->k % ARRAY_LEN(query_routes)];
    const struct route *rt = find_route("GET", pattern);
    struct req q = {.method = chance(&g->r, 10) ? "HEAD" : "GET"};
    route_path(g, &q.target, rt, chance(&g->r, 50) ? FX_MAIN : -1);

    /* The parameter: one the route reads, or one it does not know. */
    char params[128], *names[8];
    int n = 0;
    snprintf(params, sizeof params, "%s", rt->params);
    for (char *save = NULL, *t = strtok_r(params, " ", &save); t && n < 8; t = strtok_r(NULL, " ", &save))
        names[n++] = t;
    const char *param = n > 0 && chance(&g->r, 85) ? names[below(&g->r, (size_t)n)] : "hostile";
    struct bad_query bad = PICK(&g->r, bad_queries);
    struct buf long_value = {0};
    if (chance(&g->r, 4)) {
        buf_repeat(&long_value, "a", 5000);
        bad = (struct bad_query){long_value.p, false};
    }
    bool is_wait = !strcmp(param, "wait");
    static const char *const bad_waits[] = {"-1", "61", "abc", "1e9", "99999999999", "1.5"};
    if (is_wait && !bad.refused) /* never a valid wait: it would hold the request */
        bad = (struct bad_query){PICK(&g->r, bad_waits), false};

    /* A repeated parameter may be read first or last: only the single ones
     * must be refused. */
    unsigned shape = (unsigned)below(&g->r, 6);
    switch (shape) {
    case 0: /* after an unknown parameter */
        buf_printf(&q.target, "?x=1&%s=%s", param, bad.text);
        break;
    case 1: /* twice, good then bad */
        buf_printf(&q.target, "?%s=1&%s=%s", param, param, bad.text);
        bad.refused = false;
        break;
    case 2: /* no '=' at all, and an empty name */
        buf_printf(&q.target, "?%s&=%s&&&", param, bad.text);
        bad.refused = false;
        break;
    default:
        buf_printf(&q.target, "?%s=%s", param, bad.text);
        break;
    }
    /* Only parameters the route reads must refuse what cannot be text (and
     * not wait, whose long poll the service does not implement yet). */
    bool read_by_route = strcmp(param, "hostile") != 0 && !is_wait;
    if (bad.refused && read_by_route)
        expect_status(g, 400, NULL);
    describe(g, "%s %s ?%s=%.60s (shape %u)", q.method, pattern, param, bad.text, shape);
    buf_free(&long_value);
    finish(g, &q);
}

/* ---- category: wrong JSON types for each body member ---- */

static void gen_wrong_types(struct gen *g)
{
    const struct route *rt = body_route(g->k);
    const struct shape *s = shape_of(rt->body);
    int group = chance(&g->r, 50) ? FX_BODY : -1;
    struct req q = {.method = rt->method, .with_body = true};
    route_path(g, &q.target, rt, group);
    if (chance(&g->r, 12)) {
        static const char *const not_objects[] = {"[]", "\"x\"", "1", "true", "[{}]", "\"{}\""};
        const char *body = PICK(&g->r, not_objects);
        buf_str(&q.body, body);
        describe(g, "%s %s: body %s", rt->method, rt->pattern, body);
    } else {
        int mutate;
        do
            mutate = (int)below(&g->r, (size_t)slot_count(s));
        while (s->slots[mutate].kind == S_ANY);
        const char *value = wrong_value(&g->r, s->slots[mutate].kind);
        render_body(g, &q.body, rt->body, mutate, value, group);
        describe(g, "%s %s: %s%s = %s", rt->method, rt->pattern, s->slots[mutate].in_item ? "item." : "",
                 s->slots[mutate].name, value);
    }
    expect_status(g, 400, NULL);
    if (group >= 0)
        strncat(g->out->what, " [fixture]", sizeof g->out->what - strlen(g->out->what) - 1);
    finish(g, &q);
}

/* ---- category: broken JSON ---- */

static const char *const junk_bodies[] = {
    "not json",
    "{",
    "}",
    "{\"a\":}",
    "{,}",
    "{'a':1}",
    "{\"a\":1,}",
    "/*c*/{}",
    "{\"a\":NaN}",
    "{\"a\":0x1}",
    "{\"a\":01}",
    "{\"a\":+1}",
    "{\"a\" 1}",
    "{\"a\":tru}",
    "{\"a\":\"\\x41\"}",
    "{\"a\":\"\\u12\"}",
    "\"unterminated",
    "{\"a\":[1,2}",
    "[",
    "{\"a\":1}}",
    "{\"a\":1}{\"b\":2}",
    "{}[]",
    "{} x",
    "{\"a\":\"b\"c}",
    "{\"a\"::1}",
    "{\"a\":-}",
    "{\"a\":1.}",
    "{\"a\":.5}",
    "{\"a\":1e}",
    "{\"a\":\"\\uDZ00\"}",
    "\x01{}",
};

/* Throw-away targets only: valid JSON a server may accept, or oddities whose
 * refusal the contract does not spell out. */
static const char *const odd_bodies[] = {
    "{\"events\":[{\"type\":\"a\\u0000b\",\"data\":{}}],\"messages\":[{\"type\":\"a\\u0000b\",\"data\":{}}]}",
    "{\"events\":[{\"type\":\"t\",\"data\":{\"\\u0000\":\"\\u0000\"}}],\"messages\":[{\"type\":\"t\",\"data\":{"
    "\"k\\u0000\":1}}]}",
    "{\"events\":[{\"type\":\"t\",\"data\":\"\\ud800\"}],\"messages\":[{\"type\":\"t\",\"data\":\"\\udc00\\ud800\"}]}",
    "{\"events\":[{\"type\":\"\\ud83d\\ude00\",\"data\":1e999}],\"messages\":[{\"type\":\"t\",\"data\":-0}]}",
    "{\"events\":[{\"type\":\"t\",\"type\":\"u\",\"data\":{}}],\"messages\":[{\"type\":\"t\",\"data\":{},\"data\":1}]}",
    "{\"max_messages\":1,\"max_messages\":\"x\",\"receipt\":\"a\",\"receipt\":\"b\",\"ids\":[],\"ids\":null}",
    "\xEF\xBB\xBF{\"events\":[{\"type\":\"t\",\"data\":{}}]}",
    "{\"events\":[{\"type\":\"t\",\"data\":1E-400}],\"messages\":[{\"type\":\"t\",\"data\":"
    "123456789012345678901234567890}]}",
    "{\"events\":[{\"type\":\"t\x01\",\"data\":\"\t\"}],\"messages\":[{\"type\":\"t\\n\",\"data\":\"\x1f\"}]}",
    "{\"events\":[{\"type\":\"t\",\"data\":{}}],\"messages\":[{\"type\":\"t\",\"data\":{}}]}\n\n\t ",
    "null",
    "{\"expected_version\":-1,\"events\":[{\"type\":\"t\",\"data\":{}}],\"max_depth\":9007199254740992}",
    "{\"expected_version\":9007199254740993,\"events\":[{\"type\":\"t\",\"data\":{}}],\"visibility_timeout\":-0.0}",
    "{\"events\":[{\"type\":\""
    "\xF0\x9F\x98\x80"
    "\",\"data\":\"\xE2\x80\xAE\"}],\"messages\":[{\"type\":\"\xC3\xA9\",\"data\":{}}]}",
};

static void gen_broken_json(struct gen *g)
{
    bool extra = g->k % 8 == 7;
    const struct route *rt = extra ? &api_extra[(g->k / 8) % ARRAY_LEN(api_extra)] : body_route(g->k);
    if (extra && is_read(rt->method))
        rt = &api_extra[ARRAY_LEN(api_extra) - 1]; /* POST /transactions */
    unsigned variant = (unsigned)below(&g->r, 10);
    bool must_refuse = variant <= 6;
    int group = !extra && must_refuse && chance(&g->r, 50) ? FX_BODY : -1;
    struct req q = {.method = rt->method, .with_body = true};
    route_path(g, &q.target, rt, group);
    struct buf valid = {0};
    if (extra)
        buf_printf(&valid,
                   "{\"operations\":[{\"op\":\"enqueue\",\"queue\":\"%s\",\"messages\":[{\"type\":\"t\","
                   "\"data\":{}}]}],\"url\":\"http://127.0.0.1:9/\",\"stream\":\"%s\",\"offset\":0}",
                   g->throwaway, g->throwaway);
    else
        valid_body(g, &valid, rt->body, group);

    switch (variant) {
    case 0:
    case 1: { /* truncated: every proper prefix of an object is not JSON */
        size_t cut = 1 + below(&g->r, valid.n - 1);
        buf_put(&q.body, valid.p, cut);
        describe(g, "%s %s: truncated at %zu of %zu", rt->method, rt->pattern, cut, valid.n);
        break;
    }
    case 2:
    case 3: { /* a raw NUL inside a key or a string value */
        size_t quotes[64], nq = 0;
        for (size_t i = 0; i < valid.n && nq < ARRAY_LEN(quotes); i++)
            if (valid.p[i] == '"')
                quotes[nq++] = i;
        size_t at = quotes[2 * below(&g->r, nq / 2)] + 1; /* just inside an opening quote */
        at += below(&g->r, 2);
        buf_put(&q.body, valid.p, valid.n);
        buf_insert(&q.body, at, "\0", 1);
        describe(g, "%s %s: raw NUL at %zu of a key or string", rt->method, rt->pattern, at);
        break;
    }
    case 4: { /* invalid UTF-8 inside a string */
        static const char *const bad_utf8[] = {
            "\xFF", "\xC0\xAF", "\xED\xA0\x80", "\xE2\x82", "\x80", "\xF8\x88\x80\x80\x80", "\xC3"};
        const char *seq = PICK(&g->r, bad_utf8);
        size_t at = 0;
        for (size_t i = 0; i < valid.n; i++)
            if (valid.p[i] == '"') {
                at = i + 1;
                if (chance(&g->r, 40))
                    break;
            }
        buf_put(&q.body, valid.p, valid.n);
        buf_insert(&q.body, at, seq, strlen(seq));
        describe(g, "%s %s: invalid UTF-8 (%zu bytes) in a string", rt->method, rt->pattern, strlen(seq));
        break;
    }
    case 5: { /* syntax errors */
        const char *junk = PICK(&g->r, junk_bodies);
        buf_str(&q.body, junk);
        describe(g, "%s %s: body '%s'", rt->method, rt->pattern, junk[0] == '\x01' ? "\\x01{}" : junk);
        break;
    }
    case 6: { /* a valid body with something after it */
        static const char *const trailers[] = {"x", "{}", "\0", "\0{}", ",", "]", "\x1a"};
        size_t t = below(&g->r, ARRAY_LEN(trailers));
        buf_put(&q.body, valid.p, valid.n);
        buf_put(&q.body, trailers[t], t == 2 || t == 3 ? (t == 2 ? 1 : 3) : strlen(trailers[t]));
        describe(g, "%s %s: trailing bytes #%zu after the object", rt->method, rt->pattern, t);
        break;
    }
    default: { /* oddities, throw-away names only */
        size_t o = below(&g->r, ARRAY_LEN(odd_bodies));
        buf_str(&q.body, odd_bodies[o]);
        if (chance(&g->r, 20)) { /* and a content type that is not JSON */
            q.no_type = true;
            static const char *const types[] = {"text/plain",
                                                "application/x-www-form-urlencoded",
                                                "multipart/form-data; boundary=zz",
                                                "application/json; charset=utf-16",
                                                "",
                                                "application/json; charset=latin1",
                                                "*/*"};
            buf_printf(&q.headers, "Content-Type: %s\r\n", PICK(&g->r, types));
        }
        describe(g, "%s %s: odd body #%zu", rt->method, rt->pattern, o);
        break;
    }
    }
    if (must_refuse && !extra)
        expect_status(g, 400, NULL);
    if (group >= 0)
        strncat(g->out->what, " [fixture]", sizeof g->out->what - strlen(g->out->what) - 1);
    buf_free(&valid);
    finish(g, &q);
}

/* ---- category: JSON nested 10,000 levels deep ---- */

static void nest(struct buf *b, int levels, int style, bool close)
{
    for (int i = 0; i < levels; i++)
        buf_str(b, style == 0 || (style == 2 && i % 2) ? "[" : "{\"a\":");
    buf_str(b, "1");
    if (!close)
        return;
    for (int i = levels - 1; i >= 0; i--)
        buf_byte(b, style == 0 || (style == 2 && i % 2) ? ']' : '}');
}

static void gen_deep_json(struct gen *g)
{
    static const int depths[] = {10000, 10000, 10000, 10000, 1000, 1001, 999, 5000, 20000};
    int levels = PICK(&g->r, depths), style = (int)below(&g->r, 3);
    bool close = !chance(&g->r, 15);
    static const struct {
        const char *method, *collection, *path, *before, *after; /* path: after the name */
    } places[] = {
        {"POST", "streams", "/events", "{\"events\":[{\"type\":\"t\",\"data\":", "}]}"},
        {"POST", "streams", "/events", "{\"events\":[{\"type\":\"t\",\"data\":{},\"metadata\":{\"m\":", "}}]}"},
        {"POST", "streams", "/events", "", ""},
        {"POST", "queues", "/messages", "{\"messages\":[{\"type\":\"t\",\"data\":", "}]}"},
        {"POST", "queues", "/dequeue", "{\"max_messages\":1,\"hostile\":", "}"},
        {"PUT", "queues", "", "{\"visibility_timeout\":30,\"hostile\":", "}"},
        {"PUT", "streams", "/retention", "{\"max_count\":", "}"},
        {"POST", "queues", "/dead-letters/redrive", "{\"ids\":", "}"},
        {"POST", "queues", "/ack", "{\"acks\":", "}"},
        {"POST", "transactions", "", "{\"operations\":", "}"},
    };
    size_t p = below(&g->r, ARRAY_LEN(places));
    struct req q = {.method = places[p].method, .with_body = true};
    if (!strcmp(places[p].collection, "transactions"))
        buf_str(&q.target, "/transactions");
    else
        buf_printf(&q.target, "/%s/%s%s", places[p].collection, g->throwaway, places[p].path);
    buf_str(&q.body, places[p].before);
    nest(&q.body, levels, style, close);
    if (close)
        buf_str(&q.body, places[p].after);
    describe(g, "%s /%s%s%s: %d levels of %s%s", q.method, places[p].collection,
             strcmp(places[p].collection, "transactions") ? "/{name}" : "", places[p].path, levels,
             style == 0   ? "arrays"
             : style == 1 ? "objects"
                          : "both",
             close ? "" : ", never closed");
    finish(g, &q);
}

/* ---- category: huge bodies, near and over --max-body ---- */

/* A valid append body of exactly `size` bytes: one event whose data is a long string. */
static void sized_append(struct buf *b, size_t size)
{
    const char *head = "{\"events\":[{\"type\":\"t\",\"data\":\"", *tail = "\"}]}";
    size_t fixed = strlen(head) + strlen(tail);
    buf_str(b, head);
    size_t fill = size > fixed ? size - fixed : 0;
    for (size_t i = 0; i < fill; i++)
        buf_byte(b, (char)('a' + i % 26));
    buf_str(b, tail);
}

static void chunked(struct buf *out, const char *data, size_t n, size_t chunk)
{
    for (size_t at = 0; at < n; at += chunk) {
        size_t len = n - at < chunk ? n - at : chunk;
        buf_printf(out, "%zx\r\n", len);
        buf_put(out, data + at, len);
        buf_str(out, "\r\n");
    }
    buf_str(out, "0\r\n\r\n");
}

static void gen_huge_body(struct gen *g)
{
    const size_t max = HOSTILE_MAX_BODY;
    unsigned variant = (unsigned)(g->k % 14);
    /* Over-limit bodies may aim at a fixture: 413 is a refusal. */
    int group = variant >= 2 && variant <= 9 && chance(&g->r, 50) ? FX_BODY : -1;
    const char *name = group >= 0 ? g->fx->stream[group] : g->throwaway;
    struct req q = {.method = "POST"};
    buf_printf(&q.target, "/streams/%s/events", name);
    struct buf body = {0};
    switch (variant) {
    case 0: /* just under the limit */
        sized_append(&body, max - 1 - below(&g->r, 200));
        q.with_body = true;
        q.body = body;
        describe(g, "append of %zu bytes (under the limit)", body.n);
        finish(g, &q);
        return;
    case 1: /* exactly the limit */
        sized_append(&body, max);
        q.with_body = true;
        q.body = body;
        describe(g, "append of exactly --max-body (%zu) bytes", max);
        finish(g, &q);
        return;
    case 2:
    case 3:
    case 4: { /* over the limit with Content-Length, sent in full without Expect */
        static const size_t factors[] = {1, 2, 16};
        size_t size = variant == 2 ? max + 1 + below(&g->r, 100) : max * factors[variant - 2];
        sized_append(&body, size);
        q.with_body = true;
        q.body = body;
        expect_status(g, 413, NULL);
        describe(g, "append of %zu bytes with Content-Length, no Expect%s", size, group >= 0 ? " [fixture]" : "");
        finish(g, &q);
        return;
    }
    case 5:
    case 6:
    case 7: { /* over the limit, chunked */
        static const double factors[] = {1.5, 5, 16};
        size_t size = (size_t)((double)max * factors[variant - 5]);
        sized_append(&body, size);
        buf_str(&q.headers, "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n");
        struct buf framed = {0};
        chunked(&framed, body.p, body.n, 16384);
        buf_free(&body);
        q.body = framed;
        q.with_body = true;
        q.no_length = q.no_type = true;
        expect_status(g, 413, NULL);
        describe(g, "append of %zu bytes chunked%s", size, group >= 0 ? " [fixture]" : "");
        finish(g, &q);
        return;
    }
    case 8: /* Expect: 100-continue, over the limit, body sent anyway */
        sized_append(&body, max * 2);
        q.with_body = true;
        q.body = body;
        buf_str(&q.headers, "Expect: 100-continue\r\n");
        expect_status(g, 413, NULL);
        describe(g, "append of %zu bytes with Expect: 100-continue%s", max * 2, group >= 0 ? " [fixture]" : "");
        finish(g, &q);
        return;
    case 9: { /* a huge declared length and a small body */
        static const char *const lengths[] = {"99999999999999", "4294967296", "4294967297", "2147483648"};
        const char *len = PICK(&g->r, lengths);
        q.no_length = true;
        q.with_body = true;
        sized_append(&q.body, 100);
        buf_printf(&q.headers, "Content-Length: %s\r\n", len);
        expect_status(g, 413, NULL);
        describe(g, "Content-Length %s with a 100-byte body%s", len, group >= 0 ? " [fixture]" : "");
        finish(g, &q);
        g->out->garbage = true; /* the body never ends: closing is fine, answering 413 better */
        return;
    }
    case 10: { /* thousands of tiny chunks, over the limit */
        sized_append(&body, max + max / 2);
        buf_str(&q.headers, "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n");
        struct buf framed = {0};
        chunked(&framed, body.p, body.n, 7);
        buf_free(&body);
        q.body = framed;
        q.with_body = q.no_length = q.no_type = true;
        expect_status(g, 413, NULL);
        describe(g, "append of %zu bytes in 7-byte chunks", max + max / 2);
        finish(g, &q);
        return;
    }
    case 11: /* a body on a route that takes none, over the limit */
        buf_free(&q.target);
        buf_str(&q.target, "/healthz");
        q.method = "GET";
        sized_append(&body, max * 2);
        q.with_body = true;
        q.body = body;
        expect_status(g, 413, NULL);
        describe(g, "GET /healthz with a %zu-byte body", max * 2);
        finish(g, &q);
        return;
    case 12: { /* 1,000 events: the batch limit */
        q.with_body = true;
        buf_str(&q.body, "{\"events\":[");
        int count = chance(&g->r, 50) ? 1000 : 1001;
        for (int i = 0; i < count; i++)
            buf_printf(&q.body, "%s{\"type\":\"t\",\"data\":%d}", i ? "," : "", i);
        buf_str(&q.body, "]}");
        describe(g, "append of %d events (%zu bytes)", count, q.body.n);
        finish(g, &q);
        return;
    }
    default: { /* many keys in one object */
        q.with_body = true;
        buf_str(&q.body, "{\"events\":[{\"type\":\"t\",\"data\":{");
        for (int i = 0; i < 5000; i++)
            buf_printf(&q.body, "%s\"k%d\":%d", i ? "," : "", i, i);
        buf_str(&q.body, "}}]}");
        describe(g, "append with 5,000 keys in data (%zu bytes)", q.body.n);
        finish(g, &q);
        return;
    }
    }
}

/* ---- category: wrong, odd and duplicated headers ---- */

static void gen_headers(struct gen *g)
{
    /* A read of a fixture or a valid write to throw-away names. */
    static const char *const reads[] = {"/streams/{stream}",
                                        "/streams/{stream}/events",
                                        "/streams/{stream}/events/{offset}",
                                        "/queues/{queue}",
                                        "/queues/{queue}/messages",
                                        "/queues/{queue}/dead-letters",
                                        "/version",
                                        "/streams"};
    bool read = chance(&g->r, 50);
    const struct route *rt = read ? find_route("GET", PICK(&g->r, reads)) : body_route(below(&g->r, ARRAY_LEN(shapes)));
    struct req q = {0};
    plain_request(g, &q, rt, read ? FX_MAIN : -1);
    unsigned variant = (unsigned)below(&g->r, 30);
    bool garbage = false;
    switch (variant) {
    case 0:
        buf_str(&q.headers, "NoColonHere\r\n");
        garbage = true;
        break;
    case 1:
        buf_str(&q.headers, "X-Hostile : spaced\r\n");
        garbage = true;
        break;
    case 2:
        buf_str(&q.headers, "X-Folded: a\r\n  continued\r\n");
        garbage = true;
        break;
    case 3:
        buf_str(&q.headers, "X-Long: ");
        buf_repeat(&q.headers, "a", chance(&g->r, 50) ? 10000 : 100000);
        buf_str(&q.headers, "\r\n");
        garbage = true;
        break;
    case 4:
        for (int i = 0; i < 2000; i++)
            buf_printf(&q.headers, "X-H%d: %d\r\n", i, i);
        garbage = true;
        break;
    case 5:
        buf_put(&q.headers, "X-Nul: a\0b\r\n", 12);
        garbage = true;
        break;
    case 6:
        buf_put(&q.headers, "X-N\0ul: ab\r\n", 12);
        garbage = true;
        break;
    case 7:
        buf_str(&q.headers, "X-Cr: a\rb\r\n");
        garbage = true;
        break;
    case 8:
        buf_str(&q.headers, ": empty-name\r\n");
        garbage = true;
        break;
    case 9:
        buf_str(&q.headers, "X(Bad)Name: x\r\n");
        garbage = true;
        break;
    case 10:
        buf_str(&q.headers, "X-Obs-Text: \x80\xff\xc3\xa9\r\n");
        break;
    case 11: {
        static const char *const ids[] = {"",       "../../etc/passwd",  "a b", "%00", "\xc3\xa9",
                                          "x\x01y", "'; DROP TABLE x;--"};
        buf_printf(&q.headers, "X-Request-Id: %s\r\n", PICK(&g->r, ids));
        break;
    }
    case 12:
        garbage = true; /* large: a 431 or a close is fine */
        buf_str(&q.headers, "X-Request-Id: ");
        buf_repeat(&q.headers, "r", 5000);
        buf_str(&q.headers, "\r\nX-Request-Id: second\r\n");
        break;
    case 13: {
        static const char *const types[] = {"text/plain",
                                            "application/xml",
                                            "multipart/form-data; boundary=zz",
                                            "application/json; charset=utf-16",
                                            "",
                                            "application/x-www-form-urlencoded",
                                            "application/json; charset=\"",
                                            "application/json, text/plain"};
        q.no_type = true;
        buf_printf(&q.headers, "Content-Type: %s\r\n", PICK(&g->r, types));
        if (!q.with_body) {
            q.with_body = true;
            buf_str(&q.body, "a=b");
        }
        break;
    }
    case 14:
        garbage = true; /* large: a 431 or a close is fine */
        q.no_type = true;
        buf_str(&q.headers, "Content-Type: application/");
        buf_repeat(&q.headers, "j", 7000);
        buf_str(&q.headers, "\r\n");
        break;
    case 15: {
        static const char *const accepts[] = {"application/x-ndjson", "*/*;q=abc", "text/event-stream",
                                              "application/x-ndjson;q=0", "application/x-ndjson, application/json"};
        buf_printf(&q.headers, "Accept: %s\r\n", PICK(&g->r, accepts));
        break;
    }
    case 16:
        garbage = true; /* large: a 431 or a close is fine */
        buf_str(&q.headers, "Accept: ");
        buf_repeat(&q.headers, "application/x-ndjson,", 400);
        buf_str(&q.headers, "\r\n");
        break;
    case 17: {
        static const char *const conds[] = {"If-None-Match: W/\"1\", \"2\", *",           "If-None-Match: \"",
                                            "If-None-Match: \"99999999999999999999999\"", "If-Match: \"abc\"",
                                            "If-None-Match: *\r\nIf-Match: \"1\"",        "If-Match: \"-5\"",
                                            "If-Match: \"9223372036854775808\""};
        if (read || rt->body == B_APPEND)
            buf_printf(&q.headers, "%s\r\n", PICK(&g->r, conds));
        break;
    }
    case 18:
        buf_str(&q.headers, "Expect: something-else\r\n");
        break;
    case 19:
        buf_str(&q.headers, "Connection: keep-alive, Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n");
        break;
    case 20:
        buf_str(&q.headers,
                "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n");
        break;
    case 21:
        buf_str(&q.headers, "Authorization: Bearer \x01\x02\r\n");
        break;
    case 22:
        buf_str(&q.headers, "Range: bytes=0-1,-5,100000000000000000000-\r\nAccept-Encoding: gzip, br, zstd\r\n");
        break;
    case 23:
        buf_str(&q.headers, "Content-Encoding: gzip\r\n");
        break;
    case 24:
        buf_str(&q.headers, "Transfer-Encoding: gzip\r\n");
        garbage = true;
        break;
    case 25:
        buf_str(&q.headers, "Connection: close, close, keep-alive\r\nKeep-Alive: timeout=-1, max=abc\r\n");
        break;
    case 26: { /* line endings of a bare LF throughout */
        struct buf lf = {0};
        emit(&lf, &q);
        for (size_t i = 0; i < lf.n; i++)
            if (!(lf.p[i] == '\r' && i + 1 < lf.n && lf.p[i + 1] == '\n'))
                buf_byte(&g->req, lf.p[i]);
        buf_free(&lf);
        g->out->head = false;
        g->out->garbage = true;
        describe(g, "%s %s with bare LF line endings", rt->method, rt->pattern);
        req_free(&q);
        return;
    }
    case 27:
        garbage = true; /* large: a 431 or a close is fine */
        buf_str(&q.headers, "X-Forwarded-For: ");
        buf_repeat(&q.headers, "1.2.3.4, ", 600);
        buf_str(&q.headers, "\r\nForwarded: for=\"[::1\r\n");
        break;
    case 28:
        garbage = true; /* large: a 431 or a close is fine */
        buf_str(&q.headers, "Cookie: ");
        buf_repeat(&q.headers, "a=b; ", 1000);
        buf_str(&q.headers, "\r\n");
        break;
    default:
        buf_str(&q.headers, "\r\n"); /* an empty line early: what follows is the body */
        garbage = true;
        break;
    }
    describe(g, "%s %s: header variant %u", rt->method, rt->pattern, variant);
    g->out->garbage = garbage;
    finish(g, &q);
}

/* ---- category: framing: Content-Length, Transfer-Encoding, chunks, smuggling ---- */

/* A request hidden after an ambiguously framed one: it would damage the
 * framing fixture if the service ever ran it. */
static void smuggled(struct gen *g, struct buf *b)
{
    const int grp = FX_FRAMING;
    switch (below(&g->r, 6)) {
    case 0:
        buf_printf(b, "DELETE /queues/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", g->fx->queue[grp]);
        break;
    case 1:
        buf_printf(b, "POST /queues/%s/purge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
                   g->fx->queue[grp]);
        break;
    case 2:
        buf_printf(b, "DELETE /streams/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", g->fx->stream[grp]);
        break;
    case 3:
        buf_printf(b, "POST /streams/%s/archive HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
                   g->fx->stream[grp]);
        break;
    case 4:
        buf_printf(b, "DELETE /queues/%s/dead-letters/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", g->fx->queue[grp],
                   g->fx->message_id[grp][1]);
        break;
    default:
        buf_printf(b,
                   "POST /queues/%s/dequeue HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 27\r\n\r\n"
                   "{\"visibility_timeout\":3600}",
                   g->fx->queue[grp]);
        break;
    }
}

static void gen_framing(struct gen *g)
{
    unsigned variant = (unsigned)below(&g->r, 20);
    struct buf *out = &g->req;
    struct buf hidden = {0};
    smuggled(g, &hidden);
    buf_printf(out, "POST /streams/%s/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n",
               g->throwaway);
    if (variant <= 8) {
        /* Ambiguous framing with a request hidden after the short reading. */
        static const char *const te[] = {"chunked",
                                         "xchunked",
                                         "chunked, identity",
                                         " chunked",
                                         "chunked\t",
                                         "CHUNKED",
                                         "identity",
                                         "chunked, chunked",
                                         "\x0b"
                                         "chunked"};
        size_t total = 2 + hidden.n;
        switch (variant) {
        case 0:
            buf_printf(out, "Content-Length: 2\r\nContent-Length: %zu\r\n\r\n{}", total);
            describe(g, "two Content-Length (2, %zu) hiding a request", total);
            break;
        case 1:
            buf_printf(out, "Content-Length: %zu\r\nContent-Length: 2\r\n\r\n{}", total);
            describe(g, "two Content-Length (%zu, 2) hiding a request", total);
            break;
        case 2:
            buf_printf(out, "Content-Length: 2, %zu\r\n\r\n{}", total);
            describe(g, "Content-Length list (2, %zu) hiding a request", total);
            break;
        case 3:
        case 4:
        case 5: { /* Transfer-Encoding (plain or obfuscated) and Content-Length */
            const char *enc = PICK(&g->r, te);
            bool te_first = variant != 4;
            size_t cl = 5 + hidden.n;
            if (te_first)
                buf_printf(out, "Transfer-Encoding: %s\r\nContent-Length: %zu\r\n\r\n0\r\n\r\n", enc, cl);
            else
                buf_printf(out, "Content-Length: %zu\r\nTransfer-Encoding: %s\r\n\r\n0\r\n\r\n", cl, enc);
            describe(g, "Transfer-Encoding '%s' %s Content-Length %zu hiding a request",
                     enc[0] == '\x0b' ? "\\x0bchunked" : enc, te_first ? "before" : "after", cl);
            break;
        }
        case 6: { /* Content-Length 2 and an obfuscated chunked encoding */
            const char *enc = PICK(&g->r, te);
            buf_printf(out, "Content-Length: 2\r\nTransfer-Encoding: %s\r\n\r\n{}", enc);
            describe(g, "Content-Length 2 and Transfer-Encoding '%s' hiding a request",
                     enc[0] == '\x0b' ? "\\x0bchunked" : enc);
            break;
        }
        case 7: { /* a Content-Length that is not a number */
            /* Not "2,": a list with an empty element is a valid length of 2. */
            static const char *const cls[] = {"2x", "-2", "+2", "0x2", "2 2", "2.0", "02a", "\"2\"", "2;"};
            const char *cl = PICK(&g->r, cls);
            buf_printf(out, "Content-Length: %s\r\n\r\n{}", cl);
            describe(g, "Content-Length '%s' hiding a request", cl);
            break;
        }
        default: /* two Transfer-Encoding headers */
            buf_str(out, "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\n{}");
            describe(g, "Transfer-Encoding chunked + identity + Content-Length hiding a request");
            break;
        }
        buf_put(out, hidden.p, hidden.n);
        g->out->smuggle = true;
        g->out->garbage = true;
        buf_free(&hidden);
        return;
    }
    buf_free(&hidden);
    struct buf body = {0};
    buf_str(&body, "{\"events\":[{\"type\":\"t\",\"data\":{\"framing\":true}}]}");
    g->out->garbage = true;
    switch (variant) {
    case 9: { /* bad chunk sizes */
        static const char *const sizes[] = {"zz",  "-1",      "fffffffffffffffffff", "0x2", " 2", "2 ;", "+2", "",
                                            "1_0", "ffffffff"};
        const char *size = PICK(&g->r, sizes);
        buf_printf(out, "Transfer-Encoding: chunked\r\n\r\n%s\r\n%s\r\n0\r\n\r\n", size, body.p);
        describe(g, "chunk size '%s'", size);
        break;
    }
    case 10: /* chunk data longer than its size */
        buf_printf(out, "Transfer-Encoding: chunked\r\n\r\n5\r\n%s\r\n0\r\n\r\n", body.p);
        describe(g, "chunk longer than its size");
        break;
    case 11: /* no CRLF after the chunk data */
        buf_printf(out, "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%s0\r\n\r\n", body.n, body.p);
        describe(g, "chunk without its CRLF");
        break;
    case 12: /* a chunk extension 10 KB long */
        buf_printf(out, "Transfer-Encoding: chunked\r\n\r\n%zx;", body.n);
        buf_repeat(out, "e", 10000);
        buf_printf(out, "\r\n%s\r\n0\r\n\r\n", body.p);
        describe(g, "10 KB chunk extension");
        break;
    case 13: /* trailers, valid */
        buf_printf(out, "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n", body.n, body.p);
        describe(g, "chunked with trailers");
        g->out->garbage = false;
        break;
    case 14: /* one-byte chunks, valid */
        buf_str(out, "Transfer-Encoding: chunked\r\n\r\n");
        for (size_t i = 0; i < body.n; i++)
            buf_printf(out, "1\r\n%c\r\n", body.p[i]);
        buf_str(out, "0\r\n\r\n");
        describe(g, "chunked in 1-byte chunks");
        g->out->garbage = false;
        break;
    case 15: /* chunk lines ending in a bare LF */
        buf_printf(out, "Transfer-Encoding: chunked\r\n\r\n%zx\n%s\n0\n\n", body.n, body.p);
        describe(g, "chunk lines with bare LF");
        break;
    case 16: /* Content-Length shorter than the body: the rest is garbage */
        buf_printf(out, "Content-Length: %zu\r\n\r\n%s\x01\x02 garbage\r\n\r\n", body.n, body.p);
        describe(g, "garbage after the body");
        break;
    case 17: /* identical duplicated Content-Length */
        buf_printf(out, "Content-Length: %zu\r\nContent-Length: %zu\r\n\r\n%s", body.n, body.n, body.p);
        describe(g, "two identical Content-Length");
        break;
    case 18: /* Content-Length 0 with a body following, on GET */
        buf_free(out);
        buf_printf(out, "GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n%s", body.p);
        describe(g, "GET with Content-Length 0 and bytes after it");
        break;
    default: /* a huge chunk size announced, then nothing */
        buf_str(out, "Transfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nabc");
        describe(g, "chunk of 2^63 bytes announced");
        g->out->unfinished = true;
        break;
    }
    buf_free(&body);
}

/* ---- category: bytes a request target must not hold ---- */

struct target_byte {
    const char *bytes;
    size_t len;
    const char *shown;
    bool blank; /* whitespace: a lenient parser may take it for a separator at the edges */
};

static const struct target_byte target_bytes[] = {
    {"\0", 1, "NUL", false},
    {"\x01", 1, "\\x01", false},
    {"\x07", 1, "\\x07", false},
    {"\x08", 1, "\\x08", false},
    {"\t", 1, "TAB", true},
    {"\x0b", 1, "VT", true},
    {"\x0c", 1, "FF", true},
    {"\x1b", 1, "ESC", false},
    {"\x1f", 1, "\\x1f", false},
    {"\x7f", 1, "DEL", false},
    {" ", 1, "SP", true},
    {"\x80", 1, "\\x80", false},
    {"\xff", 1, "\\xff", false},
    {"\xc3\xa9", 2, "e-acute", false},
    {"\xe2\x80\xae", 3, "RLO", false},
    {"\r", 1, "CR", true},
    {"\n", 1, "LF", true},
    {"\0\0\0", 3, "3xNUL", false},
};

static void gen_target_bytes(struct gen *g)
{
    const struct route *rt = &routes[g->k % ARRAY_LEN(routes)];
    const struct target_byte *tb =
        &target_bytes[(g->k / ARRAY_LEN(routes) + below(&g->r, 3)) % ARRAY_LEN(target_bytes)];
    const int grp = FX_TARGET;
    /* The first round is the reported defect on every route: a raw NUL right
     * after the name (DELETE /queues/<fixture>\0zzz), or at the end (GET /version\0). */
    bool first_round = g->k < ARRAY_LEN(routes);
    if (first_round)
        tb = &target_bytes[0];
    struct req q = {.method = rt->method};
    if (rt->body != B_NONE) {
        q.with_body = true;
        valid_body(g, &q.body, rt->body, grp); /* would act on the fixture if the target were accepted */
    }
    /* Where the byte goes: 0 at the end of the path, 1 right after the name,
     * 2 at the end of the path then more, 3 in a query value, 4 after the first '/'. */
    unsigned where = first_round ? (has_name(rt) ? 1 : 0) : (unsigned)below(&g->r, 5);
    if (where == 1 && !has_name(rt))
        where = 2;
    if (where == 0 && tb->blank)
        where = 2;
    if (where == 1) {
        const char *name = fixture_name(g, rt->pattern, grp), *second = fixture_second(g, rt->pattern, grp);
        struct buf nb = {0};
        buf_str(&nb, name);
        buf_put(&nb, tb->bytes, tb->len);
        buf_str(&nb, "zzz");
        expand(&q.target, rt->pattern, nb.p, nb.n, second, strlen(second));
        buf_free(&nb);
    } else {
        route_path(g, &q.target, rt, grp);
        if (where == 0) {
            buf_put(&q.target, tb->bytes, tb->len);
        } else if (where == 2) {
            buf_put(&q.target, tb->bytes, tb->len);
            buf_str(&q.target, "zzz");
        } else if (where == 3) {
            buf_str(&q.target, "?limit=1");
            buf_put(&q.target, tb->bytes, tb->len);
            buf_str(&q.target, "0");
        } else {
            buf_insert(&q.target, 1, tb->bytes, tb->len);
        }
    }
    static const char *const places[] = {"at the end", "after the name", "before 'zzz' at the end", "in the query",
                                         "after the first '/'"};
    describe(g, "%s %s: raw %s %s%s", rt->method, rt->pattern, tb->shown, places[where],
             has_name(rt) ? " [fixture]" : "");
    expect_status(g, 400, NULL);
    g->out->garbage = true; /* closing without an answer is also a refusal */
    finish(g, &q);
}

/* ---- categories: Host missing, or twice, or invalid ---- */

static void gen_no_host(struct gen *g)
{
    const struct route *rt = &routes[g->k % ARRAY_LEN(routes)];
    struct req q = {0};
    plain_request(g, &q, rt, FX_NOHOST);
    q.no_host = true;
    if (chance(&g->r, 20))
        buf_str(&q.headers, "X-Host: 127.0.0.1\r\n");
    expect_status(g, 400, NULL);
    describe(g, "HTTP/1.1 %s %s without Host%s", rt->method, rt->pattern, has_name(rt) ? " [fixture]" : "");
    finish(g, &q);
}

static void gen_dup_host(struct gen *g)
{
    const struct route *rt = &routes[g->k % ARRAY_LEN(routes)];
    struct req q = {0};
    plain_request(g, &q, rt, FX_DUPHOST);
    q.no_host = true;
    static const char *const hosts[] = {"Host: 127.0.0.1\r\nHost: example.com\r\n",
                                        "Host: 127.0.0.1\r\nHost: 127.0.0.1\r\n",
                                        "Host: a b\r\n",
                                        "Host: x/y\r\n",
                                        "Host: 127.0.0.1, example.com\r\n",
                                        "Host: x@y\r\n",
                                        "Host: \x01\r\n",
                                        "Host: [::1\r\n"};
    size_t h = below(&g->r, ARRAY_LEN(hosts));
    buf_str(&q.headers, hosts[h]);
    expect_status(g, 400, NULL);
    describe(g, "%s %s with Host variant %zu (%s)%s", rt->method, rt->pattern, h,
             h < 2    ? "two Host lines"
             : h == 4 ? "two hosts in one"
                      : "invalid host",
             has_name(rt) ? " [fixture]" : "");
    finish(g, &q);
}

/* ---- category: broken request lines ---- */

static void gen_request_line(struct gen *g)
{
    struct buf *out = &g->req;
    unsigned variant = (unsigned)below(&g->r, 4);
    g->out->garbage = true;
    if (variant == 0) { /* versions */
        static const char *const versions[] = {"HTTP/1.1x", "HTTP/1",   "HTTP/",       "http/1.1", "HTTP/01.1",
                                               "HTTP/1.10", "HTTP/2.0", "HTTP/3.0",    "HTTP/0.9", "HTTP/1.1 extra",
                                               "HTTP/ 1.1", "",         "HTTP/1.a",    "HTTP/9.9", "HTTPS/1.1",
                                               "HTTP/1.2",  "HTTP/1.0", "HTTP/1.1\x01"};
        const char *v = PICK(&g->r, versions);
        buf_printf(out, "GET /version %s\r\nHost: 127.0.0.1\r\n\r\n", v);
        /* A well-formed version other than 1.x may be refused with 505 (RFC 9110 15.6.6). */
        g->out->allow_505 = strlen(v) == 8 && !strncmp(v, "HTTP/", 5) && v[5] >= '0' && v[5] <= '9' && v[5] != '1' &&
                            v[6] == '.' && v[7] >= '0' && v[7] <= '9';
        describe(g, "GET /version '%s'", strchr(v, '\x01') ? "HTTP/1.1\\x01" : v);
        return;
    }
    if (variant == 1) { /* methods */
        static const char *const ms[] = {"",    "G\x01T", "GET\tX", "\x01GET", "GET GET", "\xc3\x89T\xc3\x89",
                                         "G(T", "GE:T",   "*"};
        size_t m = below(&g->r, ARRAY_LEN(ms) + 1);
        if (m == ARRAY_LEN(ms)) {
            buf_repeat(out, "G", 10000);
            describe(g, "10 KB method");
        } else {
            buf_str(out, ms[m]);
            describe(g, "method #%zu", m);
        }
        buf_str(out, " /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        return;
    }
    if (variant == 2) { /* targets */
        static const char *const targets[] = {"*",
                                              "version",
                                              "http://127.0.0.1/version",
                                              "//version",
                                              "/version#frag",
                                              "/version?%",
                                              "/./version",
                                              "/../version",
                                              "/%2e%2e/version",
                                              "///streams",
                                              "/streams/%2e",
                                              "127.0.0.1:80",
                                              "/version?a=%GG&b=%",
                                              "/%76ersion",
                                              "/VERSION",
                                              "/version/",
                                              "/version;x=1",
                                              "/healthz/../version"};
        size_t t = below(&g->r, ARRAY_LEN(targets) + 2);
        const char *method = chance(&g->r, 20) ? (chance(&g->r, 50) ? "OPTIONS" : "CONNECT") : "GET";
        buf_printf(out, "%s ", method);
        if (t == ARRAY_LEN(targets)) {
            buf_str(out, "/version?");
            buf_repeat(out, "a", 10000);
            describe(g, "%s with a 10 KB target", method);
        } else if (t == ARRAY_LEN(targets) + 1) {
            buf_str(out, "/");
            buf_repeat(out, "b", 100000);
            describe(g, "%s with a 100 KB target", method);
        } else {
            buf_str(out, targets[t]);
            describe(g, "%s '%s'", method, targets[t]);
        }
        buf_str(out, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        return;
    }
    static const char *const junk[] = {"\r\n\r\n",
                                       "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                                       "GET /version\r\n\r\n",
                                       "\r\n\r\nGET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                                       "   \r\n\r\n",
                                       "GET /version HTTP/1.1\nHost: 127.0.0.1\n\n",
                                       "GET  /version  HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                                       "GET\t/version\tHTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                                       " GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                                       "GET /version HTTP/1.1\rHost: 127.0.0.1\r\r"};
    size_t j = below(&g->r, ARRAY_LEN(junk) + 2);
    if (j == ARRAY_LEN(junk)) { /* a TLS ClientHello */
        static const unsigned char hello[] = {
            0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
            0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
            0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00};
        buf_put(out, hello, sizeof hello);
        describe(g, "a TLS ClientHello");
    } else if (j == ARRAY_LEN(junk) + 1) { /* random bytes */
        for (int i = 0; i < 300; i++)
            buf_byte(out, (char)(rnd(&g->r) & 0xff));
        buf_str(out, "\r\n\r\n");
        describe(g, "300 random bytes");
    } else {
        buf_str(out, junk[j]);
        g->out->allow_505 = j == 1;
        describe(g, "request line junk #%zu", j);
    }
}

/* ---- category: pipelined requests ---- */

static void gen_pipeline(struct gen *g)
{
    int n = 2 + (int)below(&g->r, 3);
    char list[160] = "";
    for (int i = 0; i < n; i++) {
        struct req q = {0};
        unsigned pick = (unsigned)below(&g->r, 8);
        switch (pick) {
        case 0:
            q.method = "GET";
            buf_str(&q.target, "/healthz");
            break;
        case 1:
            q.method = "GET";
            buf_printf(&q.target, "/streams/%s", g->fx->stream[FX_MAIN]);
            break;
        case 2:
            q.method = "GET";
            buf_printf(&q.target, "/queues/%s/messages?limit=abc", g->fx->queue[FX_MAIN]);
            break;
        case 3:
            q.method = "POST";
            buf_printf(&q.target, "/streams/%s/events", g->throwaway);
            q.with_body = true;
            buf_str(&q.body, "{\"events\":[{\"type\":\"t\",\"data\"");
            break;
        case 4:
            q.method = "POST";
            buf_printf(&q.target, "/queues/%s/messages", g->throwaway);
            q.with_body = true;
            valid_body(g, &q.body, B_ENQUEUE, -1);
            break;
        case 5:
            q.method = "DELETE";
            buf_printf(&q.target, "/queues/%s", g->throwaway);
            break;
        case 6:
            q.method = "PATCH";
            buf_printf(&q.target, "/queues/%s", g->fx->queue[FX_MAIN]);
            break;
        default:
            q.method = "GET";
            buf_str(&q.target, "/streams/%00/events");
            break;
        }
        if (i == n - 1 && chance(&g->r, 50))
            buf_str(&q.headers, "Connection: close\r\n");
        emit(&g->req, &q);
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%u", i ? "," : "", pick);
        req_free(&q);
    }
    g->out->requests = n;
    describe(g, "%d pipelined requests (kinds %s)", n, list);
}

/* ---- category: requests that never finish ---- */

static void gen_unfinished(struct gen *g)
{
    const struct route *rt = &routes[g->k % ARRAY_LEN(routes)];
    int group = chance(&g->r, 30) ? FX_UNFINISHED : -1; /* an unfinished request must never run */
    struct req q = {0};
    plain_request(g, &q, rt, group);
    unsigned variant = (unsigned)below(&g->r, 4);
    if (variant == 3 && !q.with_body)
        variant = 0;
    struct buf whole = {0};
    if (variant == 2) {
        buf_str(&q.headers, "Transfer-Encoding: chunked\r\n");
        q.no_length = true;
        struct buf framed = {0};
        if (q.with_body) {
            buf_printf(&framed, "%zx\r\n", q.body.n);
            buf_put(&framed, q.body.p, q.body.n);
        } else {
            buf_str(&framed, "10\r\nabc");
        }
        buf_free(&q.body);
        q.body = framed;
        q.with_body = true;
    }
    emit(&whole, &q);
    size_t header_end = (size_t)(strstr(whole.p, "\r\n\r\n") - whole.p) + 4;
    size_t cut;
    const char *how;
    switch (variant) {
    case 0:
        cut = 1 + below(&g->r, header_end - 2); /* inside the request line or headers */
        how = "headers cut";
        break;
    case 1:
        cut = header_end - 2; /* everything but the final CRLF */
        how = "no empty line";
        break;
    case 2:
        cut = whole.n; /* chunked, no last chunk */
        how = "chunked without its last chunk";
        break;
    default:
        cut = header_end + below(&g->r, whole.n - header_end); /* body shorter than Content-Length */
        how = "body cut";
        break;
    }
    buf_put(&g->req, whole.p, cut);
    buf_free(&whole);
    describe(g, "%s %s: %s at %zu%s", rt->method, rt->pattern, how, cut, group >= 0 ? " [fixture]" : "");
    g->out->unfinished = true;
    g->out->garbage = true;
    req_free(&q);
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
    [C_ROUTE_METHOD] = {"route-method", 3, gen_route_method},
    [C_BAD_NAME] = {"bad-name", 3, gen_bad_name},
    [C_BAD_QUERY] = {"bad-query", 3, gen_bad_query},
    [C_WRONG_TYPES] = {"wrong-types", 3, gen_wrong_types},
    [C_BROKEN_JSON] = {"broken-json", 3, gen_broken_json},
    [C_DEEP_JSON] = {"deep-json", 1, gen_deep_json},
    [C_HUGE_BODY] = {"huge-body", 1, gen_huge_body},
    [C_HEADERS] = {"headers", 3, gen_headers},
    [C_FRAMING] = {"framing", 2, gen_framing},
    [C_TARGET_BYTES] = {"target-bytes", 3, gen_target_bytes},
    [C_NO_HOST] = {"no-host", 1, gen_no_host},
    [C_DUP_HOST] = {"dup-host", 1, gen_dup_host},
    [C_REQUEST_LINE] = {"request-line", 2, gen_request_line},
    [C_PIPELINE] = {"pipeline", 2, gen_pipeline},
    [C_UNFINISHED] = {"unfinished", 1, gen_unfinished},
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
    rnd(&g.r);
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
