/* Unit tests for src/core/sign.c: Standard Webhooks signatures, checked
 * against HMAC-SHA256 values computed independently with
 * `printf '<id>.<ts>.<body>' | openssl dgst -sha256 -hmac '<secret>' -binary | base64`. */
#include <check.h>
#include <string.h>

#include "src/core/sign.h"
#include "src/core/util.h"

static const struct {
    const char *secret, *id;
    int64_t ts;
    const char *body, *want, *why;
} rows[] = {
    {"0123456789abcdef", "msg_1", 1700000000, "{\"a\":1}",
     "v1,41C4mdfM4X7k7EqLRBhc2OjUAQFwQVsqMUoL0CbTfxc=", "a small JSON body"},
    {"k", "id-2", 0, "", "v1,Z3zgtMjeIJl1eDULXb4/vACroNsMTWiN9XadsaHC/yA=", "empty body, timestamp 0"},
};

START_TEST(test_signatures)
{
    char out[SIGNATURE_LEN];
    sign_webhook(rows[_i].secret, rows[_i].id, rows[_i].ts, rows[_i].body, strlen(rows[_i].body), out);
    ck_assert_msg(!strcmp(out, rows[_i].want), "row %d (%s): %s", _i, rows[_i].why, out);
}
END_TEST

START_TEST(test_any_change_changes_the_signature)
{
    char a[SIGNATURE_LEN], b[SIGNATURE_LEN];
    sign_webhook("secret-secret-16", "id", 1, "body", 4, a);
    sign_webhook("secret-secret-17", "id", 1, "body", 4, b);
    ck_assert_str_ne(a, b);
    sign_webhook("secret-secret-16", "ie", 1, "body", 4, b);
    ck_assert_str_ne(a, b);
    sign_webhook("secret-secret-16", "id", 2, "body", 4, b);
    ck_assert_str_ne(a, b);
    sign_webhook("secret-secret-16", "id", 1, "bodY", 4, b);
    ck_assert_str_ne(a, b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sign");
    TCase *tc = tcase_create("sign");
    tcase_add_loop_test(tc, test_signatures, 0, (int)ARRAY_LEN(rows));
    tcase_add_test(tc, test_any_change_changes_the_signature);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
