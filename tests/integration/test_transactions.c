/* POST /transactions (API.md "Transactions"): each operation kind alone and
 * mixed answers what its single route answers; an operation that fails leaves
 * every stream, queue, lease, dead letter and offset as it was and is named in
 * the problem; validation; transaction_id retries. Races, crashes and the
 * exactly-once worker loop are in test_transactions_load.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "queue_fixtures.h"

static struct response *tx(const char *body)
{
    return request("POST", "/transactions", body);
}

/* The problem `code` with `status` and "operation": `index` (-1: no member). */
static void expect_op_problem_at(int line, struct response *r, long status, const char *code, int index)
{
    expect_problem_at(line, r, status, code);
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(r->json, "operation");
    if (index < 0)
        ck_assert_msg(!op, "line %d: unexpected operation in %s", line, r->body);
    else
        ck_assert_msg(cJSON_IsNumber(op) && op->valuedouble == index, "line %d: want operation %d in %s", line, index,
                      r->body);
    response_free(r);
}
#define EXPECT_OP_PROBLEM(r, status, code, index) expect_op_problem_at(__LINE__, (r), (status), (code), (index))

static const cJSON *result(const struct response *r, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r->json, "results"), i);
}

static void ack_op(char *out, size_t size, const char *q, const struct qf_delivery *d)
{
    snprintf(out, size, "{\"op\":\"ack\",\"queue\":\"%s\",\"id\":\"%s\",\"receipt\":\"%s\"}", q, d->id, d->receipt);
}

/* A JSON text with the members of `obj` that change by themselves (ages) left out. */
static void drop_moving(cJSON *obj)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "oldest_pending_age_seconds");
}

/* Everything a client can see of a stream, its consumers, a queue (counts,
 * pending, leases) and its dead letters, as one string to compare. */
static char *snapshot(const char *stream, const char *queue)
{
    const char *paths[] = {
        fmt("/streams/%s", stream),
        fmt("/streams/%s/events?limit=1000", stream),
        fmt("/streams/%s/consumers", stream),
        fmt("/queues/%s", queue),
        fmt("/queues/%s/messages?state=pending&limit=1000", queue),
        fmt("/queues/%s/messages?state=in_flight&limit=1000", queue),
        fmt("/queues/%s/dead-letters?limit=1000", queue),
    };
    char *all = strdup("");
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct response *r = get("%s", paths[i]);
        ck_assert_msg(r->status == 200, "%s: %ld %s", paths[i], r->status, r->body);
        drop_moving(r->json);
        char *text = cJSON_PrintUnformatted(r->json);
        char *next = malloc(strlen(all) + strlen(text) + 2);
        sprintf(next, "%s\n%s", all, text);
        free(all);
        free(text);
        all = next;
        response_free(r);
    }
    return all;
}

/* A stream with two events and a consumer group at 1; a queue with two
 * pending messages, one in flight and one dead letter. */
static void set_up(const char *s, const char *q, struct qf_delivery *leased)
{
    struct response *r = requestf("POST", fmt("/streams/%s/events", s), "%s",
                                  "{\"events\":[{\"type\":\"A\",\"data\":1},{\"type\":\"B\",\"data\":2}]}");
    ck_assert_int_eq(r->status, 201);
    response_free(r);
    r = request("PUT", fmt("/streams/%s/consumers/g", s), "{\"offset\":1}");
    ck_assert_int_eq(r->status, 200);
    response_free(r);
    qf_enqueue_n(q, 4, "M", NULL);
    struct qf_delivery dead;
    qf_dequeue_one(q, NULL, &dead);
    r = qf_settle(q, dead.id, "nack", fmt("{\"receipt\":\"%s\",\"requeue\":false,\"reason\":\"bad\"}", dead.receipt));
    ck_assert_int_eq(r->status, 204);
    response_free(r);
    qf_dequeue_one(q, NULL, leased);
    QF_EXPECT_COUNTS(q, 2, 1, 0, 1);
}

START_TEST(each_kind_alone_answers_as_its_single_route)
{
    const char *s = unique_name("s"), *q = unique_name("q");
    char body[2048];

    /* append: the single route's 201 body. */
    snprintf(body, sizeof body,
             "{\"operations\":[{\"op\":\"append\",\"stream\":\"%s\",\"expected_version\":\"no_stream\","
             "\"events\":[{\"type\":\"A\",\"data\":{\"big\":12345678901234567890}},{\"type\":\"B\",\"data\":null}]}]}",
             s);
    struct response *r = tx(body);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "results"), 1);
    ck_assert_str_eq(str_field(result(r, 0), "stream"), s);
    ck_assert_int_eq(int_field(result(r, 0), "first_offset"), 0);
    ck_assert_int_eq(int_field(result(r, 0), "version"), 1);
    ck_assert_int_eq(array_size(result(r, 0), "events"), 2);
    response_free(r);
    r = get("/streams/%s/events/0", s);
    ck_assert_msg(strstr(r->body, "12345678901234567890"), "numbers kept as sent: %s", r->body);
    response_free(r);

    /* enqueue: {"queue", "messages"} with a delay and a duplicate. */
    char id[UUID_LEN + 1];
    new_uuid(id);
    snprintf(body, sizeof body,
             "{\"operations\":[{\"op\":\"enqueue\",\"queue\":\"%s\",\"messages\":[{\"id\":\"%s\",\"type\":\"M\","
             "\"data\":1},{\"type\":\"M\",\"data\":2,\"delay_seconds\":600}]}]}",
             q, id);
    r = tx(body);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(result(r, 0), "queue"), q);
    ck_assert_str_eq(str_field(array_item(result(r, 0), "messages", 0), "id"), id);
    ck_assert(!cJSON_IsTrue(field(array_item(result(r, 0), "messages", 0), "duplicate")));
    response_free(r);
    r = tx(body);
    EXPECT_JSON(r, 200);
    ck_assert(cJSON_IsTrue(field(array_item(result(r, 0), "messages", 0), "duplicate")));
    response_free(r);
    QF_EXPECT_COUNTS(q, 1, 0, 2, 0);

    /* ack: null, the message is gone. */
    struct qf_delivery d;
    char op[512];
    qf_dequeue_one(q, NULL, &d);
    ack_op(op, sizeof op, q, &d);
    r = requestf("POST", "/transactions", "{\"operations\":[%s]}", op);
    EXPECT_JSON(r, 200);
    ck_assert(cJSON_IsNull(result(r, 0)));
    response_free(r);
    QF_EXPECT_COUNTS(q, 0, 0, 2, 0);

    /* nack: null; requeued with a delay, then dead-lettered with requeue false. */
    const char *q2 = unique_name("q");
    qf_enqueue_n(q2, 1, "N", NULL);
    qf_dequeue_one(q2, NULL, &d);
    r = requestf("POST", "/transactions",
                 "{\"operations\":[{\"op\":\"nack\",\"queue\":\"%s\",\"id\":\"%s\",\"receipt\":\"%s\","
                 "\"delay_seconds\":600}]}",
                 q2, d.id, d.receipt);
    EXPECT_JSON(r, 200);
    ck_assert(cJSON_IsNull(result(r, 0)));
    response_free(r);
    QF_EXPECT_COUNTS(q2, 0, 0, 1, 0);
    const char *q3 = unique_name("q");
    qf_enqueue_n(q3, 1, "N", NULL);
    qf_dequeue_one(q3, NULL, &d);
    r = requestf("POST", "/transactions",
                 "{\"operations\":[{\"op\":\"nack\",\"queue\":\"%s\",\"id\":\"%s\",\"receipt\":\"%s\","
                 "\"requeue\":false,\"reason\":\"poison\"}]}",
                 q3, d.id, d.receipt);
    EXPECT_JSON(r, 200);
    response_free(r);
    QF_EXPECT_COUNTS(q3, 0, 0, 0, 1);
    r = get("/queues/%s/dead-letters", q3);
    ck_assert_str_eq(str_field(array_item(r->json, "dead_letters", 0), "reason"), "poison");
    response_free(r);

    /* commit_offset: the group as GET shows it. */
    r = requestf("POST", "/transactions",
                 "{\"operations\":[{\"op\":\"commit_offset\",\"stream\":\"%s\",\"group\":\"billing\",\"offset\":1}]}",
                 s);
    EXPECT_JSON(r, 200);
    ck_assert_str_eq(str_field(result(r, 0), "group"), "billing");
    ck_assert_int_eq(int_field(result(r, 0), "offset"), 1);
    ck_assert_int_eq(int_field(result(r, 0), "lag"), 1);
    response_free(r);
    r = get("/streams/%s/consumers/billing", s);
    ck_assert_int_eq(int_field(r->json, "offset"), 1);
    response_free(r);
}
END_TEST

START_TEST(a_worker_step_commits_every_operation_in_order)
{
    const char *in = unique_name("in"), *out = unique_name("out"), *next = unique_name("next");
    struct qf_delivery d;
    char ack[512];
    qf_enqueue_n(in, 1, "Order", NULL);
    qf_dequeue_one(in, NULL, &d);
    ack_op(ack, sizeof ack, in, &d);
    struct response *r = requestf(
        "POST", "/transactions",
        "{\"operations\":[%s,"
        "{\"op\":\"append\",\"stream\":\"%s\",\"expected_version\":-1,\"events\":[{\"id\":\"%s\",\"type\":\"Shipped\","
        "\"data\":{}}]},"
        "{\"op\":\"append\",\"stream\":\"%s\",\"expected_version\":0,\"events\":[{\"type\":\"Billed\",\"data\":{}}]},"
        "{\"op\":\"enqueue\",\"queue\":\"%s\",\"messages\":[{\"type\":\"Mail\",\"data\":{}}]},"
        "{\"op\":\"commit_offset\",\"stream\":\"%s\",\"group\":\"g\",\"offset\":2}]}",
        ack, out, d.id, out, next, out);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "results"), 5);
    ck_assert(cJSON_IsNull(result(r, 0)));
    ck_assert_int_eq(int_field(result(r, 1), "version"), 0);
    ck_assert_int_eq(int_field(result(r, 2), "version"), 1);
    /* The second append sees the first: one transaction, positions in order. */
    ck_assert_int_lt(int_field(array_item(result(r, 1), "events", 0), "global_position"),
                     int_field(array_item(result(r, 2), "events", 0), "global_position"));
    ck_assert_int_eq(array_size(result(r, 3), "messages"), 1);
    ck_assert_int_eq(int_field(result(r, 4), "offset"), 2);
    ck_assert_int_eq(int_field(result(r, 4), "lag"), 0);
    response_free(r);
    QF_EXPECT_COUNTS(in, 0, 0, 0, 0);
    QF_EXPECT_COUNTS(next, 1, 0, 0, 0);
    r = get("/streams/%s", out);
    ck_assert_int_eq(int_field(r->json, "version"), 1);
    response_free(r);
}
END_TEST

/* Sends `ops` (the failing one at `index`), checks its problem, and that
 * nothing of the state changed. */
static void expect_nothing_applied_at(int line, const char *s, const char *q, const char *ops, long status,
                                      const char *code, int index)
{
    char *before = snapshot(s, q);
    struct response *r = requestf("POST", "/transactions", "{\"operations\":[%s]}", ops);
    expect_op_problem_at(line, r, status, code, index);
    char *after = snapshot(s, q);
    ck_assert_msg(!strcmp(before, after), "line %d: state changed:\n%s\n----\n%s", line, before, after);
    free(before);
    free(after);
}
#define EXPECT_NOTHING_APPLIED(s, q, ops, status, code, index)                                                         \
    expect_nothing_applied_at(__LINE__, (s), (q), (ops), (status), (code), (index))

START_TEST(a_failing_operation_first_middle_or_last_applies_nothing)
{
    const char *s = unique_name("s"), *q = unique_name("q");
    struct qf_delivery d;
    set_up(s, q, &d);
    char ack[512], stale[512], ops[4096];
    ack_op(ack, sizeof ack, q, &d);
    snprintf(stale, sizeof stale, "{\"op\":\"ack\",\"queue\":\"%s\",\"id\":\"%s\",\"receipt\":\"not-it\"}", q, d.id);
    char append_ok[512], enqueue_ok[512], commit_ok[512], nack_ok[512];
    snprintf(append_ok, sizeof append_ok,
             "{\"op\":\"append\",\"stream\":\"%s\",\"expected_version\":1,\"events\":[{\"type\":\"C\",\"data\":3}]}",
             s);
    snprintf(enqueue_ok, sizeof enqueue_ok,
             "{\"op\":\"enqueue\",\"queue\":\"%s\",\"messages\":[{\"type\":\"M\",\"data\":9}]}", q);
    snprintf(commit_ok, sizeof commit_ok, "{\"op\":\"commit_offset\",\"stream\":\"%s\",\"group\":\"g\",\"offset\":2}",
             s);
    snprintf(nack_ok, sizeof nack_ok,
             "{\"op\":\"nack\",\"queue\":\"%s\",\"id\":\"%s\",\"receipt\":\"%s\",\"requeue\":false}", q, d.id,
             d.receipt);

    /* First: a stale receipt. */
    snprintf(ops, sizeof ops, "%s,%s,%s,%s", stale, append_ok, enqueue_ok, commit_ok);
    EXPECT_NOTHING_APPLIED(s, q, ops, 409, "stale_receipt", 0);
    /* Middle: a version conflict after an ack, an append and an enqueue that succeeded. */
    snprintf(ops, sizeof ops,
             "%s,%s,%s,{\"op\":\"append\",\"stream\":\"%s\",\"expected_version\":1,\"events\":[{\"type\":\"D\","
             "\"data\":4}]},%s",
             ack, append_ok, enqueue_ok, s, commit_ok);
    struct response *r = requestf("POST", "/transactions", "{\"operations\":[%s]}", ops);
    ck_assert_int_eq(response_int(r, "current_version"), 2);
    ck_assert_int_eq(response_int(r, "expected_version"), 1);
    response_free(r);
    EXPECT_NOTHING_APPLIED(s, q, ops, 409, "version_conflict", 3);
    /* Last: an offset that moves backwards, after a dead-lettering nack. */
    snprintf(ops, sizeof ops, "%s,%s,%s,{\"op\":\"commit_offset\",\"stream\":\"%s\",\"group\":\"g\",\"offset\":0}",
             nack_ok, append_ok, enqueue_ok, s);
    EXPECT_NOTHING_APPLIED(s, q, ops, 409, "offset_regression", 3);
    /* Others: an ack of a message not in flight, an archived-free duplicate id, past the end. */
    snprintf(ops, sizeof ops, "%s,%s,%s", ack, ack, append_ok);
    EXPECT_NOTHING_APPLIED(s, q, ops, 404, "message_not_found", 1);
    snprintf(ops, sizeof ops, "%s,{\"op\":\"commit_offset\",\"stream\":\"%s\",\"group\":\"g\",\"offset\":99}",
             append_ok, s);
    EXPECT_NOTHING_APPLIED(s, q, ops, 400, "invalid_request", 1);
    snprintf(ops, sizeof ops, "%s,{\"op\":\"commit_offset\",\"stream\":\"%s\",\"group\":\"g\",\"offset\":0}",
             enqueue_ok, unique_name("nostream"));
    EXPECT_NOTHING_APPLIED(s, q, ops, 404, "stream_not_found", 1);
    char same[UUID_LEN + 1];
    new_uuid(same);
    snprintf(ops, sizeof ops,
             "{\"op\":\"append\",\"stream\":\"%s\",\"events\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1}]},"
             "{\"op\":\"append\",\"stream\":\"%s\",\"events\":[{\"id\":\"%s\",\"type\":\"A\",\"data\":1}]}",
             s, same, unique_name("other"), same);
    EXPECT_NOTHING_APPLIED(s, q, ops, 409, "duplicate_event_id", 1);
    snprintf(ops, sizeof ops,
             "%s,{\"op\":\"enqueue\",\"queue\":\"%s\",\"messages\":[{\"type\":\"M\",\"data\":\"\\u0000\"}]}", append_ok,
             q);
    EXPECT_NOTHING_APPLIED(s, q, ops, 400, "invalid_request", 1);

    /* The lease is still the one we hold: it acks. */
    snprintf(ops, sizeof ops, "{\"operations\":[%s]}", ack);
    r = tx(ops);
    EXPECT_JSON(r, 200);
    response_free(r);
    QF_EXPECT_COUNTS(q, 2, 0, 0, 1);
}
END_TEST

START_TEST(invalid_requests_are_400_and_name_the_operation)
{
    const char *s = unique_name("s"), *q = unique_name("q");
    char *before;
    set_up(s, q, &(struct qf_delivery){0});
    before = snapshot(s, q);
    const char *good = fmt("{\"op\":\"append\",\"stream\":\"%s\",\"events\":[{\"type\":\"A\",\"data\":1}]}", s);
    char goodbuf[512];
    snprintf(goodbuf, sizeof goodbuf, "%s", good);

    EXPECT_OP_PROBLEM(tx(NULL), 400, "invalid_json", -1);
    EXPECT_OP_PROBLEM(tx("[]"), 400, "invalid_request", -1);
    EXPECT_OP_PROBLEM(tx("{}"), 400, "invalid_request", -1);
    EXPECT_OP_PROBLEM(tx("{\"operations\":[]}"), 400, "invalid_request", -1);
    EXPECT_OP_PROBLEM(tx("{\"operations\":{}}"), 400, "invalid_request", -1);
    char *many = malloc(101 * (strlen(goodbuf) + 1) + 64);
    strcpy(many, "{\"operations\":[");
    for (int i = 0; i < 101; i++) {
        strcat(many, i ? "," : "");
        strcat(many, goodbuf);
    }
    strcat(many, "]}");
    EXPECT_OP_PROBLEM(tx(many), 400, "invalid_request", -1);
    free(many);
    EXPECT_OP_PROBLEM(requestf("POST", "/transactions", "{\"transaction_id\":\"x\",\"operations\":[%s]}", goodbuf), 400,
                      "invalid_request", -1);

    const char *bad[][3] = {
        {"5", "invalid_request", NULL},
        {"{\"stream\":\"s\"}", "invalid_request", NULL},
        {"{\"op\":\"drop\"}", "invalid_request", NULL},
        {"{\"op\":7}", "invalid_request", NULL},
        {"{\"op\":\"append\",\"stream\":\"a b\",\"events\":[{\"type\":\"A\",\"data\":1}]}", "invalid_name", NULL},
        {"{\"op\":\"append\",\"events\":[{\"type\":\"A\",\"data\":1}]}", "invalid_name", NULL},
        {"{\"op\":\"append\",\"stream\":\"x\",\"events\":[]}", "invalid_request", NULL},
        {"{\"op\":\"append\",\"stream\":\"x\",\"expected_version\":\"maybe\",\"events\":[{\"type\":\"A\",\"data\":1}]}",
         "invalid_request", NULL},
        {"{\"op\":\"append\",\"stream\":\"x\",\"events\":[{\"type\":\"\",\"data\":1}]}", "invalid_request", NULL},
        {"{\"op\":\"enqueue\",\"queue\":\"x\",\"messages\":[{\"type\":\"M\",\"data\":1,\"delay_seconds\":-1}]}",
         "invalid_request", NULL},
        {"{\"op\":\"enqueue\",\"queue\":5,\"messages\":[{\"type\":\"M\",\"data\":1}]}", "invalid_name", NULL},
        {"{\"op\":\"ack\",\"queue\":\"x\",\"id\":\"nope\",\"receipt\":\"r\"}", "invalid_request", NULL},
        {"{\"op\":\"ack\",\"queue\":\"x\",\"id\":\"6f1c0a52-3c1e-4b7a-9d0e-2f4a5b6c7d8e\"}", "invalid_request", NULL},
        {"{\"op\":\"nack\",\"queue\":\"x\",\"id\":\"6f1c0a52-3c1e-4b7a-9d0e-2f4a5b6c7d8e\",\"receipt\":\"r\","
         "\"requeue\":\"no\"}",
         "invalid_request", NULL},
        {"{\"op\":\"nack\",\"queue\":\"x\",\"id\":\"6f1c0a52-3c1e-4b7a-9d0e-2f4a5b6c7d8e\",\"receipt\":\"r\","
         "\"delay_seconds\":1.5}",
         "invalid_request", NULL},
        {"{\"op\":\"commit_offset\",\"stream\":\"x\",\"group\":\"g\"}", "invalid_request", NULL},
        {"{\"op\":\"commit_offset\",\"stream\":\"x\",\"group\":\"..\",\"offset\":1}", "invalid_name", NULL},
        {"{\"op\":\"commit_offset\",\"stream\":\"x\",\"group\":\"g\",\"offset\":1,\"force\":1}", "invalid_request",
         NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* Alone at index 0, and after a valid operation at index 1. */
        EXPECT_OP_PROBLEM(requestf("POST", "/transactions", "{\"operations\":[%s]}", bad[i][0]), 400, bad[i][1], 0);
        EXPECT_OP_PROBLEM(requestf("POST", "/transactions", "{\"operations\":[%s,%s]}", goodbuf, bad[i][0]), 400,
                          bad[i][1], 1);
    }
    char *after = snapshot(s, q);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
}
END_TEST

START_TEST(a_transaction_id_retry_gets_the_first_answer_and_applies_nothing)
{
    const char *in = unique_name("in"), *out = unique_name("out");
    struct qf_delivery d;
    char ack[512], tid[UUID_LEN + 1], body[2048], event_id[UUID_LEN + 1];
    qf_enqueue_n(in, 1, "Order", NULL);
    qf_dequeue_one(in, NULL, &d);
    ack_op(ack, sizeof ack, in, &d);
    new_uuid(tid);
    new_uuid(event_id);
    snprintf(body, sizeof body,
             "{\"transaction_id\":\"%s\",\"operations\":[%s,{\"op\":\"append\",\"stream\":\"%s\",\"events\":[{\"id\":"
             "\"%s\",\"type\":\"Done\",\"data\":{}}]},{\"op\":\"enqueue\",\"queue\":\"%s\",\"messages\":[{\"type\":"
             "\"Next\",\"data\":{}}]}]}",
             tid, ack, out, event_id, in);
    struct response *first = tx(body);
    EXPECT_JSON(first, 200);
    /* The answer was lost: the same request again, with other spacing. */
    char *spaced = malloc(strlen(body) * 2);
    char *o = spaced;
    for (const char *c = body; *c; c++) {
        *o++ = *c;
        if (*c == ',' && o[-2] == '}')
            *o++ = ' ';
    }
    *o = '\0';
    struct response *again = tx(spaced);
    free(spaced);
    EXPECT_JSON(again, 200);
    ck_assert_str_eq(first->body, again->body);
    response_free(first);
    response_free(again);
    QF_EXPECT_COUNTS(in, 1, 0, 0, 0); /* one Next, not two */
    struct response *r = get("/streams/%s", out);
    ck_assert_int_eq(int_field(r->json, "version"), 0);
    response_free(r);

    /* The same id with other operations: refused, nothing done. */
    snprintf(body, sizeof body,
             "{\"transaction_id\":\"%s\",\"operations\":[{\"op\":\"enqueue\",\"queue\":\"%s\",\"messages\":[{"
             "\"type\":\"Other\",\"data\":{}}]}]}",
             tid, in);
    EXPECT_OP_PROBLEM(tx(body), 409, "transaction_id_reused", -1);
    QF_EXPECT_COUNTS(in, 1, 0, 0, 0);

    /* Without a transaction_id the retry is refused at the ack (already
     * done), and its append alone would be an idempotent retry. */
    snprintf(body, sizeof body,
             "{\"operations\":[%s,{\"op\":\"append\",\"stream\":\"%s\",\"events\":[{\"id\":\"%s\",\"type\":\"Done\","
             "\"data\":{}}]}]}",
             ack, out, event_id);
    EXPECT_OP_PROBLEM(tx(body), 404, "message_not_found", 0);
    snprintf(body, sizeof body,
             "{\"operations\":[{\"op\":\"append\",\"stream\":\"%s\",\"events\":[{\"id\":\"%s\",\"type\":\"Done\","
             "\"data\":{}}]}]}",
             out, event_id);
    r = tx(body);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(result(r, 0), "version"), 0);
    response_free(r);
}
END_TEST

static Suite *transactions_suite(void)
{
    Suite *s = suite_create("transactions");
    TCase *tc = tcase_create("transactions");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, each_kind_alone_answers_as_its_single_route);
    tcase_add_test(tc, a_worker_step_commits_every_operation_in_order);
    tcase_add_test(tc, a_failing_operation_first_middle_or_last_applies_nothing);
    tcase_add_test(tc, invalid_requests_are_400_and_name_the_operation);
    tcase_add_test(tc, a_transaction_id_retry_gets_the_first_answer_and_applies_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return qf_main(transactions_suite());
}
