/* Webhook delivery as a receiver sees it (API.md, "Webhooks"): a loopback
 * receiver (receiver.h) records every POST the service makes and answers with
 * the status the test chose. Every event in order and signed, retries of the
 * same batch with growing gaps, the types filter and prefix webhooks in global
 * order, pause and resume, and replay after the position is moved back.
 * Signatures are checked here with OpenSSL, independently of the service. The
 * resources themselves are in test_webhooks.c; two instances sharing the work
 * in test_webhook_failover.c. Delivery is not timed tightly: each expectation
 * is polled for several seconds. */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "receiver.h"
#include "streams_fixtures.h"

#define SECRET "whsec-delivery-test-0123456789"
#define NAME_MAX_LEN 96

/* A name of unique_name's, copied out of its rotating buffers. */
static void name_into(char out[NAME_MAX_LEN], const char *prefix)
{
    snprintf(out, NAME_MAX_LEN, "%s", unique_name(prefix));
}

static struct receiver *start_receiver(void)
{
    struct receiver *rc = receiver_start();
    ck_assert_msg(rc != NULL, "the receiver could not listen");
    return rc;
}

/* PUT /webhooks/{name} with {"url": the receiver, "secret": SECRET, `members`}; asserts 201. */
static void create_hook(const char *name, const struct receiver *rc, const char *members)
{
    struct response *r =
        requestf("PUT", fmt("/webhooks/%s", name), "{\"url\":\"http://127.0.0.1:%d/hook\",\"secret\":\"%s\",%s}",
                 receiver_port(rc), SECRET, members);
    EXPECT_JSON(r, 201);
    ck_assert_str_eq(str_field(r->json, "name"), name);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(r->json, "secret")); /* ours is not echoed */
    response_free(r);
}

/* GET /webhooks/{name}, asserted 200; returns the body (delete it). */
static cJSON *get_hook(const char *name)
{
    struct response *r = get("/webhooks/%s", name);
    EXPECT_JSON(r, 200);
    cJSON *json = r->json;
    r->json = NULL;
    response_free(r);
    return json;
}

/* Polls GET /webhooks/{name} for up to `seconds` until its position is `position`. */
static void expect_position(const char *name, long long position, double seconds)
{
    double deadline = now_seconds() + seconds;
    long long seen;
    for (;;) {
        cJSON *hook = get_hook(name);
        seen = int_field(hook, "position");
        cJSON_Delete(hook);
        if (seen == position || now_seconds() > deadline)
            break;
        usleep(100 * 1000);
    }
    ck_assert_msg(seen == position, "webhook %s: position %lld after %.0f s, want %lld", name, seen, seconds, position);
}

/* Appends events of the comma-separated `types` to `stream` in one batch; asserts 201. */
static void append_types(const char *stream, const char *types)
{
    char body[2048];
    size_t n = (size_t)snprintf(body, sizeof body, "{\"events\":[");
    for (const char *t = types; *t;) {
        size_t len = strcspn(t, ",");
        n += (size_t)snprintf(body + n, sizeof body - n, "%s{\"type\":\"%.*s\",\"data\":{\"t\":\"%.*s\"}}",
                              t == types ? "" : ",", (int)len, t, (int)len, t);
        t += len + (t[len] == ',');
    }
    snprintf(body + n, sizeof body - n, "]}");
    struct response *r = append_raw(stream, body, NULL);
    EXPECT_JSON(r, 201);
    response_free(r);
}

/* GET of `path` (a read), asserted 200; returns its "events" array, detached (delete it). */
static cJSON *read_events(const char *path)
{
    struct response *r = get("%s", path);
    EXPECT_JSON(r, 200);
    cJSON *events = cJSON_DetachItemFromObjectCaseSensitive(r->json, "events");
    ck_assert_msg(cJSON_IsArray(events), "no events in %s", r->body);
    response_free(r);
    return events;
}

/* "v1," + base64(HMAC-SHA256(secret, id "." timestamp "." body)), computed here. */
static void expected_signature(const char *secret, const struct received *req, char *out, size_t size)
{
    size_t head = strlen(req->webhook_id) + strlen(req->webhook_ts) + 2;
    unsigned char *msg = malloc(head + req->len + 1);
    ck_assert_ptr_nonnull(msg);
    snprintf((char *)msg, head + 1, "%s.%s.", req->webhook_id, req->webhook_ts);
    memcpy(msg + head, req->body, req->len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, head + req->len, mac, &mac_len));
    free(msg);
    ck_assert_uint_eq(mac_len, 32);
    unsigned char b64[64];
    int b64_len = EVP_EncodeBlock(b64, mac, (int)mac_len);
    ck_assert_int_eq(b64_len, 44);
    snprintf(out, size, "v1,%s", (const char *)b64);
}

/* True when one of the space-separated signatures in `header` is `want`. */
static bool signature_listed(const char *header_value, const char *want)
{
    size_t wlen = strlen(want);
    for (const char *s = header_value; *s;) {
        size_t len = strcspn(s, " ");
        if (len == wlen && !strncmp(s, want, len))
            return true;
        s += len;
        s += strspn(s, " ");
    }
    return false;
}

/* Asserts that `req` is a delivery of webhook `name` as the contract has it
 * (POST, JSON, Standard Webhooks headers, a signature that verifies with
 * `secret`, {"webhook", "events"} with 1..max_batch events); returns its body
 * (delete it). */
static cJSON *check_delivery(const struct received *req, int index, const char *name, const char *secret, int max_batch)
{
    ck_assert_msg(!req->error[0], "request %d malformed: %s", index, req->error);
    ck_assert_str_eq(req->method, "POST");
    ck_assert_str_eq(req->path, "/hook");
    ck_assert_msg(!strncasecmp(req->content_type, "application/json", 16), "request %d: Content-Type %s", index,
                  req->content_type);
    ck_assert_msg(is_uuid(req->webhook_id), "request %d: webhook-id \"%s\"", index, req->webhook_id);
    ck_assert_msg(matches("^[0-9]+$", req->webhook_ts), "request %d: webhook-timestamp \"%s\"", index, req->webhook_ts);
    double ts = atof(req->webhook_ts);
    ck_assert_msg(ts > req->wall - 30 && ts < req->wall + 5, "request %d: webhook-timestamp %s, received at %.0f",
                  index, req->webhook_ts, req->wall);
    char want[96];
    expected_signature(secret, req, want, sizeof want);
    ck_assert_msg(signature_listed(req->webhook_sig, want), "request %d: webhook-signature \"%s\", want \"%s\"", index,
                  req->webhook_sig, want);
    cJSON *body = received_json(req);
    ck_assert_msg(body != NULL, "request %d: body is not JSON: %s", index, req->body);
    ck_assert_str_eq(str_field(body, "webhook"), name);
    int n = array_size(body, "events");
    ck_assert_msg(n >= 1 && n <= max_batch, "request %d: %d events (max_batch %d)", index, n, max_batch);
    return body;
}

/* Asserts that `event` is, member for member, `want` as the read returned it. */
static void expect_same_event(const cJSON *event, const cJSON *want, const char *where)
{
    if (cJSON_Compare(event, want, true))
        return;
    char *a = cJSON_PrintUnformatted(event), *b = cJSON_PrintUnformatted(want);
    ck_abort_msg("%s: delivered %s, the read has %s", where, a, b ? b : "nothing");
}

START_TEST(every_event_once_in_order_signed_in_batches)
{
    struct receiver *rc = start_receiver();
    char stream[NAME_MAX_LEN], name[NAME_MAX_LEN];
    name_into(stream, "whd");
    name_into(name, "hook");
    append_n(stream, 25, "A");
    create_hook(name, rc, fmt("\"stream\":\"%s\",\"from\":\"start\",\"max_batch\":10", stream));

    ck_assert_msg(receiver_wait_acked(rc, 25, 15), "the receiver got %d of 25 events in 15 s (%d requests)",
                  receiver_acked_events(rc), receiver_count(rc));
    char *more = numbered_batch("events", "A", 25, 5);
    struct response *r = append_raw(stream, more, NULL);
    free(more);
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 25);
    response_free(r);
    ck_assert_msg(receiver_wait_acked(rc, 30, 10), "the receiver got %d of 30 events in 10 s more",
                  receiver_acked_events(rc));
    expect_position(name, 30, 5);
    sleep(2); /* anything sent twice would come now */

    cJSON *read = read_events(fmt("/streams/%s/events?from=0&limit=100", stream));
    ck_assert_int_eq(cJSON_GetArraySize(read), 30);
    int requests = receiver_count(rc);
    ck_assert_msg(requests >= 3, "%d requests for 30 events in batches of 10", requests);
    int next = 0;
    for (int i = 0; i < requests; i++) {
        const struct received *req = receiver_at(rc, i);
        ck_assert_int_eq(req->status, 200);
        cJSON *body = check_delivery(req, i, name, SECRET, 10);
        for (int k = 0; k < array_size(body, "events"); k++, next++) {
            const cJSON *event = array_item(body, "events", k);
            ck_assert_msg(int_field(event, "offset") == next, "request %d event %d: offset %lld, want %d", i, k,
                          int_field(event, "offset"), next);
            ck_assert_int_eq(int_field(field(event, "data"), "i"), next);
            expect_same_event(event, cJSON_GetArrayItem(read, next), fmt("request %d event %d", i, k));
        }
        cJSON_Delete(body);
        for (int j = 0; j < i; j++)
            ck_assert_msg(strcmp(receiver_at(rc, j)->webhook_id, req->webhook_id),
                          "requests %d and %d, both answered 200, share webhook-id %s", j, i, req->webhook_id);
    }
    ck_assert_int_eq(next, 30); /* all 30, none twice */
    cJSON_Delete(read);

    cJSON *hook = get_hook(name);
    ck_assert_int_eq(int_field(hook, "position"), 30);
    ck_assert_str_eq(str_field(hook, "state"), "active");
    ck_assert(is_timestamp(str_field(hook, "last_delivery_at")));
    ck_assert_int_eq(int_field(hook, "consecutive_failures"), 0);
    ck_assert(cJSON_IsNull(field(hook, "last_error")));
    cJSON_Delete(hook);
    EXPECT_204_FREE(request("DELETE", fmt("/webhooks/%s", name), NULL));
    receiver_stop(rc);
}
END_TEST

START_TEST(a_refused_batch_is_retried_the_same_with_growing_gaps)
{
    struct receiver *rc = start_receiver();
    for (int i = 0; i < 3; i++)
        receiver_answer(rc, 500);
    char stream[NAME_MAX_LEN], name[NAME_MAX_LEN];
    name_into(stream, "whr");
    name_into(name, "hook");
    append_n(stream, 3, "A");
    create_hook(name, rc, fmt("\"stream\":\"%s\",\"from\":\"start\",\"max_batch\":10", stream));
    ck_assert_msg(receiver_wait(rc, 1, 10), "no delivery within 10 s");

    /* While the receiver refuses: failing, counted, with an error and a next attempt; never skipped. */
    int failing_seen = 0;
    long long most_failures = 0;
    double deadline = receiver_now() + 20;
    while (receiver_count(rc) < 4 && receiver_now() < deadline) {
        cJSON *hook = get_hook(name);
        if (receiver_count(rc) >= 4) { /* the answer may have been the 200 */
            cJSON_Delete(hook);
            break;
        }
        const char *state = str_field(hook, "state");
        ck_assert_int_eq(int_field(hook, "position"), 0);
        if (!strcmp(state, "failing")) {
            failing_seen++;
            long long failures = int_field(hook, "consecutive_failures");
            ck_assert_msg(failures >= 1 && failures <= 3, "consecutive_failures %lld after at most 3 refusals",
                          failures);
            most_failures = failures > most_failures ? failures : most_failures;
            const cJSON *error = field(hook, "last_error");
            ck_assert_msg(cJSON_IsString(error) && error->valuestring[0], "failing without a last_error");
            ck_assert(is_timestamp(str_field(hook, "next_attempt_at")));
        } else {
            /* Only before the first refusal is recorded. */
            ck_assert_msg(!strcmp(state, "active") && failing_seen == 0, "state %s while refused", state);
        }
        cJSON_Delete(hook);
        usleep(100 * 1000);
    }
    ck_assert_msg(receiver_count(rc) >= 4, "%d deliveries in 20 s, want 4 (three refused, then accepted)",
                  receiver_count(rc));
    ck_assert_msg(failing_seen > 0, "never saw state failing between the refusals");
    ck_assert_int_eq(most_failures, 3);

    const struct received *req[4];
    for (int i = 0; i < 4; i++)
        req[i] = receiver_at(rc, i);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(req[i]->status, i < 3 ? 500 : 200);
    for (int i = 0; i < 4; i++) {
        cJSON *body = check_delivery(req[i], i, name, SECRET, 10);
        ck_assert_int_eq(array_size(body, "events"), 3);
        for (int k = 0; k < 3; k++)
            ck_assert_int_eq(int_field(array_item(body, "events", k), "offset"), k);
        cJSON_Delete(body);
        ck_assert_str_eq(req[i]->webhook_id, req[0]->webhook_id);
        ck_assert_msg(req[i]->len == req[0]->len && !memcmp(req[i]->body, req[0]->body, req[0]->len),
                      "attempt %d sent another body:\n%s\nfirst:\n%s", i + 1, req[i]->body, req[0]->body);
    }
    double gap[3], want[3] = {1, 2, 4};
    for (int i = 0; i < 3; i++) {
        gap[i] = req[i + 1]->at - req[i]->at;
        ck_assert_msg(gap[i] >= 0.8 * want[i], "retry %d came %.2f s after the refusal, want about %.0f s", i + 1,
                      gap[i], want[i]);
    }
    ck_assert_msg(gap[0] < gap[1] && gap[1] < gap[2], "gaps %.2f, %.2f, %.2f s do not grow", gap[0], gap[1], gap[2]);

    double until = now_seconds() + 5;
    cJSON *hook = get_hook(name);
    while (strcmp(str_field(hook, "state"), "active") && now_seconds() < until) {
        cJSON_Delete(hook);
        usleep(100 * 1000);
        hook = get_hook(name);
    }
    ck_assert_str_eq(str_field(hook, "state"), "active");
    ck_assert_int_eq(int_field(hook, "consecutive_failures"), 0);
    ck_assert_int_eq(int_field(hook, "position"), 3);
    ck_assert(is_timestamp(str_field(hook, "last_delivery_at")));
    cJSON_Delete(hook);
    sleep(1);
    ck_assert_int_eq(receiver_count(rc), 4); /* delivered: not sent again */
    EXPECT_204_FREE(request("DELETE", fmt("/webhooks/%s", name), NULL));
    receiver_stop(rc);
}
END_TEST

START_TEST(a_prefix_webhook_delivers_its_types_in_global_order)
{
    struct receiver *rc = start_receiver();
    char prefix[NAME_MAX_LEN], a[NAME_MAX_LEN + 2], b[NAME_MAX_LEN + 2], other[NAME_MAX_LEN + 1], name[NAME_MAX_LEN];
    name_into(prefix, "whp");
    name_into(name, "hook");
    snprintf(a, sizeof a, "%s-a", prefix);
    snprintf(b, sizeof b, "%s-b", prefix);
    snprintf(other, sizeof other, "o%s", prefix); /* does not start with the prefix */
    append_types(a, "A,B,A");
    append_types(b, "B,A");
    create_hook(name, rc, fmt("\"stream_prefix\":\"%s\",\"types\":[\"A\"],\"from\":\"start\",\"max_batch\":2", prefix));
    append_types(other, "A");
    append_types(b, "A,A");
    append_types(a, "B,A");

    /* 3 A events in each stream: 6, in batches of at most 2. */
    ck_assert_msg(receiver_wait_acked(rc, 6, 15), "the receiver got %d of 6 events in 15 s", receiver_acked_events(rc));
    sleep(2); /* anything sent twice, or not of type A, would come now */

    cJSON *want = read_events(fmt("/events?from_position=0&stream_prefix=%s&type=A&limit=100", prefix));
    ck_assert_int_eq(cJSON_GetArraySize(want), 6);
    int requests = receiver_count(rc), next = 0;
    long long last = 0;
    ck_assert_int_ge(requests, 3);
    for (int i = 0; i < requests; i++) {
        const struct received *req = receiver_at(rc, i);
        ck_assert_int_eq(req->status, 200);
        cJSON *body = check_delivery(req, i, name, SECRET, 2);
        for (int k = 0; k < array_size(body, "events"); k++, next++) {
            const cJSON *event = array_item(body, "events", k);
            ck_assert_str_eq(str_field(event, "type"), "A");
            const char *stream = str_field(event, "stream");
            ck_assert_msg(!strcmp(stream, a) || !strcmp(stream, b), "delivered an event of %s", stream);
            long long position = int_field(event, "global_position");
            ck_assert_msg(position > last, "global_position %lld after %lld", position, last);
            last = position;
            ck_assert_msg(next < 6, "more than the 6 A events");
            expect_same_event(event, cJSON_GetArrayItem(want, next), fmt("request %d event %d", i, k));
        }
        cJSON_Delete(body);
    }
    ck_assert_int_eq(next, 6);
    cJSON_Delete(want);
    /* The last event of the prefix is an A: the position is its global position. */
    expect_position(name, last, 5);
    EXPECT_204_FREE(request("DELETE", fmt("/webhooks/%s", name), NULL));
    receiver_stop(rc);
}
END_TEST

/* The offsets of every event the receiver got, in arrival order, as "0,1,2,…". */
static const char *delivered_offsets(struct receiver *rc, const char *name)
{
    static char out[1024];
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < receiver_count(rc); i++) {
        const struct received *req = receiver_at(rc, i);
        ck_assert_int_eq(req->status, 200);
        cJSON *body = check_delivery(req, i, name, SECRET, 10);
        for (int k = 0; k < array_size(body, "events"); k++)
            n += (size_t)snprintf(out + n, sizeof out - n, "%s%lld", n ? "," : "",
                                  int_field(array_item(body, "events", k), "offset"));
        cJSON_Delete(body);
    }
    ck_assert_uint_lt(n, sizeof out - 1);
    return out;
}

START_TEST(pause_holds_delivery_resume_continues_and_rewind_replays)
{
    struct receiver *rc = start_receiver();
    char stream[NAME_MAX_LEN], name[NAME_MAX_LEN];
    name_into(stream, "whz");
    name_into(name, "hook");
    append_n(stream, 3, "A");
    create_hook(name, rc, fmt("\"stream\":\"%s\",\"from\":\"start\",\"max_batch\":10", stream));
    ck_assert_msg(receiver_wait_acked(rc, 3, 10), "the receiver got %d of 3 events in 10 s", receiver_acked_events(rc));
    expect_position(name, 3, 5);

    struct response *r = request("POST", fmt("/webhooks/%s/pause", name), NULL);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "state"), "paused");
    response_free(r);
    int before = receiver_count(rc);
    char *more = numbered_batch("events", "A", 3, 3);
    r = append_raw(stream, more, NULL);
    free(more);
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(response_int(r, "first_offset"), 3);
    response_free(r);
    sleep(3);
    ck_assert_msg(receiver_count(rc) == before, "%d deliveries while paused", receiver_count(rc) - before);
    cJSON *hook = get_hook(name);
    ck_assert_str_eq(str_field(hook, "state"), "paused");
    ck_assert_int_eq(int_field(hook, "position"), 3);
    cJSON_Delete(hook);

    r = request("POST", fmt("/webhooks/%s/resume", name), NULL);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "state"), "active");
    response_free(r);
    ck_assert_msg(receiver_wait_acked(rc, 6, 10), "after resume the receiver has %d of 6 events in 10 s",
                  receiver_acked_events(rc));
    expect_position(name, 6, 5);
    ck_assert_str_eq(delivered_offsets(rc, name), "0,1,2,3,4,5");

    r = requestf("PUT", fmt("/webhooks/%s/position", name), "{\"position\":0}");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "position"), 0);
    response_free(r);
    ck_assert_msg(receiver_wait_acked(rc, 12, 10), "after the rewind the receiver has %d of 12 events in 10 s",
                  receiver_acked_events(rc));
    expect_position(name, 6, 5);
    sleep(1);
    ck_assert_str_eq(delivered_offsets(rc, name), "0,1,2,3,4,5,0,1,2,3,4,5");

    /* The replay is the same events, as the read returns them. */
    cJSON *read = read_events(fmt("/streams/%s/events?from=0&limit=100", stream));
    for (int i = 0, seen = 0; i < receiver_count(rc); i++) {
        cJSON *body = received_json(receiver_at(rc, i));
        for (int k = 0; k < array_size(body, "events"); k++, seen++)
            expect_same_event(array_item(body, "events", k), cJSON_GetArrayItem(read, seen % 6),
                              fmt("request %d event %d", i, k));
        cJSON_Delete(body);
    }
    cJSON_Delete(read);
    EXPECT_204_FREE(request("DELETE", fmt("/webhooks/%s", name), NULL));
    receiver_stop(rc);
}
END_TEST

/* A batch that keeps failing while its stream is deleted ends there: the
 * webhook goes back to active at the batch's end, and new events of a new
 * stream of that name are delivered from that position on. */
START_TEST(a_batch_whose_stream_was_deleted_is_not_retried_forever)
{
    struct receiver *rc = start_receiver();
    receiver_answer(rc, 500); /* the first attempt fails; its retry comes after the delete */
    char stream[NAME_MAX_LEN], name[NAME_MAX_LEN];
    name_into(stream, "whd");
    name_into(name, "hook");
    append_n(stream, 3, "A");
    create_hook(name, rc, fmt("\"stream\":\"%s\",\"from\":\"start\",\"max_batch\":10", stream));
    ck_assert_msg(receiver_wait(rc, 1, 10), "no delivery within 10 s");
    EXPECT_204_FREE(request("DELETE", fmt("/streams/%s", stream), NULL));
    /* The retry finds nothing to send: the batch is over, the position at its end. */
    expect_position(name, 3, 15);
    cJSON *hook = get_hook(name);
    ck_assert_str_eq(str_field(hook, "state"), "active");
    ck_assert_int_eq(int_field(hook, "consecutive_failures"), 0);
    cJSON_Delete(hook);
    int before = receiver_count(rc);
    append_n(stream, 5, "A"); /* offsets 0-4 of the new stream: 3 and 4 are past the position */
    expect_position(name, 5, 15);
    ck_assert_int_eq(receiver_count(rc), before + 1);
    cJSON *body = received_json(receiver_at(rc, before));
    ck_assert_int_eq(array_size(body, "events"), 2);
    ck_assert_int_eq(int_field(array_item(body, "events", 0), "offset"), 3);
    cJSON_Delete(body);
    EXPECT_204_FREE(request("DELETE", fmt("/webhooks/%s", name), NULL));
    receiver_stop(rc);
}
END_TEST

static Suite *webhook_delivery_suite(void)
{
    Suite *s = suite_create("webhook_delivery");
    TCase *tc = tcase_create("webhook_delivery");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_event_once_in_order_signed_in_batches);
    tcase_add_test(tc, a_refused_batch_is_retried_the_same_with_growing_gaps);
    tcase_add_test(tc, a_prefix_webhook_delivers_its_types_in_global_order);
    tcase_add_test(tc, pause_holds_delivery_resume_continues_and_rewind_replays);
    tcase_add_test(tc, a_batch_whose_stream_was_deleted_is_not_retried_forever);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *args[] = {"--max-batch", "10", "--webhook-allow", "127.0.0.1", NULL};
    return harness_main(webhook_delivery_suite(), args);
}
