/* Queue resources (routes/queues.c): metadata with counts, listing by prefix,
 * configuration with PUT, max_depth and queue_full, peeking without
 * delivering, purge and delete; and the 405 answers of the queue paths. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "queue_fixtures.h"

/* PUT /queues/{queue} with `body`; returns a response to free. */
static struct response *put_config(const char *queue, const char *body)
{
    return request("PUT", fmt("/queues/%s", queue), body);
}

/* The config member of a metadata body matches these (-1: null). */
static void expect_config_at(int line, const cJSON *meta, long long vt, long long attempts, long long retention,
                             long long depth)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(meta, "config");
    ck_assert_msg(cJSON_IsObject(c), "line %d: no config object", line);
    ck_assert_msg(int_field(c, "visibility_timeout") == vt, "line %d: visibility_timeout", line);
    ck_assert_msg(int_field(c, "max_delivery_attempts") == attempts, "line %d: max_delivery_attempts", line);
    ck_assert_msg(int_field(c, "retention_seconds") == retention, "line %d: retention_seconds", line);
    const cJSON *d = field(c, "max_depth");
    if (depth < 0)
        ck_assert_msg(cJSON_IsNull(d), "line %d: max_depth should be null", line);
    else
        ck_assert_msg(cJSON_IsNumber(d) && (long long)d->valuedouble == depth, "line %d: max_depth", line);
}
#define EXPECT_CONFIG(meta, vt, attempts, retention, depth)                                                            \
    expect_config_at(__LINE__, (meta), (vt), (attempts), (retention), (depth))

/* GET /queues/{queue} asserted 200; returns the response to free. */
static struct response *meta(const char *queue)
{
    struct response *r = get("/queues/%s", queue);
    EXPECT_JSON(r, 200);
    return r;
}

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
    r = meta(q);
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
    struct response *r = put_config(longest, "{}");
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "queue"), longest);
    response_free(r);
    const char *q = unique_name("q");
    r = put_config(fmt("%s%%3Ax", q), "{}");
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(r->json, "queue"), fmt("%s:x", q));
    response_free(r);
    response_free(meta(fmt("%s:x", q)));
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

    struct response *r = put_config(b, "{}");
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
    struct response *r = put_config(
        q, "{\"visibility_timeout\":5,\"max_delivery_attempts\":3,\"retention_seconds\":60,\"max_depth\":10}");
    EXPECT_JSON(r, 200);
    EXPECT_CONFIG(r->json, 5, 3, 60, 10);
    response_free(r);

    /* Absent members keep their value; unknown members are ignored. */
    r = put_config(q, "{\"visibility_timeout\":7,\"colour\":\"blue\"}");
    EXPECT_JSON(r, 200);
    EXPECT_CONFIG(r->json, 7, 3, 60, 10);
    response_free(r);
    r = meta(q);
    EXPECT_CONFIG(r->json, 7, 3, 60, 10);
    response_free(r);

    /* The edges of each range. */
    r = put_config(q, "{\"visibility_timeout\":43200,\"max_delivery_attempts\":1000,"
                      "\"retention_seconds\":315360000,\"max_depth\":1}");
    EXPECT_JSON(r, 200);
    EXPECT_CONFIG(r->json, 43200, 1000, 315360000, 1);
    response_free(r);
    r = put_config(q, "{\"visibility_timeout\":0,\"max_delivery_attempts\":1}");
    EXPECT_JSON(r, 200);
    EXPECT_CONFIG(r->json, 0, 1, 315360000, 1);
    response_free(r);

    /* null resets to the default. */
    r = put_config(q, "{\"visibility_timeout\":null,\"max_delivery_attempts\":null,\"retention_seconds\":null,"
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
    struct response *r = put_config(q, "{\"visibility_timeout\":9,\"max_depth\":4}");
    EXPECT_JSON(r, 200);
    response_free(r);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = put_config(q, bad[i]);
        ck_assert_msg(r->status == 400, "%s: %ld", bad[i], r->status);
        EXPECT_PROBLEM(r, 400, "invalid_request");
        response_free(r);
    }
    EXPECT_PROBLEM_FREE(put_config(q, "[]"), 400, "invalid_request");
    EXPECT_PROBLEM_FREE(put_config(q, "{"), 400, "invalid_json");
    r = meta(q);
    EXPECT_CONFIG(r->json, 9, QF_DEFAULT_ATTEMPTS, QF_DEFAULT_RETENTION, 4);
    response_free(r);
    /* A refused PUT does not make a queue. */
    const char *other = unique_name("q");
    EXPECT_PROBLEM_FREE(put_config(other, "{\"max_depth\":0}"), 400, "invalid_request");
    EXPECT_ABSENT(fmt("/queues/%s", other), "queue_not_found");
}
END_TEST

START_TEST(configured_visibility_timeout_is_the_dequeue_default)
{
    const char *q = unique_name("q");
    struct qf_delivery d;
    struct response *r = put_config(q, "{\"visibility_timeout\":100}");
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
    r = put_config(q, "{\"visibility_timeout\":null}");
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
    struct response *r = put_config(q, "{\"max_depth\":3}");
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
    r = put_config(q, "{\"max_depth\":null}");
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
        struct response *r = put_config(fmt("%s%s", prefix, suffixes[i]), "{\"max_depth\":7}");
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
    struct response *r = put_config(q, "{\"visibility_timeout\":90,\"max_depth\":50}");
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
    r = meta(q);
    EXPECT_CONFIG(r->json, QF_DEFAULT_VT, QF_DEFAULT_ATTEMPTS, QF_DEFAULT_RETENTION, -1);
    response_free(r);
    QF_EXPECT_COUNTS(q, 1, 0, 0, 0);
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
    tcase_add_test(tc, peek_lists_each_state_without_delivering);
    tcase_add_test(tc, peek_pages_with_next_after_and_validates);
    tcase_add_test(tc, purge_drops_messages_and_keeps_dead_letters);
    tcase_add_test(tc, delete_removes_messages_dead_letters_and_config);
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
