/* Upgrade from the last released version (DESIGN.md, "Migrations"): restores
 * tests/fixtures/schema_v1.sql, a database that the v1 binary (commit 99ab27c,
 * schema version 1) wrote over HTTP (tests/fixtures/make_schema_v1.sh), starts
 * this binary on it, which migrates it to its latest schema, and checks over
 * HTTP that a user finds every event, message, setting and consumer offset as
 * v1 served them (tests/fixtures/schema_v1.expect), and that writes go on from
 * where v1 left off: idempotent retries, offsets, global positions, leases,
 * delays, dead letters. How the fixture is restored (its timestamps moved, this
 * cluster's transaction ids advanced) and compared is in upgrade_fixture.c.
 *
 * Runs alone (is_parallel false): the global read's watermark is the oldest
 * transaction in the whole cluster, and other suites hold some open. */
#include <check.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "db/migrate.h"
#include "harness.h"
#include "queue_fixtures.h"
#include "upgrade_fixture.h"

/* Ids make_schema_v1.sh gave the events and messages it names. */
#define E1 "0e000001-0000-4000-8000-000000000001" /* orders: first append (retried below) */
#define ML "0a000001-0000-4000-8000-000000000001" /* mail: leased for 12 hours */
#define MX "0a000001-0000-4000-8000-000000000002" /* mail: nacked to the dead letters */
#define MR "0a000001-0000-4000-8000-000000000003" /* mail: delivered once, nacked back */
#define M1 "0a000001-0000-4000-8000-000000000004" /* mail: pending */
#define M2 "0a000001-0000-4000-8000-000000000005"
#define MD "0a000001-0000-4000-8000-000000000006" /* mail: delayed 12 hours */
#define M3 "0a000001-0000-4000-8000-000000000007"
#define F1 "0a000002-0000-4000-8000-000000000001" /* flaky: dead-lettered by max_delivery_attempts */

/* ---- the checks --------------------------------------------------------- */

START_TEST(the_schema_is_migrated_to_the_latest_version)
{
    struct response *r = get("/version");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "schema_version"), db_migrate_latest());
    ck_assert_int_gt(db_migrate_latest(), int_field(upgrade_v1_get("/version"), "schema_version"));
    response_free(r);

    /* The database says so too: v1's migration kept, every later one applied once. */
    PGconn *pg = PQconnectdb(test_database_conninfo());
    ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) || ' ' || count(DISTINCT version) || ' ' || max(version) || ' ' || "
             "bool_or(version = 1 AND name = '001_initial.sql') FROM %s.schema_migrations",
             upgrade_schema());
    PGresult *res = PQexec(pg, sql);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    char want[64];
    snprintf(want, sizeof want, "%d %d %d true", db_migrate_latest(), db_migrate_latest(), db_migrate_latest());
    ck_assert_str_eq(PQgetvalue(res, 0, 0), want);
    PQclear(res);
    PQfinish(pg);

    r = get("/readyz");
    ck_assert_int_eq(r->status, 200);
    response_free(r);
}
END_TEST

/* Every read v1 answered (streams, their metadata and events, the global read,
 * queues, their counts and configuration, peeks, dead letters) answers the same. */
START_TEST(every_read_answers_as_v1_did)
{
    const cJSON *path;
    int n = 0;
    cJSON_ArrayForEach(path, upgrade_expected("get", NULL)) {
        if (!strcmp(path->string, "/version"))
            continue; /* the versions are meant to differ */
        struct response *r = get("%s", path->string);
        EXPECT_JSON(r, 200);
        upgrade_expect_same(path->string, path, r->json);
        response_free(r);
        n++;
    }
    ck_assert_int_ge(n, 30);
}
END_TEST

/* cJSON reads numbers as doubles: the exact digits are checked in the raw text. */
START_TEST(numbers_and_text_keep_every_character)
{
    struct response *r = get("/streams/orders/events/0");
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "id"), E1);
    const char *exact[] = {"12345678901234567890.5", "-0.000000000000000001", "3.14159265358979323846264338327950288",
                           "\"naïve café ✓ \\\"quoted\\\" \\\\ back\\nslash\""};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        ck_assert_msg(strstr(r->body, exact[i]), "%s is not in %s", exact[i], r->body);
    response_free(r);

    r = get("/streams/orders/events/5");
    EXPECT_JSON(r, 200);
    ck_assert_msg(strstr(r->body, "\"data\":-9007199254740993,"), "2^53 + 1 lost a digit: %s", r->body);
    response_free(r);

    r = get("/streams/orders/events/1");
    EXPECT_JSON(r, 200);
    ck_assert_msg(strstr(r->body, "[1, 2.50, null, \"x\", []]"), "2.50 changed: %s", r->body);
    response_free(r);
}
END_TEST

START_TEST(consumer_offsets_read_back_with_their_lag)
{
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, upgrade_expected("consumers", NULL)) {
        const char *stream = str_field(c, "stream"), *group = str_field(c, "group");
        long long offset = int_field(c, "offset");
        long long version = int_field(upgrade_v1_get(fmt("/streams/%s", stream)), "version");
        struct response *r = get("/streams/%s/consumers/%s", stream, group);
        EXPECT_JSON(r, 200);
        ck_assert_str_eq(str_field(r->json, "stream"), stream);
        ck_assert_str_eq(str_field(r->json, "group"), group);
        ck_assert_int_eq(int_field(r->json, "offset"), offset);
        ck_assert_int_eq(int_field(r->json, "lag"), version + 1 - offset);
        ck_assert_str_eq(str_field(r->json, "updated_at"), upgrade_shifted(str_field(c, "updated_at")));
        response_free(r);
        n++;
    }
    ck_assert_int_eq(n, 4);

    struct response *r = get("/streams/orders/consumers");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "consumers"), 2);
    response_free(r);

    /* The checkpoint is enforced, not only shown: moving back needs force. */
    r = request("PUT", "/streams/orders/consumers/billing", "{\"offset\":3}");
    EXPECT_PROBLEM(r, 409, "offset_regression");
    ck_assert_int_eq(response_int(r, "current_offset"), 4);
    response_free(r);
    r = request("PUT", "/streams/orders/consumers/billing", "{\"offset\":5}");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "lag"), 1);
    response_free(r);
}
END_TEST

START_TEST(an_append_retried_with_the_same_ids_answers_the_original_offsets)
{
    const cJSON *retry = upgrade_expected("retry", NULL);
    const char *stream = str_field(retry, "stream");
    char *body = cJSON_PrintUnformatted(field(retry, "request"));
    struct response *r = http(&svc, "POST", fmt("/streams/%s/events", stream), body, NULL);
    free(body);
    EXPECT_JSON(r, 200);
    upgrade_expect_same("retried append", field(field(retry, "response"), "events"), field(r->json, "events"));
    ck_assert_int_eq(int_field(r->json, "first_offset"), 0);
    ck_assert_int_eq(int_field(r->json, "last_offset"), 1);
    response_free(r);

    /* Nothing was written again. */
    r = get("/streams/%s", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "version"), int_field(upgrade_v1_get(fmt("/streams/%s", stream)), "version"));
    response_free(r);

    /* v1's ids are still taken everywhere. */
    r = request("POST", "/streams/upgrade-elsewhere/events",
                "{\"events\":[{\"id\":\"" E1 "\",\"type\":\"T\",\"data\":{}}]}");
    EXPECT_PROBLEM(r, 409, "duplicate_event_id");
    response_free(r);
    EXPECT_ABSENT("/streams/upgrade-elsewhere", "stream_not_found");
}
END_TEST

/* Appends `body` to `stream`; asserts 201 at `offset` and returns its global position. */
static long long append_at(const char *stream, const char *body, long long offset)
{
    struct response *r = request("POST", fmt("/streams/%s/events", stream), body);
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(int_field(r->json, "first_offset"), offset);
    long long position = int_field(array_item(r->json, "events", 0), "global_position");
    response_free(r);
    return position;
}

START_TEST(appends_go_on_where_v1_left_off)
{
    long long old_max = upgrade_v1_max_position();
    long long orders = int_field(upgrade_v1_get("/streams/orders"), "version");
    long long recreated = int_field(upgrade_v1_get("/streams/recreated"), "version");
    long long archived = int_field(upgrade_v1_get("/streams/archived-stream"), "version");

    long long p1 = append_at(
        "orders", fmt("{\"expected_version\":%lld,\"events\":[{\"type\":\"After\",\"data\":1}]}", orders), orders + 1);
    ck_assert_int_gt(p1, old_max);
    long long p2 = append_at("recreated",
                             fmt("{\"expected_version\":%lld,\"events\":[{\"type\":\"After\",\"data\":2}]}", recreated),
                             recreated + 1);
    ck_assert_int_gt(p2, p1);

    /* Archived under v1: still read-only, and unarchiving lets it go on. */
    EXPECT_PROBLEM_FREE(
        request("POST", "/streams/archived-stream/events", "{\"events\":[{\"type\":\"X\",\"data\":0}]}"), 409,
        "stream_archived");
    struct response *r = request("POST", "/streams/archived-stream/unarchive", NULL);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "state"), "active");
    response_free(r);
    long long p3 = append_at("archived-stream", "{\"events\":[{\"type\":\"After\",\"data\":3}]}", archived + 1);
    ck_assert_int_gt(p3, p2);

    r = get("/streams/orders");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "version"), orders + 1);
    ck_assert_int_eq(int_field(r->json, "length"), orders + 2);
    response_free(r);

    /* The global read: v1's events once, in v1's order, then the new ones. A
     * reader that stopped at v1's next_position gets exactly the new ones. */
    const cJSON *old = upgrade_v1_get("/events?limit=1000");
    int n_old = array_size(old, "events");
    long long positions[] = {p1, p2, p3};
    for (int waited = 0;; waited += 50) {
        r = get("/events?limit=1000");
        EXPECT_JSON(r, 200);
        if (array_size(r->json, "events") == n_old + 3 || waited >= 10000)
            break;
        response_free(r); /* a transaction in flight holds the watermark back */
        usleep(50 * 1000);
    }
    ck_assert_int_eq(array_size(r->json, "events"), n_old + 3);
    for (int i = 0; i < n_old; i++)
        upgrade_expect_same(fmt("/events[%d]", i), array_item(old, "events", i), array_item(r->json, "events", i));
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(int_field(array_item(r->json, "events", n_old + i), "global_position"), positions[i]);
    response_free(r);

    r = get("/events?from_position=%lld&limit=1000", int_field(old, "next_position"));
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 3);
    ck_assert_str_eq(str_field(array_item(r->json, "events", 0), "stream"), "orders");
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), orders + 1);
    response_free(r);
}
END_TEST

/* A message a dequeue delivered, as the test expects it. */
struct delivery {
    const char *id, *type, *data, *metadata;
    long long delivery_count;
};

/* The v1 peek entry of message `id` in `peek` (a /messages?state= answer), asserted present. */
static const cJSON *peeked(const cJSON *peek, const char *id)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, field(peek, "messages")) {
        if (!strcmp(str_field(m, "id"), id))
            return m;
    }
    ck_abort_msg("v1 did not list %s", id);
    return NULL;
}

/* Dequeues from `queue` and asserts exactly `want` came back, in order, with
 * the types, data and metadata v1 was given, v1's enqueue times, and one more
 * delivery than v1 counted. Returns the response to free. */
static struct response *dequeue_expecting(const char *queue, const struct delivery *want, int n)
{
    const cJSON *pending = upgrade_v1_get(fmt("/queues/%s/messages?state=pending&limit=1000", queue));
    struct response *r =
        request("POST", fmt("/queues/%s/dequeue", queue), "{\"max_messages\":100,\"consumer\":\"after-upgrade\"}");
    EXPECT_JSON(r, 200);
    ck_assert_msg(array_size(r->json, "messages") == n, "dequeue %s: want %d messages: %s", queue, n, r->body);
    for (int i = 0; i < n; i++) {
        const cJSON *m = array_item(r->json, "messages", i);
        const cJSON *before = peeked(pending, want[i].id);
        ck_assert_str_eq(str_field(m, "id"), want[i].id);
        ck_assert_str_eq(str_field(m, "type"), want[i].type);
        ck_assert_str_eq(str_field(m, "type"), str_field(before, "type"));
        ck_assert_str_eq(str_field(m, "enqueued_at"), upgrade_shifted(str_field(before, "enqueued_at")));
        ck_assert_int_eq(int_field(m, "delivery_count"), int_field(before, "delivery_count") + 1);
        ck_assert_int_eq(int_field(m, "delivery_count"), want[i].delivery_count);
        upgrade_expect_json_value(fmt("%s data", want[i].id), field(m, "data"), want[i].data);
        upgrade_expect_json_value(fmt("%s metadata", want[i].id), field(m, "metadata"),
                                  want[i].metadata ? want[i].metadata : "null");
        ck_assert(is_uuid(str_field(m, "id")) && strlen(str_field(m, "receipt")) > 0);
    }
    return r;
}

START_TEST(the_leased_message_is_still_leased_and_its_receipt_acks_it)
{
    const cJSON *leased = upgrade_expected("leased", NULL);
    const char *queue = str_field(leased, "queue"), *id = str_field(leased, "id");
    const char *receipt = str_field(leased, "receipt");
    ck_assert_str_eq(id, ML);
    QF_EXPECT_COUNTS(queue, 4, 1, 1, 1);

    /* Still leased: no dequeue gets it, a wrong receipt is refused. */
    struct response *r = request("POST", fmt("/queues/%s/messages/%s/ack", queue, id), "{\"receipt\":\"0000\"}");
    EXPECT_PROBLEM(r, 409, "stale_receipt");
    response_free(r);
    r = get("/queues/%s/messages?state=in_flight", queue);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "messages"), 1);
    const cJSON *m = array_item(r->json, "messages", 0);
    ck_assert_str_eq(str_field(m, "id"), id);
    ck_assert_str_eq(str_field(m, "consumer"), "worker-7");
    ck_assert_double_gt(timestamp_seconds(str_field(m, "visible_until")), now_seconds() + 43200 - 600);
    response_free(r);

    EXPECT_204_FREE(
        request("POST", fmt("/queues/%s/messages/%s/ack", queue, id), fmt("{\"receipt\":\"%s\"}", receipt)));
    EXPECT_PROBLEM_FREE(
        request("POST", fmt("/queues/%s/messages/%s/ack", queue, id), fmt("{\"receipt\":\"%s\"}", receipt)), 404,
        "message_not_found");
    QF_EXPECT_COUNTS(queue, 4, 0, 1, 1);
}
END_TEST

START_TEST(pending_messages_dequeue_and_the_delayed_one_waits)
{
    /* Ids v1 holds (pending, dead-lettered) are still duplicates. */
    struct response *r = request("POST", "/queues/mail/messages",
                                 "{\"messages\":[{\"id\":\"" M1 "\",\"type\":\"X\",\"data\":0},{\"id\":\"" MX
                                 "\",\"type\":\"X\",\"data\":0}]}");
    EXPECT_JSON(r, 201);
    ck_assert(cJSON_IsTrue(field(array_item(r->json, "messages", 0), "duplicate")));
    ck_assert(cJSON_IsTrue(field(array_item(r->json, "messages", 1), "duplicate")));
    response_free(r);

    /* FIFO as v1 enqueued them; MR was delivered once under v1. MD waits. */
    const struct delivery mail[] = {
        {MR, "SendEmail", "{\"to\":\"retry@example.com\"}", NULL, 2},
        {M1, "SendEmail", "{\"to\":\"a@example.com\",\"amount\":12345678901234567890.5}", "{\"tenant\":\"t1\"}", 1},
        {M2, "SendSms", "\"+15550100\"", NULL, 1},
        {M3, "SendEmail", "{\"to\":\"c@example.com\"}", NULL, 1},
    };
    r = dequeue_expecting("mail", mail, 4);
    ck_assert_msg(strstr(r->body, "\"amount\": 12345678901234567890.5"), "amount lost digits: %s", r->body);
    /* The queue's own visibility timeout (45 s under v1) sets the lease. */
    double until = timestamp_seconds(str_field(array_item(r->json, "messages", 0), "visible_until"));
    ck_assert_double_gt(until, now_seconds() + 45 - 10);
    ck_assert_double_lt(until, now_seconds() + 45 + 10);
    response_free(r);
    QF_EXPECT_COUNTS("mail", 0, 4, 1, 1);

    r = get("/queues/mail/messages?state=delayed");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "messages"), 1);
    ck_assert_str_eq(str_field(array_item(r->json, "messages", 0), "id"), MD);
    ck_assert_double_gt(timestamp_seconds(str_field(array_item(r->json, "messages", 0), "visible_at")),
                        now_seconds() + 43200 - 600);
    response_free(r);

    /* A queue v1 never configured follows the service's defaults (30 s). */
    const char *jobs_ids[2];
    const cJSON *jobs_peek = upgrade_v1_get("/queues/jobs/messages?state=pending&limit=1000");
    for (int i = 0; i < 2; i++)
        jobs_ids[i] = str_field(array_item(jobs_peek, "messages", i), "id");
    const struct delivery jobs[] = {
        {jobs_ids[0], "Resize", "{\"w\":640}", NULL, 1},
        {jobs_ids[1], "Resize", "{\"w\":1280}", NULL, 1},
    };
    r = dequeue_expecting("jobs", jobs, 2);
    until = timestamp_seconds(str_field(array_item(r->json, "messages", 0), "visible_until"));
    ck_assert_double_gt(until, now_seconds() + 30 - 10);
    ck_assert_double_lt(until, now_seconds() + 30 + 10);
    response_free(r);

    /* max_depth 2, reached under v1. */
    EXPECT_PROBLEM_FREE(request("POST", "/queues/tiny/messages", "{\"messages\":[{\"type\":\"T\",\"data\":3}]}"), 429,
                        "queue_full");
}
END_TEST

START_TEST(dead_letters_keep_their_reason_and_redrive)
{
    struct response *r = get("/queues/mail/dead-letters");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "dead_letters"), 1);
    const cJSON *d = array_item(r->json, "dead_letters", 0);
    ck_assert_str_eq(str_field(d, "id"), MX);
    ck_assert_str_eq(str_field(d, "reason"), "poison: unparseable address");
    ck_assert_int_eq(int_field(d, "delivery_count"), 1);
    upgrade_expect_json_value("dead letter data", field(d, "data"), "{\"to\":\"not an address\"}");
    upgrade_expect_json_value("dead letter metadata", field(d, "metadata"), "{\"tenant\":\"t1\"}");
    response_free(r);

    r = request("POST", "/queues/mail/dead-letters/redrive", "{\"ids\":[\"" MX "\"]}");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "redriven"), 1);
    response_free(r);
    r = request("POST", "/queues/mail/dequeue", "{\"max_messages\":10}");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "messages"), 1);
    const cJSON *m = array_item(r->json, "messages", 0);
    ck_assert_str_eq(str_field(m, "id"), MX);
    ck_assert_int_eq(int_field(m, "delivery_count"), 1);
    upgrade_expect_json_value("redriven data", field(m, "data"), "{\"to\":\"not an address\"}");
    response_free(r);

    r = get("/queues/flaky/dead-letters");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "dead_letters"), 1);
    ck_assert_str_eq(str_field(array_item(r->json, "dead_letters", 0), "id"), F1);
    ck_assert_str_eq(str_field(array_item(r->json, "dead_letters", 0), "reason"), "max_delivery_attempts");
    response_free(r);
    r = request("POST", "/queues/flaky/dead-letters/redrive", "{}");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "redriven"), 1);
    response_free(r);
    QF_EXPECT_COUNTS("flaky", 1, 0, 0, 0);
}
END_TEST

static Suite *upgrade_suite(void)
{
    Suite *s = suite_create("upgrade");
    TCase *tc = tcase_create("upgrade");
    tcase_set_timeout(tc, 120);
    /* In this order: the reads first, before anything is written. */
    tcase_add_test(tc, the_schema_is_migrated_to_the_latest_version);
    tcase_add_test(tc, every_read_answers_as_v1_did);
    tcase_add_test(tc, numbers_and_text_keep_every_character);
    tcase_add_test(tc, consumer_offsets_read_back_with_their_lag);
    tcase_add_test(tc, an_append_retried_with_the_same_ids_answers_the_original_offsets);
    tcase_add_test(tc, appends_go_on_where_v1_left_off);
    tcase_add_test(tc, the_leased_message_is_still_leased_and_its_receipt_acks_it);
    tcase_add_test(tc, pending_messages_dequeue_and_the_delayed_one_waits);
    tcase_add_test(tc, dead_letters_keep_their_reason_and_redrive);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int status = 1;
    curl_global_init(CURL_GLOBAL_ALL);
    if (!upgrade_fixture_load())
        goto out;
    if (!upgrade_fixture_restore())
        goto out;
    if (!svc_start(&svc, upgrade_schema(), NULL)) {
        fprintf(stderr, "streamq did not start on the restored schema %s (log %s)\n", upgrade_schema(), svc.log_path);
        goto out;
    }
    SRunner *sr = srunner_create(upgrade_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    int stopped = svc_stop(&svc);
    if (stopped != 0)
        fprintf(stderr, "streamq exited with status %d on SIGTERM (log %s)\n", stopped, svc.log_path);
    status = failed == 0 && stopped == 0 ? 0 : 1;
out:
    upgrade_fixture_free();
    curl_global_cleanup();
    return status;
}
