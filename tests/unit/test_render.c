/* Unit tests for the renderers beside the routes (in routes/): each is given a
 * struct as a store call fills it and must write the API's JSON exactly, byte
 * for byte: member order, nulls, escaping, numbers and RFC 3339 times. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "db/streams.h"
#include "routes/routes.h"
#include "src/core/util.h"

#define T0 INT64_C(1764000000123456) /* 2025-11-24T16:00:00.123456Z */
#define T0_JSON "\"2025-11-24T16:00:00.123456Z\""
/* struct db_nullable values: NULL, and a number. */
/* clang-format off */
#define NUL_ {true, 0}
#define INT_(v) {false, v}
/* clang-format on */

/* Compares what `t` holds with `want`, then frees it. */
static void expect_text(struct text *t, const char *want, int row, const char *why)
{
    ck_assert_msg(t->data && !strcmp(t->data, want), "row %d (%s):\n got  %s\n want %s", row, why,
                  t->data ? t->data : "(nothing)", want);
    ck_assert_uint_eq(t->len, strlen(want));
    text_free(t);
}

/* ---- routes/streams.c: stream metadata ---- */

static const struct {
    struct stream_meta meta;
    const char *want;
    const char *why;
} stream_rows[] = {
    {{"orders", 1, 2, INT_(0), INT_(1), T0, INT_(T0 + 1), "active", NUL_, NUL_},
     "{\"stream\":\"orders\",\"version\":1,\"length\":2,\"first_offset\":0,\"last_offset\":1,\"created_at\":" T0_JSON
     ",\"last_event_at\":\"2025-11-24T16:00:00.123457Z\",\"state\":\"active\","
     "\"retention\":{\"max_age_seconds\":null,\"max_count\":null}}",
     "events retained, no retention policy"},
    {{"a:b.c_d-e", 4, 0, NUL_, NUL_, 0, NUL_, "archived", INT_(86400), INT_(1)},
     "{\"stream\":\"a:b.c_d-e\",\"version\":4,\"length\":0,\"first_offset\":null,\"last_offset\":null,"
     "\"created_at\":\"1970-01-01T00:00:00.000000Z\",\"last_event_at\":null,\"state\":\"archived\","
     "\"retention\":{\"max_age_seconds\":86400,\"max_count\":1}}",
     "nothing retained: offsets null; no last event; archived with a policy"},
    {{"big", -1, 0, NUL_, NUL_, -1, NUL_, "active", INT_(INT64_C(9007199254740991)), INT_(INT64_C(1000000000000000))},
     "{\"stream\":\"big\",\"version\":-1,\"length\":0,\"first_offset\":null,\"last_offset\":null,"
     "\"created_at\":\"1969-12-31T23:59:59.999999Z\",\"last_event_at\":null,\"state\":\"active\","
     "\"retention\":{\"max_age_seconds\":9007199254740991,\"max_count\":1000000000000000}}",
     "version -1, a time before the epoch, limits written with every digit"},
};

START_TEST(test_stream_meta)
{
    struct text t = {0};
    stream_meta_json(&t, &stream_rows[_i].meta);
    expect_text(&t, stream_rows[_i].want, _i, stream_rows[_i].why);
}
END_TEST

static Suite *render_suite(void)
{
    Suite *s = suite_create("render");
    TCase *tc = tcase_create("render");
    tcase_add_loop_test(tc, test_stream_meta, 0, (int)ARRAY_LEN(stream_rows));
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
