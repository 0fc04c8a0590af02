/* What the HTTP layer refuses before any route runs, over raw sockets where a
 * client library would not send the bytes: forbidden bytes in the request
 * target (a NUL must never cut a path short), HTTP/1.1 without exactly one
 * Host, header values that are not UTF-8 text, query values that are not
 * UTF-8, empty name segments, and an oversize body sent without waiting for
 * 100 Continue, whose sender must still read the 413. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "harness.h"

#define MAX_BODY 65536

/* A raw answer that is a problem+json 400 written by the service (it carries
 * our request id, which libmicrohttpd's own error pages do not). */
static void expect_raw_problem_at(int line, const struct raw_answer *a, int status)
{
    char buf[256];
    ck_assert_msg(a->status == status, "line %d: status %d, want %d; answer: %.300s", line, a->status, status, a->text);
    ck_assert_msg(raw_header(a, "Content-Type", buf, sizeof buf) && !strcmp(buf, PROBLEM_TYPE),
                  "line %d: content type %s", line, raw_header(a, "Content-Type", buf, sizeof buf));
    ck_assert_msg(raw_header(a, "X-Request-Id", buf, sizeof buf) != NULL, "line %d: no request id", line);
}
#define EXPECT_RAW_PROBLEM(a, status) expect_raw_problem_at(__LINE__, (a), (status))

static void make_queue_with_message(const char *queue)
{
    struct response *r =
        requestf("POST", fmt("/queues/%s/messages", queue), "{\"messages\":[{\"type\":\"Keep\",\"data\":{\"k\":1}}]}");
    ck_assert_int_eq(r->status, 201);
    response_free(r);
}

static void expect_queue_pending(const char *queue, long long pending)
{
    struct response *r = get("/queues/%s", queue);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(response_int(r, "pending"), pending);
    response_free(r);
}

START_TEST(nul_in_target_is_refused_and_deletes_nothing)
{
    const char *queue = unique_name("victim");
    make_queue_with_message(queue);

    char line[256];
    int n = snprintf(line, sizeof line, "DELETE /queues/%s", queue);
    static const char tail[] = "zzz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    line[n++] = '\0';
    memcpy(line + n, tail, sizeof tail - 1);
    struct raw_answer a;
    raw_exchange(line, (size_t)n + sizeof tail - 1, &a);
    EXPECT_RAW_PROBLEM(&a, 400);
    expect_queue_pending(queue, 1);

    static const char version[] = "GET /version\0 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    raw_exchange(version, sizeof version - 1, &a);
    EXPECT_RAW_PROBLEM(&a, 400);
}
END_TEST

START_TEST(forbidden_target_bytes_are_400)
{
    static const char *const targets[] = {
        "/ver sion",            /* raw space inside */
        "/version\x01",         /* control byte */
        "/streams/caf\xC3\xA9", /* raw non-ASCII */
        "/version\x7f",         /* DEL */
        "/streams/a\"b",        /* a quote RFC 3986 does not allow */
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        char req[256];
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", targets[i]);
        struct raw_answer a;
        raw_exchange(req, (size_t)n, &a);
        EXPECT_RAW_PROBLEM(&a, 400);
    }
    expect_healthy();
}
END_TEST

START_TEST(http11_needs_exactly_one_host)
{
    struct raw_answer a;
    static const char none[] = "GET /version HTTP/1.1\r\nConnection: close\r\n\r\n";
    raw_exchange(none, sizeof none - 1, &a);
    EXPECT_RAW_PROBLEM(&a, 400);

    static const char two[] = "GET /version HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n";
    raw_exchange(two, sizeof two - 1, &a);
    EXPECT_RAW_PROBLEM(&a, 400);

    /* Appends are refused as well, and write nothing. */
    const char *stream = unique_name("nohost");
    static const char body[] = "{\"events\":[{\"type\":\"A\",\"data\":1}]}";
    char req[512];
    int n = snprintf(req, sizeof req,
                     "POST /streams/%s/events HTTP/1.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     stream, sizeof body - 1, body);
    raw_exchange(req, (size_t)n, &a);
    EXPECT_RAW_PROBLEM(&a, 400);
    EXPECT_ABSENT(fmt("/streams/%s", stream), "stream_not_found");

    static const char one[] = "GET /version HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    raw_exchange(one, sizeof one - 1, &a);
    ck_assert_int_eq(a.status, 200);
    static const char http10[] = "GET /version HTTP/1.0\r\n\r\n";
    raw_exchange(http10, sizeof http10 - 1, &a);
    ck_assert_int_eq(a.status, 200);
}
END_TEST

START_TEST(host_value_must_be_a_host)
{
    static const char *const hosts[] = {"a b", "x/y", "x@y", "[::1", "127.0.0.1, example.com", "h:8o"};
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        char req[256];
        int n = snprintf(req, sizeof req, "GET /version HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", hosts[i]);
        struct raw_answer a;
        raw_exchange(req, (size_t)n, &a);
        EXPECT_RAW_PROBLEM(&a, 400);
    }
    static const char *const good[] = {"localhost", "127.0.0.1:8080", "[::1]:80", "streamq.example.com"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char req[256];
        int n = snprintf(req, sizeof req, "GET /version HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", good[i]);
        struct raw_answer a;
        raw_exchange(req, (size_t)n, &a);
        ck_assert_msg(a.status == 200, "Host %s: %d", good[i], a.status);
    }
}
END_TEST

/* A body whose length two readers could see differently would let a request
 * hidden in it run: such requests are refused and the connection closed. */
START_TEST(ambiguous_framing_is_refused_and_the_hidden_request_never_runs)
{
    const char *queue = unique_name("smuggle");
    make_queue_with_message(queue);
    char hidden[256];
    int hn = snprintf(hidden, sizeof hidden, "DELETE /queues/%s HTTP/1.1\r\nHost: t\r\n\r\n", queue);
    struct {
        const char *before, *after; /* around "Content-Length: <body length>" */
    } framings[] = {
        {"Content-Length: 2\r\n", ""},
        {"Transfer-Encoding: chunked\r\n", ""},
        {"", "Transfer-Encoding: CHUNKED\r\n"},
        {"Transfer-Encoding: gzip\r\n", ""},
    };
    for (size_t i = 0; i < sizeof framings / sizeof framings[0]; i++) {
        char headers[128], req[768];
        snprintf(headers, sizeof headers, "%sContent-Length: %d\r\n%s", framings[i].before, 2 + hn, framings[i].after);
        int n = snprintf(req, sizeof req, "POST /streams/x/events HTTP/1.1\r\nHost: t\r\n%s\r\n{}%s", headers, hidden);
        struct raw_answer a;
        raw_exchange(req, (size_t)n, &a);
        EXPECT_RAW_PROBLEM(&a, 400);
        ck_assert_msg(strstr(a.text, "HTTP/1.1 204") == NULL, "framing %zu: the hidden request ran", i);
        expect_queue_pending(queue, 1);
    }
}
END_TEST

START_TEST(header_value_that_is_not_utf8_text_is_400)
{
    struct raw_answer a;
    static const char latin1[] =
        "GET /version HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"\xff\"\r\nConnection: close\r\n\r\n";
    raw_exchange(latin1, sizeof latin1 - 1, &a);
    EXPECT_RAW_PROBLEM(&a, 400);
    static const char control[] = "GET /version HTTP/1.1\r\nHost: t\r\nAccept: a\x01z\r\nConnection: close\r\n\r\n";
    raw_exchange(control, sizeof control - 1, &a);
    EXPECT_RAW_PROBLEM(&a, 400);
}
END_TEST

START_TEST(query_value_that_is_not_utf8_is_400)
{
    static const char *const paths[] = {
        "/events?type=%FF",           "/events?stream_prefix=%FF",
        "/events?type=%C0%AF", /* overlong encoding of '/' */
        "/streams?after=%FF",         "/streams?prefix=%FE",
        "/queues?prefix=%FF",         "/queues?after=%ED%A0%80", /* an encoded surrogate */
        "/streams/x/events?type=%FF", "/queues/x/messages?state=%FF",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        EXPECT_PROBLEM_FREE(get("%s", paths[i]), 400, "invalid_parameter");
    /* Well-formed UTF-8 is a value like any other. */
    struct response *r = get("/streams?prefix=caf%%C3%%A9");
    EXPECT_JSON(r, 200);
    response_free(r);
}
END_TEST

START_TEST(empty_name_segment_is_invalid_name)
{
    EXPECT_PROBLEM_FREE(requestf("POST", "/streams//events", "{\"events\":[{\"type\":\"A\",\"data\":1}]}"), 400,
                        "invalid_name");
    EXPECT_PROBLEM_FREE(get("/streams/"), 400, "invalid_name");
    EXPECT_PROBLEM_FREE(get("/streams//events/0"), 400, "invalid_name");
    EXPECT_PROBLEM_FREE(request("DELETE", "/queues/", NULL), 400, "invalid_name");
    EXPECT_PROBLEM_FREE(requestf("POST", "/queues//messages", "{\"messages\":[{\"type\":\"A\",\"data\":1}]}"), 400,
                        "invalid_name");
}
END_TEST

/* Node's fetch and Python's requests send the whole body without waiting for
 * 100 Continue: they must be able to read the 413 rather than a broken pipe. */
START_TEST(oversize_body_without_expect_gets_a_readable_413)
{
    size_t body_len = 8u << 20; /* more than loopback buffers hold, less than the 16 MiB drained */
    char head[256];
    int n = snprintf(head, sizeof head,
                     "POST /streams/big/events HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     body_len);
    char *bytes = malloc((size_t)n + body_len);
    memcpy(bytes, head, (size_t)n);
    memset(bytes + n, ' ', body_len);
    struct raw_answer a;
    raw_exchange(bytes, (size_t)n + body_len, &a);
    free(bytes);
    ck_assert_msg(a.sent_all, "the service closed before reading the body");
    EXPECT_RAW_PROBLEM(&a, 413);
    ck_assert_ptr_nonnull(strstr(a.text, "\"code\":\"payload_too_large\""));
    EXPECT_ABSENT("/streams/big", "stream_not_found");
}
END_TEST

/* A client that asks first gets the 413 without sending the body. */
START_TEST(oversize_body_with_expect_is_answered_before_it_is_sent)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "POST /streams/big/events HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\nExpect: 100-continue\r\n\r\n",
                     10 * MAX_BODY);
    struct raw_answer a;
    raw_exchange(head, (size_t)n, &a);
    EXPECT_RAW_PROBLEM(&a, 413);
    ck_assert_ptr_null(strstr(a.text, "100 Continue"));
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, nul_in_target_is_refused_and_deletes_nothing);
    tcase_add_test(tc, forbidden_target_bytes_are_400);
    tcase_add_test(tc, http11_needs_exactly_one_host);
    tcase_add_test(tc, host_value_must_be_a_host);
    tcase_add_test(tc, ambiguous_framing_is_refused_and_the_hidden_request_never_runs);
    tcase_add_test(tc, header_value_that_is_not_utf8_text_is_400);
    tcase_add_test(tc, query_value_that_is_not_utf8_is_400);
    tcase_add_test(tc, empty_name_segment_is_invalid_name);
    tcase_add_test(tc, oversize_body_without_expect_gets_a_readable_413);
    tcase_add_test(tc, oversize_body_with_expect_is_answered_before_it_is_sent);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *args[] = {"--max-body", "65536", NULL};
    return harness_main(http_suite(), args);
}
