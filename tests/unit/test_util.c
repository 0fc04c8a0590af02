/* Unit tests for src/core/util.c: strict integer parsing, names, UTF-8 validation,
 * percent-decoding and UUIDs. Each parser or validator is driven by a table,
 * one row per case, with rows at every edge. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/util.h"

/* ---- parse_int64 ---- */

static const struct {
    const char *in;
    int64_t min, max;
    bool ok;
    int64_t want;
    const char *why;
} int64_rows[] = {
    {NULL, 0, 10, false, 0, "NULL input"},
    {"", 0, 10, false, 0, "empty string"},
    {"0", 0, 10, true, 0, "zero at min"},
    {"10", 0, 10, true, 10, "exactly max"},
    {"11", 0, 10, false, 0, "max + 1"},
    {"-1", 0, 10, false, 0, "min - 1"},
    {"-5", -10, 10, true, -5, "negative within range"},
    {"9223372036854775807", INT64_MIN, INT64_MAX, true, INT64_MAX, "INT64_MAX"},
    {"9223372036854775808", INT64_MIN, INT64_MAX, false, 0, "INT64_MAX + 1 overflows"},
    {"-9223372036854775808", INT64_MIN, INT64_MAX, true, INT64_MIN, "INT64_MIN"},
    {"-9223372036854775809", INT64_MIN, INT64_MAX, false, 0, "INT64_MIN - 1 underflows"},
    {"99999999999999999999999", INT64_MIN, INT64_MAX, false, 0, "far beyond int64"},
    {"007", 0, 10, true, 7, "leading zeros are still base 10, not octal"},
    {"010", 0, 100, true, 10, "010 is ten, not eight"},
    {" 5", 0, 10, false, 0, "leading space"},
    {"\t5", 0, 10, false, 0, "leading tab"},
    {"5 ", 0, 10, false, 0, "trailing space"},
    {"5\n", 0, 10, false, 0, "trailing newline"},
    {"5x", 0, 10, false, 0, "trailing garbage"},
    {"abc", 0, 10, false, 0, "wrong type: letters"},
    {"1.5", 0, 10, false, 0, "wrong type: fraction"},
    {"1e3", 0, 10000, false, 0, "wrong type: exponent"},
    {"0x10", 0, 100, false, 0, "hex prefix is not base 10"},
    {"-", -10, 10, false, 0, "sign alone"},
    {"--5", -10, 10, false, 0, "double sign"},
    {"5-", -10, 10, false, 0, "sign after digits"},
};

START_TEST(test_parse_int64)
{
    int64_t got = -12345;
    bool ok = parse_int64(int64_rows[_i].in, int64_rows[_i].min, int64_rows[_i].max, &got);
    ck_assert_msg(ok == int64_rows[_i].ok, "row %d (%s): \"%s\" returned %d", _i, int64_rows[_i].why,
                  int64_rows[_i].in ? int64_rows[_i].in : "(null)", ok);
    if (ok)
        ck_assert_msg(got == int64_rows[_i].want, "row %d (%s): got %lld", _i, int64_rows[_i].why, (long long)got);
    else
        ck_assert_msg(got == -12345, "row %d (%s): output written on failure", _i, int64_rows[_i].why);
}
END_TEST

/* ---- name_is_valid ---- */

static char name_200[NAME_MAX_LEN + 1];
static char name_201[NAME_MAX_LEN + 2];

static const struct {
    const char *in;
    bool ok;
    const char *why;
} name_rows[] = {
    {"", false, "empty"},
    {"a", true, "one char"},
    {name_200, true, "exactly NAME_MAX_LEN (200) chars"},
    {name_201, false, "NAME_MAX_LEN + 1 chars"},
    {"orders-2024.eu_west:1", true, "every allowed punctuation"},
    {"ABCxyz0189", true, "upper, lower and digits"},
    {".", false, "dot alone is a path segment"},
    {"..", false, "dot-dot is a path segment"},
    {"...", true, "three dots are just a name"},
    {".hidden", true, "leading dot with more chars"},
    {"a/b", false, "slash"},
    {"a b", false, "space"},
    {"a%2Fb", false, "percent (names are checked decoded)"},
    {"a?b", false, "question mark"},
    {"caf\xC3\xA9", false, "non-ASCII UTF-8"},
    {"a\tb", false, "control character"},
    {"{stream}", false, "braces"},
};

START_TEST(test_name_is_valid)
{
    bool ok = name_is_valid(name_rows[_i].in);
    ck_assert_msg(ok == name_rows[_i].ok, "row %d (%s): returned %d", _i, name_rows[_i].why, ok);
}
END_TEST

/* ---- utf8_is_valid ---- */

static const struct {
    const char *in;
    size_t len;
    bool ok;
    const char *why;
} utf8_rows[] = {
    {"", 0, true, "empty"},
    {"hello", 5, true, "ASCII"},
    {"a\0b", 3, true, "NUL is a valid code point"},
    {"\x7F", 1, true, "largest 1-byte (U+007F)"},
    {"\x80", 1, false, "lone continuation byte"},
    {"\xC2\x80", 2, true, "smallest 2-byte (U+0080)"},
    {"\xC3\xA9", 2, true, "e acute"},
    {"\xDF\xBF", 2, true, "largest 2-byte (U+07FF)"},
    {"\xC0\x80", 2, false, "overlong NUL (C0)"},
    {"\xC1\xBF", 2, false, "overlong U+007F (C1)"},
    {"\xC3", 1, false, "truncated 2-byte at end"},
    {"\xC3\xA9", 1, false, "len cuts the 2-byte sequence"},
    {"\xC3\x28", 2, false, "bad continuation byte"},
    {"\xE0\xA0\x80", 3, true, "smallest 3-byte (U+0800)"},
    {"\xE0\x9F\xBF", 3, false, "overlong 3-byte (U+07FF)"},
    {"\xE0\x80\xAF", 3, false, "overlong '/' in 3 bytes"},
    {"\xED\x9F\xBF", 3, true, "U+D7FF, just below the surrogates"},
    {"\xED\xA0\x80", 3, false, "U+D800, first surrogate"},
    {"\xED\xBF\xBF", 3, false, "U+DFFF, last surrogate"},
    {"\xEE\x80\x80", 3, true, "U+E000, just above the surrogates"},
    {"\xEF\xBF\xBF", 3, true, "largest 3-byte (U+FFFF)"},
    {"\xE2\x82", 2, false, "truncated 3-byte"},
    {"\xF0\x90\x80\x80", 4, true, "smallest 4-byte (U+10000)"},
    {"\xF0\x8F\xBF\xBF", 4, false, "overlong 4-byte (U+FFFF)"},
    {"\xF0\x9F\x98\x80", 4, true, "emoji"},
    {"\xF4\x8F\xBF\xBF", 4, true, "U+10FFFF, the maximum"},
    {"\xF4\x90\x80\x80", 4, false, "U+110000, max + 1"},
    {"\xF0\x9F\x98", 3, false, "truncated 4-byte"},
    {"\xF5\x80\x80\x80", 4, false, "F5 lead byte never valid"},
    {"\xF8\x88\x80\x80\x80", 5, false, "5-byte form"},
    {"\xFE", 1, false, "FE byte"},
    {"\xFF", 1, false, "FF byte"},
    {"ok\xC3\xA9ok\xED\xA0\x80", 10, false, "valid prefix then surrogate"},
};

START_TEST(test_utf8_is_valid)
{
    bool ok = utf8_is_valid(utf8_rows[_i].in, utf8_rows[_i].len);
    ck_assert_msg(ok == utf8_rows[_i].ok, "row %d (%s): returned %d", _i, utf8_rows[_i].why, ok);
}
END_TEST

/* ---- percent_decode ---- */

static const struct {
    const char *in;
    size_t len; /* 0 means strlen(in) */
    bool plus_is_space;
    const char *want; /* NULL: expect NULL */
    const char *why;
} pct_rows[] = {
    {"", 0, false, "", "empty"},
    {"plain", 0, false, "plain", "nothing to decode"},
    {"%41", 0, false, "A", "one escape"},
    {"%2F", 0, false, "/", "encoded slash"},
    {"%2f", 0, false, "/", "lower-case hex"},
    {"a%20b", 0, false, "a b", "escape in the middle"},
    {"%C3%A9", 0, false, "\xC3\xA9", "multi-byte UTF-8"},
    {"%FF", 0, false, "\xFF", "max byte value"},
    {"%01", 0, false, "\x01", "smallest byte that is not NUL"},
    {"%00", 0, false, NULL, "decoded NUL"},
    {"a%00b", 0, false, NULL, "decoded NUL in the middle"},
    {"%", 0, false, NULL, "percent alone"},
    {"%4", 0, false, NULL, "one hex digit"},
    {"100%", 0, false, NULL, "trailing percent"},
    {"%G1", 0, false, NULL, "non-hex first digit"},
    {"%1G", 0, false, NULL, "non-hex second digit"},
    {"%%41", 0, false, NULL, "double percent"},
    {"%41", 2, false, NULL, "len cuts the escape"},
    {"abc", 2, false, "ab", "len shorter than the string"},
    {"a\0b", 3, false, NULL, "raw NUL byte inside len"},
    {"a+b", 0, false, "a+b", "plus kept in paths"},
    {"a+b", 0, true, "a b", "plus is space in queries"},
    {"%2B", 0, true, "+", "encoded plus stays a plus"},
    {"++", 0, true, "  ", "only pluses"},
};

START_TEST(test_percent_decode)
{
    size_t len = pct_rows[_i].len ? pct_rows[_i].len : strlen(pct_rows[_i].in);
    char *got = percent_decode(pct_rows[_i].in, len, pct_rows[_i].plus_is_space);
    if (!pct_rows[_i].want)
        ck_assert_msg(got == NULL, "row %d (%s): expected NULL, got \"%s\"", _i, pct_rows[_i].why, got);
    else
        ck_assert_msg(got && strcmp(got, pct_rows[_i].want) == 0, "row %d (%s): got \"%s\"", _i, pct_rows[_i].why,
                      got ? got : "(null)");
    free(got);
}
END_TEST

/* ---- uuid_is_valid ---- */

static const struct {
    const char *in;
    bool ok;
    const char *why;
} uuid_rows[] = {
    {"", false, "empty"},
    {"123e4567-e89b-42d3-a456-426614174000", true, "canonical lower case"},
    {"123E4567-E89B-42D3-A456-426614174000", true, "upper case"},
    {"123e4567-E89b-42d3-A456-426614174000", true, "mixed case"},
    {"00000000-0000-0000-0000-000000000000", true, "nil UUID is well-formed"},
    {"123e4567-e89b-42d3-a456-42661417400", false, "35 chars (one short)"},
    {"123e4567-e89b-42d3-a456-4266141740000", false, "37 chars (one over)"},
    {"123e4567e89b42d3a456426614174000", false, "no dashes"},
    {"123e4567-e89b-42d3-a456_426614174000", false, "underscore for a dash"},
    {"123e456-7e89b-42d3-a456-426614174000", false, "dash one place early"},
    {"123g4567-e89b-42d3-a456-426614174000", false, "non-hex letter"},
    {"{123e4567-e89b-42d3-a456-426614174000}", false, "braces"},
    {" 123e4567-e89b-42d3-a456-42661417400", false, "leading space"},
};

START_TEST(test_uuid_is_valid)
{
    bool ok = uuid_is_valid(uuid_rows[_i].in);
    ck_assert_msg(ok == uuid_rows[_i].ok, "row %d (%s): returned %d", _i, uuid_rows[_i].why, ok);
}
END_TEST

/* ---- uuid_v4 ---- */

START_TEST(test_uuid_v4_shape)
{
    for (int n = 0; n < 64; n++) {
        char id[UUID_STR_LEN + 1];
        memset(id, 'X', sizeof id);
        uuid_v4(id);
        ck_assert_uint_eq(strlen(id), UUID_STR_LEN);
        ck_assert_msg(uuid_is_valid(id), "not canonical: %s", id);
        ck_assert_msg(id[14] == '4', "version nibble is not 4: %s", id);
        ck_assert_msg(strchr("89ab", id[19]) != NULL, "variant nibble is not RFC 4122: %s", id);
        for (int k = 0; k < UUID_STR_LEN; k++)
            ck_assert_msg(!(id[k] >= 'A' && id[k] <= 'F'), "not lower case: %s", id);
    }
}
END_TEST

START_TEST(test_uuid_v4_differ)
{
    char a[UUID_STR_LEN + 1], b[UUID_STR_LEN + 1];
    uuid_v4(a);
    uuid_v4(b);
    ck_assert_str_ne(a, b);
}
END_TEST

static Suite *util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("core");

    memset(name_200, 'n', NAME_MAX_LEN);
    memset(name_201, 'n', NAME_MAX_LEN + 1);
    tcase_add_loop_test(tc, test_parse_int64, 0, (int)ARRAY_LEN(int64_rows));
    tcase_add_loop_test(tc, test_name_is_valid, 0, (int)ARRAY_LEN(name_rows));
    tcase_add_loop_test(tc, test_utf8_is_valid, 0, (int)ARRAY_LEN(utf8_rows));
    tcase_add_loop_test(tc, test_percent_decode, 0, (int)ARRAY_LEN(pct_rows));
    tcase_add_loop_test(tc, test_uuid_is_valid, 0, (int)ARRAY_LEN(uuid_rows));
    tcase_add_test(tc, test_uuid_v4_shape);
    tcase_add_test(tc, test_uuid_v4_differ);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(util_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
