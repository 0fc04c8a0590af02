/* Many appenders and a global reader at once: offsets stay gap-free per
 * stream, every event is stored once, and a reader following next_position
 * sees every event exactly once even when transactions commit out of order. */
#include <check.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define WRITERS 16
#define PER_WRITER 500
#define STREAMS 4
#define TOTAL (WRITERS * PER_WRITER)

static char prefix[64];
static char stream_names[STREAMS][96];

struct writer {
    int index;
    int conflicts;
    int failures;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    const char *stream = stream_names[w->index % STREAMS];
    char path[160];
    snprintf(path, sizeof path, "/streams/%s/events", stream);
    long long version = -1;
    for (int k = 0; k < PER_WRITER; k++) {
        for (int attempt = 0;; attempt++) {
            struct response *r = httpf(&svc, "POST", path,
                                       "{\"expected_version\":%lld,\"events\":[{\"id\":\"%08x-0000-4000-8000-%012x\","
                                       "\"type\":\"Tick\",\"data\":{\"writer\":%d,\"seq\":%d}}]}",
                                       version, (unsigned)w->index, (unsigned)k, w->index, k);
            long status = r->status;
            if (status == 201)
                version = response_int(r, "version");
            else if (status == 409 && !strcmp(response_code(r), "version_conflict")) {
                version = response_int(r, "current_version");
                w->conflicts++;
            } else {
                w->failures++;
            }
            response_free(r);
            if (status == 201 || attempt > 10000)
                break;
        }
    }
    return NULL;
}

struct reader {
    volatile int writers_done;
    int seen[TOTAL];
    int total, repeats, out_of_order, unknown;
};

static void *reader_main(void *arg)
{
    struct reader *rd = arg;
    long long from = 0, last_position = -1;
    char path[256];
    for (int idle_after_done = 0; idle_after_done < 50;) {
        snprintf(path, sizeof path, "/events?from_position=%lld&limit=500&stream_prefix=%s", from, prefix);
        struct response *r = http(&svc, "GET", path, NULL, NULL);
        ck_assert_int_eq(r->status, 200);
        const cJSON *events = cJSON_GetObjectItem(r->json, "events"), *ev;
        int n = 0;
        cJSON_ArrayForEach(ev, events) {
            long long pos = (long long)cJSON_GetObjectItem(ev, "global_position")->valuedouble;
            const cJSON *data = cJSON_GetObjectItem(ev, "data");
            int writer = cJSON_GetObjectItem(data, "writer")->valueint;
            int seq = cJSON_GetObjectItem(data, "seq")->valueint;
            if (pos <= last_position)
                rd->out_of_order++;
            last_position = pos;
            if (writer < 0 || writer >= WRITERS || seq < 0 || seq >= PER_WRITER) {
                rd->unknown++;
            } else if (rd->seen[writer * PER_WRITER + seq]++) {
                rd->repeats++;
            }
            rd->total++;
            n++;
        }
        from = response_int(r, "next_position");
        response_free(r);
        if (rd->writers_done && n == 0) {
            if (rd->total >= TOTAL)
                break;
            idle_after_done++;
            usleep(100 * 1000);
        }
    }
    return NULL;
}

START_TEST(concurrent_appends_stay_gap_free_and_global_reader_sees_each_once)
{
    snprintf(prefix, sizeof prefix, "%s", unique_name("conc"));
    for (int i = 0; i < STREAMS; i++)
        snprintf(stream_names[i], sizeof stream_names[i], "%s-%d", prefix, i);

    static struct reader rd;
    static struct writer writers[WRITERS];
    pthread_t reader_thread, threads[WRITERS];
    pthread_create(&reader_thread, NULL, reader_main, &rd);
    for (int i = 0; i < WRITERS; i++) {
        writers[i].index = i;
        pthread_create(&threads[i], NULL, writer_main, &writers[i]);
    }
    int conflicts = 0, failures = 0;
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(threads[i], NULL);
        conflicts += writers[i].conflicts;
        failures += writers[i].failures;
    }
    rd.writers_done = 1;
    pthread_join(reader_thread, NULL);
    fprintf(stderr, "appends: %d, version conflicts retried: %d\n", TOTAL, conflicts);
    ck_assert_int_eq(failures, 0);

    /* Every stream: offsets 0..n-1, each event once. */
    static int stored[TOTAL];
    memset(stored, 0, sizeof stored);
    int total = 0;
    for (int s = 0; s < STREAMS; s++) {
        long long expect = 0;
        for (bool end = false; !end;) {
            char path[512];
            snprintf(path, sizeof path, "/streams/%s/events?from=%lld&limit=1000", stream_names[s], expect);
            struct response *r = http(&svc, "GET", path, NULL, NULL);
            ck_assert_int_eq(r->status, 200);
            const cJSON *ev;
            cJSON_ArrayForEach(ev, cJSON_GetObjectItem(r->json, "events")) {
                ck_assert_int_eq((long long)cJSON_GetObjectItem(ev, "offset")->valuedouble, expect);
                const cJSON *data = cJSON_GetObjectItem(ev, "data");
                int key = cJSON_GetObjectItem(data, "writer")->valueint * PER_WRITER +
                          cJSON_GetObjectItem(data, "seq")->valueint;
                ck_assert_int_eq(stored[key]++, 0);
                expect++;
                total++;
            }
            end = cJSON_IsTrue(cJSON_GetObjectItem(r->json, "end_of_stream"));
            response_free(r);
        }
        ck_assert_int_eq(expect, (WRITERS / STREAMS) * PER_WRITER);
    }
    ck_assert_int_eq(total, TOTAL);

    ck_assert_int_eq(rd.out_of_order, 0);
    ck_assert_int_eq(rd.repeats, 0);
    ck_assert_int_eq(rd.unknown, 0);
    ck_assert_int_eq(rd.total, TOTAL);
    for (int i = 0; i < TOTAL; i++)
        ck_assert_int_eq(rd.seen[i], 1);
}
END_TEST

/* A transaction that took its position first but commits last must not be
 * skipped: the global read holds back until it has committed. */
START_TEST(global_read_waits_for_an_append_that_commits_late)
{
    char p[64], slow[96], fast[96], sql[512], path[256];
    snprintf(p, sizeof p, "%s", unique_name("late"));
    snprintf(slow, sizeof slow, "%s-slow", p);
    snprintf(fast, sizeof fast, "%s-fast", p);

    PGconn *pg = PQconnectdb(test_database_conninfo());
    ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
    snprintf(sql, sizeof sql, "SET search_path TO %s", svc.schema);
    PQclear(PQexec(pg, sql));
    PQclear(PQexec(pg, "BEGIN"));
    snprintf(sql, sizeof sql,
             "SELECT * FROM %s.append_batch(ARRAY['%s'], ARRAY['any'], ARRAY[false], "
             "ARRAY['{\"events\":[{\"id\":\"ffffffff-ffff-4fff-8fff-000000000001\",\"type\":\"Slow\",\"data\":1}]}'::"
             "jsonb])",
             svc.schema, slow);
    PGresult *res = PQexec(pg, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);

    struct response *r;
    snprintf(path, sizeof path, "/streams/%s/events", fast);
    r = http(&svc, "POST", path, "{\"events\":[{\"type\":\"Fast\",\"data\":2}]}", NULL);
    ck_assert_int_eq(r->status, 201);
    response_free(r);

    /* The fast append has committed, but it sits above the open transaction. */
    snprintf(path, sizeof path, "/events?stream_prefix=%s", p);
    r = http(&svc, "GET", path, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "events")), 0);
    long long next = response_int(r, "next_position");
    response_free(r);

    PQclear(PQexec(pg, "COMMIT"));
    PQfinish(pg);

    /* Both now, in order. The watermark is the oldest transaction open anywhere
     * in the cluster, and other suites run beside this one: wait (bounded) until
     * none of theirs holds it below the two events (a page may end between them). */
    snprintf(path, sizeof path, "/events?stream_prefix=%s&from_position=%lld", p, next);
    const cJSON *events = NULL;
    r = NULL;
    for (int tries = 0; tries < 300; tries++) {
        if (r) {
            response_free(r);
            usleep(100 * 1000);
        }
        r = http(&svc, "GET", path, NULL, NULL);
        ck_assert_int_eq(r->status, 200);
        events = cJSON_GetObjectItem(r->json, "events");
        if (cJSON_GetArraySize(events) >= 2)
            break;
    }
    ck_assert_int_eq(cJSON_GetArraySize(events), 2);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(events, 0), "type")->valuestring, "Slow");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(events, 1), "type")->valuestring, "Fast");
    response_free(r);
}
END_TEST

static Suite *concurrency_suite(void)
{
    Suite *s = suite_create("stream-concurrency");
    TCase *tc = tcase_create("concurrency");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, concurrent_appends_stay_gap_free_and_global_reader_sees_each_once);
    tcase_add_test(tc, global_read_waits_for_an_append_that_commits_late);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *args[] = {"--pool-max", "8", "--threads", "16", NULL};
    return harness_main(concurrency_suite(), args);
}
