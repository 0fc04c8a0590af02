/* GET /metrics (issue 14): the exposition parses with Prometheus's own parser
 * (`promtool check metrics`, Debian's prometheus package), and what a scrape
 * shows moves with what clients do: request counts and the latency histogram
 * after requests, group-commit sizes after an append, queue gauges after
 * enqueues and a dequeue (within the refresh interval, 200 ms here). /metrics
 * needs a read token when tokens are configured, unless --metrics-public. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "queue_fixtures.h"

#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define READ_TOKEN "read-token-0123456789"
/* printf 'read-token-0123456789' | sha256sum */
#define READ_HASH "d354526d2b69d5dec36caef20814c68e90bf9a093c3cce5d33b59e8d01e41652"

/* A scrape of `sp`: asserts 200 and the exposition's content type. */
static struct response *scrape_of(const struct service_proc *sp, const char *token)
{
    char auth[96];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
    const char *headers[] = {auth, NULL};
    struct response *r = http(sp, "GET", "/metrics", NULL, token ? headers : NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(header(r, "Content-Type"), PROM_TYPE);
    return r;
}

static struct response *scrape(void)
{
    return scrape_of(&svc, NULL);
}

/* The value of the sample written exactly `series` (name and labels as the
 * exposition spells them), or -1 when the scrape has no such sample. */
static double sample(const struct response *r, const char *series)
{
    size_t n = strlen(series);
    for (const char *line = r->body; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
        if (!strncmp(line, series, n) && line[n] == ' ')
            return strtod(line + n + 1, NULL);
    return -1;
}

/* Runs promtool on the scrape's body; fails the test with promtool's words
 * when it finds the text malformed (or is missing: CI installs it). */
static void expect_promtool_accepts(const struct response *r)
{
    char in[64], out[64], cmd[200];
    snprintf(in, sizeof in, "/tmp/streamq-metrics.%d.txt", (int)getpid());
    snprintf(out, sizeof out, "/tmp/streamq-metrics.%d.out", (int)getpid());
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    fwrite(r->body, 1, r->len, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s > %s 2>&1", in, out);
    int rc = system(cmd);
    char said[2000] = "";
    f = fopen(out, "r");
    if (f) {
        said[fread(said, 1, sizeof said - 1, f)] = '\0';
        fclose(f);
    }
    unlink(in);
    unlink(out);
    ck_assert_msg(rc == 0, "promtool check metrics failed (%d): %s", rc, said);
}

START_TEST(exposition_parses_with_promtool)
{
    /* Something in every family that has labels, so the parser sees them all. */
    qf_enqueue_n(unique_name("parse-"), 1, "t", NULL);
    EXPECT_PROBLEM_FREE(get("/nowhere"), 404, "not_found");
    struct response *r = scrape();
    expect_promtool_accepts(r);
    ck_assert_ptr_nonnull(strstr(r->body, "# TYPE streamq_http_request_duration_seconds histogram\n"));
    ck_assert_double_ge(sample(r, "streamq_db_pool_size"), 1);
    ck_assert_double_ge(sample(r, "process_resident_memory_bytes"), 1);
    ck_assert_double_ge(sample(r, "process_open_fds"), 1);
    ck_assert_double_ge(sample(r, "streamq_http_requests_total{method=\"\",route=\"unmatched\",code=\"404\"}"), 1);
    response_free(r);
}
END_TEST

#define HEALTHZ_OK "streamq_http_requests_total{method=\"GET\",route=\"/healthz\",code=\"200\"}"
#define HEALTHZ_LATENCY "streamq_http_request_duration_seconds"
#define HEALTHZ_LABELS "{method=\"GET\",route=\"/healthz\"}"

START_TEST(request_counter_and_histogram_move_after_requests)
{
    struct response *before = scrape();
    double count = sample(before, HEALTHZ_OK);
    double observed = sample(before, HEALTHZ_LATENCY "_count" HEALTHZ_LABELS);
    double inf = sample(before, HEALTHZ_LATENCY "_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"}");
    response_free(before);

    for (int i = 0; i < 3; i++) {
        struct response *r = get("/healthz");
        ck_assert_int_eq(r->status, 200);
        response_free(r);
    }

    /* Counted when each request completed, which is before its client read the answer's end. */
    struct response *after = scrape();
    ck_assert_double_eq(sample(after, HEALTHZ_OK), (count < 0 ? 0 : count) + 3);
    ck_assert_double_eq(sample(after, HEALTHZ_LATENCY "_count" HEALTHZ_LABELS), (observed < 0 ? 0 : observed) + 3);
    ck_assert_double_eq(sample(after, HEALTHZ_LATENCY "_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"}"),
                        (inf < 0 ? 0 : inf) + 3);
    ck_assert_double_ge(sample(after, HEALTHZ_LATENCY "_sum" HEALTHZ_LABELS), 0);
    response_free(after);
}
END_TEST

START_TEST(group_commit_sizes_move_after_an_append)
{
    struct response *before = scrape();
    double groups = sample(before, "streamq_group_commit_size_count{kind=\"append\"}");
    double appends = sample(before, "streamq_group_commit_size_sum{kind=\"append\"}");
    response_free(before);

    struct response *r =
        requestf("POST", fmt("/streams/%s/events", unique_name("gc-")), "{\"events\":[{\"type\":\"t\",\"data\":{}}]}");
    ck_assert_int_eq(r->status, 201);
    response_free(r);

    struct response *after = scrape();
    ck_assert_double_ge(sample(after, "streamq_group_commit_size_count{kind=\"append\"}"), groups + 1);
    ck_assert_double_ge(sample(after, "streamq_group_commit_size_sum{kind=\"append\"}"), appends + 1);
    response_free(after);
}
END_TEST

/* Scrapes until the series reads `want`; the service re-reads queue depths
 * every 200 ms, so this bound is generous. */
static void expect_series_reaches(const char *series, double want)
{
    double seen = -1;
    for (int i = 0; i < 100; i++) {
        struct response *r = scrape();
        seen = sample(r, series);
        response_free(r);
        if (seen == want)
            return;
        usleep(100 * 1000);
    }
    ck_abort_msg("%s read %g, never %g", series, seen, want);
}

START_TEST(queue_gauges_follow_enqueues_and_a_dequeue)
{
    const char *queue = unique_name("depth-");
    char pending[300], in_flight[300], dead[300];
    snprintf(pending, sizeof pending, "streamq_queue_pending{queue=\"%s\"}", queue);
    snprintf(in_flight, sizeof in_flight, "streamq_queue_in_flight{queue=\"%s\"}", queue);
    snprintf(dead, sizeof dead, "streamq_queue_dead_letters{queue=\"%s\"}", queue);

    qf_enqueue_n(queue, 3, "t", NULL);
    expect_series_reaches(pending, 3);
    expect_series_reaches(in_flight, 0);
    expect_series_reaches(dead, 0);

    struct qf_delivery d;
    qf_dequeue_one(queue, "{\"max_messages\":1}", &d);
    expect_series_reaches(pending, 2);
    expect_series_reaches(in_flight, 1);

    struct response *r = scrape();
    char age[300];
    snprintf(age, sizeof age, "streamq_queue_oldest_pending_age_seconds{queue=\"%s\"}", queue);
    ck_assert_double_ge(sample(r, age), 0);
    ck_assert_double_eq(sample(r, "streamq_queue_depths_up"), 1);
    response_free(r);
}
END_TEST

START_TEST(metrics_need_a_read_token_unless_public)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/streamq-metrics-tokens.%d", (int)getpid());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("read " READ_HASH " scraper\n", f);
    fclose(f);

    struct service_proc guarded, open;
    const char *guarded_args[] = {"--tokens-file", path, NULL};
    ck_assert(svc_start(&guarded, NULL, guarded_args));
    struct response *r = http(&guarded, "GET", "/metrics", NULL, NULL);
    ck_assert_int_eq(r->status, 401);
    response_free(r);
    r = scrape_of(&guarded, READ_TOKEN);
    expect_promtool_accepts(r);
    response_free(r);
    ck_assert_int_eq(svc_stop(&guarded), 0);

    const char *open_args[] = {"--tokens-file", path, "--metrics-public", "true", NULL};
    ck_assert(svc_start(&open, NULL, open_args));
    r = scrape_of(&open, NULL);
    ck_assert_double_ge(sample(r, "streamq_db_pool_size"), 1);
    response_free(r);
    /* Only /metrics opens: the rest still needs its token. */
    r = http(&open, "GET", "/version", NULL, NULL);
    ck_assert_int_eq(r->status, 401);
    response_free(r);
    ck_assert_int_eq(svc_stop(&open), 0);
    unlink(path);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, exposition_parses_with_promtool);
    tcase_add_test(tc, request_counter_and_histogram_move_after_requests);
    tcase_add_test(tc, group_commit_sizes_move_after_an_append);
    tcase_add_test(tc, queue_gauges_follow_enqueues_and_a_dequeue);
    tcase_add_test(tc, metrics_need_a_read_token_unless_public);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *args[] = {"--metrics-refresh-ms", "200", NULL};
    return harness_main(metrics_suite(), args);
}
