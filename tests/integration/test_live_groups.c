/* Reading through a consumer group, GET /streams/{s}/consumers/{g}/events:
 * pages start at the group's committed offset (the stream's start for a group
 * that never committed), reading never commits, so a consumer that restarts
 * before committing gets the same events again (at-least-once), and `wait`
 * long-polls as the stream read does. Commits themselves are in
 * test_consumers.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "live_client.h"
#include "streams_fixtures.h"

/* PUT /streams/{stream}/consumers/{group} {"offset": offset} on `sp`; asserts 200. */
static void commit_on(const struct service_proc *sp, const char *stream, const char *group, long long offset)
{
    char path[600];
    snprintf(path, sizeof path, "/streams/%s/consumers/%s", stream, group);
    struct response *r = httpf(sp, "PUT", path, "{\"offset\":%lld}", offset);
    ck_assert_msg(r->status == 200, "commit %lld: %ld %s", offset, r->status, r->body);
    response_free(r);
}

/* GET /streams/{stream}/consumers/{group}/events?<query> on `sp`; a response to free. */
static struct response *group_read_on(const struct service_proc *sp, const char *stream, const char *group,
                                      const char *query)
{
    char path[900];
    snprintf(path, sizeof path, "/streams/%s/consumers/%s/events%s%s", stream, group, *query ? "?" : "", query);
    return http(sp, "GET", path, NULL, NULL);
}

/* A group page: 200 JSON, and every member of the stream read of the same
 * selection (stream, events, next_offset, end_of_stream) equal in it; the
 * events are at offsets `first`…, `n` of them. */
static void expect_group_page_at(int line, const struct response *r, const char *stream, long long first, int n,
                                 int limit)
{
    expect_json_at(line, r, 200);
    ck_assert_msg(array_size(r->json, "events") == n, "line %d: %d events, want %d: %s", line,
                  array_size(r->json, "events"), n, r->body);
    for (int i = 0; i < n; i++)
        ck_assert_msg(int_field(array_item(r->json, "events", i), "offset") == first + i,
                      "line %d: events[%d] is not offset %lld: %s", line, i, first + i, r->body);
    struct response *read = get("/streams/%s/events?from=%lld&limit=%d", stream, first, limit);
    expect_json_at(line, read, 200);
    const cJSON *member;
    cJSON_ArrayForEach(member, read->json) {
        const cJSON *mine = cJSON_GetObjectItemCaseSensitive(r->json, member->string);
        ck_assert_msg(mine && cJSON_Compare(member, mine, true), "line %d: member %s differs from the stream read: %s",
                      line, member->string, r->body);
    }
    response_free(read);
}
#define EXPECT_GROUP_PAGE(r, stream, first, n, limit)                                                                  \
    expect_group_page_at(__LINE__, (r), (stream), (first), (n), (limit))

/* The offset of event `ev`, asserted below `n`. */
static int event_offset(const cJSON *ev, int n)
{
    long long off = int_field(ev, "offset");
    ck_assert_msg(off >= 0 && off < n, "offset %lld outside 0..%d", off, n - 1);
    return (int)off;
}

START_TEST(never_committed_group_reads_from_the_start_and_reading_commits_nothing)
{
    const char *s = unique_name("lg");
    append_n(s, 5, "A");
    struct response *r = group_read_on(&svc, s, "billing", "limit=3");
    EXPECT_GROUP_PAGE(r, s, 0, 3, 3);
    ck_assert_int_eq(response_int(r, "next_offset"), 3);
    ck_assert(cJSON_IsFalse(field(r->json, "end_of_stream")));
    response_free(r);

    /* The same again: nothing was committed by reading. */
    r = group_read_on(&svc, s, "billing", "limit=3");
    EXPECT_GROUP_PAGE(r, s, 0, 3, 3);
    response_free(r);
    EXPECT_ABSENT(fmt("/streams/%s/consumers/billing", s), "consumer_not_found");

    /* Without a limit: the default page, here the whole stream. */
    r = group_read_on(&svc, s, "billing", "");
    EXPECT_GROUP_PAGE(r, s, 0, 5, 100);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    response_free(r);
}
END_TEST

START_TEST(uncommitted_pages_come_again_after_a_consumer_restart)
{
    const char *s = unique_name("lg");
    append_n(s, 25, "A");
    int processed[25] = {0};

    /* The first consumer processes and commits one page, processes the next and dies before committing it. */
    for (int page = 0; page < 2; page++) {
        struct response *r = group_read_on(&svc, s, "worker", "limit=10");
        EXPECT_GROUP_PAGE(r, s, page * 10, 10, 10);
        const cJSON *ev;
        cJSON_ArrayForEach(ev, field(r->json, "events"))
            processed[event_offset(ev, 25)]++;
        long long next = response_int(r, "next_offset");
        response_free(r);
        if (page == 0)
            commit_on(&svc, s, "worker", next);
    }
    struct response *g = get("/streams/%s/consumers/worker", s);
    EXPECT_JSON(g, 200);
    ck_assert_int_eq(response_int(g, "offset"), 10);
    ck_assert_int_eq(response_int(g, "lag"), 15);
    response_free(g);

    /* Its replacement, on another instance of the service, starts where the group committed. */
    static struct service_proc other;
    live_kill_at_exit(&other);
    const char *args[] = {"--max-batch", "10", NULL};
    ck_assert(svc_start(&other, svc.schema, args));
    for (long long from = 10, pages = 0;; pages++) {
        ck_assert_int_lt(pages, 5);
        struct response *r = group_read_on(&other, s, "worker", "limit=10");
        ck_assert_int_eq(r->status, 200);
        const cJSON *events = field(r->json, "events"), *ev;
        if (cJSON_GetArraySize(events) == 0) {
            ck_assert_int_eq(response_int(r, "next_offset"), 25);
            ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
            response_free(r);
            break;
        }
        ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 0), "offset"), from);
        cJSON_ArrayForEach(ev, events)
            processed[event_offset(ev, 25)]++;
        from = response_int(r, "next_offset");
        response_free(r);
        commit_on(&other, s, "worker", from);
    }
    ck_assert_int_eq(svc_stop(&other), 0);

    /* Every event at least once; exactly the uncommitted page twice. */
    for (int i = 0; i < 25; i++)
        ck_assert_msg(processed[i] == (i >= 10 && i < 20 ? 2 : 1), "event %d processed %d times", i, processed[i]);

    /* A forced rewind replays from the checkpoint. */
    struct response *r = request("PUT", fmt("/streams/%s/consumers/worker", s), "{\"offset\":22,\"force\":true}");
    EXPECT_JSON(r, 200);
    response_free(r);
    r = group_read_on(&svc, s, "worker", "limit=10");
    EXPECT_GROUP_PAGE(r, s, 22, 3, 10);
    response_free(r);
}
END_TEST

START_TEST(groups_read_independently)
{
    const char *s = unique_name("lg");
    append_n(s, 6, "A");
    commit_on(&svc, s, "a", 4);
    commit_on(&svc, s, "b", 1);
    struct response *r = group_read_on(&svc, s, "a", "");
    EXPECT_GROUP_PAGE(r, s, 4, 2, 100);
    response_free(r);
    r = group_read_on(&svc, s, "b", "limit=2");
    EXPECT_GROUP_PAGE(r, s, 1, 2, 2);
    response_free(r);
    r = group_read_on(&svc, s, "c", "limit=1");
    EXPECT_GROUP_PAGE(r, s, 0, 1, 1);
    response_free(r);
}
END_TEST

START_TEST(group_wait_is_woken_by_an_append)
{
    const char *s = unique_name("lg");
    append_n(s, 3, "A");
    commit_on(&svc, s, "g", 3);
    struct live_call c;
    START_WAITING(&c, "GET", fmt("/streams/%s/consumers/g/events?wait=10", s), NULL);
    struct live_write w = live_append_one(s, "Late", 3);
    struct response *r = EXPECT_WOKEN(&c, w.started, w.returned, LIVE_WAKE_S);
    EXPECT_GROUP_PAGE(r, s, 3, 1, 100);
    ck_assert_str_eq(str_field(array_item(r->json, "events", 0), "type"), "Late");
    ck_assert_int_eq(response_int(r, "next_offset"), 4);
    response_free(r);

    /* Still not committed by the read. */
    r = get("/streams/%s/consumers/g", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(response_int(r, "offset"), 3);
    response_free(r);
}
END_TEST

START_TEST(group_wait_answers_at_once_when_the_group_is_behind)
{
    const char *s = unique_name("lg");
    append_n(s, 5, "A");
    commit_on(&svc, s, "g", 2);
    double t0 = live_now();
    struct response *r = group_read_on(&svc, s, "g", "wait=10");
    double took = live_now() - t0;
    EXPECT_GROUP_PAGE(r, s, 2, 3, 100);
    ck_assert_msg(took < LIVE_AT_ONCE_S, "the group is 3 behind, yet the read took %.3f s", took);
    response_free(r);

    /* A group that never committed is behind by the whole stream. */
    t0 = live_now();
    r = group_read_on(&svc, s, "new", "wait=10&limit=2");
    took = live_now() - t0;
    EXPECT_GROUP_PAGE(r, s, 0, 2, 2);
    ck_assert_msg(took < LIVE_AT_ONCE_S, "a new group read took %.3f s", took);
    response_free(r);
}
END_TEST

START_TEST(group_wait_times_out_with_an_empty_page)
{
    const char *s = unique_name("lg");
    append_n(s, 3, "A");
    commit_on(&svc, s, "g", 3);
    struct live_call c;
    START_WAITING(&c, "GET", fmt("/streams/%s/consumers/g/events?wait=2", s), NULL);
    struct response *r = EXPECT_TIMED_OUT(&c, 2.0);
    EXPECT_GROUP_PAGE(r, s, 3, 0, 100);
    ck_assert_int_eq(response_int(r, "next_offset"), 3);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    response_free(r);
}
END_TEST

START_TEST(group_read_rejects_bad_parameters_and_missing_streams)
{
    const char *s = unique_name("lg");
    append_n(s, 2, "A");
    static const char *const bad[] = {"limit=0", "limit=1001", "limit=x", "limit=", "limit=1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct response *r = group_read_on(&svc, s, "g", bad[i]);
        ck_assert_msg(r->status == 400, "%s: %ld %s", bad[i], r->status, r->body);
        EXPECT_PROBLEM(r, 400, "invalid_parameter");
        response_free(r);
    }
    for (size_t i = 0; i < live_bad_waits_len; i++) {
        struct response *r = group_read_on(&svc, s, "g", fmt("wait=%s", live_bad_waits[i]));
        ck_assert_msg(r->status == 400, "wait=%s: %ld %s", live_bad_waits[i], r->status, r->body);
        EXPECT_PROBLEM(r, 400, "invalid_parameter");
        response_free(r);
    }
    EXPECT_PROBLEM_FREE(get("/streams/%s/consumers/bad%%20name/events", s), 400, "invalid_name");

    /* A stream never written: 404 at once, even with a wait. */
    double took;
    struct response *r = live_timed_get(fmt("/streams/%s/consumers/g/events?wait=10", unique_name("lg")), &took);
    EXPECT_PROBLEM(r, 404, "stream_not_found");
    ck_assert_msg(took < LIVE_AT_ONCE_S, "404 took %.3f s", took);
    response_free(r);
    expect_healthy();
}
END_TEST

static Suite *live_groups_suite(void)
{
    Suite *s = suite_create("live-groups");
    TCase *tc = tcase_create("groups");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, never_committed_group_reads_from_the_start_and_reading_commits_nothing);
    tcase_add_test(tc, uncommitted_pages_come_again_after_a_consumer_restart);
    tcase_add_test(tc, groups_read_independently);
    tcase_add_test(tc, group_wait_is_woken_by_an_append);
    tcase_add_test(tc, group_wait_answers_at_once_when_the_group_is_behind);
    tcase_add_test(tc, group_wait_times_out_with_an_empty_page);
    tcase_add_test(tc, group_read_rejects_bad_parameters_and_missing_streams);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return streams_fixtures_main(live_groups_suite());
}
