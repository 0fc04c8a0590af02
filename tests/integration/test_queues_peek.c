/* Queue resources (routes/queues.c), the messages in them: peeking each state
 * without delivering, pages of a peek with next_after, purge (dead letters stay)
 * and delete (messages, dead letters and config go). Metadata, configuration and
 * listing are in test_queues.c. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "harness.h"
#include "queue_fixtures.h"

/* ----------------------------------------------------------- peek */

/* GET /queues/{queue}/messages with `query`, asserted 200; returns the response to free. */
static struct response *peek(const char *queue, const char *query)
{
    struct response *r = get("/queues/%s/messages%s", queue, query);
    EXPECT_JSON(r, 200);
    return r;
}

START_TEST(peek_lists_each_state_without_delivering)
{
    const char *q = unique_name("q");
    char ids[3][UUID_LEN + 1];
    struct qf_delivery d;
    qf_enqueue_n(q, 3, "A", ids);
    struct response *r = requestf("POST", fmt("/queues/%s/messages", q),
                                  "{\"messages\":[{\"type\":\"Later\",\"data\":{},\"delay_seconds\":600}]}");
    EXPECT_JSON(r, 201);
    char later[UUID_LEN + 1];
    snprintf(later, sizeof later, "%s", str_field(array_item(r->json, "messages", 0), "id"));
    response_free(r);
    qf_dequeue_one(q, "{\"consumer\":\"worker-7\"}", &d);
    ck_assert_str_eq(d.id, ids[0]);

    r = peek(q, "?state=in_flight");
    ck_assert_int_eq(array_size(r->json, "messages"), 1);
    const cJSON *m = array_item(r->json, "messages", 0);
    ck_assert_str_eq(str_field(m, "id"), ids[0]);
    ck_assert_str_eq(str_field(m, "type"), "A");
    ck_assert_str_eq(str_field(m, "consumer"), "worker-7");
    ck_assert_str_eq(str_field(m, "visible_until"), d.visible_until);
    ck_assert_int_eq(int_field(m, "delivery_count"), 1);
    ck_assert(is_timestamp(str_field(m, "enqueued_at")));
    ck_assert(is_timestamp(str_field(m, "visible_at")));
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(m, "receipt"));
    ck_assert_ptr_null(strstr(r->body, d.receipt));
    ck_assert(cJSON_IsNull(field(r->json, "next_after")));
    response_free(r);

    r = peek(q, "?state=pending");
    ck_assert_int_eq(array_size(r->json, "messages"), 2);
    for (int k = 0; k < 2; k++) {
        m = array_item(r->json, "messages", k);
        ck_assert_str_eq(str_field(m, "id"), ids[k + 1]);
        ck_assert_int_eq(int_field(m, "delivery_count"), 0);
        ck_assert(cJSON_IsNull(field(m, "consumer")));
        ck_assert(cJSON_IsNull(field(m, "visible_until")));
    }
    response_free(r);

    r = peek(q, "?state=delayed");
    ck_assert_int_eq(array_size(r->json, "messages"), 1);
    m = array_item(r->json, "messages", 0);
    ck_assert_str_eq(str_field(m, "id"), later);
    double delay = timestamp_seconds(str_field(m, "visible_at")) - timestamp_seconds(str_field(m, "enqueued_at"));
    ck_assert_msg(delay > 599.9 && delay < 600.1, "delay %.3f", delay);
    response_free(r);

    /* No state: all of them in enqueue order. */
    r = peek(q, "");
    ck_assert_int_eq(array_size(r->json, "messages"), 4);
    ck_assert_str_eq(str_field(array_item(r->json, "messages", 0), "id"), ids[0]);
    ck_assert_str_eq(str_field(array_item(r->json, "messages", 3), "id"), later);
    response_free(r);

    /* Peeking delivered nothing. */
    QF_EXPECT_COUNTS(q, 2, 1, 1, 0);
    qf_dequeue_one(q, NULL, &d);
    ck_assert_str_eq(d.id, ids[1]);
    ck_assert_int_eq(d.delivery_count, 1);
}
END_TEST

START_TEST(peek_pages_with_next_after_and_validates)
{
    const char *q = unique_name("q");
    char ids[5][UUID_LEN + 1];
    qf_enqueue_n(q, 5, "A", ids);
    char after[64] = "";
    int seen = 0;
    for (int page = 0; page < 3; page++) {
        struct response *r =
            peek(q, after[0] ? fmt("?state=pending&limit=2&after=%s", after) : "?state=pending&limit=2");
        int n = array_size(r->json, "messages");
        ck_assert_int_eq(n, page < 2 ? 2 : 1);
        for (int k = 0; k < n; k++)
            ck_assert_str_eq(str_field(array_item(r->json, "messages", k), "id"), ids[seen++]);
        const cJSON *next = field(r->json, "next_after");
        if (page < 2) {
            /* An opaque cursor: digits, passed back as it is. */
            ck_assert(cJSON_IsString(next));
            ck_assert_uint_gt(strlen(next->valuestring), 0);
            ck_assert_uint_eq(strspn(next->valuestring, "0123456789"), strlen(next->valuestring));
            snprintf(after, sizeof after, "%s", next->valuestring);
        } else {
            ck_assert(cJSON_IsNull(next));
        }
        response_free(r);
    }
    ck_assert_int_eq(seen, 5);

    EXPECT_PROBLEM_FREE(get("/queues/%s/messages?state=done", q), 400, "invalid_parameter");
    EXPECT_PROBLEM_FREE(get("/queues/%s/messages?state=", q), 400, "invalid_parameter");
    EXPECT_PROBLEM_FREE(get("/queues/%s/messages?after=abc", q), 400, "invalid_parameter");
    EXPECT_PROBLEM_FREE(get("/queues/%s/messages?limit=0", q), 400, "invalid_parameter");
    EXPECT_PROBLEM_FREE(get("/queues/%s/messages?limit=1001", q), 400, "invalid_parameter");
    EXPECT_ABSENT(fmt("/queues/%s/messages?state=pending", unique_name("q")), "queue_not_found");
}
END_TEST

/* ----------------------------------------------------------- purge and delete */

START_TEST(purge_drops_messages_and_keeps_dead_letters)
{
    const char *q = unique_name("q");
    struct qf_delivery held, dead;
    qf_enqueue_n(q, 4, "A", NULL);
    struct response *r = requestf("POST", fmt("/queues/%s/messages", q),
                                  "{\"messages\":[{\"type\":\"Later\",\"data\":{},\"delay_seconds\":600}]}");
    EXPECT_JSON(r, 201);
    response_free(r);
    qf_dequeue_one(q, NULL, &dead);
    EXPECT_204_FREE(qf_settle(q, dead.id, "nack", fmt("{\"receipt\":\"%s\",\"requeue\":false}", dead.receipt)));
    qf_dequeue_one(q, NULL, &held);
    QF_EXPECT_COUNTS(q, 2, 1, 1, 1);

    r = request("POST", fmt("/queues/%s/purge", q), NULL);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "purged"), 4); /* 2 pending, 1 in flight, 1 delayed */
    response_free(r);
    QF_EXPECT_COUNTS(q, 0, 0, 0, 1);
    ck_assert_int_eq(qf_meta(q, "oldest_pending_age_seconds"), 0);

    /* The purged lease is gone; nothing is left to deliver; the queue stays. */
    EXPECT_PROBLEM_FREE(qf_settle(q, held.id, "ack", fmt("{\"receipt\":\"%s\"}", held.receipt)), 404,
                        "message_not_found");
    struct qf_delivery d;
    ck_assert_int_eq(qf_dequeue(q, NULL, &d, 1), 0);
    r = request("POST", fmt("/queues/%s/purge", q), NULL);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "purged"), 0);
    response_free(r);

    EXPECT_PROBLEM_FREE(request("POST", fmt("/queues/%s/purge", unique_name("q")), NULL), 404, "queue_not_found");
}
END_TEST

START_TEST(delete_removes_messages_dead_letters_and_config)
{
    const char *q = unique_name("q");
    struct qf_delivery held, dead;
    struct response *r = qf_put_config(q, "{\"visibility_timeout\":90,\"max_depth\":50}");
    EXPECT_JSON(r, 200);
    response_free(r);
    qf_enqueue_n(q, 3, "A", NULL);
    qf_dequeue_one(q, NULL, &dead);
    EXPECT_204_FREE(qf_settle(q, dead.id, "nack", fmt("{\"receipt\":\"%s\",\"requeue\":false}", dead.receipt)));
    qf_dequeue_one(q, NULL, &held);

    r = request("DELETE", fmt("/queues/%s", q), NULL);
    ck_assert_int_eq(r->status, 204);
    ck_assert_uint_eq(r->len, 0);
    response_free(r);
    EXPECT_ABSENT(fmt("/queues/%s", q), "queue_not_found");
    EXPECT_ABSENT(fmt("/queues/%s/dead-letters", q), "queue_not_found");
    EXPECT_PROBLEM_FREE(request("DELETE", fmt("/queues/%s", q), NULL), 404, "queue_not_found");
    EXPECT_PROBLEM_FREE(qf_settle(q, held.id, "ack", fmt("{\"receipt\":\"%s\"}", held.receipt)), 404,
                        "message_not_found");

    /* Written again, it is a new queue: default config, no messages, and the
     * dead letter's id is free to use. */
    r = requestf("POST", fmt("/queues/%s/messages", q), "{\"messages\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1}]}",
                 dead.id);
    EXPECT_JSON(r, 201);
    ck_assert(cJSON_IsFalse(field(array_item(r->json, "messages", 0), "duplicate")));
    response_free(r);
    r = qf_get_queue(q);
    EXPECT_CONFIG(r->json, QF_DEFAULT_VT, QF_DEFAULT_ATTEMPTS, QF_DEFAULT_RETENTION, -1);
    response_free(r);
    QF_EXPECT_COUNTS(q, 1, 0, 0, 0);
}
END_TEST

static Suite *queues_peek_suite(void)
{
    Suite *s = suite_create("queues_peek");
    TCase *tc = tcase_create("queues_peek");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, peek_lists_each_state_without_delivering);
    tcase_add_test(tc, peek_pages_with_next_after_and_validates);
    tcase_add_test(tc, purge_drops_messages_and_keeps_dead_letters);
    tcase_add_test(tc, delete_removes_messages_dead_letters_and_config);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return qf_main(queues_peek_suite());
}
