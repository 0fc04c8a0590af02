/* Unit tests for src/core/json.c: json_parse (exactly `len` bytes of UTF-8 JSON,
 * nothing after it) and json_is_int (an integral number within bounds). */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/json.h"
#include "src/core/util.h"

/* ---- json_parse: inputs it must reject ---- */

static const struct {
    const char *text;
    size_t len; /* 0 means strlen(text) */
    const char *why;
} reject_rows[] = {
    {"", 0, "empty input"},
    {"   ", 0, "whitespace only"},
    {"{", 0, "truncated object"},
    {"{\"a\":", 0, "truncated member"},
    {"[1,]", 0, "trailing comma"},
    {"{\"a\":1,\"a\":2}", 0, "repeated key"},
    {"[{\"x\":{\"b\":1,\"c\":2,\"b\":3}}]", 0, "repeated key in a nested object"},
    {"{'a':1}", 0, "single quotes"},
    {"{a:1}", 0, "unquoted key"},
    {"NaN", 0, "NaN is not JSON"},
    {"{} x", 0, "trailing garbage after whitespace"},
    {"{}}", 0, "extra closing brace"},
    {"{}{}", 0, "two documents"},
    {"[1] 2", 0, "trailing number"},
    {"{}\0", 3, "trailing NUL byte inside len"},
    {"{} \0", 4, "whitespace then NUL inside len"},
    {"{}\0{}", 5, "NUL then another document inside len"},
    {"{\"a\":1}", 5, "len cuts the document"},
    {"\"\xC0\x80\"", 0, "overlong NUL (C0 80)"},
    {"\"\xC1\xBF\"", 0, "overlong 2-byte (C1)"},
    {"\"\xE0\x80\xAF\"", 0, "overlong '/' in 3 bytes"},
    {"\"\xF0\x8F\xBF\xBF\"", 0, "overlong 4-byte"},
    {"\"\xED\xA0\x80\"", 0, "UTF-16 surrogate D800"},
    {"\"\xED\xBF\xBF\"", 0, "UTF-16 surrogate DFFF"},
    {"\"\xF4\x90\x80\x80\"", 0, "above U+10FFFF"},
    {"\"\xC3\"", 0, "truncated 2-byte sequence"},
    {"\"\xE2\x82\"", 0, "truncated 3-byte sequence"},
    {"\"\xF0\x9F\x98\"", 0, "truncated 4-byte sequence"},
    {"\"\x80\"", 0, "lone continuation byte"},
    {"\"\xFF\"", 0, "FF byte"},
    {"{\"k\xED\xA0\x80\":1}", 0, "surrogate inside a key"},
    {"{\"a\":[\"ok\",\"\xC0\xAF\"]}", 0, "bad byte deep in a nested value"},
    /* what cJSON accepts and RFC 8259 does not */
    {"{\"a\":\"x\0y\"}", 11, "raw NUL inside a string"},
    {"{\"k\0\":1}", 8, "raw NUL inside a key"},
    {"{\"a\":\"\x01\"}", 0, "raw control byte inside a string"},
    {"{\"a\":\"tab\there\"}", 0, "raw tab inside a string"},
    {"{\"a\":\"line\nbreak\"}", 0, "raw newline inside a string"},
    {"{\"a\":\x01 1}", 0, "control byte between tokens"},
    {"{\"a\":1.}", 0, "number ending in a point"},
    {"{\"a\":.5}", 0, "number starting with a point"},
    {"[01]", 0, "leading zero"},
    {"[-]", 0, "minus alone"},
    {"[1e]", 0, "exponent without digits"},
    {"[1.5e+]", 0, "signed exponent without digits"},
    {"[+1]", 0, "plus sign"},
    {"[1.2.3]", 0, "two decimal points"},
    {"[0x10]", 0, "hexadecimal"},
    {"[\"\\uDZ00\"]", 0, "\\u with a non-hex digit"},
    {"[\"\\u12\"]", 0, "\\u with too few digits"},
    {"[\"\\x41\"]", 0, "an escape JSON does not have"},
};

START_TEST(test_parse_rejects)
{
    size_t len = reject_rows[_i].len ? reject_rows[_i].len : strlen(reject_rows[_i].text);
    cJSON *root = json_parse(reject_rows[_i].text, len);
    ck_assert_msg(root == NULL, "row %d (%s): accepted", _i, reject_rows[_i].why);
    cJSON_Delete(root);
}
END_TEST

/* ---- json_parse: inputs it must accept ---- */

static const struct {
    const char *text;
    size_t len; /* 0 means strlen(text) */
    int type;   /* cJSON type of the root */
    const char *why;
} accept_rows[] = {
    {"{}", 0, cJSON_Object, "empty object"},
    {"[]", 0, cJSON_Array, "empty array"},
    {"0", 0, cJSON_Number, "bare number"},
    {"\"\"", 0, cJSON_String, "empty string"},
    {"null", 0, cJSON_NULL, "null"},
    {"{\"a\":[1,{\"b\":[true,null,\"x\"]}],\"c\":{\"d\":{}}}", 0, cJSON_Object, "nested objects and arrays"},
    {" \t\n{}\r\n ", 0, cJSON_Object, "whitespace around the value"},
    {"\"caf\xC3\xA9\"", 0, cJSON_String, "2-byte UTF-8"},
    {"\"\xED\x9F\xBF\"", 0, cJSON_String, "U+D7FF, just below the surrogates"},
    {"\"\xEE\x80\x80\"", 0, cJSON_String, "U+E000, just above the surrogates"},
    {"\"\xF0\x9F\x98\x80\"", 0, cJSON_String, "4-byte UTF-8"},
    {"\"\xF4\x8F\xBF\xBF\"", 0, cJSON_String, "U+10FFFF, the maximum"},
    {"[-0,0.5,-1.25e-3,1E+9,10e0]", 0, cJSON_Array, "every number form RFC 8259 allows"},
    {"{\"a\":\"esc \\\" \\\\ \\n \\u0001\"}", 0, cJSON_Object, "escaped quote, backslash and controls"},
    {"{\"a\":\"\x7f\"}", 0, cJSON_Object, "raw DEL is allowed in a string"},
    {"\"\\ud83d\\ude00\"", 0, cJSON_String, "escaped surrogate pair is fine"},
    {"{\"a\":1}xyz", 7, cJSON_Object, "len stops before the bytes that follow"},
};

START_TEST(test_parse_accepts)
{
    size_t len = accept_rows[_i].len ? accept_rows[_i].len : strlen(accept_rows[_i].text);
    cJSON *root = json_parse(accept_rows[_i].text, len);
    ck_assert_msg(root != NULL, "row %d (%s): rejected", _i, accept_rows[_i].why);
    ck_assert_msg((root->type & 0xFF) == accept_rows[_i].type, "row %d (%s): root type %d", _i, accept_rows[_i].why,
                  root->type & 0xFF);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_parse_nested_values)
{
    static const char text[] = "{\"a\":[1,{\"b\":[true,null,\"x\"]}],\"c\":{\"d\":{}}}";
    cJSON *root = json_parse(text, sizeof text - 1);
    ck_assert_ptr_nonnull(root);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "a");
    ck_assert(cJSON_IsArray(a));
    ck_assert_int_eq(cJSON_GetArraySize(a), 2);
    ck_assert_int_eq(cJSON_GetArrayItem(a, 0)->valueint, 1);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(a, 1), "b");
    ck_assert_int_eq(cJSON_GetArraySize(b), 3);
    ck_assert(cJSON_IsTrue(cJSON_GetArrayItem(b, 0)));
    ck_assert(cJSON_IsNull(cJSON_GetArrayItem(b, 1)));
    ck_assert_str_eq(cJSON_GetArrayItem(b, 2)->valuestring, "x");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "c"), "d");
    ck_assert(cJSON_IsObject(d));
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_parse_unterminated_buffer)
{
    /* json_parse reads exactly len bytes: a body buffer has no NUL after it, and
     * under ASan a read one byte past this allocation fails the test. */
    char *buf = xmalloc(7);
    memcpy(buf, "[1,2,3]", 7);
    cJSON *root = json_parse(buf, 7);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(cJSON_GetArraySize(root), 3);
    cJSON_Delete(root);
    free(buf);
}
END_TEST

/* ---- json_is_int ---- */

static const struct {
    const char *json; /* parsed with cJSON_Parse; NULL: pass a NULL item */
    int64_t min, max;
    bool ok;
    const char *why;
} int_rows[] = {
    {NULL, 0, 10, false, "NULL item"},
    {"0", 0, 10, true, "zero at min"},
    {"10", 0, 10, true, "exactly max"},
    {"11", 0, 10, false, "max + 1"},
    {"-1", 0, 10, false, "min - 1"},
    {"-10", -10, 10, true, "negative min"},
    {"-0", 0, 10, true, "-0 is the integer 0"},
    {"-0.0", 0, 0, true, "-0.0 is the integer 0"},
    {"1.0", 0, 10, true, "integral value written with a fraction"},
    {"1e2", 0, 100, true, "integral value written with an exponent"},
    {"1e2", 0, 99, false, "exponent form above max"},
    {"1.5", 0, 10, false, "fraction"},
    {"-1.5", -10, 10, false, "negative fraction"},
    {"0.0000001", 0, 10, false, "tiny fraction"},
    {"1e-300", 0, 10, false, "tiny exponent"},
    {"1e300", INT64_MIN, INT64_MAX, false, "1e300: integral but beyond int64"},
    {"-1e300", INT64_MIN, INT64_MAX, false, "-1e300: beyond int64"},
    {"1e400", INT64_MIN, INT64_MAX, false, "overflows double to infinity"},
    {"-1e400", INT64_MIN, INT64_MAX, false, "overflows to -infinity"},
    {"9007199254740992", 0, INT64_MAX, true, "2^53"},
    {"9007199254740993", 0, 9007199254740991, false, "2^53 + 1 above a 2^53 - 1 max"},
    {"4294967296", 0, 4294967295, false, "2^32 above a uint32 max"},
    {"4294967295", 0, 4294967295, true, "uint32 max"},
    {"1e19", 0, INT64_MAX, false, "1e19, above INT64_MAX"},
    {"-9223372036854775808", INT64_MIN, 0, true, "INT64_MIN"},
    {"\"5\"", 0, 10, false, "wrong type: string"},
    {"true", 0, 10, false, "wrong type: bool"},
    {"null", 0, 10, false, "wrong type: null"},
    {"[5]", 0, 10, false, "wrong type: array"},
    {"{\"n\":5}", 0, 10, false, "wrong type: object"},
};

START_TEST(test_is_int)
{
    cJSON *item = NULL;
    if (int_rows[_i].json) {
        item = cJSON_Parse(int_rows[_i].json);
        ck_assert_msg(item != NULL, "row %d (%s): fixture does not parse", _i, int_rows[_i].why);
    }
    bool ok = json_is_int(item, int_rows[_i].min, int_rows[_i].max);
    ck_assert_msg(ok == int_rows[_i].ok, "row %d (%s): %s returned %d", _i, int_rows[_i].why,
                  int_rows[_i].json ? int_rows[_i].json : "(null)", ok);
    cJSON_Delete(item);
}
END_TEST

START_TEST(test_is_int_not_a_number_values)
{
    /* Values no JSON text produces, but a cJSON number item can still hold. */
    cJSON *nan = cJSON_CreateNumber(NAN);
    cJSON *inf = cJSON_CreateNumber(INFINITY);
    cJSON *max = cJSON_CreateNumber(DBL_MAX);
    ck_assert(!json_is_int(nan, INT64_MIN, INT64_MAX));
    ck_assert(!json_is_int(inf, INT64_MIN, INT64_MAX));
    ck_assert(!json_is_int(max, INT64_MIN, INT64_MAX));
    cJSON_Delete(nan);
    cJSON_Delete(inf);
    cJSON_Delete(max);
}
END_TEST

static Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_parse_rejects, 0, (int)ARRAY_LEN(reject_rows));
    tcase_add_loop_test(tc, test_parse_accepts, 0, (int)ARRAY_LEN(accept_rows));
    tcase_add_test(tc, test_parse_nested_values);
    tcase_add_test(tc, test_parse_unterminated_buffer);
    tcase_add_loop_test(tc, test_is_int, 0, (int)ARRAY_LEN(int_rows));
    tcase_add_test(tc, test_is_int_not_a_number_values);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(json_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
