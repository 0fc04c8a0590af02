/* Helpers shared by the queue integration suites; see queue_fixtures.h. */
#include "queue_fixtures.h"

#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *qf_fmt(const char *fmt, ...)
{
    static char bufs[8][2048];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && (size_t)n < sizeof bufs[0], "qf_fmt: %d characters do not fit", n);
    return b;
}

struct response *qf_send(const char *method, const char *path, const char *body)
{
    return http(&svc, method, path, body, NULL);
}

struct response *qf_sendf(const char *method, const char *path, const char *fmt, ...)
{
    char *body = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&body, fmt, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    struct response *r = http(&svc, method, path, body, NULL);
    free(body);
    return r;
}

struct response *qf_settle(const char *queue, const char *id, const char *action, const char *body)
{
    return qf_send("POST", qf_fmt("/queues/%s/messages/%s/%s", queue, id, action), body);
}

const char *qf_header(const struct response *r, const char *name)
{
    static char buf[4][512];
    static int next;
    return response_header(r, name, buf[next++ % 4], sizeof buf[0]);
}

void qf_expect_json_at(int line, const struct response *r, long status)
{
    ck_assert_msg(r->status == status, "line %d: status %ld, want %ld; body %s", line, r->status, status,
                  r->body);
    const char *type = qf_header(r, "Content-Type");
    ck_assert_msg(type && !strcmp(type, QF_JSON_TYPE), "line %d: Content-Type %s", line, type ? type : "(none)");
    ck_assert_msg(r->json != NULL, "line %d: body is not JSON: %s", line, r->body);
    ck_assert_msg(qf_header(r, "X-Request-Id") != NULL, "line %d: no X-Request-Id", line);
}

void qf_expect_problem_at(int line, const struct response *r, long status, const char *code)
{
    ck_assert_msg(r->status == status, "line %d: status %ld, want %ld (%s); body %s", line, r->status, status,
                  code, r->body);
    const char *type = qf_header(r, "Content-Type");
    ck_assert_msg(type && !strcmp(type, QF_PROBLEM_TYPE), "line %d: Content-Type %s", line,
                  type ? type : "(none)");
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
    ck_assert_msg(qf_header(r, "X-Request-Id") != NULL, "line %d: no X-Request-Id", line);
}

const cJSON *qf_field(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    ck_assert_msg(item != NULL, "member %s is missing", name);
    return item;
}

const char *qf_str_field(const cJSON *obj, const char *name)
{
    const cJSON *item = qf_field(obj, name);
    ck_assert_msg(cJSON_IsString(item), "member %s is not a string", name);
    return item->valuestring;
}

long long qf_int_field(const cJSON *obj, const char *name)
{
    const cJSON *item = qf_field(obj, name);
    ck_assert_msg(cJSON_IsNumber(item), "member %s is not a number", name);
    return (long long)item->valuedouble;
}

const cJSON *qf_item(const cJSON *obj, const char *name, int i)
{
    const cJSON *arr = qf_field(obj, name);
    ck_assert_msg(cJSON_IsArray(arr), "member %s is not an array", name);
    const cJSON *item = cJSON_GetArrayItem(arr, i);
    ck_assert_msg(item != NULL, "%s[%d] is missing (size %d)", name, i, cJSON_GetArraySize(arr));
    return item;
}

int qf_count(const cJSON *obj, const char *name)
{
    const cJSON *arr = qf_field(obj, name);
    ck_assert_msg(cJSON_IsArray(arr), "member %s is not an array", name);
    return cJSON_GetArraySize(arr);
}

static bool matches(const char *pattern, const char *s)
{
    regex_t re;
    ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    bool ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

bool qf_is_timestamp(const char *s)
{
    return s && matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$", s);
}

double qf_ts(const char *s)
{
    ck_assert_msg(qf_is_timestamp(s), "not a timestamp: %s", s ? s : "(null)");
    struct tm tm = {0};
    int usec = 0;
    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
           &tm.tm_sec, &usec);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm) + usec / 1e6;
}

double qf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

bool qf_is_uuid(const char *s)
{
    return s && matches("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", s);
}

void qf_uuid(char out[QF_UUID_LEN + 1])
{
    unsigned char b[16];
    int fd = open("/dev/urandom", O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(read(fd, b, sizeof b), (ssize_t)sizeof b);
    close(fd);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, QF_UUID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

void qf_expect_healthy(void)
{
    struct response *r = http(&svc, "GET", "/healthz", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    response_free(r);
}

void qf_enqueue_n(const char *queue, int n, const char *type, char (*ids)[QF_UUID_LEN + 1])
{
    for (int done = 0; done < n;) {
        int batch = n - done < QF_MAX_BATCH ? n - done : QF_MAX_BATCH;
        size_t cap = 64 + (size_t)batch * 160, len = 0;
        char *body = malloc(cap);
        len += (size_t)snprintf(body + len, cap - len, "{\"messages\":[");
        for (int k = 0; k < batch; k++)
            len += (size_t)snprintf(body + len, cap - len, "%s{\"type\":\"%s\",\"data\":{\"i\":%d}}", k ? "," : "",
                                    type, done + k);
        snprintf(body + len, cap - len, "]}");
        struct response *r = qf_send("POST", qf_fmt("/queues/%s/messages", queue), body);
        free(body);
        QF_EXPECT_JSON(r, 201);
        ck_assert_int_eq(qf_count(r->json, "messages"), batch);
        for (int k = 0; ids && k < batch; k++)
            snprintf(ids[done + k], QF_UUID_LEN + 1, "%s", qf_str_field(qf_item(r->json, "messages", k), "id"));
        response_free(r);
        done += batch;
    }
}

int qf_dequeue(const char *queue, const char *body, struct qf_delivery *out, int max)
{
    struct response *r = qf_send("POST", qf_fmt("/queues/%s/dequeue", queue), body);
    QF_EXPECT_JSON(r, 200);
    int n = qf_count(r->json, "messages");
    for (int i = 0; i < n && i < max; i++) {
        const cJSON *m = qf_item(r->json, "messages", i);
        snprintf(out[i].id, sizeof out[i].id, "%s", qf_str_field(m, "id"));
        snprintf(out[i].type, sizeof out[i].type, "%s", qf_str_field(m, "type"));
        snprintf(out[i].receipt, sizeof out[i].receipt, "%s", qf_str_field(m, "receipt"));
        snprintf(out[i].visible_until, sizeof out[i].visible_until, "%s", qf_str_field(m, "visible_until"));
        out[i].delivery_count = qf_int_field(m, "delivery_count");
    }
    response_free(r);
    return n;
}

void qf_dequeue_one(const char *queue, const char *body, struct qf_delivery *out)
{
    ck_assert_int_eq(qf_dequeue(queue, body, out, 1), 1);
}

long long qf_meta(const char *queue, const char *name)
{
    struct response *r = qf_send("GET", qf_fmt("/queues/%s", queue), NULL);
    QF_EXPECT_JSON(r, 200);
    long long v = response_int(r, name);
    ck_assert_msg(v != LLONG_MIN, "queue %s: no integer %s in %s", queue, name, r->body);
    response_free(r);
    return v;
}

void qf_expect_counts_at(int line, const char *queue, long long pending, long long in_flight, long long delayed,
                         long long dead_letters)
{
    struct response *r = qf_send("GET", qf_fmt("/queues/%s", queue), NULL);
    qf_expect_json_at(line, r, 200);
    ck_assert_msg(response_int(r, "pending") == pending && response_int(r, "in_flight") == in_flight &&
                      response_int(r, "delayed") == delayed && response_int(r, "dead_letters") == dead_letters,
                  "line %d: want pending %lld, in_flight %lld, delayed %lld, dead_letters %lld; got %s", line,
                  pending, in_flight, delayed, dead_letters, r->body);
    response_free(r);
}

void qf_expect_absent_at(int line, const char *path, const char *code)
{
    struct response *r = qf_send("GET", path, NULL);
    qf_expect_problem_at(line, r, 404, code);
    response_free(r);
}

int qf_wait_dead_letters(const char *queue, int n, int timeout_ms)
{
    int seen = -1;
    for (int waited = 0;; waited += 50) {
        struct response *r = qf_send("GET", qf_fmt("/queues/%s/dead-letters", queue), NULL);
        QF_EXPECT_JSON(r, 200);
        seen = qf_count(r->json, "dead_letters");
        response_free(r);
        if (seen >= n || waited >= timeout_ms)
            return seen;
        usleep(50 * 1000);
    }
}

int qf_main(Suite *suite)
{
    const char *args[] = {"--max-batch", "10", "--max-body", "65536", "--sweep-interval-ms", "200", NULL};
    return harness_main(suite, args);
}
