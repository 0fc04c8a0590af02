/* Group commit for queue operations (db/queue_group.c): enqueues, dequeues and
 * acks that arrive while another of their kind is being written go out
 * together, with one statement in one transaction, and each request still
 * gets its own answer. The service runs with one writer per kind; a session of
 * ours holds the queue table locked, so the first request of a kind waits in
 * PostgreSQL and every request sent meanwhile queues behind it; they go out as
 * one group when the lock is let go. */
#include <check.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "group_calls.h"

/* Locks the service's queue table against every write and every locking read
 * until hold_release: a group statement of any kind waits on it. */
static PGconn *hold_queue_table(const struct service_proc *sp)
{
    char sql[256];
    PGconn *pg = group_session();
    group_exec_ok(pg, "BEGIN");
    snprintf(sql, sizeof sql, "LOCK TABLE %s.queue_events IN EXCLUSIVE MODE", sp->schema);
    group_exec_ok(pg, sql);
    return pg;
}

/* Sends calls[0], waits until its group statement waits on our lock, sends
 * the rest and gives them time to queue behind it (not a timing assertion:
 * only time to queue); they queue for the one writer, not in PostgreSQL. */
static void send_group(PGconn *pg, struct call *calls, int n)
{
    char sql[256];
    /* Group statements waiting on us (not the sweeper, which waits too). */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_stat_activity WHERE %d = ANY (pg_blocking_pids(pid))"
             " AND strpos(query, 'unnest($1::text[]') > 0",
             PQbackendPID(pg));
    long long waiting = group_send_behind(sql, calls, n);
    ck_assert_int_eq(sql_value(sql), waiting);
}

static void release_group(PGconn *pg, struct call *calls, int n)
{
    group_exec_ok(pg, "COMMIT");
    PQfinish(pg);
    group_join(calls, 0, n);
}

/* "/queues/<queue>/<what>", or "/queues/<queue>" when `what` is "". */
static const char *path_of(const char *queue, const char *what)
{
    static char buf[4][320];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 320, "/queues/%s%s%s", queue, *what ? "/" : "", what);
    return p;
}

/* Enqueues `n` messages to `queue`, one request. */
static void enqueue_n(const char *queue, int n)
{
    char body[2048] = "{\"messages\":[";
    for (int i = 0; i < n; i++)
        snprintf(body + strlen(body), sizeof body - strlen(body), "%s{\"type\":\"T\",\"data\":%d}", i ? "," : "", i);
    strcat(body, "]}");
    struct response *r = http(&svc, "POST", path_of(queue, "messages"), body, NULL);
    ck_assert_int_eq(r->status, 201);
    response_free(r);
}

/* Dequeues one message of `queue`; its id and receipt go to `id` and `receipt`. */
static void dequeue_one(const char *queue, char *id, char *receipt)
{
    struct response *r = http(&svc, "POST", path_of(queue, "dequeue"), "{\"max_messages\":1}", NULL);
    ck_assert_int_eq(r->status, 200);
    const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(r->json, "messages"), 0);
    ck_assert_ptr_nonnull(m);
    strcpy(id, cJSON_GetObjectItem(m, "id")->valuestring);
    strcpy(receipt, cJSON_GetObjectItem(m, "receipt")->valuestring);
    response_free(r);
}

static long long count_in(const char *queue, const char *where)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.queue_events WHERE queue = '%s' AND %s", svc.schema, queue,
             where);
    return sql_value(sql);
}

static const char *msg_path(const char *queue, const char *id, const char *action)
{
    static char buf[4][320];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 320, "/queues/%s/messages/%s/%s", queue, id, action);
    return p;
}

#define UNKNOWN_ID "dddddddd-0000-4000-8000-000000000001"

START_TEST(acks_queued_together_get_each_their_own_answer)
{
    const char *q = unique_name("gack");
    char ids[6][40], receipts[6][80], stale[80], body[1024];
    enqueue_n(q, 6);
    for (int i = 0; i < 6; i++)
        dequeue_one(q, ids[i], receipts[i]);
    /* Message 5 is delivered again: its first receipt is stale. */
    snprintf(stale, sizeof stale, "%s", receipts[5]);
    snprintf(body, sizeof body, "{\"receipt\":\"%s\",\"requeue\":true}", stale);
    struct response *r = http(&svc, "POST", msg_path(q, ids[5], "nack"), body, NULL);
    ck_assert_int_eq(r->status, 204);
    response_free(r);
    char again[40];
    dequeue_one(q, again, receipts[5]);
    ck_assert_str_eq(again, ids[5]);

    struct call calls[GROUP_MAX_CALLS];
    int n = 0;
    PGconn *pg = hold_queue_table(&svc);
    snprintf(body, sizeof body, "{\"receipt\":\"%s\"}", receipts[0]);
    group_add_call(calls, &n, msg_path(q, ids[0], "ack"), body);
    snprintf(body, sizeof body, "{\"receipt\":\"%s\"}", receipts[1]);
    struct call *good = group_add_call(calls, &n, msg_path(q, ids[1], "ack"), body);
    struct call *wrong = group_add_call(calls, &n, msg_path(q, ids[2], "ack"), "{\"receipt\":\"nope\"}");
    struct call *unknown = group_add_call(calls, &n, msg_path(q, UNKNOWN_ID, "ack"), "{\"receipt\":\"nope\"}");
    snprintf(body, sizeof body, "{\"receipt\":\"%s\"}", receipts[3]);
    struct call *twice[2] = {group_add_call(calls, &n, msg_path(q, ids[3], "ack"), body),
                             group_add_call(calls, &n, msg_path(q, ids[3], "ack"), body)};
    snprintf(body, sizeof body,
             "{\"acks\":[{\"id\":\"%s\",\"receipt\":\"%s\"},{\"id\":\"%s\",\"receipt\":\"%s\"},"
             "{\"id\":\"" UNKNOWN_ID "\",\"receipt\":\"x\"}]}",
             ids[4], receipts[4], ids[5], stale);
    struct call *batch = group_add_call(calls, &n, path_of(q, "ack"), body);
    snprintf(body, sizeof body, "{\"receipt\":\"%s\"}", receipts[5]);
    struct call *latest = group_add_call(calls, &n, msg_path(q, ids[5], "ack"), body);
    send_group(pg, calls, n);
    release_group(pg, calls, n);

    ck_assert_int_eq(calls[0].r->status, 204);
    ck_assert_int_eq(good->r->status, 204);
    ck_assert_int_eq(wrong->r->status, 409);
    ck_assert_str_eq(response_code(wrong->r), "stale_receipt");
    ck_assert_int_eq(unknown->r->status, 404);
    ck_assert_str_eq(response_code(unknown->r), "message_not_found");
    /* One message acked twice with its receipt: one ack took it. */
    long a = twice[0]->r->status, b = twice[1]->r->status;
    ck_assert_msg((a == 204 && b == 404) || (a == 404 && b == 204), "%ld %ld", a, b);
    ck_assert_int_eq(latest->r->status, 204);
    ck_assert_int_eq(batch->r->status, 200);
    const cJSON *acked = cJSON_GetObjectItem(batch->r->json, "acked");
    const cJSON *failed = cJSON_GetObjectItem(batch->r->json, "failed");
    ck_assert_int_eq(cJSON_GetArraySize(acked), 1);
    ck_assert_str_eq(cJSON_GetArrayItem(acked, 0)->valuestring, ids[4]);
    ck_assert_int_eq(cJSON_GetArraySize(failed), 2);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(failed, 0), "id")->valuestring, ids[5]);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(failed, 0), "code")->valuestring, "stale_receipt");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(failed, 1), "code")->valuestring, "message_not_found");
    /* Only the message acked with a wrong receipt is left, still leased. */
    ck_assert_int_eq(count_in(q, "true"), 1);
    ck_assert_int_eq(count_in(q, "receipt IS NOT NULL"), 1);
    group_free(calls, n);
}
END_TEST

/* Eight dequeues of one queue in one group, asking for 36 messages of 30:
 * every message goes to exactly one of them, each gets at most what it asked,
 * with its own lease length and consumer, all in one transaction; a long poll
 * of the group that found nothing waits, and gets the message enqueued after. */
START_TEST(dequeues_queued_together_share_one_scan_and_never_a_message)
{
    const char *q = unique_name("gdq"), *empty = unique_name("gdqw"), *held = unique_name("gdqh");
    enqueue_n(q, 15);
    enqueue_n(q, 15);
    struct call calls[GROUP_MAX_CALLS];
    int n = 0;
    char body[256];
    PGconn *pg = hold_queue_table(&svc);
    group_add_call(calls, &n, path_of(held, "dequeue"), "{}");
    for (int k = 1; k <= 8; k++) {
        snprintf(body, sizeof body, "{\"max_messages\":%d,\"visibility_timeout\":%d,\"consumer\":\"c%d\"}", k, 100 + k,
                 k);
        group_add_call(calls, &n, path_of(q, "dequeue"), body);
    }
    struct call *poll = group_add_call(calls, &n, path_of(empty, "dequeue"), "{\"wait_seconds\":30}");
    send_group(pg, calls, n);
    group_exec_ok(pg, "COMMIT");
    PQfinish(pg);
    /* The long poll's dequeue found nothing, so it waits: this wakes it. */
    while (count_in(q, "receipt IS NOT NULL") < 30)
        usleep(10 * 1000);
    enqueue_n(empty, 1);
    group_join(calls, 0, n);

    ck_assert_int_eq(calls[0].r->status, 200);
    ck_assert_int_eq(poll->r->status, 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(poll->r->json, "messages")), 1);
    char seen[30][40];
    int total = 0;
    for (int k = 1; k <= 8; k++) {
        ck_assert_int_eq(calls[k].r->status, 200);
        const cJSON *got = cJSON_GetObjectItem(calls[k].r->json, "messages"), *m;
        ck_assert_int_le(cJSON_GetArraySize(got), k);
        cJSON_ArrayForEach(m, got) {
            const char *id = cJSON_GetObjectItem(m, "id")->valuestring;
            for (int i = 0; i < total; i++)
                ck_assert_str_ne(seen[i], id);
            ck_assert_int_lt(total, 30);
            snprintf(seen[total++], sizeof seen[0], "%s", id);
            char where[256];
            snprintf(where, sizeof where,
                     "message_id = '%s' AND consumer = 'c%d' AND delivery_count = 1"
                     " AND extract(epoch FROM visible_at - leased_at)::int = %d",
                     id, k, 100 + k);
            ck_assert_int_eq(count_in(q, where), 1);
        }
    }
    ck_assert_int_eq(total, 30);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(DISTINCT xmin::text) FROM %s.queue_events WHERE queue = '%s'", svc.schema,
             q);
    ck_assert_int_eq(sql_value(sql), 1);
    group_free(calls, n);
}
END_TEST

/* Enqueues to several queues in one group: one transaction for them all; an
 * id sent to one queue twice is written once; a queue with a max_depth is
 * still checked against it. */
START_TEST(enqueues_queued_together_are_one_transaction_each_answered)
{
    const char *p = unique_name("genq");
    char a[96], b[96], full[96], limited[96], held[96];
    snprintf(a, sizeof a, "%s-a", p);
    snprintf(b, sizeof b, "%s-b", p);
    snprintf(full, sizeof full, "%s-full", p);
    snprintf(limited, sizeof limited, "%s-lim", p);
    snprintf(held, sizeof held, "%s-held", p);
    struct response *r = http(&svc, "PUT", path_of(full, ""), "{\"max_depth\":2}", NULL);
    ck_assert_int_lt(r->status, 300);
    response_free(r);
    r = http(&svc, "PUT", path_of(limited, ""), "{\"max_depth\":10}", NULL);
    ck_assert_int_lt(r->status, 300);
    response_free(r);

    struct call calls[GROUP_MAX_CALLS];
    int n = 0;
    PGconn *pg = hold_queue_table(&svc);
    group_add_call(calls, &n, path_of(held, "messages"), "{\"messages\":[{\"type\":\"H\",\"data\":0}]}");
    const char *x = "eeeeeeee-0000-4000-8000-000000000001";
    char body[512];
    snprintf(body, sizeof body,
             "{\"messages\":[{\"id\":\"%s\",\"type\":\"X\",\"data\":1},{\"type\":\"Y\",\"data\":{\"n\":1.50}}]}", x);
    struct call *pair[2] = {group_add_call(calls, &n, path_of(a, "messages"), body), NULL};
    snprintf(body, sizeof body, "{\"messages\":[{\"id\":\"%s\",\"type\":\"X\",\"data\":2}]}", x);
    pair[1] = group_add_call(calls, &n, path_of(a, "messages"), body);
    struct call *other = group_add_call(calls, &n, path_of(b, "messages"),
                                        "{\"messages\":[{\"type\":\"B\",\"data\":1},{\"type\":\"B\",\"data\":2,"
                                        "\"delay_seconds\":60},{\"type\":\"B\",\"data\":3}]}");
    struct call *refused = group_add_call(calls, &n, path_of(full, "messages"),
                                          "{\"messages\":[{\"type\":\"F\",\"data\":1},{\"type\":\"F\",\"data\":2},"
                                          "{\"type\":\"F\",\"data\":3}]}");
    struct call *fits = group_add_call(calls, &n, path_of(limited, "messages"),
                                       "{\"messages\":[{\"type\":\"L\",\"data\":1},{\"type\":\"L\",\"data\":2}]}");
    send_group(pg, calls, n);
    release_group(pg, calls, n);

    ck_assert_int_eq(calls[0].r->status, 201);
    int written = 0;
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pair[i]->r->status, 201);
        const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(pair[i]->r->json, "messages"), 0);
        ck_assert_str_eq(cJSON_GetObjectItem(m, "id")->valuestring, x);
        ck_assert_ptr_nonnull(cJSON_GetObjectItem(m, "enqueued_at"));
        written += cJSON_IsFalse(cJSON_GetObjectItem(m, "duplicate"));
    }
    ck_assert_int_eq(written, 1);
    ck_assert_int_eq(other->r->status, 201);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(other->r->json, "messages")), 3);
    ck_assert_int_eq(refused->r->status, 429);
    ck_assert_str_eq(response_code(refused->r), "queue_full");
    ck_assert_int_eq(fits->r->status, 201);
    ck_assert_int_eq(count_in(a, "true"), 2);
    ck_assert_int_eq(count_in(b, "visible_at > now()"), 1);
    ck_assert_int_eq(count_in(full, "true"), 0);
    ck_assert_int_eq(count_in(limited, "true"), 2);
    /* The data as sent: 1.50 keeps its digits. */
    ck_assert_int_eq(count_in(a, "data::text = '{\"n\": 1.50}'"), 1);
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(DISTINCT xmin::text) FROM %s.queue_events WHERE queue IN ('%s', '%s')",
             svc.schema, a, b);
    ck_assert_int_eq(sql_value(sql), 1);
    group_free(calls, n);
}
END_TEST

/* A message PostgreSQL refuses fails the group's statement: each enqueue is
 * then written alone, so only the bad one is refused. */
START_TEST(a_refused_enqueue_fails_alone)
{
    const char *p = unique_name("genb");
    char good[96], bad[96], held[96];
    snprintf(good, sizeof good, "%s-good", p);
    snprintf(bad, sizeof bad, "%s-bad", p);
    snprintf(held, sizeof held, "%s-held", p);
    struct call calls[GROUP_MAX_CALLS];
    int n = 0;
    PGconn *pg = hold_queue_table(&svc);
    group_add_call(calls, &n, path_of(held, "messages"), "{\"messages\":[{\"type\":\"H\",\"data\":0}]}");
    struct call *refused = group_add_call(calls, &n, path_of(bad, "messages"),
                                          "{\"messages\":[{\"type\":\"T\",\"data\":\"nul \\u0000\"}]}");
    struct call *ok[3];
    for (int i = 0; i < 3; i++)
        ok[i] = group_add_call(calls, &n, path_of(good, "messages"), "{\"messages\":[{\"type\":\"T\",\"data\":1}]}");
    send_group(pg, calls, n);
    release_group(pg, calls, n);
    ck_assert_int_eq(refused->r->status, 400);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(ok[i]->r->status, 201);
    ck_assert_int_eq(count_in(good, "true"), 3);
    ck_assert_int_eq(count_in(bad, "true"), 0);
    group_free(calls, n);
}
END_TEST

/* SIGTERM while enqueues wait for their group: each is still written and
 * answered before the service exits, cleanly. */
START_TEST(sigterm_answers_the_queue_jobs_waiting_for_their_group)
{
    struct service_proc sp;
    const char *args[] = {"--queue-writers", "1", "--shutdown-timeout", "30", NULL};
    ck_assert(svc_start(&sp, svc.schema, args));
    const char *q = unique_name("gterm");
    struct call calls[GROUP_MAX_CALLS];
    int n = 0;
    PGconn *pg = hold_queue_table(&sp);
    for (int i = 0; i < 4; i++)
        group_add_call(calls, &n, path_of(q, "messages"), "{\"messages\":[{\"type\":\"T\",\"data\":1}]}")->sp = &sp;
    send_group(pg, calls, n);
    kill(sp.pid, SIGTERM);
    usleep(300 * 1000);
    release_group(pg, calls, n);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(calls[i].r->status, 201);
    group_free(calls, n);
    ck_assert_int_eq(svc_stop(&sp), 0);
    ck_assert_int_eq(count_in(q, "true"), 4);
}
END_TEST

static Suite *group_suite(void)
{
    Suite *s = suite_create("queue-group");
    TCase *tc = tcase_create("group");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, acks_queued_together_get_each_their_own_answer);
    tcase_add_test(tc, dequeues_queued_together_share_one_scan_and_never_a_message);
    tcase_add_test(tc, enqueues_queued_together_are_one_transaction_each_answered);
    tcase_add_test(tc, a_refused_enqueue_fails_alone);
    tcase_add_test(tc, sigterm_answers_the_queue_jobs_waiting_for_their_group);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *args[] = {"--queue-writers", "1", NULL};
    return harness_main(group_suite(), args);
}
