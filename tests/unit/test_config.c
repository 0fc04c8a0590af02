/* Unit tests for src/config.c, the ways a value gets set: defaults, the four sources
 * and their precedence (flags > environment > file > defaults), both flag forms,
 * commands, and the config file (from --config or STREAMQ_CONFIG). Rejected values,
 * error messages and --help/--version are in test_config_values.c. The environment
 * is a fake passed through config_load's getenv hook; config files are temporary
 * files in /tmp (both in config_helpers.c). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/config.h"
#include "src/core/util.h"

#include "config_helpers.h"

/* ---- defaults ---- */

START_TEST(test_defaults)
{
    static const struct sources none = {0};
    struct config cfg;
    char err[256];

    ck_assert_int_eq(load(&none, &cfg, err, sizeof err), CONFIG_OK);
    ck_assert_str_eq(cfg.listen, "127.0.0.1:8080");
    ck_assert_int_eq(cfg.listen_addr.ss_family, AF_INET);
    ck_assert_int_eq(ntohs(((struct sockaddr_in *)&cfg.listen_addr)->sin_port), 8080);
    ck_assert_uint_eq(cfg.listen_addr_len, sizeof(struct sockaddr_in));
    ck_assert_str_eq(cfg.database_url, "");
    ck_assert_str_eq(cfg.read_database_url, "");
    ck_assert_int_eq(cfg.max_replica_lag_ms, 1000);
    ck_assert_str_eq(cfg.schema, "event_streaming");
    ck_assert_str_eq(cfg.table_prefix, "");
    ck_assert_int_eq(cfg.pool_min, 2);
    ck_assert_int_eq(cfg.pool_max, 16);
    ck_assert_int_eq(cfg.acquire_timeout_ms, 5000);
    ck_assert_int_eq(cfg.command_timeout_ms, 30000);
    ck_assert(cfg.auto_migrate);
    ck_assert_int_eq(cfg.read_batch_size, 1000);
    ck_assert_int_eq(cfg.visibility_timeout, 30);
    ck_assert_int_eq(cfg.max_delivery_attempts, 5);
    ck_assert_int_eq(cfg.sweep_interval_ms, 1000);
    ck_assert_str_eq(cfg.partitioning, "none");
    ck_assert_int_eq(cfg.max_body, 4194304);
    ck_assert_int_eq(cfg.max_batch, 1000);
    ck_assert_int_eq(cfg.threads, 16);
    ck_assert_int_eq(cfg.connection_timeout, 60);
    ck_assert_int_eq(cfg.shutdown_timeout, 10);
    ck_assert_str_eq(cfg.tokens_file, "");
    ck_assert_int_eq(cfg.log_format, LOG_FORMAT_TEXT);
    ck_assert_int_eq(cfg.log_level, LOG_INFO);
    ck_assert_ptr_null(cfg.config_file);
    ck_assert_str_eq(cfg.command, "serve");
    config_free(&cfg);
}
END_TEST

/* ---- precedence: default < file < env < flag ---- */

static const struct {
    struct sources src;
    int64_t pool_max;
    const char *why;
} precedence_rows[] = {
    {{NULL, {NULL}, {NULL}}, 16, "default only"},
    {{"{\"pool-max\": 20}", {NULL}, {NULL}}, 20, "file over default"},
    {{NULL, {"STREAMQ_POOL_MAX=30"}, {NULL}}, 30, "env over default"},
    {{NULL, {NULL}, {"--pool-max=40"}}, 40, "flag over default"},
    {{"{\"pool-max\": 20}", {"STREAMQ_POOL_MAX=30"}, {NULL}}, 30, "env over file"},
    {{"{\"pool-max\": 20}", {NULL}, {"--pool-max", "40"}}, 40, "flag over file"},
    {{NULL, {"STREAMQ_POOL_MAX=30"}, {"--pool-max=40"}}, 40, "flag over env"},
    {{"{\"pool-max\": 20}", {"STREAMQ_POOL_MAX=30"}, {"--pool-max=40"}}, 40, "all four: flag wins"},
    {{"{\"pool-max\": 20}", {"STREAMQ_POOL_MIN=3"}, {NULL}}, 20, "env for another option leaves the file's"},
    {{NULL, {NULL}, {"--pool-max=40", "--pool-max=50"}}, 50, "the last of repeated flags wins"},
};

START_TEST(test_precedence)
{
    struct config cfg;
    char err[256];
    enum config_result r = load(&precedence_rows[_i].src, &cfg, err, sizeof err);
    ck_assert_msg(r == CONFIG_OK, "row %d (%s): result %d: %s", _i, precedence_rows[_i].why, r, err);
    ck_assert_msg(cfg.pool_max == precedence_rows[_i].pool_max, "row %d (%s): pool_max %lld", _i,
                  precedence_rows[_i].why, (long long)cfg.pool_max);
    config_free(&cfg);
}
END_TEST

/* ---- sources that load: one row per way of setting a value ---- */

enum field {
    F_LISTEN,
    F_DATABASE_URL,
    F_READ_DATABASE_URL,
    F_MAX_REPLICA_LAG_MS,
    F_SCHEMA,
    F_TABLE_PREFIX,
    F_POOL_MIN,
    F_POOL_MAX,
    F_AUTO_MIGRATE,
    F_LOG_LEVEL,
    F_LOG_FORMAT,
    F_MAX_BODY,
    F_COMMAND,
    F_CONFIG_FILE_SET
};

static const struct {
    struct sources src;
    enum field field;
    const char *want_str; /* string fields */
    int64_t want_int;     /* integer, bool and enum fields */
    const char *why;
} ok_rows[] = {
    /* flag forms */
    {{NULL, {NULL}, {"--schema=analytics"}}, F_SCHEMA, "analytics", 0, "--opt=value"},
    {{NULL, {NULL}, {"--schema", "analytics"}}, F_SCHEMA, "analytics", 0, "--opt value"},
    {{NULL, {NULL}, {"--database-url=postgres://u@h/db?x=1"}},
     F_DATABASE_URL,
     "postgres://u@h/db?x=1",
     0,
     "value with '=' inside, --opt=value"},
    {{NULL, {NULL}, {"--table-prefix="}}, F_TABLE_PREFIX, "", 0, "empty value with --opt="},
    /* environment names */
    {{NULL, {"STREAMQ_POOL_MIN=1"}, {NULL}}, F_POOL_MIN, NULL, 1, "STREAMQ_POOL_MIN, at min"},
    {{NULL, {"STREAMQ_POOL_MAX=1000"}, {NULL}}, F_POOL_MAX, NULL, 1000, "STREAMQ_POOL_MAX, at max"},
    {{NULL, {"STREAMQ_TABLE_PREFIX=sq_"}, {NULL}}, F_TABLE_PREFIX, "sq_", 0, "STREAMQ_TABLE_PREFIX"},
    {{NULL, {"STREAMQ_MAX_BODY=1024"}, {NULL}}, F_MAX_BODY, NULL, 1024, "STREAMQ_MAX_BODY, at min"},
    {{NULL, {"STREAMQ_LOG_LEVEL=debug"}, {NULL}}, F_LOG_LEVEL, NULL, LOG_DEBUG, "enum from env"},
    {{NULL, {"STREAMQ_LOG_FORMAT=json"}, {NULL}}, F_LOG_FORMAT, NULL, LOG_FORMAT_JSON, "log format from env"},
    {{NULL, {"pool_max=99", "streamq_pool_max=99"}, {NULL}},
     F_POOL_MAX,
     NULL,
     16,
     "only the exact STREAMQ_ upper-case name counts"},
    /* DATABASE_URL */
    {{NULL, {"DATABASE_URL=postgres://plain"}, {NULL}}, F_DATABASE_URL, "postgres://plain", 0, "DATABASE_URL alone"},
    {{NULL, {"DATABASE_URL=postgres://plain", "STREAMQ_DATABASE_URL=postgres://prefixed"}, {NULL}},
     F_DATABASE_URL,
     "postgres://prefixed",
     0,
     "STREAMQ_DATABASE_URL beats DATABASE_URL"},
    {{NULL, {"STREAMQ_DATABASE_URL=postgres://prefixed", "DATABASE_URL=postgres://plain"}, {NULL}},
     F_DATABASE_URL,
     "postgres://prefixed",
     0,
     "STREAMQ_ wins whatever the order"},
    {{"{\"database-url\": \"postgres://file\"}", {"DATABASE_URL="}, {NULL}},
     F_DATABASE_URL,
     "postgres://file",
     0,
     "empty DATABASE_URL is ignored"},
    {{"{\"database-url\": \"postgres://file\"}", {"DATABASE_URL=postgres://plain"}, {NULL}},
     F_DATABASE_URL,
     "postgres://plain",
     0,
     "DATABASE_URL is environment: beats the file"},
    {{NULL, {"DATABASE_URL=postgres://plain"}, {"--database-url=postgres://flag"}},
     F_DATABASE_URL,
     "postgres://flag",
     0,
     "flag beats DATABASE_URL"},
    /* bools */
    {{NULL, {NULL}, {"--auto-migrate=false"}}, F_AUTO_MIGRATE, NULL, 0, "bool false"},
    {{NULL, {NULL}, {"--auto-migrate=off"}}, F_AUTO_MIGRATE, NULL, 0, "bool off"},
    {{NULL, {NULL}, {"--auto-migrate=0"}}, F_AUTO_MIGRATE, NULL, 0, "bool 0"},
    {{NULL, {NULL}, {"--auto-migrate=no"}}, F_AUTO_MIGRATE, NULL, 0, "bool no"},
    {{NULL, {"STREAMQ_AUTO_MIGRATE=false"}, {"--auto-migrate", "yes"}}, F_AUTO_MIGRATE, NULL, 1, "bool yes"},
    {{NULL, {"STREAMQ_AUTO_MIGRATE=false"}, {"--auto-migrate=on"}}, F_AUTO_MIGRATE, NULL, 1, "bool on"},
    {{"{\"auto-migrate\": false}", {NULL}, {NULL}}, F_AUTO_MIGRATE, NULL, 0, "JSON false in the file"},
    {{"{\"auto-migrate\": \"off\"}", {NULL}, {NULL}}, F_AUTO_MIGRATE, NULL, 0, "string bool in the file"},
    /* file value types */
    {{"{\"schema\": \"from_file\"}", {NULL}, {NULL}}, F_SCHEMA, "from_file", 0, "string in the file"},
    {{"{\"pool-max\": \"25\"}", {NULL}, {NULL}}, F_POOL_MAX, NULL, 25, "number as a string in the file"},
    {{"{}", {NULL}, {NULL}}, F_POOL_MAX, NULL, 16, "empty object changes nothing"},
    /* pool-min and pool-max */
    {{NULL, {NULL}, {"--pool-min=5", "--pool-max=5"}}, F_POOL_MIN, NULL, 5, "pool-min equal to pool-max"},
    {{NULL, {NULL}, {"--pool-max=1", "--pool-min=1"}}, F_POOL_MAX, NULL, 1, "pool-max at its min"},
    /* listen */
    {{NULL, {NULL}, {"--listen=0.0.0.0:0"}}, F_LISTEN, "0.0.0.0:0", 0, "port 0"},
    {{NULL, {NULL}, {"--listen=127.0.0.1:65535"}}, F_LISTEN, "127.0.0.1:65535", 0, "port max"},
    {{NULL, {NULL}, {"--listen=localhost:9000"}}, F_LISTEN, "localhost:9000", 0, "localhost"},
    {{NULL, {NULL}, {"--listen=[::1]:8080"}}, F_LISTEN, "[::1]:8080", 0, "bracketed IPv6"},
    /* schema and table prefix identifiers */
    {{NULL, {NULL}, {"--schema=a"}}, F_SCHEMA, "a", 0, "one-char schema"},
    {{NULL, {NULL}, {"--schema=abcdefghijabcdefghijabcdefghijabcdefghij"}},
     F_SCHEMA,
     "abcdefghijabcdefghijabcdefghijabcdefghij",
     0,
     "40-char schema (max)"},
    {{NULL, {NULL}, {"--schema=_x9"}}, F_SCHEMA, "_x9", 0, "leading underscore"},
    /* a standby for reads */
    {{NULL, {"STREAMQ_READ_DATABASE_URL=host=/run/standby"}, {NULL}},
     F_READ_DATABASE_URL,
     "host=/run/standby",
     0,
     "STREAMQ_READ_DATABASE_URL"},
    {{"{\"read-database-url\": \"postgres://standby/db\"}", {"DATABASE_URL=postgres://primary/db"}, {NULL}},
     F_READ_DATABASE_URL,
     "postgres://standby/db",
     0,
     "read-database-url in the file; DATABASE_URL does not set it"},
    {{NULL, {NULL}, {"--max-replica-lag-ms=100"}}, F_MAX_REPLICA_LAG_MS, NULL, 100, "max-replica-lag-ms at its min"},
    {{"{\"max-replica-lag-ms\": 5000}", {NULL}, {NULL}},
     F_MAX_REPLICA_LAG_MS,
     NULL,
     5000,
     "max-replica-lag-ms in the file"},
    /* commands */
    {{NULL, {NULL}, {NULL}}, F_COMMAND, "serve", 0, "serve by default"},
    {{NULL, {NULL}, {"migrate"}}, F_COMMAND, "migrate", 0, "migrate command"},
    {{NULL, {NULL}, {"serve"}}, F_COMMAND, "serve", 0, "explicit serve"},
    {{NULL, {NULL}, {"--pool-max", "9", "migrate"}}, F_COMMAND, "migrate", 0, "command after --opt value"},
    {{NULL, {NULL}, {"migrate", "--pool-max=9"}}, F_POOL_MAX, NULL, 9, "flag after the command"},
    {{NULL, {NULL}, {"--schema", "migrate"}}, F_COMMAND, "serve", 0, "a flag's value is not a command"},
    /* config file location */
    {{"{\"pool-max\": 21}", {NULL}, {NULL}}, F_CONFIG_FILE_SET, NULL, 1, "--config=PATH is recorded"},
    {{NULL, {"STREAMQ_CONFIG="}, {NULL}}, F_CONFIG_FILE_SET, NULL, 0, "empty STREAMQ_CONFIG: no file"},
};

static void check_field(const struct config *cfg, int row)
{
    const char *s = NULL;
    int64_t v = 0;
    bool is_str = false;

    switch (ok_rows[row].field) {
    case F_LISTEN:
        s = cfg->listen;
        is_str = true;
        break;
    case F_DATABASE_URL:
        s = cfg->database_url;
        is_str = true;
        break;
    case F_READ_DATABASE_URL:
        s = cfg->read_database_url;
        is_str = true;
        break;
    case F_MAX_REPLICA_LAG_MS:
        v = cfg->max_replica_lag_ms;
        break;
    case F_SCHEMA:
        s = cfg->schema;
        is_str = true;
        break;
    case F_TABLE_PREFIX:
        s = cfg->table_prefix;
        is_str = true;
        break;
    case F_COMMAND:
        s = cfg->command;
        is_str = true;
        break;
    case F_POOL_MIN:
        v = cfg->pool_min;
        break;
    case F_POOL_MAX:
        v = cfg->pool_max;
        break;
    case F_AUTO_MIGRATE:
        v = cfg->auto_migrate;
        break;
    case F_LOG_LEVEL:
        v = cfg->log_level;
        break;
    case F_LOG_FORMAT:
        v = cfg->log_format;
        break;
    case F_MAX_BODY:
        v = cfg->max_body;
        break;
    case F_CONFIG_FILE_SET:
        v = cfg->config_file != NULL;
        break;
    }
    if (is_str)
        ck_assert_msg(s && strcmp(s, ok_rows[row].want_str) == 0, "row %d (%s): got \"%s\", want \"%s\"", row,
                      ok_rows[row].why, s ? s : "(null)", ok_rows[row].want_str);
    else
        ck_assert_msg(v == ok_rows[row].want_int, "row %d (%s): got %lld, want %lld", row, ok_rows[row].why,
                      (long long)v, (long long)ok_rows[row].want_int);
}

START_TEST(test_ok_rows)
{
    struct config cfg;
    char err[256];
    enum config_result r = load(&ok_rows[_i].src, &cfg, err, sizeof err);
    ck_assert_msg(r == CONFIG_OK, "row %d (%s): result %d: %s", _i, ok_rows[_i].why, r, err);
    check_field(&cfg, _i);
    config_free(&cfg);
}
END_TEST

/* ---- the config file ---- */

START_TEST(test_file_sets_many)
{
    static const struct sources src = {"{\n"
                                       "  \"listen\": \"0.0.0.0:9090\",\n"
                                       "  \"schema\": \"sq\",\n"
                                       "  \"pool-min\": 4,\n"
                                       "  \"pool-max\": 8,\n"
                                       "  \"auto-migrate\": false,\n"
                                       "  \"log-format\": \"json\",\n"
                                       "  \"log-level\": \"warn\"\n"
                                       "}\n",
                                       {NULL},
                                       {NULL}};
    struct config cfg;
    char err[256];
    ck_assert_msg(load(&src, &cfg, err, sizeof err) == CONFIG_OK, "%s", err);
    ck_assert_str_eq(cfg.listen, "0.0.0.0:9090");
    ck_assert_str_eq(cfg.schema, "sq");
    ck_assert_int_eq(cfg.pool_min, 4);
    ck_assert_int_eq(cfg.pool_max, 8);
    ck_assert(!cfg.auto_migrate);
    ck_assert_int_eq(cfg.log_format, LOG_FORMAT_JSON);
    ck_assert_int_eq(cfg.log_level, LOG_WARN);
    ck_assert_ptr_nonnull(cfg.config_file);
    ck_assert(strncmp(cfg.config_file, "/tmp/streamq-test-config-", 25) == 0);
    config_free(&cfg);
}
END_TEST

START_TEST(test_file_from_env)
{
    char path[64], var[96];
    write_temp_file("{\"pool-max\": 33}", path);
    snprintf(var, sizeof var, "STREAMQ_CONFIG=%s", path);
    const struct sources src = {NULL, {var}, {NULL}};
    struct config cfg;
    char err[256];
    enum config_result r = load(&src, &cfg, err, sizeof err);
    unlink(path);
    ck_assert_msg(r == CONFIG_OK, "%s", err);
    ck_assert_int_eq(cfg.pool_max, 33);
    ck_assert_str_eq(cfg.config_file, path);
    config_free(&cfg);
}
END_TEST

START_TEST(test_file_flag_beats_env_file)
{
    /* --config (a flag) picks the file over STREAMQ_CONFIG (the environment). */
    char env_path[64], var[96];
    write_temp_file("{\"pool-max\": 33}", env_path);
    snprintf(var, sizeof var, "STREAMQ_CONFIG=%s", env_path);
    const struct sources src = {"{\"pool-max\": 44}", {var}, {NULL}};
    struct config cfg;
    char err[256];
    enum config_result r = load(&src, &cfg, err, sizeof err);
    unlink(env_path);
    ck_assert_msg(r == CONFIG_OK, "%s", err);
    ck_assert_int_eq(cfg.pool_max, 44);
    config_free(&cfg);
}
END_TEST

START_TEST(test_file_space_separated_flag)
{
    /* --config PATH (two arguments) as well as --config=PATH. */
    char path[64];
    write_temp_file("{\"schema\": \"spaced\"}", path);
    char *argv[] = {"streamq", "--config", path, "migrate", NULL};
    struct config cfg;
    char err[256];
    fake_env = NULL;
    enum config_result r = config_load(&cfg, 4, argv, fake_getenv, err, sizeof err);
    unlink(path);
    ck_assert_msg(r == CONFIG_OK, "%s", err);
    ck_assert_str_eq(cfg.schema, "spaced");
    ck_assert_str_eq(cfg.command, "migrate");
    config_free(&cfg);
}
END_TEST

START_TEST(test_file_larger_than_first_read)
{
    /* The file reader starts with a 4 KiB buffer; a key past it must still count. */
    size_t pad = 10000;
    const char *tail = "\"pool-max\": 12}";
    char *text = xmalloc(pad + strlen(tail) + 2);
    text[0] = '{';
    memset(text + 1, ' ', pad);
    strcpy(text + 1 + pad, tail);
    const struct sources src = {text, {NULL}, {NULL}};
    struct config cfg;
    char err[256];
    enum config_result r = load(&src, &cfg, err, sizeof err);
    free(text);
    ck_assert_msg(r == CONFIG_OK, "%s", err);
    ck_assert_int_eq(cfg.pool_max, 12);
    config_free(&cfg);
}
END_TEST

/* ---- single cases ---- */

START_TEST(test_free_twice)
{
    static const struct sources none = {0};
    struct config cfg;
    char err[256];
    ck_assert_int_eq(load(&none, &cfg, err, sizeof err), CONFIG_OK);
    config_free(&cfg);
    config_free(&cfg); /* fields were reset to NULL */
    ck_assert_ptr_null(cfg.listen);
    ck_assert_ptr_null(cfg.command);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_defaults);
    tcase_add_loop_test(tc, test_precedence, 0, (int)ARRAY_LEN(precedence_rows));
    tcase_add_loop_test(tc, test_ok_rows, 0, (int)ARRAY_LEN(ok_rows));
    tcase_add_test(tc, test_file_sets_many);
    tcase_add_test(tc, test_file_from_env);
    tcase_add_test(tc, test_file_flag_beats_env_file);
    tcase_add_test(tc, test_file_space_separated_flag);
    tcase_add_test(tc, test_file_larger_than_first_read);
    tcase_add_test(tc, test_free_twice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
