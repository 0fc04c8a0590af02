/* Group commit (db/append_group.c, append_batch() in the schema): appends that
 * arrive while another is being written are written together, in one
 * transaction, and each still gets its own answer. The service runs with one
 * writer; a first append is held on its stream's lock by a session of ours, so
 * every request sent meanwhile queues and goes out as one group when the lock
 * is let go. */
#include <check.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "group_calls.h"

static struct call *add_call(struct call *calls, int *n, const char *stream, const char *body)
{
    char path[320];
    snprintf(path, sizeof path, "/streams/%s/events", stream);
    return group_add_call(calls, n, path, body);
}

static long long position_of(const struct response *r)
{
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "events"), 0);
    return (long long)cJSON_GetObjectItem(first, "global_position")->valuedouble;
}

/* Takes the lock appends to `stream` take (see append_batch()). */
static void lock_stream(PGconn *pg, const char *stream)
{
    const char *params[] = {stream};
    PGresult *res =
        PQexecParams(pg, "SELECT pg_advisory_lock(1936028017, hashtext($1))", 1, NULL, params, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
}

/* Sends the held append, waits until it waits on the lock, sends `calls` and
 * gives them time to queue behind it, then lets the lock go and collects
 * every answer; the held append (to `held`) is calls[0]. A request waiting
 * for its group holds no HTTP thread, so all of them join one group. */
static void send_group(const char *held, struct call *calls, int n)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = 1936028017"
             " AND objid::bigint = hashtext('%s')::bigint & 4294967295",
             held);
    group_send(&calls[0]);
    for (int i = 0; i < 500 && sql_value(sql) == 0; i++)
        usleep(10 * 1000);
    ck_assert_int_eq(sql_value(sql), 1);
    for (int i = 1; i < n; i++)
        group_send(&calls[i]);
    /* Not a timing assertion: this only gives the requests time to queue. */
    sleep(1);
}

static void release_group(PGconn *pg, struct call *calls, int n)
{
    group_exec_ok(pg, "SELECT pg_advisory_unlock_all()");
    group_join(calls, 0, n);
}

static void run_group(PGconn *pg, const char *held, struct call *calls, int n)
{
    send_group(held, calls, n);
    release_group(pg, calls, n);
}

START_TEST(appends_queued_together_conflict_succeed_and_retry_each_answered_right)
{
    const char *p = unique_name("grp");
    char held[96], a[96], archived[96], fresh[4][96];
    snprintf(held, sizeof held, "%s-held", p);
    snprintf(a, sizeof a, "%s-a", p);
    snprintf(archived, sizeof archived, "%s-arch", p);
    for (int i = 0; i < 4; i++)
        snprintf(fresh[i], sizeof fresh[i], "%s-new%d", p, i);

    /* Stream a: three events, the first append's ids known for its retry. */
    const char *first_append = "{\"events\":["
                               "{\"id\":\"aaaaaaaa-0000-4000-8000-000000000001\",\"type\":\"A\",\"data\":1},"
                               "{\"id\":\"aaaaaaaa-0000-4000-8000-000000000002\",\"type\":\"A\",\"data\":2}]}";
    char path[160];
    snprintf(path, sizeof path, "/streams/%s/events", a);
    struct response *r = http(&svc, "POST", path, first_append, NULL);
    ck_assert_int_eq(r->status, 201);
    response_free(r);
    r = http(&svc, "POST", path, "{\"events\":[{\"type\":\"A\",\"data\":3}]}", NULL);
    ck_assert_int_eq(r->status, 201);
    ck_assert_int_eq(response_int(r, "version"), 2);
    response_free(r);
    snprintf(path, sizeof path, "/streams/%s/events", archived);
    response_free(http(&svc, "POST", path, "{\"events\":[{\"type\":\"A\",\"data\":1}]}", NULL));
    snprintf(path, sizeof path, "/streams/%s/archive", archived);
    r = http(&svc, "POST", path, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    response_free(r);

    PGconn *pg = group_session();
    lock_stream(pg, held);

    struct call calls[GROUP_MAX_CALLS];
    int n = 0;
    add_call(calls, &n, held, "{\"events\":[{\"type\":\"Held\",\"data\":0}]}");
    struct call *succeeds = add_call(calls, &n, a, "{\"expected_version\":2,\"events\":[{\"type\":\"B\",\"data\":4}]}");
    struct call *conflicts =
        add_call(calls, &n, a, "{\"expected_version\":0,\"events\":[{\"type\":\"C\",\"data\":5}]}");
    struct call *retry = add_call(calls, &n, a, first_append);
    struct call *duplicate =
        add_call(calls, &n, fresh[0],
                 "{\"events\":[{\"id\":\"aaaaaaaa-0000-4000-8000-000000000002\",\"type\":\"D\",\"data\":6}]}");
    struct call *refused = add_call(calls, &n, archived, "{\"events\":[{\"type\":\"E\",\"data\":7}]}");
    struct call *created[3];
    for (int i = 0; i < 3; i++)
        created[i] = add_call(calls, &n, fresh[i + 1],
                              "{\"expected_version\":\"no_stream\",\"events\":[{\"type\":\"F\",\"data\":1},"
                              "{\"type\":\"F\",\"data\":2}]}");
    run_group(pg, held, calls, n);
    PQfinish(pg);

    ck_assert_int_eq(calls[0].r->status, 201);

    ck_assert_int_eq(succeeds->r->status, 201);
    ck_assert_int_eq(response_int(succeeds->r, "version"), 3);
    ck_assert_int_eq(response_int(succeeds->r, "first_offset"), 3);

    ck_assert_int_eq(conflicts->r->status, 409);
    ck_assert_str_eq(response_code(conflicts->r), "version_conflict");
    long long seen = response_int(conflicts->r, "current_version");
    ck_assert_msg(seen == 2 || seen == 3, "current_version %lld", seen);

    ck_assert_int_eq(retry->r->status, 200);
    ck_assert_int_eq(response_int(retry->r, "first_offset"), 0);
    ck_assert_int_eq(response_int(retry->r, "last_offset"), 1);

    ck_assert_int_eq(duplicate->r->status, 409);
    ck_assert_str_eq(response_code(duplicate->r), "duplicate_event_id");
    ck_assert_int_eq(refused->r->status, 409);
    ck_assert_str_eq(response_code(refused->r), "stream_archived");

    /* They were written together: positions are (xid << 12) + index, so the
     * written appends of one group share the high bits. */
    long long xid = position_of(succeeds->r) >> 12;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(created[i]->r->status, 201);
        ck_assert_int_eq(response_int(created[i]->r, "first_offset"), 0);
        ck_assert_int_eq(response_int(created[i]->r, "version"), 1);
        ck_assert_int_eq(position_of(created[i]->r) >> 12, xid);
    }

    /* What the streams hold: a has its 3 events and the one that succeeded,
     * nothing of the conflict, the retry or the refusals. */
    snprintf(path, sizeof path, "/streams/%s/events", a);
    r = http(&svc, "GET", path, NULL, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "events")), 4);
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "events"), 3), "type")->valuestring, "B");
    response_free(r);
    snprintf(path, sizeof path, "/streams/%s", fresh[0]);
    r = http(&svc, "GET", path, NULL, NULL);
    ck_assert_int_eq(r->status, 404);
    response_free(r);
    snprintf(path, sizeof path, "/streams/%s", archived);
    r = http(&svc, "GET", path, NULL, NULL);
    ck_assert_int_eq(response_int(r, "version"), 0);
    response_free(r);
    group_free(calls, n);
}
END_TEST

/* The group's statement, exactly as the service prepares it, given one group
 * of seven appends: two to one new stream in a row (the second expects the
 * version the first writes), a third to it expecting a stale version, a retry,
 * a duplicate id, an archived stream and a new stream. Rows come per append
 * (1-based), in offset order, all written ones in one transaction. */
START_TEST(one_statement_decides_each_append_of_a_group_in_order)
{
    const char *p = unique_name("grps");
    char sql[1024];
    PGconn *pg = group_session();
    snprintf(sql, sizeof sql, "SET search_path TO %s", svc.schema);
    group_exec_ok(pg, sql);
    char path[160];
    snprintf(path, sizeof path, "/streams/%s-old/events", p);
    struct response *r =
        http(&svc, "POST", path,
             "{\"events\":[{\"id\":\"cccccccc-0000-4000-8000-000000000001\",\"type\":\"A\",\"data\":1}]}", NULL);
    ck_assert_int_eq(r->status, 201);
    response_free(r);
    snprintf(path, sizeof path, "/streams/%s-arch/events", p);
    response_free(http(&svc, "POST", path, "{\"events\":[{\"type\":\"A\",\"data\":1}]}", NULL));
    snprintf(path, sizeof path, "/streams/%s-arch/archive", p);
    response_free(http(&svc, "POST", path, NULL, NULL));

    char streams[512];
    snprintf(streams, sizeof streams, "{%s-s,%s-s,%s-s,%s-old,%s-dup,%s-arch,%s-new}", p, p, p, p, p, p, p);
    const char *expected = "{no_stream,1,0,any,any,any,no_stream}";
    const char *check_ids = "{f,f,f,t,t,f,f}";
    const char *bodies =
        "{\"{\\\"events\\\":[{\\\"type\\\":\\\"A\\\",\\\"data\\\":1},{\\\"type\\\":\\\"A\\\",\\\"data\\\":2}]}\","
        "\"{\\\"events\\\":[{\\\"type\\\":\\\"B\\\",\\\"data\\\":3}]}\","
        "\"{\\\"events\\\":[{\\\"type\\\":\\\"C\\\",\\\"data\\\":4}]}\","
        "\"{\\\"events\\\":[{\\\"id\\\":\\\"cccccccc-0000-4000-8000-000000000001\\\",\\\"type\\\":\\\"A\\\","
        "\\\"data\\\":1}]}\","
        "\"{\\\"events\\\":[{\\\"id\\\":\\\"cccccccc-0000-4000-8000-000000000001\\\",\\\"type\\\":\\\"D\\\","
        "\\\"data\\\":5}]}\","
        "\"{\\\"events\\\":[{\\\"type\\\":\\\"E\\\",\\\"data\\\":6}]}\","
        "\"{\\\"events\\\":[{\\\"type\\\":\\\"F\\\",\\\"data\\\":7}]}\"}";
    const char *params[] = {streams, expected, check_ids, bodies};
    PGresult *res = PQexecParams(pg,
                                 "SELECT request, outcome, current_version, stream_offset, global_position >> 12"
                                 "  FROM append_batch($1::text[], $2::text[], $3::boolean[], $4::jsonb[])",
                                 4, NULL, params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    /* request, outcome, current_version, offset ("" when none) */
    static const char *const want[][4] = {
        {"1", "created", "1", "0"},    {"1", "created", "1", "1"},         {"2", "created", "2", "2"},
        {"4", "idempotent", "0", "0"}, {"3", "version_conflict", "2", ""}, {"5", "duplicate", "-1", ""},
        {"6", "archived", "0", ""},    {"7", "created", "0", "0"},
    };
    int rows = (int)(sizeof want / sizeof want[0]);
    ck_assert_int_eq(PQntuples(res), rows);
    /* Written appends first, then retries, then the refusals: sort-free check
     * by looking each expected row up. */
    for (int w = 0; w < rows; w++) {
        bool found = false;
        for (int i = 0; i < rows && !found; i++)
            found = !strcmp(PQgetvalue(res, i, 0), want[w][0]) && !strcmp(PQgetvalue(res, i, 1), want[w][1]) &&
                    !strcmp(PQgetvalue(res, i, 2), want[w][2]) && !strcmp(PQgetvalue(res, i, 3), want[w][3]);
        ck_assert_msg(found, "no row %s %s %s %s", want[w][0], want[w][1], want[w][2], want[w][3]);
    }
    /* The rows of one append are adjacent and in offset order. */
    for (int i = 1; i < rows; i++)
        if (!strcmp(PQgetvalue(res, i, 0), PQgetvalue(res, i - 1, 0)))
            ck_assert_int_lt(atoll(PQgetvalue(res, i - 1, 3)), atoll(PQgetvalue(res, i, 3)));
    /* Every written event in one transaction. */
    const char *xid = NULL;
    for (int i = 0; i < rows; i++) {
        if (strcmp(PQgetvalue(res, i, 1), "created"))
            continue;
        if (!xid)
            xid = PQgetvalue(res, i, 4);
        ck_assert_str_eq(PQgetvalue(res, i, 4), xid);
    }
    PQclear(res);
    PQfinish(pg);

    snprintf(path, sizeof path, "/streams/%s-s/events", p);
    r = http(&svc, "GET", path, NULL, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "events")), 3);
    response_free(r);
    snprintf(path, sizeof path, "/streams/%s-dup", p);
    r = http(&svc, "GET", path, NULL, NULL);
    ck_assert_int_eq(r->status, 404);
    response_free(r);
}
END_TEST

/* Two appends of one group carrying the same new id, and one whose data
 * PostgreSQL refuses, fail the group's statement: each append is then written
 * alone, so one of the pair is written, the other is a duplicate, the bad one
 * is refused, and the rest are written as if nothing had happened. */
START_TEST(a_group_that_fails_as_a_whole_is_written_one_append_at_a_time)
{
    const char *p = unique_name("grpf");
    char held[96], s[5][96];
    snprintf(held, sizeof held, "%s-held", p);
    for (int i = 0; i < 5; i++)
        snprintf(s[i], sizeof s[i], "%s-%d", p, i);

    PGconn *pg = group_session();
    lock_stream(pg, held);
    struct call calls[GROUP_MAX_CALLS];
    int n = 0;
    add_call(calls, &n, held, "{\"events\":[{\"type\":\"Held\",\"data\":0}]}");
    const char *same = "{\"events\":[{\"id\":\"bbbbbbbb-0000-4000-8000-000000000001\",\"type\":\"T\",\"data\":1}]}";
    struct call *x = add_call(calls, &n, s[0], same);
    struct call *y = add_call(calls, &n, s[1], same);
    struct call *bad = add_call(calls, &n, s[2], "{\"events\":[{\"type\":\"T\",\"data\":\"nul \\u0000 here\"}]}");
    struct call *ok[2];
    for (int i = 0; i < 2; i++)
        ok[i] = add_call(calls, &n, s[3 + i],
                         "{\"expected_version\":\"no_stream\",\"events\":[{\"type\":\"T\",\"data\":1}]}");
    run_group(pg, held, calls, n);
    PQfinish(pg);

    ck_assert_int_eq(calls[0].r->status, 201);
    long xs = x->r->status, ys = y->r->status;
    ck_assert_msg((xs == 201 && ys == 409) || (xs == 409 && ys == 201), "%ld %ld", xs, ys);
    ck_assert_str_eq(response_code(xs == 409 ? x->r : y->r), "duplicate_event_id");
    ck_assert_int_eq(bad->r->status, 400);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(ok[i]->r->status, 201);
        ck_assert_int_eq(response_int(ok[i]->r, "first_offset"), 0);
    }
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.events WHERE stream LIKE '%s-%%'", svc.schema, p);
    ck_assert_int_eq(sql_value(sql), 4); /* held, one of the pair, the two others */
    group_free(calls, n);
}
END_TEST

/* SIGTERM while appends wait for their group: each is still written and
 * answered before the service exits, cleanly. */
START_TEST(sigterm_answers_the_appends_waiting_for_their_group)
{
    struct service_proc p;
    const char *args[] = {"--append-writers", "1", "--shutdown-timeout", "30", NULL};
    ck_assert(svc_start(&p, svc.schema, args));
    const char *prefix = unique_name("grpt");
    char held[96], s[3][96];
    snprintf(held, sizeof held, "%s-held", prefix);
    PGconn *pg = group_session();
    lock_stream(pg, held);
    struct call calls[GROUP_MAX_CALLS];
    int n = 0;
    add_call(calls, &n, held, "{\"events\":[{\"type\":\"Held\",\"data\":0}]}")->sp = &p;
    for (int i = 0; i < 3; i++) {
        snprintf(s[i], sizeof s[i], "%s-%d", prefix, i);
        add_call(calls, &n, s[i], "{\"events\":[{\"type\":\"T\",\"data\":1}]}")->sp = &p;
    }
    send_group(held, calls, n);
    kill(p.pid, SIGTERM);
    usleep(300 * 1000);
    release_group(pg, calls, n);
    PQfinish(pg);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(calls[i].r->status, 201);
        response_free(calls[i].r);
    }
    ck_assert_int_eq(svc_stop(&p), 0);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.events WHERE stream LIKE '%s-%%'", svc.schema, prefix);
    ck_assert_int_eq(sql_value(sql), 4);
}
END_TEST

static Suite *group_suite(void)
{
    Suite *s = suite_create("append-group");
    TCase *tc = tcase_create("group");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, appends_queued_together_conflict_succeed_and_retry_each_answered_right);
    tcase_add_test(tc, one_statement_decides_each_append_of_a_group_in_order);
    tcase_add_test(tc, sigterm_answers_the_appends_waiting_for_their_group);
    tcase_add_test(tc, a_group_that_fails_as_a_whole_is_written_one_append_at_a_time);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *args[] = {"--append-writers", "1", NULL};
    return harness_main(group_suite(), args);
}
