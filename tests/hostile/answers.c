/* The service's answers to one hostile request (see hostile.h): HTTP/1.x
 * responses parsed out of the bytes that came back, and judged against the
 * rules every answer obeys and what the generator says the answer must be. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hostile.h"

/* ---- parsing ---- */

struct answer {
    int status;
    bool request_id, chunked;
    char content_type[128];
    const char *body; /* into the exchange buffer; NULL when none or chunked */
    size_t body_len;
};

/* Parses one response at buf[*pos...]: 1 when complete (and *pos moves past
 * it), 0 when more bytes are needed, -1 when the bytes are not a response. */
static int parse_answer(const char *buf, size_t len, size_t *pos, bool head, bool eof, struct answer *a)
{
    const char *p = buf + *pos;
    size_t avail = len - *pos;
    memset(a, 0, sizeof *a);
    if (avail == 0)
        return 0;
    if (memcmp(p, "HTTP/1.", avail < 7 ? avail : 7) != 0)
        return -1;
    const char *end = memmem(p, avail, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t header_len = (size_t)(end - p) + 4;
    if (header_len < 12 || p[8] != ' ' || sscanf(p + 9, "%3d", &a->status) != 1 || a->status < 100)
        return -1;
    long long content_length = -1;
    for (const char *line = (const char *)memchr(p, '\n', header_len) + 1; line < end;) {
        const char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
        size_t n = (size_t)(eol - line);
        char text[512];
        snprintf(text, sizeof text, "%.*s", (int)(n < sizeof text - 1 ? n : sizeof text - 1), line);
        char *colon = strchr(text, ':');
        if (colon) {
            *colon = '\0';
            const char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            if (!strcasecmp(text, "Content-Length"))
                content_length = strtoll(v, NULL, 10);
            else if (!strcasecmp(text, "Transfer-Encoding"))
                a->chunked = strcasestr(v, "chunked") != NULL;
            else if (!strcasecmp(text, "X-Request-Id"))
                a->request_id = true;
            else if (!strcasecmp(text, "Content-Type"))
                snprintf(a->content_type, sizeof a->content_type, "%s", v);
        }
        line = eol + 2;
    }
    size_t at = *pos + header_len;
    if (head || a->status < 200 || a->status == 204 || a->status == 304) {
        *pos = at;
        return 1;
    }
    if (a->chunked) {
        for (;;) {
            const char *eol = memmem(buf + at, len - at, "\r\n", 2);
            if (!eol)
                return 0;
            unsigned long long size = strtoull(buf + at, NULL, 16);
            at = (size_t)(eol - buf) + 2;
            if (size == 0) {
                /* Trailers, if any, end with an empty line. */
                for (;;) {
                    const char *te = memmem(buf + at, len - at, "\r\n", 2);
                    if (!te)
                        return 0;
                    bool empty = te == buf + at;
                    at = (size_t)(te - buf) + 2;
                    if (empty) {
                        *pos = at;
                        return 1;
                    }
                }
            }
            if (len - at < size + 2)
                return 0;
            at += size + 2;
        }
    }
    if (content_length >= 0) {
        if (len - at < (size_t)content_length)
            return 0;
        a->body = buf + at;
        a->body_len = (size_t)content_length;
        *pos = at + (size_t)content_length;
        return 1;
    }
    if (!eof) /* delimited by the close */
        return 0;
    a->body = buf + at;
    a->body_len = len - at;
    *pos = len;
    return 1;
}

/* Final answers complete in the buffer (interim 1xx ones skipped). */
int answers_complete(const struct exchange *x, bool head, bool eof)
{
    size_t pos = 0;
    int n = 0;
    struct answer a;
    while (parse_answer(x->buf, x->len, &pos, head && n == 0, eof, &a) == 1)
        if (a.status >= 200)
            n++;
    return n;
}

/* ---- checks ---- */

/* What is wrong with one answer, into `why` (empty when nothing). */
static void judge_answer(const struct hreq *q, const struct answer *a, bool first, char *why, size_t size)
{
    why[0] = '\0';
    int s = a->status;
    if (s >= 500 && s != 503 && !(s == 505 && q->allow_505)) {
        snprintf(why, size, "status %d", s);
        return;
    }
    if ((s >= 400 && s < 500) || s == 503) {
        if (a->request_id) {
            if (strncasecmp(a->content_type, "application/problem+json", 24) != 0) {
                snprintf(why, size, "status %d written by the service with Content-Type '%s'", s, a->content_type);
                return;
            }
            if (a->body) {
                cJSON *doc = cJSON_ParseWithLength(a->body, a->body_len);
                const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "status");
                const cJSON *code = cJSON_GetObjectItemCaseSensitive(doc, "code");
                bool ok = cJSON_IsObject(doc) && cJSON_IsNumber(st) && st->valuedouble == s && cJSON_IsString(code);
                cJSON_Delete(doc);
                if (!ok) {
                    snprintf(why, size, "status %d problem body lacks a matching status or a code: %.80s", s, a->body);
                    return;
                }
            }
        }
    }
    if (!first)
        return;
    if (q->expect == EXPECT_STATUS && s != q->status) {
        snprintf(why, size, "status %d, must be %d", s, q->status);
        return;
    }
    if (q->expect == EXPECT_STATUS && q->code && a->body) {
        cJSON *doc = cJSON_ParseWithLength(a->body, a->body_len);
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(doc, "code");
        if (!cJSON_IsString(code) || strcmp(code->valuestring, q->code) != 0)
            snprintf(why, size, "status %d with code '%s', must be '%s'", s,
                     cJSON_IsString(code) ? code->valuestring : "(none)", q->code);
        cJSON_Delete(doc);
        return;
    }
    if (q->expect == EXPECT_REFUSED && (s < 400 || s >= 500))
        snprintf(why, size, "status %d, must be refused with a 4xx", s);
}

void answers_judge(uint64_t index, const struct hreq *q, const struct exchange *x)
{
    char why[240] = "";
    if (x->connect_failed) {
        report_fail(index, q->category, q->what, "could not connect: %s", strerror(x->connect_errno));
        return;
    }
    bool eof = x->eof || x->reset;
    int wanted = q->requests > 0 ? q->requests : 1;
    size_t pos = 0;
    int n = 0, statuses[2] = {0};
    struct answer a;
    int r;
    /* The answers owed; past them, only a smuggled request's answer matters
     * (libmicrohttpd 0.9.75 sends some early error headers twice: junk there
     * is not judged). */
    while ((r = parse_answer(x->buf, x->len, &pos, q->head && n == 0, eof, &a)) == 1) {
        if (a.status < 200)
            continue;
        if (n < 2)
            statuses[n] = a.status;
        n++;
        if (n > wanted)
            continue;
        char one[240];
        judge_answer(q, &a, n == 1, one, sizeof one);
        if (one[0] && !why[0])
            snprintf(why, sizeof why, "%s%s", n > 1 ? "pipelined answer: " : "", one);
        report_answer(a.status);
    }
    if (n < wanted && r == -1 && !why[0])
        snprintf(why, sizeof why, "not an HTTP answer: %.60s", x->buf + pos);
    else if (n < wanted && r == 0 && pos < x->len && eof && !why[0])
        snprintf(why, sizeof why, "answer cut short after %zu bytes", x->len - pos);
    if (n == 0) {
        report_silent(q->category, eof);
        if (!q->garbage && !why[0])
            snprintf(why, sizeof why, "%s",
                     eof ? (x->reset ? "connection reset without an answer" : "connection closed without an answer")
                         : "no answer in time");
    } else if (q->smuggle && n > wanted) {
        snprintf(why, sizeof why, "answered the request hidden after it: statuses %d then %d", statuses[0],
                 statuses[1]);
    } else if (n < q->requests && !q->garbage && !why[0]) {
        snprintf(why, sizeof why, "%d answers to %d pipelined requests", n, q->requests);
    }
    if (why[0])
        report_fail(index, q->category, q->what, "%s", why);
}
