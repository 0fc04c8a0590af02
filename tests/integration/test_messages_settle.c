/* Messages (routes/messages.c), settling a delivery: ack settles once, a stale
 * receipt after redelivery changes nothing, nack requeues now or after a delay,
 * visibility extends and shortens the lease, and batch ack reports each message.
 * Enqueue and dequeue are in test_messages.c. */
#include <check.h>
#include <stdio.h>

#include "checks.h"
#include "harness.h"
#include "queue_fixtures.h"

/* The {"receipt": …} body of a settle call, with `extra` members appended. */
static const char *receipt_body(const struct qf_delivery *d, const char *extra)
{
    return fmt("{\"receipt\":\"%s\"%s}", d->receipt, extra);
}

/* ----------------------------------------------------------- ack */

START_TEST(ack_settles_once)
{
    const char *q = unique_name("q");
    struct qf_delivery d, other;
    qf_enqueue_n(q, 2, "A", NULL);
    qf_dequeue_one(q, NULL, &d);
    struct response *r = qf_settle(q, d.id, "ack", receipt_body(&d, ""));
    ck_assert_int_eq(r->status, 204);
    ck_assert_uint_eq(r->len, 0);
    response_free(r);
    QF_EXPECT_COUNTS(q, 1, 0, 0, 0);
    /* Twice: no longer in flight. */
    EXPECT_PROBLEM_FREE(qf_settle(q, d.id, "ack", receipt_body(&d, "")), 404, "message_not_found");

    /* Pending (never delivered), unknown, or in another queue: not in flight. */
    char pending[UUID_LEN + 1], unknown[UUID_LEN + 1];
    r = get("/queues/%s/messages?state=pending", q);
    snprintf(pending, sizeof pending, "%s", str_field(array_item(r->json, "messages", 0), "id"));
    response_free(r);
    new_uuid(unknown);
    EXPECT_PROBLEM_FREE(qf_settle(q, pending, "ack", "{\"receipt\":\"r\"}"), 404, "message_not_found");
    EXPECT_PROBLEM_FREE(qf_settle(q, unknown, "ack", "{\"receipt\":\"r\"}"), 404, "message_not_found");
    qf_dequeue_one(q, NULL, &other);
    EXPECT_PROBLEM_FREE(qf_settle(unique_name("q"), other.id, "ack", receipt_body(&other, "")), 404,
                        "message_not_found");

    /* Malformed calls: 400, and the lease is untouched. */
    EXPECT_PROBLEM_FREE(qf_settle(q, "nope", "ack", receipt_body(&other, "")), 400, "invalid_parameter");
    EXPECT_PROBLEM_FREE(qf_settle(q, "6f1c0a52-3c1e-4b7a-9d0e-2f4a5b6c7d8", "ack", receipt_body(&other, "")), 400,
                        "invalid_parameter");
    EXPECT_PROBLEM_FREE(qf_settle(q, other.id, "ack", "{}"), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(qf_settle(q, other.id, "ack", "{\"receipt\":\"\"}"), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(qf_settle(q, other.id, "ack", "{\"receipt\":5}"), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(qf_settle(q, other.id, "ack", NULL), 400, "invalid_json");
    /* A receipt that is not this delivery's settles nothing. */
    EXPECT_PROBLEM_FREE(qf_settle(q, other.id, "ack", "{\"receipt\":\"not-the-receipt\"}"), 409, "stale_receipt");
    QF_EXPECT_COUNTS(q, 0, 1, 0, 0);
    EXPECT_204_FREE(qf_settle(q, other.id, "ack", receipt_body(&other, "")));
    QF_EXPECT_COUNTS(q, 0, 0, 0, 0);
    ck_assert_int_eq(qf_dequeue(q, NULL, &d, 1), 0);
}
END_TEST

START_TEST(stale_receipt_after_redelivery_changes_nothing)
{
    const char *q = unique_name("q");
    struct qf_delivery old, cur;
    qf_enqueue_n(q, 1, "A", NULL);
    /* A zero lease ends at once, so the next dequeue delivers the message again. */
    qf_dequeue_one(q, "{\"visibility_timeout\":0}", &old);
    qf_dequeue_again(q, "{\"visibility_timeout\":120}", &cur);
    ck_assert_str_eq(cur.id, old.id);
    ck_assert_int_eq(cur.delivery_count, 2);

    EXPECT_PROBLEM_FREE(qf_settle(q, old.id, "ack", receipt_body(&old, "")), 409, "stale_receipt");
    EXPECT_PROBLEM_FREE(qf_settle(q, old.id, "nack", receipt_body(&old, ",\"requeue\":false")), 409, "stale_receipt");
    EXPECT_PROBLEM_FREE(qf_settle(q, old.id, "visibility", receipt_body(&old, ",\"visibility_timeout\":0")), 409,
                        "stale_receipt");
    QF_EXPECT_COUNTS(q, 0, 1, 0, 0);
    struct response *r = get("/queues/%s/messages?state=in_flight", q);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(array_item(r->json, "messages", 0), "visible_until"), cur.visible_until);
    response_free(r);
    EXPECT_204_FREE(qf_settle(q, cur.id, "ack", receipt_body(&cur, "")));
    QF_EXPECT_COUNTS(q, 0, 0, 0, 0);
}
END_TEST

/* ----------------------------------------------------------- nack */

START_TEST(nack_requeues_now_or_after_a_delay)
{
    const char *q = unique_name("q");
    char ids[2][UUID_LEN + 1];
    struct qf_delivery d;
    qf_enqueue_n(q, 2, "A", ids);
    qf_dequeue_one(q, NULL, &d);
    EXPECT_204_FREE(qf_settle(q, d.id, "nack", receipt_body(&d, ",\"reason\":\"try later\"")));
    QF_EXPECT_COUNTS(q, 2, 0, 0, 0);
    /* Back in its place: first in line, with a second delivery. */
    qf_dequeue_one(q, NULL, &d);
    ck_assert_str_eq(d.id, ids[0]);
    ck_assert_int_eq(d.delivery_count, 2);
    EXPECT_PROBLEM_FREE(qf_settle(q, d.id, "nack", receipt_body(&d, ",\"requeue\":\"yes\"")), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(qf_settle(q, d.id, "nack", receipt_body(&d, ",\"delay_seconds\":43201")), 400,
                        "invalid_request");
    EXPECT_PROBLEM_FREE(qf_settle(q, d.id, "nack", receipt_body(&d, ",\"delay_seconds\":-1")), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(qf_settle(q, d.id, "nack", receipt_body(&d, ",\"reason\":\"\"")), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(qf_settle(q, d.id, "nack", "{\"requeue\":true}"), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(qf_settle(q, "nope", "nack", receipt_body(&d, "")), 400, "invalid_parameter");
    QF_EXPECT_COUNTS(q, 1, 1, 0, 0);

    double before = now_seconds();
    EXPECT_204_FREE(qf_settle(q, d.id, "nack", receipt_body(&d, ",\"requeue\":true,\"delay_seconds\":60")));
    QF_EXPECT_COUNTS(q, 1, 0, 1, 0);
    struct response *r = get("/queues/%s/messages?state=delayed", q);
    EXPECT_JSON(r, 200);
    const cJSON *m = array_item(r->json, "messages", 0);
    ck_assert_str_eq(str_field(m, "id"), ids[0]);
    double delay = timestamp_seconds(str_field(m, "visible_at")) - before;
    ck_assert_msg(delay > 58 && delay < 63, "delay %.3f", delay);
    response_free(r);
    /* Only the other message is due; the nacked lease is gone. */
    qf_dequeue_one(q, "{\"max_messages\":10}", &d);
    ck_assert_str_eq(d.id, ids[1]);
    EXPECT_PROBLEM_FREE(qf_settle(q, ids[0], "nack", "{\"receipt\":\"r\"}"), 404, "message_not_found");
}
END_TEST

/* ----------------------------------------------------------- visibility */

START_TEST(visibility_extends_and_shortens_the_lease)
{
    const char *q = unique_name("q");
    struct qf_delivery d, again;
    qf_enqueue_n(q, 1, "A", NULL);
    qf_dequeue_one(q, "{\"visibility_timeout\":5}", &d);
    double before = now_seconds();
    struct response *r = qf_settle(q, d.id, "visibility", receipt_body(&d, ",\"visibility_timeout\":600"));
    EXPECT_JSON(r, 200);
    char until[40];
    snprintf(until, sizeof until, "%s", str_field(r->json, "visible_until"));
    response_free(r);
    double lease = timestamp_seconds(until) - before;
    ck_assert_msg(lease > 598 && lease < 603, "lease %.3f", lease);
    r = get("/queues/%s/messages?state=in_flight", q);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(array_item(r->json, "messages", 0), "visible_until"), until);
    response_free(r);

    EXPECT_PROBLEM_FREE(qf_settle(q, d.id, "visibility", receipt_body(&d, "")), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(qf_settle(q, d.id, "visibility", receipt_body(&d, ",\"visibility_timeout\":43201")), 400,
                        "invalid_request");
    EXPECT_PROBLEM_FREE(qf_settle(q, d.id, "visibility", receipt_body(&d, ",\"visibility_timeout\":-1")), 400,
                        "invalid_request");
    EXPECT_PROBLEM_FREE(qf_settle(q, d.id, "visibility", "{\"visibility_timeout\":1}"), 400, "invalid_request");
    QF_EXPECT_COUNTS(q, 0, 1, 0, 0);

    /* Shortened to nothing, the message is deliverable again at once. */
    r = qf_settle(q, d.id, "visibility", receipt_body(&d, ",\"visibility_timeout\":0"));
    EXPECT_JSON(r, 200);
    response_free(r);
    qf_dequeue_one(q, NULL, &again);
    ck_assert_str_eq(again.id, d.id);
    ck_assert_int_eq(again.delivery_count, 2);
    EXPECT_204_FREE(qf_settle(q, again.id, "ack", receipt_body(&again, "")));
    EXPECT_PROBLEM_FREE(qf_settle(q, again.id, "visibility", receipt_body(&again, ",\"visibility_timeout\":5")), 404,
                        "message_not_found");
}
END_TEST

/* ----------------------------------------------------------- batch ack */

START_TEST(batch_ack_reports_each_message)
{
    const char *q = unique_name("q");
    struct qf_delivery d[2], stale, cur;
    char unknown[UUID_LEN + 1];
    new_uuid(unknown);
    /* The stale receipt's message alone first, so its redelivery cannot be
     * another message's. */
    qf_enqueue_n(q, 1, "A", NULL);
    qf_dequeue_one(q, "{\"visibility_timeout\":0}", &stale);
    qf_dequeue_again(q, NULL, &cur);
    ck_assert_str_eq(cur.id, stale.id);
    qf_enqueue_n(q, 2, "A", NULL);
    ck_assert_int_eq(qf_dequeue(q, "{\"max_messages\":2}", d, 2), 2);

    char path[256];
    snprintf(path, sizeof path, "/queues/%s/ack", q);
    struct response *r = requestf("POST", path,
                                  "{\"acks\":[{\"id\":\"%s\",\"receipt\":\"%s\"},{\"id\":\"%s\",\"receipt\":\"x\"},"
                                  "{\"id\":\"%s\",\"receipt\":\"%s\"},{\"id\":\"%s\",\"receipt\":\"%s\"}]}",
                                  d[0].id, d[0].receipt, unknown, stale.id, stale.receipt, d[1].id, d[1].receipt);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "acked"), 2);
    ck_assert_str_eq(array_item(r->json, "acked", 0)->valuestring, d[0].id);
    ck_assert_str_eq(array_item(r->json, "acked", 1)->valuestring, d[1].id);
    ck_assert_int_eq(array_size(r->json, "failed"), 2);
    const cJSON *f = array_item(r->json, "failed", 0);
    ck_assert_str_eq(str_field(f, "id"), unknown);
    ck_assert_str_eq(str_field(f, "code"), "message_not_found");
    f = array_item(r->json, "failed", 1);
    ck_assert_str_eq(str_field(f, "id"), stale.id);
    ck_assert_str_eq(str_field(f, "code"), "stale_receipt");
    response_free(r);
    QF_EXPECT_COUNTS(q, 0, 1, 0, 0);

    /* Refused batches settle nothing, even their good entries. */
    static const char *const bad[] = {"{}", "{\"acks\":[]}", "{\"acks\":{}}", "{\"acks\":[1]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_PROBLEM_FREE(request("POST", path, bad[i]), 400, "invalid_request");
    static const char *const bad_second[] = {
        "{\"id\":\"nope\",\"receipt\":\"x\"}",                                /* id not a UUID */
        "{\"id\":\"6f1c0a52-3c1e-4b7a-9d0e-2f4a5b6c7d8e\"}",                  /* no receipt */
        "{\"receipt\":\"x\"}",                                                /* no id */
        "{\"id\":\"6f1c0a52-3c1e-4b7a-9d0e-2f4a5b6c7d8e\",\"receipt\":\"\"}", /* empty receipt */
    };
    for (size_t i = 0; i < sizeof bad_second / sizeof bad_second[0]; i++)
        EXPECT_PROBLEM_FREE(requestf("POST", path, "{\"acks\":[{\"id\":\"%s\",\"receipt\":\"%s\"},%s]}", cur.id,
                                     cur.receipt, bad_second[i]),
                            400, "invalid_request");
    EXPECT_PROBLEM_FREE(request("POST", path, "{"), 400, "invalid_json");
    char body[2048];
    size_t len = (size_t)snprintf(body, sizeof body, "{\"acks\":[");
    for (int k = 0; k <= QF_MAX_BATCH; k++)
        len += (size_t)snprintf(body + len, sizeof body - len, "%s{\"id\":\"%s\",\"receipt\":\"%s\"}", k ? "," : "",
                                cur.id, cur.receipt);
    snprintf(body + len, sizeof body - len, "]}");
    EXPECT_PROBLEM_FREE(request("POST", path, body), 400, "invalid_request");
    QF_EXPECT_COUNTS(q, 0, 1, 0, 0);

    /* An unknown queue fails each entry. */
    r = requestf("POST", fmt("/queues/%s/ack", unique_name("q")), "{\"acks\":[{\"id\":\"%s\",\"receipt\":\"%s\"}]}",
                 cur.id, cur.receipt);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "acked"), 0);
    ck_assert_str_eq(str_field(array_item(r->json, "failed", 0), "code"), "message_not_found");
    response_free(r);

    r = requestf("POST", path, "{\"acks\":[{\"id\":\"%s\",\"receipt\":\"%s\"}]}", cur.id, cur.receipt);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "acked"), 1);
    ck_assert_int_eq(array_size(r->json, "failed"), 0);
    response_free(r);
    QF_EXPECT_COUNTS(q, 0, 0, 0, 0);
}
END_TEST

static Suite *messages_settle_suite(void)
{
    Suite *s = suite_create("messages_settle");
    TCase *tc = tcase_create("messages_settle");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, ack_settles_once);
    tcase_add_test(tc, stale_receipt_after_redelivery_changes_nothing);
    tcase_add_test(tc, nack_requeues_now_or_after_a_delay);
    tcase_add_test(tc, visibility_extends_and_shortens_the_lease);
    tcase_add_test(tc, batch_ack_reports_each_message);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return qf_main(messages_settle_suite());
}
