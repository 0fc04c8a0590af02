/* Queue resources (routes/queues.c): metadata with counts, unknown and invalid
 * names, configuration with PUT, max_depth and queue_full, listing by prefix,
 * lowering max_delivery_attempts; and the 405 answers of the queue paths.
 * Peeking, purge and delete are in test_queues_peek.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "queue_fixtures.h"

/* ----------------------------------------------------------- metadata */

START_TEST(metadata_counts_every_state)
{
    const char *q = unique_name("q");
    char ids[3][UUID_LEN + 1];
    struct qf_delivery d;
    qf_enqueue_n(q, 3, "A", ids);
    struct response *r = requestf("POST", fmt("/queues/%s/messages", q),
                                  "{\"messages\":[{\"type\":\"Later\",\"data\":{},\"delay_seconds\":600}]}");
    EXPECT_JSON(r, 201);
    response_free(r);
    qf_dequeue_one(q, NULL, &d); /* in flight */
    qf_dequeue_one(q, NULL, &d); /* dead-lettered */
    EXPECT_204_FREE(qf_settle(q, d.id, "nack", fmt("{\"receipt\":\"%s\",\"requeue\":false}", d.receipt)));

    usleep(20 * 1000);
    r = qf_get_queue(q);
    ck_assert_str_eq(str_field(r->json, "queue"), q);
    ck_assert_int_eq(int_field(r->json, "pending"), 1);
    ck_assert_int_eq(int_field(r->json, "in_flight"), 1);
    ck_assert_int_eq(int_field(r->json, "delayed"), 1);
    ck_assert_int_eq(int_field(r->json, "dead_letters"), 1);
    const cJSON *age = field(r->json, "oldest_pending_age_seconds");
    ck_assert(cJSON_IsNumber(age));
    ck_assert(age->valuedouble > 0 && age->valuedouble < 60);
    EXPECT_CONFIG(r->json, QF_DEFAULT_VT, QF_DEFAULT_ATTEMPTS, QF_DEFAULT_RETENTION, -1);
    response_free(r);
}
END_TEST

START_TEST(unknown_and_invalid_queue_names)
{
    EXPECT_ABSENT(fmt("/queues/%s", unique_name("q")), "queue_not_found");
    char longest[202];
    memset(longest, 'n', 201);
    longest[201] = '\0';
    EXPECT_PROBLEM_FREE(get("/queues/%s", longest), 400, "invalid_name");
    EXPECT_PROBLEM_FREE(request("PUT", fmt("/queues/%s", longest), "{}"), 400, "invalid_name");
    EXPECT_PROBLEM_FREE(request("GET", "/queues/bad%20name", NULL), 400, "invalid_name");
    EXPECT_PROBLEM_FREE(request("DELETE", "/queues/a%2Fb", NULL), 400, "invalid_name");
    EXPECT_PROBLEM_FREE(request("POST", "/queues/%C3%A9/purge", NULL), 400, "invalid_name");
    EXPECT_PROBLEM_FREE(request("GET", "/queues/bad%20name/messages", NULL), 400, "invalid_name");
    /* 200 characters is a name; percent-escapes are decoded first. */
    longest[200] = '\0';
    memcpy(longest, unique_name("q"), 8);
    struct response *r = qf_put_config(longest, "{}");
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "queue"), longest);
    response_free(r);
    const char *q = unique_name("q");
    r = qf_put_config(fmt("%s%%3Ax", q), "{}");
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "queue"), fmt("%s:x", q));
    response_free(r);
    response_free(qf_get_queue(fmt("%s:x", q)));
}
END_TEST

START_TEST(queue_exists_once_written_or_configured)
{
    const char *a = unique_name("q"), *b = unique_name("q");
    /* Reading and dequeuing do not make a queue. */
    struct qf_delivery d;
    ck_assert_int_eq(qf_dequeue(a, NULL, &d, 1), 0);
    EXPECT_ABSENT(fmt("/queues/%s", a), "queue_not_found");
    EXPECT_ABSENT(fmt("/queues/%s/messages", a), "queue_not_found");

    qf_enqueue_n(a, 1, "A", NULL);
    QF_EXPECT_COUNTS(a, 1, 0, 0, 0);

    struct response *r = qf_put_config(b, "{}");
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "queue"), b);
    ck_assert_int_eq(int_field(r->json, "pending"), 0);
    ck_assert_int_eq(response_int(r, "oldest_pending_age_seconds"), 0);
    EXPECT_CONFIG(r->json, QF_DEFAULT_VT, QF_DEFAULT_ATTEMPTS, QF_DEFAULT_RETENTION, -1);
    response_free(r);
    QF_EXPECT_COUNTS(b, 0, 0, 0, 0);
}
END_TEST

/* ----------------------------------------------------------- configuration */

START_TEST(put_sets_keeps_and_resets_config)
{
    const char *q = unique_name("q");
    struct response *r = qf_put_config(
        q, "{\"visibility_timeout\":5,\"max_delivery_attempts\":3,\"retention_seconds\":60,\"max_depth\":10}");
    EXPECT_JSON(r, 200);
    EXPECT_CONFIG(r->json, 5, 3, 60, 10);
    response_free(r);

    /* Absent members keep their value; unknown members are ignored. */
    r = qf_put_config(q, "{\"visibility_timeout\":7,\"colour\":\"blue\"}");
    EXPECT_JSON(r, 200);
    EXPECT_CONFIG(r->json, 7, 3, 60, 10);
    response_free(r);
    r = qf_get_queue(q);
    EXPECT_CONFIG(r->json, 7, 3, 60, 10);
    response_free(r);

    /* The edges of each range. */
    r = qf_put_config(q, "{\"visibility_timeout\":43200,\"max_delivery_attempts\":1000,"
                         "\"retention_seconds\":315360000,\"max_depth\":1}");
    EXPECT_JSON(r, 200);
    EXPECT_CONFIG(r->json, 43200, 1000, 315360000, 1);
    response_free(r);
    r = qf_put_config(q, "{\"visibility_timeout\":0,\"max_delivery_attempts\":1}");
    EXPECT_JSON(r, 200);
    EXPECT_CONFIG(r->json, 0, 1, 315360000, 1);
    response_free(r);

    /* null resets to the default. */
    r = qf_put_config(q, "{\"visibility_timeout\":null,\"max_delivery_attempts\":null,\"retention_seconds\":null,"
                         "\"max_depth\":null}");
    EXPECT_JSON(r, 200);
    EXPECT_CONFIG(r->json, QF_DEFAULT_VT, QF_DEFAULT_ATTEMPTS, QF_DEFAULT_RETENTION, -1);
    response_free(r);
}
END_TEST

START_TEST(put_rejects_out_of_range_and_changes_nothing)
{
    static const char *const bad[] = {
        "{\"visibility_timeout\":-1}",                   /* below 0 */
        "{\"visibility_timeout\":43201}",                /* above 12 h */
        "{\"visibility_timeout\":\"5\"}",                /* a string */
        "{\"visibility_timeout\":1.5}",                  /* not an integer */
        "{\"max_delivery_attempts\":0}",                 /* below 1 */
        "{\"max_delivery_attempts\":1001}",              /* above 1000 */
        "{\"max_delivery_attempts\":true}",              /* a boolean */
        "{\"retention_seconds\":59}",                    /* below a minute */
        "{\"retention_seconds\":[]}",                    /* an array */
        "{\"max_depth\":0}",                             /* below 1 */
        "{\"max_depth\":-5}",                            /* negative */
        "{\"max_depth\":2,\"max_delivery_attempts\":0}", /* one bad member refuses the whole body */
    };
    const char *q = unique_name("q");
    struct response *r = qf_put_config(q, "{\"visibility_timeout\":9,\"max_depth\":4}");
    EXPECT_JSON(r, 200);
    response_free(r);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = qf_put_config(q, bad[i]);
        ck_assert_msg(r->status == 400, "%s: %ld", bad[i], r->status);
        EXPECT_PROBLEM(r, 400, "invalid_request");
        response_free(r);
    }
    EXPECT_PROBLEM_FREE(qf_put_config(q, "[]"), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(qf_put_config(q, "{"), 400, "invalid_json");
    r = qf_get_queue(q);
    EXPECT_CONFIG(r->json, 9, QF_DEFAULT_ATTEMPTS, QF_DEFAULT_RETENTION, 4);
    response_free(r);
    /* A refused PUT does not make a queue. */
    const char *other = unique_name("q");
    EXPECT_PROBLEM_FREE(qf_put_config(other, "{\"max_depth\":0}"), 400, "invalid_request");
    EXPECT_ABSENT(fmt("/queues/%s", other), "queue_not_found");
}
END_TEST

START_TEST(configured_visibility_timeout_is_the_dequeue_default)
{
    const char *q = unique_name("q");
    struct qf_delivery d;
    struct response *r = qf_put_config(q, "{\"visibility_timeout\":100}");
    EXPECT_JSON(r, 200);
    response_free(r);
    qf_enqueue_n(q, 2, "A", NULL);
    double before = now_seconds();
    qf_dequeue_one(q, NULL, &d);
    double lease = timestamp_seconds(d.visible_until) - before;
    ck_assert_msg(lease > 98 && lease < 103, "lease %.3f s, want 100", lease);

    /* The dequeue's own visibility_timeout wins over the queue's. */
    before = now_seconds();
    qf_dequeue_one(q, "{\"visibility_timeout\":7}", &d);
    lease = timestamp_seconds(d.visible_until) - before;
    ck_assert_msg(lease > 5 && lease < 10, "lease %.3f s, want 7", lease);

    /* Reset to null: the service default. */
    r = qf_put_config(q, "{\"visibility_timeout\":null}");
    EXPECT_JSON(r, 200);
    response_free(r);
    qf_enqueue_n(q, 1, "A", NULL);
    before = now_seconds();
    qf_dequeue_one(q, NULL, &d);
    lease = timestamp_seconds(d.visible_until) - before;
    ck_assert_msg(lease > QF_DEFAULT_VT - 2 && lease < QF_DEFAULT_VT + 3, "lease %.3f s", lease);
}
END_TEST

/* ----------------------------------------------------------- max_depth */

START_TEST(max_depth_refuses_the_whole_batch)
{
    const char *q = unique_name("q");
    char path[256];
    snprintf(path, sizeof path, "/queues/%s/messages", q);
    const char *two = "{\"messages\":[{\"type\":\"A\",\"data\":1},{\"type\":\"A\",\"data\":2}]}";
    struct response *r = qf_put_config(q, "{\"max_depth\":3}");
    EXPECT_JSON(r, 200);
    response_free(r);

    r = request("POST", path, two);
    EXPECT_JSON(r, 201);
    response_free(r);
    r = request("POST", path, two);
    EXPECT_PROBLEM(r, 429, "queue_full");
    const char *retry = header(r, "Retry-After");
    ck_assert_ptr_nonnull(retry);
    ck_assert_int_ge(atoi(retry), 1);
    response_free(r);
    QF_EXPECT_COUNTS(q, 2, 0, 0, 0);

    /* One more fits exactly; then nothing does. */
    qf_enqueue_n(q, 1, "A", NULL);
    EXPECT_PROBLEM_FREE(request("POST", path, "{\"messages\":[{\"type\":\"A\",\"data\":3}]}"), 429, "queue_full");
    QF_EXPECT_COUNTS(q, 3, 0, 0, 0);

    /* Acking makes room. */
    struct qf_delivery d;
    qf_dequeue_one(q, NULL, &d);
    EXPECT_204_FREE(qf_settle(q, d.id, "ack", fmt("{\"receipt\":\"%s\"}", d.receipt)));
    qf_enqueue_n(q, 1, "A", NULL);

    /* Raising or clearing the limit lets enqueues through again. */
    r = qf_put_config(q, "{\"max_depth\":null}");
    EXPECT_JSON(r, 200);
    response_free(r);
    qf_enqueue_n(q, 5, "A", NULL);
    QF_EXPECT_COUNTS(q, 8, 0, 0, 0);
}
END_TEST

/* ----------------------------------------------------------- listing */

START_TEST(list_queues_by_prefix_in_pages)
{
    const char *p = unique_name("q");
    char prefix[96];
    snprintf(prefix, sizeof prefix, "%s", p);
    /* Made out of order; listed by name. */
    static const char *const suffixes[] = {"-c", "-a", "-e", "-b", "-d"};
    for (int i = 0; i < 5; i++) {
        struct response *r = qf_put_config(fmt("%s%s", prefix, suffixes[i]), "{\"max_depth\":7}");
        EXPECT_JSON(r, 200);
        response_free(r);
    }
    qf_enqueue_n(fmt("%s-a", prefix), 2, "A", NULL);

    static const char *const pages[][2] = {{"-a", "-b"}, {"-c", "-d"}, {"-e", NULL}};
    char after[128] = "";
    for (int page = 0; page < 3; page++) {
        const char *path = after[0] ? fmt("/queues?prefix=%s&limit=2&after=%s", prefix, after)
                                    : fmt("/queues?prefix=%s&limit=2", prefix);
        struct response *r = request("GET", path, NULL);
        EXPECT_JSON(r, 200);
        int want = pages[page][1] ? 2 : 1;
        ck_assert_int_eq(array_size(r->json, "queues"), want);
        for (int k = 0; k < want; k++) {
            const cJSON *m = array_item(r->json, "queues", k);
            ck_assert_str_eq(str_field(m, "queue"), fmt("%s%s", prefix, pages[page][k]));
            ck_assert_int_eq(int_field(m, "pending"), page == 0 && k == 0 ? 2 : 0);
            EXPECT_CONFIG(m, QF_DEFAULT_VT, QF_DEFAULT_ATTEMPTS, QF_DEFAULT_RETENTION, 7);
        }
        const cJSON *next = field(r->json, "next_after");
        if (page < 2) {
            ck_assert(cJSON_IsString(next));
            ck_assert_str_eq(next->valuestring, fmt("%s%s", prefix, pages[page][1]));
            snprintf(after, sizeof after, "%s", next->valuestring);
        } else {
            ck_assert(cJSON_IsNull(next));
        }
        response_free(r);
    }

    /* One page holds all five; a prefix matching nothing lists none. */
    struct response *r = get("/queues?prefix=%s", prefix);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "queues"), 5);
    ck_assert(cJSON_IsNull(field(r->json, "next_after")));
    response_free(r);
    r = get("/queues?prefix=%s-z", prefix);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "queues"), 0);
    ck_assert(cJSON_IsNull(field(r->json, "next_after")));
    response_free(r);

    EXPECT_PROBLEM_FREE(get("/queues?limit=0"), 400, "invalid_parameter");
    EXPECT_PROBLEM_FREE(get("/queues?limit=1001"), 400, "invalid_parameter");
    EXPECT_PROBLEM_FREE(get("/queues?limit=x"), 400, "invalid_parameter");
}
END_TEST

/* ----------------------------------------------------------- methods */

START_TEST(wrong_methods_are_405_with_allow)
{
    static const struct {
        const char *method, *suffix, *allow;
    } cases[] = {
        {"PATCH", "", "GET, HEAD, PUT, DELETE"},
        {"POST", "", "GET, HEAD, PUT, DELETE"},
        {"GET", "/purge", "POST"},
        {"GET", "/dequeue", "POST"},
        {"GET", "/ack", "POST"},
        {"DELETE", "/messages", "GET, HEAD, POST"},
        {"PUT", "/dead-letters", "GET, HEAD"},
        {"GET", "/messages/6f1c0a52-3c1e-4b7a-9d0e-2f4a5b6c7d8e/nack", "POST"},
    };
    const char *q = unique_name("q");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct response *r = request(cases[i].method, fmt("/queues/%s%s", q, cases[i].suffix), NULL);
        ck_assert_msg(r->status == 405, "%s %s: %ld", cases[i].method, cases[i].suffix, r->status);
        EXPECT_PROBLEM(r, 405, "method_not_allowed");
        const char *allow = header(r, "Allow");
        ck_assert_msg(allow && !strcmp(allow, cases[i].allow), "%s %s: Allow %s", cases[i].method, cases[i].suffix,
                      allow ? allow : "(none)");
        response_free(r);
    }
    EXPECT_ABSENT(fmt("/queues/%s", q), "queue_not_found");
}
END_TEST

START_TEST(retried_batch_is_not_refused_at_max_depth)
{
    const char *q = unique_name("q");
    char id[UUID_LEN + 1];
    new_uuid(id);
    response_free(request("PUT", fmt("/queues/%s", q), "{\"max_depth\":1}"));
    const char *body = fmt("{\"messages\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1}]}", id);
    char copy[256];
    snprintf(copy, sizeof copy, "%s", body);
    struct response *r = request("POST", fmt("/queues/%s/messages", q), copy);
    EXPECT_JSON(r, 201);
    response_free(r);
    /* The retry adds nothing, so it cannot pass max_depth. */
    r = request("POST", fmt("/queues/%s/messages", q), copy);
    EXPECT_JSON(r, 201);
    ck_assert(cJSON_IsTrue(field(array_item(r->json, "messages", 0), "duplicate")));
    response_free(r);
    QF_EXPECT_COUNTS(q, 1, 0, 0, 0);
}
END_TEST

START_TEST(lowering_max_delivery_attempts_dead_letters_spent_messages)
{
    const char *q = unique_name("q");
    struct qf_delivery d;
    qf_enqueue_n(q, 1, "A", NULL);
    for (int i = 0; i < 2; i++) {
        qf_dequeue_one(q, "{\"visibility_timeout\":30}", &d);
        struct response *r = qf_settle(q, d.id, "nack", fmt("{\"receipt\":\"%s\"}", d.receipt));
        ck_assert_int_eq(r->status, 204);
        response_free(r);
    }
    /* Delivered twice and requeued; an allowance of 1 leaves it nothing. */
    struct response *r = request("PUT", fmt("/queues/%s", q), "{\"max_delivery_attempts\":1}");
    EXPECT_JSON(r, 200);
    response_free(r);
    QF_EXPECT_COUNTS(q, 0, 0, 0, 1);
    r = get("/queues/%s/dead-letters", q);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(array_item(r->json, "dead_letters", 0), "reason"), "max_delivery_attempts");
    response_free(r);
}
END_TEST

static Suite *queues_suite(void)
{
    Suite *s = suite_create("queues");
    TCase *tc = tcase_create("queues");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, metadata_counts_every_state);
    tcase_add_test(tc, unknown_and_invalid_queue_names);
    tcase_add_test(tc, queue_exists_once_written_or_configured);
    tcase_add_test(tc, put_sets_keeps_and_resets_config);
    tcase_add_test(tc, put_rejects_out_of_range_and_changes_nothing);
    tcase_add_test(tc, configured_visibility_timeout_is_the_dequeue_default);
    tcase_add_test(tc, max_depth_refuses_the_whole_batch);
    tcase_add_test(tc, list_queues_by_prefix_in_pages);
    tcase_add_test(tc, wrong_methods_are_405_with_allow);
    tcase_add_test(tc, retried_batch_is_not_refused_at_max_depth);
    tcase_add_test(tc, lowering_max_delivery_attempts_dead_letters_spent_messages);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return qf_main(queues_suite());
}
