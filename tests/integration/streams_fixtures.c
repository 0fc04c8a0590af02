/* Helpers shared by the stream and event integration suites; see streams_fixtures.h. */
#include "streams_fixtures.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* "/streams/{stream}/{suffix}" in `buf`, which it asserts is large enough. The
 * wrappers below format here rather than with fmt() so that a body a test made
 * with fmt() outlives any number of appends. */
static const char *stream_path(char *buf, size_t size, const char *stream, const char *suffix)
{
    int n = snprintf(buf, size, "/streams/%s/%s", stream, suffix);
    ck_assert_msg(n >= 0 && (size_t)n < size, "stream path of %d characters does not fit", n);
    return buf;
}

struct response *append_raw(const char *stream, const char *body, const char *const *headers)
{
    char path[1024];
    return http(&svc, "POST", stream_path(path, sizeof path, stream, "events"), body, headers);
}

struct response *appendf(const char *stream, const char *fmt, ...)
{
    char *body = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&body, fmt, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    struct response *r = append_raw(stream, body, NULL);
    free(body);
    return r;
}

struct response *post_action(const char *stream, const char *action)
{
    char path[1024];
    return request("POST", stream_path(path, sizeof path, stream, action), NULL);
}

void append_n(const char *stream, int n, const char *type)
{
    for (int done = 0; done < n;) {
        int batch = n - done < MAX_BATCH ? n - done : MAX_BATCH;
        char *body = numbered_batch("events", type, done, batch);
        struct response *r = append_raw(stream, body, NULL);
        free(body);
        EXPECT_JSON(r, 201);
        ck_assert_int_eq(response_int(r, "first_offset"), done);
        response_free(r);
        done += batch;
    }
}

struct response *append_one(const char *stream, const char *type)
{
    struct response *r = appendf(stream, "{\"events\":[{\"type\":\"%s\",\"data\":{}}]}", type);
    EXPECT_JSON(r, 201);
    return r;
}

long long stream_version(const char *stream)
{
    struct response *r = get("/streams/%s", stream);
    long long v = LLONG_MIN;
    if (r->status == 404) {
        EXPECT_PROBLEM(r, 404, "stream_not_found");
    } else {
        EXPECT_JSON(r, 200);
        v = response_int(r, "version");
    }
    response_free(r);
    return v;
}

int event_count(const char *stream)
{
    struct response *r = get("/streams/%s/events?limit=1000", stream);
    EXPECT_JSON(r, 200);
    int n = cJSON_GetArraySize(field(r->json, "events"));
    response_free(r);
    return n;
}

int streams_fixtures_main(Suite *suite)
{
    /* Small limits keep batch, body and export-paging edges cheap; a read batch
     * of 64 makes a 250-event export span several internal pages. */
    const char *args[] = {"--max-batch", "10", "--max-body", "65536", "--read-batch-size", "64", NULL};
    return harness_main(suite, args);
}
