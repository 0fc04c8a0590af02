/* Hostile-request categories aimed at the rest of the message (see gen.h):
 * wrong, odd and duplicated header fields, Host missing, doubled or invalid,
 * ambiguous framing (Content-Length, Transfer-Encoding, chunks) with requests
 * smuggled behind it, pipelines, and requests that never finish. */
#include "gen.h"

#include <stdio.h>
#include <string.h>

/* ---- category: wrong, odd and duplicated headers ---- */

void gen_message_headers(struct gen *g)
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
    bool read = gen_chance(&g->r, 50);
    const struct route *rt =
        read ? gen_find_route("GET", GEN_PICK(&g->r, reads)) : gen_body_route(gen_below(&g->r, GEN_TABLES_SHAPES));
    struct req q = {0};
    gen_plain_request(g, &q, rt, read ? FX_MAIN : -1);
    unsigned variant = (unsigned)gen_below(&g->r, 30);
    bool garbage = false;
    switch (variant) {
    case 0:
        gen_buf_str(&q.headers, "NoColonHere\r\n");
        garbage = true;
        break;
    case 1:
        gen_buf_str(&q.headers, "X-Hostile : spaced\r\n");
        garbage = true;
        break;
    case 2:
        gen_buf_str(&q.headers, "X-Folded: a\r\n  continued\r\n");
        garbage = true;
        break;
    case 3:
        gen_buf_str(&q.headers, "X-Long: ");
        gen_buf_repeat(&q.headers, "a", gen_chance(&g->r, 50) ? 10000 : 100000);
        gen_buf_str(&q.headers, "\r\n");
        garbage = true;
        break;
    case 4:
        for (int i = 0; i < 2000; i++)
            gen_buf_printf(&q.headers, "X-H%d: %d\r\n", i, i);
        garbage = true;
        break;
    case 5:
        gen_buf_put(&q.headers, "X-Nul: a\0b\r\n", 12);
        garbage = true;
        break;
    case 6:
        gen_buf_put(&q.headers, "X-N\0ul: ab\r\n", 12);
        garbage = true;
        break;
    case 7:
        gen_buf_str(&q.headers, "X-Cr: a\rb\r\n");
        garbage = true;
        break;
    case 8:
        gen_buf_str(&q.headers, ": empty-name\r\n");
        garbage = true;
        break;
    case 9:
        gen_buf_str(&q.headers, "X(Bad)Name: x\r\n");
        garbage = true;
        break;
    case 10:
        gen_buf_str(&q.headers, "X-Obs-Text: \x80\xff\xc3\xa9\r\n");
        break;
    case 11: {
        static const char *const ids[] = {"",       "../../etc/passwd",  "a b", "%00", "\xc3\xa9",
                                          "x\x01y", "'; DROP TABLE x;--"};
        gen_buf_printf(&q.headers, "X-Request-Id: %s\r\n", GEN_PICK(&g->r, ids));
        break;
    }
    case 12:
        garbage = true; /* large: a 431 or a close is fine */
        gen_buf_str(&q.headers, "X-Request-Id: ");
        gen_buf_repeat(&q.headers, "r", 5000);
        gen_buf_str(&q.headers, "\r\nX-Request-Id: second\r\n");
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
        gen_buf_printf(&q.headers, "Content-Type: %s\r\n", GEN_PICK(&g->r, types));
        if (!q.with_body) {
            q.with_body = true;
            gen_buf_str(&q.body, "a=b");
        }
        break;
    }
    case 14:
        garbage = true; /* large: a 431 or a close is fine */
        q.no_type = true;
        gen_buf_str(&q.headers, "Content-Type: application/");
        gen_buf_repeat(&q.headers, "j", 7000);
        gen_buf_str(&q.headers, "\r\n");
        break;
    case 15: {
        static const char *const accepts[] = {"application/x-ndjson", "*/*;q=abc", "text/event-stream",
                                              "application/x-ndjson;q=0", "application/x-ndjson, application/json"};
        gen_buf_printf(&q.headers, "Accept: %s\r\n", GEN_PICK(&g->r, accepts));
        break;
    }
    case 16:
        garbage = true; /* large: a 431 or a close is fine */
        gen_buf_str(&q.headers, "Accept: ");
        gen_buf_repeat(&q.headers, "application/x-ndjson,", 400);
        gen_buf_str(&q.headers, "\r\n");
        break;
    case 17: {
        static const char *const conds[] = {"If-None-Match: W/\"1\", \"2\", *",           "If-None-Match: \"",
                                            "If-None-Match: \"99999999999999999999999\"", "If-Match: \"abc\"",
                                            "If-None-Match: *\r\nIf-Match: \"1\"",        "If-Match: \"-5\"",
                                            "If-Match: \"9223372036854775808\""};
        if (read || rt->body == B_APPEND)
            gen_buf_printf(&q.headers, "%s\r\n", GEN_PICK(&g->r, conds));
        break;
    }
    case 18:
        gen_buf_str(&q.headers, "Expect: something-else\r\n");
        break;
    case 19:
        gen_buf_str(&q.headers,
                    "Connection: keep-alive, Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n");
        break;
    case 20:
        gen_buf_str(&q.headers,
                    "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\n");
        break;
    case 21:
        gen_buf_str(&q.headers, "Authorization: Bearer \x01\x02\r\n");
        break;
    case 22:
        gen_buf_str(&q.headers, "Range: bytes=0-1,-5,100000000000000000000-\r\nAccept-Encoding: gzip, br, zstd\r\n");
        break;
    case 23:
        gen_buf_str(&q.headers, "Content-Encoding: gzip\r\n");
        break;
    case 24:
        gen_buf_str(&q.headers, "Transfer-Encoding: gzip\r\n");
        garbage = true;
        break;
    case 25:
        gen_buf_str(&q.headers, "Connection: close, close, keep-alive\r\nKeep-Alive: timeout=-1, max=abc\r\n");
        break;
    case 26: { /* line endings of a bare LF throughout */
        struct buf lf = {0};
        gen_emit(&lf, &q);
        for (size_t i = 0; i < lf.n; i++)
            if (!(lf.p[i] == '\r' && i + 1 < lf.n && lf.p[i + 1] == '\n'))
                gen_buf_byte(&g->req, lf.p[i]);
        gen_buf_free(&lf);
        g->out->head = false;
        g->out->garbage = true;
        gen_describe(g, "%s %s with bare LF line endings", rt->method, rt->pattern);
        gen_req_free(&q);
        return;
    }
    case 27:
        garbage = true; /* large: a 431 or a close is fine */
        gen_buf_str(&q.headers, "X-Forwarded-For: ");
        gen_buf_repeat(&q.headers, "1.2.3.4, ", 600);
        gen_buf_str(&q.headers, "\r\nForwarded: for=\"[::1\r\n");
        break;
    case 28:
        garbage = true; /* large: a 431 or a close is fine */
        gen_buf_str(&q.headers, "Cookie: ");
        gen_buf_repeat(&q.headers, "a=b; ", 1000);
        gen_buf_str(&q.headers, "\r\n");
        break;
    default:
        gen_buf_str(&q.headers, "\r\n"); /* an empty line early: what follows is the body */
        garbage = true;
        break;
    }
    gen_describe(g, "%s %s: header variant %u", rt->method, rt->pattern, variant);
    g->out->garbage = garbage;
    gen_finish(g, &q);
}

/* ---- categories: Host missing, or twice, or invalid ---- */

void gen_message_no_host(struct gen *g)
{
    const struct route *rt = &gen_routes[g->k % GEN_ROUTES];
    struct req q = {0};
    gen_plain_request(g, &q, rt, FX_NOHOST);
    q.no_host = true;
    if (gen_chance(&g->r, 20))
        gen_buf_str(&q.headers, "X-Host: 127.0.0.1\r\n");
    gen_expect_status(g, 400, NULL);
    gen_describe(g, "HTTP/1.1 %s %s without Host%s", rt->method, rt->pattern, gen_has_name(rt) ? " [fixture]" : "");
    gen_finish(g, &q);
}

void gen_message_dup_host(struct gen *g)
{
    const struct route *rt = &gen_routes[g->k % GEN_ROUTES];
    struct req q = {0};
    gen_plain_request(g, &q, rt, FX_DUPHOST);
    q.no_host = true;
    static const char *const hosts[] = {"Host: 127.0.0.1\r\nHost: example.com\r\n",
                                        "Host: 127.0.0.1\r\nHost: 127.0.0.1\r\n",
                                        "Host: a b\r\n",
                                        "Host: x/y\r\n",
                                        "Host: 127.0.0.1, example.com\r\n",
                                        "Host: x@y\r\n",
                                        "Host: \x01\r\n",
                                        "Host: [::1\r\n"};
    size_t h = gen_below(&g->r, ARRAY_LEN(hosts));
    gen_buf_str(&q.headers, hosts[h]);
    gen_expect_status(g, 400, NULL);
    gen_describe(g, "%s %s with Host variant %zu (%s)%s", rt->method, rt->pattern, h,
                 h < 2    ? "two Host lines"
                 : h == 4 ? "two hosts in one"
                          : "invalid host",
                 gen_has_name(rt) ? " [fixture]" : "");
    gen_finish(g, &q);
}

/* ---- category: framing: Content-Length, Transfer-Encoding, chunks, smuggling ---- */

/* A request hidden after an ambiguously framed one: it would damage the
 * framing fixture if the service ever ran it. */
static void smuggled(struct gen *g, struct buf *b)
{
    const int grp = FX_FRAMING;
    switch (gen_below(&g->r, 6)) {
    case 0:
        gen_buf_printf(b, "DELETE /queues/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", g->fx->queue[grp]);
        break;
    case 1:
        gen_buf_printf(b, "POST /queues/%s/purge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
                       g->fx->queue[grp]);
        break;
    case 2:
        gen_buf_printf(b, "DELETE /streams/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", g->fx->stream[grp]);
        break;
    case 3:
        gen_buf_printf(b, "POST /streams/%s/archive HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
                       g->fx->stream[grp]);
        break;
    case 4:
        gen_buf_printf(b, "DELETE /queues/%s/dead-letters/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", g->fx->queue[grp],
                       g->fx->message_id[grp][1]);
        break;
    default:
        gen_buf_printf(b,
                       "POST /queues/%s/dequeue HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 27\r\n\r\n"
                       "{\"visibility_timeout\":3600}",
                       g->fx->queue[grp]);
        break;
    }
}

void gen_message_framing(struct gen *g)
{
    unsigned variant = (unsigned)gen_below(&g->r, 20);
    struct buf *out = &g->req;
    struct buf hidden = {0};
    smuggled(g, &hidden);
    gen_buf_printf(out, "POST /streams/%s/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n",
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
            gen_buf_printf(out, "Content-Length: 2\r\nContent-Length: %zu\r\n\r\n{}", total);
            gen_describe(g, "two Content-Length (2, %zu) hiding a request", total);
            break;
        case 1:
            gen_buf_printf(out, "Content-Length: %zu\r\nContent-Length: 2\r\n\r\n{}", total);
            gen_describe(g, "two Content-Length (%zu, 2) hiding a request", total);
            break;
        case 2:
            gen_buf_printf(out, "Content-Length: 2, %zu\r\n\r\n{}", total);
            gen_describe(g, "Content-Length list (2, %zu) hiding a request", total);
            break;
        case 3:
        case 4:
        case 5: { /* Transfer-Encoding (plain or obfuscated) and Content-Length */
            const char *enc = GEN_PICK(&g->r, te);
            bool te_first = variant != 4;
            size_t cl = 5 + hidden.n;
            if (te_first)
                gen_buf_printf(out, "Transfer-Encoding: %s\r\nContent-Length: %zu\r\n\r\n0\r\n\r\n", enc, cl);
            else
                gen_buf_printf(out, "Content-Length: %zu\r\nTransfer-Encoding: %s\r\n\r\n0\r\n\r\n", cl, enc);
            gen_describe(g, "Transfer-Encoding '%s' %s Content-Length %zu hiding a request",
                         enc[0] == '\x0b' ? "\\x0bchunked" : enc, te_first ? "before" : "after", cl);
            break;
        }
        case 6: { /* Content-Length 2 and an obfuscated chunked encoding */
            const char *enc = GEN_PICK(&g->r, te);
            gen_buf_printf(out, "Content-Length: 2\r\nTransfer-Encoding: %s\r\n\r\n{}", enc);
            gen_describe(g, "Content-Length 2 and Transfer-Encoding '%s' hiding a request",
                         enc[0] == '\x0b' ? "\\x0bchunked" : enc);
            break;
        }
        case 7: { /* a Content-Length that is not a number */
            /* Not "2,": a list with an empty element is a valid length of 2. */
            static const char *const cls[] = {"2x", "-2", "+2", "0x2", "2 2", "2.0", "02a", "\"2\"", "2;"};
            const char *cl = GEN_PICK(&g->r, cls);
            gen_buf_printf(out, "Content-Length: %s\r\n\r\n{}", cl);
            gen_describe(g, "Content-Length '%s' hiding a request", cl);
            break;
        }
        default: /* two Transfer-Encoding headers */
            gen_buf_str(out,
                        "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\n{}");
            gen_describe(g, "Transfer-Encoding chunked + identity + Content-Length hiding a request");
            break;
        }
        gen_buf_put(out, hidden.p, hidden.n);
        g->out->smuggle = true;
        g->out->garbage = true;
        gen_buf_free(&hidden);
        return;
    }
    gen_buf_free(&hidden);
    struct buf body = {0};
    gen_buf_str(&body, "{\"events\":[{\"type\":\"t\",\"data\":{\"framing\":true}}]}");
    g->out->garbage = true;
    switch (variant) {
    case 9: { /* bad chunk sizes */
        static const char *const sizes[] = {"zz",  "-1",      "fffffffffffffffffff", "0x2", " 2", "2 ;", "+2", "",
                                            "1_0", "ffffffff"};
        const char *size = GEN_PICK(&g->r, sizes);
        gen_buf_printf(out, "Transfer-Encoding: chunked\r\n\r\n%s\r\n%s\r\n0\r\n\r\n", size, body.p);
        gen_describe(g, "chunk size '%s'", size);
        break;
    }
    case 10: /* chunk data longer than its size */
        gen_buf_printf(out, "Transfer-Encoding: chunked\r\n\r\n5\r\n%s\r\n0\r\n\r\n", body.p);
        gen_describe(g, "chunk longer than its size");
        break;
    case 11: /* no CRLF after the chunk data */
        gen_buf_printf(out, "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%s0\r\n\r\n", body.n, body.p);
        gen_describe(g, "chunk without its CRLF");
        break;
    case 12: /* a chunk extension 10 KB long */
        gen_buf_printf(out, "Transfer-Encoding: chunked\r\n\r\n%zx;", body.n);
        gen_buf_repeat(out, "e", 10000);
        gen_buf_printf(out, "\r\n%s\r\n0\r\n\r\n", body.p);
        gen_describe(g, "10 KB chunk extension");
        break;
    case 13: /* trailers, valid */
        gen_buf_printf(out, "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n", body.n, body.p);
        gen_describe(g, "chunked with trailers");
        g->out->garbage = false;
        break;
    case 14: /* one-byte chunks, valid */
        gen_buf_str(out, "Transfer-Encoding: chunked\r\n\r\n");
        for (size_t i = 0; i < body.n; i++)
            gen_buf_printf(out, "1\r\n%c\r\n", body.p[i]);
        gen_buf_str(out, "0\r\n\r\n");
        gen_describe(g, "chunked in 1-byte chunks");
        g->out->garbage = false;
        break;
    case 15: /* chunk lines ending in a bare LF */
        gen_buf_printf(out, "Transfer-Encoding: chunked\r\n\r\n%zx\n%s\n0\n\n", body.n, body.p);
        gen_describe(g, "chunk lines with bare LF");
        break;
    case 16: /* Content-Length shorter than the body: the rest is garbage */
        gen_buf_printf(out, "Content-Length: %zu\r\n\r\n%s\x01\x02 garbage\r\n\r\n", body.n, body.p);
        gen_describe(g, "garbage after the body");
        break;
    case 17: /* identical duplicated Content-Length */
        gen_buf_printf(out, "Content-Length: %zu\r\nContent-Length: %zu\r\n\r\n%s", body.n, body.n, body.p);
        gen_describe(g, "two identical Content-Length");
        break;
    case 18: /* Content-Length 0 with a body following, on GET */
        gen_buf_free(out);
        gen_buf_printf(out, "GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n%s", body.p);
        gen_describe(g, "GET with Content-Length 0 and bytes after it");
        break;
    default: /* a huge chunk size announced, then nothing */
        gen_buf_str(out, "Transfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nabc");
        gen_describe(g, "chunk of 2^63 bytes announced");
        g->out->unfinished = true;
        break;
    }
    gen_buf_free(&body);
}

/* ---- category: pipelined requests ---- */

void gen_message_pipeline(struct gen *g)
{
    int n = 2 + (int)gen_below(&g->r, 3);
    char list[160] = "";
    for (int i = 0; i < n; i++) {
        struct req q = {0};
        unsigned pick = (unsigned)gen_below(&g->r, 8);
        switch (pick) {
        case 0:
            q.method = "GET";
            gen_buf_str(&q.target, "/healthz");
            break;
        case 1:
            q.method = "GET";
            gen_buf_printf(&q.target, "/streams/%s", g->fx->stream[FX_MAIN]);
            break;
        case 2:
            q.method = "GET";
            gen_buf_printf(&q.target, "/queues/%s/messages?limit=abc", g->fx->queue[FX_MAIN]);
            break;
        case 3:
            q.method = "POST";
            gen_buf_printf(&q.target, "/streams/%s/events", g->throwaway);
            q.with_body = true;
            gen_buf_str(&q.body, "{\"events\":[{\"type\":\"t\",\"data\"");
            break;
        case 4:
            q.method = "POST";
            gen_buf_printf(&q.target, "/queues/%s/messages", g->throwaway);
            q.with_body = true;
            gen_body_valid(g, &q.body, B_ENQUEUE, -1);
            break;
        case 5:
            q.method = "DELETE";
            gen_buf_printf(&q.target, "/queues/%s", g->throwaway);
            break;
        case 6:
            q.method = "PATCH";
            gen_buf_printf(&q.target, "/queues/%s", g->fx->queue[FX_MAIN]);
            break;
        default:
            q.method = "GET";
            gen_buf_str(&q.target, "/streams/%00/events");
            break;
        }
        if (i == n - 1 && gen_chance(&g->r, 50))
            gen_buf_str(&q.headers, "Connection: close\r\n");
        gen_emit(&g->req, &q);
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%u", i ? "," : "", pick);
        gen_req_free(&q);
    }
    g->out->requests = n;
    gen_describe(g, "%d pipelined requests (kinds %s)", n, list);
}

/* ---- category: requests that never finish ---- */

void gen_message_unfinished(struct gen *g)
{
    const struct route *rt = &gen_routes[g->k % GEN_ROUTES];
    int group = gen_chance(&g->r, 30) ? FX_UNFINISHED : -1; /* an unfinished request must never run */
    struct req q = {0};
    gen_plain_request(g, &q, rt, group);
    unsigned variant = (unsigned)gen_below(&g->r, 4);
    if (variant == 3 && !q.with_body)
        variant = 0;
    struct buf whole = {0};
    if (variant == 2) {
        gen_buf_str(&q.headers, "Transfer-Encoding: chunked\r\n");
        q.no_length = true;
        struct buf framed = {0};
        if (q.with_body) {
            gen_buf_printf(&framed, "%zx\r\n", q.body.n);
            gen_buf_put(&framed, q.body.p, q.body.n);
        } else {
            gen_buf_str(&framed, "10\r\nabc");
        }
        gen_buf_free(&q.body);
        q.body = framed;
        q.with_body = true;
    }
    gen_emit(&whole, &q);
    size_t header_end = (size_t)(strstr(whole.p, "\r\n\r\n") - whole.p) + 4;
    size_t cut;
    const char *how;
    switch (variant) {
    case 0:
        cut = 1 + gen_below(&g->r, header_end - 2); /* inside the request line or headers */
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
        cut = header_end + gen_below(&g->r, whole.n - header_end); /* body shorter than Content-Length */
        how = "body cut";
        break;
    }
    gen_buf_put(&g->req, whole.p, cut);
    gen_buf_free(&whole);
    gen_describe(g, "%s %s: %s at %zu%s", rt->method, rt->pattern, how, cut, group >= 0 ? " [fixture]" : "");
    g->out->unfinished = true;
    g->out->garbage = true;
    gen_req_free(&q);
}
