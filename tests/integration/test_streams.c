/* Stream metadata and lifecycle (routes/streams.c): metadata with ETag,
 * listing by prefix, retention, archive/unarchive and delete; and the 405
 * answers of every stream and event path. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "harness.h"
#include "streams_fixtures.h"

/* GET with one extra request header. */
static struct response *get_with(const char *header, const char *path)
{
    const char *headers[] = {header, NULL};
    return http(&svc, "GET", path, NULL, headers);
}

/* ----------------------------------------------------------- metadata */

START_TEST(metadata_fields_and_etag)
{
    const char *s = unique_name("s");
    append_n(s, 3, "A");
    struct response *r = get("/streams/%s", s);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "stream"), s);
    ck_assert_int_eq(response_int(r, "version"), 2);
    ck_assert_int_eq(response_int(r, "length"), 3);
    ck_assert_int_eq(response_int(r, "first_offset"), 0);
    ck_assert_int_eq(response_int(r, "last_offset"), 2);
    ck_assert(is_timestamp(str_field(r->json, "created_at")));
    ck_assert(is_timestamp(str_field(r->json, "last_event_at")));
    ck_assert_str_ge(str_field(r->json, "last_event_at"), str_field(r->json, "created_at"));
    ck_assert_str_eq(str_field(r->json, "state"), "active");
    const cJSON *ret = field(r->json, "retention");
    ck_assert(cJSON_IsObject(ret));
    ck_assert(cJSON_IsNull(field(ret, "max_age_seconds")));
    ck_assert(cJSON_IsNull(field(ret, "max_count")));
    ck_assert_str_eq(header(r, "ETag"), "\"2\"");
    char last_event_at[40];
    snprintf(last_event_at, sizeof last_event_at, "%s", str_field(r->json, "last_event_at"));
    response_free(r);

    /* last_event_at is the time of the last append. */
    r = get("/streams/%s/events/2", s);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "created_at"), last_event_at);
    response_free(r);

    const char *path = fmt("/streams/%s", s);
    r = get_with("If-None-Match: \"2\"", path);
    ck_assert_int_eq(r->status, 304);
    ck_assert_uint_eq(r->len, 0);
    ck_assert_str_eq(header(r, "ETag"), "\"2\"");
    response_free(r);

    /* HEAD: the same status and tag, no body. */
    r = request("HEAD", path, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_uint_eq(r->len, 0);
    ck_assert_str_eq(header(r, "ETag"), "\"2\"");
    response_free(r);

    r = get_with("If-None-Match: \"1\"", path);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(header(r, "ETag"), "\"2\"");
    response_free(r);

    /* After an append the old tag no longer matches. */
    r = append_one(s, "A");
    response_free(r);
    r = get_with("If-None-Match: \"2\"", path);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(response_int(r, "version"), 3);
    ck_assert_str_eq(header(r, "ETag"), "\"3\"");
    response_free(r);
    /* Compared weakly, and found in a list. */
    static const char *const hits[] = {"If-None-Match: \"3\"", "If-None-Match: W/\"3\"",
                                       "If-None-Match: \"999\", \"3\""};
    for (size_t i = 0; i < sizeof hits / sizeof hits[0]; i++) {
        r = get_with(hits[i], path);
        ck_assert_msg(r->status == 304, "%s: status %ld", hits[i], r->status);
        ck_assert_uint_eq(r->len, 0);
        ck_assert_str_eq(header(r, "ETag"), "\"3\"");
        response_free(r);
    }

    EXPECT_PROBLEM_FREE(get("/streams/%s", unique_name("s")), 404, "stream_not_found");
}
END_TEST

START_TEST(list_streams_by_prefix_in_pages)
{
    /* A '.' ends the prefix so that no other run's names can start with it. */
    char prefix[96];
    snprintf(prefix, sizeof prefix, "%s.", unique_name("l"));
    /* Byte order: '0' < 'B' < '_' < 'a' < 'c'. */
    const char *suffixes[] = {"c", "a", "_d", "B", "0"};
    const char *order[] = {"0", "B", "_d", "a", "c"};
    for (int i = 0; i < 5; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s%s", prefix, suffixes[i]);
        append_n(name, i + 1, "A");
    }
    int seen = 0;
    char after[128] = "";
    for (int page = 0; page < 3; page++) {
        struct response *r = after[0] ? get("/streams?prefix=%s&limit=2&after=%s", prefix, after)
                                      : get("/streams?prefix=%s&limit=2", prefix);
        EXPECT_JSON(r, 200);
        const cJSON *streams = field(r->json, "streams"), *m;
        ck_assert_int_eq(cJSON_GetArraySize(streams), page < 2 ? 2 : 1);
        cJSON_ArrayForEach(m, streams) {
            char want[128];
            snprintf(want, sizeof want, "%s%s", prefix, order[seen]);
            ck_assert_str_eq(str_field(m, "stream"), want);
            /* Each entry is the stream's metadata. */
            ck_assert_str_eq(str_field(m, "state"), "active");
            ck_assert(cJSON_IsObject(field(m, "retention")));
            ck_assert_int_eq(int_field(m, "length"), int_field(m, "version") + 1);
            ck_assert(is_timestamp(str_field(m, "created_at")));
            seen++;
        }
        const cJSON *next = field(r->json, "next_after");
        if (page < 2) {
            ck_assert(cJSON_IsString(next));
            char want[128];
            snprintf(want, sizeof want, "%s%s", prefix, order[seen - 1]);
            ck_assert_str_eq(next->valuestring, want);
            snprintf(after, sizeof after, "%s", next->valuestring);
        } else {
            ck_assert(cJSON_IsNull(next));
        }
        response_free(r);
    }
    ck_assert_int_eq(seen, 5);

    /* A page that takes exactly the streams left has no next page. */
    struct response *r = get("/streams?prefix=%s&limit=5", prefix);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "streams")), 5);
    ck_assert_msg(cJSON_IsNull(field(r->json, "next_after")), "next_after: %s", r->body);
    response_free(r);
    r = get("/streams?prefix=%s&limit=2&after=%s%s", prefix, prefix, order[2]);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "streams")), 2);
    ck_assert_msg(cJSON_IsNull(field(r->json, "next_after")), "next_after: %s", r->body);
    response_free(r);

    /* Version and length of one entry match what was appended. */
    r = get("/streams?prefix=%sa", prefix);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "streams")), 1);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(field(r->json, "streams"), 0), "version"), 1);
    response_free(r);

    /* A prefix nobody has. */
    r = get("/streams?prefix=%snothing", prefix);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "streams")), 0);
    ck_assert(cJSON_IsNull(field(r->json, "next_after")));
    response_free(r);

    EXPECT_PROBLEM_FREE(get("/streams?prefix=%s&limit=0", prefix), 400, "invalid_parameter");
    EXPECT_PROBLEM_FREE(get("/streams?prefix=%s&limit=1001", prefix), 400, "invalid_parameter");
    EXPECT_PROBLEM_FREE(get("/streams?prefix=%s&limit=x", prefix), 400, "invalid_parameter");
}
END_TEST

/* PUT /streams/{stream}/retention with `body`; returns a response to free. */
static struct response *put_retention(const char *stream, const char *body)
{
    return request("PUT", fmt("/streams/%s/retention", stream), body);
}

static void expect_retention(const struct response *r, long long age, long long count)
{
    const cJSON *ret = field(r->json, "retention");
    const cJSON *a = field(ret, "max_age_seconds"), *c = field(ret, "max_count");
    if (age < 0)
        ck_assert_msg(cJSON_IsNull(a), "max_age_seconds should be null: %s", r->body);
    else
        ck_assert_int_eq(int_field(ret, "max_age_seconds"), age);
    if (count < 0)
        ck_assert_msg(cJSON_IsNull(c), "max_count should be null: %s", r->body);
    else
        ck_assert_int_eq(int_field(ret, "max_count"), count);
}

START_TEST(retention_is_set_kept_and_cleared)
{
    const char *s = unique_name("s");
    append_n(s, 2, "A");
    struct response *r = put_retention(s, "{\"max_age_seconds\":86400,\"max_count\":1000000}");
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "stream"), s);
    ck_assert_int_eq(response_int(r, "version"), 1);
    ck_assert_int_eq(response_int(r, "length"), 2);
    ck_assert_str_eq(str_field(r->json, "state"), "active");
    expect_retention(r, 86400, 1000000);
    response_free(r);

    /* One field: the other is kept. */
    r = put_retention(s, "{\"max_count\":5}");
    EXPECT_JSON(r, 200);
    expect_retention(r, 86400, 5);
    response_free(r);
    r = put_retention(s, "{\"max_age_seconds\":60}");
    EXPECT_JSON(r, 200);
    expect_retention(r, 60, 5);
    response_free(r);
    r = put_retention(s, "{}");
    EXPECT_JSON(r, 200);
    expect_retention(r, 60, 5);
    response_free(r);

    /* GET shows the same. */
    r = get("/streams/%s", s);
    EXPECT_JSON(r, 200);
    expect_retention(r, 60, 5);
    response_free(r);

    /* null clears one, then the other. */
    r = put_retention(s, "{\"max_age_seconds\":null}");
    EXPECT_JSON(r, 200);
    expect_retention(r, -1, 5);
    response_free(r);
    r = put_retention(s, "{\"max_count\":null}");
    EXPECT_JSON(r, 200);
    expect_retention(r, -1, -1);
    response_free(r);
    r = put_retention(s, "{\"max_age_seconds\":3600,\"max_count\":10}");
    EXPECT_JSON(r, 200);
    response_free(r);

    static const char *const bad[] = {
        "{\"max_age_seconds\":-1}",
        "{\"max_age_seconds\":0}",
        "{\"max_age_seconds\":\"60\"}",
        "{\"max_age_seconds\":1.5}",
        "{\"max_age_seconds\":true}",
        "{\"max_count\":-5}",
        "{\"max_count\":0}",
        "{\"max_count\":\"10\"}",
        "{\"max_count\":[1]}",
        "{\"max_count\":10,\"max_age_seconds\":-1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = put_retention(s, bad[i]);
        ck_assert_msg(r->status == 400, "%s: %ld %s", bad[i], r->status, r->body);
        EXPECT_PROBLEM(r, 400, "invalid_request");
        response_free(r);
    }
    EXPECT_PROBLEM_FREE(put_retention(s, "{\"max_count\":"), 400, "invalid_json");
    /* Well-formed JSON that is not an object is a bad request, not bad JSON. */
    EXPECT_PROBLEM_FREE(put_retention(s, "[1]"), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(put_retention(s, "\"x\""), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(put_retention(s, "42"), 400, "invalid_request");
    /* Nothing changed. */
    r = get("/streams/%s", s);
    EXPECT_JSON(r, 200);
    expect_retention(r, 3600, 10);
    response_free(r);

    EXPECT_PROBLEM_FREE(put_retention(unique_name("s"), "{\"max_count\":5}"), 404, "stream_not_found");
    expect_healthy();
}
END_TEST

START_TEST(archive_and_unarchive_set_the_state)
{
    const char *s = unique_name("s");
    append_n(s, 2, "A");
    struct response *r = post_action(s, "archive");
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "state"), "archived");
    ck_assert_str_eq(str_field(r->json, "stream"), s);
    ck_assert_int_eq(response_int(r, "version"), 1);
    response_free(r);
    r = get("/streams/%s", s);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "state"), "archived");
    response_free(r);

    /* Archiving again changes nothing. */
    r = post_action(s, "archive");
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "state"), "archived");
    response_free(r);

    r = post_action(s, "unarchive");
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "state"), "active");
    ck_assert_int_eq(response_int(r, "version"), 1);
    response_free(r);

    /* Unknown streams. */
    const char *missing = unique_name("s");
    EXPECT_PROBLEM_FREE(post_action(missing, "archive"), 404, "stream_not_found");
    EXPECT_PROBLEM_FREE(post_action(missing, "unarchive"), 404, "stream_not_found");
}
END_TEST

START_TEST(delete_removes_the_stream)
{
    const char *s = unique_name("s");
    append_n(s, 3, "A");
    struct response *r = put_retention(s, "{\"max_count\":7}");
    EXPECT_JSON(r, 200);
    response_free(r);

    const char *path = fmt("/streams/%s", s);
    EXPECT_204_FREE(request("DELETE", path, NULL));

    EXPECT_PROBLEM_FREE(get("/streams/%s", s), 404, "stream_not_found");
    EXPECT_PROBLEM_FREE(get("/streams/%s/events", s), 404, "stream_not_found");
    EXPECT_PROBLEM_FREE(get("/streams/%s/events/0", s), 404, "stream_not_found");
    EXPECT_PROBLEM_FREE(request("DELETE", path, NULL), 404, "stream_not_found");

    /* "exists" and the old version no longer hold. */
    r = appendf(s, "{\"expected_version\":\"exists\",\"events\":[{\"type\":\"A\",\"data\":1}]}");
    EXPECT_PROBLEM(r, 409, "version_conflict");
    ck_assert_int_eq(response_int(r, "current_version"), -1);
    response_free(r);
    r = appendf(s, "{\"expected_version\":2,\"events\":[{\"type\":\"A\",\"data\":1}]}");
    EXPECT_PROBLEM(r, 409, "version_conflict");
    ck_assert_int_eq(response_int(r, "current_version"), -1);
    response_free(r);
    EXPECT_PROBLEM_FREE(get("/streams/%s", s), 404, "stream_not_found");

    /* "no_stream" starts again at 0, without the old retention. */
    r = appendf(s, "{\"expected_version\":\"no_stream\",\"events\":[{\"type\":\"New\",\"data\":1}]}");
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 0);
    ck_assert_int_eq(response_int(r, "version"), 0);
    response_free(r);
    r = get("/streams/%s", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(response_int(r, "version"), 0);
    ck_assert_int_eq(response_int(r, "length"), 1);
    ck_assert_str_eq(str_field(r->json, "state"), "active");
    expect_retention(r, -1, -1);
    response_free(r);
    r = get("/streams/%s/events", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 1);
    ck_assert_str_eq(str_field(cJSON_GetArrayItem(field(r->json, "events"), 0), "type"), "New");
    response_free(r);

    /* "any" after a delete also starts at 0. */
    const char *s2 = unique_name("s");
    append_n(s2, 2, "A");
    EXPECT_204_FREE(request("DELETE", fmt("/streams/%s", s2), NULL));
    r = appendf(s2, "{\"expected_version\":\"any\",\"events\":[{\"type\":\"A\",\"data\":1}]}");
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 0);
    response_free(r);

    EXPECT_PROBLEM_FREE(request("DELETE", fmt("/streams/%s", unique_name("s")), NULL), 404, "stream_not_found");
}
END_TEST

/* ---------------------------------------------------------------- 405 */

/* True when the comma-separated `allow` holds exactly the methods in `want`. */
static bool allow_is(const char *allow, const char *const *want, int n)
{
    int count = 0;
    char copy[128];
    snprintf(copy, sizeof copy, "%s", allow);
    for (char *save = NULL, *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        bool known = false;
        for (int i = 0; i < n; i++)
            known |= !strcmp(tok, want[i]);
        if (!known)
            return false;
        count++;
    }
    return count == n;
}

START_TEST(wrong_methods_are_405_with_allow)
{
    const char *s = unique_name("s");
    struct {
        const char *method, *suffix; /* after /streams/<s> */
        const char *allow[4];
        int n;
    } cases[] = {
        {"PATCH", "/events", {"GET", "HEAD", "POST"}, 3},
        {"DELETE", "/events", {"GET", "HEAD", "POST"}, 3},
        {"POST", "", {"GET", "HEAD", "DELETE"}, 3},
        {"GET", "/retention", {"PUT"}, 1},
        {"GET", "/archive", {"POST"}, 1},
        {"POST", "/events/0", {"GET", "HEAD"}, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "/streams/%s%s", s, cases[i].suffix);
        struct response *r = request(cases[i].method, path, NULL);
        ck_assert_msg(r->status == 405, "%s %s: %ld", cases[i].method, path, r->status);
        EXPECT_PROBLEM(r, 405, "method_not_allowed");
        const char *allow = header(r, "Allow");
        ck_assert_msg(allow && allow_is(allow, cases[i].allow, cases[i].n), "%s %s: Allow %s", cases[i].method, path,
                      allow ? allow : "(none)");
        response_free(r);
    }
    struct response *r = request("PUT", "/events", "{}");
    EXPECT_PROBLEM(r, 405, "method_not_allowed");
    const char *get_head[] = {"GET", "HEAD"};
    ck_assert(allow_is(header(r, "Allow"), get_head, 2));
    response_free(r);
}
END_TEST

static Suite *streams_suite(void)
{
    Suite *s = suite_create("streams");
    TCase *tc = tcase_create("streams");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, metadata_fields_and_etag);
    tcase_add_test(tc, list_streams_by_prefix_in_pages);
    tcase_add_test(tc, retention_is_set_kept_and_cleared);
    tcase_add_test(tc, archive_and_unarchive_set_the_state);
    tcase_add_test(tc, delete_removes_the_stream);
    tcase_add_test(tc, wrong_methods_are_405_with_allow);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return streams_fixtures_main(streams_suite());
}
