/* Delivery guarantees of queues: many consumers process every message exactly
 * once, an expired lease comes back (and old receipts stop working), a message
 * out of deliveries is dead-lettered, and a crash of the service loses nothing. */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MESSAGES 5000
#define CONSUMERS 8

static char queue[96];
static atomic_int delivered[MESSAGES];
static atomic_int acked[MESSAGES];
static atomic_int ack_failures, bad_deliveries;

static void enqueue_numbered(const struct service_proc *sp, const char *q, int from, int count)
{
    size_t cap = (size_t)count * 64 + 32;
    char *body = malloc(cap), path[160];
    size_t n = (size_t)snprintf(body, cap, "{\"messages\":[");
    for (int i = 0; i < count; i++)
        n += (size_t)snprintf(body + n, cap - n, "%s{\"type\":\"Job\",\"data\":{\"n\":%d}}", i ? "," : "", from + i);
    snprintf(body + n, cap - n, "]}");
    snprintf(path, sizeof path, "/queues/%s/messages", q);
    struct response *r = http(sp, "POST", path, body, NULL);
    ck_assert_int_eq(r->status, 201);
    response_free(r);
    free(body);
}

static int message_number(const cJSON *m)
{
    const cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "data"), "n");
    return cJSON_IsNumber(n) ? n->valueint : -1;
}

static void *consumer_main(void *arg)
{
    char dequeue[160], ack[160], consumer[32];
    snprintf(dequeue, sizeof dequeue, "/queues/%s/dequeue", queue);
    snprintf(ack, sizeof ack, "/queues/%s/ack", queue);
    snprintf(consumer, sizeof consumer, "c%ld", (long)(intptr_t)arg);
    for (int empty = 0; empty < 3;) {
        struct response *r = httpf(&svc, "POST", dequeue,
                                   "{\"max_messages\":10,\"visibility_timeout\":300,\"consumer\":\"%s\"}", consumer);
        ck_assert_int_eq(r->status, 200);
        const cJSON *messages = cJSON_GetObjectItem(r->json, "messages"), *m;
        if (cJSON_GetArraySize(messages) == 0) {
            empty++;
            response_free(r);
            usleep(50 * 1000);
            continue;
        }
        empty = 0;
        char body[16384], ids[10][40];
        int nums[10], k = 0;
        size_t n = (size_t)snprintf(body, sizeof body, "{\"acks\":[");
        cJSON_ArrayForEach(m, messages) {
            int num = message_number(m);
            if (num < 0 || num >= MESSAGES || k == 10) {
                atomic_fetch_add(&bad_deliveries, 1);
                continue;
            }
            atomic_fetch_add(&delivered[num], 1);
            snprintf(ids[k], sizeof ids[k], "%s", cJSON_GetObjectItem(m, "id")->valuestring);
            nums[k] = num;
            n += (size_t)snprintf(body + n, sizeof body - n, "%s{\"id\":\"%s\",\"receipt\":\"%s\"}", k ? "," : "",
                                  ids[k], cJSON_GetObjectItem(m, "receipt")->valuestring);
            k++;
        }
        snprintf(body + n, sizeof body - n, "]}");
        response_free(r);
        r = http(&svc, "POST", ack, body, NULL);
        ck_assert_int_eq(r->status, 200);
        atomic_fetch_add(&ack_failures, cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "failed")));
        const cJSON *id;
        cJSON_ArrayForEach(id, cJSON_GetObjectItem(r->json, "acked")) {
            for (int i = 0; i < k; i++)
                if (!strcmp(ids[i], id->valuestring))
                    atomic_fetch_add(&acked[nums[i]], 1);
        }
        response_free(r);
    }
    return NULL;
}

START_TEST(eight_consumers_process_five_thousand_messages_exactly_once)
{
    snprintf(queue, sizeof queue, "%s", unique_name("once"));
    for (int i = 0; i < MESSAGES; i += 500)
        enqueue_numbered(&svc, queue, i, 500);

    pthread_t threads[CONSUMERS];
    for (long i = 0; i < CONSUMERS; i++)
        pthread_create(&threads[i], NULL, consumer_main, (void *)(intptr_t)i);
    for (int i = 0; i < CONSUMERS; i++)
        pthread_join(threads[i], NULL);

    ck_assert_int_eq(atomic_load(&bad_deliveries), 0);
    ck_assert_int_eq(atomic_load(&ack_failures), 0);
    for (int i = 0; i < MESSAGES; i++)
        ck_assert_msg(atomic_load(&delivered[i]) == 1 && atomic_load(&acked[i]) == 1,
                      "message %d delivered %d times, acked %d times", i, atomic_load(&delivered[i]),
                      atomic_load(&acked[i]));

    char path[160];
    snprintf(path, sizeof path, "/queues/%s", queue);
    struct response *r = http(&svc, "GET", path, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(response_int(r, "pending"), 0);
    ck_assert_int_eq(response_int(r, "in_flight"), 0);
    ck_assert_int_eq(response_int(r, "delayed"), 0);
    ck_assert_int_eq(response_int(r, "dead_letters"), 0);
    response_free(r);
}
END_TEST

/* Dequeues one message from `q` (NULL when none); the caller frees the response. */
static struct response *dequeue_one(const struct service_proc *sp, const char *q, int visibility, const cJSON **msg)
{
    char path[160];
    snprintf(path, sizeof path, "/queues/%s/dequeue", q);
    struct response *r = httpf(sp, "POST", path, "{\"visibility_timeout\":%d}", visibility);
    ck_assert_int_eq(r->status, 200);
    *msg = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "messages"), 0);
    return r;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(expired_lease_comes_back_then_dead_letters_then_redrives)
{
    const char *q = unique_name("expiry");
    char path[200], receipt1[128], id[64];
    snprintf(path, sizeof path, "/queues/%s", q);
    struct response *r = http(&svc, "PUT", path, "{\"max_delivery_attempts\":2}", NULL);
    ck_assert_int_eq(r->status, 200);
    response_free(r);
    enqueue_numbered(&svc, q, 0, 1);

    const cJSON *m;
    r = dequeue_one(&svc, q, 1, &m);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(cJSON_GetObjectItem(m, "delivery_count")->valueint, 1);
    snprintf(receipt1, sizeof receipt1, "%s", cJSON_GetObjectItem(m, "receipt")->valuestring);
    snprintf(id, sizeof id, "%s", cJSON_GetObjectItem(m, "id")->valuestring);
    long long expires = now_ms() + 1000;
    response_free(r);

    /* Not acked: deliverable again within 1 s of the lease's end. */
    struct response *again = NULL;
    while (now_ms() < expires + 1000) {
        r = dequeue_one(&svc, q, 1, &m);
        if (m) {
            again = r;
            break;
        }
        response_free(r);
        usleep(50 * 1000);
    }
    ck_assert_msg(again != NULL, "message not redelivered within 1 s after its lease expired");
    ck_assert_int_eq(cJSON_GetObjectItem(m, "delivery_count")->valueint, 2);
    ck_assert_str_ne(cJSON_GetObjectItem(m, "receipt")->valuestring, receipt1);
    response_free(again);

    snprintf(path, sizeof path, "/queues/%s/messages/%s/ack", q, id);
    r = httpf(&svc, "POST", path, "{\"receipt\":\"%s\"}", receipt1);
    ck_assert_int_eq(r->status, 409);
    ck_assert_str_eq(response_code(r), "stale_receipt");
    response_free(r);

    /* The second lease expires too: out of deliveries, the sweeper dead-letters it. */
    snprintf(path, sizeof path, "/queues/%s/dead-letters", q);
    const cJSON *dead = NULL;
    for (int i = 0; i < 100 && !dead; i++) {
        r = http(&svc, "GET", path, NULL, NULL);
        dead = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "dead_letters"), 0);
        if (dead) {
            ck_assert_str_eq(cJSON_GetObjectItem(dead, "id")->valuestring, id);
            ck_assert_str_eq(cJSON_GetObjectItem(dead, "reason")->valuestring, "max_delivery_attempts");
            ck_assert_int_eq(cJSON_GetObjectItem(dead, "delivery_count")->valueint, 2);
        }
        response_free(r);
        if (!dead)
            usleep(100 * 1000);
    }
    ck_assert_msg(dead != NULL, "message did not reach the dead letters");

    r = dequeue_one(&svc, q, 30, &m);
    ck_assert_ptr_null(m);
    response_free(r);

    snprintf(path, sizeof path, "/queues/%s/dead-letters/redrive", q);
    r = http(&svc, "POST", path, "{}", NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(response_int(r, "redriven"), 1);
    response_free(r);

    snprintf(path, sizeof path, "/queues/%s/messages?state=pending", q);
    r = http(&svc, "GET", path, NULL, NULL);
    m = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "messages"), 0);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(cJSON_GetObjectItem(m, "id")->valuestring, id);
    ck_assert_int_eq(cJSON_GetObjectItem(m, "delivery_count")->valueint, 0);
    response_free(r);
}
END_TEST

START_TEST(kill_9_with_leases_loses_nothing)
{
    struct service_proc victim;
    const char *q = unique_name("crash");
    char path[200];
    ck_assert(svc_start(&victim, svc.schema, NULL));
    enqueue_numbered(&victim, q, 0, 20);

    /* Lease 10 for 2 s; ack 3 of them; dead-letter 1; leave 6 leased. */
    snprintf(path, sizeof path, "/queues/%s/dequeue", q);
    struct response *leased = http(&victim, "POST", path, "{\"max_messages\":10,\"visibility_timeout\":2}", NULL);
    ck_assert_int_eq(leased->status, 200);
    const cJSON *messages = cJSON_GetObjectItem(leased->json, "messages");
    ck_assert_int_eq(cJSON_GetArraySize(messages), 10);
    int gone[20] = {0};
    for (int i = 0; i < 4; i++) {
        const cJSON *m = cJSON_GetArrayItem(messages, i);
        snprintf(path, sizeof path, "/queues/%s/messages/%s/%s", q, cJSON_GetObjectItem(m, "id")->valuestring,
                 i < 3 ? "ack" : "nack");
        struct response *r = httpf(&victim, "POST", path, "{\"receipt\":\"%s\",\"requeue\":false}",
                                   cJSON_GetObjectItem(m, "receipt")->valuestring);
        ck_assert_int_eq(r->status, 204);
        response_free(r);
        gone[message_number(m)] = i < 3 ? 1 : 2;
    }
    response_free(leased);

    svc_kill(&victim);
    ck_assert(svc_start(&victim, svc.schema, NULL));

    snprintf(path, sizeof path, "/queues/%s", q);
    struct response *r = http(&victim, "GET", path, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(response_int(r, "pending") + response_int(r, "in_flight") + response_int(r, "delayed"), 16);
    ck_assert_int_eq(response_int(r, "dead_letters"), 1);
    response_free(r);

    /* Once the leases end, every message not acked or dead-lettered is
     * delivered, once (with long leases, so none comes back meanwhile). A
     * dequeue skips a row a sweeper is releasing at that moment (SKIP
     * LOCKED), so it may take more than one. */
    usleep(2200 * 1000);
    snprintf(path, sizeof path, "/queues/%s/dequeue", q);
    int seen[20] = {0}, total = 0;
    for (int attempt = 0; attempt < 50 && total < 16; attempt++) {
        r = http(&victim, "POST", path, "{\"max_messages\":100,\"visibility_timeout\":600,\"wait_seconds\":1}", NULL);
        ck_assert_int_eq(r->status, 200);
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(r->json, "messages")) {
            seen[message_number(m)]++;
            total++;
        }
        response_free(r);
    }
    for (int i = 0; i < 20; i++)
        ck_assert_msg(seen[i] == (gone[i] ? 0 : 1), "message %d delivered %d times after the crash", i, seen[i]);
    ck_assert_int_eq(svc_stop(&victim), 0);
}
END_TEST

static Suite *delivery_suite(void)
{
    Suite *s = suite_create("queue-delivery");
    TCase *tc = tcase_create("delivery");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, eight_consumers_process_five_thousand_messages_exactly_once);
    tcase_add_test(tc, expired_lease_comes_back_then_dead_letters_then_redrives);
    tcase_add_test(tc, kill_9_with_leases_loses_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *args[] = {"--sweep-interval-ms", "200", "--pool-max", "8", NULL};
    return harness_main(delivery_suite(), args);
}
