/* Appending events (routes/events.c): offsets, ids and positions, expected_version
 * and If-Match/If-None-Match preconditions, idempotent retry and duplicate ids,
 * archived streams, and a failed append that leaves no trace. Bodies, names and
 * sizes that are refused are in test_events_append_invalid.c; reads are in
 * test_events_read.c. The service runs with small limits (see streams_fixtures.h)
 * so that batch edges are cheap to reach. */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "harness.h"
#include "streams_fixtures.h"

/* ------------------------------------------------------------- append */

START_TEST(append_returns_offsets_ids_and_positions)
{
    const char *s = unique_name("s");
    struct response *r = appendf(s, "{\"events\":[{\"type\":\"A\",\"data\":{\"n\":1}},{\"type\":\"B\",\"data\":2}]}");
    EXPECT_JSON(r, 201);
    ck_assert_str_eq(str_field(r->json, "stream"), s);
    ck_assert_int_eq(response_int(r, "first_offset"), 0);
    ck_assert_int_eq(response_int(r, "last_offset"), 1);
    ck_assert_int_eq(response_int(r, "version"), 1);
    const cJSON *events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 2);
    const cJSON *e0 = cJSON_GetArrayItem(events, 0), *e1 = cJSON_GetArrayItem(events, 1);
    const char *id0 = str_field(e0, "id"), *id1 = str_field(e1, "id");
    ck_assert(is_uuid(id0));
    ck_assert(is_uuid(id1));
    ck_assert_str_ne(id0, id1);
    /* Generated ids are v4 or v7 with the RFC 4122 variant. */
    ck_assert(id0[14] == '4' || id0[14] == '7');
    ck_assert_ptr_nonnull(strchr("89abAB", id0[19]));
    ck_assert_int_eq(int_field(e0, "offset"), 0);
    ck_assert_int_eq(int_field(e1, "offset"), 1);
    long long p0 = int_field(e0, "global_position"), p1 = int_field(e1, "global_position");
    ck_assert_int_gt(p1, p0);
    response_free(r);

    /* Client ids are kept; offsets go on where the last append stopped. */
    char a[37], b[37], c[37];
    new_uuid(a);
    new_uuid(b);
    new_uuid(c);
    r = appendf(s,
                "{\"events\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1},{\"id\":\"%s\",\"type\":\"A\",\"data\":2},"
                "{\"id\":\"%s\",\"type\":\"A\",\"data\":3}]}",
                a, b, c);
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 2);
    ck_assert_int_eq(response_int(r, "last_offset"), 4);
    ck_assert_int_eq(response_int(r, "version"), 4);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 3);
    const char *want[] = {a, b, c};
    long long last = p1;
    for (int i = 0; i < 3; i++) {
        const cJSON *e = cJSON_GetArrayItem(events, i);
        ck_assert_str_eq(str_field(e, "id"), want[i]);
        ck_assert_int_eq(int_field(e, "offset"), 2 + i);
        ck_assert_int_gt(int_field(e, "global_position"), last);
        last = int_field(e, "global_position");
    }
    response_free(r);

    /* A later append to another stream also gets a larger position. */
    r = append_one(unique_name("s"), "A");
    ck_assert_int_gt(int_field(cJSON_GetArrayItem(field(r->json, "events"), 0), "global_position"), last);
    response_free(r);
    ck_assert_int_eq(stream_version(s), 4);
}
END_TEST

START_TEST(append_accepts_a_full_batch_and_200_char_type)
{
    const char *s = unique_name("s");
    append_n(s, MAX_BATCH, "Full");
    ck_assert_int_eq(stream_version(s), MAX_BATCH - 1);

    char type[201];
    memset(type, 'T', 200);
    type[200] = '\0';
    struct response *r = appendf(s, "{\"events\":[{\"type\":\"%s\",\"data\":null}]}", type);
    EXPECT_JSON(r, 201);
    response_free(r);
    /* 200 characters of two bytes each are still 200 characters. */
    char *wide = malloc(401);
    for (int i = 0; i < 200; i++)
        memcpy(wide + 2 * i, "\xc3\xa9", 2);
    wide[400] = '\0';
    r = appendf(s, "{\"events\":[{\"type\":\"%s\",\"data\":null}]}", wide);
    EXPECT_JSON(r, 201);
    response_free(r);
    r = get("/streams/%s/events/%d", s, MAX_BATCH + 1);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "type"), wide);
    response_free(r);
    free(wide);
}
END_TEST

START_TEST(expected_version_any_no_stream_exists)
{
    const char *s = unique_name("s");
    struct response *r;

    /* "exists" on a new stream: conflict at -1, and the stream stays unwritten. */
    r = appendf(s, "{\"expected_version\":\"exists\",\"events\":[{\"type\":\"A\",\"data\":1}]}");
    EXPECT_PROBLEM(r, 409, "version_conflict");
    ck_assert_str_eq(str_field(r->json, "expected_version"), "exists");
    ck_assert_int_eq(response_int(r, "current_version"), -1);
    response_free(r);
    ck_assert_int_eq(stream_version(s), LLONG_MIN);

    /* "no_stream" on a new stream. */
    r = appendf(s, "{\"expected_version\":\"no_stream\",\"events\":[{\"type\":\"A\",\"data\":1}]}");
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 0);
    response_free(r);

    /* "no_stream" on an existing one. */
    r = appendf(s, "{\"expected_version\":\"no_stream\",\"events\":[{\"type\":\"A\",\"data\":1}]}");
    EXPECT_PROBLEM(r, 409, "version_conflict");
    ck_assert_str_eq(str_field(r->json, "expected_version"), "no_stream");
    ck_assert_int_eq(response_int(r, "current_version"), 0);
    response_free(r);

    /* "exists" and "any" on an existing one. */
    r = appendf(s, "{\"expected_version\":\"exists\",\"events\":[{\"type\":\"A\",\"data\":1}]}");
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 1);
    response_free(r);
    r = appendf(s, "{\"expected_version\":\"any\",\"events\":[{\"type\":\"A\",\"data\":1}]}");
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 2);
    response_free(r);

    /* "any" on a new stream, and the default (absent). */
    r = appendf(unique_name("s"), "{\"expected_version\":\"any\",\"events\":[{\"type\":\"A\",\"data\":1}]}");
    EXPECT_JSON(r, 201);
    response_free(r);
    ck_assert_int_eq(stream_version(s), 2);
}
END_TEST

START_TEST(expected_version_integer)
{
    const char *s = unique_name("s");
    struct response *r;

    /* -1 on a new stream. */
    r = appendf(s, "{\"expected_version\":-1,\"events\":[{\"type\":\"A\",\"data\":1},{\"type\":\"A\",\"data\":2}]}");
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "version"), 1);
    response_free(r);

    /* -1 on an existing stream. */
    r = appendf(s, "{\"expected_version\":-1,\"events\":[{\"type\":\"A\",\"data\":1}]}");
    EXPECT_PROBLEM(r, 409, "version_conflict");
    ck_assert_int_eq(response_int(r, "expected_version"), -1);
    ck_assert_int_eq(response_int(r, "current_version"), 1);
    response_free(r);

    /* Equal: written. */
    r = appendf(s, "{\"expected_version\":1,\"events\":[{\"type\":\"A\",\"data\":3}]}");
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 2);
    ck_assert_int_eq(response_int(r, "version"), 2);
    response_free(r);

    /* Behind and ahead: conflict with both versions, nothing written. */
    r = appendf(s, "{\"expected_version\":1,\"events\":[{\"type\":\"A\",\"data\":4}]}");
    EXPECT_PROBLEM(r, 409, "version_conflict");
    ck_assert_int_eq(response_int(r, "expected_version"), 1);
    ck_assert_int_eq(response_int(r, "current_version"), 2);
    response_free(r);
    r = appendf(s, "{\"expected_version\":7,\"events\":[{\"type\":\"A\",\"data\":4}]}");
    EXPECT_PROBLEM(r, 409, "version_conflict");
    ck_assert_int_eq(response_int(r, "expected_version"), 7);
    ck_assert_int_eq(response_int(r, "current_version"), 2);
    response_free(r);

    /* An integer on a stream that was never written. */
    r = appendf(unique_name("s"), "{\"expected_version\":0,\"events\":[{\"type\":\"A\",\"data\":4}]}");
    EXPECT_PROBLEM(r, 409, "version_conflict");
    ck_assert_int_eq(response_int(r, "expected_version"), 0);
    ck_assert_int_eq(response_int(r, "current_version"), -1);
    response_free(r);

    ck_assert_int_eq(stream_version(s), 2);
    ck_assert_int_eq(event_count(s), 3);
}
END_TEST

START_TEST(if_match_and_if_none_match_preconditions)
{
    const char *s = unique_name("s");
    const char *body = "{\"events\":[{\"type\":\"A\",\"data\":1}]}";
    struct response *r;

    /* If-None-Match: * on a new stream. */
    const char *none[] = {"If-None-Match: *", NULL};
    r = append_raw(s, body, none);
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 0);
    response_free(r);

    /* ... and on an existing one: 412 with the problem fields. */
    r = append_raw(s, body, none);
    EXPECT_PROBLEM(r, 412, "version_conflict");
    ck_assert_str_eq(str_field(r->json, "expected_version"), "no_stream");
    ck_assert_int_eq(response_int(r, "current_version"), 0);
    response_free(r);

    /* If-Match with the current version. */
    const char *match0[] = {"If-Match: \"0\"", NULL};
    r = append_raw(s, body, match0);
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 1);
    response_free(r);

    /* ... and with a stale one. */
    r = append_raw(s, body, match0);
    EXPECT_PROBLEM(r, 412, "version_conflict");
    ck_assert_int_eq(response_int(r, "expected_version"), 0);
    ck_assert_int_eq(response_int(r, "current_version"), 1);
    response_free(r);

    /* If-Match "-1" on a new stream. */
    const char *minus1[] = {"If-Match: \"-1\"", NULL};
    r = append_raw(unique_name("s"), body, minus1);
    EXPECT_JSON(r, 201);
    response_free(r);

    /* Header and body that agree. */
    const char *match1[] = {"If-Match: \"1\"", NULL};
    r = append_raw(s, "{\"expected_version\":1,\"events\":[{\"type\":\"A\",\"data\":1}]}", match1);
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 2);
    response_free(r);

    /* Header and body that disagree: 400, whatever the stream's version. */
    const char *match2[] = {"If-Match: \"2\"", NULL};
    EXPECT_PROBLEM_FREE(append_raw(s, "{\"expected_version\":5,\"events\":[{\"type\":\"A\",\"data\":1}]}", match2), 400,
                        "invalid_request");
    EXPECT_PROBLEM_FREE(
        append_raw(s, "{\"expected_version\":\"exists\",\"events\":[{\"type\":\"A\",\"data\":1}]}", none), 400,
        "invalid_request");

    /* Malformed If-Match values. */
    static const char *const malformed[] = {
        "If-Match: 2",            /* not quoted */
        "If-Match: \"abc\"",      /* not a number */
        "If-Match: W/\"2\"",      /* weak tag */
        "If-Match: \"\"",         /* empty */
        "If-Match: \"-2\"",       /* below -1 */
        "If-Match: \"2\", \"3\"", /* a list */
        "If-Match: \"+0\"",       /* a sign */
        "If-Match: \"01\"",       /* a leading zero */
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        const char *h[] = {malformed[i], NULL};
        r = append_raw(s, body, h);
        ck_assert_msg(r->status == 400, "%s: status %ld", malformed[i], r->status);
        EXPECT_PROBLEM(r, 400, "invalid_request");
        response_free(r);
    }
    ck_assert_int_eq(stream_version(s), 2);

    /* If-None-Match: * and expected_version -1 say the same thing. */
    const char *t = unique_name("s");
    const char *minus1_body = "{\"expected_version\":-1,\"events\":[{\"type\":\"A\",\"data\":1}]}";
    r = append_raw(t, minus1_body, none);
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 0);
    response_free(r);
    /* The body alone, now that the stream exists: the conflict shows -1 as it was sent. */
    r = append_raw(t, minus1_body, NULL);
    EXPECT_PROBLEM(r, 409, "version_conflict");
    const cJSON *shown = field(r->json, "expected_version");
    ck_assert_msg(cJSON_IsNumber(shown) && shown->valuedouble == -1, "expected_version: %s", r->body);
    ck_assert_int_eq(response_int(r, "current_version"), 0);
    response_free(r);
    ck_assert_int_eq(stream_version(t), 0);
    expect_healthy();
}
END_TEST

START_TEST(idempotent_retry_and_duplicate_ids)
{
    const char *s = unique_name("s");
    char a[37], b[37], c[37];
    new_uuid(a);
    new_uuid(b);
    new_uuid(c);
    const char *body = fmt("{\"expected_version\":\"no_stream\",\"events\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1},"
                           "{\"id\":\"%s\",\"type\":\"B\",\"data\":2}]}",
                           a, b);
    struct response *first = append_raw(s, body, NULL);
    EXPECT_JSON(first, 201);
    long long pos0 = int_field(cJSON_GetArrayItem(field(first->json, "events"), 0), "global_position");
    long long pos1 = int_field(cJSON_GetArrayItem(field(first->json, "events"), 1), "global_position");

    /* The same request again (its expected_version no longer holds): 200, the original answer. */
    for (int attempt = 0; attempt < 2; attempt++) {
        struct response *r = append_raw(s, body, NULL);
        EXPECT_JSON(r, 200);
        ck_assert_str_eq(str_field(r->json, "stream"), s);
        ck_assert_int_eq(response_int(r, "first_offset"), 0);
        ck_assert_int_eq(response_int(r, "last_offset"), 1);
        ck_assert_int_eq(response_int(r, "version"), 1);
        const cJSON *events = field(r->json, "events");
        ck_assert_int_eq(cJSON_GetArraySize(events), 2);
        ck_assert_str_eq(str_field(cJSON_GetArrayItem(events, 0), "id"), a);
        ck_assert_str_eq(str_field(cJSON_GetArrayItem(events, 1), "id"), b);
        ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 0), "offset"), 0);
        ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 1), "offset"), 1);
        ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 0), "global_position"), pos0);
        ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 1), "global_position"), pos1);
        response_free(r);
    }
    response_free(first);
    ck_assert_int_eq(stream_version(s), 1);
    ck_assert_int_eq(event_count(s), 2);

    /* The same ids in another order. */
    EXPECT_PROBLEM_FREE(appendf(s,
                                "{\"events\":[{\"id\":\"%s\",\"type\":\"B\",\"data\":2},"
                                "{\"id\":\"%s\",\"type\":\"A\",\"data\":1}]}",
                                b, a),
                        409, "duplicate_event_id");
    /* A written id together with a new one. */
    EXPECT_PROBLEM_FREE(appendf(s,
                                "{\"events\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1},"
                                "{\"id\":\"%s\",\"type\":\"C\",\"data\":3}]}",
                                a, c),
                        409, "duplicate_event_id");
    /* A written id on another stream. */
    const char *other = unique_name("s");
    EXPECT_PROBLEM_FREE(appendf(other, "{\"events\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1}]}", a), 409,
                        "duplicate_event_id");
    ck_assert_int_eq(stream_version(other), LLONG_MIN);
    /* The same id twice in one batch. */
    EXPECT_PROBLEM_FREE(appendf(s,
                                "{\"events\":[{\"id\":\"%s\",\"type\":\"C\",\"data\":3},"
                                "{\"id\":\"%s\",\"type\":\"C\",\"data\":3}]}",
                                c, c),
                        400, "invalid_request");

    /* Nothing of those was written: c is new, and goes at offset 2. */
    ck_assert_int_eq(stream_version(s), 1);
    struct response *r = appendf(s, "{\"events\":[{\"id\":\"%s\",\"type\":\"C\",\"data\":3}]}", c);
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 2);
    response_free(r);

    /* Ids written by two different appends, in order, are not one retry. */
    EXPECT_PROBLEM_FREE(appendf(s,
                                "{\"events\":[{\"id\":\"%s\",\"type\":\"B\",\"data\":2},"
                                "{\"id\":\"%s\",\"type\":\"C\",\"data\":3}]}",
                                b, c),
                        409, "duplicate_event_id");
    ck_assert_int_eq(stream_version(s), 2);
}
END_TEST

START_TEST(archived_stream_refuses_appends_until_unarchived)
{
    const char *s = unique_name("s");
    append_n(s, 2, "A");
    struct response *r = post_action(s, "archive");
    EXPECT_JSON(r, 200);
    response_free(r);

    EXPECT_PROBLEM_FREE(appendf(s, "{\"events\":[{\"type\":\"A\",\"data\":1}]}"), 409, "stream_archived");
    EXPECT_PROBLEM_FREE(appendf(s, "{\"expected_version\":1,\"events\":[{\"type\":\"A\",\"data\":1}]}"), 409,
                        "stream_archived");
    ck_assert_int_eq(stream_version(s), 1);
    /* Read-only, not gone. */
    ck_assert_int_eq(event_count(s), 2);

    r = post_action(s, "unarchive");
    EXPECT_JSON(r, 200);
    response_free(r);
    r = append_one(s, "A");
    ck_assert_int_eq(response_int(r, "first_offset"), 2);
    response_free(r);
}
END_TEST

START_TEST(failed_append_leaves_no_trace)
{
    const char *s = unique_name("s");
    append_n(s, 3, "A");
    char fresh_id[37], taken[37];
    new_uuid(fresh_id);
    new_uuid(taken);
    struct response *r = appendf(unique_name("s"), "{\"events\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1}]}", taken);
    EXPECT_JSON(r, 201);
    response_free(r);

    /* A conflicting batch. */
    EXPECT_PROBLEM_FREE(appendf(s, "{\"expected_version\":0,\"events\":[{\"type\":\"X\",\"data\":1},"
                                   "{\"type\":\"X\",\"data\":2},{\"type\":\"X\",\"data\":3}]}"),
                        409, "version_conflict");
    /* A batch whose middle event is bad. */
    EXPECT_PROBLEM_FREE(
        appendf(s, "{\"events\":[{\"type\":\"X\",\"data\":1},{\"data\":2},{\"type\":\"X\",\"data\":3}]}"), 400,
        "invalid_request");
    /* A batch whose middle event's id is taken elsewhere. */
    EXPECT_PROBLEM_FREE(appendf(s,
                                "{\"events\":[{\"id\":\"%s\",\"type\":\"X\",\"data\":1},"
                                "{\"id\":\"%s\",\"type\":\"X\",\"data\":2},{\"type\":\"X\",\"data\":3}]}",
                                fresh_id, taken),
                        409, "duplicate_event_id");

    ck_assert_int_eq(stream_version(s), 2);
    r = get("/streams/%s/events?type=X", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 0);
    response_free(r);
    r = get("/streams/%s", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(response_int(r, "length"), 3);
    ck_assert_int_eq(response_int(r, "last_offset"), 2);
    response_free(r);

    /* The next append gets the next offset, and the untouched id is still free (201, not a retry). */
    r = appendf(s, "{\"events\":[{\"id\":\"%s\",\"type\":\"X\",\"data\":1}]}", fresh_id);
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 3);
    ck_assert_int_eq(response_int(r, "version"), 3);
    response_free(r);
}
END_TEST

static Suite *events_append_suite(void)
{
    Suite *s = suite_create("events-append");
    TCase *tc = tcase_create("append");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, append_returns_offsets_ids_and_positions);
    tcase_add_test(tc, append_accepts_a_full_batch_and_200_char_type);
    tcase_add_test(tc, expected_version_any_no_stream_exists);
    tcase_add_test(tc, expected_version_integer);
    tcase_add_test(tc, if_match_and_if_none_match_preconditions);
    tcase_add_test(tc, idempotent_retry_and_duplicate_ids);
    tcase_add_test(tc, archived_stream_refuses_appends_until_unarchived);
    tcase_add_test(tc, failed_append_leaves_no_trace);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return streams_fixtures_main(events_append_suite());
}
