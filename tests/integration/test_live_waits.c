/* Long polls on a stream read and on a dequeue: with `wait` (`wait_seconds`)
 * they answer at once when something matches, else hold the request until an
 * append (enqueue) that matches commits, or until the wait runs out and then
 * answer an empty page. Each long poll runs on a thread of its own
 * (live_client.h) while the test thread writes. The global read's long poll is
 * in test_live_global.c, consumer group reads in test_live_groups.c, shutdown
 * and a lost notifier in test_live_faults.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "live_client.h"
#include "streams_fixtures.h"

/* A 200 stream page of `stream` holding the events at offsets `first`… (`n`
 * of them) and ending at `next`. */
static void expect_page_at(int line, const struct response *r, const char *stream, long long first, int n,
                           long long next)
{
    expect_json_at(line, r, 200);
    ck_assert_msg(!strcmp(str_field(r->json, "stream"), stream), "line %d: stream", line);
    ck_assert_msg(array_size(r->json, "events") == n, "line %d: %d events, want %d: %s", line,
                  array_size(r->json, "events"), n, r->body);
    for (int i = 0; i < n; i++)
        ck_assert_msg(int_field(array_item(r->json, "events", i), "offset") == first + i,
                      "line %d: events[%d] is not offset %lld: %s", line, i, first + i, r->body);
    ck_assert_msg(response_int(r, "next_offset") == next, "line %d: next_offset %lld, want %lld", line,
                  response_int(r, "next_offset"), next);
    ck_assert_msg(cJSON_IsBool(field(r->json, "end_of_stream")), "line %d: end_of_stream", line);
}
#define EXPECT_PAGE(r, stream, first, n, next) expect_page_at(__LINE__, (r), (stream), (first), (n), (next))

/* --------------------------------------------------------- stream read */

START_TEST(read_wait_rejects_values_outside_0_to_60)
{
    const char *s = unique_name("lw");
    append_n(s, 2, "A");
    for (size_t i = 0; i < live_bad_waits_len; i++) {
        struct response *r = get("/streams/%s/events?from=2&wait=%s", s, live_bad_waits[i]);
        ck_assert_msg(r->status == 400, "wait=%s: %ld %s", live_bad_waits[i], r->status, r->body);
        EXPECT_PROBLEM(r, 400, "invalid_parameter");
        response_free(r);
    }

    /* 0 is a plain read: nothing past the end, answered at once. */
    double took;
    struct response *r = live_timed_get(fmt("/streams/%s/events?from=2&wait=0", s), &took);
    EXPECT_PAGE(r, s, 2, 0, 2);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    ck_assert_msg(took < LIVE_AT_ONCE_S, "wait=0 took %.3f s", took);
    response_free(r);
    /* 60 is allowed; events are there, so no waiting. */
    r = live_timed_get(fmt("/streams/%s/events?wait=60", s), &took);
    EXPECT_PAGE(r, s, 0, 2, 2);
    ck_assert_msg(took < LIVE_AT_ONCE_S, "wait=60 with events took %.3f s", took);
    response_free(r);
}
END_TEST

START_TEST(read_wait_answers_at_once_when_events_match)
{
    const char *s = unique_name("lw");
    const char *body =
        "{\"events\":[{\"type\":\"A\",\"data\":0},{\"type\":\"B\",\"data\":1},{\"type\":\"A\",\"data\":2}]}";
    live_append(s, body);
    double took;
    struct response *r = live_timed_get(fmt("/streams/%s/events?from=1&wait=10", s), &took);
    EXPECT_PAGE(r, s, 1, 2, 3);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    ck_assert_msg(took < LIVE_AT_ONCE_S, "events at and past from=1 exist, yet the read took %.3f s", took);
    response_free(r);

    /* With a type filter: a match past `from` is enough. */
    r = live_timed_get(fmt("/streams/%s/events?from=0&type=B&wait=10", s), &took);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 1);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), 1);
    ck_assert_msg(took < LIVE_AT_ONCE_S, "type=B matches offset 1, yet the read took %.3f s", took);
    response_free(r);
}
END_TEST

START_TEST(read_wait_is_woken_by_an_append)
{
    const char *s = unique_name("lw");
    append_n(s, 2, "A");
    struct live_call c;
    START_WAITING(&c, "GET", fmt("/streams/%s/events?from=2&wait=10", s), NULL);

    /* A batch of two commits at once: the page holds both. */
    struct live_write t = live_append(s, "{\"events\":[{\"type\":\"New\",\"data\":{\"n\":2}},"
                                         "{\"type\":\"New\",\"data\":{\"n\":3}}]}");
    struct response *r = EXPECT_WOKEN(&c, t.started, t.returned, LIVE_WAKE_S);
    EXPECT_PAGE(r, s, 2, 2, 4);
    const cJSON *ev = array_item(r->json, "events", 0);
    ck_assert_str_eq(str_field(ev, "type"), "New");
    ck_assert_int_eq(int_field(field(ev, "data"), "n"), 2);
    ck_assert_str_eq(str_field(ev, "stream"), s);
    ck_assert(is_uuid(str_field(ev, "id")));
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    response_free(r);
}
END_TEST

START_TEST(woken_read_answers_the_normal_page)
{
    /* Woken, the read answers as it would without `wait`: `limit` still applies. */
    const char *s = unique_name("lw");
    append_n(s, 1, "A");
    struct live_call c;
    START_WAITING(&c, "GET", fmt("/streams/%s/events?from=1&limit=1&wait=10", s), NULL);
    struct live_write t = live_append(s, "{\"events\":[{\"type\":\"A\",\"data\":1},{\"type\":\"A\",\"data\":2}]}");
    struct response *r = EXPECT_WOKEN(&c, t.started, t.returned, LIVE_WAKE_S);
    EXPECT_PAGE(r, s, 1, 1, 2);
    ck_assert(cJSON_IsFalse(field(r->json, "end_of_stream")));
    response_free(r);
}
END_TEST

START_TEST(one_append_wakes_every_waiter_on_the_stream_only)
{
    const char *s = unique_name("lw"), *other = unique_name("lw");
    append_n(s, 3, "A");
    append_n(other, 1, "A");
    struct live_call c[4];
    live_call_start(&c[0], &svc, "GET", fmt("/streams/%s/events?from=3&wait=10", s), NULL);
    live_call_start(&c[1], &svc, "GET", fmt("/streams/%s/events?from=3&wait=10&limit=5", s), NULL);
    live_call_start(&c[2], &svc, "GET", fmt("/streams/%s/events?from=3&wait=10&type=A", s), NULL);
    live_call_start(&c[3], &svc, "GET", fmt("/streams/%s/events?from=1&wait=10", other), NULL);
    usleep(LIVE_SETTLE_MS * 1000);
    for (int i = 0; i < 4; i++)
        EXPECT_WAITING(&c[i]);

    /* An append to another stream wakes none of them for good. */
    live_append_one(unique_name("lw"), "A", 0);
    usleep(LIVE_SETTLE_MS * 1000);
    for (int i = 0; i < 4; i++)
        EXPECT_WAITING(&c[i]);

    struct live_write t = live_append_one(s, "A", 3);
    for (int i = 0; i < 3; i++) {
        struct response *r = EXPECT_WOKEN(&c[i], t.started, t.returned, LIVE_WAKE_S);
        EXPECT_PAGE(r, s, 3, 1, 4);
        response_free(r);
    }
    /* The waiter on the other stream still holds until that stream changes. */
    usleep(LIVE_SETTLE_MS * 1000);
    EXPECT_WAITING(&c[3]);
    t = live_append_one(other, "A", 1);
    struct response *r = EXPECT_WOKEN(&c[3], t.started, t.returned, LIVE_WAKE_S);
    EXPECT_PAGE(r, other, 1, 1, 2);
    response_free(r);
}
END_TEST

START_TEST(read_wait_times_out_with_an_empty_page)
{
    const char *s = unique_name("lw");
    append_n(s, 1, "A");
    struct live_call c;
    START_WAITING(&c, "GET", fmt("/streams/%s/events?from=1&wait=2", s), NULL);
    struct response *r = EXPECT_TIMED_OUT(&c, 2.0);
    EXPECT_PAGE(r, s, 1, 0, 1);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    response_free(r);
}
END_TEST

START_TEST(read_wait_ignores_appends_its_type_filter_rejects)
{
    const char *s = unique_name("lw");
    live_append_one(s, "A", 0);

    /* Only B is appended: the wait runs out with nothing. */
    struct live_call c;
    START_WAITING(&c, "GET", fmt("/streams/%s/events?from=1&type=A&wait=3", s), NULL);
    live_append_one(s, "B", 1);
    struct response *r = EXPECT_TIMED_OUT(&c, 3.0);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 0);
    response_free(r);

    /* B again, then A: A wakes it, and the page holds A only. */
    START_WAITING(&c, "GET", fmt("/streams/%s/events?from=2&type=A,C&wait=10", s), NULL);
    live_append_one(s, "B", 2);
    usleep(LIVE_SETTLE_MS * 1000);
    EXPECT_WAITING(&c);
    struct live_write t = live_append_one(s, "A", 3);
    r = EXPECT_WOKEN(&c, t.started, t.returned, LIVE_WAKE_S);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 1);
    const cJSON *ev = array_item(r->json, "events", 0);
    ck_assert_int_eq(int_field(ev, "offset"), 3);
    ck_assert_str_eq(str_field(ev, "type"), "A");
    ck_assert_int_eq(response_int(r, "next_offset"), 4);
    response_free(r);
}
END_TEST

START_TEST(read_wait_on_a_missing_stream_is_404_at_once)
{
    double took;
    struct response *r = live_timed_get(fmt("/streams/%s/events?wait=10", unique_name("lw")), &took);
    EXPECT_PROBLEM(r, 404, "stream_not_found");
    ck_assert_msg(took < LIVE_AT_ONCE_S, "404 took %.3f s", took);
    response_free(r);
    r = live_timed_get(fmt("/streams/%s/events?from=5&type=A&wait=10", unique_name("lw")), &took);
    EXPECT_PROBLEM(r, 404, "stream_not_found");
    ck_assert_msg(took < LIVE_AT_ONCE_S, "404 took %.3f s", took);
    response_free(r);
}
END_TEST

/* ------------------------------------------------------------- dequeue */

/* A new queue (configured, so that it exists) with nothing in it. */
static const char *fresh_queue(void)
{
    const char *q = unique_name("qw");
    struct response *r = request("PUT", fmt("/queues/%s", q), "{\"visibility_timeout\":30}");
    EXPECT_JSON(r, 200);
    response_free(r);
    return q;
}

START_TEST(dequeue_wait_rejects_values_outside_0_to_60)
{
    const char *q = fresh_queue();
    static const char *const bad[] = {"61", "-1", "1.5", "\"5\"", "true", "1e9", "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct response *r = request("POST", fmt("/queues/%s/dequeue", q), fmt("{\"wait_seconds\":%s}", bad[i]));
        ck_assert_msg(r->status == 400, "wait_seconds %s: %ld %s", bad[i], r->status, r->body);
        EXPECT_PROBLEM(r, 400, "invalid_request");
        response_free(r);
    }
    double t0 = live_now();
    struct response *r = request("POST", fmt("/queues/%s/dequeue", q), "{\"wait_seconds\":0}");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "messages"), 0);
    ck_assert_msg(live_now() - t0 < LIVE_AT_ONCE_S, "wait_seconds 0 took %.3f s", live_now() - t0);
    response_free(r);
}
END_TEST

START_TEST(dequeue_wait_answers_at_once_with_visible_messages)
{
    const char *q = fresh_queue();
    live_enqueue(q, "{\"messages\":[{\"type\":\"J\",\"data\":1},{\"type\":\"J\",\"data\":2}]}");
    double t0 = live_now();
    struct response *r = request("POST", fmt("/queues/%s/dequeue", q), "{\"wait_seconds\":10,\"max_messages\":5}");
    double took = live_now() - t0;
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "messages"), 2);
    ck_assert_msg(took < LIVE_AT_ONCE_S, "messages were visible, yet the dequeue took %.3f s", took);
    response_free(r);
}
END_TEST

START_TEST(dequeue_wait_is_woken_by_an_enqueue)
{
    const char *q = fresh_queue(), *other = fresh_queue();
    struct live_call c;
    START_WAITING(&c, "POST", fmt("/queues/%s/dequeue", q), "{\"wait_seconds\":10,\"max_messages\":5}");

    /* Another queue's message is not for it. */
    live_enqueue(other, "{\"messages\":[{\"type\":\"J\",\"data\":0}]}");
    usleep(LIVE_SETTLE_MS * 1000);
    EXPECT_WAITING(&c);

    struct live_write t = live_enqueue(q, "{\"messages\":[{\"type\":\"Mail\",\"data\":{\"to\":\"a@b\"}}]}");
    struct response *r = EXPECT_WOKEN(&c, t.started, t.returned, LIVE_WAKE_S);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "messages"), 1);
    const cJSON *m = array_item(r->json, "messages", 0);
    ck_assert_str_eq(str_field(m, "type"), "Mail");
    ck_assert_str_eq(str_field(field(m, "data"), "to"), "a@b");
    ck_assert_int_eq(int_field(m, "delivery_count"), 1);
    ck_assert_uint_gt(strlen(str_field(m, "receipt")), 0);
    response_free(r);

    /* It was delivered (leased), not just shown. */
    r = get("/queues/%s", q);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(response_int(r, "in_flight"), 1);
    ck_assert_int_eq(response_int(r, "pending"), 0);
    response_free(r);
}
END_TEST

START_TEST(dequeue_wait_times_out_with_no_messages)
{
    const char *q = fresh_queue();
    struct live_call c;
    START_WAITING(&c, "POST", fmt("/queues/%s/dequeue", q), "{\"wait_seconds\":2}");
    struct response *r = EXPECT_TIMED_OUT(&c, 2.0);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "messages"), 0);
    response_free(r);
}
END_TEST

START_TEST(dequeue_wait_gets_a_message_that_becomes_visible)
{
    /* A delayed message. */
    const char *q = fresh_queue();
    struct live_write t = live_enqueue(q, "{\"messages\":[{\"type\":\"Later\",\"data\":1,\"delay_seconds\":1}]}");
    struct live_call c;
    live_call_start(&c, &svc, "POST", fmt("/queues/%s/dequeue", q), "{\"wait_seconds\":10}");
    struct response *r = live_call_join(&c);
    EXPECT_JSON(r, 200);
    ck_assert_msg(array_size(r->json, "messages") == 1, "the delayed message did not come within the wait: %s",
                  r->body);
    ck_assert_str_eq(str_field(array_item(r->json, "messages", 0), "type"), "Later");
    double after = c.answered_at - t.started;
    ck_assert_msg(after >= 0.9 && after <= 3.0, "a message delayed 1 s was delivered %.3f s after its enqueue", after);
    response_free(r);

    /* A lease that runs out ("Later" stays leased for the queue's 30 s). */
    live_enqueue(q, "{\"messages\":[{\"type\":\"Lease\",\"data\":2}]}");
    double leased = live_now();
    r = request("POST", fmt("/queues/%s/dequeue", q), "{\"visibility_timeout\":1}");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "messages"), 1);
    response_free(r);
    live_call_start(&c, &svc, "POST", fmt("/queues/%s/dequeue", q), "{\"wait_seconds\":10,\"max_messages\":5}");
    r = live_call_join(&c);
    EXPECT_JSON(r, 200);
    ck_assert_msg(array_size(r->json, "messages") == 1, "no expired lease came back within the wait: %s", r->body);
    ck_assert_str_eq(str_field(array_item(r->json, "messages", 0), "type"), "Lease");
    ck_assert_int_eq(int_field(array_item(r->json, "messages", 0), "delivery_count"), 2);
    after = c.answered_at - leased;
    ck_assert_msg(after >= 0.9 && after <= 3.0, "a 1 s lease came back %.3f s after the dequeue", after);
    response_free(r);
}
END_TEST

START_TEST(one_enqueue_answers_one_of_several_waiting_consumers)
{
    const char *q = fresh_queue();
    struct live_call c[3];
    for (int i = 0; i < 3; i++)
        live_call_start(&c[i], &svc, "POST", fmt("/queues/%s/dequeue", q), "{\"wait_seconds\":3}");
    usleep(LIVE_SETTLE_MS * 1000);
    for (int i = 0; i < 3; i++)
        EXPECT_WAITING(&c[i]);
    struct live_write t = live_enqueue(q, "{\"messages\":[{\"type\":\"Once\",\"data\":1}]}");

    /* One gets it at once; the others go on waiting and end empty at their deadline. */
    int got = 0;
    for (int i = 0; i < 3; i++) {
        struct response *r = live_call_join(&c[i]);
        EXPECT_JSON(r, 200);
        int n = array_size(r->json, "messages");
        ck_assert_int_le(n, 1);
        if (n == 1) {
            got++;
            ck_assert_msg(c[i].answered_at - t.returned <= LIVE_WAKE_S, "the consumer that got it answered %.3f s late",
                          c[i].answered_at - t.returned);
        } else {
            double took = c[i].answered_at - c[i].sent_at;
            ck_assert_msg(took >= 2.5 && took <= 3.5, "a consumer without the message answered after %.3f s", took);
        }
        response_free(r);
    }
    ck_assert_int_eq(got, 1);
}
END_TEST

static Suite *live_waits_suite(void)
{
    Suite *s = suite_create("live-waits");
    TCase *tc = tcase_create("waits");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, read_wait_rejects_values_outside_0_to_60);
    tcase_add_test(tc, read_wait_answers_at_once_when_events_match);
    tcase_add_test(tc, read_wait_is_woken_by_an_append);
    tcase_add_test(tc, woken_read_answers_the_normal_page);
    tcase_add_test(tc, one_append_wakes_every_waiter_on_the_stream_only);
    tcase_add_test(tc, read_wait_times_out_with_an_empty_page);
    tcase_add_test(tc, read_wait_ignores_appends_its_type_filter_rejects);
    tcase_add_test(tc, read_wait_on_a_missing_stream_is_404_at_once);
    tcase_add_test(tc, dequeue_wait_rejects_values_outside_0_to_60);
    tcase_add_test(tc, dequeue_wait_answers_at_once_with_visible_messages);
    tcase_add_test(tc, dequeue_wait_is_woken_by_an_enqueue);
    tcase_add_test(tc, dequeue_wait_times_out_with_no_messages);
    tcase_add_test(tc, dequeue_wait_gets_a_message_that_becomes_visible);
    tcase_add_test(tc, one_enqueue_answers_one_of_several_waiting_consumers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *args[] = {"--max-batch", "10", "--sweep-interval-ms", "200", NULL};
    return harness_main(live_waits_suite(), args);
}
