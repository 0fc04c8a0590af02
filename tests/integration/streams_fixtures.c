/* Helpers shared by the stream and event integration suites; see streams_fixtures.h. */
#include "streams_fixtures.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap)
{
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0)
        out = NULL;
    ck_assert_ptr_nonnull(out);
    return out;
}

char *format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = vformat(fmt, ap);
    va_end(ap);
    return out;
}

struct response *get(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *path = vformat(fmt, ap);
    va_end(ap);
    struct response *r = http(&svc, "GET", path, NULL, NULL);
    free(path);
    return r;
}

struct response *append_raw(const char *stream, const char *body, const char *const *headers)
{
    char *path = format("/streams/%s/events", stream);
    struct response *r = http(&svc, "POST", path, body, headers);
    free(path);
    return r;
}

struct response *appendf(const char *stream, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *body = vformat(fmt, ap);
    va_end(ap);
    struct response *r = append_raw(stream, body, NULL);
    free(body);
    return r;
}

struct response *post_action(const char *stream, const char *action)
{
    char *path = format("/streams/%s/%s", stream, action);
    struct response *r = http(&svc, "POST", path, NULL, NULL);
    free(path);
    return r;
}

const char *header(const struct response *r, const char *name)
{
    static char buf[4][512];
    static int next;
    return response_header(r, name, buf[next++ % 4], sizeof buf[0]);
}

void expect_json_at(int line, const struct response *r, long status)
{
    ck_assert_msg(r->status == status, "line %d: status %ld, want %ld; body %s", line, r->status, status,
                  r->body);
    const char *type = header(r, "Content-Type");
    ck_assert_msg(type && !strcmp(type, JSON_TYPE), "line %d: Content-Type %s", line, type ? type : "(none)");
    ck_assert_msg(r->json != NULL, "line %d: body is not JSON: %s", line, r->body);
    ck_assert_msg(header(r, "X-Request-Id") != NULL, "line %d: no X-Request-Id", line);
}

void expect_problem_at(int line, const struct response *r, long status, const char *code)
{
    ck_assert_msg(r->status == status, "line %d: status %ld, want %ld (%s); body %s", line, r->status, status,
                  code, r->body);
    const char *type = header(r, "Content-Type");
    ck_assert_msg(type && !strcmp(type, PROBLEM_TYPE), "line %d: Content-Type %s", line, type ? type : "(none)");
    ck_assert_msg(!strcmp(response_code(r), code), "line %d: code %s, want %s; body %s", line, response_code(r),
                  code, r->body);
    ck_assert_msg(response_int(r, "status") == status, "line %d: problem status field: %s", line, r->body);
    const cJSON *ptype = cJSON_GetObjectItemCaseSensitive(r->json, "type");
    char want[96];
    snprintf(want, sizeof want, "/problems/%s", code);
    ck_assert_msg(cJSON_IsString(ptype) && strstr(ptype->valuestring, want), "line %d: problem type: %s", line,
                  r->body);
    ck_assert_msg(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r->json, "title")), "line %d: no title", line);
    ck_assert_msg(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r->json, "detail")), "line %d: no detail", line);
    ck_assert_msg(header(r, "X-Request-Id") != NULL, "line %d: no X-Request-Id", line);
}

const cJSON *field(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    ck_assert_msg(item != NULL, "member %s is missing", name);
    return item;
}

const char *str_field(const cJSON *obj, const char *name)
{
    const cJSON *item = field(obj, name);
    ck_assert_msg(cJSON_IsString(item), "member %s is not a string", name);
    return item->valuestring;
}

long long int_field(const cJSON *obj, const char *name)
{
    const cJSON *item = field(obj, name);
    ck_assert_msg(cJSON_IsNumber(item), "member %s is not a number", name);
    return (long long)item->valuedouble;
}

bool matches(const char *pattern, const char *s)
{
    regex_t re;
    ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    bool ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

bool is_timestamp(const char *s)
{
    return matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$", s);
}

void expect_healthy(void)
{
    struct response *r = http(&svc, "GET", "/healthz", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    response_free(r);
}

void append_n(const char *stream, int n, const char *type)
{
    for (int done = 0; done < n;) {
        int batch = n - done < MAX_BATCH ? n - done : MAX_BATCH;
        size_t cap = 64 + (size_t)batch * 128, len = 0;
        char *body = malloc(cap);
        len += (size_t)snprintf(body + len, cap - len, "{\"events\":[");
        for (int k = 0; k < batch; k++)
            len += (size_t)snprintf(body + len, cap - len, "%s{\"type\":\"%s\",\"data\":{\"i\":%d}}", k ? "," : "",
                                    type, done + k);
        snprintf(body + len, cap - len, "]}");
        struct response *r = append_raw(stream, body, NULL);
        free(body);
        expect_json(r, 201);
        ck_assert_int_eq(response_int(r, "first_offset"), done);
        response_free(r);
        done += batch;
    }
}

struct response *append_one(const char *stream, const char *type)
{
    struct response *r = appendf(stream, "{\"events\":[{\"type\":\"%s\",\"data\":{}}]}", type);
    expect_json(r, 201);
    return r;
}
int streams_fixtures_main(Suite *suite)
{
    /* Small limits keep batch, body and export-paging edges cheap; a read batch
     * of 64 makes a 250-event export span several internal pages. */
    const char *args[] = {"--max-batch", "10", "--max-body", "65536", "--read-batch-size", "64", NULL};
    return harness_main(suite, args);
}
