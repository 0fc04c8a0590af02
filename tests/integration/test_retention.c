/* Retention enforced, as a client sees it: a stream's max_count and
 * max_age_seconds trim its oldest events (offsets are not reused, first_offset
 * moves on, a read from before it starts there and says so, consumer groups
 * behind it read from it and count only what is retained); the service's
 * defaults apply to streams without a policy; queue messages pending past their
 * retention are dead-lettered, and old dead letters deleted; and appends running
 * while retention trims never fail. The service runs with short intervals; every
 * wait polls for what a client would see, with a generous deadline. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"

#define DEADLINE_MS 30000

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Appends `count` events numbered from `first` to `stream` on `sp`; asserts 201. */
static void append_batch(const struct service_proc *sp, const char *stream, int first, int count)
{
    char *body = numbered_batch("events", "A", first, count);
    struct response *r = http(sp, "POST", fmt("/streams/%s/events", stream), body, NULL);
    ck_assert_msg(r->status == 201, "append: %ld %s", r->status, r->body);
    response_free(r);
    free(body);
}

static void put_retention(const char *stream, const char *body)
{
    struct response *r = request("PUT", fmt("/streams/%s/retention", stream), body);
    EXPECT_JSON(r, 200);
    response_free(r);
}

/* GET /streams/{stream} on `sp` until its first_offset is at least `want`;
 * returns that response (free it). */
static struct response *await_first_offset(const struct service_proc *sp, const char *stream, long long want)
{
    for (int waited = 0;; waited += 50) {
        struct response *r = http(sp, "GET", fmt("/streams/%s", stream), NULL, NULL);
        ck_assert_msg(r->status == 200, "stream: %ld %s", r->status, r->body);
        const cJSON *first = cJSON_GetObjectItemCaseSensitive(r->json, "first_offset");
        long long trimmed_through = response_int(r, "trimmed_through");
        if ((cJSON_IsNumber(first) && first->valuedouble >= (double)want) || trimmed_through >= want - 1)
            return r;
        ck_assert_msg(waited < DEADLINE_MS, "first_offset of %s did not reach %lld: %s", stream, want, r->body);
        response_free(r);
        sleep_ms(50);
    }
}

/* GET /queues/{queue} until its dead_letters count is `want`; returns it (free it). */
static struct response *await_dead_letters(const char *queue, long long want)
{
    for (int waited = 0;; waited += 50) {
        struct response *r = get("/queues/%s", queue);
        EXPECT_JSON(r, 200);
        if (int_field(r->json, "dead_letters") == want)
            return r;
        ck_assert_msg(waited < DEADLINE_MS, "queue %s never had %lld dead letters: %s", queue, want, r->body);
        response_free(r);
        sleep_ms(50);
    }
}

START_TEST(max_count_keeps_the_newest)
{
    const char *stream = unique_name("rc");
    append_batch(&svc, stream, 0, 1000);
    put_retention(stream, "{\"max_count\":100}");

    struct response *r = await_first_offset(&svc, stream, 900);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "first_offset"), 900);
    ck_assert_int_eq(int_field(r->json, "last_offset"), 999);
    ck_assert_int_eq(int_field(r->json, "length"), 100);
    ck_assert_int_eq(int_field(r->json, "version"), 999);
    ck_assert_int_eq(int_field(r->json, "trimmed_through"), 899);
    ck_assert(is_timestamp(str_field(r->json, "trimmed_at")));
    const cJSON *policy = field(r->json, "retention");
    ck_assert_int_eq(int_field(policy, "max_count"), 100);
    ck_assert(cJSON_IsNull(field(policy, "max_age_seconds")));
    ck_assert_str_eq(str_field(policy, "source"), "stream");
    response_free(r);

    /* A read from 0 starts at the first retained offset and says so. */
    r = get("/streams/%s/events?from=0&limit=1000", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 100);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), 900);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 99), "offset"), 999);
    ck_assert_int_eq(int_field(r->json, "first_offset"), 900);
    ck_assert(cJSON_IsTrue(field(r->json, "trimmed")));
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    ck_assert_int_eq(int_field(r->json, "next_offset"), 1000);
    response_free(r);

    /* From a retained offset nothing was trimmed. */
    r = get("/streams/%s/events?from=950&limit=10", stream);
    EXPECT_JSON(r, 200);
    ck_assert(cJSON_IsFalse(field(r->json, "trimmed")));
    response_free(r);

    EXPECT_PROBLEM_FREE(get("/streams/%s/events/899", stream), 404, "event_not_found");

    /* Offsets are not reused: the next append goes on at 1000. */
    r = requestf("POST", fmt("/streams/%s/events", stream), "{\"events\":[{\"type\":\"B\",\"data\":1}]}");
    EXPECT_JSON(r, 201);
    ck_assert_int_eq(int_field(r->json, "first_offset"), 1000);
    response_free(r);
}
END_TEST

START_TEST(max_age_drops_old_events_and_keeps_new_ones)
{
    const char *stream = unique_name("ra");
    append_batch(&svc, stream, 0, 10);
    sleep_ms(1500); /* the first ten pass one second of age */
    append_batch(&svc, stream, 10, 5);
    put_retention(stream, "{\"max_age_seconds\":1}");

    struct response *r = await_first_offset(&svc, stream, 10);
    ck_assert_int_eq(int_field(r->json, "first_offset"), 10);
    ck_assert_int_eq(int_field(r->json, "length"), 5);
    response_free(r);

    r = get("/streams/%s/events", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 5);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), 10);
    response_free(r);
}
END_TEST

START_TEST(consumer_group_behind_the_trim_reads_from_first_offset)
{
    const char *stream = unique_name("rg");
    append_batch(&svc, stream, 0, 1000);
    struct response *r = request("PUT", fmt("/streams/%s/consumers/billing", stream), "{\"offset\":100}");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "lag"), 900);
    response_free(r);
    put_retention(stream, "{\"max_count\":100}");
    response_free(await_first_offset(&svc, stream, 900));

    /* Its committed offset stays; the lag counts only the 100 events still there. */
    r = get("/streams/%s/consumers/billing", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "offset"), 100);
    ck_assert_int_eq(int_field(r->json, "lag"), 100);
    response_free(r);
    r = get("/streams/%s/consumers", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(array_item(r->json, "consumers", 0), "lag"), 100);
    response_free(r);

    r = get("/streams/%s/consumers/billing/events?limit=10", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), 900);
    ck_assert(cJSON_IsTrue(field(r->json, "trimmed")));
    ck_assert_int_eq(int_field(r->json, "next_offset"), 910);
    response_free(r);

    /* Committing where it read to moves it on as usual. */
    r = request("PUT", fmt("/streams/%s/consumers/billing", stream), "{\"offset\":910}");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(r->json, "lag"), 90);
    response_free(r);
}
END_TEST

START_TEST(defaults_apply_unless_a_stream_has_its_own_policy)
{
    struct service_proc sp;
    const char *args[] = {"--retention-interval-ms", "100", "--retention-max-count", "5", NULL};
    ck_assert(svc_start(&sp, NULL, args));
    const char *plain = unique_name("rd");
    char own[96];
    snprintf(own, sizeof own, "%s", unique_name("ro"));
    append_batch(&sp, plain, 0, 20);
    /* Its own policy, with no limit at all, replaces the default whole; set
     * while the stream holds fewer events than the default keeps, so that no
     * run of the worker can trim it before the policy is there. */
    append_batch(&sp, own, 0, 1);
    struct response *r = http(&sp, "PUT", fmt("/streams/%s/retention", own), "{\"max_count\":null}", NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(str_field(field(r->json, "retention"), "source"), "stream");
    response_free(r);
    append_batch(&sp, own, 1, 19);

    r = await_first_offset(&sp, plain, 15);
    ck_assert_int_eq(int_field(r->json, "length"), 5);
    const cJSON *policy = field(r->json, "retention");
    ck_assert_int_eq(int_field(policy, "max_count"), 5);
    ck_assert_str_eq(str_field(policy, "source"), "default");
    response_free(r);

    /* Trimming ran over `plain` after `own` had its policy: `own` keeps all. */
    r = http(&sp, "GET", fmt("/streams/%s", own), NULL, NULL);
    ck_assert_int_eq(int_field(r->json, "length"), 20);
    ck_assert(cJSON_IsNull(field(r->json, "trimmed_at")));
    response_free(r);
    ck_assert_int_eq(svc_stop(&sp), 0);
}
END_TEST

/* Backdates messages of `queue` (all, or those not leased) by `sql_interval`. */
static void backdate(const char *column, const char *table, const char *queue, const char *interval)
{
    sql_value(fmt("UPDATE \"%s\".%s SET %s = %s - interval '%s' WHERE queue = '%s'", svc.schema, table, column, column,
                  interval, queue));
}

START_TEST(queue_retention_dead_letters_pending_messages)
{
    const char *queue = unique_name("rq");
    struct response *r = request("PUT", fmt("/queues/%s", queue), "{\"retention_seconds\":60}");
    EXPECT_JSON(r, 200);
    response_free(r);
    char *batch = numbered_batch("messages", "M", 0, 3);
    response_free(request("POST", fmt("/queues/%s/messages", queue), batch));
    free(batch);
    /* One is leased to a consumer, which keeps it while its lease holds. */
    r = request("POST", fmt("/queues/%s/dequeue", queue), "{\"max_messages\":1,\"visibility_timeout\":600}");
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "messages"), 1);
    response_free(r);
    /* Enqueued two minutes ago, as far as retention can tell. */
    backdate("enqueued_at", "queue_events", queue, "2 minutes");

    r = await_dead_letters(queue, 2);
    ck_assert_int_eq(int_field(r->json, "pending"), 0);
    ck_assert_int_eq(int_field(r->json, "in_flight"), 1);
    const cJSON *retention = field(r->json, "retention");
    ck_assert_int_eq(int_field(retention, "retention_seconds"), 60);
    ck_assert(is_timestamp(str_field(retention, "expired_at")));
    ck_assert(is_timestamp(str_field(retention, "expired_through")));
    response_free(r);

    r = get("/queues/%s/dead-letters", queue);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "dead_letters"), 2);
    for (int i = 0; i < 2; i++)
        ck_assert_str_eq(str_field(array_item(r->json, "dead_letters", i), "reason"), "retention_expired");
    response_free(r);
}
END_TEST

START_TEST(old_dead_letters_are_deleted)
{
    const char *queue = unique_name("rl");
    response_free(request("POST", fmt("/queues/%s/messages", queue), "{\"messages\":[{\"type\":\"M\",\"data\":1}]}"));
    struct response *r = request("POST", fmt("/queues/%s/dequeue", queue), "{}");
    EXPECT_JSON(r, 200);
    const cJSON *msg = array_item(r->json, "messages", 0);
    char path[512];
    snprintf(path, sizeof path, "/queues/%s/messages/%s/nack", queue, str_field(msg, "id"));
    struct response *n = requestf("POST", path, "{\"receipt\":\"%s\",\"requeue\":false}", str_field(msg, "receipt"));
    ck_assert_int_eq(n->status, 204);
    response_free(n);
    response_free(r);
    response_free(await_dead_letters(queue, 1));

    /* Failed two hours ago: past the service's --dead-letter-retention of an hour. */
    backdate("failed_at", "dead_letter_queue", queue, "2 hours");
    r = await_dead_letters(queue, 0);
    const cJSON *retention = field(r->json, "retention");
    ck_assert_int_eq(int_field(retention, "dead_letter_retention_seconds"), 3600);
    ck_assert(is_timestamp(str_field(retention, "dead_letters_deleted_at")));
    response_free(r);
}
END_TEST

/* Appenders each with its own stream and expected_version, one more on a
 * shared stream with "any", while retention trims all of them. */
#define APPENDERS 6
#define APPENDS_EACH 150

struct appender {
    const char *stream;
    long long version;
    int failures;
    char last_error[256];
};

static void *appender_main(void *arg)
{
    struct appender *a = arg;
    for (int i = 0; i < APPENDS_EACH; i++) {
        char path[256], body[256];
        snprintf(path, sizeof path, "/streams/%s/events", a->stream);
        if (a->version >= -1)
            snprintf(body, sizeof body,
                     "{\"expected_version\":%lld,\"events\":[{\"type\":\"A\",\"data\":1},{\"type\":\"A\",\"data\":2}]}",
                     a->version);
        else
            snprintf(body, sizeof body, "{\"events\":[{\"type\":\"A\",\"data\":1},{\"type\":\"A\",\"data\":2}]}");
        struct response *r = http(&svc, "POST", path, body, NULL);
        if (r->status != 201) {
            a->failures++;
            snprintf(a->last_error, sizeof a->last_error, "%ld %s", r->status, r->body ? r->body : "");
        } else if (a->version >= -1) {
            a->version += 2;
        }
        response_free(r);
    }
    return NULL;
}

START_TEST(appends_never_fail_while_retention_trims)
{
    struct appender appenders[APPENDERS + 1];
    pthread_t threads[APPENDERS + 1];
    char names[APPENDERS + 1][96];
    for (int i = 0; i <= APPENDERS; i++) {
        snprintf(names[i], sizeof names[i], "%s", unique_name("rx"));
        append_batch(&svc, names[i], 0, 1);
        put_retention(names[i], "{\"max_count\":10}");
        appenders[i] = (struct appender){names[i], i < APPENDERS ? 0 : -2, 0, ""};
    }
    /* The last appender sends no expected_version. */
    for (int i = 0; i <= APPENDERS; i++)
        pthread_create(&threads[i], NULL, appender_main, &appenders[i]);
    for (int i = 0; i <= APPENDERS; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i <= APPENDERS; i++)
        ck_assert_msg(appenders[i].failures == 0, "appender %d: %d failures, last %s", i, appenders[i].failures,
                      appenders[i].last_error);

    /* Each kept stream ends with exactly its newest ten, at the right offsets. */
    for (int i = 0; i < APPENDERS; i++) {
        long long version = appenders[i].version;
        ck_assert_int_eq(version, 2 * APPENDS_EACH);
        struct response *r = await_first_offset(&svc, names[i], version + 1 - 10);
        ck_assert_int_eq(int_field(r->json, "version"), version);
        ck_assert_int_eq(int_field(r->json, "length"), 10);
        response_free(r);
        r = get("/streams/%s/events?from=0", names[i]);
        ck_assert_int_eq(array_size(r->json, "events"), 10);
        ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), version - 9);
        response_free(r);
    }
}
END_TEST

static Suite *retention_suite(void)
{
    Suite *s = suite_create("retention");
    TCase *tc = tcase_create("retention");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, max_count_keeps_the_newest);
    tcase_add_test(tc, max_age_drops_old_events_and_keeps_new_ones);
    tcase_add_test(tc, consumer_group_behind_the_trim_reads_from_first_offset);
    tcase_add_test(tc, defaults_apply_unless_a_stream_has_its_own_policy);
    tcase_add_test(tc, queue_retention_dead_letters_pending_messages);
    tcase_add_test(tc, old_dead_letters_are_deleted);
    tcase_add_test(tc, appends_never_fail_while_retention_trims);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *args[] = {
        "--retention-interval-ms", "100", "--sweep-interval-ms", "100", "--dead-letter-retention", "3600", NULL};
    return harness_main(retention_suite(), args);
}
