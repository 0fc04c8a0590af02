/* Consumer groups over HTTP: commit, get with lag, list, delete; a commit
 * that moves backwards is refused unless forced, one past the stream's end is
 * 400, bad names are 400, and deleting the stream removes its groups. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "harness.h"
#include "streams_fixtures.h"

static struct response *commit(const char *stream, const char *group, const char *body)
{
    return requestf("PUT", fmt("/streams/%s/consumers/%s", stream, group), "%s", body);
}

static void expect_group_at(int line, const struct response *r, const char *stream, const char *group, long long offset,
                            long long lag)
{
    expect_json_at(line, r, 200);
    ck_assert_msg(!strcmp(str_field(r->json, "stream"), stream), "line %d: stream", line);
    ck_assert_msg(!strcmp(str_field(r->json, "group"), group), "line %d: group", line);
    ck_assert_msg(int_field(r->json, "offset") == offset, "line %d: offset %lld, want %lld", line,
                  int_field(r->json, "offset"), offset);
    ck_assert_msg(int_field(r->json, "lag") == lag, "line %d: lag %lld, want %lld", line, int_field(r->json, "lag"),
                  lag);
    ck_assert_msg(is_timestamp(str_field(r->json, "updated_at")), "line %d: updated_at", line);
}
#define EXPECT_GROUP(r, stream, group, offset, lag) expect_group_at(__LINE__, (r), (stream), (group), (offset), (lag))

START_TEST(commit_get_and_lag)
{
    const char *stream = unique_name("cg");
    append_n(stream, 10, "A");
    struct response *r = commit(stream, "billing", "{\"offset\":4}");
    EXPECT_GROUP(r, stream, "billing", 4, 6);
    response_free(r);

    r = get("/streams/%s/consumers/billing", stream);
    EXPECT_GROUP(r, stream, "billing", 4, 6);
    response_free(r);

    /* Forward moves need no force; the end of the stream (version + 1) is allowed. */
    r = commit(stream, "billing", "{\"offset\":10}");
    EXPECT_GROUP(r, stream, "billing", 10, 0);
    response_free(r);

    /* Lag follows appends. */
    for (int i = 0; i < 3; i++)
        response_free(append_one(stream, "A"));
    r = get("/streams/%s/consumers/billing", stream);
    EXPECT_GROUP(r, stream, "billing", 10, 3);
    response_free(r);
}
END_TEST

START_TEST(regression_is_refused_unless_forced)
{
    const char *stream = unique_name("cg");
    append_n(stream, 5, "A");
    response_free(commit(stream, "g", "{\"offset\":4}"));

    struct response *r = commit(stream, "g", "{\"offset\":1}");
    EXPECT_PROBLEM(r, 409, "offset_regression");
    ck_assert_int_eq(int_field(r->json, "current_offset"), 4);
    response_free(r);
    r = get("/streams/%s/consumers/g", stream);
    EXPECT_GROUP(r, stream, "g", 4, 1);
    response_free(r);

    /* The same offset again is not a regression. */
    r = commit(stream, "g", "{\"offset\":4}");
    EXPECT_GROUP(r, stream, "g", 4, 1);
    response_free(r);

    r = commit(stream, "g", "{\"offset\":1,\"force\":true}");
    EXPECT_GROUP(r, stream, "g", 1, 4);
    response_free(r);
}
END_TEST

START_TEST(offset_past_the_end_is_400)
{
    const char *stream = unique_name("cg");
    append_n(stream, 3, "A");
    struct response *r = commit(stream, "g", "{\"offset\":4}");
    EXPECT_PROBLEM(r, 400, "invalid_request");
    ck_assert_int_eq(int_field(r->json, "version"), 2);
    response_free(r);
    EXPECT_PROBLEM_FREE(get("/streams/%s/consumers/g", stream), 404, "consumer_not_found");
    /* Forcing does not make it valid. */
    EXPECT_PROBLEM_FREE(commit(stream, "g", "{\"offset\":4,\"force\":true}"), 400, "invalid_request");
}
END_TEST

START_TEST(bad_bodies_and_names)
{
    const char *stream = unique_name("cg");
    append_n(stream, 3, "A");
    static const char *const bodies[] = {
        "{}", "{\"offset\":-1}", "{\"offset\":1.5}", "{\"offset\":\"1\"}", "{\"offset\":1,\"force\":\"yes\"}", "[]",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        EXPECT_PROBLEM_FREE(commit(stream, "g", bodies[i]), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(commit(stream, "g", "{\"offset\":"), 400, "invalid_json");
    EXPECT_PROBLEM_FREE(commit(stream, "bad%20name", "{\"offset\":1}"), 400, "invalid_name");
    EXPECT_PROBLEM_FREE(commit(stream, "..", "{\"offset\":1}"), 400, "invalid_name");
    EXPECT_PROBLEM_FREE(get("/streams/%s/consumers/a%%2Fb", stream), 400, "invalid_name");
    EXPECT_PROBLEM_FREE(request("DELETE", fmt("/streams/%s/consumers/%%00", stream), NULL), 400, "invalid_name");
    /* Nothing was committed by any of them. */
    struct response *r = get("/streams/%s/consumers", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "consumers"), 0);
    response_free(r);
}
END_TEST

START_TEST(missing_stream_and_group)
{
    const char *stream = unique_name("cg");
    EXPECT_PROBLEM_FREE(commit(stream, "g", "{\"offset\":0}"), 404, "stream_not_found");
    EXPECT_PROBLEM_FREE(get("/streams/%s/consumers/g", stream), 404, "stream_not_found");
    EXPECT_PROBLEM_FREE(get("/streams/%s/consumers", stream), 404, "stream_not_found");
    EXPECT_PROBLEM_FREE(request("DELETE", fmt("/streams/%s/consumers/g", stream), NULL), 404, "stream_not_found");
    append_n(stream, 1, "A");
    EXPECT_PROBLEM_FREE(get("/streams/%s/consumers/g", stream), 404, "consumer_not_found");
    EXPECT_PROBLEM_FREE(request("DELETE", fmt("/streams/%s/consumers/g", stream), NULL), 404, "consumer_not_found");
}
END_TEST

START_TEST(list_delete_and_stream_delete)
{
    const char *stream = unique_name("cg");
    append_n(stream, 6, "A");
    response_free(commit(stream, "zeta", "{\"offset\":1}"));
    response_free(commit(stream, "alpha", "{\"offset\":6}"));
    response_free(commit(stream, "Mid", "{\"offset\":3}"));

    struct response *r = get("/streams/%s/consumers", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "consumers"), 3);
    /* Byte order: upper case before lower case. */
    ck_assert_str_eq(str_field(array_item(r->json, "consumers", 0), "group"), "Mid");
    ck_assert_int_eq(int_field(array_item(r->json, "consumers", 0), "lag"), 3);
    ck_assert_str_eq(str_field(array_item(r->json, "consumers", 1), "group"), "alpha");
    ck_assert_int_eq(int_field(array_item(r->json, "consumers", 1), "lag"), 0);
    ck_assert_str_eq(str_field(array_item(r->json, "consumers", 2), "group"), "zeta");
    ck_assert_str_eq(str_field(array_item(r->json, "consumers", 2), "stream"), stream);
    response_free(r);

    EXPECT_204_FREE(request("DELETE", fmt("/streams/%s/consumers/zeta", stream), NULL));
    EXPECT_PROBLEM_FREE(get("/streams/%s/consumers/zeta", stream), 404, "consumer_not_found");
    r = get("/streams/%s/consumers", stream);
    ck_assert_int_eq(array_size(r->json, "consumers"), 2);
    response_free(r);

    /* A deleted stream takes its groups along: a new stream of that name has none. */
    EXPECT_204_FREE(request("DELETE", fmt("/streams/%s", stream), NULL));
    append_n(stream, 1, "A");
    r = get("/streams/%s/consumers", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "consumers"), 0);
    response_free(r);
    EXPECT_PROBLEM_FREE(get("/streams/%s/consumers/alpha", stream), 404, "consumer_not_found");
}
END_TEST

static Suite *consumers_suite(void)
{
    Suite *s = suite_create("consumers");
    TCase *tc = tcase_create("consumers");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, commit_get_and_lag);
    tcase_add_test(tc, regression_is_refused_unless_forced);
    tcase_add_test(tc, offset_past_the_end_is_400);
    tcase_add_test(tc, bad_bodies_and_names);
    tcase_add_test(tc, missing_stream_and_group);
    tcase_add_test(tc, list_delete_and_stream_delete);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return streams_fixtures_main(consumers_suite());
}
