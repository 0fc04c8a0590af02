/* Unit tests for src/http/auth.c: the tokens file's lines, the lookup of a
 * presented token (hashes from `printf '<token>' | sha256sum`), reloads that
 * keep the old set when the file no longer parses, and new tokens. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/http/auth.h"

#define HASH_SECRET "930bbdc51b6aed5c2a5678fd6e28dee7a05e8a4b643cfc0b4427c3efb86c0d94" /* "secret-token" */

static const struct {
    const char *line;
    bool ok, empty;
    enum auth_scope scope;
    const char *label, *prefix, *why;
} lines[] = {
    {"read " HASH_SECRET, true, false, SCOPE_READ, "", "", "scope and hash"},
    {"write " HASH_SECRET " ci", true, false, SCOPE_WRITE, "ci", "", "with a label"},
    {"admin\t" HASH_SECRET "  ops@example prefix=team-a-", true, false, SCOPE_ADMIN, "ops@example", "team-a-",
     "label and prefix, tabs and double spaces"},
    {"read " HASH_SECRET " prefix=orders  # the orders team", true, false, SCOPE_READ, "", "orders",
     "prefix without label, trailing comment"},
    {"read " HASH_SECRET "\r\n", true, false, SCOPE_READ, "", "", "CRLF"},
    {"", true, true, SCOPE_OPEN, "", "", "empty line"},
    {"   # only a comment", true, true, SCOPE_OPEN, "", "", "comment line"},
    {"root " HASH_SECRET, false, false, SCOPE_OPEN, "", "", "unknown scope"},
    {"read", false, false, SCOPE_OPEN, "", "", "no hash"},
    {"read 930bbdc5", false, false, SCOPE_OPEN, "", "", "short hash"},
    {"read " HASH_SECRET "zz", false, false, SCOPE_OPEN, "", "", "long hash"},
    {"read 930bbdc51b6aed5c2a5678fd6e28dee7a05e8a4b643cfc0b4427c3efb86c0d9g", false, false, SCOPE_OPEN, "", "",
     "not hex"},
    {"read " HASH_SECRET " prefix=", false, false, SCOPE_OPEN, "", "", "empty prefix"},
    {"read " HASH_SECRET " prefix=a/b", false, false, SCOPE_OPEN, "", "", "prefix with a character no name has"},
    {"read " HASH_SECRET " prefix=a prefix=b", false, false, SCOPE_OPEN, "", "", "two prefixes"},
    {"read " HASH_SECRET " a b", false, false, SCOPE_OPEN, "", "", "two labels"},
    {"read " HASH_SECRET " bad!label", false, false, SCOPE_OPEN, "", "", "label with a character not allowed"},
};

START_TEST(test_lines)
{
    struct auth_token t;
    bool empty;
    char err[256] = "";
    bool ok = auth_parse_line(lines[_i].line, &t, &empty, err, sizeof err);
    ck_assert_msg(ok == lines[_i].ok, "row %d (%s): ok %d, err %s", _i, lines[_i].why, ok, err);
    if (!ok) {
        ck_assert_msg(*err, "row %d (%s): no reason given", _i, lines[_i].why);
        return;
    }
    ck_assert_int_eq(empty, lines[_i].empty);
    if (empty)
        return;
    ck_assert_int_eq(t.scope, lines[_i].scope);
    ck_assert_str_eq(t.label, lines[_i].label);
    ck_assert_str_eq(t.prefix, lines[_i].prefix);
    ck_assert_int_eq(t.hash[0], 0x93);
    ck_assert_int_eq(t.hash[31], 0x94);
}
END_TEST

static char *write_file(const char *text)
{
    char *path = strdup("/tmp/streamq-auth-test.XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void rewrite(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_check_finds_the_token_and_nothing_else)
{
    char *path = write_file("# streamq tokens\nwrite " HASH_SECRET " ci prefix=team-a-\n");
    char err[256];
    struct auth *a = auth_load(path, err, sizeof err);
    ck_assert_msg(a != NULL, "%s", err);
    ck_assert_int_eq(auth_count(a), 1);
    const struct auth_token *t = auth_check(a, "Bearer secret-token");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->scope, SCOPE_WRITE);
    ck_assert_str_eq(t->label, "ci");
    ck_assert_ptr_eq(auth_check(a, "bearer secret-token"), t);
    ck_assert_ptr_eq(auth_check(a, "Bearer  secret-token "), t);
    ck_assert_ptr_null(auth_check(a, NULL));
    ck_assert_ptr_null(auth_check(a, ""));
    ck_assert_ptr_null(auth_check(a, "Bearer "));
    ck_assert_ptr_null(auth_check(a, "Basic c2VjcmV0LXRva2Vu"));
    ck_assert_ptr_null(auth_check(a, "secret-token"));
    ck_assert_ptr_null(auth_check(a, "Bearer secret-tokeN"));
    ck_assert_ptr_null(auth_check(a, "Bearer secret-token2"));
    ck_assert_ptr_null(auth_check(a, "Bearer " HASH_SECRET));

    ck_assert(auth_name_allowed(t, "team-a-orders"));
    ck_assert(auth_name_allowed(t, "team-a-"));
    ck_assert(!auth_name_allowed(t, "team-b-orders"));
    ck_assert(!auth_name_allowed(t, "team-a"));
    auth_free(a);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_reload_replaces_the_set_or_keeps_it)
{
    char *path = write_file("read " HASH_SECRET "\n");
    char err[256];
    struct auth *a = auth_load(path, err, sizeof err);
    ck_assert_ptr_nonnull(a);
    const struct auth_token *before = auth_check(a, "Bearer secret-token");
    ck_assert_ptr_nonnull(before);

    /* A file that no longer parses keeps the old set, and says where. */
    rewrite(path, "read " HASH_SECRET "\nwrite nothex\n");
    ck_assert(!auth_reload(a, err, sizeof err));
    ck_assert_msg(strstr(err, "line 2") != NULL, "%s", err);
    ck_assert_ptr_nonnull(auth_check(a, "Bearer secret-token"));

    /* Revoked: an empty file admits no one. The old entry stays readable. */
    rewrite(path, "# nobody\n");
    ck_assert(auth_reload(a, err, sizeof err));
    ck_assert_int_eq(auth_count(a), 0);
    ck_assert_ptr_null(auth_check(a, "Bearer secret-token"));
    ck_assert_int_eq(before->scope, SCOPE_READ);

    unlink(path);
    ck_assert(!auth_reload(a, err, sizeof err));
    ck_assert_msg(strstr(err, "cannot read") != NULL, "%s", err);
    auth_free(a);
    free(path);
}
END_TEST

START_TEST(test_new_tokens_are_random_url_safe_and_their_line_matches)
{
    char a[AUTH_TOKEN_LEN + 1], b[AUTH_TOKEN_LEN + 1], line[512], err[256];
    auth_token_new(a);
    auth_token_new(b);
    ck_assert_uint_eq(strlen(a), AUTH_TOKEN_LEN);
    ck_assert_str_ne(a, b);
    ck_assert_uint_eq(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), AUTH_TOKEN_LEN);

    ck_assert(auth_token_line("secret-token", SCOPE_ADMIN, "ops", "team-a-", line, sizeof line, err, sizeof err));
    ck_assert_str_eq(line, "admin " HASH_SECRET " ops prefix=team-a-");
    ck_assert(auth_token_line("secret-token", SCOPE_READ, NULL, NULL, line, sizeof line, err, sizeof err));
    ck_assert_str_eq(line, "read " HASH_SECRET);
    ck_assert(!auth_token_line("x", SCOPE_OPEN, NULL, NULL, line, sizeof line, err, sizeof err));
    ck_assert(!auth_token_line("x", SCOPE_READ, "bad label", NULL, line, sizeof line, err, sizeof err));
    ck_assert(!auth_token_line("x", SCOPE_READ, NULL, "a/b", line, sizeof line, err, sizeof err));

    /* The printed line reads back as the token it was made for. */
    ck_assert(auth_token_line(a, SCOPE_WRITE, "ci", NULL, line, sizeof line, err, sizeof err));
    char *path = write_file(line);
    struct auth *set = auth_load(path, err, sizeof err);
    ck_assert_ptr_nonnull(set);
    char header[80];
    snprintf(header, sizeof header, "Bearer %s", a);
    ck_assert_ptr_nonnull(auth_check(set, header));
    snprintf(header, sizeof header, "Bearer %s", b);
    ck_assert_ptr_null(auth_check(set, header));
    auth_free(set);
    unlink(path);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("auth");
    tcase_add_loop_test(tc, test_lines, 0, (int)ARRAY_LEN(lines));
    tcase_add_test(tc, test_check_finds_the_token_and_nothing_else);
    tcase_add_test(tc, test_reload_replaces_the_set_or_keeps_it);
    tcase_add_test(tc, test_new_tokens_are_random_url_safe_and_their_line_matches);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
