/* Events: append with optimistic concurrency and idempotent retry, per-stream
 * reads (JSON pages and NDJSON export), one event by offset, and the global
 * read (routes/events.c). The service runs with small limits (see
 * streams_fixtures.h) so that batch, body and export paging edges are cheap to reach. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "streams_fixtures.h"

/* ------------------------------------------------------------ helpers */

static bool is_uuid(const char *s)
{
    return matches("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", s);
}

/* A fresh random UUID (v4) written into `out`. */
static void new_uuid(char out[37])
{
    static unsigned seed;
    if (!seed)
        seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    unsigned char b[16];
    for (int i = 0; i < 16; i++)
        b[i] = (unsigned char)(rand_r(&seed) >> 3);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* A copy of unique_name(prefix) that survives later unique_name calls. */
static char *fresh(const char *prefix)
{
    return strdup(unique_name(prefix));
}

/* The stream's version from GET /streams/{s}; LLONG_MIN when it is 404. */
static long long stream_version(const char *stream)
{
    struct response *r = get("/streams/%s", stream);
    long long v = LLONG_MIN;
    if (r->status == 404) {
        expect_problem(r, 404, "stream_not_found");
    } else {
        expect_json(r, 200);
        v = response_int(r, "version");
    }
    response_free(r);
    return v;
}

/* Number of events a forward read returns (limit 1000). */
static int event_count(const char *stream)
{
    struct response *r = get("/streams/%s/events?limit=1000", stream);
    expect_json(r, 200);
    int n = cJSON_GetArraySize(field(r->json, "events"));
    response_free(r);
    return n;
}

/* Checks the members every event carries (reads, one event, global read). */
static void expect_event_shape(const cJSON *ev, const char *stream)
{
    ck_assert(cJSON_IsObject(ev));
    ck_assert(is_uuid(str_field(ev, "id")));
    if (stream)
        ck_assert_str_eq(str_field(ev, "stream"), stream);
    else
        ck_assert(cJSON_IsString(field(ev, "stream")));
    ck_assert_int_ge(int_field(ev, "offset"), 0);
    ck_assert_int_ge(int_field(ev, "global_position"), 0);
    ck_assert_int_lt(int_field(ev, "global_position"), 9007199254740992LL);
    ck_assert_uint_gt(strlen(str_field(ev, "type")), 0);
    (void)field(ev, "data");
    const cJSON *meta = field(ev, "metadata");
    ck_assert(cJSON_IsNull(meta) || cJSON_IsObject(meta));
    ck_assert_msg(is_timestamp(str_field(ev, "created_at")), "created_at %s", str_field(ev, "created_at"));
}

/* ------------------------------------------------------------- append */

START_TEST(append_returns_offsets_ids_and_positions)
{
    const char *s = unique_name("s");
    struct response *r = appendf(s, "{\"events\":[{\"type\":\"A\",\"data\":{\"n\":1}},{\"type\":\"B\",\"data\":2}]}");
    expect_json(r, 201);
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
    expect_json(r, 201);
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
    expect_json(r, 201);
    response_free(r);
    /* 200 characters of two bytes each are still 200 characters. */
    char *wide = malloc(401);
    for (int i = 0; i < 200; i++)
        memcpy(wide + 2 * i, "\xc3\xa9", 2);
    wide[400] = '\0';
    r = appendf(s, "{\"events\":[{\"type\":\"%s\",\"data\":null}]}", wide);
    expect_json(r, 201);
    response_free(r);
    r = get("/streams/%s/events/%d", s, MAX_BATCH + 1);
    expect_json(r, 200);
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
    expect_problem(r, 409, "version_conflict");
    ck_assert_str_eq(str_field(r->json, "expected_version"), "exists");
    ck_assert_int_eq(response_int(r, "current_version"), -1);
    response_free(r);
    ck_assert_int_eq(stream_version(s), LLONG_MIN);

    /* "no_stream" on a new stream. */
    r = appendf(s, "{\"expected_version\":\"no_stream\",\"events\":[{\"type\":\"A\",\"data\":1}]}");
    expect_json(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 0);
    response_free(r);

    /* "no_stream" on an existing one. */
    r = appendf(s, "{\"expected_version\":\"no_stream\",\"events\":[{\"type\":\"A\",\"data\":1}]}");
    expect_problem(r, 409, "version_conflict");
    ck_assert_str_eq(str_field(r->json, "expected_version"), "no_stream");
    ck_assert_int_eq(response_int(r, "current_version"), 0);
    response_free(r);

    /* "exists" and "any" on an existing one. */
    r = appendf(s, "{\"expected_version\":\"exists\",\"events\":[{\"type\":\"A\",\"data\":1}]}");
    expect_json(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 1);
    response_free(r);
    r = appendf(s, "{\"expected_version\":\"any\",\"events\":[{\"type\":\"A\",\"data\":1}]}");
    expect_json(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 2);
    response_free(r);

    /* "any" on a new stream, and the default (absent). */
    r = appendf(unique_name("s"), "{\"expected_version\":\"any\",\"events\":[{\"type\":\"A\",\"data\":1}]}");
    expect_json(r, 201);
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
    expect_json(r, 201);
    ck_assert_int_eq(response_int(r, "version"), 1);
    response_free(r);

    /* -1 on an existing stream. */
    r = appendf(s, "{\"expected_version\":-1,\"events\":[{\"type\":\"A\",\"data\":1}]}");
    expect_problem(r, 409, "version_conflict");
    ck_assert_int_eq(response_int(r, "expected_version"), -1);
    ck_assert_int_eq(response_int(r, "current_version"), 1);
    response_free(r);

    /* Equal: written. */
    r = appendf(s, "{\"expected_version\":1,\"events\":[{\"type\":\"A\",\"data\":3}]}");
    expect_json(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 2);
    ck_assert_int_eq(response_int(r, "version"), 2);
    response_free(r);

    /* Behind and ahead: conflict with both versions, nothing written. */
    r = appendf(s, "{\"expected_version\":1,\"events\":[{\"type\":\"A\",\"data\":4}]}");
    expect_problem(r, 409, "version_conflict");
    ck_assert_int_eq(response_int(r, "expected_version"), 1);
    ck_assert_int_eq(response_int(r, "current_version"), 2);
    response_free(r);
    r = appendf(s, "{\"expected_version\":7,\"events\":[{\"type\":\"A\",\"data\":4}]}");
    expect_problem(r, 409, "version_conflict");
    ck_assert_int_eq(response_int(r, "expected_version"), 7);
    ck_assert_int_eq(response_int(r, "current_version"), 2);
    response_free(r);

    /* An integer on a stream that was never written. */
    r = appendf(unique_name("s"), "{\"expected_version\":0,\"events\":[{\"type\":\"A\",\"data\":4}]}");
    expect_problem(r, 409, "version_conflict");
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
    expect_json(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 0);
    response_free(r);

    /* ... and on an existing one: 412 with the problem fields. */
    r = append_raw(s, body, none);
    expect_problem(r, 412, "version_conflict");
    ck_assert_str_eq(str_field(r->json, "expected_version"), "no_stream");
    ck_assert_int_eq(response_int(r, "current_version"), 0);
    response_free(r);

    /* If-Match with the current version. */
    const char *match0[] = {"If-Match: \"0\"", NULL};
    r = append_raw(s, body, match0);
    expect_json(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 1);
    response_free(r);

    /* ... and with a stale one. */
    r = append_raw(s, body, match0);
    expect_problem(r, 412, "version_conflict");
    ck_assert_int_eq(response_int(r, "expected_version"), 0);
    ck_assert_int_eq(response_int(r, "current_version"), 1);
    response_free(r);

    /* If-Match "-1" on a new stream. */
    const char *minus1[] = {"If-Match: \"-1\"", NULL};
    r = append_raw(unique_name("s"), body, minus1);
    expect_json(r, 201);
    response_free(r);

    /* Header and body that agree. */
    const char *match1[] = {"If-Match: \"1\"", NULL};
    r = append_raw(s, "{\"expected_version\":1,\"events\":[{\"type\":\"A\",\"data\":1}]}", match1);
    expect_json(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 2);
    response_free(r);

    /* Header and body that disagree: 400, whatever the stream's version. */
    const char *match2[] = {"If-Match: \"2\"", NULL};
    expect_problem_free(append_raw(s, "{\"expected_version\":5,\"events\":[{\"type\":\"A\",\"data\":1}]}", match2),
                        400, "invalid_request");
    expect_problem_free(
        append_raw(s, "{\"expected_version\":\"exists\",\"events\":[{\"type\":\"A\",\"data\":1}]}", none), 400,
        "invalid_request");

    /* Malformed If-Match values. */
    static const char *const malformed[] = {
        "If-Match: 2",         /* not quoted */
        "If-Match: \"abc\"",   /* not a number */
        "If-Match: W/\"2\"",   /* weak tag */
        "If-Match: \"\"",      /* empty */
        "If-Match: \"-2\"",    /* below -1 */
        "If-Match: \"2\", \"3\"", /* a list */
        "If-Match: \"+0\"",    /* a sign */
        "If-Match: \"01\"",    /* a leading zero */
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        const char *h[] = {malformed[i], NULL};
        r = append_raw(s, body, h);
        ck_assert_msg(r->status == 400, "%s: status %ld", malformed[i], r->status);
        expect_problem(r, 400, "invalid_request");
        response_free(r);
    }
    ck_assert_int_eq(stream_version(s), 2);

    /* If-None-Match: * and expected_version -1 say the same thing. */
    const char *t = unique_name("s");
    const char *minus1_body = "{\"expected_version\":-1,\"events\":[{\"type\":\"A\",\"data\":1}]}";
    r = append_raw(t, minus1_body, none);
    expect_json(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 0);
    response_free(r);
    /* The body alone, now that the stream exists: the conflict shows -1 as it was sent. */
    r = append_raw(t, minus1_body, NULL);
    expect_problem(r, 409, "version_conflict");
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
    char *body = format("{\"expected_version\":\"no_stream\",\"events\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1},"
                        "{\"id\":\"%s\",\"type\":\"B\",\"data\":2}]}",
                        a, b);
    struct response *first = append_raw(s, body, NULL);
    expect_json(first, 201);
    long long pos0 = int_field(cJSON_GetArrayItem(field(first->json, "events"), 0), "global_position");
    long long pos1 = int_field(cJSON_GetArrayItem(field(first->json, "events"), 1), "global_position");

    /* The same request again (its expected_version no longer holds): 200, the original answer. */
    for (int attempt = 0; attempt < 2; attempt++) {
        struct response *r = append_raw(s, body, NULL);
        expect_json(r, 200);
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
    free(body);
    ck_assert_int_eq(stream_version(s), 1);
    ck_assert_int_eq(event_count(s), 2);

    /* The same ids in another order. */
    expect_problem_free(appendf(s,
                                "{\"events\":[{\"id\":\"%s\",\"type\":\"B\",\"data\":2},"
                                "{\"id\":\"%s\",\"type\":\"A\",\"data\":1}]}",
                                b, a),
                        409, "duplicate_event_id");
    /* A written id together with a new one. */
    expect_problem_free(appendf(s,
                                "{\"events\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1},"
                                "{\"id\":\"%s\",\"type\":\"C\",\"data\":3}]}",
                                a, c),
                        409, "duplicate_event_id");
    /* A written id on another stream. */
    const char *other = unique_name("s");
    expect_problem_free(appendf(other, "{\"events\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1}]}", a), 409,
                        "duplicate_event_id");
    ck_assert_int_eq(stream_version(other), LLONG_MIN);
    /* The same id twice in one batch. */
    expect_problem_free(appendf(s,
                                "{\"events\":[{\"id\":\"%s\",\"type\":\"C\",\"data\":3},"
                                "{\"id\":\"%s\",\"type\":\"C\",\"data\":3}]}",
                                c, c),
                        400, "invalid_request");

    /* Nothing of those was written: c is new, and goes at offset 2. */
    ck_assert_int_eq(stream_version(s), 1);
    struct response *r = appendf(s, "{\"events\":[{\"id\":\"%s\",\"type\":\"C\",\"data\":3}]}", c);
    expect_json(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 2);
    response_free(r);

    /* Ids written by two different appends, in order, are not one retry. */
    expect_problem_free(appendf(s,
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
    expect_json(r, 200);
    response_free(r);

    expect_problem_free(appendf(s, "{\"events\":[{\"type\":\"A\",\"data\":1}]}"), 409, "stream_archived");
    expect_problem_free(appendf(s, "{\"expected_version\":1,\"events\":[{\"type\":\"A\",\"data\":1}]}"), 409,
                        "stream_archived");
    ck_assert_int_eq(stream_version(s), 1);
    /* Read-only, not gone. */
    ck_assert_int_eq(event_count(s), 2);

    r = post_action(s, "unarchive");
    expect_json(r, 200);
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
    expect_json(r, 201);
    response_free(r);

    /* A conflicting batch. */
    expect_problem_free(appendf(s,
                                "{\"expected_version\":0,\"events\":[{\"type\":\"X\",\"data\":1},"
                                "{\"type\":\"X\",\"data\":2},{\"type\":\"X\",\"data\":3}]}"),
                        409, "version_conflict");
    /* A batch whose middle event is bad. */
    expect_problem_free(
        appendf(s, "{\"events\":[{\"type\":\"X\",\"data\":1},{\"data\":2},{\"type\":\"X\",\"data\":3}]}"), 400,
        "invalid_request");
    /* A batch whose middle event's id is taken elsewhere. */
    expect_problem_free(appendf(s,
                                "{\"events\":[{\"id\":\"%s\",\"type\":\"X\",\"data\":1},"
                                "{\"id\":\"%s\",\"type\":\"X\",\"data\":2},{\"type\":\"X\",\"data\":3}]}",
                                fresh_id, taken),
                        409, "duplicate_event_id");

    ck_assert_int_eq(stream_version(s), 2);
    r = get("/streams/%s/events?type=X", s);
    expect_json(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 0);
    response_free(r);
    r = get("/streams/%s", s);
    expect_json(r, 200);
    ck_assert_int_eq(response_int(r, "length"), 3);
    ck_assert_int_eq(response_int(r, "last_offset"), 2);
    response_free(r);

    /* The next append gets the next offset, and the untouched id is still free (201, not a retry). */
    r = appendf(s, "{\"events\":[{\"id\":\"%s\",\"type\":\"X\",\"data\":1}]}", fresh_id);
    expect_json(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 3);
    ck_assert_int_eq(response_int(r, "version"), 3);
    response_free(r);
}
END_TEST

/* --------------------------------------------------------- bad input */

START_TEST(bad_append_bodies_are_400_and_change_nothing)
{
    const char *s = unique_name("s");
    char *never = fresh("s");
    append_n(s, 1, "A");

    char over_type[202];
    memset(over_type, 'T', 201);
    over_type[201] = '\0';
    char *long_type = format("{\"events\":[{\"type\":\"%s\",\"data\":1}]}", over_type);
    char *wide_type = malloc(2 * 201 + 64);
    strcpy(wide_type, "{\"events\":[{\"type\":\"");
    for (int i = 0; i < 201; i++)
        strcat(wide_type, "\xc3\xa9");
    strcat(wide_type, "\",\"data\":1}]}");
    /* MAX_BATCH + 1 events. */
    char *too_many = malloc(64 + (MAX_BATCH + 1) * 32);
    strcpy(too_many, "{\"events\":[");
    for (int i = 0; i <= MAX_BATCH; i++)
        strcat(too_many, i ? ",{\"type\":\"A\",\"data\":1}" : "{\"type\":\"A\",\"data\":1}");
    strcat(too_many, "]}");

    struct {
        const char *body;
        const char *code;
    } cases[] = {
        {"{\"events\":[{\"type\":\"A\",\"data\":1}]", "invalid_json"},        /* truncated */
        {"not json", "invalid_json"},                                         /* not JSON */
        {"{\"events\":[{\"type\":\"A\",\"data\":1}]} x", "invalid_json"},     /* trailing garbage */
        {"{\"events\":[{\"type\":\"A\",\"data\":\"\xff\xfe\"}]}", "invalid_json"}, /* not UTF-8 */
        {"{\"events\":[{\"type\":\"A\",\"data\":\"\xc3\"}]}", "invalid_json"},     /* cut UTF-8 sequence */
        /* Well-formed JSON that is not an object is a bad request, not bad JSON. */
        {"[{\"type\":\"A\",\"data\":1}]", "invalid_request"},                 /* an array */
        {"[1]", "invalid_request"},                                           /* an array */
        {"\"events\"", "invalid_request"},                                    /* a string */
        {"\"x\"", "invalid_request"},                                         /* a string */
        {"null", "invalid_request"},                                          /* null */
        {"42", "invalid_request"},                                            /* a number */
        {"{}", "invalid_request"},                                            /* events missing */
        {"{\"events\":null}", "invalid_request"},                             /* events null */
        {"{\"events\":[]}", "invalid_request"},                               /* empty */
        {"{\"events\":{\"type\":\"A\",\"data\":1}}", "invalid_request"},      /* not an array */
        {"{\"events\":\"A\"}", "invalid_request"},                            /* not an array */
        {too_many, "invalid_request"},                                        /* over max batch */
        {"{\"events\":[1]}", "invalid_request"},                              /* event not an object */
        {"{\"events\":[{\"data\":1}]}", "invalid_request"},                   /* type missing */
        {"{\"events\":[{\"type\":\"\",\"data\":1}]}", "invalid_request"},     /* type empty */
        {"{\"events\":[{\"type\":null,\"data\":1}]}", "invalid_request"},     /* type null */
        {long_type, "invalid_request"},                                       /* type 201 chars */
        {wide_type, "invalid_request"},                                       /* type 201 two-byte chars */
        {"{\"events\":[{\"type\":5,\"data\":1}]}", "invalid_request"},        /* type a number */
        {"{\"events\":[{\"type\":[\"A\"],\"data\":1}]}", "invalid_request"},  /* type an array */
        {"{\"events\":[{\"type\":\"A\"}]}", "invalid_request"},               /* data missing */
        {"{\"events\":[{\"type\":\"A\",\"data\":\"a\\u0000b\"}]}", "invalid_request"}, /* \u0000 in data */
        {"{\"events\":[{\"type\":\"A\",\"data\":1,\"metadata\":[1]}]}", "invalid_request"}, /* metadata array */
        {"{\"events\":[{\"type\":\"A\",\"data\":1,\"metadata\":\"m\"}]}", "invalid_request"}, /* metadata string */
        {"{\"events\":[{\"type\":\"A\",\"data\":1,\"metadata\":7}]}", "invalid_request"},   /* metadata number */
        {"{\"events\":[{\"id\":\"not-a-uuid\",\"type\":\"A\",\"data\":1}]}", "invalid_request"}, /* id */
        {"{\"events\":[{\"id\":\"\",\"type\":\"A\",\"data\":1}]}", "invalid_request"},         /* id empty */
        {"{\"events\":[{\"id\":42,\"type\":\"A\",\"data\":1}]}", "invalid_request"},           /* id number */
        {"{\"events\":[{\"id\":\"0b9a4a6e-3b55-4c1e-9f3c-2f1f4f0c7a1\",\"type\":\"A\",\"data\":1}]}",
         "invalid_request"}, /* id one digit short */
        {"{\"events\":[{\"id\":\"0b9a4a6e-3b55-4c1e-9f3c-2f1f4f0c7a11x\",\"type\":\"A\",\"data\":1}]}",
         "invalid_request"}, /* id one char long */
        {"{\"expected_version\":1.5,\"events\":[{\"type\":\"A\",\"data\":1}]}", "invalid_request"},
        {"{\"expected_version\":true,\"events\":[{\"type\":\"A\",\"data\":1}]}", "invalid_request"},
        {"{\"expected_version\":\"sometimes\",\"events\":[{\"type\":\"A\",\"data\":1}]}", "invalid_request"},
        {"{\"expected_version\":\"ANY\",\"events\":[{\"type\":\"A\",\"data\":1}]}", "invalid_request"},
        {"{\"expected_version\":\"0\",\"events\":[{\"type\":\"A\",\"data\":1}]}", "invalid_request"},
        {"{\"expected_version\":-2,\"events\":[{\"type\":\"A\",\"data\":1}]}", "invalid_request"},
        {"{\"expected_version\":[0],\"events\":[{\"type\":\"A\",\"data\":1}]}", "invalid_request"},
        {"{\"expected_version\":{},\"events\":[{\"type\":\"A\",\"data\":1}]}", "invalid_request"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *targets[] = {s, never};
        for (int t = 0; t < 2; t++) {
            struct response *r = append_raw(targets[t], cases[i].body, NULL);
            ck_assert_msg(r->status == 400, "case %zu (%.60s): status %ld; %s", i, cases[i].body, r->status,
                          r->body);
            expect_problem(r, 400, cases[i].code);
            response_free(r);
        }
    }
    ck_assert_int_eq(stream_version(s), 0);
    ck_assert_int_eq(event_count(s), 1);
    ck_assert_int_eq(stream_version(never), LLONG_MIN);
    expect_healthy();
    free(long_type);
    free(wide_type);
    free(too_many);
    free(never);
}
END_TEST

START_TEST(body_over_limit_is_413_and_under_limit_is_accepted)
{
    const char *s = unique_name("s");
    append_n(s, 1, "A");
    size_t n = MAX_BODY + 100;
    char *pad = malloc(n + 1);
    memset(pad, 'x', n);
    pad[n] = '\0';
    expect_problem_free(appendf(s, "{\"events\":[{\"type\":\"Big\",\"data\":\"%s\"}]}", pad), 413,
                        "payload_too_large");
    ck_assert_int_eq(stream_version(s), 0);
    expect_healthy();

    /* Just under the limit is fine. */
    pad[MAX_BODY - 200] = '\0';
    struct response *r = appendf(s, "{\"events\":[{\"type\":\"Big\",\"data\":\"%s\"}]}", pad);
    expect_json(r, 201);
    response_free(r);
    r = get("/streams/%s/events/1", s);
    expect_json(r, 200);
    ck_assert_str_eq(str_field(r->json, "data"), pad);
    response_free(r);
    free(pad);
}
END_TEST

START_TEST(names_are_checked)
{
    struct response *r;
    /* 200 characters: fine, and the name comes back as given. */
    char name[202];
    snprintf(name, sizeof name, "%s-", unique_name("s"));
    size_t len = strlen(name);
    memset(name + len, 'n', 200 - len);
    name[200] = '\0';
    r = append_one(name, "A");
    ck_assert_str_eq(str_field(r->json, "stream"), name);
    response_free(r);
    r = get("/streams/%s", name);
    expect_json(r, 200);
    ck_assert_str_eq(str_field(r->json, "stream"), name);
    response_free(r);

    /* 201 characters. */
    name[200] = 'n';
    name[201] = '\0';
    expect_problem_free(appendf(name, "{\"events\":[{\"type\":\"A\",\"data\":1}]}"), 400, "invalid_name");
    expect_problem_free(get("/streams/%s", name), 400, "invalid_name");
    expect_problem_free(get("/streams/%s/events", name), 400, "invalid_name");

    /* Names are percent-decoded: an encoded valid name is the same stream. */
    const char *plain = unique_name("s");
    r = append_one(plain, "A");
    response_free(r);
    r = get("/streams/%%%02X%s", (unsigned char)plain[0], plain + 1);
    expect_json(r, 200);
    ck_assert_str_eq(str_field(r->json, "stream"), plain);
    response_free(r);

    static const char *const bad[] = {
        "%2F..%2Fx",                           /* encoded slashes */
        "a%2Fb",                               /* encoded slash */
        "%27%3B%20drop%20table%20streams%3B--", /* '; drop table streams;-- */
        "..",                                  /* dot-dot */
        ".",                                   /* dot */
        "%2E%2E",                              /* encoded dot-dot */
        "a%20b",                               /* space */
        "caf%C3%A9",                           /* non-ASCII */
        "a%00b",                               /* NUL */
        "a%ZZ",                                /* malformed escape */
        "a*b",                                 /* not in the alphabet */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *path = format("/streams/%s/events", bad[i]);
        r = http(&svc, "POST", path, "{\"events\":[{\"type\":\"A\",\"data\":1}]}", NULL);
        ck_assert_msg(r->status == 400, "POST %s: %ld %s", path, r->status, r->body);
        expect_problem(r, 400, "invalid_name");
        response_free(r);
        r = http(&svc, "GET", path, NULL, NULL);
        ck_assert_msg(r->status == 400, "GET %s: %ld %s", path, r->status, r->body);
        expect_problem(r, 400, "invalid_name");
        response_free(r);
        free(path);
        path = format("/streams/%s", bad[i]);
        r = http(&svc, "GET", path, NULL, NULL);
        ck_assert_msg(r->status == 400, "GET %s: %ld %s", path, r->status, r->body);
        expect_problem(r, 400, "invalid_name");
        response_free(r);
        free(path);
    }
    expect_healthy();
    /* The service still serves streams after all that. */
    r = append_one(unique_name("s"), "A");
    response_free(r);
    r = get("/streams?limit=1");
    expect_json(r, 200);
    response_free(r);
}
END_TEST

/* --------------------------------------------------------------- read */

START_TEST(read_returns_events_with_their_data)
{
    const char *s = unique_name("s");
    const char *datas[] = {
        "{\"order\":{\"id\":7,\"lines\":[{\"sku\":\"a\",\"qty\":2}],\"paid\":true}}",
        "[1,\"two\",3.5,null,{\"k\":[]}]",
        "\"just a string with \\\"quotes\\\", a \\\\ and \\n and caf\xc3\xa9 \xe2\x98\x83\"",
        "-12.25",
        "null",
        "false",
        "{}",
    };
    const size_t n = sizeof datas / sizeof datas[0];
    char ids[7][37];
    char *body = strdup("{\"events\":[");
    for (size_t i = 0; i < n; i++) {
        new_uuid(ids[i]);
        char *next = format("%s%s{\"id\":\"%s\",\"type\":\"T%zu\",\"data\":%s%s}", body, i ? "," : "", ids[i], i,
                            datas[i], i == 0 ? ",\"metadata\":{\"correlation\":\"c-1\",\"n\":[1,2]}" : "");
        free(body);
        body = next;
    }
    char *full = format("%s]}", body);
    free(body);
    struct response *r = append_raw(s, full, NULL);
    free(full);
    expect_json(r, 201);
    response_free(r);

    r = get("/streams/%s/events", s);
    expect_json(r, 200);
    ck_assert_str_eq(str_field(r->json, "stream"), s);
    ck_assert_int_eq(response_int(r, "next_offset"), (long long)n);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    const cJSON *events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), (int)n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *ev = cJSON_GetArrayItem(events, (int)i);
        expect_event_shape(ev, s);
        ck_assert_str_eq(str_field(ev, "id"), ids[i]);
        ck_assert_int_eq(int_field(ev, "offset"), (long long)i);
        char type[8];
        snprintf(type, sizeof type, "T%zu", i);
        ck_assert_str_eq(str_field(ev, "type"), type);
        cJSON *want = cJSON_Parse(datas[i]);
        ck_assert_ptr_nonnull(want);
        ck_assert_msg(cJSON_Compare(want, field(ev, "data"), true), "event %zu: data %s, sent %s", i,
                      cJSON_PrintUnformatted(field(ev, "data")), datas[i]);
        cJSON_Delete(want);
        if (i == 0) {
            cJSON *meta = cJSON_Parse("{\"correlation\":\"c-1\",\"n\":[1,2]}");
            ck_assert(cJSON_Compare(meta, field(ev, "metadata"), true));
            cJSON_Delete(meta);
        } else {
            ck_assert(cJSON_IsNull(field(ev, "metadata")));
        }
        if (i > 0)
            ck_assert_int_gt(int_field(ev, "global_position"),
                             int_field(cJSON_GetArrayItem(events, (int)i - 1), "global_position"));
    }
    response_free(r);

    /* The same event by offset. */
    r = get("/streams/%s/events/1", s);
    expect_json(r, 200);
    expect_event_shape(r->json, s);
    ck_assert_str_eq(str_field(r->json, "id"), ids[1]);
    ck_assert_int_eq(response_int(r, "offset"), 1);
    ck_assert_str_eq(str_field(r->json, "type"), "T1");
    cJSON *want = cJSON_Parse(datas[1]);
    ck_assert(cJSON_Compare(want, field(r->json, "data"), true));
    cJSON_Delete(want);
    response_free(r);
}
END_TEST

START_TEST(read_returns_numbers_exactly_as_appended)
{
    /* cJSON holds numbers as doubles, so only the raw body shows whether digits were kept. */
    const char *s = unique_name("s");
    struct response *r = appendf(s, "{\"events\":[{\"type\":\"N\",\"data\":{\"big\":9007199254740991,"
                                    "\"frac\":0.30000000000000004,\"neg\":-0.5e-300}}]}");
    expect_json(r, 201);
    response_free(r);
    const char *nd[] = {"Accept: application/x-ndjson", NULL};
    char *path = format("/streams/%s/events", s);
    struct response *reads[] = {
        get("/streams/%s/events/0", s),      /* one event */
        http(&svc, "GET", path, NULL, NULL), /* a page */
        http(&svc, "GET", path, NULL, nd),   /* an export: one line, the event */
    };
    for (int i = 0; i < 3; i++) {
        r = reads[i];
        ck_assert_int_eq(r->status, 200);
        ck_assert_msg(matches("\"big\": ?9007199254740991[,}]", r->body), "big: %s", r->body);
        ck_assert_msg(matches("\"frac\": ?0\\.30000000000000004[,}]", r->body), "frac: %s", r->body);
        const cJSON *ev = i == 1 ? cJSON_GetArrayItem(field(r->json, "events"), 0) : r->json;
        const cJSON *neg = field(field(ev, "data"), "neg");
        ck_assert_msg(cJSON_IsNumber(neg) && neg->valuedouble == -0.5e-300, "neg: %s", r->body);
        response_free(r);
    }
    free(path);
}
END_TEST

START_TEST(read_from_limit_and_direction)
{
    const char *s = unique_name("s");
    append_n(s, 25, "A");
    struct response *r;

    r = get("/streams/%s/events?from=5&limit=3", s);
    expect_json(r, 200);
    const cJSON *events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, i), "offset"), 5 + i);
    ck_assert_int_eq(response_int(r, "next_offset"), 8);
    ck_assert(cJSON_IsFalse(field(r->json, "end_of_stream")));
    response_free(r);

    r = get("/streams/%s/events?limit=1", s);
    expect_json(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 1);
    ck_assert_int_eq(response_int(r, "next_offset"), 1);
    response_free(r);

    r = get("/streams/%s/events?limit=1000", s);
    expect_json(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 25);
    ck_assert_int_eq(response_int(r, "next_offset"), 25);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    response_free(r);

    /* Past the end: nothing, at the end. */
    r = get("/streams/%s/events?from=25", s);
    expect_json(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 0);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    response_free(r);

    /* Backward from the last by default, descending. */
    r = get("/streams/%s/events?direction=backward&limit=4", s);
    expect_json(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, i), "offset"), 24 - i);
    ck_assert_int_eq(response_int(r, "next_offset"), 20);
    ck_assert(cJSON_IsFalse(field(r->json, "end_of_stream")));
    response_free(r);

    r = get("/streams/%s/events?direction=backward&from=5&limit=3", s);
    expect_json(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, i), "offset"), 5 - i);
    ck_assert_int_eq(response_int(r, "next_offset"), 2);
    response_free(r);

    r = get("/streams/%s/events?direction=backward&from=1&limit=10", s);
    expect_json(r, 200);
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
        expect_json(r, 200);
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
    expect_json(r, 200);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(field(r->json, "events"), 0), "offset"), 0);
    response_free(r);

    static const char *const bad[] = {
        "limit=0", "limit=1001", "limit=x", "limit=-1", "limit=", "limit=1.5",
        "from=-1", "from=x", "from=1.5", "direction=sideways", "direction=", "direction=BACKWARD",
        "since=yesterday", "until=2026-13-01T00:00:00Z", "since=2026-11-24", "until=10:00:00Z",
        "since=2026-02-30T00:00:00Z", "type=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = get("/streams/%s/events?%s", s, bad[i]);
        ck_assert_msg(r->status == 400, "%s: %ld %s", bad[i], r->status, r->body);
        expect_problem(r, 400, "invalid_parameter");
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
        expect_json(r, 200);
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
    expect_json(r, 200);
    const cJSON *events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 2);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 0), "offset"), 1);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 1), "offset"), 3);
    response_free(r);

    r = get("/streams/%s/events?type=Placed,Shipped,Cancelled", s);
    expect_json(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 3);
    ck_assert_str_eq(str_field(cJSON_GetArrayItem(events, 0), "type"), "Placed");
    ck_assert_str_eq(str_field(cJSON_GetArrayItem(events, 1), "type"), "Shipped");
    ck_assert_str_eq(str_field(cJSON_GetArrayItem(events, 2), "type"), "Cancelled");
    response_free(r);

    r = get("/streams/%s/events?type=Paid&direction=backward", s);
    expect_json(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 2);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 0), "offset"), 3);
    response_free(r);

    r = get("/streams/%s/events?type=Nothing", s);
    expect_json(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 0);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    response_free(r);

    /* Paging through a filtered selection. */
    r = get("/streams/%s/events?type=Paid&limit=1", s);
    expect_json(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 1);
    long long next = response_int(r, "next_offset");
    response_free(r);
    r = get("/streams/%s/events?type=Paid&limit=1&from=%lld", s, next);
    expect_json(r, 200);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(field(r->json, "events"), 0), "offset"), 3);
    response_free(r);

    /* since (inclusive) and until (exclusive) on created_at. */
    char at[5][40];
    r = get("/streams/%s/events", s);
    expect_json(r, 200);
    for (int i = 0; i < 5; i++)
        snprintf(at[i], sizeof at[i], "%s", str_field(cJSON_GetArrayItem(field(r->json, "events"), i), "created_at"));
    response_free(r);
    for (int i = 1; i < 5; i++)
        ck_assert_str_gt(at[i], at[i - 1]);

    r = get("/streams/%s/events?since=%s", s, at[2]);
    expect_json(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 3);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 0), "offset"), 2);
    response_free(r);

    r = get("/streams/%s/events?until=%s", s, at[2]);
    expect_json(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 2);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 1), "offset"), 1);
    response_free(r);

    r = get("/streams/%s/events?since=%s&until=%s", s, at[1], at[3]);
    expect_json(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 2);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 0), "offset"), 1);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 1), "offset"), 2);
    response_free(r);

    /* Combined with a type filter and a numeric offset form of the same instant. */
    r = get("/streams/%s/events?since=%s&type=Paid", s, at[2]);
    expect_json(r, 200);
    events = field(r->json, "events");
    ck_assert_int_eq(cJSON_GetArraySize(events), 1);
    ck_assert_int_eq(int_field(cJSON_GetArrayItem(events, 0), "offset"), 3);
    response_free(r);

    char offset_form[48];
    snprintf(offset_form, sizeof offset_form, "%.*s%%2B00:00", (int)strlen(at[2]) - 1, at[2]);
    r = get("/streams/%s/events?since=%s", s, offset_form);
    expect_json(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 3);
    response_free(r);

    /* Nothing in a window of the far past. */
    r = get("/streams/%s/events?until=2000-01-01T00:00:00Z", s);
    expect_json(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 0);
    response_free(r);
}
END_TEST

START_TEST(read_of_unknown_stream_is_404)
{
    const char *s = unique_name("s");
    expect_problem_free(get("/streams/%s/events", s), 404, "stream_not_found");
    expect_problem_free(get("/streams/%s/events?direction=backward", s), 404, "stream_not_found");
    expect_problem_free(get("/streams/%s/events/0", s), 404, "stream_not_found");
}
END_TEST

START_TEST(get_one_event_by_offset)
{
    const char *s = unique_name("s");
    append_n(s, 3, "One");
    struct response *r = get("/streams/%s/events/2", s);
    expect_json(r, 200);
    expect_event_shape(r->json, s);
    ck_assert_int_eq(response_int(r, "offset"), 2);
    ck_assert_int_eq(response_int(r, "data.i"), 2);
    ck_assert_str_eq(str_field(r->json, "type"), "One");
    response_free(r);
    r = get("/streams/%s/events/0", s);
    expect_json(r, 200);
    ck_assert_int_eq(response_int(r, "offset"), 0);
    response_free(r);

    expect_problem_free(get("/streams/%s/events/3", s), 404, "event_not_found");
    expect_problem_free(get("/streams/%s/events/1000000", s), 404, "event_not_found");
    expect_problem_free(get("/streams/%s/events/0", unique_name("s")), 404, "stream_not_found");
    static const char *const bad[] = {"abc", "-1", "1.5", "1x", "99999999999999999999", "%20"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = get("/streams/%s/events/%s", s, bad[i]);
        ck_assert_msg(r->status == 400, "offset %s: %ld %s", bad[i], r->status, r->body);
        expect_problem(r, 400, "invalid_parameter");
        response_free(r);
    }
    expect_healthy();
}
END_TEST

/* ------------------------------------------------------------- NDJSON */

/* Splits an NDJSON body into parsed lines; asserts the body ends with "\n". */
static int ndjson_lines(const struct response *r, cJSON **out, int max)
{
    int n = 0;
    if (r->len == 0)
        return 0;
    ck_assert_msg(r->body[r->len - 1] == '\n', "NDJSON body does not end with a newline");
    const char *line = r->body;
    while (*line) {
        const char *end = strchr(line, '\n');
        ck_assert_ptr_nonnull(end);
        ck_assert_int_lt(n, max);
        char *text = strndup(line, (size_t)(end - line));
        out[n] = cJSON_Parse(text);
        ck_assert_msg(out[n] != NULL && cJSON_IsObject(out[n]), "line %d is not a JSON object: %s", n, text);
        free(text);
        n++;
        line = end + 1;
    }
    return n;
}

START_TEST(ndjson_exports_the_whole_stream)
{
    const char *s = unique_name("s");
    /* 250 events, types alternating Even/Odd by offset, in batches of MAX_BATCH. */
    for (int done = 0; done < 250; done += MAX_BATCH) {
        char *body = strdup("{\"events\":[");
        for (int k = 0; k < MAX_BATCH; k++) {
            int off = done + k;
            char *next = format("%s%s{\"type\":\"%s\",\"data\":{\"i\":%d}}", body, k ? "," : "",
                                off % 2 ? "Odd" : "Even", off);
            free(body);
            body = next;
        }
        char *full = format("%s]}", body);
        free(body);
        struct response *r = append_raw(s, full, NULL);
        free(full);
        expect_json(r, 201);
        response_free(r);
    }

    const char *nd[] = {"Accept: application/x-ndjson", NULL};
    char *path = format("/streams/%s/events", s);
    struct response *r = http(&svc, "GET", path, NULL, nd);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(header(r, "Content-Type"), "application/x-ndjson");
    cJSON **lines = calloc(300, sizeof *lines);
    int n = ndjson_lines(r, lines, 300);
    ck_assert_int_eq(n, 250);
    for (int i = 0; i < n; i++) {
        expect_event_shape(lines[i], s);
        ck_assert_int_eq(int_field(lines[i], "offset"), i);
        ck_assert_int_eq(int_field(field(lines[i], "data"), "i"), i);
        cJSON_Delete(lines[i]);
    }
    response_free(r);

    /* limit does not cap an export. */
    char *limited = format("/streams/%s/events?limit=5", s);
    r = http(&svc, "GET", limited, NULL, nd);
    free(limited);
    ck_assert_int_eq(r->status, 200);
    n = ndjson_lines(r, lines, 300);
    ck_assert_int_eq(n, 250);
    for (int i = 0; i < n; i++)
        cJSON_Delete(lines[i]);
    response_free(r);

    /* Backward: reversed. */
    char *back = format("/streams/%s/events?direction=backward", s);
    r = http(&svc, "GET", back, NULL, nd);
    free(back);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(header(r, "Content-Type"), "application/x-ndjson");
    n = ndjson_lines(r, lines, 300);
    ck_assert_int_eq(n, 250);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(int_field(lines[i], "offset"), 249 - i);
        cJSON_Delete(lines[i]);
    }
    response_free(r);

    /* With a type filter and a start offset. */
    char *odd = format("/streams/%s/events?type=Odd&from=100", s);
    r = http(&svc, "GET", odd, NULL, nd);
    free(odd);
    ck_assert_int_eq(r->status, 200);
    n = ndjson_lines(r, lines, 300);
    ck_assert_int_eq(n, 75);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(int_field(lines[i], "offset"), 101 + 2 * i);
        ck_assert_str_eq(str_field(lines[i], "type"), "Odd");
        cJSON_Delete(lines[i]);
    }
    response_free(r);

    /* Nothing selected: an empty body. */
    char *none = format("/streams/%s/events?type=Nothing", s);
    r = http(&svc, "GET", none, NULL, nd);
    free(none);
    ck_assert_int_eq(r->status, 200);
    ck_assert_uint_eq(r->len, 0);
    response_free(r);

    /* The JSON page of the same stream is capped at the default limit. */
    r = http(&svc, "GET", path, NULL, NULL);
    expect_json(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 100);
    ck_assert_int_eq(response_int(r, "next_offset"), 100);
    ck_assert(cJSON_IsFalse(field(r->json, "end_of_stream")));
    response_free(r);
    r = get("/streams/%s/events?limit=1000", s);
    expect_json(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 250);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    response_free(r);
    free(path);
    free(lines);

    /* A missing stream is a problem, not an empty export. */
    char *missing = format("/streams/%s/events", unique_name("s"));
    r = http(&svc, "GET", missing, NULL, nd);
    free(missing);
    expect_problem(r, 404, "stream_not_found");
    response_free(r);
}
END_TEST

/* -------------------------------------------------------- global read */

/* Reads /events?stream_prefix=<prefix>&<extra> from `from`, following
 * next_position with `limit`, until `want` events were collected (or 20 s
 * passed); then one more page must be empty. Returns the events (owned). */
static cJSON *global_collect(const char *prefix, const char *extra, int limit, int want)
{
    cJSON *all = cJSON_CreateArray();
    long long from = 0;
    for (int waited = 0; cJSON_GetArraySize(all) < want; waited++) {
        ck_assert_msg(waited < 2000, "global read saw %d of %d events", cJSON_GetArraySize(all), want);
        struct response *r = get("/events?stream_prefix=%s&from_position=%lld&limit=%d%s%s", prefix, from, limit,
                                 *extra ? "&" : "", extra);
        expect_json(r, 200);
        const cJSON *events = field(r->json, "events"), *ev;
        ck_assert_int_le(cJSON_GetArraySize(events), limit);
        long long next = response_int(r, "next_position");
        ck_assert_int_ge(next, from);
        cJSON_ArrayForEach(ev, events) {
            ck_assert_int_gt(int_field(ev, "global_position"), from);
            ck_assert_int_le(int_field(ev, "global_position"), next);
            cJSON_AddItemToArray(all, cJSON_Duplicate(ev, true));
        }
        if (cJSON_GetArraySize(events) == 0)
            usleep(10 * 1000); /* an unrelated transaction may still be open */
        from = next;
        response_free(r);
    }
    ck_assert_int_eq(cJSON_GetArraySize(all), want);
    struct response *r = get("/events?stream_prefix=%s&from_position=%lld&limit=%d%s%s", prefix, from, limit,
                             *extra ? "&" : "", extra);
    expect_json(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 0);
    ck_assert_int_ge(response_int(r, "next_position"), from);
    response_free(r);
    return all;
}

START_TEST(global_read_returns_every_event_once_in_position_order)
{
    char prefix[96], a[128], b[128];
    snprintf(prefix, sizeof prefix, "%s.", unique_name("g"));
    snprintf(a, sizeof a, "%sa", prefix);
    snprintf(b, sizeof b, "%sb", prefix);
    /* Interleaved appends to two streams: a0 | b0 b1 | a1(X) | b2(X) b3 | a2 */
    struct response *r;
    r = appendf(a, "{\"events\":[{\"type\":\"P\",\"data\":\"a0\"}]}");
    expect_json(r, 201);
    response_free(r);
    r = appendf(b, "{\"events\":[{\"type\":\"P\",\"data\":\"b0\"},{\"type\":\"P\",\"data\":\"b1\"}]}");
    expect_json(r, 201);
    response_free(r);
    r = appendf(a, "{\"events\":[{\"type\":\"X\",\"data\":\"a1\"}]}");
    expect_json(r, 201);
    response_free(r);
    r = appendf(b, "{\"events\":[{\"type\":\"X\",\"data\":\"b2\"},{\"type\":\"P\",\"data\":\"b3\"}]}");
    expect_json(r, 201);
    response_free(r);
    r = appendf(a, "{\"events\":[{\"type\":\"P\",\"data\":\"a2\"}]}");
    expect_json(r, 201);
    response_free(r);
    const char *order[] = {"a0", "b0", "b1", "a1", "b2", "b3", "a2"};

    /* Page sizes that split appends and that take all at once. */
    const int limits[] = {1, 2, 3, 1000};
    for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
        cJSON *all = global_collect(prefix, "", limits[l], 7);
        long long last = -1, last_a = -1, last_b = -1;
        for (int i = 0; i < 7; i++) {
            const cJSON *ev = cJSON_GetArrayItem(all, i);
            expect_event_shape(ev, NULL);
            ck_assert_str_eq(str_field(ev, "data"), order[i]);
            const char *stream = str_field(ev, "stream");
            ck_assert_str_eq(stream, order[i][0] == 'a' ? a : b);
            long long pos = int_field(ev, "global_position"), off = int_field(ev, "offset");
            ck_assert_int_gt(pos, last);
            last = pos;
            long long *prev = order[i][0] == 'a' ? &last_a : &last_b;
            ck_assert_int_eq(off, *prev + 1);
            *prev = off;
        }
        cJSON_Delete(all);
    }

    /* Type filter. */
    cJSON *xs = global_collect(prefix, "type=X", 1000, 2);
    ck_assert_str_eq(str_field(cJSON_GetArrayItem(xs, 0), "data"), "a1");
    ck_assert_str_eq(str_field(cJSON_GetArrayItem(xs, 1), "data"), "b2");
    ck_assert_str_eq(str_field(cJSON_GetArrayItem(xs, 0), "type"), "X");
    cJSON_Delete(xs);
    cJSON *both = global_collect(prefix, "type=X,Nothing", 1, 2);
    cJSON_Delete(both);

    /* A prefix that matches only one stream. */
    cJSON *only_b = global_collect(b, "", 2, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(str_field(cJSON_GetArrayItem(only_b, i), "stream"), b);
    cJSON_Delete(only_b);

    /* An event appended later comes after, from where the reader stopped. */
    r = get("/events?stream_prefix=%s&limit=1000", prefix);
    expect_json(r, 200);
    long long next = response_int(r, "next_position");
    response_free(r);
    r = appendf(a, "{\"events\":[{\"type\":\"P\",\"data\":\"a3\"}]}");
    expect_json(r, 201);
    response_free(r);
    bool found = false;
    for (int tries = 0; !found && tries < 2000; tries++) {
        r = get("/events?stream_prefix=%s&from_position=%lld", prefix, next);
        expect_json(r, 200);
        const cJSON *events = field(r->json, "events");
        if (cJSON_GetArraySize(events) > 0) {
            ck_assert_int_eq(cJSON_GetArraySize(events), 1);
            ck_assert_str_eq(str_field(cJSON_GetArrayItem(events, 0), "data"), "a3");
            found = true;
        } else {
            usleep(10 * 1000);
        }
        next = response_int(r, "next_position");
        response_free(r);
    }
    ck_assert(found);
}
END_TEST

START_TEST(global_read_rejects_bad_parameters)
{
    static const char *const bad[] = {
        "from_position=-1", "from_position=x", "from_position=1.5", "from_position=9007199254740992",
        "limit=0",          "limit=1001",      "limit=x",           "type=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct response *r = get("/events?%s", bad[i]);
        ck_assert_msg(r->status == 400, "%s: %ld %s", bad[i], r->status, r->body);
        expect_problem(r, 400, "invalid_parameter");
        response_free(r);
    }
    struct response *r = get("/events?stream_prefix=%s.&limit=1", unique_name("g"));
    expect_json(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 0);
    ck_assert_int_ge(response_int(r, "next_position"), 0);
    response_free(r);
    expect_healthy();
}
END_TEST

static Suite *events_suite(void)
{
    Suite *s = suite_create("events");
    TCase *tc = tcase_create("events");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, append_returns_offsets_ids_and_positions);
    tcase_add_test(tc, append_accepts_a_full_batch_and_200_char_type);
    tcase_add_test(tc, expected_version_any_no_stream_exists);
    tcase_add_test(tc, expected_version_integer);
    tcase_add_test(tc, if_match_and_if_none_match_preconditions);
    tcase_add_test(tc, idempotent_retry_and_duplicate_ids);
    tcase_add_test(tc, archived_stream_refuses_appends_until_unarchived);
    tcase_add_test(tc, failed_append_leaves_no_trace);
    tcase_add_test(tc, bad_append_bodies_are_400_and_change_nothing);
    tcase_add_test(tc, body_over_limit_is_413_and_under_limit_is_accepted);
    tcase_add_test(tc, names_are_checked);
    tcase_add_test(tc, read_returns_events_with_their_data);
    tcase_add_test(tc, read_returns_numbers_exactly_as_appended);
    tcase_add_test(tc, read_from_limit_and_direction);
    tcase_add_test(tc, read_pages_visit_every_event_once);
    tcase_add_test(tc, read_filters_by_type_and_time);
    tcase_add_test(tc, read_of_unknown_stream_is_404);
    tcase_add_test(tc, get_one_event_by_offset);
    tcase_add_test(tc, ndjson_exports_the_whole_stream);
    tcase_add_test(tc, global_read_returns_every_event_once_in_position_order);
    tcase_add_test(tc, global_read_rejects_bad_parameters);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return streams_fixtures_main(events_suite());
}
