/* Reading events (routes/events.c): what a per-stream read returns (data,
 * metadata and numbers as appended, an unknown stream, one event by offset), the
 * NDJSON export, and the global read across streams. Paging, direction and the
 * type and time filters of per-stream reads are in test_events_read_filters.c;
 * appends are in test_events_append.c. The service runs with small limits (see
 * streams_fixtures.h) so that export paging edges are cheap to reach. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "streams_fixtures.h"

/* ------------------------------------------------------------ helpers */

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
    const char *body = "{\"events\":[";
    for (size_t i = 0; i < n; i++) {
        new_uuid(ids[i]);
        body = fmt("%s%s{\"id\":\"%s\",\"type\":\"T%zu\",\"data\":%s%s}", body, i ? "," : "", ids[i], i, datas[i],
                   i == 0 ? ",\"metadata\":{\"correlation\":\"c-1\",\"n\":[1,2]}" : "");
    }
    struct response *r = append_raw(s, fmt("%s]}", body), NULL);
    EXPECT_JSON(r, 201);
    response_free(r);

    r = get("/streams/%s/events", s);
    EXPECT_JSON(r, 200);
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
    EXPECT_JSON(r, 200);
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
    EXPECT_JSON(r, 201);
    response_free(r);
    const char *nd[] = {"Accept: application/x-ndjson", NULL};
    const char *path = fmt("/streams/%s/events", s);
    struct response *reads[] = {
        get("/streams/%s/events/0", s),    /* one event */
        request("GET", path, NULL),        /* a page */
        http(&svc, "GET", path, NULL, nd), /* an export: one line, the event */
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
}
END_TEST

START_TEST(read_of_unknown_stream_is_404)
{
    const char *s = unique_name("s");
    EXPECT_PROBLEM_FREE(get("/streams/%s/events", s), 404, "stream_not_found");
    EXPECT_PROBLEM_FREE(get("/streams/%s/events?direction=backward", s), 404, "stream_not_found");
    EXPECT_PROBLEM_FREE(get("/streams/%s/events/0", s), 404, "stream_not_found");
}
END_TEST

START_TEST(get_one_event_by_offset)
{
    const char *s = unique_name("s");
    append_n(s, 3, "One");
    struct response *r = get("/streams/%s/events/2", s);
    EXPECT_JSON(r, 200);
    expect_event_shape(r->json, s);
    ck_assert_int_eq(response_int(r, "offset"), 2);
    ck_assert_int_eq(response_int(r, "data.i"), 2);
    ck_assert_str_eq(str_field(r->json, "type"), "One");
    response_free(r);
    r = get("/streams/%s/events/0", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(response_int(r, "offset"), 0);
    response_free(r);

    EXPECT_PROBLEM_FREE(get("/streams/%s/events/3", s), 404, "event_not_found");
    EXPECT_PROBLEM_FREE(get("/streams/%s/events/1000000", s), 404, "event_not_found");
    EXPECT_PROBLEM_FREE(get("/streams/%s/events/0", unique_name("s")), 404, "stream_not_found");
    static const char *const bad[] = {"abc", "-1", "1.5", "1x", "99999999999999999999", "%20"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = get("/streams/%s/events/%s", s, bad[i]);
        ck_assert_msg(r->status == 400, "offset %s: %ld %s", bad[i], r->status, r->body);
        EXPECT_PROBLEM(r, 400, "invalid_parameter");
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
        const char *body = "{\"events\":[";
        for (int k = 0; k < MAX_BATCH; k++) {
            int off = done + k;
            body = fmt("%s%s{\"type\":\"%s\",\"data\":{\"i\":%d}}", body, k ? "," : "", off % 2 ? "Odd" : "Even", off);
        }
        struct response *r = append_raw(s, fmt("%s]}", body), NULL);
        EXPECT_JSON(r, 201);
        response_free(r);
    }

    const char *nd[] = {"Accept: application/x-ndjson", NULL};
    const char *path = fmt("/streams/%s/events", s);
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
    r = http(&svc, "GET", fmt("/streams/%s/events?limit=5", s), NULL, nd);
    ck_assert_int_eq(r->status, 200);
    n = ndjson_lines(r, lines, 300);
    ck_assert_int_eq(n, 250);
    for (int i = 0; i < n; i++)
        cJSON_Delete(lines[i]);
    response_free(r);

    /* Backward: reversed. */
    r = http(&svc, "GET", fmt("/streams/%s/events?direction=backward", s), NULL, nd);
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
    r = http(&svc, "GET", fmt("/streams/%s/events?type=Odd&from=100", s), NULL, nd);
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
    r = http(&svc, "GET", fmt("/streams/%s/events?type=Nothing", s), NULL, nd);
    ck_assert_int_eq(r->status, 200);
    ck_assert_uint_eq(r->len, 0);
    response_free(r);

    /* The JSON page of the same stream is capped at the default limit. */
    r = get("/streams/%s/events", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 100);
    ck_assert_int_eq(response_int(r, "next_offset"), 100);
    ck_assert(cJSON_IsFalse(field(r->json, "end_of_stream")));
    response_free(r);
    r = get("/streams/%s/events?limit=1000", s);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 250);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    response_free(r);
    free(lines);

    /* A missing stream is a problem, not an empty export. */
    r = http(&svc, "GET", fmt("/streams/%s/events", unique_name("s")), NULL, nd);
    EXPECT_PROBLEM(r, 404, "stream_not_found");
    response_free(r);

    /* /export is the same export without the Accept header: the same bytes. */
    struct response *accept_form = http(&svc, "GET", fmt("/streams/%s/events?type=Odd&from=100", s), NULL, nd);
    r = get("/streams/%s/export?type=Odd&from=100", s);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(header(r, "Content-Type"), "application/x-ndjson");
    ck_assert_uint_eq(r->len, accept_form->len);
    ck_assert_int_eq(memcmp(r->body, accept_form->body, r->len), 0);
    response_free(r);
    response_free(accept_form);
    r = get("/streams/%s/export", unique_name("s"));
    EXPECT_PROBLEM(r, 404, "stream_not_found");
    response_free(r);
    r = get("/streams/%s/export?direction=sideways", s);
    EXPECT_PROBLEM(r, 400, "invalid_parameter");
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
        EXPECT_JSON(r, 200);
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
    struct response *r =
        get("/events?stream_prefix=%s&from_position=%lld&limit=%d%s%s", prefix, from, limit, *extra ? "&" : "", extra);
    EXPECT_JSON(r, 200);
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
    EXPECT_JSON(r, 201);
    response_free(r);
    r = appendf(b, "{\"events\":[{\"type\":\"P\",\"data\":\"b0\"},{\"type\":\"P\",\"data\":\"b1\"}]}");
    EXPECT_JSON(r, 201);
    response_free(r);
    r = appendf(a, "{\"events\":[{\"type\":\"X\",\"data\":\"a1\"}]}");
    EXPECT_JSON(r, 201);
    response_free(r);
    r = appendf(b, "{\"events\":[{\"type\":\"X\",\"data\":\"b2\"},{\"type\":\"P\",\"data\":\"b3\"}]}");
    EXPECT_JSON(r, 201);
    response_free(r);
    r = appendf(a, "{\"events\":[{\"type\":\"P\",\"data\":\"a2\"}]}");
    EXPECT_JSON(r, 201);
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
    EXPECT_JSON(r, 200);
    long long next = response_int(r, "next_position");
    response_free(r);
    r = appendf(a, "{\"events\":[{\"type\":\"P\",\"data\":\"a3\"}]}");
    EXPECT_JSON(r, 201);
    response_free(r);
    bool found = false;
    for (int tries = 0; !found && tries < 2000; tries++) {
        r = get("/events?stream_prefix=%s&from_position=%lld", prefix, next);
        EXPECT_JSON(r, 200);
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
        EXPECT_PROBLEM(r, 400, "invalid_parameter");
        response_free(r);
    }
    struct response *r = get("/events?stream_prefix=%s.&limit=1", unique_name("g"));
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(cJSON_GetArraySize(field(r->json, "events")), 0);
    ck_assert_int_ge(response_int(r, "next_position"), 0);
    response_free(r);
    expect_healthy();
}
END_TEST

static Suite *events_read_suite(void)
{
    Suite *s = suite_create("events-read");
    TCase *tc = tcase_create("read");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, read_returns_events_with_their_data);
    tcase_add_test(tc, read_returns_numbers_exactly_as_appended);
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
    return streams_fixtures_main(events_read_suite());
}
