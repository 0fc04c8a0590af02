/* Webhooks as resources over HTTP: create (201, secret returned once) and
 * update (200, position kept), read, list, pause and resume, move the
 * position, delete; refused URLs, bodies and names. Delivery itself is in
 * test_webhook_delivery.c. The service allows hosts 127.0.0.1, localhost and
 * *.example.com. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "streams_fixtures.h"

static struct response *put_webhook(const char *name, const char *body)
{
    return requestf("PUT", fmt("/webhooks/%s", name), "%s", body);
}

START_TEST(create_returns_a_made_secret_once_and_update_keeps_position)
{
    const char *stream = unique_name("wh");
    append_n(stream, 5, "A");
    const char *name = unique_name("hook");
    struct response *r =
        put_webhook(name, fmt("{\"url\":\"http://127.0.0.1:9/x\",\"stream\":\"%s\",\"types\":[\"A\"]}", stream));
    EXPECT_JSON(r, 201);
    ck_assert_str_eq(str_field(r->json, "name"), name);
    ck_assert_str_eq(str_field(r->json, "stream"), stream);
    ck_assert_int_eq(int_field(r->json, "position"), 5); /* default "end": after the last event */
    ck_assert_str_eq(str_field(r->json, "state"), "active");
    ck_assert_int_eq(int_field(r->json, "max_batch"), 100);
    ck_assert_int_eq(int_field(r->json, "consecutive_failures"), 0);
    ck_assert(cJSON_IsNull(field(r->json, "last_delivery_at")));
    ck_assert(cJSON_IsNull(field(r->json, "last_error")));
    ck_assert_str_eq(cJSON_GetArrayItem(field(r->json, "types"), 0)->valuestring, "A");
    const char *secret = str_field(r->json, "secret");
    ck_assert_uint_ge(strlen(secret), 32);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(r->json, "stream_prefix"));
    response_free(r);

    r = get("/webhooks/%s", name);
    EXPECT_JSON(r, 200);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(r->json, "secret"));
    ck_assert_ptr_null(strstr(r->body, "secret"));
    response_free(r);

    EXPECT_JSON(r = requestf("PUT", fmt("/webhooks/%s/position", name), "{\"position\":2}"), 200);
    response_free(r);
    /* An update that follows the same stream keeps the position, and returns no secret. */
    r = put_webhook(name, fmt("{\"url\":\"http://localhost:8/y\",\"stream\":\"%s\",\"max_batch\":7}", stream));
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "position"), 2);
    ck_assert_int_eq(int_field(r->json, "max_batch"), 7);
    ck_assert_str_eq(str_field(r->json, "url"), "http://localhost:8/y");
    ck_assert(cJSON_IsNull(field(r->json, "types")));
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(r->json, "secret"));
    response_free(r);
    /* from moves it. */
    r = put_webhook(name, fmt("{\"url\":\"http://localhost:8/y\",\"stream\":\"%s\",\"from\":\"start\"}", stream));
    ck_assert_int_eq(int_field(r->json, "position"), 0);
    response_free(r);
    r = put_webhook(name, fmt("{\"url\":\"http://localhost:8/y\",\"stream\":\"%s\",\"from\":3}", stream));
    ck_assert_int_eq(int_field(r->json, "position"), 3);
    response_free(r);
}
END_TEST

START_TEST(client_secret_is_not_echoed_and_prefix_webhooks_start_at_the_global_end)
{
    const char *name = unique_name("hook");
    const char *stream = unique_name("whp");
    append_n(stream, 2, "A");
    struct response *r = put_webhook(
        name, fmt("{\"url\":\"https://h.example.com/p?q=1\",\"stream_prefix\":\"%s\",\"secret\":\"0123456789abcdef\"}",
                  stream));
    EXPECT_JSON(r, 201);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(r->json, "secret"));
    ck_assert_str_eq(str_field(r->json, "stream_prefix"), stream);
    long long end = int_field(r->json, "position");
    response_free(r);
    /* "end" is the global read's watermark: while a transaction of another
     * test is still open it stays below that transaction, and so may also be
     * below our two events (delivered again rather than ever skipped). Once
     * no older transaction is open, "end" is past them: the global read from
     * it has nothing of what was there before. */
    int before = -1;
    for (int attempt = 0; attempt < 100 && before != 0; attempt++) {
        if (attempt > 0) {
            usleep(50 * 1000);
            r = requestf("PUT", fmt("/webhooks/%s", name),
                         "{\"url\":\"https://h.example.com/p?q=1\",\"stream_prefix\":\"%s\",\"from\":\"end\"}", stream);
            EXPECT_JSON(r, 200);
            end = int_field(r->json, "position");
            response_free(r);
        }
        r = get("/events?from_position=%lld&stream_prefix=%s", end, stream);
        EXPECT_JSON(r, 200);
        before = array_size(r->json, "events");
        response_free(r);
    }
    ck_assert_int_eq(before, 0);
    r = get("/events?from_position=0&stream_prefix=%s", stream);
    ck_assert_int_eq(array_size(r->json, "events"), 2);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 1), "global_position"), end);
    response_free(r);
}
END_TEST

START_TEST(pause_resume_list_and_delete)
{
    const char *prefix = unique_name("lst");
    char a[96], b[96];
    snprintf(a, sizeof a, "%s-a", prefix);
    snprintf(b, sizeof b, "%s-b", prefix);
    response_free(put_webhook(b, "{\"url\":\"http://127.0.0.1:9/\",\"stream\":\"s1\"}"));
    response_free(put_webhook(a, "{\"url\":\"http://127.0.0.1:9/\",\"stream_prefix\":\"\"}"));

    struct response *r = request("POST", fmt("/webhooks/%s/pause", a), NULL);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "state"), "paused");
    ck_assert(cJSON_IsNull(field(r->json, "next_attempt_at")));
    response_free(r);

    r = get("/webhooks?prefix=%s&limit=1", prefix);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "webhooks"), 1);
    ck_assert_str_eq(str_field(array_item(r->json, "webhooks", 0), "name"), a);
    ck_assert_str_eq(str_field(r->json, "next_after"), a);
    response_free(r);
    r = get("/webhooks?prefix=%s&after=%s", prefix, a);
    ck_assert_int_eq(array_size(r->json, "webhooks"), 1);
    ck_assert_str_eq(str_field(array_item(r->json, "webhooks", 0), "name"), b);
    ck_assert(cJSON_IsNull(field(r->json, "next_after")));
    response_free(r);

    r = request("POST", fmt("/webhooks/%s/resume", a), NULL);
    ck_assert_str_eq(str_field(r->json, "state"), "active");
    ck_assert(is_timestamp(str_field(r->json, "next_attempt_at")));
    response_free(r);

    EXPECT_204_FREE(request("DELETE", fmt("/webhooks/%s", a), NULL));
    EXPECT_ABSENT(fmt("/webhooks/%s", a), "webhook_not_found");
    EXPECT_PROBLEM_FREE(request("DELETE", fmt("/webhooks/%s", a), NULL), 404, "webhook_not_found");
    EXPECT_PROBLEM_FREE(request("POST", fmt("/webhooks/%s/pause", a), NULL), 404, "webhook_not_found");
    EXPECT_PROBLEM_FREE(requestf("PUT", fmt("/webhooks/%s/position", a), "{\"position\":1}"), 404, "webhook_not_found");
}
END_TEST

START_TEST(refused_urls_bodies_and_names)
{
    static const char *const urls[] = {
        "ftp://127.0.0.1/x",
        "127.0.0.1/x",
        "http://",
        "http://evil.com/x",
        "http://example.com/x", /* *.example.com does not match the bare domain */
        "http://127.0.0.1:0/x",
        "http://127.0.0.1:70000/",
        "http://127.0.0.1/a b",
        "http://user@127.0.0.1/",
        "http://[::1/",
    };
    const char *name = unique_name("bad");
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
        EXPECT_PROBLEM_FREE(put_webhook(name, fmt("{\"url\":\"%s\",\"stream\":\"s\"}", urls[i])), 400, "invalid_url");
    static const char *const bodies[] = {
        "{\"stream\":\"s\"}",
        "{\"url\":\"http://127.0.0.1/\"}",
        "{\"url\":\"http://127.0.0.1/\",\"stream\":\"s\",\"stream_prefix\":\"s\"}",
        "{\"url\":\"http://127.0.0.1/\",\"stream\":\"s\",\"max_batch\":0}",
        "{\"url\":\"http://127.0.0.1/\",\"stream\":\"s\",\"max_batch\":1001}",
        "{\"url\":\"http://127.0.0.1/\",\"stream\":\"s\",\"from\":\"middle\"}",
        "{\"url\":\"http://127.0.0.1/\",\"stream\":\"s\",\"from\":-1}",
        "{\"url\":\"http://127.0.0.1/\",\"stream\":\"s\",\"types\":[]}",
        "{\"url\":\"http://127.0.0.1/\",\"stream\":\"s\",\"types\":[1]}",
        "{\"url\":\"http://127.0.0.1/\",\"stream\":\"s\",\"secret\":\"short\"}",
        "{\"url\":5,\"stream\":\"s\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        EXPECT_PROBLEM_FREE(put_webhook(name, bodies[i]), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(put_webhook(name, "{\"url\":\"http://127.0.0.1/\",\"stream\":\"a b\"}"), 400, "invalid_name");
    EXPECT_PROBLEM_FREE(put_webhook("..", "{\"url\":\"http://127.0.0.1/\",\"stream\":\"s\"}"), 400, "invalid_name");
    EXPECT_ABSENT(fmt("/webhooks/%s", name), "webhook_not_found");
    /* Allowed hosts pass. */
    struct response *r = put_webhook(name, "{\"url\":\"http://a.b.example.com:8443/x\",\"stream\":\"s\"}");
    EXPECT_JSON(r, 201);
    response_free(r);
}
END_TEST

static Suite *webhooks_suite(void)
{
    Suite *s = suite_create("webhooks");
    TCase *tc = tcase_create("webhooks");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, create_returns_a_made_secret_once_and_update_keeps_position);
    tcase_add_test(tc, client_secret_is_not_echoed_and_prefix_webhooks_start_at_the_global_end);
    tcase_add_test(tc, pause_resume_list_and_delete);
    tcase_add_test(tc, refused_urls_bodies_and_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *args[] = {"--max-batch", "10", "--webhook-allow", "127.0.0.1,localhost,*.example.com", NULL};
    return harness_main(webhooks_suite(), args);
}
