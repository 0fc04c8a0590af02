/* Unit tests for src/core/text.c: the JSON string escaper, the RFC 3339
 * formatter and the integer writer that the log and every renderer share, and
 * the growable buffer. */
#include <check.h>
#include <string.h>

#include "src/core/text.h"
#include "src/core/util.h"

static const struct {
    const char *in;
    const char *want;
    const char *why;
} escape_rows[] = {
    {"", "\"\"", "empty string"},
    {"orders", "\"orders\"", "plain ASCII unchanged"},
    {"a\"b", "\"a\\\"b\"", "quote escaped"},
    {"a\\b", "\"a\\\\b\"", "backslash escaped"},
    {"\x01", "\"\\u0001\"", "control byte as \\u"},
    {"\x1f", "\"\\u001f\"", "last control byte, lower-case hex"},
    {"\n\t", "\"\\u000a\\u0009\"", "newline and tab as \\u, like every control"},
    {" ", "\" \"", "space is not a control"},
    {"\x7f", "\"\x7f\"", "DEL is valid JSON as it is"},
    {"caf\xC3\xA9", "\"caf\xC3\xA9\"", "UTF-8 kept as it is"},
    {"/", "\"/\"", "solidus not escaped"},
};

START_TEST(test_json_string)
{
    struct text t = {0};
    text_json_string(&t, escape_rows[_i].in);
    ck_assert_msg(!strcmp(t.data, escape_rows[_i].want), "row %d (%s): got %s", _i, escape_rows[_i].why, t.data);
    ck_assert_uint_eq(t.len, strlen(escape_rows[_i].want));
    text_free(&t);
}
END_TEST

static const struct {
    int64_t v;
    const char *want;
    const char *why;
} int_rows[] = {
    {0, "0", "zero"},
    {7, "7", "one digit"},
    {-1, "-1", "negative"},
    {INT64_C(9007199254740991), "9007199254740991", "2^53 - 1, the largest position"},
    {INT64_C(1000000000000000), "1000000000000000", "round numbers keep every digit (no exponent)"},
    {INT64_MAX, "9223372036854775807", "INT64_MAX"},
    {INT64_MIN, "-9223372036854775808", "INT64_MIN, whose negation overflows int64_t"},
};

START_TEST(test_int)
{
    struct text t = {0};
    text_cstr(&t, "x");
    text_int(&t, int_rows[_i].v);
    ck_assert_msg(!strcmp(t.data + 1, int_rows[_i].want), "row %d (%s): got %s", _i, int_rows[_i].why, t.data + 1);
    ck_assert_uint_eq(t.len, 1 + strlen(int_rows[_i].want));
    text_free(&t);
}
END_TEST

static const struct {
    int64_t us;
    const char *want;
    const char *why;
} time_rows[] = {
    {0, "1970-01-01T00:00:00.000000Z", "the epoch"},
    {1, "1970-01-01T00:00:00.000001Z", "one microsecond"},
    {-1, "1969-12-31T23:59:59.999999Z", "before the epoch borrows a second"},
    {INT64_C(1764000000123456), "2025-11-24T16:00:00.123456Z", "a recent time with every digit"},
    {INT64_C(253402300799999999), "9999-12-31T23:59:59.999999Z", "the last four-digit year"},
    {INT64_C(951782400000000), "2000-02-29T00:00:00.000000Z", "a leap day of a century divisible by 400"},
    {INT64_C(-2203891200000000), "1900-03-01T00:00:00.000000Z", "the day after February of a century not leap"},
    {INT64_C(1735689599999999), "2024-12-31T23:59:59.999999Z", "the last microsecond of a leap year"},
};

START_TEST(test_rfc3339)
{
    char out[RFC3339_LEN + 1];
    ck_assert_uint_eq(rfc3339_format(time_rows[_i].us, out), RFC3339_LEN);
    ck_assert_msg(!strcmp(out, time_rows[_i].want), "row %d (%s): got %s", _i, time_rows[_i].why, out);
    ck_assert(rfc3339_is_valid(out));
    struct text t = {0};
    text_json_time(&t, time_rows[_i].us);
    ck_assert_uint_eq(t.len, RFC3339_LEN + 2);
    ck_assert(t.data[0] == '"' && t.data[RFC3339_LEN + 1] == '"' && !strncmp(t.data + 1, out, RFC3339_LEN));
    text_free(&t);
}
END_TEST

START_TEST(test_buffer_grows_and_stays_terminated)
{
    struct text t = {0};
    for (int i = 0; i < 10000; i++)
        text_printf(&t, "%d,", i % 10);
    ck_assert_uint_eq(t.len, 20000);
    ck_assert_uint_eq(strlen(t.data), 20000);
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    text_printf(&t, "%s", big); /* longer than the formatter's stack buffer */
    ck_assert_uint_eq(t.len, 20999);
    ck_assert(t.data[t.len - 1] == 'x' && t.data[t.len] == '\0');
    text_free(&t);
    ck_assert_ptr_null(t.data);
    ck_assert_uint_eq(t.len, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("text");
    TCase *tc = tcase_create("text");
    tcase_add_loop_test(tc, test_json_string, 0, (int)ARRAY_LEN(escape_rows));
    tcase_add_loop_test(tc, test_int, 0, (int)ARRAY_LEN(int_rows));
    tcase_add_loop_test(tc, test_rfc3339, 0, (int)ARRAY_LEN(time_rows));
    tcase_add_test(tc, test_buffer_grows_and_stays_terminated);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
