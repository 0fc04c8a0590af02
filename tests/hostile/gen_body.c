/* Hostile-request categories aimed at bodies (see gen.h): members of the
 * wrong JSON type, broken JSON, JSON nested thousands of levels deep, and
 * bodies near and over --max-body; and the valid body of each route, which
 * the other categories send where the body is not the point. */
#include "gen.h"

#include <string.h>

/* ---- valid bodies, and bodies with one member changed ---- */

static const struct shape *shape_of(enum body_kind kind)
{
    for (size_t i = 0; i < GEN_TABLES_SHAPES; i++)
        if (gen_tables_shapes[i].kind == kind)
            return &gen_tables_shapes[i];
    return NULL;
}

static int slot_count(const struct shape *s)
{
    int n = 0;
    while (n < (int)ARRAY_LEN(s->slots) && s->slots[n].name)
        n++;
    return n;
}

/* Renders the body of `kind`; slot `mutate` (-1: none) gets `value` instead.
 * With a fixture `group`, ids name its messages: the batch ack acks the one in
 * flight and the redrive redrives its dead letter (if the request ever ran). */
static void render_body(struct gen *g, struct buf *b, enum body_kind kind, int mutate, const char *value, int group)
{
    const struct shape *s = shape_of(kind);
    int n = slot_count(s);
    bool first = true;
    gen_buf_byte(b, '{');
    for (int i = 0; i < n; i++) {
        const struct slot *sl = &s->slots[i];
        if (sl->in_item)
            continue;
        if (!first)
            gen_buf_byte(b, ',');
        first = false;
        gen_buf_printf(b, "\"%s\":", sl->name);
        if (i == mutate) {
            gen_buf_str(b, value);
            continue;
        }
        switch (sl->kind) {
        case S_ITEMS: {
            gen_buf_str(b, "[{");
            bool item_first = true;
            for (int j = 0; j < n; j++) {
                const struct slot *it = &s->slots[j];
                if (!it->in_item)
                    continue;
                if (!item_first)
                    gen_buf_byte(b, ',');
                item_first = false;
                gen_buf_printf(b, "\"%s\":", it->name);
                if (j == mutate) {
                    gen_buf_str(b, value);
                } else if (it->kind == S_UUID) {
                    if (group >= 0 && kind == B_ACK_BATCH) {
                        gen_buf_printf(b, "\"%s\"", g->fx->message_id[group][0]);
                    } else {
                        hostile_uuid(&g->r.s, g->uuid);
                        gen_buf_printf(b, "\"%s\"", g->uuid);
                    }
                } else {
                    gen_buf_str(b, it->valid);
                }
            }
            gen_buf_str(b, "}]");
            break;
        }
        case S_IDS:
            if (group >= 0) {
                gen_buf_printf(b, "[\"%s\"]", g->fx->message_id[group][1]);
            } else {
                hostile_uuid(&g->r.s, g->uuid);
                gen_buf_printf(b, "[\"%s\"]", g->uuid);
            }
            break;
        default:
            gen_buf_str(b, sl->valid);
            break;
        }
    }
    gen_buf_byte(b, '}');
}

void gen_body_valid(struct gen *g, struct buf *b, enum body_kind kind, int group)
{
    render_body(g, b, kind, -1, NULL, group);
}

/* ---- category: wrong JSON types for each body member ---- */

void gen_body_wrong_types(struct gen *g)
{
    const struct route *rt = gen_body_route(g->k);
    const struct shape *s = shape_of(rt->body);
    int group = gen_chance(&g->r, 50) ? FX_BODY : -1;
    struct req q = {.method = rt->method, .with_body = true};
    gen_route_path(g, &q.target, rt, group);
    if (gen_chance(&g->r, 12)) {
        static const char *const not_objects[] = {"[]", "\"x\"", "1", "true", "[{}]", "\"{}\""};
        const char *body = GEN_PICK(&g->r, not_objects);
        gen_buf_str(&q.body, body);
        gen_describe(g, "%s %s: body %s", rt->method, rt->pattern, body);
    } else {
        int mutate;
        do
            mutate = (int)gen_below(&g->r, (size_t)slot_count(s));
        while (s->slots[mutate].kind == S_ANY);
        const char *value = gen_tables_wrong_value(&g->r, s->slots[mutate].kind);
        render_body(g, &q.body, rt->body, mutate, value, group);
        gen_describe(g, "%s %s: %s%s = %s", rt->method, rt->pattern, s->slots[mutate].in_item ? "item." : "",
                     s->slots[mutate].name, value);
    }
    gen_expect_status(g, 400, NULL);
    if (group >= 0)
        strncat(g->out->what, " [fixture]", sizeof g->out->what - strlen(g->out->what) - 1);
    gen_finish(g, &q);
}

/* ---- category: broken JSON ---- */

void gen_body_broken_json(struct gen *g)
{
    bool extra = g->k % 8 == 7;
    const struct route *rt = extra ? &gen_api_extra[(g->k / 8) % GEN_API_EXTRA] : gen_body_route(g->k);
    if (extra && gen_is_read(rt->method))
        rt = &gen_api_extra[GEN_API_EXTRA - 1]; /* POST /transactions */
    unsigned variant = (unsigned)gen_below(&g->r, 10);
    bool must_refuse = variant <= 6;
    int group = !extra && must_refuse && gen_chance(&g->r, 50) ? FX_BODY : -1;
    struct req q = {.method = rt->method, .with_body = true};
    gen_route_path(g, &q.target, rt, group);
    struct buf valid = {0};
    if (extra)
        gen_buf_printf(&valid,
                       "{\"operations\":[{\"op\":\"enqueue\",\"queue\":\"%s\",\"messages\":[{\"type\":\"t\","
                       "\"data\":{}}]}],\"url\":\"http://127.0.0.1:9/\",\"stream\":\"%s\",\"offset\":0}",
                       g->throwaway, g->throwaway);
    else
        gen_body_valid(g, &valid, rt->body, group);

    switch (variant) {
    case 0:
    case 1: { /* truncated: every proper prefix of an object is not JSON */
        size_t cut = 1 + gen_below(&g->r, valid.n - 1);
        gen_buf_put(&q.body, valid.p, cut);
        gen_describe(g, "%s %s: truncated at %zu of %zu", rt->method, rt->pattern, cut, valid.n);
        break;
    }
    case 2:
    case 3: { /* a raw NUL inside a key or a string value */
        size_t quotes[64], nq = 0;
        for (size_t i = 0; i < valid.n && nq < ARRAY_LEN(quotes); i++)
            if (valid.p[i] == '"')
                quotes[nq++] = i;
        size_t at = quotes[2 * gen_below(&g->r, nq / 2)] + 1; /* just inside an opening quote */
        at += gen_below(&g->r, 2);
        gen_buf_put(&q.body, valid.p, valid.n);
        gen_buf_insert(&q.body, at, "\0", 1);
        gen_describe(g, "%s %s: raw NUL at %zu of a key or string", rt->method, rt->pattern, at);
        break;
    }
    case 4: { /* invalid UTF-8 inside a string */
        static const char *const bad_utf8[] = {
            "\xFF", "\xC0\xAF", "\xED\xA0\x80", "\xE2\x82", "\x80", "\xF8\x88\x80\x80\x80", "\xC3"};
        const char *seq = GEN_PICK(&g->r, bad_utf8);
        size_t at = 0;
        for (size_t i = 0; i < valid.n; i++)
            if (valid.p[i] == '"') {
                at = i + 1;
                if (gen_chance(&g->r, 40))
                    break;
            }
        gen_buf_put(&q.body, valid.p, valid.n);
        gen_buf_insert(&q.body, at, seq, strlen(seq));
        gen_describe(g, "%s %s: invalid UTF-8 (%zu bytes) in a string", rt->method, rt->pattern, strlen(seq));
        break;
    }
    case 5: { /* syntax errors */
        const char *junk = gen_tables_junk_bodies[gen_below(&g->r, GEN_TABLES_JUNK_BODIES)];
        gen_buf_str(&q.body, junk);
        gen_describe(g, "%s %s: body '%s'", rt->method, rt->pattern, junk[0] == '\x01' ? "\\x01{}" : junk);
        break;
    }
    case 6: { /* a valid body with something after it */
        static const char *const trailers[] = {"x", "{}", "\0", "\0{}", ",", "]", "\x1a"};
        size_t t = gen_below(&g->r, ARRAY_LEN(trailers));
        gen_buf_put(&q.body, valid.p, valid.n);
        gen_buf_put(&q.body, trailers[t], t == 2 || t == 3 ? (t == 2 ? 1 : 3) : strlen(trailers[t]));
        gen_describe(g, "%s %s: trailing bytes #%zu after the object", rt->method, rt->pattern, t);
        break;
    }
    default: { /* oddities, throw-away names only */
        size_t o = gen_below(&g->r, GEN_TABLES_ODD_BODIES);
        gen_buf_str(&q.body, gen_tables_odd_bodies[o]);
        if (gen_chance(&g->r, 20)) { /* and a content type that is not JSON */
            q.no_type = true;
            static const char *const types[] = {"text/plain",
                                                "application/x-www-form-urlencoded",
                                                "multipart/form-data; boundary=zz",
                                                "application/json; charset=utf-16",
                                                "",
                                                "application/json; charset=latin1",
                                                "*/*"};
            gen_buf_printf(&q.headers, "Content-Type: %s\r\n", GEN_PICK(&g->r, types));
        }
        gen_describe(g, "%s %s: odd body #%zu", rt->method, rt->pattern, o);
        break;
    }
    }
    if (must_refuse && !extra)
        gen_expect_status(g, 400, NULL);
    if (group >= 0)
        strncat(g->out->what, " [fixture]", sizeof g->out->what - strlen(g->out->what) - 1);
    gen_buf_free(&valid);
    gen_finish(g, &q);
}

/* ---- category: JSON nested 10,000 levels deep ---- */

static void nest(struct buf *b, int levels, int style, bool close)
{
    for (int i = 0; i < levels; i++)
        gen_buf_str(b, style == 0 || (style == 2 && i % 2) ? "[" : "{\"a\":");
    gen_buf_str(b, "1");
    if (!close)
        return;
    for (int i = levels - 1; i >= 0; i--)
        gen_buf_byte(b, style == 0 || (style == 2 && i % 2) ? ']' : '}');
}

void gen_body_deep_json(struct gen *g)
{
    static const int depths[] = {10000, 10000, 10000, 10000, 1000, 1001, 999, 5000, 20000};
    int levels = GEN_PICK(&g->r, depths), style = (int)gen_below(&g->r, 3);
    bool close = !gen_chance(&g->r, 15);
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
    size_t p = gen_below(&g->r, ARRAY_LEN(places));
    struct req q = {.method = places[p].method, .with_body = true};
    if (!strcmp(places[p].collection, "transactions"))
        gen_buf_str(&q.target, "/transactions");
    else
        gen_buf_printf(&q.target, "/%s/%s%s", places[p].collection, g->throwaway, places[p].path);
    gen_buf_str(&q.body, places[p].before);
    nest(&q.body, levels, style, close);
    if (close)
        gen_buf_str(&q.body, places[p].after);
    gen_describe(g, "%s /%s%s%s: %d levels of %s%s", q.method, places[p].collection,
                 strcmp(places[p].collection, "transactions") ? "/{name}" : "", places[p].path, levels,
                 style == 0   ? "arrays"
                 : style == 1 ? "objects"
                              : "both",
                 close ? "" : ", never closed");
    gen_finish(g, &q);
}

/* ---- category: huge bodies, near and over --max-body ---- */

/* A valid append body of exactly `size` bytes: one event whose data is a long string. */
static void sized_append(struct buf *b, size_t size)
{
    const char *head = "{\"events\":[{\"type\":\"t\",\"data\":\"", *tail = "\"}]}";
    size_t fixed = strlen(head) + strlen(tail);
    gen_buf_str(b, head);
    size_t fill = size > fixed ? size - fixed : 0;
    for (size_t i = 0; i < fill; i++)
        gen_buf_byte(b, (char)('a' + i % 26));
    gen_buf_str(b, tail);
}

static void chunked(struct buf *out, const char *data, size_t n, size_t chunk)
{
    for (size_t at = 0; at < n; at += chunk) {
        size_t len = n - at < chunk ? n - at : chunk;
        gen_buf_printf(out, "%zx\r\n", len);
        gen_buf_put(out, data + at, len);
        gen_buf_str(out, "\r\n");
    }
    gen_buf_str(out, "0\r\n\r\n");
}

void gen_body_huge(struct gen *g)
{
    const size_t max = HOSTILE_MAX_BODY;
    unsigned variant = (unsigned)(g->k % 14);
    /* Over-limit bodies may aim at a fixture: 413 is a refusal. */
    int group = variant >= 2 && variant <= 9 && gen_chance(&g->r, 50) ? FX_BODY : -1;
    const char *name = group >= 0 ? g->fx->stream[group] : g->throwaway;
    struct req q = {.method = "POST"};
    gen_buf_printf(&q.target, "/streams/%s/events", name);
    struct buf body = {0};
    switch (variant) {
    case 0: /* just under the limit */
        sized_append(&body, max - 1 - gen_below(&g->r, 200));
        q.with_body = true;
        q.body = body;
        gen_describe(g, "append of %zu bytes (under the limit)", body.n);
        gen_finish(g, &q);
        return;
    case 1: /* exactly the limit */
        sized_append(&body, max);
        q.with_body = true;
        q.body = body;
        gen_describe(g, "append of exactly --max-body (%zu) bytes", max);
        gen_finish(g, &q);
        return;
    case 2:
    case 3:
    case 4: { /* over the limit with Content-Length, sent in full without Expect */
        static const size_t factors[] = {1, 2, 16};
        size_t size = variant == 2 ? max + 1 + gen_below(&g->r, 100) : max * factors[variant - 2];
        sized_append(&body, size);
        q.with_body = true;
        q.body = body;
        gen_expect_status(g, 413, NULL);
        gen_describe(g, "append of %zu bytes with Content-Length, no Expect%s", size, group >= 0 ? " [fixture]" : "");
        gen_finish(g, &q);
        return;
    }
    case 5:
    case 6:
    case 7: { /* over the limit, chunked */
        static const double factors[] = {1.5, 5, 16};
        size_t size = (size_t)((double)max * factors[variant - 5]);
        sized_append(&body, size);
        gen_buf_str(&q.headers, "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n");
        struct buf framed = {0};
        chunked(&framed, body.p, body.n, 16384);
        gen_buf_free(&body);
        q.body = framed;
        q.with_body = true;
        q.no_length = q.no_type = true;
        gen_expect_status(g, 413, NULL);
        gen_describe(g, "append of %zu bytes chunked%s", size, group >= 0 ? " [fixture]" : "");
        gen_finish(g, &q);
        return;
    }
    case 8: /* Expect: 100-continue, over the limit, body sent anyway */
        sized_append(&body, max * 2);
        q.with_body = true;
        q.body = body;
        gen_buf_str(&q.headers, "Expect: 100-continue\r\n");
        gen_expect_status(g, 413, NULL);
        gen_describe(g, "append of %zu bytes with Expect: 100-continue%s", max * 2, group >= 0 ? " [fixture]" : "");
        gen_finish(g, &q);
        return;
    case 9: { /* a huge declared length and a small body */
        static const char *const lengths[] = {"99999999999999", "4294967296", "4294967297", "2147483648"};
        const char *len = GEN_PICK(&g->r, lengths);
        q.no_length = true;
        q.with_body = true;
        sized_append(&q.body, 100);
        gen_buf_printf(&q.headers, "Content-Length: %s\r\n", len);
        gen_expect_status(g, 413, NULL);
        gen_describe(g, "Content-Length %s with a 100-byte body%s", len, group >= 0 ? " [fixture]" : "");
        gen_finish(g, &q);
        g->out->garbage = true; /* the body never ends: closing is fine, answering 413 better */
        return;
    }
    case 10: { /* thousands of tiny chunks, over the limit */
        sized_append(&body, max + max / 2);
        gen_buf_str(&q.headers, "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n");
        struct buf framed = {0};
        chunked(&framed, body.p, body.n, 7);
        gen_buf_free(&body);
        q.body = framed;
        q.with_body = q.no_length = q.no_type = true;
        gen_expect_status(g, 413, NULL);
        gen_describe(g, "append of %zu bytes in 7-byte chunks", max + max / 2);
        gen_finish(g, &q);
        return;
    }
    case 11: /* a body on a route that takes none, over the limit */
        gen_buf_free(&q.target);
        gen_buf_str(&q.target, "/healthz");
        q.method = "GET";
        sized_append(&body, max * 2);
        q.with_body = true;
        q.body = body;
        gen_expect_status(g, 413, NULL);
        gen_describe(g, "GET /healthz with a %zu-byte body", max * 2);
        gen_finish(g, &q);
        return;
    case 12: { /* 1,000 events: the batch limit */
        q.with_body = true;
        gen_buf_str(&q.body, "{\"events\":[");
        int count = gen_chance(&g->r, 50) ? 1000 : 1001;
        for (int i = 0; i < count; i++)
            gen_buf_printf(&q.body, "%s{\"type\":\"t\",\"data\":%d}", i ? "," : "", i);
        gen_buf_str(&q.body, "]}");
        gen_describe(g, "append of %d events (%zu bytes)", count, q.body.n);
        gen_finish(g, &q);
        return;
    }
    default: { /* many keys in one object */
        q.with_body = true;
        gen_buf_str(&q.body, "{\"events\":[{\"type\":\"t\",\"data\":{");
        for (int i = 0; i < 5000; i++)
            gen_buf_printf(&q.body, "%s\"k%d\":%d", i ? "," : "", i, i);
        gen_buf_str(&q.body, "}}]}");
        gen_describe(g, "append with 5,000 keys in data (%zu bytes)", q.body.n);
        gen_finish(g, &q);
        return;
    }
    }
}
