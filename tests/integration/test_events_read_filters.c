/* Paging and filtering per-stream reads (routes/events.c): from, limit and
 * direction, pages that visit every event once, the type filter and the since/until
 * window on created_at, and query parameters that are refused. What a read returns,
 * the NDJSON export and the global read are in test_events_read.c. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "streams_fixtures.h"

/* --------------------------------------------------------------- read */

START_TEST(read_from_limit_and_direction)
{
    const char *s = unique_name("s");
    append_n(s, 25, "A");
    struct response *r;

    r = get("/streams/%s/events?from=5&limit=3", s);
    EXPECT_JSON(r, 200);
    const cJSON *events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, i), "offset"), 5 + i);
    ck_assert_int_eq(response_int(r, "next_offset"), 8);
    ck_assert(cJSON_IsFalse(field(r->json, "end_of_stream")));
    response_free(r);

    r = get("/streams/%s/events?limit=1", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 1);
    ck_assert_int_eq(response_int(r, "next_offset"), 1);
    response_free(r);

    r = get("/streams/%s/events?limit=1000", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 25);
    ck_assert_int_eq(response_int(r, "next_offset"), 25);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    response_free(r);

    /* Past the end: nothing, at the end. */
    r = get("/streams/%s/events?from=25", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 0);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    response_free(r);

    /* Backward from the last by default, descending. */
    r = get("/streams/%s/events?direction=backward&limit=4", s);
    EXPECT_JSON(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, i), "offset"), 24 - i);
    ck_assert_int_eq(response_int(r, "next_offset"), 20);
    ck_assert(cJSON_IsFalse(field(r->json, "end_of_stream")));
    response_free(r);

    r = get("/streams/%s/events?direction=backward&from=5&limit=3", s);
    EXPECT_JSON(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, i), "offset"), 5 - i);
    ck_assert_int_eq(response_int(r, "next_offset"), 2);
    response_free(r);

    r = get("/streams/%s/events?direction=backward&from=1&limit=10", s);
    EXPECT_JSON(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 2);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 0), "offset"), 1);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 1), "offset"), 0);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    response_free(r);

    /* Whole stream backward with paging: 24..0, each once. */
    int seen = 0;
    long long from = -1;
    for (int page = 0; page < 10; page++) {
        r = from < 0 ? get("/streams/%s/events?direction=backward&limit=10", s)
                     : get("/streams/%s/events?direction=backward&limit=10&from=%lld", s, from);
        EXPECT_JSON(r, 200);
        events = field(r->json, "events");
        for (int i = 0; i < cJSON_GetArraySize(events); i++)
            ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, i), "offset"), 24 - seen++);
        bool end = cJSON_IsTrue(field(r->json, "end_of_stream"));
        from = response_int(r, "next_offset");
        response_free(r);
        if (end)
            break;
    }
    ck_assert_int_eq(seen, 25);

    r = get("/streams/%s/events?direction=forward&limit=2", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(field(r->json, "events"), 0), "offset"), 0);
    response_free(r);

    static const char *const bad[] = {
        "limit=0",
        "limit=1001",
        "limit=x",
        "limit=-1",
        "limit=",
        "limit=1.5",
        "from=-1",
        "from=x",
        "from=1.5",
        "direction=sideways",
        "direction=",
        "direction=BACKWARD",
        "since=yesterday",
        "until=2026-13-01T00:00:00Z",
        "since=2026-11-24",
        "until=10:00:00Z",
        "since=2026-02-30T00:00:00Z",
        "type=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = get("/streams/%s/events?%s", s, bad[i]);
        ck_assert_msg(r->status == 400, "%s: %ld %s", bad[i], r->status, r->body);
        EXPECT_PROBLEM(r, 400, "invalid_parameter");
        response_free(r);
    }
    expect_healthy();
}
END_TEST

START_TEST(read_pages_visit_every_event_once)
{
    const char *s = unique_name("s");
    append_n(s, 25, "A");
    int seen[25] = {0};
    long long from = 0;
    int pages = 0;
    for (bool end = false; !end; pages++) {
        ck_assert_int_lt(pages, 10);
        struct response *r = get("/streams/%s/events?from=%lld&limit=10", s, from);
        EXPECT_JSON(r, 200);
        const cJSON *events = field(r->json, "events"), *ev;
        cJSON_ArrayForEach(ev, events) {
            long long off = int_field(ev, "offset");
            ck_assert_int_ge(off, 0);
            ck_assert_int_lt(off, 25);
            seen[off]++;
            const cJSON *data = field(ev, "data");
            ck_assert_int_eq(int_field(data, "i"), off);
        }
        end = cJSON_IsTrue(field(r->json, "end_of_stream"));
        long long next = response_int(r, "next_offset");
        ck_assert_int_eq(next, pages < 2 ? from + 10 : 25);
        ck_assert(end == (pages == 2));
        from = next;
        response_free(r);
    }
    ck_assert_int_eq(pages, 3);
    for (int i = 0; i < 25; i++)
        ck_assert_int_eq(seen[i], 1);
}
END_TEST

START_TEST(read_filters_by_type_and_time)
{
    const char *s = unique_name("s");
    struct response *r;
    const char *types[] = {"Placed", "Paid", "Shipped", "Paid", "Cancelled"};
    for (int i = 0; i < 5; i++) {
        r = append_one(s, types[i]);
        response_free(r);
        usleep(2000); /* distinct created_at per append */
    }

    r = get("/streams/%s/events?type=Paid", s);
    EXPECT_JSON(r, 200);
    const cJSON *events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 2);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 0), "offset"), 1);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 1), "offset"), 3);
    response_free(r);

    r = get("/streams/%s/events?type=Placed,Shipped,Cancelled", s);
    EXPECT_JSON(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 3);
    ck_assert_str_eq(str_field(cJSON_GetArrayItem(events, 0), "type"), "Placed");
    ck_assert_str_eq(str_field(cJSON_GetArrayItem(events, 1), "type"), "Shipped");
    ck_assert_str_eq(str_field(cJSON_GetArrayItem(events, 2), "type"), "Cancelled");
    response_free(r);

    r = get("/streams/%s/events?type=Paid&direction=backward", s);
    EXPECT_JSON(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 2);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 0), "offset"), 3);
    response_free(r);

    r = get("/streams/%s/events?type=Nothing", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 0);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    response_free(r);

    /* Paging through a filtered selection. */
    r = get("/streams/%s/events?type=Paid&limit=1", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 1);
    long long next = response_int(r, "next_offset");
    response_free(r);
    r = get("/streams/%s/events?type=Paid&limit=1&from=%lld", s, next);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(field(r->json, "events"), 0), "offset"), 3);
    response_free(r);

    /* since (inclusive) and until (exclusive) on created_at. */
    char at[5][40];
    r = get("/streams/%s/events", s);
    EXPECT_JSON(r, 200);
    for (int i = 0; i < 5; i++)
        snprintf(at[i], sizeof at[i], "%s", str_field(cJSON_GetArrayItem(field(r->json, "events"), i), "created_at"));
    response_free(r);
    for (int i = 1; i < 5; i++)
        ck_assert_str_gt(at[i], at[i - 1]);

    r = get("/streams/%s/events?since=%s", s, at[2]);
    EXPECT_JSON(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 3);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 0), "offset"), 2);
    response_free(r);

    r = get("/streams/%s/events?until=%s", s, at[2]);
    EXPECT_JSON(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 2);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 1), "offset"), 1);
    response_free(r);

    r = get("/streams/%s/events?since=%s&until=%s", s, at[1], at[3]);
    EXPECT_JSON(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 2);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 0), "offset"), 1);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 1), "offset"), 2);
    response_free(r);

    /* Combined with a type filter and a numeric offset form of the same instant. */
    r = get("/streams/%s/events?since=%s&type=Paid", s, at[2]);
    EXPECT_JSON(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 1);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 0), "offset"), 3);
    response_free(r);

    char offset_form[48];
    snprintf(offset_form, sizeof offset_form, "%.*s%%2B00:00", (int)strlen(at[2]) - 1, at[2]);
    r = get("/streams/%s/events?since=%s", s, offset_form);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 3);
    response_free(r);

    /* Nothing in a window of the far past. */
    r = get("/streams/%s/events?until=2000-01-01T00:00:00Z", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 0);
    response_free(r);
}
END_TEST

static Suite *events_read_filters_suite(void)
{
    Suite *s = suite_create("events-read-filters");
    TCase *tc = tcase_create("read-filters");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, read_from_limit_and_direction);
    tcase_add_test(tc, read_pages_visit_every_event_once);
    tcase_add_test(tc, read_filters_by_type_and_time);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return streams_fixtures_main(events_read_filters_suite());
}
