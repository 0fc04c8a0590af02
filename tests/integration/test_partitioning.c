/* Time partitioning (--partitioning time), as a client and an operator see it:
 * appends spread over several partitions (pg_inherits lists them) read back,
 * globally and per stream, exactly as without partitions; an idempotent retry
 * of a batch in an older partition is recognised, an id reused from an older
 * partition is refused; retention drops whole partitions (gone from
 * pg_inherits, their events gone from the API, their ids forgotten) while newer
 * events stay readable, and max_count still trims row by row; a start asking
 * for another partitioning of the same schema is refused. The services run with
 * a 2 s partition width and a table prefix. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"

#define PREFIX "pq_"
#define WIDTH "2"
#define DEADLINE_MS 30000

/* Every service of this suite: partitioned, with a prefix, retention often. */
static const char *const service_args[] = {"--partitioning",
                                           "time",
                                           "--partition-width",
                                           WIDTH,
                                           "--table-prefix",
                                           PREFIX,
                                           "--retention-interval-ms",
                                           "200",
                                           NULL};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* A batch of `count` events with fresh ids, kept in `ids` (count entries). */
static char *batch_with_ids(int count, char ids[][UUID_LEN + 1])
{
    size_t cap = 32 + (size_t)count * 96, len = 0;
    char *body = malloc(cap);
    ck_assert_ptr_nonnull(body);
    len += (size_t)snprintf(body, cap, "{\"events\":[");
    for (int i = 0; i < count; i++) {
        new_uuid(ids[i]);
        len += (size_t)snprintf(body + len, cap - len, "%s{\"id\":\"%s\",\"type\":\"P\",\"data\":{\"i\":%d}}",
                                i ? "," : "", ids[i], i);
    }
    snprintf(body + len, cap - len, "]}");
    return body;
}

static struct response *append(const struct service_proc *sp, const char *stream, const char *body)
{
    return http(sp, "POST", fmt("/streams/%s/events", stream), body, NULL);
}

/* How many partitions of `schema`'s events table hold events of `stream`;
 * each is checked to be listed in pg_inherits. */
static long long partitions_holding(const char *schema, const char *stream)
{
    return sql_value(fmt("SELECT count(DISTINCT e.tableoid) FROM %s." PREFIX "events e"
                         "  JOIN pg_inherits i ON i.inhrelid = e.tableoid"
                         " WHERE i.inhparent = '%s." PREFIX "events'::regclass AND e.stream = '%s'",
                         schema, schema, stream));
}

static long long partition_count(const char *schema)
{
    return sql_value(fmt("SELECT count(*) FROM pg_inherits WHERE inhparent = '%s." PREFIX "events'::regclass", schema));
}

START_TEST(appends_reads_and_retries_work_across_partitions)
{
    const char *stream = unique_name("pa");
    enum { BATCHES = 4, PER = 3 };
    char ids[BATCHES][PER][UUID_LEN + 1];
    char *first_body = NULL;
    for (int b = 0; b < BATCHES; b++) {
        char *body = batch_with_ids(PER, ids[b]);
        struct response *r = append(&svc, stream, body);
        EXPECT_JSON(r, 201);
        ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), b * PER);
        response_free(r);
        if (b == 0)
            first_body = body;
        else
            free(body);
        if (b + 1 < BATCHES)
            sleep_ms(2100); /* a width: the next batch lands in the next partition */
    }
    ck_assert_int_ge(partitions_holding(svc.schema, stream), 3);

    /* Forward and backward reads see every event once, in order. */
    struct response *r = get("/streams/%s/events?from=0&limit=100", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), BATCHES * PER);
    for (int i = 0; i < BATCHES * PER; i++) {
        const cJSON *ev = array_item(r->json, "events", i);
        ck_assert_int_eq(int_field(ev, "offset"), i);
        ck_assert_str_eq(str_field(ev, "id"), ids[i / PER][i % PER]);
    }
    response_free(r);
    r = get("/streams/%s/events?direction=backward&limit=100", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), BATCHES * PER);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), BATCHES * PER - 1);
    response_free(r);
    r = get("/streams/%s/events/%d", stream, 1);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "id"), ids[0][1]);
    response_free(r);

    /* The global read, followed page by page, has the stream's events once each, in order. */
    long long position = 0;
    int seen = 0;
    for (int pages = 0; pages < 10000 && seen < BATCHES * PER; pages++) {
        r = get("/events?from_position=%lld&limit=2&stream_prefix=%s", position, stream);
        EXPECT_JSON(r, 200);
        int n = array_size(r->json, "events");
        for (int i = 0; i < n; i++) {
            const cJSON *ev = array_item(r->json, "events", i);
            ck_assert_int_eq(int_field(ev, "offset"), seen);
            ck_assert_str_eq(str_field(ev, "id"), ids[seen / PER][seen % PER]);
            seen++;
        }
        long long next = int_field(r->json, "next_position");
        ck_assert_int_ge(next, position);
        position = next;
        response_free(r);
        if (n == 0)
            break;
    }
    ck_assert_int_eq(seen, BATCHES * PER);

    /* A retry of the first batch, now in an older partition: 200 with its offsets, nothing written. */
    r = append(&svc, stream, first_body);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), PER);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), 0);
    ck_assert_str_eq(str_field(array_item(r->json, "events", 2), "id"), ids[0][2]);
    response_free(r);
    free(first_body);

    /* An id from an older partition, in another stream or with a new one: refused. */
    r = requestf("POST", fmt("/streams/%s/events", unique_name("pb")),
                 "{\"events\":[{\"id\":\"%s\",\"type\":\"P\",\"data\":{}}]}", ids[0][0]);
    EXPECT_PROBLEM(r, 409, "duplicate_event_id");
    response_free(r);
    char fresh[UUID_LEN + 1];
    new_uuid(fresh);
    r = requestf("POST", fmt("/streams/%s/events", stream),
                 "{\"events\":[{\"id\":\"%s\",\"type\":\"P\",\"data\":{}},{\"id\":\"%s\",\"type\":\"P\",\"data\":{}}]}",
                 fresh, ids[1][0]);
    EXPECT_PROBLEM(r, 409, "duplicate_event_id");
    response_free(r);

    r = get("/streams/%s", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "version"), BATCHES * PER - 1);
    ck_assert_int_eq(int_field(r->json, "length"), BATCHES * PER);
    response_free(r);

    /* A new append goes on at the next offset. */
    r = requestf("POST", fmt("/streams/%s/events", stream), "{\"events\":[{\"id\":\"%s\",\"type\":\"P\",\"data\":{}}]}",
                 fresh);
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), BATCHES * PER);
    response_free(r);
}
END_TEST

START_TEST(retention_drops_whole_partitions)
{
    /* A schema of its own, so that only this test's streams share its partitions. */
    struct service_proc sp;
    ck_assert(svc_start(&sp, NULL, service_args));
    const char *stream = unique_name("pr");
    const char *capped = unique_name("pc");
    enum { PER = 5 };
    char old_ids[PER][UUID_LEN + 1], ids[PER][UUID_LEN + 1];
    char *old_body = batch_with_ids(PER, old_ids);
    struct response *r = append(&sp, stream, old_body);
    ck_assert_int_eq(r->status, 201);
    response_free(r);
    r = http(&sp, "PUT", fmt("/streams/%s/retention", stream), "{\"max_age_seconds\":4}", NULL);
    ck_assert_int_eq(r->status, 200);
    response_free(r);
    long long old_partition = sql_value(
        fmt("SELECT min(tableoid::oid::bigint) FROM %s." PREFIX "events WHERE stream = '%s'", sp.schema, stream));
    ck_assert_int_ge(partition_count(sp.schema), 4); /* the current one, two ahead, and DEFAULT */

    /* max_count still trims row by row, in a live partition. */
    char *body = numbered_batch("events", "C", 0, 10);
    r = append(&sp, capped, body);
    ck_assert_int_eq(r->status, 201);
    response_free(r);
    free(body);
    r = http(&sp, "PUT", fmt("/streams/%s/retention", capped), "{\"max_count\":3,\"max_age_seconds\":4}", NULL);
    ck_assert_int_eq(r->status, 200);
    response_free(r);

    /* The newest 3 stay (until their partition goes by age). */
    for (int waited = 0;; waited += 50) {
        r = http(&sp, "GET", fmt("/streams/%s", capped), NULL, NULL);
        ck_assert_int_eq(r->status, 200);
        long long through = response_int(r, "trimmed_through");
        response_free(r);
        if (through >= 6)
            break;
        ck_assert_msg(waited < DEADLINE_MS, "max_count never trimmed %s", capped);
        sleep_ms(50);
    }
    r = http(&sp, "GET", fmt("/streams/%s/events?from=0", capped), NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), 7);
    ck_assert_int_eq(array_size(r->json, "events"), 3);
    response_free(r);

    /* Wait for the old batch's partition to leave pg_inherits. */
    for (int waited = 0;; waited += 100) {
        long long still = sql_value(fmt(
            "SELECT count(*) FROM pg_inherits WHERE inhrelid = %lld AND inhparent = '%s." PREFIX "events'::regclass",
            old_partition, sp.schema));
        if (still == 0)
            break;
        ck_assert_msg(waited < DEADLINE_MS, "partition %lld was never dropped", old_partition);
        if (waited % 1000 == 0) {
            /* Appends go on meanwhile, into newer partitions, and never fail. */
            char *more = batch_with_ids(PER, ids);
            r = append(&sp, stream, more);
            ck_assert_int_eq(r->status, 201);
            response_free(r);
            free(more);
        }
        sleep_ms(100);
    }
    ck_assert_int_eq(sql_value(fmt("SELECT count(*) FROM pg_class WHERE oid = %lld", old_partition)), 0);

    /* The old events are gone through the API; what stays reads whole. */
    char *fresh = batch_with_ids(PER, ids);
    r = append(&sp, stream, fresh);
    ck_assert_int_eq(r->status, 201);
    long long fresh_offset = int_field(array_item(r->json, "events", 0), "offset");
    response_free(r);
    free(fresh);
    r = http(&sp, "GET", fmt("/streams/%s", stream), NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    long long first = int_field(r->json, "first_offset"), version = int_field(r->json, "version");
    long long length = int_field(r->json, "length");
    ck_assert_int_ge(first, PER);
    ck_assert_int_ge(int_field(r->json, "trimmed_through"), PER - 1);
    ck_assert_int_eq(length, version + 1 - first);
    ck_assert(fresh_offset >= first && fresh_offset + PER - 1 == version);
    response_free(r);
    r = http(&sp, "GET", fmt("/streams/%s/events?from=0&limit=1000", stream), NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(array_size(r->json, "events"), length);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), first);
    ck_assert_str_eq(str_field(array_item(r->json, "events", (int)length - 1), "id"), ids[PER - 1]);
    ck_assert(cJSON_IsTrue(field(r->json, "trimmed")));
    response_free(r);
    r = http(&sp, "GET", fmt("/streams/%s/events/0", stream), NULL, NULL);
    ck_assert_int_eq(r->status, 404);
    ck_assert_str_eq(response_code(r), "event_not_found");
    response_free(r);

    /* The dropped events' ids are forgotten, as row trimming forgets them. */
    for (int waited = 0;; waited += 100) {
        long long left = sql_value(fmt("SELECT count(*) FROM %s." PREFIX "event_ids WHERE event_id IN "
                                       "('%s', '%s', '%s', '%s', '%s')",
                                       sp.schema, old_ids[0], old_ids[1], old_ids[2], old_ids[3], old_ids[4]));
        if (left == 0)
            break;
        ck_assert_msg(waited < DEADLINE_MS, "%lld ids of dropped events are still kept", left);
        sleep_ms(100);
    }

    free(old_body);
    ck_assert_int_eq(svc_stop(&sp), 0);
}
END_TEST

START_TEST(another_partitioning_of_the_schema_is_refused)
{
    char out[4096];
    const char *none[] = {"migrate", "--schema", svc.schema, "--table-prefix", PREFIX, NULL};
    ck_assert_int_ne(svc_run_to_exit(none, out, sizeof out), 0);
    ck_assert_msg(strstr(out, fmt("database schema %s was created with --partitioning time, but this start asks for "
                                  "--partitioning none",
                                  svc.schema)),
                  "%s", out);
    ck_assert_msg(strstr(out, "start with --partitioning time, or use a new --schema"), "%s", out);

    const char *width[] = {
        "migrate",           "--schema", svc.schema, "--table-prefix", PREFIX, "--partitioning", "time",
        "--partition-width", "1h",       NULL};
    ck_assert_int_ne(svc_run_to_exit(width, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "was created with --partition-width 2 (seconds), but this start asks for "
                              "--partition-width 3600"),
                  "%s", out);

    /* A schema made without partitioning stays so: asking for time later is refused too. */
    char schema[64];
    snprintf(schema, sizeof schema, "%s", unique_name("pn"));
    for (char *c = schema; *c; c++)
        if (*c == '-')
            *c = '_';
    const char *plain[] = {"migrate", "--schema", schema, NULL};
    ck_assert_int_eq(svc_run_to_exit(plain, out, sizeof out), 0);
    const char *timed[] = {"migrate", "--schema", schema, "--partitioning", "time", NULL};
    ck_assert_int_ne(svc_run_to_exit(timed, out, sizeof out), 0);
    ck_assert_msg(strstr(out, fmt("database schema %s was created with --partitioning none, but this start asks for "
                                  "--partitioning time",
                                  schema)),
                  "%s", out);
    ck_assert_int_eq(sql_value(fmt("SELECT count(*) FROM pg_inherits WHERE inhparent = '%s.events'::regclass", schema)),
                     0);

    /* The service itself still answers. */
    expect_healthy();
}
END_TEST

static Suite *partitioning_suite(void)
{
    Suite *s = suite_create("partitioning");
    TCase *tc = tcase_create("partitioning");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, appends_reads_and_retries_work_across_partitions);
    tcase_add_test(tc, retention_drops_whole_partitions);
    tcase_add_test(tc, another_partitioning_of_the_schema_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(partitioning_suite(), service_args);
}
