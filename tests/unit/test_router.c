/* Unit tests for src/http/router.c over a small local route table: literal and
 * parameter segments, per-segment percent-decoding, HEAD as GET, 404 and 405
 * with its Allow list. The service's own table is not used here. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/util.h"
#include "src/http/router.h"

static void handle_nothing(struct request *req)
{
    (void)req;
}

/* Route indexes, so rows can name the route they expect. */
enum {
    R_HEALTHZ,
    R_STREAMS_LIST,
    R_STREAMS_CREATE,
    R_QUEUES_STATS, /* literal before the {queue} parameter that would also match */
    R_QUEUE_GET,
    R_STREAM_GET,
    R_STREAM_PUT,
    R_STREAM_DELETE,
    R_EVENT_GET,
    R_MESSAGES_POST,
    R_FOUR_PARAMS,
    R_ROOT,
    R_NONE = -1,
};

static const struct route table[] = {
    [R_HEALTHZ] = {"GET", "/healthz", handle_nothing},
    [R_STREAMS_LIST] = {"GET", "/streams", handle_nothing},
    [R_STREAMS_CREATE] = {"POST", "/streams", handle_nothing},
    [R_QUEUES_STATS] = {"GET", "/queues/stats", handle_nothing},
    [R_QUEUE_GET] = {"GET", "/queues/{queue}", handle_nothing},
    [R_STREAM_GET] = {"GET", "/streams/{stream}", handle_nothing},
    [R_STREAM_PUT] = {"PUT", "/streams/{stream}", handle_nothing},
    [R_STREAM_DELETE] = {"DELETE", "/streams/{stream}", handle_nothing},
    [R_EVENT_GET] = {"GET", "/streams/{stream}/events/{offset}", handle_nothing},
    [R_MESSAGES_POST] = {"POST", "/queues/{queue}/messages", handle_nothing},
    [R_FOUR_PARAMS] = {"GET", "/a/{w}/{x}/{y}/{z}", handle_nothing},
    [R_ROOT] = {"GET", "/", handle_nothing},
};

/* A value that the row expects to be NULL (malformed escape or %00). */
#define BAD NULL

static const struct {
    const char *method, *path;
    enum router_result want;
    int route;         /* expected route index on ROUTER_FOUND */
    const char *allow; /* expected Allow list on ROUTER_METHOD_NOT_ALLOWED */
    int nparams;
    const char *values[HTTP_MAX_PARAMS]; /* BAD: expect a NULL value */
    const char *why;
} rows[] = {
    /* literal segments */
    {"GET", "/healthz", ROUTER_FOUND, R_HEALTHZ, "", 0, {0}, "literal route"},
    {"GET", "/streams", ROUTER_FOUND, R_STREAMS_LIST, "", 0, {0}, "same path, first method"},
    {"POST", "/streams", ROUTER_FOUND, R_STREAMS_CREATE, "", 0, {0}, "same path, second method"},
    {"GET", "/", ROUTER_FOUND, R_ROOT, "", 0, {0}, "root path"},
    {"GET", "/queues/stats", ROUTER_FOUND, R_QUEUES_STATS, "", 0, {0}, "earlier literal beats a later {param}"},
    {"GET", "/healthzz", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "literal plus one char"},
    {"GET", "/health", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "literal prefix only"},
    {"GET", "/HEALTHZ", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "paths are case-sensitive"},
    /* parameters */
    {"GET", "/queues/jobs", ROUTER_FOUND, R_QUEUE_GET, "", 1, {"jobs"}, "one parameter"},
    {"GET", "/streams/orders", ROUTER_FOUND, R_STREAM_GET, "", 1, {"orders"}, "parameter after literal"},
    {"PUT", "/streams/orders", ROUTER_FOUND, R_STREAM_PUT, "", 1, {"orders"}, "parameter, later method"},
    {"DELETE", "/streams/orders", ROUTER_FOUND, R_STREAM_DELETE, "", 1, {"orders"}, "parameter, last method"},
    {"GET", "/streams/orders/events/42", ROUTER_FOUND, R_EVENT_GET, "", 2, {"orders", "42"}, "two parameters"},
    {"POST", "/queues/jobs/messages", ROUTER_FOUND, R_MESSAGES_POST, "", 1, {"jobs"}, "parameter between literals"},
    {"GET", "/a/1/2/3/4", ROUTER_FOUND, R_FOUR_PARAMS, "", 4, {"1", "2", "3", "4"}, "HTTP_MAX_PARAMS parameters"},
    {"GET", "/a/1/2/3/4/5", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "one segment more than the pattern"},
    {"GET", "/a/1/2/3", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "one segment fewer than the pattern"},
    /* percent-decoding, one segment at a time */
    {"GET", "/streams/a%2Fb", ROUTER_FOUND, R_STREAM_GET, "", 1, {"a/b"}, "%2F stays inside the parameter"},
    {"GET",
     "/streams/a%2fb/events/7",
     ROUTER_FOUND,
     R_EVENT_GET,
     "",
     2,
     {"a/b", "7"},
     "lower-case %2f, not a new segment"},
    {"GET", "/streams/%2F", ROUTER_FOUND, R_STREAM_GET, "", 1, {"/"}, "parameter that is only a slash"},
    {"GET", "/streams/caf%C3%A9", ROUTER_FOUND, R_STREAM_GET, "", 1, {"caf\xC3\xA9"}, "UTF-8 escapes"},
    {"GET", "/streams/a+b", ROUTER_FOUND, R_STREAM_GET, "", 1, {"a+b"}, "'+' is not a space in a path"},
    {"GET", "/streams/a%20b", ROUTER_FOUND, R_STREAM_GET, "", 1, {"a b"}, "%20 is a space"},
    {"GET", "/streams/a%2", ROUTER_FOUND, R_STREAM_GET, "", 1, {BAD}, "truncated escape: NULL value"},
    {"GET", "/streams/%zz", ROUTER_FOUND, R_STREAM_GET, "", 1, {BAD}, "non-hex escape: NULL value"},
    {"GET", "/streams/100%", ROUTER_FOUND, R_STREAM_GET, "", 1, {BAD}, "lone percent: NULL value"},
    {"GET", "/streams/a%00b", ROUTER_FOUND, R_STREAM_GET, "", 1, {BAD}, "%00: NULL value"},
    {"GET", "/streams/%zz/events/5", ROUTER_FOUND, R_EVENT_GET, "", 2, {BAD, "5"}, "only the bad segment is NULL"},
    {"GET", "/streams/ok/events/%0", ROUTER_FOUND, R_EVENT_GET, "", 2, {"ok", BAD}, "bad escape in the last segment"},
    {"GET", "/stream%73", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "literal segments are not decoded"},
    /* HEAD */
    {"HEAD", "/healthz", ROUTER_FOUND, R_HEALTHZ, "", 0, {0}, "HEAD matches a GET route"},
    {"HEAD", "/streams/x", ROUTER_FOUND, R_STREAM_GET, "", 1, {"x"}, "HEAD with a parameter"},
    {"HEAD", "/queues/q/messages", ROUTER_METHOD_NOT_ALLOWED, R_NONE, "POST", 0, {0}, "HEAD on a POST-only path"},
    /* 405 and Allow */
    {"DELETE", "/streams", ROUTER_METHOD_NOT_ALLOWED, R_NONE, "GET, HEAD, POST", 0, {0}, "Allow lists HEAD after GET"},
    {"POST", "/streams/x", ROUTER_METHOD_NOT_ALLOWED, R_NONE, "GET, HEAD, PUT, DELETE", 0, {0}, "Allow in table order"},
    {"GET", "/queues/q/messages", ROUTER_METHOD_NOT_ALLOWED, R_NONE, "POST", 0, {0}, "no HEAD without GET"},
    {"PUT", "/healthz", ROUTER_METHOD_NOT_ALLOWED, R_NONE, "GET, HEAD", 0, {0}, "literal path, wrong method"},
    {"PATCH",
     "/streams/x",
     ROUTER_METHOD_NOT_ALLOWED,
     R_NONE,
     "GET, HEAD, PUT, DELETE",
     0,
     {0},
     "method no route uses"},
    {"get", "/healthz", ROUTER_METHOD_NOT_ALLOWED, R_NONE, "GET, HEAD", 0, {0}, "methods are case-sensitive"},
    {"POST",
     "/streams/%zz",
     ROUTER_METHOD_NOT_ALLOWED,
     R_NONE,
     "GET, HEAD, PUT, DELETE",
     0,
     {0},
     "405 with a bad escape"},
    /* 404 */
    {"GET", "/nope", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "unknown path"},
    {"POST", "/nope", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "unknown path is 404 for any method"},
    {"GET", "", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "empty path"},
    {"GET", "healthz", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "no leading slash"},
    {"GET", "/streams/x/events", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "missing last segment"},
    /* trailing slash and empty segments */
    {"GET", "/healthz/", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "trailing slash on a literal"},
    {"GET",
     "/streams/",
     ROUTER_FOUND,
     R_STREAM_GET,
     "",
     1,
     {""},
     "trailing slash: an empty parameter (the handler refuses the name)"},
    {"GET", "/streams/x/", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "trailing slash after a parameter"},
    {"GET", "//healthz", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "empty first segment"},
    {"GET", "/streams//events/1", ROUTER_FOUND, R_EVENT_GET, "", 2, {"", "1"}, "empty parameter segment"},
    {"GET", "/streams/x//1", ROUTER_NOT_FOUND, R_NONE, "", 0, {0}, "empty literal segment"},
    {"GET", "/a/1//3/4", ROUTER_FOUND, R_FOUR_PARAMS, "", 4, {"1", "", "3", "4"}, "empty segment among parameters"},
};

START_TEST(test_router_rows)
{
    struct route_match m;
    enum router_result got = router_match(table, ARRAY_LEN(table), rows[_i].method, rows[_i].path, &m);

    ck_assert_msg(got == rows[_i].want, "row %d (%s): %s %s gave %d, want %d", _i, rows[_i].why, rows[_i].method,
                  rows[_i].path, got, rows[_i].want);
    switch (got) {
    case ROUTER_FOUND:
        ck_assert_msg(m.route == &table[rows[_i].route], "row %d (%s): matched %s %s", _i, rows[_i].why,
                      m.route ? m.route->method : "-", m.route ? m.route->pattern : "-");
        ck_assert_msg(m.nparams == rows[_i].nparams, "row %d (%s): %d params", _i, rows[_i].why, m.nparams);
        for (int k = 0; k < m.nparams; k++) {
            const char *want = rows[_i].values[k];
            if (!want)
                ck_assert_msg(m.values[k] == NULL, "row %d (%s): value %d should be NULL, is \"%s\"", _i, rows[_i].why,
                              k, m.values[k]);
            else
                ck_assert_msg(m.values[k] && strcmp(m.values[k], want) == 0,
                              "row %d (%s): value %d is \"%s\", want \"%s\"", _i, rows[_i].why, k,
                              m.values[k] ? m.values[k] : "(null)", want);
        }
        break;
    case ROUTER_METHOD_NOT_ALLOWED:
        ck_assert_msg(strcmp(m.allow, rows[_i].allow) == 0, "row %d (%s): Allow \"%s\", want \"%s\"", _i, rows[_i].why,
                      m.allow, rows[_i].allow);
        ck_assert_msg(m.nparams == 0, "row %d (%s): 405 kept %d params", _i, rows[_i].why, m.nparams);
        break;
    case ROUTER_NOT_FOUND:
        ck_assert_msg(m.allow[0] == '\0', "row %d (%s): 404 with Allow \"%s\"", _i, rows[_i].why, m.allow);
        ck_assert_msg(m.nparams == 0, "row %d (%s): 404 kept %d params", _i, rows[_i].why, m.nparams);
        break;
    }
    router_match_free(&m);
}
END_TEST

/* True when `name` (which points into a pattern and ends at '}') is `want`. */
static bool param_name_is(const char *name, const char *want)
{
    size_t len = strlen(want);
    return strncmp(name, want, len) == 0 && name[len] == '}';
}

START_TEST(test_param_names)
{
    struct route_match m;
    ck_assert_int_eq(router_match(table, ARRAY_LEN(table), "GET", "/streams/s/events/9", &m), ROUTER_FOUND);
    ck_assert_int_eq(m.nparams, 2);
    ck_assert_msg(param_name_is(m.names[0], "stream"), "first name: %.8s", m.names[0]);
    ck_assert_msg(param_name_is(m.names[1], "offset"), "second name: %.8s", m.names[1]);
    router_match_free(&m);
}
END_TEST

START_TEST(test_free_resets)
{
    struct route_match m;
    ck_assert_int_eq(router_match(table, ARRAY_LEN(table), "GET", "/streams/s/events/9", &m), ROUTER_FOUND);
    router_match_free(&m);
    ck_assert_int_eq(m.nparams, 0);
    ck_assert_ptr_null(m.values[0]);
    ck_assert_ptr_null(m.values[1]);
    router_match_free(&m); /* a second free is harmless */
}
END_TEST

START_TEST(test_reuse_match)
{
    /* A match struct reused after a 405 must not carry the old Allow list. */
    struct route_match m;
    ck_assert_int_eq(router_match(table, ARRAY_LEN(table), "DELETE", "/streams", &m), ROUTER_METHOD_NOT_ALLOWED);
    router_match_free(&m);
    ck_assert_int_eq(router_match(table, ARRAY_LEN(table), "GET", "/streams", &m), ROUTER_FOUND);
    ck_assert_str_eq(m.allow, "");
    router_match_free(&m);
    ck_assert_int_eq(router_match(table, ARRAY_LEN(table), "GET", "/nope", &m), ROUTER_NOT_FOUND);
    ck_assert_str_eq(m.allow, "");
    ck_assert_ptr_null(m.route);
    router_match_free(&m);
}
END_TEST

START_TEST(test_empty_table)
{
    struct route_match m;
    ck_assert_int_eq(router_match(table, 0, "GET", "/healthz", &m), ROUTER_NOT_FOUND);
    router_match_free(&m);
}
END_TEST

static Suite *router_suite(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_router_rows, 0, (int)ARRAY_LEN(rows));
    tcase_add_test(tc, test_param_names);
    tcase_add_test(tc, test_free_resets);
    tcase_add_test(tc, test_reuse_match);
    tcase_add_test(tc, test_empty_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(router_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
