/* Dead letters (routes/dead_letters.c and the paths into them): nack without
 * requeue, nack at max_delivery_attempts, lease expiry at max_delivery_attempts
 * through the sweeper; listing in pages, redrive and delete. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "harness.h"
#include "queue_fixtures.h"

/* Dequeues one message of `queue` and nacks it with `extra` members; asserts 204. */
static void dequeue_and_nack(const char *queue, const char *extra, struct qf_delivery *d)
{
    qf_dequeue_one(queue, NULL, d);
    EXPECT_204_FREE(qf_settle(queue, d->id, "nack", fmt("{\"receipt\":\"%s\"%s}", d->receipt, extra)));
}

/* Enqueues `n` messages and dead-letters each with reason "r<k>"; their ids go to `ids`. */
static void make_dead_letters(const char *queue, int n, char (*ids)[UUID_LEN + 1])
{
    struct qf_delivery d;
    qf_enqueue_n(queue, n, "A", ids);
    for (int k = 0; k < n; k++) {
        dequeue_and_nack(queue, fmt(",\"requeue\":false,\"reason\":\"r%d\"", k), &d);
        ck_assert_str_eq(d.id, ids[k]);
    }
}

/* GET /queues/{queue}/dead-letters with `query`, asserted 200; returns the response to free. */
static struct response *list(const char *queue, const char *query)
{
    struct response *r = get("/queues/%s/dead-letters%s", queue, query);
    EXPECT_JSON(r, 200);
    return r;
}

/* POST /queues/{queue}/dead-letters/redrive with `body` (may be NULL); asserts 200 and returns redriven. */
static long long redrive(const char *queue, const char *body)
{
    struct response *r = request("POST", fmt("/queues/%s/dead-letters/redrive", queue), body);
    EXPECT_JSON(r, 200);
    long long n = int_field(r->json, "redriven");
    response_free(r);
    return n;
}

/* ----------------------------------------------------------- into the dead letters */

START_TEST(nack_without_requeue_dead_letters_with_the_reason)
{
    const char *q = unique_name("q");
    struct qf_delivery d, e;
    struct response *r = request("POST", fmt("/queues/%s/messages", q),
                                 "{\"messages\":[{\"type\":\"Charge\",\"data\":{\"cents\":9007199254740993},"
                                 "\"metadata\":{\"trace\":\"t-9\"}},{\"type\":\"Plain\",\"data\":[1,2]}]}");
    EXPECT_JSON(r, 201);
    char enqueued_at[40];
    snprintf(enqueued_at, sizeof enqueued_at, "%s", str_field(array_item(r->json, "messages", 0), "enqueued_at"));
    response_free(r);

    dequeue_and_nack(q, ",\"requeue\":false,\"reason\":\"card declined\"", &d);
    dequeue_and_nack(q, ",\"requeue\":false", &e); /* no reason given */
    QF_EXPECT_COUNTS(q, 0, 0, 0, 2);
    /* The lease went with the message. */
    EXPECT_PROBLEM_FREE(qf_settle(q, d.id, "ack", fmt("{\"receipt\":\"%s\"}", d.receipt)), 404, "message_not_found");
    struct qf_delivery none;
    ck_assert_int_eq(qf_dequeue(q, NULL, &none, 1), 0);

    r = list(q, "");
    ck_assert_int_eq(array_size(r->json, "dead_letters"), 2);
    ck_assert_ptr_nonnull(strstr(r->body, "9007199254740993"));
    const cJSON *m = array_item(r->json, "dead_letters", 0);
    ck_assert_str_eq(str_field(m, "id"), d.id);
    ck_assert_str_eq(str_field(m, "type"), "Charge");
    ck_assert_str_eq(str_field(field(m, "metadata"), "trace"), "t-9");
    ck_assert_str_eq(str_field(m, "enqueued_at"), enqueued_at);
    ck_assert(is_timestamp(str_field(m, "failed_at")));
    ck_assert_str_ge(str_field(m, "failed_at"), enqueued_at);
    ck_assert_int_eq(int_field(m, "delivery_count"), 1);
    ck_assert_str_eq(str_field(m, "reason"), "card declined");
    m = array_item(r->json, "dead_letters", 1);
    ck_assert_str_eq(str_field(m, "id"), e.id);
    ck_assert_int_eq(cJSON_GetArraySize(field(m, "data")), 2);
    ck_assert(cJSON_IsNull(field(m, "metadata")));
    ck_assert_str_eq(str_field(m, "reason"), "nack");
    ck_assert(cJSON_IsNull(field(r->json, "next_after")));
    response_free(r);
}
END_TEST

START_TEST(nack_at_max_delivery_attempts_dead_letters)
{
    /* The service default, 5 deliveries. */
    const char *q = unique_name("q");
    struct qf_delivery d;
    qf_enqueue_n(q, 1, "A", NULL);
    for (int k = 1; k < QF_DEFAULT_ATTEMPTS; k++) {
        dequeue_and_nack(q, "", &d);
        ck_assert_int_eq(d.delivery_count, k);
        QF_EXPECT_COUNTS(q, 1, 0, 0, 0);
    }
    dequeue_and_nack(q, "", &d);
    ck_assert_int_eq(d.delivery_count, QF_DEFAULT_ATTEMPTS);
    QF_EXPECT_COUNTS(q, 0, 0, 0, 1);
    struct response *r = list(q, "");
    const cJSON *m = array_item(r->json, "dead_letters", 0);
    ck_assert_str_eq(str_field(m, "id"), d.id);
    ck_assert_str_eq(str_field(m, "reason"), "max_delivery_attempts");
    ck_assert_int_eq(int_field(m, "delivery_count"), QF_DEFAULT_ATTEMPTS);
    response_free(r);

    /* A queue's own setting. */
    const char *p = unique_name("q");
    r = request("PUT", fmt("/queues/%s", p), "{\"max_delivery_attempts\":2}");
    EXPECT_JSON(r, 200);
    response_free(r);
    qf_enqueue_n(p, 1, "A", NULL);
    dequeue_and_nack(p, ",\"delay_seconds\":0", &d);
    QF_EXPECT_COUNTS(p, 1, 0, 0, 0);
    dequeue_and_nack(p, "", &d);
    QF_EXPECT_COUNTS(p, 0, 0, 0, 1);
    r = list(p, "");
    ck_assert_str_eq(str_field(array_item(r->json, "dead_letters", 0), "reason"), "max_delivery_attempts");
    ck_assert_int_eq(int_field(array_item(r->json, "dead_letters", 0), "delivery_count"), 2);
    response_free(r);
}
END_TEST

START_TEST(expired_lease_at_max_attempts_is_swept_to_dead_letters)
{
    const char *q = unique_name("q");
    struct qf_delivery d, none;
    struct response *r = request("PUT", fmt("/queues/%s", q), "{\"max_delivery_attempts\":1}");
    EXPECT_JSON(r, 200);
    response_free(r);
    qf_enqueue_n(q, 2, "A", NULL);
    /* A zero lease has expired at once; the one delivery allowed is used up. */
    qf_dequeue_one(q, "{\"visibility_timeout\":0}", &d);
    struct qf_delivery next;
    qf_dequeue_one(q, "{\"max_messages\":10,\"visibility_timeout\":600}", &next);
    ck_assert_str_ne(next.id, d.id);

    ck_assert_int_eq(qf_wait_dead_letters(q, 1, 10 * QF_SWEEP_MS + 3000), 1);
    r = list(q, "");
    const cJSON *m = array_item(r->json, "dead_letters", 0);
    ck_assert_str_eq(str_field(m, "id"), d.id);
    ck_assert_str_eq(str_field(m, "reason"), "max_delivery_attempts");
    ck_assert_int_eq(int_field(m, "delivery_count"), 1);
    response_free(r);
    QF_EXPECT_COUNTS(q, 0, 1, 0, 1);
    ck_assert_int_eq(qf_dequeue(q, NULL, &none, 1), 0);
    EXPECT_PROBLEM_FREE(qf_settle(q, d.id, "ack", fmt("{\"receipt\":\"%s\"}", d.receipt)), 404, "message_not_found");
    /* The live lease was left alone. */
    EXPECT_204_FREE(qf_settle(q, next.id, "ack", fmt("{\"receipt\":\"%s\"}", next.receipt)));
}
END_TEST

START_TEST(dead_lettered_id_is_a_duplicate_on_enqueue)
{
    const char *q = unique_name("q");
    char ids[1][UUID_LEN + 1];
    make_dead_letters(q, 1, ids);
    struct response *r = list(q, "");
    char enqueued_at[40];
    snprintf(enqueued_at, sizeof enqueued_at, "%s", str_field(array_item(r->json, "dead_letters", 0), "enqueued_at"));
    response_free(r);
    r = requestf("POST", fmt("/queues/%s/messages", q), "{\"messages\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1}]}",
                 ids[0]);
    EXPECT_JSON(r, 201);
    const cJSON *m = array_item(r->json, "messages", 0);
    ck_assert(cJSON_IsTrue(field(m, "duplicate")));
    ck_assert_str_eq(str_field(m, "enqueued_at"), enqueued_at);
    response_free(r);
    QF_EXPECT_COUNTS(q, 0, 0, 0, 1);
}
END_TEST

/* ----------------------------------------------------------- list */

START_TEST(list_pages_in_failure_order)
{
    const char *q = unique_name("q");
    char ids[5][UUID_LEN + 1];
    make_dead_letters(q, 5, ids);
    char after[64] = "";
    int seen = 0;
    for (int page = 0; page < 3; page++) {
        struct response *r = list(q, after[0] ? fmt("?limit=2&after=%s", after) : "?limit=2");
        int n = array_size(r->json, "dead_letters");
        ck_assert_int_eq(n, page < 2 ? 2 : 1);
        for (int k = 0; k < n; k++, seen++) {
            const cJSON *m = array_item(r->json, "dead_letters", k);
            ck_assert_str_eq(str_field(m, "id"), ids[seen]);
            ck_assert_str_eq(str_field(m, "reason"), fmt("r%d", seen));
            ck_assert_int_eq(int_field(field(m, "data"), "i"), seen);
        }
        const cJSON *next = field(r->json, "next_after");
        if (page < 2) {
            ck_assert(cJSON_IsString(next));
            snprintf(after, sizeof after, "%s", next->valuestring);
        } else {
            ck_assert(cJSON_IsNull(next));
        }
        response_free(r);
    }
    ck_assert_int_eq(seen, 5);

    EXPECT_PROBLEM_FREE(get("/queues/%s/dead-letters?limit=0", q), 400, "invalid_parameter");
    EXPECT_PROBLEM_FREE(get("/queues/%s/dead-letters?limit=1001", q), 400, "invalid_parameter");
    EXPECT_PROBLEM_FREE(get("/queues/%s/dead-letters?after=x", q), 400, "invalid_parameter");
    EXPECT_ABSENT(fmt("/queues/%s/dead-letters", unique_name("q")), "queue_not_found");
    EXPECT_PROBLEM_FREE(request("GET", "/queues/bad%20name/dead-letters", NULL), 400, "invalid_name");

    /* A queue without dead letters lists none. */
    const char *empty = unique_name("q");
    qf_enqueue_n(empty, 1, "A", NULL);
    struct response *r = list(empty, "");
    ck_assert_int_eq(array_size(r->json, "dead_letters"), 0);
    ck_assert(cJSON_IsNull(field(r->json, "next_after")));
    response_free(r);
}
END_TEST

/* ----------------------------------------------------------- redrive */

START_TEST(redrive_all_makes_them_pending_afresh)
{
    const char *q = unique_name("q");
    char ids[3][UUID_LEN + 1];
    qf_enqueue_n(q, 3, "A", ids);
    struct qf_delivery d[3];
    /* Dead-lettered after two deliveries each. */
    for (int round = 0; round < 2; round++) {
        ck_assert_int_eq(qf_dequeue(q, "{\"max_messages\":3}", d, 3), 3);
        for (int k = 0; k < 3; k++) {
            ck_assert_int_eq(d[k].delivery_count, round + 1);
            EXPECT_204_FREE(
                qf_settle(q, d[k].id, "nack",
                          fmt("{\"receipt\":\"%s\",\"requeue\":%s}", d[k].receipt, round ? "false" : "true")));
        }
    }
    QF_EXPECT_COUNTS(q, 0, 0, 0, 3);

    ck_assert_int_eq(redrive(q, NULL), 3); /* no body: all */
    QF_EXPECT_COUNTS(q, 3, 0, 0, 0);
    ck_assert_int_eq(redrive(q, NULL), 0);

    struct response *r = request("POST", fmt("/queues/%s/dequeue", q), "{\"max_messages\":10}");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "messages"), 3);
    for (int k = 0; k < 3; k++) {
        const cJSON *m = array_item(r->json, "messages", k);
        ck_assert_str_eq(str_field(m, "id"), ids[k]);
        ck_assert_int_eq(int_field(m, "delivery_count"), 1);
        ck_assert_int_eq(int_field(field(m, "data"), "i"), k);
    }
    response_free(r);

    /* {} is "all" too. */
    const char *p = unique_name("q");
    char pids[2][UUID_LEN + 1];
    make_dead_letters(p, 2, pids);
    ck_assert_int_eq(redrive(p, "{}"), 2);
    QF_EXPECT_COUNTS(p, 2, 0, 0, 0);
}
END_TEST

START_TEST(redrive_selected_ids_only)
{
    const char *q = unique_name("q");
    char ids[3][UUID_LEN + 1], unknown[UUID_LEN + 1];
    new_uuid(unknown);
    make_dead_letters(q, 3, ids);

    ck_assert_int_eq(redrive(q, "{\"ids\":[]}"), 0);
    QF_EXPECT_COUNTS(q, 0, 0, 0, 3);
    ck_assert_int_eq(redrive(q, fmt("{\"ids\":[\"%s\"]}", unknown)), 0);
    ck_assert_int_eq(redrive(q, fmt("{\"ids\":[\"%s\",\"%s\"]}", ids[2], unknown)), 1);
    QF_EXPECT_COUNTS(q, 1, 0, 0, 2);
    struct qf_delivery d;
    qf_dequeue_one(q, NULL, &d);
    ck_assert_str_eq(d.id, ids[2]);
    ck_assert_int_eq(d.delivery_count, 1);

    /* Refused bodies redrive nothing. */
    char path[256];
    snprintf(path, sizeof path, "/queues/%s/dead-letters/redrive", q);
    EXPECT_PROBLEM_FREE(requestf("POST", path, "{\"ids\":[\"%s\",\"nope\"]}", ids[0]), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(request("POST", path, "{\"ids\":\"all\"}"), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(request("POST", path, "{\"ids\":[7]}"), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(request("POST", path, "[]"), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(request("POST", path, "{\"ids\":"), 400, "invalid_json");
    QF_EXPECT_COUNTS(q, 0, 1, 0, 2);
    EXPECT_PROBLEM_FREE(request("POST", fmt("/queues/%s/dead-letters/redrive", unique_name("q")), NULL), 404,
                        "queue_not_found");
}
END_TEST

/* ----------------------------------------------------------- delete */

START_TEST(delete_one_dead_letter)
{
    const char *q = unique_name("q");
    char ids[2][UUID_LEN + 1];
    make_dead_letters(q, 2, ids);
    const char *path = fmt("/queues/%s/dead-letters/%s", q, ids[0]);
    struct response *r = request("DELETE", path, NULL);
    ck_assert_int_eq(r->status, 204);
    ck_assert_uint_eq(r->len, 0);
    response_free(r);
    QF_EXPECT_COUNTS(q, 0, 0, 0, 1);
    r = list(q, "");
    ck_assert_int_eq(array_size(r->json, "dead_letters"), 1);
    ck_assert_str_eq(str_field(array_item(r->json, "dead_letters", 0), "id"), ids[1]);
    response_free(r);

    EXPECT_PROBLEM_FREE(request("DELETE", fmt("/queues/%s/dead-letters/%s", q, ids[0]), NULL), 404,
                        "dead_letter_not_found");
    /* Not a dead letter of this queue. */
    EXPECT_PROBLEM_FREE(request("DELETE", fmt("/queues/%s/dead-letters/%s", unique_name("q"), ids[1]), NULL), 404,
                        "dead_letter_not_found");
    EXPECT_PROBLEM_FREE(request("DELETE", fmt("/queues/%s/dead-letters/nope", q), NULL), 400, "invalid_parameter");
    QF_EXPECT_COUNTS(q, 0, 0, 0, 1);

    /* Its id is free again. */
    r = requestf("POST", fmt("/queues/%s/messages", q), "{\"messages\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1}]}",
                 ids[0]);
    EXPECT_JSON(r, 201);
    ck_assert(cJSON_IsFalse(field(array_item(r->json, "messages", 0), "duplicate")));
    response_free(r);
    QF_EXPECT_COUNTS(q, 1, 0, 0, 1);
}
END_TEST

static Suite *dead_letters_suite(void)
{
    Suite *s = suite_create("dead_letters");
    TCase *tc = tcase_create("dead_letters");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, nack_without_requeue_dead_letters_with_the_reason);
    tcase_add_test(tc, nack_at_max_delivery_attempts_dead_letters);
    tcase_add_test(tc, expired_lease_at_max_attempts_is_swept_to_dead_letters);
    tcase_add_test(tc, dead_lettered_id_is_a_duplicate_on_enqueue);
    tcase_add_test(tc, list_pages_in_failure_order);
    tcase_add_test(tc, redrive_all_makes_them_pending_afresh);
    tcase_add_test(tc, redrive_selected_ids_only);
    tcase_add_test(tc, delete_one_dead_letter);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return qf_main(dead_letters_suite());
}
