/* Operational routes and the generic HTTP behaviour every route shares:
 * request ids, unknown routes, wrong methods, body limits. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

START_TEST(healthz_answers_ok)
{
    struct response *r = http(&svc, "GET", "/healthz", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(cJSON_GetObjectItem(r->json, "status")->valuestring, "ok");
    char buf[128];
    ck_assert_ptr_nonnull(response_header(r, "X-Request-Id", buf, sizeof buf));
    ck_assert_uint_gt(strlen(buf), 8);
    response_free(r);
}
END_TEST

START_TEST(readyz_answers_ready_while_database_is_up)
{
    struct response *r = http(&svc, "GET", "/readyz", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(cJSON_GetObjectItem(r->json, "status")->valuestring, "ready");
    response_free(r);
}
END_TEST

START_TEST(version_reports_binary_and_schema)
{
    struct response *r = http(&svc, "GET", "/version", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(cJSON_GetObjectItem(r->json, "version")->valuestring, "0.1.0");
    ck_assert_int_ge(response_int(r, "schema_version"), 1);
    response_free(r);
}
END_TEST

START_TEST(openapi_is_served_as_yaml)
{
    struct response *r = http(&svc, "GET", "/openapi.yaml", NULL, NULL);
    char buf[128];
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(response_header(r, "Content-Type", buf, sizeof buf), "application/yaml");
    ck_assert_ptr_nonnull(strstr(r->body, "openapi: 3.1"));
    ck_assert_ptr_nonnull(strstr(r->body, "/healthz:"));
    response_free(r);
}
END_TEST

START_TEST(client_request_id_is_echoed_and_unsafe_one_replaced)
{
    const char *good[] = {"X-Request-Id: abc-123_x", NULL};
    const char *bad[] = {"X-Request-Id: has space\"quote", NULL};
    char buf[128];
    struct response *r = http(&svc, "GET", "/healthz", NULL, good);
    ck_assert_str_eq(response_header(r, "X-Request-Id", buf, sizeof buf), "abc-123_x");
    response_free(r);
    r = http(&svc, "GET", "/healthz", NULL, bad);
    ck_assert_str_ne(response_header(r, "X-Request-Id", buf, sizeof buf), "has space\"quote");
    response_free(r);
}
END_TEST

START_TEST(unknown_route_is_404_problem)
{
    struct response *r = http(&svc, "GET", "/nope/nothing", NULL, NULL);
    char buf[128];
    ck_assert_int_eq(r->status, 404);
    ck_assert_str_eq(response_header(r, "Content-Type", buf, sizeof buf), "application/problem+json");
    ck_assert_str_eq(response_code(r), "not_found");
    ck_assert_int_eq(response_int(r, "status"), 404);
    ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(r->json, "type")->valuestring, "/problems/not_found"));
    ck_assert_ptr_nonnull(response_header(r, "X-Request-Id", buf, sizeof buf));
    response_free(r);
}
END_TEST

START_TEST(wrong_method_is_405_with_allow)
{
    struct response *r = http(&svc, "DELETE", "/healthz", NULL, NULL);
    char buf[128];
    ck_assert_int_eq(r->status, 405);
    ck_assert_str_eq(response_code(r), "method_not_allowed");
    ck_assert_str_eq(response_header(r, "Allow", buf, sizeof buf), "GET, HEAD");
    response_free(r);
}
END_TEST

START_TEST(head_is_answered_like_get_without_body)
{
    struct response *r = http(&svc, "HEAD", "/healthz", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_uint_eq(r->len, 0);
    response_free(r);
}
END_TEST

START_TEST(body_over_limit_is_413_and_service_keeps_serving)
{
    /* The service runs with --max-body 65536 (see main). */
    size_t n = 70000;
    char *body = malloc(n + 1);
    memset(body, 'x', n);
    body[n] = '\0';
    struct response *r = http(&svc, "POST", "/healthz", body, NULL);
    ck_assert_int_eq(r->status, 413);
    ck_assert_str_eq(response_code(r), "payload_too_large");
    response_free(r);

    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    r = http(&svc, "POST", "/healthz", body, chunked);
    ck_assert_int_eq(r->status, 413);
    ck_assert_str_eq(response_code(r), "payload_too_large");
    response_free(r);
    free(body);

    r = http(&svc, "GET", "/healthz", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    response_free(r);
}
END_TEST

START_TEST(dot_segments_do_not_escape_routes)
{
    struct response *r = http(&svc, "GET", "/healthz/../version", NULL, NULL);
    ck_assert_int_eq(r->status, 404);
    ck_assert_str_eq(response_code(r), "not_found");
    response_free(r);
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
