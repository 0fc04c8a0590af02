/* Reads from a hot standby (--read-database-url): a real streaming replica of
 * the test cluster (pg_basebackup -R, made and started through
 * $STREAMQ_TEST_PGCTL), with streamq reading from it. Shows that plain reads
 * are answered by the standby, that a long poll, an SSE stream and the global
 * read never miss a committed event on it, that a standby too far behind or
 * stopped hands reads to the primary (every read still 200), and that reads
 * return to it once it is back. Pausing the standby's replay
 * (pg_wal_replay_pause) makes "what the standby can show" exact, so nothing
 * here depends on how fast replication is. Runs alone: it stops its standby. */
#include <check.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "live_client.h"

/* Reads of svc may lag this much: within a test, svc's reads stay on the standby. */
#define SVC_MAX_LAG_MS "60000"
/* How long a condition that depends on replication or on the standby's check is awaited. */
#define SETTLE_TRIES 600 /* of 100 ms */

static void pgctl(const char *action)
{
    char cmd[512];
    const char *ctl = getenv("STREAMQ_TEST_PGCTL");
    ck_assert_msg(ctl != NULL, "STREAMQ_TEST_PGCTL is not set (run through scripts/test)");
    snprintf(cmd, sizeof cmd, "%s %s", ctl, action);
    ck_assert_msg(system(cmd) == 0, "pgctl %s failed", action);
}

static const char *standby_conninfo(void)
{
    const char *c = getenv("STREAMQ_TEST_STANDBY");
    ck_assert_msg(c != NULL, "STREAMQ_TEST_STANDBY is not set (run through scripts/test)");
    return c;
}

/* The first column of the first row of `sql` run on the standby (0 when no row). */
static long long standby_sql(const char *sql)
{
    PGconn *pg = PQconnectdb(standby_conninfo());
    ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "standby: %s", PQerrorMessage(pg));
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);
    ck_assert_msg(st == PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
    long long n = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    PQfinish(pg);
    return n;
}

static void pause_replay(void)
{
    standby_sql("SELECT 1 FROM pg_wal_replay_pause()");
}

static void resume_replay(void)
{
    standby_sql("SELECT 1 FROM pg_wal_replay_resume()");
}

/* streamq's connections named `app` on the standby (or on the primary). */
static long long connections(bool on_standby, const char *app)
{
    const char *sql = fmt("SELECT count(*) FROM pg_stat_activity WHERE application_name = '%s'", app);
    return on_standby ? standby_sql(sql) : sql_value(sql);
}

/* The value of sample `sample` (name and labels as printed) on `sp`'s /metrics; NAN when absent. */
static double metric(const struct service_proc *sp, const char *sample)
{
    struct response *r = http(sp, "GET", "/metrics", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    double v = NAN;
    size_t n = strlen(sample);
    for (const char *line = r->body; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (!strncmp(line, sample, n) && line[n] == ' ')
            v = strtod(line + n + 1, NULL);
    response_free(r);
    return v;
}

/* Waits until `sp` reports its standby in service (1) or out of it (0). */
static void await_in_service(const struct service_proc *sp, int want)
{
    double v = NAN;
    for (int i = 0; i < SETTLE_TRIES && v != want; i++) {
        v = metric(sp, "streamq_standby_in_service");
        if (v != want)
            usleep(100 * 1000);
    }
    ck_assert_msg(v == want, "streamq_standby_in_service is %g, not %d", v, want);
}

/* Waits until the standby shows `count` events of `stream` (replay resumed). */
static void await_replayed(const char *stream, long long count)
{
    long long n = -1;
    const char *sql = fmt("SELECT count(*) FROM %s.events WHERE stream = '%s'", svc.schema, stream);
    for (int i = 0; i < SETTLE_TRIES && n != count; i++) {
        n = standby_sql(sql);
        if (n != count)
            usleep(100 * 1000);
    }
    ck_assert_int_eq(n, count);
}

/* Appends one event to `stream` on the primary's own session, which sends no
 * notification: a reader finds it only by reading, never by being woken. */
static void append_quietly(const char *stream)
{
    ck_assert_int_eq(
        sql_value(fmt("SET search_path TO %s; SELECT count(*) FROM append_batch(ARRAY['%s'], "
                      "ARRAY['any'], ARRAY[false], ARRAY['{\"events\":[{\"type\":\"A\",\"data\":1}]}'::jsonb])",
                      svc.schema, stream)),
        1);
}

static int events_in(const struct response *r)
{
    return cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "events"));
}

START_TEST(plain_reads_are_answered_by_the_standby)
{
    resume_replay(); /* whatever a failed test before left */
    await_in_service(&svc, 1);
    const char *s = unique_name("sb");
    live_append_one(s, "A", 0);
    await_replayed(s, 1);

    pause_replay();
    double standby_before = metric(&svc, "streamq_db_reads_total{server=\"standby\"}");
    live_append_one(s, "A", 1);
    /* The standby has not replayed the 201's commit: a plain read shows the standby's stream. */
    struct response *r = get("/streams/%s/events", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(events_in(r), 1);
    ck_assert_int_eq(int_field(r->json, "next_offset"), 1);
    response_free(r);
    ck_assert_double_gt(metric(&svc, "streamq_db_reads_total{server=\"standby\"}"), standby_before);

    /* Every streamq-read connection is on the standby, none on the primary. */
    ck_assert_int_ge(connections(true, "streamq-read"), 1);
    ck_assert_int_eq(connections(false, "streamq-read"), 0);

    resume_replay();
    await_replayed(s, 2);
    r = get("/streams/%s/events", s);
    ck_assert_int_eq(events_in(r), 2);
    response_free(r);
}
END_TEST

/* A reader that would park never misses a committed event: its empty standby
 * answer is asked again on the primary, and a woken one reads there. */
START_TEST(long_polls_and_sse_see_every_committed_event)
{
    resume_replay(); /* whatever a failed test before left */
    await_in_service(&svc, 1);
    const char *s = unique_name("sbw");
    live_append_one(s, "A", 0);
    await_replayed(s, 1);
    pause_replay();

    append_quietly(s);
    double took;
    struct response *r = live_timed_get(fmt("/streams/%s/events?from=1&wait=10", s), &took);
    EXPECT_JSON(r, 200);
    ck_assert_double_lt(took, LIVE_AT_ONCE_S); /* answered at once, not at the end of its wait */
    ck_assert_int_eq(events_in(r), 1);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "events"), 0), "offset"), 1);
    response_free(r);

    struct live_call c;
    START_WAITING(&c, "GET", fmt("/streams/%s/events?from=2&wait=10", s), NULL);
    struct live_write w = live_append_one(s, "A", 2);
    r = EXPECT_WOKEN(&c, w.started, w.returned, LIVE_WAKE_S);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(events_in(r), 1);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "events"), 0), "offset"), 2);
    response_free(r);

    /* The global read's long poll, filtered to this stream: a page the standby
     * has is kept (offset 0), then the rest comes from the primary. */
    long long position = 0;
    int seen = 0;
    for (int page = 0; page < 5 && seen < 3; page++) {
        r = get("/events?stream_prefix=%s&from_position=%lld&wait=10", s, position);
        EXPECT_JSON(r, 200);
        ck_assert_int_ge(events_in(r), 1);
        for (int i = 0; i < events_in(r); i++)
            ck_assert_int_eq(int_field(array_item(r->json, "events", i), "offset"), seen++);
        position = int_field(r->json, "next_position");
        response_free(r);
    }
    ck_assert_int_eq(seen, 3);

    /* SSE: offset 0 from the standby, 1 and 2 (not replayed there) from the primary, 3 after a wake. */
    struct sse_client sub;
    sse_open(&sub, &svc, fmt("/streams/%s/subscribe", s), NULL);
    ck_assert_int_eq(sse_wait_headers(&sub, 10, NULL, 0), 200);
    ck_assert_int_eq(sse_wait_frames(&sub, 3, 10), 3);
    live_append_one(s, "A", 3);
    ck_assert_int_eq(sse_wait_frames(&sub, 4, 10), 4);
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(sse_frame_at(&sub, i)->id, fmt("%d", i));
    sse_close(&sub);

    resume_replay();
    await_replayed(s, 4);
}
END_TEST

/* The global read's watermark on the standby: an append that took its position
 * first and commits last holds back the ones after it there too. */
START_TEST(global_read_on_the_standby_skips_nothing)
{
    resume_replay(); /* whatever a failed test before left */
    await_in_service(&svc, 1);
    char p[64], slow[96], fast[96], sql[768];
    snprintf(p, sizeof p, "%s", unique_name("sbg"));
    snprintf(slow, sizeof slow, "%s-slow", p);
    snprintf(fast, sizeof fast, "%s-fast", p);

    PGconn *pg = PQconnectdb(test_database_conninfo());
    ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
    snprintf(sql, sizeof sql, "SET search_path TO %s", svc.schema);
    PQclear(PQexec(pg, sql));
    PQclear(PQexec(pg, "BEGIN"));
    snprintf(sql, sizeof sql,
             "SELECT * FROM %s.append_batch(ARRAY['%s'], ARRAY['any'], ARRAY[false], "
             "ARRAY['{\"events\":[{\"type\":\"Slow\",\"data\":1}]}'::jsonb])",
             svc.schema, slow);
    PGresult *res = PQexec(pg, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);

    live_append_one(fast, "Fast", 2);
    await_replayed(fast, 1);

    /* On the standby the fast append has committed, but it sits above the open transaction. */
    double primary_before = metric(&svc, "streamq_db_reads_total{server=\"primary\"}");
    struct response *r = get("/events?stream_prefix=%s", p);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(events_in(r), 0);
    long long next = int_field(r->json, "next_position");
    response_free(r);
    ck_assert_double_eq(metric(&svc, "streamq_db_reads_total{server=\"primary\"}"), primary_before);

    PQclear(PQexec(pg, "COMMIT"));
    PQfinish(pg);
    await_replayed(slow, 1);

    r = get("/events?stream_prefix=%s&from_position=%lld", p, next);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(events_in(r), 2);
    ck_assert_str_eq(str_field(array_item(r->json, "events", 0), "type"), "Slow");
    ck_assert_str_eq(str_field(array_item(r->json, "events", 1), "type"), "Fast");
    response_free(r);
    ck_assert_double_eq(metric(&svc, "streamq_db_reads_total{server=\"primary\"}"), primary_before);
}
END_TEST

/* An instance with a small --max-replica-lag-ms: while the standby's replay is
 * paused and the primary writes on, it reads on the primary. */
static struct service_proc strict;

START_TEST(a_standby_behind_the_lag_limit_hands_reads_to_the_primary)
{
    const char *args[] = {"--read-database-url", standby_conninfo(), "--max-replica-lag-ms", "200", NULL};
    ck_assert(svc_start(&strict, svc.schema, args));
    live_kill_at_exit(&strict);
    await_in_service(&strict, 1);

    const char *s = unique_name("sbl");
    pause_replay();
    struct response *r =
        http(&strict, "POST", fmt("/streams/%s/events", s), "{\"events\":[{\"type\":\"A\",\"data\":1}]}", NULL);
    ck_assert_int_eq(r->status, 201);
    response_free(r);
    /* The primary's WAL moves on while the standby stands still: soon too far behind. */
    await_in_service(&strict, 0);
    ck_assert_double_gt(metric(&strict, "streamq_standby_lag_seconds"), 0.2);
    r = http(&strict, "GET", fmt("/streams/%s/events", s), NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(events_in(r), 1);
    response_free(r);

    resume_replay();
    await_in_service(&strict, 1);
    ck_assert_int_eq(svc_stop(&strict), 0);
}
END_TEST

START_TEST(reads_go_to_the_primary_while_the_standby_is_down)
{
    resume_replay(); /* whatever a failed test before left */
    await_in_service(&svc, 1);
    const char *s = unique_name("sbd");
    live_append_one(s, "A", 0);
    pgctl("standby-stop");

    /* The first read may meet a connection the standby's stop closed: it is asked again on the primary. */
    live_append_one(s, "A", 1);
    for (int i = 0; i < 5; i++) {
        struct response *r = get("/streams/%s/events", s);
        EXPECT_JSON(r, 200);
        ck_assert_int_eq(events_in(r), 2);
        response_free(r);
        r = get("/streams/%s/events/1", s);
        EXPECT_JSON(r, 200);
        response_free(r);
        r = get("/streams/%s", s);
        EXPECT_JSON(r, 200);
        response_free(r);
        r = get("/events?stream_prefix=%s", s);
        EXPECT_JSON(r, 200);
        response_free(r);
    }
    await_in_service(&svc, 0);
    struct response *r = get("/readyz");
    EXPECT_JSON(r, 200);
    response_free(r);
}
END_TEST

START_TEST(reads_return_to_the_standby_once_it_is_back)
{
    pgctl("standby-start");
    await_in_service(&svc, 1);
    const char *s = unique_name("sbr");
    live_append_one(s, "A", 0);
    await_replayed(s, 1);
    double before = metric(&svc, "streamq_db_reads_total{server=\"standby\"}");
    struct response *r = get("/streams/%s/events", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(events_in(r), 1);
    response_free(r);
    ck_assert_double_gt(metric(&svc, "streamq_db_reads_total{server=\"standby\"}"), before);
    ck_assert_int_ge(connections(true, "streamq-read"), 1);
}
END_TEST

static Suite *standby_suite(void)
{
    Suite *s = suite_create("standby");
    TCase *tc = tcase_create("standby");
    tcase_set_timeout(tc, 300);
    /* In this order: the last two stop and start the standby. */
    tcase_add_test(tc, plain_reads_are_answered_by_the_standby);
    tcase_add_test(tc, long_polls_and_sse_see_every_committed_event);
    tcase_add_test(tc, global_read_on_the_standby_skips_nothing);
    tcase_add_test(tc, a_standby_behind_the_lag_limit_hands_reads_to_the_primary);
    tcase_add_test(tc, reads_go_to_the_primary_while_the_standby_is_down);
    tcase_add_test(tc, reads_return_to_the_standby_once_it_is_back);
    suite_add_tcase(s, tc);
    return s;
}

/* Runs `action` of $STREAMQ_TEST_PGCTL outside a test; false when it failed. */
static bool setup_step(const char *action)
{
    char cmd[512];
    const char *ctl = getenv("STREAMQ_TEST_PGCTL");
    if (!ctl || !getenv("STREAMQ_TEST_STANDBY")) {
        fprintf(stderr, "STREAMQ_TEST_PGCTL and STREAMQ_TEST_STANDBY must be set (run through scripts/test)\n");
        return false;
    }
    snprintf(cmd, sizeof cmd, "%s %s", ctl, action);
    return system(cmd) == 0;
}

int main(void)
{
    /* A fresh standby each run, whatever an earlier one left. */
    if (!setup_step("standby-stop") || !setup_step("standby-remove") || !setup_step("standby-create") ||
        !setup_step("standby-start"))
        return 1;
    const char *args[] = {"--read-database-url", getenv("STREAMQ_TEST_STANDBY"), "--max-replica-lag-ms", SVC_MAX_LAG_MS,
                          NULL};
    int status = harness_main(standby_suite(), args);
    return setup_step("standby-stop") ? status : 1;
}
