/* Request helpers and response checks shared by the integration suites; see checks.h. */
#include "checks.h"

#include "exchange_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *fmt(const char *format, ...)
{
    static char bufs[8][2048];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(b, sizeof bufs[0], format, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && (size_t)n < sizeof bufs[0], "fmt: %d characters do not fit", n);
    return b;
}

/* A new string (free it) printed from `format`; asserts the allocation succeeded. */
static char *vformat(const char *format, va_list ap)
{
    char *out = NULL;
    if (vasprintf(&out, format, ap) < 0)
        out = NULL;
    ck_assert_ptr_nonnull(out);
    return out;
}

struct response *request(const char *method, const char *path, const char *body)
{
    return http(&svc, method, path, body, NULL);
}

struct response *requestf(const char *method, const char *path, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    char *body = vformat(format, ap);
    va_end(ap);
    struct response *r = request(method, path, body);
    free(body);
    return r;
}

struct response *get(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    char *path = vformat(format, ap);
    va_end(ap);
    struct response *r = request("GET", path, NULL);
    free(path);
    return r;
}

char *numbered_batch(const char *member, const char *type, int first, int count)
{
    size_t cap = 64 + strlen(member) + (size_t)count * (strlen(type) + 48), len = 0;
    char *body = malloc(cap);
    ck_assert_ptr_nonnull(body);
    len += (size_t)snprintf(body, cap, "{\"%s\":[", member);
    for (int k = 0; k < count; k++)
        len += (size_t)snprintf(body + len, cap - len, "%s{\"type\":\"%s\",\"data\":{\"i\":%d}}", k ? "," : "", type,
                                first + k);
    snprintf(body + len, cap - len, "]}");
    return body;
}

const char *header(const struct response *r, const char *name)
{
    static char buf[4][512];
    static int next;
    return response_header(r, name, buf[next++ % 4], sizeof buf[0]);
}

void expect_json_at(int line, const struct response *r, long status)
{
    ck_assert_msg(r->status == status, "line %d: status %ld, want %ld; body %s", line, r->status, status, r->body);
    const char *type = header(r, "Content-Type");
    ck_assert_msg(type && !strcmp(type, JSON_TYPE), "line %d: Content-Type %s", line, type ? type : "(none)");
    ck_assert_msg(r->json != NULL, "line %d: body is not JSON: %s", line, r->body);
    ck_assert_msg(header(r, "X-Request-Id") != NULL, "line %d: no X-Request-Id", line);
}

void expect_problem_at(int line, const struct response *r, long status, const char *code)
{
    ck_assert_msg(r->status == status, "line %d: status %ld, want %ld (%s); body %s", line, r->status, status, code,
                  r->body);
    const char *type = header(r, "Content-Type");
    ck_assert_msg(type && !strcmp(type, PROBLEM_TYPE), "line %d: Content-Type %s", line, type ? type : "(none)");
    ck_assert_msg(!strcmp(response_code(r), code), "line %d: code %s, want %s; body %s", line, response_code(r), code,
                  r->body);
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

void expect_absent_at(int line, const char *path, const char *code)
{
    struct response *r = request("GET", path, NULL);
    expect_problem_at(line, r, 404, code);
    response_free(r);
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

/* Array member `name` of `obj`, asserted an array. */
static const cJSON *array_field(const cJSON *obj, const char *name)
{
    const cJSON *arr = field(obj, name);
    ck_assert_msg(cJSON_IsArray(arr), "member %s is not an array", name);
    return arr;
}

const cJSON *array_item(const cJSON *obj, const char *name, int i)
{
    const cJSON *arr = array_field(obj, name);
    const cJSON *item = cJSON_GetArrayItem(arr, i);
    ck_assert_msg(item != NULL, "%s[%d] is missing (size %d)", name, i, cJSON_GetArraySize(arr));
    return item;
}

int array_size(const cJSON *obj, const char *name)
{
    return cJSON_GetArraySize(array_field(obj, name));
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
    return s && matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$", s);
}

double timestamp_seconds(const char *s)
{
    ck_assert_msg(is_timestamp(s), "not a timestamp: %s", s ? s : "(null)");
    struct tm tm = {0};
    int usec = 0;
    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
           &usec);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm) + usec / 1e6;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

bool is_uuid(const char *s)
{
    return s && matches("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", s);
}

void new_uuid(char out[UUID_LEN + 1])
{
    unsigned char b[16];
    int fd = open("/dev/urandom", O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(read(fd, b, sizeof b), (ssize_t)sizeof b);
    close(fd);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, UUID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

void expect_healthy(void)
{
    struct response *r = request("GET", "/healthz", NULL);
    ck_assert_int_eq(r->status, 200);
    response_free(r);
}

/* Bytes before the first space, CR, LF or NUL within `len`. */
static size_t token_len(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && s[n] != ' ' && s[n] != '\r' && s[n] != '\n' && s[n] != '\0')
        n++;
    return n;
}

/* Logs the first answer of a raw exchange with the request line it answered
 * (its method and target as sent, whatever bytes they hold). */
static void log_raw_exchange(const char *bytes, size_t len, const struct raw_answer *a)
{
    const char *head_end = strstr(a->text, "\r\n\r\n");
    if (a->status <= 0 || !head_end)
        return;
    size_t mlen = token_len(bytes, len), tstart = mlen < len && bytes[mlen] == ' ' ? mlen + 1 : mlen;
    size_t tlen = token_len(bytes + tstart, len - tstart);
    char *method = strndup(bytes, mlen), *target = strndup(bytes + tstart, tlen);
    char *headers = strndup(a->text, (size_t)(head_end - a->text) + 2);
    const char *body = head_end + 4;
    size_t body_len = a->len - (size_t)(body - a->text);
    char value[32];
    const char *cl = raw_header(a, "Content-Length", value, sizeof value);
    bool complete = cl && (size_t)atoll(cl) <= body_len;
    if (complete)
        body_len = (size_t)atoll(cl);
    exchange_log_record(&(struct exchange){.client = "raw",
                                           .method = method,
                                           .target = target,
                                           .status = a->status,
                                           .headers = headers,
                                           .body = body,
                                           .len = body_len,
                                           .body_complete = complete});
    free(method);
    free(target);
    free(headers);
}

void raw_exchange(const char *bytes, size_t len, struct raw_answer *out)
{
    memset(out, 0, sizeof *out);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)svc.port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, bytes + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        sent += (size_t)n;
    }
    out->sent_all = sent == len;
    for (;;) {
        ssize_t n = recv(fd, out->text + out->len, sizeof out->text - 1 - out->len, 0);
        if (n <= 0 || (out->len += (size_t)n) == sizeof out->text - 1)
            break;
    }
    out->text[out->len] = '\0';
    close(fd);
    if (!strncmp(out->text, "HTTP/1.", 7) && out->len > 12)
        out->status = atoi(out->text + 9);
    log_raw_exchange(bytes, len, out);
}

const char *raw_header(const struct raw_answer *a, const char *name, char *buf, size_t size)
{
    size_t n = strlen(name);
    for (const char *line = strstr(a->text, "\r\n"); line && line[2] != '\r'; line = strstr(line + 2, "\r\n")) {
        if (!strncasecmp(line + 2, name, n) && line[2 + n] == ':') {
            const char *v = line + 3 + n;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r");
            snprintf(buf, size, "%.*s", (int)len, v);
            return buf;
        }
    }
    return NULL;
}
