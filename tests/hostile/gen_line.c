/* Hostile-request categories aimed at the request line (see gen.h): every
 * route with every method, bad names and ids in the path, bad query values,
 * bytes a request target must not hold, and broken request lines. */
#include "gen.h"

#include <stdio.h>
#include <string.h>

/* ---- routes with names ---- */

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

static size_t named_count(void)
{
    size_t n = 0;
    for (size_t r = 0; r < GEN_ROUTES; r++)
        n += gen_has_name(&gen_routes[r]);
    return n;
}

/* The i-th (cyclically) route with a name in its path. */
static const struct route *named_route(size_t i)
{
    i %= named_count();
    for (size_t r = 0; r < GEN_ROUTES; r++)
        if (gen_has_name(&gen_routes[r]) && i-- == 0)
            return &gen_routes[r];
    return &gen_routes[0];
}

/* ---- category: every route with every method ---- */

static const char *const methods[] = {"GET",      "HEAD",     "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
                                      "PROPFIND", "M-SEARCH", "FOO",  "get", "delete", "Post",  "CONNECT"};

void gen_line_route_method(struct gen *g)
{
    const struct route *rt = &gen_routes[g->k % GEN_ROUTES];
    const char *method = methods[(g->k / GEN_ROUTES) % ARRAY_LEN(methods)];
    struct req q = {.method = method};
    /* POST, PUT and DELETE could be a route somewhere: throw-away names only. */
    bool risky = !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "DELETE");
    int group = !risky && gen_chance(&g->r, 50) ? FX_MAIN : -1;
    gen_route_path(g, &q.target, rt, group);
    if (!strcmp(method, rt->method) && rt->body != B_NONE) {
        q.with_body = true;
        gen_body_valid(g, &q.body, rt->body, group);
    } else if (!gen_is_read(method) && gen_chance(&g->r, 50)) {
        q.with_body = true;
        if (rt->body != B_NONE && group < 0)
            gen_body_valid(g, &q.body, rt->body, -1);
        else
            gen_buf_str(&q.body, "{\"hostile\":true}");
    }
    gen_describe(g, "%s %s (%s names)", method, rt->pattern, group >= 0 ? "fixture" : "throw-away");
    gen_finish(g, &q);
}

/* ---- category: bad names and ids in the path ---- */

void gen_line_bad_name(struct gen *g)
{
    struct req q = {0};
    bool first_round = g->k < named_count();
    bool extra = !first_round && g->k % 5 == 4;
    const struct route *rt = extra ? &gen_api_extra[(g->k / 5) % GEN_API_EXTRA] : named_route(g->k);
    q.method = rt->method;

    unsigned variant = first_round ? 9 : (unsigned)gen_below(&g->r, 10);
    if (!extra && variant == 0) {
        /* A fixture's name with a percent-encoded NUL or slash after it: refused. */
        static const char *const tails[] = {"%00", "%00zzz", "%2F", "%2Fx", "%2F..", "%00%2F"};
        const char *tail = GEN_PICK(&g->r, tails);
        const char *name = gen_fixture_name(g, rt->pattern, FX_ENCODED);
        const char *second = gen_fixture_second(g, rt->pattern, FX_ENCODED);
        struct buf nb = {0};
        gen_buf_str(&nb, name);
        gen_buf_str(&nb, tail);
        gen_expand(&q.target, rt->pattern, nb.p, nb.n, second, strlen(second));
        gen_buf_free(&nb);
        if (rt->body != B_NONE) {
            q.with_body = true;
            gen_body_valid(g, &q.body, rt->body, FX_ENCODED);
        }
        gen_expect_status(g, 400, "invalid_name");
        gen_describe(g, "%s %s: fixture name + %s", rt->method, rt->pattern, tail);
        gen_finish(g, &q);
        return;
    }
    if (has_second(rt) && !extra && variant <= 3) {
        /* A bad id or offset after a valid throw-away name. */
        const char *bad = second_is_offset(rt) ? gen_tables_bad_offsets[gen_below(&g->r, GEN_TABLES_BAD_OFFSETS)]
                                               : gen_tables_bad_ids[gen_below(&g->r, GEN_TABLES_BAD_IDS)];
        gen_expand(&q.target, rt->pattern, g->throwaway, strlen(g->throwaway), bad, strlen(bad));
        if (rt->body != B_NONE) {
            q.with_body = true;
            gen_body_valid(g, &q.body, rt->body, -1);
        }
        gen_expect_status(g, 400, NULL);
        gen_describe(g, "%s %s: bad %s '%s'", rt->method, rt->pattern, second_is_offset(rt) ? "offset" : "id", bad);
        gen_finish(g, &q);
        return;
    }
    struct bad_value bad;
    struct buf long_name = {0};
    if (first_round) { /* an empty name on every route (POST /streams//events...) */
        bad = gen_tables_bad_names[0];
    } else if (variant == 4) {
        gen_buf_repeat(&long_name, "a", 201);
        bad = (struct bad_value){long_name.p, true};
    } else {
        bad = gen_tables_bad_names[gen_below(&g->r, GEN_TABLES_BAD_NAMES)];
    }
    const char *second = gen_throwaway_second(g, rt->pattern);
    gen_expand(&q.target, rt->pattern, bad.text, strlen(bad.text), second, strlen(second));
    if (rt->body != B_NONE) {
        q.with_body = true;
        gen_body_valid(g, &q.body, rt->body, -1);
    } else if (extra && !gen_is_read(rt->method)) {
        q.with_body = true;
        gen_buf_str(&q.body, "{\"offset\":0,\"url\":\"http://127.0.0.1:9/\",\"operations\":[]}");
    }
    bool empty = bad.text[0] == '\0';
    if (!extra && bad.refused && (!empty || name_then_literal(rt)))
        gen_expect_status(g, 400, "invalid_name");
    gen_describe(g, "%s %s: name '%.60s'%s", rt->method, rt->pattern, bad.text, strlen(bad.text) > 60 ? "..." : "");
    gen_buf_free(&long_name);
    gen_finish(g, &q);
}

/* ---- category: bad query values ---- */

void gen_line_bad_query(struct gen *g)
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
        gen_route_path(g, &q.target, gen_find_route("GET", text_params[g->k].pattern), FX_MAIN);
        gen_buf_printf(&q.target, "?%s=%%FF", text_params[g->k].param);
        gen_expect_status(g, 400, NULL);
        gen_describe(g, "GET %s ?%s=%%FF", text_params[g->k].pattern, text_params[g->k].param);
        gen_finish(g, &q);
        return;
    }
    const char *pattern = query_routes[g->k % ARRAY_LEN(query_routes)];
    const struct route *rt = gen_find_route("GET", pattern);
    struct req q = {.method = gen_chance(&g->r, 10) ? "HEAD" : "GET"};
    gen_route_path(g, &q.target, rt, gen_chance(&g->r, 50) ? FX_MAIN : -1);

    /* The parameter: one the route reads, or one it does not know. */
    char params[128], *names[8];
    int n = 0;
    snprintf(params, sizeof params, "%s", rt->params);
    for (char *save = NULL, *t = strtok_r(params, " ", &save); t && n < 8; t = strtok_r(NULL, " ", &save))
        names[n++] = t;
    const char *param = n > 0 && gen_chance(&g->r, 85) ? names[gen_below(&g->r, (size_t)n)] : "hostile";
    struct bad_query bad = gen_tables_bad_queries[gen_below(&g->r, GEN_TABLES_BAD_QUERIES)];
    struct buf long_value = {0};
    if (gen_chance(&g->r, 4)) {
        gen_buf_repeat(&long_value, "a", 5000);
        bad = (struct bad_query){long_value.p, false};
    }
    bool is_wait = !strcmp(param, "wait");
    static const char *const bad_waits[] = {"-1", "61", "abc", "1e9", "99999999999", "1.5"};
    if (is_wait && !bad.refused) /* never a valid wait: it would hold the request */
        bad = (struct bad_query){GEN_PICK(&g->r, bad_waits), false};

    /* A repeated parameter may be read first or last: only the single ones
     * must be refused. */
    unsigned shape = (unsigned)gen_below(&g->r, 6);
    switch (shape) {
    case 0: /* after an unknown parameter */
        gen_buf_printf(&q.target, "?x=1&%s=%s", param, bad.text);
        break;
    case 1: /* twice, good then bad */
        gen_buf_printf(&q.target, "?%s=1&%s=%s", param, param, bad.text);
        bad.refused = false;
        break;
    case 2: /* no '=' at all, and an empty name */
        gen_buf_printf(&q.target, "?%s&=%s&&&", param, bad.text);
        bad.refused = false;
        break;
    default:
        gen_buf_printf(&q.target, "?%s=%s", param, bad.text);
        break;
    }
    /* Only parameters the route reads must refuse what cannot be text (and
     * not wait, whose long poll the service does not implement yet). */
    bool read_by_route = strcmp(param, "hostile") != 0 && !is_wait;
    if (bad.refused && read_by_route)
        gen_expect_status(g, 400, NULL);
    gen_describe(g, "%s %s ?%s=%.60s (shape %u)", q.method, pattern, param, bad.text, shape);
    gen_buf_free(&long_value);
    gen_finish(g, &q);
}

/* ---- category: bytes a request target must not hold ---- */

void gen_line_target_bytes(struct gen *g)
{
    const struct route *rt = &gen_routes[g->k % GEN_ROUTES];
    const struct target_byte *tb =
        &gen_tables_target_bytes[(g->k / GEN_ROUTES + gen_below(&g->r, 3)) % GEN_TABLES_TARGET_BYTES];
    const int grp = FX_TARGET;
    /* The first round is the reported defect on every route: a raw NUL right
     * after the name (DELETE /queues/<fixture>\0zzz), or at the end (GET /version\0). */
    bool first_round = g->k < GEN_ROUTES;
    if (first_round)
        tb = &gen_tables_target_bytes[0];
    struct req q = {.method = rt->method};
    if (rt->body != B_NONE) {
        q.with_body = true;
        gen_body_valid(g, &q.body, rt->body, grp); /* would act on the fixture if the target were accepted */
    }
    /* Where the byte goes: 0 at the end of the path, 1 right after the name,
     * 2 at the end of the path then more, 3 in a query value, 4 after the first '/'. */
    unsigned where = first_round ? (gen_has_name(rt) ? 1 : 0) : (unsigned)gen_below(&g->r, 5);
    if (where == 1 && !gen_has_name(rt))
        where = 2;
    if (where == 0 && tb->blank)
        where = 2;
    if (where == 1) {
        const char *name = gen_fixture_name(g, rt->pattern, grp), *second = gen_fixture_second(g, rt->pattern, grp);
        struct buf nb = {0};
        gen_buf_str(&nb, name);
        gen_buf_put(&nb, tb->bytes, tb->len);
        gen_buf_str(&nb, "zzz");
        gen_expand(&q.target, rt->pattern, nb.p, nb.n, second, strlen(second));
        gen_buf_free(&nb);
    } else {
        gen_route_path(g, &q.target, rt, grp);
        if (where == 0) {
            gen_buf_put(&q.target, tb->bytes, tb->len);
        } else if (where == 2) {
            gen_buf_put(&q.target, tb->bytes, tb->len);
            gen_buf_str(&q.target, "zzz");
        } else if (where == 3) {
            gen_buf_str(&q.target, "?limit=1");
            gen_buf_put(&q.target, tb->bytes, tb->len);
            gen_buf_str(&q.target, "0");
        } else {
            gen_buf_insert(&q.target, 1, tb->bytes, tb->len);
        }
    }
    static const char *const places[] = {"at the end", "after the name", "before 'zzz' at the end", "in the query",
                                         "after the first '/'"};
    gen_describe(g, "%s %s: raw %s %s%s", rt->method, rt->pattern, tb->shown, places[where],
                 gen_has_name(rt) ? " [fixture]" : "");
    gen_expect_status(g, 400, NULL);
    g->out->garbage = true; /* closing without an answer is also a refusal */
    gen_finish(g, &q);
}

/* ---- category: broken request lines ---- */

void gen_line_broken(struct gen *g)
{
    struct buf *out = &g->req;
    unsigned variant = (unsigned)gen_below(&g->r, 4);
    g->out->garbage = true;
    if (variant == 0) { /* versions */
        static const char *const versions[] = {"HTTP/1.1x", "HTTP/1",   "HTTP/",       "http/1.1", "HTTP/01.1",
                                               "HTTP/1.10", "HTTP/2.0", "HTTP/3.0",    "HTTP/0.9", "HTTP/1.1 extra",
                                               "HTTP/ 1.1", "",         "HTTP/1.a",    "HTTP/9.9", "HTTPS/1.1",
                                               "HTTP/1.2",  "HTTP/1.0", "HTTP/1.1\x01"};
        const char *v = GEN_PICK(&g->r, versions);
        gen_buf_printf(out, "GET /version %s\r\nHost: 127.0.0.1\r\n\r\n", v);
        /* A well-formed version other than 1.x may be refused with 505 (RFC 9110 15.6.6). */
        g->out->allow_505 = strlen(v) == 8 && !strncmp(v, "HTTP/", 5) && v[5] >= '0' && v[5] <= '9' && v[5] != '1' &&
                            v[6] == '.' && v[7] >= '0' && v[7] <= '9';
        gen_describe(g, "GET /version '%s'", strchr(v, '\x01') ? "HTTP/1.1\\x01" : v);
        return;
    }
    if (variant == 1) { /* methods */
        static const char *const ms[] = {"",    "G\x01T", "GET\tX", "\x01GET", "GET GET", "\xc3\x89T\xc3\x89",
                                         "G(T", "GE:T",   "*"};
        size_t m = gen_below(&g->r, ARRAY_LEN(ms) + 1);
        if (m == ARRAY_LEN(ms)) {
            gen_buf_repeat(out, "G", 10000);
            gen_describe(g, "10 KB method");
        } else {
            gen_buf_str(out, ms[m]);
            gen_describe(g, "method #%zu", m);
        }
        gen_buf_str(out, " /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
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
        size_t t = gen_below(&g->r, ARRAY_LEN(targets) + 2);
        const char *method = gen_chance(&g->r, 20) ? (gen_chance(&g->r, 50) ? "OPTIONS" : "CONNECT") : "GET";
        gen_buf_printf(out, "%s ", method);
        if (t == ARRAY_LEN(targets)) {
            gen_buf_str(out, "/version?");
            gen_buf_repeat(out, "a", 10000);
            gen_describe(g, "%s with a 10 KB target", method);
        } else if (t == ARRAY_LEN(targets) + 1) {
            gen_buf_str(out, "/");
            gen_buf_repeat(out, "b", 100000);
            gen_describe(g, "%s with a 100 KB target", method);
        } else {
            gen_buf_str(out, targets[t]);
            gen_describe(g, "%s '%s'", method, targets[t]);
        }
        gen_buf_str(out, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
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
    size_t j = gen_below(&g->r, ARRAY_LEN(junk) + 2);
    if (j == ARRAY_LEN(junk)) { /* a TLS ClientHello */
        static const unsigned char hello[] = {
            0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
            0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
            0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00};
        gen_buf_put(out, hello, sizeof hello);
        gen_describe(g, "a TLS ClientHello");
    } else if (j == ARRAY_LEN(junk) + 1) { /* random bytes */
        for (int i = 0; i < 300; i++)
            gen_buf_byte(out, (char)(gen_rnd(&g->r) & 0xff));
        gen_buf_str(out, "\r\n\r\n");
        gen_describe(g, "300 random bytes");
    } else {
        gen_buf_str(out, junk[j]);
        g->out->allow_505 = j == 1;
        gen_describe(g, "request line junk #%zu", j);
    }
}
