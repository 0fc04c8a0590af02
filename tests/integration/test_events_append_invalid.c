/* Appends that are refused (routes/events.c): bad bodies (JSON, events, types,
 * ids, metadata, expected_version) are 400, a body over --max-body is 413, and bad
 * stream names are 400 on every stream route; none of them changes a stream.
 * Accepted appends are in test_events_append.c. The service runs with small
 * limits (see streams_fixtures.h) so that batch and body edges are cheap to reach. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "harness.h"
#include "streams_fixtures.h"

/* ------------------------------------------------------------ helpers */

/* A copy of unique_name(prefix) that survives later unique_name calls. */
static char *fresh(const char *prefix)
{
    return strdup(unique_name(prefix));
}

/* --------------------------------------------------------- bad input */

START_TEST(bad_append_bodies_are_400_and_change_nothing)
{
    const char *s = unique_name("s");
    char *never = fresh("s");
    append_n(s, 1, "A");

    char over_type[202];
    memset(over_type, 'T', 201);
    over_type[201] = '\0';
    const char *long_type = fmt("{\"events\":[{\"type\":\"%s\",\"data\":1}]}", over_type);
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
        {"{\"events\":[{\"type\":\"A\",\"data\":1}]", "invalid_json"},             /* truncated */
        {"not json", "invalid_json"},                                              /* not JSON */
        {"{\"events\":[{\"type\":\"A\",\"data\":1}]} x", "invalid_json"},          /* trailing garbage */
        {"{\"events\":[{\"type\":\"A\",\"data\":\"\xff\xfe\"}]}", "invalid_json"}, /* not UTF-8 */
        {"{\"events\":[{\"type\":\"A\",\"data\":\"\xc3\"}]}", "invalid_json"},     /* cut UTF-8 sequence */
        /* Well-formed JSON that is not an object is a bad request, not bad JSON. */
        {"[{\"type\":\"A\",\"data\":1}]", "invalid_request"},                          /* an array */
        {"[1]", "invalid_request"},                                                    /* an array */
        {"\"events\"", "invalid_request"},                                             /* a string */
        {"\"x\"", "invalid_request"},                                                  /* a string */
        {"null", "invalid_request"},                                                   /* null */
        {"42", "invalid_request"},                                                     /* a number */
        {"{}", "invalid_request"},                                                     /* events missing */
        {"{\"events\":null}", "invalid_request"},                                      /* events null */
        {"{\"events\":[]}", "invalid_request"},                                        /* empty */
        {"{\"events\":{\"type\":\"A\",\"data\":1}}", "invalid_request"},               /* not an array */
        {"{\"events\":\"A\"}", "invalid_request"},                                     /* not an array */
        {too_many, "invalid_request"},                                                 /* over max batch */
        {"{\"events\":[1]}", "invalid_request"},                                       /* event not an object */
        {"{\"events\":[{\"data\":1}]}", "invalid_request"},                            /* type missing */
        {"{\"events\":[{\"type\":\"\",\"data\":1}]}", "invalid_request"},              /* type empty */
        {"{\"events\":[{\"type\":null,\"data\":1}]}", "invalid_request"},              /* type null */
        {long_type, "invalid_request"},                                                /* type 201 chars */
        {wide_type, "invalid_request"},                                                /* type 201 two-byte chars */
        {"{\"events\":[{\"type\":5,\"data\":1}]}", "invalid_request"},                 /* type a number */
        {"{\"events\":[{\"type\":[\"A\"],\"data\":1}]}", "invalid_request"},           /* type an array */
        {"{\"events\":[{\"type\":\"A\"}]}", "invalid_request"},                        /* data missing */
        {"{\"events\":[{\"type\":\"A\",\"data\":\"a\\u0000b\"}]}", "invalid_request"}, /* \u0000 in data */
        {"{\"events\":[{\"type\":\"A\",\"data\":1,\"metadata\":[1]}]}", "invalid_request"},      /* metadata array */
        {"{\"events\":[{\"type\":\"A\",\"data\":1,\"metadata\":\"m\"}]}", "invalid_request"},    /* metadata string */
        {"{\"events\":[{\"type\":\"A\",\"data\":1,\"metadata\":7}]}", "invalid_request"},        /* metadata number */
        {"{\"events\":[{\"id\":\"not-a-uuid\",\"type\":\"A\",\"data\":1}]}", "invalid_request"}, /* id */
        {"{\"events\":[{\"id\":\"\",\"type\":\"A\",\"data\":1}]}", "invalid_request"},           /* id empty */
        {"{\"events\":[{\"id\":42,\"type\":\"A\",\"data\":1}]}", "invalid_request"},             /* id number */
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
            ck_assert_msg(r->status == 400, "case %zu (%.60s): status %ld; %s", i, cases[i].body, r->status, r->body);
            EXPECT_PROBLEM(r, 400, cases[i].code);
            response_free(r);
        }
    }
    ck_assert_int_eq(stream_version(s), 0);
    ck_assert_int_eq(event_count(s), 1);
    ck_assert_int_eq(stream_version(never), LLONG_MIN);
    expect_healthy();
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
    EXPECT_PROBLEM_FREE(appendf(s, "{\"events\":[{\"type\":\"Big\",\"data\":\"%s\"}]}", pad), 413, "payload_too_large");
    ck_assert_int_eq(stream_version(s), 0);
    expect_healthy();

    /* Just under the limit is fine. */
    pad[MAX_BODY - 200] = '\0';
    struct response *r = appendf(s, "{\"events\":[{\"type\":\"Big\",\"data\":\"%s\"}]}", pad);
    EXPECT_JSON(r, 201);
    response_free(r);
    r = get("/streams/%s/events/1", s);
    EXPECT_JSON(r, 200);
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
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "stream"), name);
    response_free(r);

    /* 201 characters. */
    name[200] = 'n';
    name[201] = '\0';
    EXPECT_PROBLEM_FREE(appendf(name, "{\"events\":[{\"type\":\"A\",\"data\":1}]}"), 400, "invalid_name");
    EXPECT_PROBLEM_FREE(get("/streams/%s", name), 400, "invalid_name");
    EXPECT_PROBLEM_FREE(get("/streams/%s/events", name), 400, "invalid_name");

    /* Names are percent-decoded: an encoded valid name is the same stream. */
    const char *plain = unique_name("s");
    r = append_one(plain, "A");
    response_free(r);
    r = get("/streams/%%%02X%s", (unsigned char)plain[0], plain + 1);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "stream"), plain);
    response_free(r);

    static const char *const bad[] = {
        "%2F..%2Fx",                            /* encoded slashes */
        "a%2Fb",                                /* encoded slash */
        "%27%3B%20drop%20table%20streams%3B--", /* '; drop table streams;-- */
        "..",                                   /* dot-dot */
        ".",                                    /* dot */
        "%2E%2E",                               /* encoded dot-dot */
        "a%20b",                                /* space */
        "caf%C3%A9",                            /* non-ASCII */
        "a%00b",                                /* NUL */
        "a%ZZ",                                 /* malformed escape */
        "a*b",                                  /* not in the alphabet */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = fmt("/streams/%s/events", bad[i]);
        r = request("POST", path, "{\"events\":[{\"type\":\"A\",\"data\":1}]}");
        ck_assert_msg(r->status == 400, "POST %s: %ld %s", path, r->status, r->body);
        EXPECT_PROBLEM(r, 400, "invalid_name");
        response_free(r);
        r = request("GET", path, NULL);
        ck_assert_msg(r->status == 400, "GET %s: %ld %s", path, r->status, r->body);
        EXPECT_PROBLEM(r, 400, "invalid_name");
        response_free(r);
        path = fmt("/streams/%s", bad[i]);
        r = request("GET", path, NULL);
        ck_assert_msg(r->status == 400, "GET %s: %ld %s", path, r->status, r->body);
        EXPECT_PROBLEM(r, 400, "invalid_name");
        response_free(r);
    }
    expect_healthy();
    /* The service still serves streams after all that. */
    r = append_one(unique_name("s"), "A");
    response_free(r);
    r = get("/streams?limit=1");
    EXPECT_JSON(r, 200);
    response_free(r);
}
END_TEST

static Suite *events_append_invalid_suite(void)
{
    Suite *s = suite_create("events-append-invalid");
    TCase *tc = tcase_create("append-invalid");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bad_append_bodies_are_400_and_change_nothing);
    tcase_add_test(tc, body_over_limit_is_413_and_under_limit_is_accepted);
    tcase_add_test(tc, names_are_checked);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return streams_fixtures_main(events_append_invalid_suite());
}
