/* The global read's long poll, GET /events?from_position=P&wait=S: answered
 * at once when an event past P matches, else held until an append to a stream
 * under `stream_prefix` (of a type in `type`) commits, or the wait runs out.
 * Runs alone: the global read shows only what no open transaction of the
 * cluster could still precede, so another suite holding a transaction open
 * (test_stream_concurrency.c does, on purpose) would delay the wake-up by as
 * long as it holds it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "live_client.h"
#include "streams_fixtures.h"

/* A new prefix ("gw-….") and the global read's next_position for it now. */
static long long fresh_prefix(char *prefix, size_t size)
{
    snprintf(prefix, size, "%s.", unique_name("gw"));
    struct response *r = get("/events?stream_prefix=%s&limit=1", prefix);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 0);
    long long p = response_int(r, "next_position");
    ck_assert_int_ge(p, 0);
    response_free(r);
    return p;
}

START_TEST(global_wait_rejects_values_outside_0_to_60)
{
    for (size_t i = 0; i < live_bad_waits_len; i++) {
        struct response *r = get("/events?stream_prefix=%s&wait=%s", unique_name("gw"), live_bad_waits[i]);
        ck_assert_msg(r->status == 400, "wait=%s: %ld %s", live_bad_waits[i], r->status, r->body);
        EXPECT_PROBLEM(r, 400, "invalid_parameter");
        response_free(r);
    }
    double took;
    struct response *r = live_timed_get(fmt("/events?stream_prefix=%s.&wait=0", unique_name("gw")), &took);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 0);
    ck_assert_msg(took < LIVE_AT_ONCE_S, "wait=0 took %.3f s", took);
    response_free(r);
}
END_TEST

START_TEST(global_wait_is_woken_by_an_append_under_its_prefix)
{
    char prefix[96], stream[128];
    long long from = fresh_prefix(prefix, sizeof prefix);
    snprintf(stream, sizeof stream, "%sorders", prefix);
    struct live_call c;
    START_WAITING(&c, "GET", fmt("/events?stream_prefix=%s&from_position=%lld&wait=10", prefix, from), NULL);

    /* A stream outside the prefix does not answer it. */
    live_append_one(unique_name("gw"), "A", 0);
    usleep(LIVE_SETTLE_MS * 1000);
    EXPECT_WAITING(&c);

    struct live_write t = live_append_one(stream, "A", 7);
    struct response *r = EXPECT_WOKEN(&c, t.started, t.returned, LIVE_WAKE_S);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 1);
    const cJSON *ev = array_item(r->json, "events", 0);
    ck_assert_str_eq(str_field(ev, "stream"), stream);
    ck_assert_int_eq(int_field(ev, "offset"), 0);
    ck_assert_int_eq(int_field(field(ev, "data"), "n"), 7);
    ck_assert_int_gt(int_field(ev, "global_position"), from);
    ck_assert_int_ge(response_int(r, "next_position"), int_field(ev, "global_position"));
    response_free(r);

    /* At once when something is already there. */
    double took;
    r = live_timed_get(fmt("/events?stream_prefix=%s&from_position=%lld&wait=10", prefix, from), &took);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 1);
    ck_assert_msg(took < LIVE_AT_ONCE_S, "an event matches, yet the global read took %.3f s", took);
    response_free(r);
}
END_TEST

START_TEST(global_wait_times_out_with_an_empty_page)
{
    char prefix[96];
    long long from = fresh_prefix(prefix, sizeof prefix);
    struct live_call c;
    START_WAITING(&c, "GET", fmt("/events?stream_prefix=%s&from_position=%lld&wait=2", prefix, from), NULL);
    live_append_one(unique_name("gw"), "A", 0); /* another prefix */
    struct response *r = EXPECT_TIMED_OUT(&c, 2.0);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 0);
    ck_assert_int_ge(response_int(r, "next_position"), from);
    response_free(r);
}
END_TEST

START_TEST(global_wait_ignores_appends_its_type_filter_rejects)
{
    char prefix[96], stream[128];
    long long from = fresh_prefix(prefix, sizeof prefix);
    snprintf(stream, sizeof stream, "%sx", prefix);
    struct live_call c;
    START_WAITING(&c, "GET", fmt("/events?stream_prefix=%s&from_position=%lld&type=A&wait=3", prefix, from), NULL);
    live_append_one(stream, "B", 0);
    struct response *r = EXPECT_TIMED_OUT(&c, 3.0);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 0);
    response_free(r);

    START_WAITING(&c, "GET", fmt("/events?stream_prefix=%s&from_position=%lld&type=A&wait=10", prefix, from), NULL);
    live_append_one(stream, "B", 1);
    usleep(LIVE_SETTLE_MS * 1000);
    EXPECT_WAITING(&c);
    struct live_write t = live_append_one(stream, "A", 2);
    r = EXPECT_WOKEN(&c, t.started, t.returned, LIVE_WAKE_S);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 1);
    ck_assert_str_eq(str_field(array_item(r->json, "events", 0), "type"), "A");
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), 2);
    response_free(r);
}
END_TEST

static Suite *live_global_suite(void)
{
    Suite *s = suite_create("live-global");
    TCase *tc = tcase_create("global");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, global_wait_rejects_values_outside_0_to_60);
    tcase_add_test(tc, global_wait_is_woken_by_an_append_under_its_prefix);
    tcase_add_test(tc, global_wait_times_out_with_an_empty_page);
    tcase_add_test(tc, global_wait_ignores_appends_its_type_filter_rejects);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return streams_fixtures_main(live_global_suite());
}
