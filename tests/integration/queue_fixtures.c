/* Helpers shared by the queue integration suites; see queue_fixtures.h. */
#include "queue_fixtures.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct response *qf_settle(const char *queue, const char *id, const char *action, const char *body)
{
    return request("POST", fmt("/queues/%s/messages/%s/%s", queue, id, action), body);
}

void qf_enqueue_n(const char *queue, int n, const char *type, char (*ids)[UUID_LEN + 1])
{
    for (int done = 0; done < n;) {
        int batch = n - done < QF_MAX_BATCH ? n - done : QF_MAX_BATCH;
        char *body = numbered_batch("messages", type, done, batch);
        struct response *r = request("POST", fmt("/queues/%s/messages", queue), body);
        free(body);
        EXPECT_JSON(r, 201);
        ck_assert_int_eq(array_size(r->json, "messages"), batch);
        for (int k = 0; ids && k < batch; k++)
            snprintf(ids[done + k], UUID_LEN + 1, "%s", str_field(array_item(r->json, "messages", k), "id"));
        response_free(r);
        done += batch;
    }
}

int qf_dequeue(const char *queue, const char *body, struct qf_delivery *out, int max)
{
    struct response *r = request("POST", fmt("/queues/%s/dequeue", queue), body);
    EXPECT_JSON(r, 200);
    int n = array_size(r->json, "messages");
    for (int i = 0; i < n && i < max; i++) {
        const cJSON *m = array_item(r->json, "messages", i);
        snprintf(out[i].id, sizeof out[i].id, "%s", str_field(m, "id"));
        snprintf(out[i].type, sizeof out[i].type, "%s", str_field(m, "type"));
        snprintf(out[i].receipt, sizeof out[i].receipt, "%s", str_field(m, "receipt"));
        snprintf(out[i].visible_until, sizeof out[i].visible_until, "%s", str_field(m, "visible_until"));
        out[i].delivery_count = int_field(m, "delivery_count");
    }
    response_free(r);
    return n;
}

void qf_dequeue_one(const char *queue, const char *body, struct qf_delivery *out)
{
    ck_assert_int_eq(qf_dequeue(queue, body, out, 1), 1);
}

void qf_dequeue_again(const char *queue, const char *body, struct qf_delivery *out)
{
    int n = 0;
    for (int tries = 0; tries < 60 && n == 0; tries++) {
        if (tries > 0)
            usleep(50 * 1000);
        n = qf_dequeue(queue, body, out, 1);
    }
    ck_assert_int_eq(n, 1);
}

long long qf_meta(const char *queue, const char *name)
{
    struct response *r = get("/queues/%s", queue);
    EXPECT_JSON(r, 200);
    long long v = response_int(r, name);
    ck_assert_msg(v != LLONG_MIN, "queue %s: no integer %s in %s", queue, name, r->body);
    response_free(r);
    return v;
}

void qf_expect_counts_at(int line, const char *queue, long long pending, long long in_flight, long long delayed,
                         long long dead_letters)
{
    struct response *r = get("/queues/%s", queue);
    expect_json_at(line, r, 200);
    ck_assert_msg(response_int(r, "pending") == pending && response_int(r, "in_flight") == in_flight &&
                      response_int(r, "delayed") == delayed && response_int(r, "dead_letters") == dead_letters,
                  "line %d: want pending %lld, in_flight %lld, delayed %lld, dead_letters %lld; got %s", line, pending,
                  in_flight, delayed, dead_letters, r->body);
    response_free(r);
}

struct response *qf_put_config(const char *queue, const char *body)
{
    return request("PUT", fmt("/queues/%s", queue), body);
}

struct response *qf_get_queue(const char *queue)
{
    struct response *r = get("/queues/%s", queue);
    EXPECT_JSON(r, 200);
    return r;
}

void qf_expect_config_at(int line, const cJSON *meta, long long vt, long long attempts, long long retention,
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

int qf_wait_dead_letters(const char *queue, int n, int timeout_ms)
{
    int seen = -1;
    for (int waited = 0;; waited += 50) {
        struct response *r = get("/queues/%s/dead-letters", queue);
        EXPECT_JSON(r, 200);
        seen = array_size(r->json, "dead_letters");
        response_free(r);
        if (seen >= n || waited >= timeout_ms)
            return seen;
        usleep(50 * 1000);
    }
}

int qf_main(Suite *suite)
{
    const char *args[] = {"--max-batch", "10", "--max-body", "65536", "--sweep-interval-ms", "200", NULL};
    return harness_main(suite, args);
}
