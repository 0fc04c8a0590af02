/* Messages (routes/messages.c), enqueue and dequeue: enqueue with ids, delays
 * and duplicates, data and metadata returned exactly, dequeue in order under a
 * lease with validated parameters; bad names, bodies, sizes and repeated keys are
 * refused and change nothing. Settling (ack, nack, visibility, batch ack) is in
 * test_messages_settle.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "queue_fixtures.h"

/* POST /queues/{queue}/messages with `body`; returns a response to free. */
static struct response *enqueue(const char *queue, const char *body)
{
    return request("POST", fmt("/queues/%s/messages", queue), body);
}

/* ----------------------------------------------------------- enqueue */

START_TEST(enqueue_returns_ids_and_times)
{
    const char *q = unique_name("q");
    char id[UUID_LEN + 1];
    new_uuid(id);
    double before = now_seconds();
    struct response *r = requestf("POST", fmt("/queues/%s/messages", q),
                                  "{\"messages\":[{\"id\":\"%s\",\"type\":\"SendEmail\",\"data\":{\"to\":\"a@b\"}},"
                                  "{\"type\":\"SendEmail\",\"data\":{},\"metadata\":{\"trace\":\"t1\"}}]}",
                                  id);
    EXPECT_JSON(r, 201);
    ck_assert_str_eq(str_field(r->json, "queue"), q);
    ck_assert_int_eq(array_size(r->json, "messages"), 2);
    const cJSON *m0 = array_item(r->json, "messages", 0), *m1 = array_item(r->json, "messages", 1);
    ck_assert_str_eq(str_field(m0, "id"), id);
    ck_assert(is_uuid(str_field(m1, "id")));
    ck_assert_str_ne(str_field(m1, "id"), id);
    for (int k = 0; k < 2; k++) {
        const cJSON *m = k ? m1 : m0;
        double at = timestamp_seconds(str_field(m, "enqueued_at"));
        ck_assert_msg(at > before - 2 && at < now_seconds() + 2, "enqueued_at %s", str_field(m, "enqueued_at"));
        /* No delay: visible at once. */
        ck_assert_str_eq(str_field(m, "visible_at"), str_field(m, "enqueued_at"));
        ck_assert(cJSON_IsFalse(field(m, "duplicate")));
    }
    response_free(r);
    QF_EXPECT_COUNTS(q, 2, 0, 0, 0);
}
END_TEST

START_TEST(delayed_messages_wait_until_due)
{
    const char *q = unique_name("q");
    struct qf_delivery d[3];
    struct response *r = enqueue(q, "{\"messages\":[{\"type\":\"Later\",\"data\":1,\"delay_seconds\":3},"
                                    "{\"type\":\"Max\",\"data\":2,\"delay_seconds\":43200},"
                                    "{\"type\":\"Now\",\"data\":3,\"delay_seconds\":0}]}");
    EXPECT_JSON(r, 201);
    const cJSON *later = array_item(r->json, "messages", 0), *max = array_item(r->json, "messages", 1);
    double delay =
        timestamp_seconds(str_field(later, "visible_at")) - timestamp_seconds(str_field(later, "enqueued_at"));
    ck_assert_msg(delay > 2.999 && delay < 3.001, "delay %.6f", delay);
    delay = timestamp_seconds(str_field(max, "visible_at")) - timestamp_seconds(str_field(max, "enqueued_at"));
    ck_assert_msg(delay > 43199.999 && delay < 43200.001, "delay %.6f", delay);
    response_free(r);
    QF_EXPECT_COUNTS(q, 1, 0, 2, 0);

    /* Only the due message is delivered, though it was enqueued last. */
    ck_assert_int_eq(qf_dequeue(q, "{\"max_messages\":10}", d, 3), 1);
    ck_assert_str_eq(d[0].type, "Now");
    ck_assert_int_eq(qf_dequeue(q, "{\"max_messages\":10}", d, 3), 0);
    for (int waited = 0; waited < 8000; waited += 100) {
        if (qf_dequeue(q, "{\"max_messages\":10}", d, 3) > 0)
            break;
        usleep(100 * 1000);
    }
    ck_assert_str_eq(d[0].type, "Later");
    QF_EXPECT_COUNTS(q, 0, 2, 1, 0);
}
END_TEST

START_TEST(duplicate_ids_are_reported_not_enqueued_twice)
{
    const char *q = unique_name("q");
    char a[UUID_LEN + 1], b[UUID_LEN + 1], at[40], visible[40];
    new_uuid(a);
    new_uuid(b);
    struct response *r = requestf("POST", fmt("/queues/%s/messages", q),
                                  "{\"messages\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1,\"delay_seconds\":60}]}", a);
    EXPECT_JSON(r, 201);
    snprintf(at, sizeof at, "%s", str_field(array_item(r->json, "messages", 0), "enqueued_at"));
    snprintf(visible, sizeof visible, "%s", str_field(array_item(r->json, "messages", 0), "visible_at"));
    response_free(r);

    usleep(10 * 1000);
    r = requestf("POST", fmt("/queues/%s/messages", q),
                 "{\"messages\":[{\"id\":\"%s\",\"type\":\"B\",\"data\":2},"
                 "{\"id\":\"%s\",\"type\":\"A\",\"data\":9}]}",
                 b, a);
    EXPECT_JSON(r, 201);
    const cJSON *mb = array_item(r->json, "messages", 0), *ma = array_item(r->json, "messages", 1);
    ck_assert_str_eq(str_field(mb, "id"), b);
    ck_assert(cJSON_IsFalse(field(mb, "duplicate")));
    ck_assert_str_eq(str_field(ma, "id"), a);
    ck_assert(cJSON_IsTrue(field(ma, "duplicate")));
    ck_assert_str_eq(str_field(ma, "enqueued_at"), at);
    ck_assert_str_eq(str_field(ma, "visible_at"), visible);
    response_free(r);
    QF_EXPECT_COUNTS(q, 1, 0, 1, 0);

    /* The same id twice in one batch (in any case) is refused whole. */
    char c[UUID_LEN + 1], upper[UUID_LEN + 1];
    new_uuid(c);
    for (int i = 0; i <= UUID_LEN; i++)
        upper[i] = (char)(c[i] >= 'a' && c[i] <= 'f' ? c[i] - 32 : c[i]);
    EXPECT_PROBLEM_FREE(requestf("POST", fmt("/queues/%s/messages", q),
                                 "{\"messages\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1},"
                                 "{\"id\":\"%s\",\"type\":\"A\",\"data\":2}]}",
                                 c, c),
                        400, "invalid_request");
    EXPECT_PROBLEM_FREE(requestf("POST", fmt("/queues/%s/messages", q),
                                 "{\"messages\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1},"
                                 "{\"id\":\"%s\",\"type\":\"A\",\"data\":2}]}",
                                 c, upper),
                        400, "invalid_request");
    QF_EXPECT_COUNTS(q, 1, 0, 1, 0);

    /* Only B is delivered: A is still delayed and was not enqueued again. */
    struct qf_delivery d[2];
    ck_assert_int_eq(qf_dequeue(q, "{\"max_messages\":10}", d, 2), 1);
    ck_assert_str_eq(d[0].id, b);
}
END_TEST

START_TEST(data_and_metadata_come_back_exactly)
{
    const char *q = unique_name("q");
    struct response *r = enqueue(q, "{\"messages\":["
                                    "{\"type\":\"Big\",\"data\":{\"n\":9007199254740993,\"f\":1.50,"
                                    "\"s\":\"\\u00e9\\u2603\","
                                    "\"nested\":[1,{\"a\":null}]},\"metadata\":{\"trace\":\"t-1\"}},"
                                    "{\"type\":\"Str\",\"data\":\"plain\"},"
                                    "{\"type\":\"Null\",\"data\":null,\"metadata\":null}]}");
    EXPECT_JSON(r, 201);
    response_free(r);
    r = request("POST", fmt("/queues/%s/dequeue", q), "{\"max_messages\":3}");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "messages"), 3);
    /* Exact past 2^53: the digits are in the body text, not rounded by a double. */
    ck_assert_ptr_nonnull(strstr(r->body, "9007199254740993"));
    const cJSON *m = array_item(r->json, "messages", 0);
    ck_assert_str_eq(str_field(m, "type"), "Big");
    const cJSON *data = field(m, "data");
    ck_assert_str_eq(str_field(data, "s"), "\xc3\xa9\xe2\x98\x83");
    ck_assert(cJSON_IsNull(field(array_item(data, "nested", 1), "a")));
    ck_assert_str_eq(str_field(field(m, "metadata"), "trace"), "t-1");
    ck_assert(is_timestamp(str_field(m, "enqueued_at")));
    m = array_item(r->json, "messages", 1);
    ck_assert_str_eq(field(m, "data")->valuestring, "plain");
    ck_assert(cJSON_IsNull(field(m, "metadata")));
    m = array_item(r->json, "messages", 2);
    ck_assert(cJSON_IsNull(field(m, "data")));
    ck_assert(cJSON_IsNull(field(m, "metadata")));
    response_free(r);
}
END_TEST

START_TEST(bad_enqueue_bodies_are_400_and_change_nothing)
{
    static const struct {
        const char *body, *code;
    } cases[] = {
        {"", "invalid_json"},                                                                /* no body */
        {"{\"messages\":", "invalid_json"},                                                  /* cut short */
        {"[]", "invalid_request"},                                                           /* not an object */
        {"{}", "invalid_request"},                                                           /* no messages */
        {"{\"messages\":{}}", "invalid_request"},                                            /* not an array */
        {"{\"messages\":[]}", "invalid_request"},                                            /* empty batch */
        {"{\"messages\":[1]}", "invalid_request"},                                           /* not an object */
        {"{\"messages\":[{\"data\":1}]}", "invalid_request"},                                /* no type */
        {"{\"messages\":[{\"type\":\"\",\"data\":1}]}", "invalid_request"},                  /* empty type */
        {"{\"messages\":[{\"type\":5,\"data\":1}]}", "invalid_request"},                     /* type not a string */
        {"{\"messages\":[{\"type\":\"A\"}]}", "invalid_request"},                            /* no data */
        {"{\"messages\":[{\"type\":\"A\",\"data\":1,\"metadata\":5}]}", "invalid_request"},  /* metadata a number */
        {"{\"messages\":[{\"type\":\"A\",\"data\":1,\"metadata\":[]}]}", "invalid_request"}, /* metadata an array */
        {"{\"messages\":[{\"type\":\"A\",\"data\":1,\"id\":\"nope\"}]}", "invalid_request"}, /* id not a UUID */
        {"{\"messages\":[{\"type\":\"A\",\"data\":1,\"id\":7}]}", "invalid_request"},        /* id a number */
        {"{\"messages\":[{\"type\":\"A\",\"data\":1,\"delay_seconds\":43201}]}", "invalid_request"}, /* max+1 */
        {"{\"messages\":[{\"type\":\"A\",\"data\":1,\"delay_seconds\":-1}]}", "invalid_request"},    /* negative */
        {"{\"messages\":[{\"type\":\"A\",\"data\":1,\"delay_seconds\":1.5}]}", "invalid_request"},   /* fraction */
        {"{\"messages\":[{\"type\":\"A\",\"data\":1,\"delay_seconds\":\"5\"}]}", "invalid_request"}, /* a string */
        {"{\"messages\":[{\"type\":\"A\",\"data\":\"a\\u0000b\"}]}", "invalid_request"},             /* NUL in data */
        {"{\"messages\":[{\"type\":\"A\",\"data\":1,\"metadata\":{\"k\":\"\\u0000\"}}]}", "invalid_request"},
        /* a good message does not carry a bad one */
        {"{\"messages\":[{\"type\":\"A\",\"data\":1},{\"type\":\"B\"}]}", "invalid_request"},
    };
    const char *q = unique_name("q");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct response *r = enqueue(q, cases[i].body);
        ck_assert_msg(r->status == 400 && !strcmp(response_code(r), cases[i].code), "case %zu %s: %ld %s", i,
                      cases[i].body, r->status, r->body);
        EXPECT_PROBLEM(r, 400, cases[i].code);
        response_free(r);
    }
    /* A type of 201 characters is too long; 200 is fine. */
    char type[202];
    memset(type, 't', 201);
    type[201] = '\0';
    EXPECT_PROBLEM_FREE(
        requestf("POST", fmt("/queues/%s/messages", q), "{\"messages\":[{\"type\":\"%s\",\"data\":1}]}", type), 400,
        "invalid_request");
    /* One past the batch limit. */
    char body[2048];
    size_t len = (size_t)snprintf(body, sizeof body, "{\"messages\":[");
    for (int k = 0; k <= QF_MAX_BATCH; k++)
        len += (size_t)snprintf(body + len, sizeof body - len, "%s{\"type\":\"A\",\"data\":%d}", k ? "," : "", k);
    snprintf(body + len, sizeof body - len, "]}");
    EXPECT_PROBLEM_FREE(enqueue(q, body), 400, "invalid_request");
    /* Nothing above made the queue. */
    EXPECT_ABSENT(fmt("/queues/%s", q), "queue_not_found");

    type[200] = '\0';
    struct response *r =
        requestf("POST", fmt("/queues/%s/messages", q), "{\"messages\":[{\"type\":\"%s\",\"data\":1}]}", type);
    EXPECT_JSON(r, 201);
    response_free(r);
    qf_enqueue_n(q, QF_MAX_BATCH, "A", NULL); /* a full batch fits */
    QF_EXPECT_COUNTS(q, 1 + QF_MAX_BATCH, 0, 0, 0);
}
END_TEST

START_TEST(bad_names_and_oversized_bodies_change_nothing)
{
    static const char *const names[] = {"bad%20name", "a%2Fb", "%C3%A9t%C3%A9", "%2E%2E", "a%zz"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        EXPECT_PROBLEM_FREE(enqueue(names[i], "{\"messages\":[{\"type\":\"A\",\"data\":1}]}"), 400, "invalid_name");
        EXPECT_PROBLEM_FREE(request("POST", fmt("/queues/%s/dequeue", names[i]), NULL), 400, "invalid_name");
        EXPECT_PROBLEM_FREE(request("POST", fmt("/queues/%s/ack", names[i]), "{\"acks\":[]}"), 400, "invalid_name");
        EXPECT_PROBLEM_FREE(qf_settle(names[i], "6f1c0a52-3c1e-4b7a-9d0e-2f4a5b6c7d8e", "ack", "{\"receipt\":\"x\"}"),
                            400, "invalid_name");
    }

    /* A percent-escaped name is decoded before use. */
    const char *q = unique_name("q");
    struct response *r = enqueue(fmt("%s%%3Aemail", q), "{\"messages\":[{\"type\":\"A\",\"data\":1}]}");
    EXPECT_JSON(r, 201);
    ck_assert_str_eq(str_field(r->json, "queue"), fmt("%s:email", q));
    response_free(r);
    QF_EXPECT_COUNTS(fmt("%s:email", q), 1, 0, 0, 0);

    /* Over --max-body: 413, with and without a length, and nothing enqueued. */
    const char *big_q = unique_name("q");
    size_t n = QF_MAX_BODY + 100;
    char *body = malloc(n + 64);
    size_t len = (size_t)snprintf(body, 64, "{\"messages\":[{\"type\":\"A\",\"data\":\"");
    memset(body + len, 'x', n);
    snprintf(body + len + n, 64, "\"}]}");
    EXPECT_PROBLEM_FREE(enqueue(big_q, body), 413, "payload_too_large");
    const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
    EXPECT_PROBLEM_FREE(http(&svc, "POST", fmt("/queues/%s/messages", big_q), body, chunked), 413, "payload_too_large");
    free(body);
    EXPECT_ABSENT(fmt("/queues/%s", big_q), "queue_not_found");
    expect_healthy();
}
END_TEST

/* ----------------------------------------------------------- dequeue */

START_TEST(dequeue_is_fifo_with_fresh_receipts)
{
    const char *q = unique_name("q");
    char ids[5][UUID_LEN + 1];
    qf_enqueue_n(q, 3, "A", ids);
    qf_enqueue_n(q, 2, "B", ids + 3);
    double before = now_seconds();
    struct response *r = request("POST", fmt("/queues/%s/dequeue", q), "{\"max_messages\":3}");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "messages"), 3);
    for (int k = 0; k < 3; k++) {
        const cJSON *m = array_item(r->json, "messages", k);
        ck_assert_str_eq(str_field(m, "id"), ids[k]);
        ck_assert_str_eq(str_field(m, "type"), "A");
        ck_assert_int_eq(int_field(field(m, "data"), "i"), k);
        ck_assert(cJSON_IsNull(field(m, "metadata")));
        ck_assert(is_timestamp(str_field(m, "enqueued_at")));
        ck_assert_int_eq(int_field(m, "delivery_count"), 1);
        const char *receipt = str_field(m, "receipt");
        ck_assert_uint_gt(strlen(receipt), 0);
        ck_assert_ptr_null(strstr(receipt, ids[k]));
        /* The service default lease. */
        double lease = timestamp_seconds(str_field(m, "visible_until")) - before;
        ck_assert_msg(lease > QF_DEFAULT_VT - 2 && lease < QF_DEFAULT_VT + 3, "lease %.3f", lease);
    }
    ck_assert_str_ne(str_field(array_item(r->json, "messages", 0), "receipt"),
                     str_field(array_item(r->json, "messages", 1), "receipt"));
    response_free(r);

    /* Default one message; an empty body is allowed. */
    struct qf_delivery d[5];
    ck_assert_int_eq(qf_dequeue(q, "", d, 5), 1);
    ck_assert_str_eq(d[0].id, ids[3]);
    ck_assert_int_eq(qf_dequeue(q, "{}", d, 5), 1);
    ck_assert_str_eq(d[0].id, ids[4]);
    ck_assert_int_eq(qf_dequeue(q, "{\"max_messages\":100}", d, 5), 0);
    QF_EXPECT_COUNTS(q, 0, 5, 0, 0);

    /* An unknown queue has nothing to give. */
    ck_assert_int_eq(qf_dequeue(unique_name("q"), NULL, d, 5), 0);

    /* A redelivery has a new receipt and a higher count. */
    const char *r2 = unique_name("q");
    struct qf_delivery first, second;
    qf_enqueue_n(r2, 1, "A", NULL);
    qf_dequeue_one(r2, "{\"visibility_timeout\":0}", &first);
    qf_dequeue_one(r2, "{\"visibility_timeout\":60,\"wait_seconds\":60}", &second);
    ck_assert_str_eq(second.id, first.id);
    ck_assert_str_ne(second.receipt, first.receipt);
    ck_assert_int_eq(second.delivery_count, 2);
}
END_TEST

START_TEST(dequeue_parameters_are_validated)
{
    static const char *const bad[] = {
        "{\"max_messages\":0}",
        "{\"max_messages\":101}",
        "{\"max_messages\":\"1\"}",
        "{\"max_messages\":1.5}",
        "{\"visibility_timeout\":-1}",
        "{\"visibility_timeout\":43201}",
        "{\"wait_seconds\":-1}",
        "{\"wait_seconds\":61}",
        "{\"wait_seconds\":true}",
        "{\"consumer\":\"\"}",
        "{\"consumer\":5}",
        "[]",
    };
    const char *q = unique_name("q");
    qf_enqueue_n(q, 2, "A", NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct response *r = request("POST", fmt("/queues/%s/dequeue", q), bad[i]);
        ck_assert_msg(r->status == 400, "%s: %ld", bad[i], r->status);
        EXPECT_PROBLEM(r, 400, "invalid_request");
        response_free(r);
    }
    EXPECT_PROBLEM_FREE(request("POST", fmt("/queues/%s/dequeue", q), "{nope"), 400, "invalid_json");
    char consumer[202];
    memset(consumer, 'c', 201);
    consumer[201] = '\0';
    EXPECT_PROBLEM_FREE(requestf("POST", fmt("/queues/%s/dequeue", q), "{\"consumer\":\"%s\"}", consumer), 400,
                        "invalid_request");
    /* Nothing was leased by the refused calls. */
    QF_EXPECT_COUNTS(q, 2, 0, 0, 0);

    /* The edges are accepted; the consumer shows when peeking. */
    consumer[200] = '\0';
    double before = now_seconds();
    struct response *r = requestf("POST", fmt("/queues/%s/dequeue", q),
                                  "{\"max_messages\":100,\"visibility_timeout\":43200,\"wait_seconds\":0,"
                                  "\"consumer\":\"%s\"}",
                                  consumer);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "messages"), 2);
    double lease = timestamp_seconds(str_field(array_item(r->json, "messages", 0), "visible_until")) - before;
    ck_assert_msg(lease > 43198 && lease < 43203, "lease %.3f", lease);
    response_free(r);
    r = get("/queues/%s/messages?state=in_flight", q);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(array_item(r->json, "messages", 1), "consumer"), consumer);
    response_free(r);
}
END_TEST

/* cJSON checks the first of repeated keys, PostgreSQL keeps the last: refuse both. */
START_TEST(repeated_keys_are_refused_and_change_nothing)
{
    const char *q = unique_name("q");
    const char *bodies[] = {
        "{\"messages\":[{\"type\":\"A\",\"data\":1,\"delay_seconds\":0,\"delay_seconds\":99999}]}",
        "{\"messages\":[{\"type\":\"A\",\"data\":1,\"type\":null}]}",
        "{\"messages\":[{\"type\":\"A\",\"data\":1}],\"messages\":[]}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct response *r = request("POST", fmt("/queues/%s/messages", q), bodies[i]);
        EXPECT_PROBLEM(r, 400, "invalid_json");
        response_free(r);
    }
    EXPECT_ABSENT(fmt("/queues/%s", q), "queue_not_found");
    struct response *r = request("POST", fmt("/queues/%s/ack", q),
                                 "{\"acks\":[{\"id\":\"00000000-0000-4000-8000-000000000000\",\"receipt\":\"r\"}],"
                                 "\"acks\":[{\"id\":\"zz\"}]}");
    EXPECT_PROBLEM(r, 400, "invalid_json");
    response_free(r);
}
END_TEST

static Suite *messages_suite(void)
{
    Suite *s = suite_create("messages");
    TCase *tc = tcase_create("messages");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, enqueue_returns_ids_and_times);
    tcase_add_test(tc, delayed_messages_wait_until_due);
    tcase_add_test(tc, duplicate_ids_are_reported_not_enqueued_twice);
    tcase_add_test(tc, data_and_metadata_come_back_exactly);
    tcase_add_test(tc, bad_enqueue_bodies_are_400_and_change_nothing);
    tcase_add_test(tc, bad_names_and_oversized_bodies_change_nothing);
    tcase_add_test(tc, dequeue_is_fifo_with_fresh_receipts);
    tcase_add_test(tc, dequeue_parameters_are_validated);
    tcase_add_test(tc, repeated_keys_are_refused_and_change_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return qf_main(messages_suite());
}
