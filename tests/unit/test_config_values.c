/* Unit tests for src/config.c, the values it refuses and what it says: rejected
 * options, commands and values from every source, each error naming the offending
 * option (and variable or file), the parsed listen address, the refused tokens file,
 * error truncation, and --help/--version with the help text. How values are set and
 * which source wins is in test_config.c; the fake environment and temporary files
 * are in config_helpers.c. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/config.h"
#include "src/core/util.h"

#include "config_helpers.h"

/* ---- errors: each names what is wrong ---- */

static const struct {
    struct sources src;
    const char *needle1, *needle2; /* both must appear in the message (needle2 may be NULL) */
    const char *why;
} error_rows[] = {
    /* unknown options and missing values */
    {{NULL, {NULL}, {"--bogus=1"}}, "--bogus", NULL, "unknown option, --opt=value"},
    {{NULL, {NULL}, {"--bogus", "1"}}, "--bogus", NULL, "unknown option, --opt value"},
    {{NULL, {NULL}, {"--pool"}}, "--pool", "unknown", "a prefix of an option is unknown"},
    {{NULL, {NULL}, {"--"}}, "unknown option", NULL, "bare --"},
    {{NULL, {NULL}, {"--pool-max"}}, "pool-max", "needs a value", "missing value at the end"},
    {{NULL, {NULL}, {"--schema=x", "--listen"}}, "listen", "needs a value", "missing value after another flag"},
    {{NULL, {NULL}, {"--config"}}, "config", "needs a value", "--config without a path"},
    {{NULL, {NULL}, {"frobnicate"}}, "frobnicate", NULL, "unknown command"},
    {{NULL, {NULL}, {"-x"}}, "-x", NULL, "single-dash argument"},
    /* integers: empty, max + 1, below min, wrong type */
    {{NULL, {NULL}, {"--pool-max=0"}}, "pool-max", "--pool-max", "pool-max 0 (below min)"},
    {{NULL, {NULL}, {"--pool-max=1001"}}, "pool-max", "1000", "pool-max max + 1"},
    {{NULL, {NULL}, {"--pool-max="}}, "pool-max", NULL, "pool-max empty"},
    {{NULL, {NULL}, {"--max-replica-lag-ms=99"}}, "max-replica-lag-ms", "100", "max-replica-lag-ms below min"},
    {{NULL, {"STREAMQ_MAX_REPLICA_LAG_MS=1s"}, {NULL}},
     "max-replica-lag-ms",
     "STREAMQ_MAX_REPLICA_LAG_MS",
     "max-replica-lag-ms with a unit"},
    {{NULL, {NULL}, {"--pool-max=ten"}}, "pool-max", NULL, "pool-max wrong type"},
    {{NULL, {NULL}, {"--pool-max=1.5"}}, "pool-max", NULL, "pool-max fraction"},
    {{NULL, {NULL}, {"--pool-max", " 5"}}, "pool-max", NULL, "pool-max with a leading space"},
    {{NULL, {NULL}, {"--max-body=1023"}}, "max-body", "1024", "max-body min - 1"},
    {{NULL, {NULL}, {"--threads=99999999999999999999"}}, "threads", NULL, "beyond int64"},
    {{NULL, {"STREAMQ_POOL_MAX=0"}, {NULL}}, "pool-max", "STREAMQ_POOL_MAX", "env error names option and variable"},
    {{NULL, {"STREAMQ_POOL_MAX="}, {NULL}}, "pool-max", "STREAMQ_POOL_MAX", "empty env value"},
    /* pool-min above pool-max, from any mix of sources */
    {{NULL, {NULL}, {"--pool-min=5", "--pool-max=4"}}, "pool-min", "pool-max", "pool-min > pool-max"},
    {{NULL, {NULL}, {"--pool-min=17"}}, "pool-min", "16", "pool-min above the default pool-max"},
    {{"{\"pool-max\": 3}", {"STREAMQ_POOL_MIN=4"}, {NULL}}, "pool-min", NULL, "pool-min > pool-max across sources"},
    /* listen */
    {{NULL, {NULL}, {"--listen=127.0.0.1"}}, "listen", NULL, "no port"},
    {{NULL, {NULL}, {"--listen=127.0.0.1:"}}, "listen", NULL, "empty port"},
    {{NULL, {NULL}, {"--listen=127.0.0.1:65536"}}, "listen", NULL, "port max + 1"},
    {{NULL, {NULL}, {"--listen=127.0.0.1:-1"}}, "listen", NULL, "negative port"},
    {{NULL, {NULL}, {"--listen=127.0.0.1:http"}}, "listen", NULL, "port wrong type"},
    {{NULL, {NULL}, {"--listen=example.com:80"}}, "listen", NULL, "host name other than localhost"},
    {{NULL, {NULL}, {"--listen=256.0.0.1:80"}}, "listen", NULL, "IPv4 octet out of range"},
    {{NULL, {NULL}, {"--listen=::1:80"}}, "listen", NULL, "IPv6 without brackets"},
    {{NULL, {NULL}, {"--listen=[]:80"}}, "listen", NULL, "empty brackets"},
    {{NULL, {NULL}, {"--listen=[127.0.0.1]:80"}}, "listen", NULL, "IPv4 in brackets"},
    {{NULL, {NULL}, {"--listen=:80"}}, "listen", NULL, "empty host"},
    {{NULL, {NULL}, {"--listen="}}, "listen", NULL, "empty"},
    {{NULL,
      {NULL},
      {"--listen=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:80"}},
     "listen",
     NULL,
     "host longer than the parse buffer"},
    /* schema and table prefix */
    {{NULL, {NULL}, {"--schema="}}, "schema", NULL, "empty schema"},
    {{NULL, {NULL}, {"--schema=Events"}}, "schema", NULL, "upper case"},
    {{NULL, {NULL}, {"--schema=1events"}}, "schema", NULL, "leading digit"},
    {{NULL, {NULL}, {"--schema=event-streaming"}}, "schema", NULL, "dash"},
    {{NULL, {NULL}, {"--schema=ev\"il"}}, "schema", NULL, "quote"},
    {{NULL, {NULL}, {"--schema=abcdefghijabcdefghijabcdefghijabcdefghijk"}}, "schema", NULL, "41 chars (max + 1)"},
    {{NULL, {NULL}, {"--table-prefix=Sq_"}}, "table-prefix", NULL, "table prefix upper case"},
    {{NULL, {NULL}, {"--table-prefix=9_"}}, "table-prefix", NULL, "table prefix leading digit"},
    /* bools and enums */
    {{NULL, {NULL}, {"--auto-migrate=maybe"}}, "auto-migrate", NULL, "bad bool"},
    {{NULL, {NULL}, {"--auto-migrate="}}, "auto-migrate", NULL, "empty bool"},
    {{NULL, {NULL}, {"--auto-migrate=TRUE"}}, "auto-migrate", NULL, "bool is case-sensitive"},
    {{NULL, {"STREAMQ_AUTO_MIGRATE=2"}, {NULL}}, "auto-migrate", "STREAMQ_AUTO_MIGRATE", "bad bool in env"},
    {{NULL, {NULL}, {"--log-level=verbose"}}, "log-level", NULL, "enum value not in the list"},
    {{NULL, {NULL}, {"--partitioning=monthly"}}, "partitioning", NULL, "partitioning not in the list"},
    /* config file */
    {{"{\"bogus\": 1}", {NULL}, {NULL}}, "bogus", "unknown", "unknown key in the file"},
    {{"{\"config\": \"/etc/other.json\"}", {NULL}, {NULL}}, "config", "unknown", "file cannot name another file"},
    {{"{\"pool_max\": 5}", {NULL}, {NULL}}, "pool_max", NULL, "env-style key in the file"},
    {{"{\"pool-max\": 0}", {NULL}, {NULL}}, "pool-max", "/tmp/", "file value error names option and file"},
    {{"{\"pool-max\": \"abc\"}", {NULL}, {NULL}}, "pool-max", NULL, "file value wrong type (string)"},
    {{"{\"pool-max\": true}", {NULL}, {NULL}}, "pool-max", NULL, "file value wrong type (bool)"},
    {{"{\"pool-max\": null}", {NULL}, {NULL}}, "pool-max", NULL, "file value null"},
    {{"{\"pool-max\": [1]}", {NULL}, {NULL}}, "pool-max", NULL, "file value array"},
    {{"{\"pool-max\": 1e300}", {NULL}, {NULL}}, "pool-max", NULL, "file value huge"},
    {{"{\"schema\": {}}", {NULL}, {NULL}}, "schema", NULL, "file value object"},
    {{"{\"auto-migrate\": \"maybe\"}", {NULL}, {NULL}}, "auto-migrate", NULL, "bad bool in the file"},
    {{"[1, 2]", {NULL}, {NULL}}, "not a JSON object", NULL, "file is an array"},
    {{"", {NULL}, {NULL}}, "not a JSON object", NULL, "file is empty"},
    {{"{\"pool-max\": ", {NULL}, {NULL}}, "not a JSON object", NULL, "file is truncated JSON"},
    {{NULL, {"STREAMQ_CONFIG=/nonexistent/streamq.json"}, {NULL}},
     "/nonexistent/streamq.json",
     NULL,
     "STREAMQ_CONFIG names a missing file"},
    {{NULL, {NULL}, {"--config", "/nonexistent/streamq.json"}},
     "/nonexistent/streamq.json",
     NULL,
     "--config PATH names a missing file"},
};

START_TEST(test_error_rows)
{
    struct config cfg;
    char err[256];
    enum config_result r = load(&error_rows[_i].src, &cfg, err, sizeof err);
    ck_assert_msg(r == CONFIG_ERROR, "row %d (%s): result %d, want CONFIG_ERROR", _i, error_rows[_i].why, r);
    ck_assert_msg(strstr(err, error_rows[_i].needle1) != NULL, "row %d (%s): \"%s\" lacks \"%s\"", _i,
                  error_rows[_i].why, err, error_rows[_i].needle1);
    if (error_rows[_i].needle2)
        ck_assert_msg(strstr(err, error_rows[_i].needle2) != NULL, "row %d (%s): \"%s\" lacks \"%s\"", _i,
                      error_rows[_i].why, err, error_rows[_i].needle2);
    config_free(&cfg);
}
END_TEST

/* ---- --help and --version ---- */

static const struct {
    struct sources src;
    enum config_result want;
    const char *why;
} early_rows[] = {
    {{NULL, {NULL}, {"--help"}}, CONFIG_HELP, "--help"},
    {{NULL, {NULL}, {"-h"}}, CONFIG_HELP, "-h"},
    {{NULL, {NULL}, {"--pool-max=0", "--help"}}, CONFIG_HELP, "--help wins over a bad value"},
    {{NULL, {NULL}, {"migrate", "--help"}}, CONFIG_HELP, "--help after a command"},
    {{NULL, {NULL}, {"--version"}}, CONFIG_VERSION, "--version"},
};

START_TEST(test_early_rows)
{
    struct config cfg;
    char err[256];
    enum config_result r = load(&early_rows[_i].src, &cfg, err, sizeof err);
    ck_assert_msg(r == early_rows[_i].want, "row %d (%s): result %d", _i, early_rows[_i].why, r);
    config_free(&cfg);
}
END_TEST

/* ---- the listen address ---- */

START_TEST(test_listen_ipv6_address)
{
    static const struct sources src = {NULL, {NULL}, {"--listen=[::1]:8443"}};
    struct config cfg;
    char err[256];
    ck_assert_int_eq(load(&src, &cfg, err, sizeof err), CONFIG_OK);
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&cfg.listen_addr;
    ck_assert_int_eq(v6->sin6_family, AF_INET6);
    ck_assert_int_eq(ntohs(v6->sin6_port), 8443);
    ck_assert_uint_eq(cfg.listen_addr_len, sizeof(struct sockaddr_in6));
    ck_assert(IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr));
    config_free(&cfg);
}
END_TEST

START_TEST(test_listen_localhost_address)
{
    static const struct sources src = {NULL, {NULL}, {"--listen=localhost:0"}};
    struct config cfg;
    char err[256];
    ck_assert_int_eq(load(&src, &cfg, err, sizeof err), CONFIG_OK);
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)&cfg.listen_addr;
    ck_assert_int_eq(v4->sin_family, AF_INET);
    ck_assert_int_eq(ntohs(v4->sin_port), 0);
    ck_assert_uint_eq(ntohl(v4->sin_addr.s_addr), INADDR_LOOPBACK);
    ck_assert_str_eq(cfg.listen, "localhost:0"); /* kept as given */
    config_free(&cfg);
}
END_TEST

/* ---- single cases ---- */

/* The tokens file is a path taken as given; the service reads it at start. */
START_TEST(test_tokens_file_is_taken_from_the_environment)
{
    static const struct sources src = {NULL, {"STREAMQ_TOKENS_FILE=/etc/streamq/tokens"}, {NULL}};
    struct config cfg;
    char err[256] = "";
    ck_assert_msg(load(&src, &cfg, err, sizeof err) == CONFIG_OK, "%s", err);
    ck_assert_str_eq(cfg.tokens_file, "/etc/streamq/tokens");
    config_free(&cfg);
}
END_TEST

START_TEST(test_error_truncated_to_buffer)
{
    /* A small err buffer still gets a terminated, truncated message. */
    static const struct sources src = {NULL, {NULL}, {"--pool-max=0"}};
    struct config cfg;
    char err[16];
    memset(err, 'X', sizeof err);
    ck_assert_int_eq(load(&src, &cfg, err, sizeof err), CONFIG_ERROR);
    ck_assert_uint_eq(strlen(err), sizeof err - 1);
    config_free(&cfg);
}
END_TEST

START_TEST(test_help_text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    config_print_help(f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "--pool-max"));
    ck_assert_ptr_nonnull(strstr(buf, "STREAMQ_POOL_MAX"));
    ck_assert_ptr_nonnull(strstr(buf, "STREAMQ_DATABASE_URL"));
    ck_assert_ptr_nonnull(strstr(buf, "--config"));
    ck_assert_ptr_nonnull(strstr(buf, "STREAMQ_CONFIG"));
    ck_assert_ptr_nonnull(strstr(buf, "migrate"));
    free(buf);
}
END_TEST

static Suite *config_values_suite(void)
{
    Suite *s = suite_create("config_values");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_error_rows, 0, (int)ARRAY_LEN(error_rows));
    tcase_add_loop_test(tc, test_early_rows, 0, (int)ARRAY_LEN(early_rows));
    tcase_add_test(tc, test_listen_ipv6_address);
    tcase_add_test(tc, test_listen_localhost_address);
    tcase_add_test(tc, test_tokens_file_is_taken_from_the_environment);
    tcase_add_test(tc, test_error_truncated_to_buffer);
    tcase_add_test(tc, test_help_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_values_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
