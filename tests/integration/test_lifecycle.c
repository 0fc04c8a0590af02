/* Start-up, configuration errors, migrations between instances, and surviving
 * a PostgreSQL restart. Runs alone: one test stops the shared PostgreSQL. */
#include <check.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"

static void pgctl(const char *action)
{
    char cmd[512];
    const char *ctl = getenv("STREAMQ_TEST_PGCTL");
    ck_assert_msg(ctl != NULL, "STREAMQ_TEST_PGCTL is not set (run through scripts/test)");
    snprintf(cmd, sizeof cmd, "%s %s", ctl, action);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(readyz_follows_the_database_without_restart)
{
    struct response *r = get("/readyz");
    ck_assert_int_eq(r->status, 200);
    response_free(r);

    pgctl("stop");
    r = get("/readyz");
    EXPECT_PROBLEM(r, 503, "unavailable");
    ck_assert_ptr_nonnull(header(r, "Retry-After"));
    response_free(r);
    expect_healthy();

    pgctl("start");
    long status = 0;
    for (int i = 0; i < 100 && status != 200; i++) {
        r = get("/readyz");
        status = r->status;
        response_free(r);
        if (status != 200)
            usleep(100 * 1000);
    }
    ck_assert_int_eq(status, 200);
    ck_assert_int_eq(kill(svc.pid, 0), 0);
}
END_TEST

START_TEST(two_instances_starting_together_migrate_once)
{
    const char *schema = unique_name("race");
    char schema_id[64];
    snprintf(schema_id, sizeof schema_id, "%s", schema);
    for (char *c = schema_id; *c; c++)
        if (*c == '-')
            *c = '_';
    struct service_proc both[2];
    ck_assert(svc_start_many(both, 2, schema_id, NULL));
    struct service_proc *a = &both[0], *b = &both[1];

    /* One row per migration the binary carries: none was applied twice. */
    struct response *r = http(a, "GET", "/version", NULL, NULL);
    long long latest = response_int(r, "schema_version");
    response_free(r);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.schema_migrations", schema_id);
    ck_assert_int_eq(sql_value(sql), latest);
    snprintf(sql, sizeof sql, "SELECT count(DISTINCT version) FROM %s.schema_migrations", schema_id);
    ck_assert_int_eq(sql_value(sql), latest);
    r = http(a, "GET", "/readyz", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    response_free(r);
    r = http(b, "GET", "/readyz", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    response_free(r);
    ck_assert_int_eq(svc_stop(a), 0);
    ck_assert_int_eq(svc_stop(b), 0);
}
END_TEST

START_TEST(unknown_option_stops_start_up)
{
    const char *args[] = {"--bogus-option", "1", NULL};
    char out[2048];
    ck_assert_int_ne(svc_run_to_exit(args, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "--bogus-option"), "message was: %s", out);
}
END_TEST

START_TEST(pool_max_zero_stops_start_up)
{
    const char *args[] = {"--pool-max", "0", NULL};
    char out[2048];
    ck_assert_int_ne(svc_run_to_exit(args, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "pool-max"), "message was: %s", out);
}
END_TEST

START_TEST(bad_value_from_environment_names_the_variable)
{
    setenv("STREAMQ_THREADS", "many", 1);
    char out[2048];
    int status = svc_run_to_exit(NULL, out, sizeof out);
    unsetenv("STREAMQ_THREADS");
    ck_assert_int_ne(status, 0);
    ck_assert_msg(strstr(out, "STREAMQ_THREADS"), "message was: %s", out);
}
END_TEST

START_TEST(unreachable_database_stops_start_up)
{
    const char *args[] = {"--listen", "127.0.0.1:0", "--database-url",
                          "host=127.0.0.1 port=1 dbname=none connect_timeout=2", NULL};
    char out[2048];
    ck_assert_int_ne(svc_run_to_exit(args, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "database connection failed"), "message was: %s", out);
}
END_TEST

START_TEST(schema_behind_without_auto_migrate_stops_start_up)
{
    char schema[64];
    snprintf(schema, sizeof schema, "%s", unique_name("behind"));
    for (char *c = schema; *c; c++)
        if (*c == '-')
            *c = '_';
    const char *args[] = {"--listen", "127.0.0.1:0", "--schema", schema, "--auto-migrate", "false", NULL};
    char out[2048];
    ck_assert_int_ne(svc_run_to_exit(args, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "streamq migrate"), "message was: %s", out);

    const char *migrate[] = {"migrate", "--schema", schema, NULL};
    ck_assert_int_eq(svc_run_to_exit(migrate, out, sizeof out), 0);

    struct service_proc p;
    const char *off[] = {"--auto-migrate", "false", NULL};
    ck_assert(svc_start(&p, schema, off));
    struct response *r = http(&p, "GET", "/readyz", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    response_free(r);
    ck_assert_int_eq(svc_stop(&p), 0);
}
END_TEST

START_TEST(help_lists_every_option)
{
    const char *args[] = {"--help", NULL};
    char out[8192];
    ck_assert_int_eq(svc_run_to_exit(args, out, sizeof out), 0);
    const char *expect[] = {"--listen",
                            "STREAMQ_DATABASE_URL",
                            "--pool-min",
                            "--pool-max",
                            "--acquire-timeout-ms",
                            "--command-timeout-ms",
                            "--auto-migrate",
                            "--read-batch-size",
                            "--visibility-timeout",
                            "--max-delivery-attempts",
                            "--sweep-interval-ms",
                            "--partitioning",
                            "--max-body",
                            "--max-batch",
                            "--threads",
                            "--tokens-file",
                            "--metrics-public",
                            "STREAMQ_METRICS_REFRESH_MS",
                            "--log-format",
                            "--log-level",
                            "--table-prefix",
                            "--schema",
                            "--config"};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        ck_assert_msg(strstr(out, expect[i]), "--help lacks %s", expect[i]);
}
END_TEST

struct slow_export {
    int port;
    char path[200];
    long status;
    long long lines;
    int curl_result;
};

static size_t count_lines(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct slow_export *x = userdata;
    for (size_t i = 0; i < size * nmemb; i++)
        x->lines += ptr[i] == '\n';
    return size * nmemb;
}

static void *read_slowly(void *arg)
{
    struct slow_export *x = arg;
    char url[300];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", x->port, x->path);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/x-ndjson");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, count_lines);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(curl, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)(256 * 1024));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    x->curl_result = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &x->status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return NULL;
}

START_TEST(sigterm_lets_an_in_flight_export_finish)
{
    struct service_proc p;
    const char *args[] = {"--shutdown-timeout", "60", NULL};
    ck_assert(svc_start(&p, svc.schema, args));
    const char *stream = unique_name("drain");
    char path[200], body[96 * 1024];
    snprintf(path, sizeof path, "/streams/%s/events", stream);
    for (int b = 0; b < 20; b++) {
        size_t n = (size_t)snprintf(body, sizeof body, "{\"events\":[");
        for (int i = 0; i < 500; i++)
            n += (size_t)snprintf(body + n, sizeof body - n, "%s{\"type\":\"T\",\"data\":{\"pad\":\"%0100d\"}}",
                                  i ? "," : "", i);
        snprintf(body + n, sizeof body - n, "]}");
        struct response *r = http(&p, "POST", path, body, NULL);
        ck_assert_int_eq(r->status, 201);
        response_free(r);
    }

    /* About 2.6 MB read at 256 KiB/s: the export is still running at SIGTERM. */
    struct slow_export x = {.port = p.port};
    snprintf(x.path, sizeof x.path, "%s", path);
    pthread_t reader;
    pthread_create(&reader, NULL, read_slowly, &x);
    usleep(1000 * 1000);
    ck_assert_int_gt(x.lines, 0);
    ck_assert_int_lt(x.lines, 10000);
    kill(p.pid, SIGTERM);
    pthread_join(reader, NULL);

    ck_assert_int_eq(x.curl_result, CURLE_OK);
    ck_assert_int_eq(x.status, 200);
    ck_assert_int_eq(x.lines, 10000);
    ck_assert_int_eq(svc_stop(&p), 0);
}
END_TEST

#define LOG_THREADS 4
#define LOG_REQUESTS 150

struct log_client {
    const struct service_proc *sp;
    int thread;
    int ok;
};

static void *request_with_ids(void *arg)
{
    struct log_client *c = arg;
    for (int i = 0; i < LOG_REQUESTS; i++) {
        char id[64];
        snprintf(id, sizeof id, "X-Request-Id: acc-%d-%d", c->thread, i);
        const char *headers[] = {id, NULL};
        struct response *r = http(c->sp, "GET", "/healthz", NULL, headers);
        c->ok += r->status == 200;
        response_free(r);
    }
    return NULL;
}

/* Access lines are buffered per thread: while the service runs they still reach
 * the log without a stop, and a clean stop leaves none behind. Every line is
 * whole: nothing from another thread inside it. */
START_TEST(access_lines_are_whole_and_none_is_lost_at_a_clean_stop)
{
    struct service_proc p;
    ck_assert(svc_start(&p, svc.schema, NULL));
    pthread_t threads[LOG_THREADS];
    struct log_client clients[LOG_THREADS];
    for (int t = 0; t < LOG_THREADS; t++) {
        clients[t] = (struct log_client){.sp = &p, .thread = t};
        pthread_create(&threads[t], NULL, request_with_ids, &clients[t]);
    }
    for (int t = 0; t < LOG_THREADS; t++) {
        pthread_join(threads[t], NULL);
        ck_assert_int_eq(clients[t].ok, LOG_REQUESTS);
    }

    /* Written while the service keeps running and idle. */
    char last[64];
    snprintf(last, sizeof last, " acc-%d-%d GET ", LOG_THREADS - 1, LOG_REQUESTS - 1);
    for (int waited = 0; waited < 200 && !svc_log_contains(&p, last); waited++)
        usleep(50 * 1000);
    ck_assert_msg(svc_log_contains(&p, last), "the access line of a finished request is not in %s", p.log_path);

    ck_assert_int_eq(svc_stop(&p), 0);
    FILE *f = fopen(p.log_path, "r");
    ck_assert(f != NULL);
    static bool seen[LOG_THREADS][LOG_REQUESTS];
    memset(seen, 0, sizeof seen);
    int lines = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        const char *at = strstr(line, " info acc-");
        if (!at)
            continue;
        int t = -1, i = -1, consumed = 0;
        double ms = -1;
        /* "<RFC 3339 time> info <id> GET /healthz 200 <ms>ms", the whole line. */
        int got = sscanf(at, " info acc-%d-%d GET /healthz 200 %lfms\n%n", &t, &i, &ms, &consumed);
        ck_assert_msg(got == 3 && at - line == 27 && line[26] == 'Z' && at + consumed == line + len, "line: %s", line);
        ck_assert(t >= 0 && t < LOG_THREADS && i >= 0 && i < LOG_REQUESTS);
        ck_assert_msg(!seen[t][i], "logged twice: %s", line);
        seen[t][i] = true;
        lines++;
    }
    free(line);
    fclose(f);
    ck_assert_int_eq(lines, LOG_THREADS * LOG_REQUESTS);
}
END_TEST

static Suite *lifecycle_suite(void)
{
    Suite *s = suite_create("lifecycle");
    TCase *tc = tcase_create("lifecycle");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, readyz_follows_the_database_without_restart);
    tcase_add_test(tc, two_instances_starting_together_migrate_once);
    tcase_add_test(tc, unknown_option_stops_start_up);
    tcase_add_test(tc, pool_max_zero_stops_start_up);
    tcase_add_test(tc, bad_value_from_environment_names_the_variable);
    tcase_add_test(tc, unreachable_database_stops_start_up);
    tcase_add_test(tc, schema_behind_without_auto_migrate_stops_start_up);
    tcase_add_test(tc, help_lists_every_option);
    tcase_add_test(tc, sigterm_lets_an_in_flight_export_finish);
    tcase_add_test(tc, access_lines_are_whole_and_none_is_lost_at_a_clean_stop);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(lifecycle_suite(), NULL);
}
