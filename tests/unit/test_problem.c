/* Unit tests for problem_new in src/http/problem.c: the RFC 9457 members (type,
 * title, status, detail) plus our `code`, and extra members merged in, where
 * an extra member replaces a standard one of the same name. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/util.h"
#include "src/http/problem.h"

/* Members of `obj` named `name` (cJSON objects may hold duplicates). */
static int count_members(const cJSON *obj, const char *name)
{
    int n = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
        if (item->string && strcmp(item->string, name) == 0)
            n++;
    return n;
}

static const char *string_member(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* ---- code -> type and title ---- */

static const struct {
    unsigned status;
    const char *code;
    const char *title;
    const char *why;
} title_rows[] = {
    {400, "invalid_json", "Request body is not valid JSON", "first code in the table"},
    {400, "invalid_name", "Name is invalid", "validation code"},
    {404, "not_found", "No such route", "router 404"},
    {405, "method_not_allowed", "Method not allowed", "router 405"},
    {413, "payload_too_large", "Request body too large", "body limit"},
    {409, "version_conflict", "Stream version conflict", "store outcome"},
    {404, "stream_not_found", "Stream not found", "resource not found"},
    {503, "unavailable", "Service unavailable", "database timeout"},
    {500, "internal_error", "Internal error", "internal error"},
    {409, "queue_full", "Queue is full", "last code in the table"},
    {418, "no_such_code", "Error", "unknown code gets the generic title"},
    {400, "", "Error", "empty code"},
    {400, "Stream_Not_Found", "Error", "codes are case-sensitive"},
};

START_TEST(test_titles)
{
    char type[128];
    cJSON *p = problem_new(title_rows[_i].status, title_rows[_i].code, "d", NULL);
    ck_assert_ptr_nonnull(p);
    snprintf(type, sizeof type, "https://streamq.dev/problems/%s", title_rows[_i].code);
    ck_assert_msg(string_member(p, "type") && strcmp(string_member(p, "type"), type) == 0, "row %d (%s): type %s", _i,
                  title_rows[_i].why, string_member(p, "type"));
    ck_assert_msg(string_member(p, "title") && strcmp(string_member(p, "title"), title_rows[_i].title) == 0,
                  "row %d (%s): title %s", _i, title_rows[_i].why, string_member(p, "title"));
    ck_assert_msg(string_member(p, "code") && strcmp(string_member(p, "code"), title_rows[_i].code) == 0,
                  "row %d (%s): code %s", _i, title_rows[_i].why, string_member(p, "code"));
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(p, "status");
    ck_assert_msg(cJSON_IsNumber(status) && status->valuedouble == title_rows[_i].status,
                  "row %d (%s): status is not the number %u", _i, title_rows[_i].why, title_rows[_i].status);
    cJSON_Delete(p);
}
END_TEST

/* ---- the standard members ---- */

START_TEST(test_fields)
{
    cJSON *p = problem_new(404, "stream_not_found", "no stream named orders", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert(cJSON_IsObject(p));
    ck_assert_str_eq(string_member(p, "type"), PROBLEM_TYPE_BASE "stream_not_found");
    ck_assert_str_eq(string_member(p, "title"), "Stream not found");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(p, "status")->valueint, 404);
    ck_assert_str_eq(string_member(p, "detail"), "no stream named orders");
    ck_assert_str_eq(string_member(p, "code"), "stream_not_found");
    ck_assert_int_eq(cJSON_GetArraySize(p), 5); /* nothing else */
    cJSON_Delete(p);
}
END_TEST

START_TEST(test_rendered_text)
{
    /* What a client receives, member order included. */
    cJSON *p = problem_new(400, "invalid_name", "stream name \"a/b\" is not allowed", NULL);
    char *text = cJSON_PrintUnformatted(p);
    ck_assert_str_eq(text, "{\"type\":\"https://streamq.dev/problems/invalid_name\","
                           "\"title\":\"Name is invalid\",\"status\":400,"
                           "\"detail\":\"stream name \\\"a/b\\\" is not allowed\",\"code\":\"invalid_name\"}");
    cJSON_free(text);
    cJSON_Delete(p);
}
END_TEST

START_TEST(test_empty_detail)
{
    cJSON *p = problem_new(500, "internal_error", "", NULL);
    ck_assert_str_eq(string_member(p, "detail"), "");
    ck_assert_int_eq(cJSON_GetArraySize(p), 5);
    cJSON_Delete(p);
}
END_TEST

START_TEST(test_detail_utf8)
{
    cJSON *p = problem_new(404, "stream_not_found", "no stream named caf\xC3\xA9", NULL);
    ck_assert_str_eq(string_member(p, "detail"), "no stream named caf\xC3\xA9");
    cJSON_Delete(p);
}
END_TEST

/* ---- extra members ---- */

START_TEST(test_null_extra)
{
    cJSON *p = problem_new(503, "unavailable", "retry", NULL);
    ck_assert_int_eq(cJSON_GetArraySize(p), 5);
    cJSON_Delete(p);
}
END_TEST

START_TEST(test_empty_extra)
{
    cJSON *p = problem_new(503, "unavailable", "retry", cJSON_CreateObject());
    ck_assert_int_eq(cJSON_GetArraySize(p), 5);
    cJSON_Delete(p);
}
END_TEST

START_TEST(test_extra_merged)
{
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(extra, "current_version", 7);
    cJSON_AddStringToObject(extra, "stream", "orders");
    cJSON *nested = cJSON_AddObjectToObject(extra, "limits");
    cJSON_AddNumberToObject(nested, "max", 3);

    cJSON *p = problem_new(409, "version_conflict", "expected 5", extra); /* extra consumed */
    ck_assert_int_eq(cJSON_GetArraySize(p), 8);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(p, "current_version")->valueint, 7);
    ck_assert_str_eq(string_member(p, "stream"), "orders");
    const cJSON *limits = cJSON_GetObjectItemCaseSensitive(p, "limits");
    ck_assert(cJSON_IsObject(limits));
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(limits, "max")->valueint, 3);
    /* the standard members are untouched */
    ck_assert_str_eq(string_member(p, "code"), "version_conflict");
    ck_assert_str_eq(string_member(p, "detail"), "expected 5");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(p, "status")->valueint, 409);
    cJSON_Delete(p);
}
END_TEST

/* One row per standard member an extra member may replace. */
static const struct {
    const char *member;
    const char *why;
} override_rows[] = {
    {"type", "type replaced"},     {"title", "title replaced"}, {"status", "status replaced"},
    {"detail", "detail replaced"}, {"code", "code replaced"},
};

START_TEST(test_extra_overrides)
{
    const char *member = override_rows[_i].member;
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddStringToObject(extra, member, "from extra");
    cJSON_AddBoolToObject(extra, "retryable", true);

    cJSON *p = problem_new(400, "invalid_request", "original", extra);
    ck_assert_msg(count_members(p, member) == 1, "row %d (%s): %d members named %s", _i, override_rows[_i].why,
                  count_members(p, member), member);
    ck_assert_msg(string_member(p, member) && strcmp(string_member(p, member), "from extra") == 0,
                  "row %d (%s): not replaced", _i, override_rows[_i].why);
    ck_assert_int_eq(cJSON_GetArraySize(p), 6);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "retryable")));
    cJSON_Delete(p);
}
END_TEST

START_TEST(test_extra_overrides_detail_rendered)
{
    /* One "detail" key in the text a client sees, not two. */
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddStringToObject(extra, "detail", "better");
    cJSON *p = problem_new(400, "invalid_request", "worse", extra);
    char *text = cJSON_PrintUnformatted(p);
    ck_assert_ptr_null(strstr(text, "worse"));
    const char *first = strstr(text, "\"detail\"");
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_null(strstr(first + 1, "\"detail\""));
    cJSON_free(text);
    cJSON_Delete(p);
}
END_TEST

START_TEST(test_long_code_type_truncated)
{
    /* A code longer than the type buffer still yields a terminated, prefixed type. */
    char code[200];
    memset(code, 'x', sizeof code - 1);
    code[sizeof code - 1] = '\0';
    cJSON *p = problem_new(400, code, "d", NULL);
    const char *type = string_member(p, "type");
    ck_assert_ptr_nonnull(type);
    ck_assert(strncmp(type, PROBLEM_TYPE_BASE, strlen(PROBLEM_TYPE_BASE)) == 0);
    ck_assert_uint_lt(strlen(type), 128);
    ck_assert_str_eq(string_member(p, "code"), code);
    cJSON_Delete(p);
}
END_TEST

static Suite *problem_suite(void)
{
    Suite *s = suite_create("problem");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_titles, 0, (int)ARRAY_LEN(title_rows));
    tcase_add_test(tc, test_fields);
    tcase_add_test(tc, test_rendered_text);
    tcase_add_test(tc, test_empty_detail);
    tcase_add_test(tc, test_detail_utf8);
    tcase_add_test(tc, test_null_extra);
    tcase_add_test(tc, test_empty_extra);
    tcase_add_test(tc, test_extra_merged);
    tcase_add_loop_test(tc, test_extra_overrides, 0, (int)ARRAY_LEN(override_rows));
    tcase_add_test(tc, test_extra_overrides_detail_rendered);
    tcase_add_test(tc, test_long_code_type_truncated);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(problem_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
