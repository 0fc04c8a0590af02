/* Operational routes and the generic HTTP behaviour every route shares:
 * request ids, unknown routes, wrong methods, body limits. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "harness.h"

START_TEST(healthz_answers_ok)
{
    struct response *r = get("/healthz");
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "status"), "ok");
    const char *id = header(r, "X-Request-Id");
    ck_assert_ptr_nonnull(id);
    ck_assert_uint_gt(strlen(id), 8);
    response_free(r);
}
END_TEST

START_TEST(readyz_answers_ready_while_database_is_up)
{
    struct response *r = get("/readyz");
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "status"), "ready");
    response_free(r);
}
END_TEST

START_TEST(version_reports_binary_and_schema)
{
    struct response *r = get("/version");
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "version"), "0.1.0");
    ck_assert_int_ge(response_int(r, "schema_version"), 1);
    response_free(r);
}
END_TEST

START_TEST(openapi_is_served_as_yaml)
{
    struct response *r = get("/openapi.yaml");
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(header(r, "Content-Type"), "application/yaml");
    ck_assert_ptr_nonnull(strstr(r->body, "openapi: 3.1"));
    ck_assert_ptr_nonnull(strstr(r->body, "/healthz:"));
    response_free(r);
}
END_TEST

/* The console's files: their types, caching and policy headers, a 304 for the
 * tag a browser holds, and nothing but the files built in. */
START_TEST(console_is_served_with_types_etag_and_csp)
{
    struct response *r = get("/console");
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(header(r, "Content-Type"), "text/html; charset=utf-8");
    ck_assert_ptr_nonnull(strstr(r->body, "<script type=\"module\" src=\"console/app.js\"></script>"));
    ck_assert_str_eq(header(r, "Cache-Control"), "no-cache");
    ck_assert_str_eq(header(r, "X-Content-Type-Options"), "nosniff");
    const char *csp = header(r, "Content-Security-Policy");
    ck_assert_ptr_nonnull(strstr(csp, "default-src 'none'"));
    ck_assert_ptr_nonnull(strstr(csp, "script-src 'self';"));
    ck_assert_ptr_nonnull(strstr(csp, "frame-ancestors 'none'"));
    ck_assert_ptr_null(strstr(csp, "unsafe"));
    char page_tag[64];
    snprintf(page_tag, sizeof page_tag, "%s", header(r, "ETag"));
    ck_assert_int_eq(strlen(page_tag), 18);
    response_free(r);

    char if_none[128];
    snprintf(if_none, sizeof if_none, "If-None-Match: \"0000000000000000\", %s", page_tag);
    const char *cached[] = {if_none, NULL};
    r = http(&svc, "GET", "/console", NULL, cached);
    ck_assert_int_eq(r->status, 304);
    ck_assert_uint_eq(r->len, 0);
    ck_assert_str_eq(header(r, "ETag"), page_tag);
    response_free(r);

    r = http(&svc, "GET", "/console/app.js", NULL, cached); /* another file, another tag */
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(header(r, "Content-Type"), "text/javascript; charset=utf-8");
    ck_assert_str_ne(header(r, "ETag"), page_tag);
    ck_assert_ptr_nonnull(header(r, "Content-Security-Policy"));
    response_free(r);

    r = get("/console/console.css");
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(header(r, "Content-Type"), "text/css; charset=utf-8");
    response_free(r);
    r = get("/console/favicon.svg");
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(header(r, "Content-Type"), "image/svg+xml");
    response_free(r);

    const char *missing[] = {"/console/nope.js", "/console/index.html", "/console/..%2Fopenapi.yaml", "/console/%2e%2e",
                             "/console/app.js/x"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        r = get("%s", missing[i]);
        ck_assert_msg(r->status == 404, "%s: %ld", missing[i], r->status);
        ck_assert_str_eq(response_code(r), "not_found");
        response_free(r);
    }
    r = get("/console/");
    ck_assert_int_eq(r->status, 308);
    ck_assert_str_eq(header(r, "Location"), "../console");
    response_free(r);
    r = http(&svc, "POST", "/console", "{}", NULL);
    ck_assert_int_eq(r->status, 405);
    response_free(r);
}
END_TEST

START_TEST(client_request_id_is_echoed_and_unsafe_one_replaced)
{
    const char *good[] = {"X-Request-Id: abc-123_x", NULL};
    const char *bad[] = {"X-Request-Id: has space\"quote", NULL};
    struct response *r = http(&svc, "GET", "/healthz", NULL, good);
    ck_assert_str_eq(header(r, "X-Request-Id"), "abc-123_x");
    response_free(r);
    r = http(&svc, "GET", "/healthz", NULL, bad);
    ck_assert_str_ne(header(r, "X-Request-Id"), "has space\"quote");
    response_free(r);
}
END_TEST

START_TEST(unknown_route_is_404_problem)
{
    /* Status, problem+json, code, status member, type, title, detail and request id. */
    EXPECT_PROBLEM_FREE(get("/nope/nothing"), 404, "not_found");
}
END_TEST

START_TEST(wrong_method_is_405_with_allow)
{
    struct response *r = request("DELETE", "/healthz", NULL);
    EXPECT_PROBLEM(r, 405, "method_not_allowed");
    ck_assert_str_eq(header(r, "Allow"), "GET, HEAD");
    response_free(r);
}
END_TEST

/* libcurl never reads a HEAD body, so compare what HEAD announces with what GET sends. */
START_TEST(head_is_answered_like_get_without_body)
{
    struct response *g = get("/version");
    struct response *h = request("HEAD", "/version", NULL);
    ck_assert_int_eq(h->status, 200);
    const char *length = header(h, "Content-Length");
    ck_assert_ptr_nonnull(length);
    ck_assert_int_eq(atol(length), (long)g->len);
    ck_assert_str_eq(header(h, "Content-Type"), JSON_TYPE);
    response_free(g);
    response_free(h);

    struct raw_answer a;
    static const char head[] = "HEAD /version HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    raw_exchange(head, sizeof head - 1, &a);
    ck_assert_int_eq(a.status, 200);
    const char *end = strstr(a.text, "\r\n\r\n");
    ck_assert_ptr_nonnull(end);
    ck_assert_msg(end[4] == '\0', "HEAD answered with a body: %s", end + 4);
}
END_TEST

START_TEST(body_over_limit_is_413_and_service_keeps_serving)
{
    /* The service runs with --max-body 65536 (see main). */
    size_t n = 70000;
    char *body = malloc(n + 1);
    memset(body, 'x', n);
    body[n] = '\0';
    EXPECT_PROBLEM_FREE(request("POST", "/healthz", body), 413, "payload_too_large");

    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    EXPECT_PROBLEM_FREE(http(&svc, "POST", "/healthz", body, chunked), 413, "payload_too_large");
    free(body);

    expect_healthy();
}
END_TEST

START_TEST(dot_segments_do_not_escape_routes)
{
    EXPECT_PROBLEM_FREE(get("/healthz/../version"), 404, "not_found");
}
END_TEST

static Suite *ops_suite(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, healthz_answers_ok);
    tcase_add_test(tc, readyz_answers_ready_while_database_is_up);
    tcase_add_test(tc, version_reports_binary_and_schema);
    tcase_add_test(tc, openapi_is_served_as_yaml);
    tcase_add_test(tc, console_is_served_with_types_etag_and_csp);
    tcase_add_test(tc, client_request_id_is_echoed_and_unsafe_one_replaced);
    tcase_add_test(tc, unknown_route_is_404_problem);
    tcase_add_test(tc, wrong_method_is_405_with_allow);
    tcase_add_test(tc, head_is_answered_like_get_without_body);
    tcase_add_test(tc, body_over_limit_is_413_and_service_keeps_serving);
    tcase_add_test(tc, dot_segments_do_not_escape_routes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *args[] = {"--max-body", "65536", NULL};
    return harness_main(ops_suite(), args);
}
