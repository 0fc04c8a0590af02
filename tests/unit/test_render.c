/* Unit tests for the renderers beside the routes (in routes/): each is given a
 * struct as a store call fills it and must write the API's JSON exactly, byte
 * for byte: member order, nulls, escaping, numbers and RFC 3339 times. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "db/dead_letters.h"
#include "db/events.h"
#include "db/messages.h"
#include "db/queues.h"
#include "db/streams.h"
#include "routes/routes.h"
#include "src/core/util.h"

#define T0 INT64_C(1764000000123456) /* 2025-11-24T16:00:00.123456Z */
#define T0_JSON "\"2025-11-24T16:00:00.123456Z\""
/* struct db_nullable values: NULL, and a number. */
/* clang-format off */
#define NUL_ {true, 0}
#define INT_(v) {false, v}
/* A struct db_json from a literal. */
#define JSON_(s) {s, sizeof s - 1}
/* clang-format on */

/* Compares what `t` holds with `want`, then frees it. */
static void expect_text(struct text *t, const char *want, int row, const char *why)
{
    ck_assert_msg(t->data && !strcmp(t->data, want), "row %d (%s):\n got  %s\n want %s", row, why,
                  t->data ? t->data : "(nothing)", want);
    ck_assert_uint_eq(t->len, strlen(want));
    text_free(t);
}

/* A test of `render` over each row of `rows`: {input, want, why}. */
#define RENDER_TEST(name, rows, render, input)                                                                         \
    START_TEST(name)                                                                                                   \
    {                                                                                                                  \
        struct text t = {0};                                                                                           \
        render(&t, &rows[_i].input);                                                                                   \
        expect_text(&t, rows[_i].want, _i, rows[_i].why);                                                              \
    }                                                                                                                  \
    END_TEST

#define ID "0b9e8a52-3e0a-4c3e-9d7e-2f1c5b6a7d8e"
/* jsonb as PostgreSQL prints it: spaces after ':' and ',', numbers with every digit. */
#define DATA "{\"n\": 12345678901234567890.123, \"s\": \"caf\xc3\xa9\"}"

/* ---- routes/events.c: appends and events ---- */

static const struct {
    struct event ev;
    const char *want;
    const char *why;
} event_rows[] = {
    {{ID, "orders", 0, 17, "OrderPlaced", JSON_(DATA), JSON_("{\"by\": \"me\"}"), T0},
     "{\"id\":\"" ID "\",\"stream\":\"orders\",\"offset\":0,\"global_position\":17,\"type\":\"OrderPlaced\","
     "\"data\":" DATA ",\"metadata\":{\"by\": \"me\"},\"created_at\":" T0_JSON "}",
     "data and metadata passed through as PostgreSQL printed them"},
    {{ID, "a:b", INT64_C(9007199254740990), INT64_C(9007199254740991), "T\n\"\\", JSON_("\"s\""), {NULL, 0}, 0},
     "{\"id\":\"" ID "\",\"stream\":\"a:b\",\"offset\":9007199254740990,\"global_position\":9007199254740991,"
     "\"type\":\"T\\u000a\\\"\\\\\",\"data\":\"s\",\"metadata\":null,"
     "\"created_at\":\"1970-01-01T00:00:00.000000Z\"}",
     "no metadata; positions at 2^53 - 1 written with every digit; the type escaped"},
};

RENDER_TEST(test_event, event_rows, event_json, ev)

static struct appended_event appended[] = {
    {ID, 4, 1234567890123000},
    {"11111111-2222-4333-8444-555555555555", 5, 1234567890123001},
};

static const struct {
    const char *stream;
    struct append_result res;
    const char *want;
    const char *why;
} append_rows[] = {
    {"orders",
     {5, appended, 2},
     "{\"events\":[{\"id\":\"" ID "\",\"offset\":4,\"global_position\":1234567890123000},"
     "{\"id\":\"11111111-2222-4333-8444-555555555555\",\"offset\":5,\"global_position\":1234567890123001}],"
     "\"stream\":\"orders\",\"first_offset\":4,\"last_offset\":5,\"version\":5}",
     "two events, listed first as always; positions as integers, never in exponent form"},
    {"orders",
     {4, appended, 1},
     "{\"events\":[{\"id\":\"" ID "\",\"offset\":4,\"global_position\":1234567890123000}],"
     "\"stream\":\"orders\",\"first_offset\":4,\"last_offset\":4,\"version\":4}",
     "one event: first and last the same"},
};

START_TEST(test_append_result)
{
    struct text t = {0};
    append_result_json(&t, append_rows[_i].stream, &append_rows[_i].res);
    expect_text(&t, append_rows[_i].want, _i, append_rows[_i].why);
}
END_TEST

/* ---- routes/streams.c: stream metadata ---- */

static const struct {
    struct stream_meta meta;
    const char *want;
    const char *why;
} stream_rows[] = {
    {{"orders", 1, 2, INT_(0), INT_(1), T0, INT_(T0 + 1), "active", NUL_, NUL_, false, NUL_, NUL_},
     "{\"stream\":\"orders\",\"version\":1,\"length\":2,\"first_offset\":0,\"last_offset\":1,\"created_at\":" T0_JSON
     ",\"last_event_at\":\"2025-11-24T16:00:00.123457Z\",\"state\":\"active\","
     "\"retention\":{\"max_age_seconds\":null,\"max_count\":null,\"source\":\"default\"},"
     "\"trimmed_through\":null,\"trimmed_at\":null}",
     "events retained, no retention policy and no default: nothing trimmed"},
    {{"a:b.c_d-e", 4, 0, NUL_, NUL_, 0, NUL_, "archived", INT_(86400), INT_(1), true, INT_(4), INT_(T0)},
     "{\"stream\":\"a:b.c_d-e\",\"version\":4,\"length\":0,\"first_offset\":null,\"last_offset\":null,"
     "\"created_at\":\"1970-01-01T00:00:00.000000Z\",\"last_event_at\":null,\"state\":\"archived\","
     "\"retention\":{\"max_age_seconds\":86400,\"max_count\":1,\"source\":\"stream\"},"
     "\"trimmed_through\":4,\"trimmed_at\":" T0_JSON "}",
     "nothing retained: offsets null; no last event; archived with its own policy, everything trimmed"},
    {{"big", -1, 0, NUL_, NUL_, -1, NUL_, "active", INT_(INT64_C(9007199254740991)), INT_(INT64_C(1000000000000000)),
      true, NUL_, NUL_},
     "{\"stream\":\"big\",\"version\":-1,\"length\":0,\"first_offset\":null,\"last_offset\":null,"
     "\"created_at\":\"1969-12-31T23:59:59.999999Z\",\"last_event_at\":null,\"state\":\"active\","
     "\"retention\":{\"max_age_seconds\":9007199254740991,\"max_count\":1000000000000000,\"source\":\"stream\"},"
     "\"trimmed_through\":null,\"trimmed_at\":null}",
     "version -1, a time before the epoch, limits written with every digit"},
};

RENDER_TEST(test_stream_meta, stream_rows, stream_meta_json, meta)

/* ---- routes/queues.c: queue metadata and peeked messages ---- */

static const struct {
    struct queue_meta meta;
    const char *want;
    const char *why;
} queue_rows[] = {
    {{"mail", 1, 2, 3, 4, INT_(12300), 30, 5, 1209600, NUL_, INT_(T0), INT_(T0), INT_(T0), INT_(T0), INT_(1209600)},
     "{\"queue\":\"mail\",\"pending\":1,\"in_flight\":2,\"delayed\":3,\"dead_letters\":4,"
     "\"oldest_pending_age_seconds\":12.300,\"config\":{\"visibility_timeout\":30,\"max_delivery_attempts\":5,"
     "\"retention_seconds\":1209600,\"max_depth\":null},"
     "\"retention\":{\"retention_seconds\":1209600,\"dead_letter_retention_seconds\":1209600,\"expired_"
     "through\":" T0_JSON ",\"expired_at\":" T0_JSON ",\"dead_letters_deleted_through\":" T0_JSON
     ",\"dead_letters_deleted_at\":" T0_JSON "}}",
     "an age keeps three decimals, as numeric(x, 3) prints; no max_depth"},
    {{"q", 0, 0, 0, 0, NUL_, 0, 1, 60, INT_(INT64_C(9007199254740991)), NUL_, NUL_, NUL_, NUL_, NUL_},
     "{\"queue\":\"q\",\"pending\":0,\"in_flight\":0,\"delayed\":0,\"dead_letters\":0,"
     "\"oldest_pending_age_seconds\":0,\"config\":{\"visibility_timeout\":0,\"max_delivery_attempts\":1,"
     "\"retention_seconds\":60,\"max_depth\":9007199254740991},"
     "\"retention\":{\"retention_seconds\":60,\"dead_letter_retention_seconds\":null,\"expired_through\":null,"
     "\"expired_at\":null,\"dead_letters_deleted_through\":null,\"dead_letters_deleted_at\":null}}",
     "nothing pending: age 0 without decimals; the largest max_depth"},
    {{"q", 1, 0, 0, 0, INT_(0), 30, 5, 60, INT_(1), NUL_, NUL_, NUL_, NUL_, NUL_},
     "{\"queue\":\"q\",\"pending\":1,\"in_flight\":0,\"delayed\":0,\"dead_letters\":0,"
     "\"oldest_pending_age_seconds\":0.000,\"config\":{\"visibility_timeout\":30,\"max_delivery_attempts\":5,"
     "\"retention_seconds\":60,\"max_depth\":1},"
     "\"retention\":{\"retention_seconds\":60,\"dead_letter_retention_seconds\":null,\"expired_through\":null,"
     "\"expired_at\":null,\"dead_letters_deleted_through\":null,\"dead_letters_deleted_at\":null}}",
     "a message pending for under half a millisecond: 0.000"},
    {{"q", 1, 0, 0, 0, INT_(-5), 30, 5, 60, NUL_, NUL_, NUL_, NUL_, NUL_, NUL_},
     "{\"queue\":\"q\",\"pending\":1,\"in_flight\":0,\"delayed\":0,\"dead_letters\":0,"
     "\"oldest_pending_age_seconds\":-0.005,\"config\":{\"visibility_timeout\":30,\"max_delivery_attempts\":5,"
     "\"retention_seconds\":60,\"max_depth\":null},"
     "\"retention\":{\"retention_seconds\":60,\"dead_letter_retention_seconds\":null,\"expired_through\":null,"
     "\"expired_at\":null,\"dead_letters_deleted_through\":null,\"dead_letters_deleted_at\":null}}",
     "a clock step back: the sign before the whole seconds"},
};

RENDER_TEST(test_queue_meta, queue_rows, queue_meta_json, meta)

static const struct {
    struct peeked_message msg;
    const char *want;
    const char *why;
} peek_rows[] = {
    {{ID, "SendEmail", T0, T0, 0, NULL, NUL_},
     "{\"id\":\"" ID "\",\"type\":\"SendEmail\",\"enqueued_at\":" T0_JSON ",\"visible_at\":" T0_JSON
     ",\"delivery_count\":0,\"consumer\":null,\"visible_until\":null}",
     "pending: no consumer, no lease end"},
    {{ID, "a\"b\\c\n\x01\xc3\xa9", T0, T0 + 30000000, 2, "worker-7", INT_(T0 + 30000000)},
     "{\"id\":\"" ID "\",\"type\":\"a\\\"b\\\\c\\u000a\\u0001\xc3\xa9\",\"enqueued_at\":" T0_JSON
     ",\"visible_at\":\"2025-11-24T16:00:30.123456Z\",\"delivery_count\":2,\"consumer\":\"worker-7\","
     "\"visible_until\":\"2025-11-24T16:00:30.123456Z\"}",
     "leased; the type escaped by the shared escaper (controls as \\u00XX, UTF-8 kept)"},
    {{ID, "T", T0, T0, 1, NULL, INT_(T0)},
     "{\"id\":\"" ID "\",\"type\":\"T\",\"enqueued_at\":" T0_JSON ",\"visible_at\":" T0_JSON
     ",\"delivery_count\":1,\"consumer\":null,\"visible_until\":" T0_JSON "}",
     "leased by a consumer that named none"},
};

RENDER_TEST(test_peeked_message, peek_rows, peeked_message_json, msg)

/* ---- routes/dead_letters.c ---- */

static const struct {
    struct dead_letter dl;
    const char *want;
    const char *why;
} dead_letter_rows[] = {
    {{ID, "SendEmail", JSON_(DATA), {NULL, 0}, T0, T0 + 1000000, 5, "max_delivery_attempts"},
     "{\"id\":\"" ID "\",\"type\":\"SendEmail\",\"data\":" DATA ",\"metadata\":null,\"enqueued_at\":" T0_JSON
     ",\"failed_at\":\"2025-11-24T16:00:01.123456Z\",\"delivery_count\":5,\"reason\":\"max_delivery_attempts\"}",
     "data passed through as PostgreSQL printed it; no metadata"},
    {{ID, "T", {"[1, 2]xx", 6}, JSON_("{\"k\": null}"), 0, 0, 0, "bad\tthing \"quoted\" \\"},
     "{\"id\":\"" ID "\",\"type\":\"T\",\"data\":[1, 2],\"metadata\":{\"k\": null},"
     "\"enqueued_at\":\"1970-01-01T00:00:00.000000Z\",\"failed_at\":\"1970-01-01T00:00:00.000000Z\","
     "\"delivery_count\":0,\"reason\":\"bad\\u0009thing \\\"quoted\\\" \\\\\"}",
     "exactly data.len bytes of data; a reason with a tab, quotes and a backslash"},
};

RENDER_TEST(test_dead_letter, dead_letter_rows, dead_letter_json, dl)

/* ---- routes/messages.c: enqueue, dequeue and batch ack answers ---- */

static const struct {
    struct enqueued_message msg;
    const char *want;
    const char *why;
} enqueued_rows[] = {
    {{ID, INT_(T0), INT_(T0 + 5000000), false},
     "{\"id\":\"" ID "\",\"enqueued_at\":" T0_JSON ",\"visible_at\":\"2025-11-24T16:00:05.123456Z\","
     "\"duplicate\":false}",
     "a new message, delayed 5 s"},
    {{ID, INT_(T0), INT_(T0), true},
     "{\"id\":\"" ID "\",\"enqueued_at\":" T0_JSON ",\"visible_at\":" T0_JSON ",\"duplicate\":true}",
     "a duplicate keeps the first message's times"},
    {{ID, NUL_, NUL_, true},
     "{\"id\":\"" ID "\",\"enqueued_at\":null,\"visible_at\":null,\"duplicate\":true}",
     "a message gone before enqueue read it back: null times"},
};

RENDER_TEST(test_enqueued_message, enqueued_rows, enqueued_message_json, msg)

#define RECEIPT "3f2a9c0d4b5e6f708192a3b4c5d6e7f80f1e2d3c4b5a69788796a5b4c3d2e1f0"

static const struct {
    struct dequeued_message msg;
    const char *want;
    const char *why;
} dequeued_rows[] = {
    {{ID, "SendEmail", JSON_(DATA), JSON_("{\"trace\": \"t-1\"}"), T0, 1, RECEIPT, T0 + 30000000},
     "{\"id\":\"" ID "\",\"type\":\"SendEmail\",\"data\":" DATA ",\"metadata\":{\"trace\": \"t-1\"},"
     "\"enqueued_at\":" T0_JSON ",\"delivery_count\":1,\"receipt\":\"" RECEIPT "\","
     "\"visible_until\":\"2025-11-24T16:00:30.123456Z\"}",
     "data and metadata as PostgreSQL printed them"},
    {{ID, "\x1f\"", JSON_("null"), {NULL, 0}, T0, 5, RECEIPT, T0},
     "{\"id\":\"" ID "\",\"type\":\"\\u001f\\\"\",\"data\":null,\"metadata\":null,\"enqueued_at\":" T0_JSON
     ",\"delivery_count\":5,\"receipt\":\"" RECEIPT "\",\"visible_until\":" T0_JSON "}",
     "JSON null data, no metadata, a type that needs escaping"},
};

RENDER_TEST(test_dequeued_message, dequeued_rows, dequeued_message_json, msg)

#define ID2 "11111111-2222-4333-8444-555555555555"
#define ID3 "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

static const struct {
    struct ack_result items[3];
    int count;
    const char *want;
    const char *why;
} ack_rows[] = {
    {{{ID, STORE_OK}, {ID2, STORE_OK}},
     2,
     "{\"acked\":[\"" ID "\",\"" ID2 "\"],\"failed\":[]}",
     "every ack went through"},
    {{{ID, STORE_STALE}, {ID2, STORE_OK}, {ID3, STORE_NOT_FOUND}},
     3,
     "{\"acked\":[\"" ID2 "\"],\"failed\":[{\"id\":\"" ID "\",\"code\":\"stale_receipt\"},{\"id\":\"" ID3
     "\",\"code\":\"message_not_found\"}]}",
     "outcomes become problem codes; each list keeps the order sent"},
    {{{ID, STORE_NOT_FOUND}},
     1,
     "{\"acked\":[],\"failed\":[{\"id\":\"" ID "\",\"code\":\"message_not_found\"}]}",
     "nothing acked"},
};

START_TEST(test_ack_results)
{
    struct text t = {0};
    ack_results_json(&t, ack_rows[_i].items, ack_rows[_i].count);
    expect_text(&t, ack_rows[_i].want, _i, ack_rows[_i].why);
}
END_TEST

static Suite *render_suite(void)
{
    Suite *s = suite_create("render");
    TCase *tc = tcase_create("render");
    tcase_add_loop_test(tc, test_event, 0, (int)ARRAY_LEN(event_rows));
    tcase_add_loop_test(tc, test_append_result, 0, (int)ARRAY_LEN(append_rows));
    tcase_add_loop_test(tc, test_stream_meta, 0, (int)ARRAY_LEN(stream_rows));
    tcase_add_loop_test(tc, test_queue_meta, 0, (int)ARRAY_LEN(queue_rows));
    tcase_add_loop_test(tc, test_peeked_message, 0, (int)ARRAY_LEN(peek_rows));
    tcase_add_loop_test(tc, test_dead_letter, 0, (int)ARRAY_LEN(dead_letter_rows));
    tcase_add_loop_test(tc, test_enqueued_message, 0, (int)ARRAY_LEN(enqueued_rows));
    tcase_add_loop_test(tc, test_dequeued_message, 0, (int)ARRAY_LEN(dequeued_rows));
    tcase_add_loop_test(tc, test_ack_results, 0, (int)ARRAY_LEN(ack_rows));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(render_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
