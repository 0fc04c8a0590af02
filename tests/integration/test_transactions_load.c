/* POST /transactions under concurrency and crashes: two workers racing for
 * one delivery and one stream version (exactly one commits); a SIGKILL in the
 * middle of a load (every transaction is there whole or not at all); and the
 * exactly-once worker loop: 2,000 messages, 8 workers that dequeue, append a
 * derived event and ack in one transaction, some abandoning their leases or
 * letting them expire; the output holds exactly one event per message. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "group_calls.h"
#include "queue_fixtures.h"

/* Thread-safe request: no shared buffers. */
static struct response *post_tx(const struct service_proc *sp, const char *body)
{
    return http(sp, "POST", "/transactions", body, NULL);
}

static int operation_of(const struct response *r)
{
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(r->json, "operation");
    return cJSON_IsNumber(op) ? (int)op->valuedouble : -1;
}

/* ---- two workers, one delivery, one stream version ---- */

struct racer {
    pthread_barrier_t *start;
    char body[1024];
    long status;
    char code[64];
    int operation;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->start);
    struct response *res = post_tx(&svc, r->body);
    r->status = res->status;
    snprintf(r->code, sizeof r->code, "%s", response_code(res));
    r->operation = operation_of(res);
    response_free(res);
    return NULL;
}

START_TEST(two_workers_racing_for_one_delivery_and_version_commit_once)
{
    const char *q = unique_name("q"), *s = unique_name("s");
    enum { ROUNDS = 20 };
    int ack_lost = 0, version_lost = 0, deadlocked = 0;
    for (int round = 0; round < ROUNDS; round++) {
        struct qf_delivery d;
        qf_enqueue_n(q, 1, "Job", NULL);
        qf_dequeue_one(q, NULL, &d);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 2);
        struct racer racers[2];
        pthread_t threads[2];
        for (int k = 0; k < 2; k++) {
            racers[k].start = &start;
            /* The second worker acks second in half the rounds: either refusal can come first. */
            const char *ack =
                fmt("{\"op\":\"ack\",\"queue\":\"%s\",\"id\":\"%s\",\"receipt\":\"%s\"}", q, d.id, d.receipt);
            const char *append = fmt("{\"op\":\"append\",\"stream\":\"%s\",\"expected_version\":%d,\"events\":[{"
                                     "\"type\":\"Worker%d\",\"data\":%d}]}",
                                     s, round - 1, k, round);
            bool append_first = k == 1 && round % 2 == 1;
            snprintf(racers[k].body, sizeof racers[k].body, "{\"operations\":[%s,%s]}", append_first ? append : ack,
                     append_first ? ack : append);
        }
        for (int k = 0; k < 2; k++)
            ck_assert_int_eq(pthread_create(&threads[k], NULL, race, &racers[k]), 0);
        for (int k = 0; k < 2; k++)
            pthread_join(threads[k], NULL);
        pthread_barrier_destroy(&start);
        int won = (racers[0].status == 200) + (racers[1].status == 200);
        ck_assert_msg(won == 1, "round %d: %ld and %ld", round, racers[0].status, racers[1].status);
        const struct racer *loser = racers[0].status == 200 ? &racers[1] : &racers[0];
        if (!strcmp(loser->code, "message_not_found"))
            ack_lost++;
        else if (!strcmp(loser->code, "version_conflict"))
            version_lost++;
        else if (round % 2 == 1 && loser->status == 503 && !strcmp(loser->code, "unavailable"))
            /* Opposite orders of the same two locks: PostgreSQL aborts one of
             * the two as a deadlock, which the client retries (503). */
            deadlocked++;
        else
            ck_abort_msg("round %d: the loser got %ld %s", round, loser->status, loser->code);
        struct response *r = get("/streams/%s", s);
        ck_assert_int_eq(int_field(r->json, "version"), round);
        response_free(r);
    }
    ck_assert_int_eq(ack_lost + version_lost + deadlocked, ROUNDS);
    QF_EXPECT_COUNTS(q, 0, 0, 0, 0);
}
END_TEST

/* ---- transactions that wait for a writer share its commit ---- */

/* The sample of `name` (with its labels) in a /metrics text; -1 when absent. */
static double metric(const char *text, const char *name)
{
    const char *p = strstr(text, name);
    return p ? atof(p + strlen(name)) : -1;
}

START_TEST(transactions_sharing_a_commit_are_each_answered_as_alone)
{
    struct service_proc sp;
    const char *args[] = {"--transaction-writers", "1", NULL};
    ck_assert(svc_start(&sp, NULL, args));
    char tid[UUID_LEN + 1], sql[256], s[6][64], q[64];
    new_uuid(tid);
    for (int i = 0; i < 6; i++)
        snprintf(s[i], sizeof s[i], "%s", unique_name("s"));
    snprintf(q, sizeof q, "%s", unique_name("q"));
    /* Our session holds the lock of the first transaction's id: it waits in
     * PostgreSQL, and the writer with it, while the others queue. */
    PGconn *pg = group_session();
    snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(1936028019, hashtext('%s'))", tid);
    group_exec_ok(pg, sql);
    struct call calls[GROUP_MAX_CALLS];
    int n = 0;
    /* An append of one event to `stream` with `expected` as expected_version. */
#define APPEND_OP(buf, stream, expected)                                                                               \
    snprintf(buf, sizeof buf,                                                                                          \
             "{\"op\":\"append\",\"stream\":\"%s\",\"expected_version\":%s,\"events\":[{\"type\":\"A\","               \
             "\"data\":1}]}",                                                                                          \
             stream, expected)
    char op[512], other[512];
    APPEND_OP(op, s[0], "-1");
    group_add_call(calls, &n, "/transactions", fmt("{\"transaction_id\":\"%s\",\"operations\":[%s]}", tid, op));
    APPEND_OP(op, s[1], "-1");
    group_add_call(calls, &n, "/transactions", fmt("{\"operations\":[%s]}", op)); /* 200 */
    APPEND_OP(op, s[2], "5");
    group_add_call(calls, &n, "/transactions", fmt("{\"operations\":[%s]}", op)); /* 409 version_conflict, 0 */
    APPEND_OP(op, s[3], "-1");
    snprintf(other, sizeof other,
             "{\"op\":\"ack\",\"queue\":\"%s\",\"id\":\"6f1c0a52-3c1e-4b7a-9d0e-2f4a5b6c7d8e\",\"receipt\":\"r\"}", q);
    group_add_call(calls, &n, "/transactions", fmt("{\"operations\":[%s,%s]}", op, other)); /* 404, 1 */
    group_add_call(calls, &n, "/transactions",
                   fmt("{\"operations\":[{\"op\":\"enqueue\",\"queue\":\"%s\",\"messages\":[{\"type\":\"M\","
                       "\"data\":1}]}]}",
                       q)); /* 200 */
    APPEND_OP(op, s[5], "-1");
    snprintf(other, sizeof other, "{\"op\":\"commit_offset\",\"stream\":\"%s\",\"group\":\"g\",\"offset\":1}", s[5]);
    group_add_call(calls, &n, "/transactions", fmt("{\"operations\":[%s,%s]}", op, other)); /* 200 */
    for (int i = 0; i < n; i++)
        calls[i].sp = &sp;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE %d = ANY (pg_blocking_pids(pid))",
             PQbackendPID(pg));
    (void)group_send_behind(sql, calls, n);
    snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(1936028019, hashtext('%s'))", tid);
    group_exec_ok(pg, sql);
    PQfinish(pg);
    group_join(calls, 0, n);

    const long want[] = {200, 200, 409, 404, 200, 200};
    const char *codes[] = {"", "", "version_conflict", "message_not_found", "", ""};
    const int ops[] = {-1, -1, 0, 1, -1, -1};
    for (int i = 0; i < n; i++) {
        ck_assert_msg(calls[i].r->status == want[i], "call %d: %ld %s", i, calls[i].r->status, calls[i].r->body);
        ck_assert_str_eq(response_code(calls[i].r), codes[i]);
        ck_assert_int_eq(operation_of(calls[i].r), ops[i]);
    }
    /* Committed: theirs; refused: nothing of them. */
    const long stream_status[] = {200, 200, 404, 404, 0, 200};
    for (int i = 0; i < 6; i++) {
        if (!stream_status[i])
            continue;
        struct response *r = http(&sp, "GET", fmt("/streams/%s", s[i]), NULL, NULL);
        ck_assert_msg(r->status == stream_status[i], "stream %d: %ld", i, r->status);
        response_free(r);
    }
    struct response *r = http(&sp, "GET", fmt("/queues/%s", q), NULL, NULL);
    ck_assert_int_eq(response_int(r, "pending"), 1);
    response_free(r);
    r = http(&sp, "GET", fmt("/streams/%s/consumers/g", s[5]), NULL, NULL);
    ck_assert_int_eq(response_int(r, "offset"), 1);
    response_free(r);
    /* The first alone, the five that waited for it together. */
    r = http(&sp, "GET", "/metrics", NULL, NULL);
    ck_assert_double_eq(metric(r->body, "streamq_group_commit_size_count{kind=\"transaction\"}"), 2);
    ck_assert_double_eq(metric(r->body, "streamq_group_commit_size_sum{kind=\"transaction\"}"), 6);
    response_free(r);
    group_free(calls, n);
    ck_assert_int_eq(svc_stop(&sp), 0);
}
END_TEST

/* ---- SIGKILL during a load ---- */

#define LOAD_THREADS 4
#define LOAD_MAX 100000

struct loader {
    const struct service_proc *sp;
    const char *a, *b, *c; /* stream, queue, stream */
    unsigned tag, thread;
    volatile int *stop;
    int sent;      /* transactions 0..sent-1 were sent (the last may have been cut) */
    int committed; /* answered 200 */
    int *answered; /* 1 per transaction answered 200 */
};

static void load_id(char out[UUID_LEN + 1], unsigned tag, unsigned kind, unsigned thread, int n)
{
    snprintf(out, UUID_LEN + 1, "%08x-%04x-4000-8000-%04x%08x", tag, kind, thread, (unsigned)n);
}

static void *load(void *arg)
{
    struct loader *l = arg;
    char body[2048], x[UUID_LEN + 1], y[UUID_LEN + 1], z[UUID_LEN + 1];
    for (int n = 0; n < LOAD_MAX && !*l->stop; n++) {
        load_id(x, l->tag, 1, l->thread, n);
        load_id(y, l->tag, 2, l->thread, n);
        load_id(z, l->tag, 3, l->thread, n);
        snprintf(body, sizeof body,
                 "{\"operations\":[{\"op\":\"append\",\"stream\":\"%s\",\"events\":[{\"id\":\"%s\",\"type\":\"X\","
                 "\"data\":%d}]},{\"op\":\"enqueue\",\"queue\":\"%s\",\"messages\":[{\"id\":\"%s\",\"type\":\"Y\","
                 "\"data\":%d}]},{\"op\":\"append\",\"stream\":\"%s\",\"events\":[{\"id\":\"%s\",\"type\":\"Z\","
                 "\"data\":%d}]}]}",
                 l->a, x, n, l->b, y, n, l->c, z, n);
        l->sent = n + 1;
        struct response *r = post_tx(l->sp, body);
        if (r->status == 200) {
            l->answered[n] = 1;
            l->committed++;
        }
        bool lost = r->status == 0;
        response_free(r);
        if (lost)
            break; /* the service is gone */
    }
    return NULL;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every id of a stream's events, or of a queue's pending messages, sorted. */
static char **collect_ids(const char *stream, const char *queue, int *n)
{
    int cap = 1024, count = 0;
    char **ids = malloc(sizeof *ids * (size_t)cap);
    char after[64] = "";
    long long from = 0;
    for (;;) {
        struct response *r =
            stream ? get("/streams/%s/events?from=%lld&limit=1000", stream, from)
                   : get("/queues/%s/messages?state=pending&limit=1000%s%s", queue, *after ? "&after=" : "", after);
        ck_assert_int_eq(r->status, 200);
        const cJSON *list = field(r->json, stream ? "events" : "messages"), *item;
        cJSON_ArrayForEach(item, list) {
            if (count == cap)
                ids = realloc(ids, sizeof *ids * (size_t)(cap *= 2));
            ids[count++] = strdup(str_field(item, "id"));
        }
        bool more;
        if (stream) {
            from = int_field(r->json, "next_offset");
            more = !cJSON_IsTrue(field(r->json, "end_of_stream"));
        } else {
            const cJSON *next = field(r->json, "next_after");
            more = cJSON_IsString(next);
            if (more)
                snprintf(after, sizeof after, "%s", next->valuestring);
        }
        response_free(r);
        if (!more)
            break;
    }
    qsort(ids, (size_t)count, sizeof *ids, compare_strings);
    *n = count;
    return ids;
}

static bool has_id(char **ids, int n, const char *id)
{
    return bsearch(&id, ids, (size_t)n, sizeof *ids, compare_strings) != NULL;
}

static void free_ids(char **ids, int n)
{
    for (int i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

START_TEST(a_sigkill_during_a_load_leaves_each_transaction_whole_or_absent)
{
    struct service_proc sp;
    const char *args[] = {"--max-batch", "10", NULL};
    ck_assert(svc_start(&sp, svc.schema, args));
    char a[64], b[64], c[64];
    snprintf(a, sizeof a, "%s", unique_name("a"));
    snprintf(b, sizeof b, "%s", unique_name("b"));
    snprintf(c, sizeof c, "%s", unique_name("c"));
    volatile int stop = 0;
    unsigned tag = (unsigned)rand();
    struct loader loaders[LOAD_THREADS];
    pthread_t threads[LOAD_THREADS];
    for (int t = 0; t < LOAD_THREADS; t++) {
        loaders[t] = (struct loader){&sp, a, b, c, tag, (unsigned)t, &stop, 0, 0, calloc(LOAD_MAX, sizeof(int))};
        ck_assert_int_eq(pthread_create(&threads[t], NULL, load, &loaders[t]), 0);
    }
    /* Kill once some transactions committed, while the others are in flight. */
    int committed = 0;
    for (int i = 0; i < 3000 && committed < 100; i++) {
        usleep(10 * 1000);
        committed = 0;
        for (int t = 0; t < LOAD_THREADS; t++)
            committed += loaders[t].committed;
    }
    svc_kill(&sp);
    stop = 1;
    for (int t = 0; t < LOAD_THREADS; t++)
        pthread_join(threads[t], NULL);

    int na, nb, nc, whole = 0;
    char **in_a = collect_ids(a, NULL, &na), **in_b = collect_ids(NULL, b, &nb), **in_c = collect_ids(c, NULL, &nc);
    for (int t = 0; t < LOAD_THREADS; t++) {
        for (int n = 0; n < loaders[t].sent; n++) {
            char x[UUID_LEN + 1], y[UUID_LEN + 1], z[UUID_LEN + 1];
            load_id(x, tag, 1, (unsigned)t, n);
            load_id(y, tag, 2, (unsigned)t, n);
            load_id(z, tag, 3, (unsigned)t, n);
            bool hx = has_id(in_a, na, x), hy = has_id(in_b, nb, y), hz = has_id(in_c, nc, z);
            ck_assert_msg(hx == hy && hy == hz, "transaction %d/%d applied in part: %d %d %d", t, n, hx, hy, hz);
            ck_assert_msg(hx || !loaders[t].answered[n], "transaction %d/%d answered 200 but is gone", t, n);
            whole += hx;
        }
        free(loaders[t].answered);
    }
    ck_assert_int_ge(whole, committed);
    ck_assert_int_gt(whole, 0);
    ck_assert_int_eq(whole, na);
    ck_assert_int_eq(whole, nb);
    ck_assert_int_eq(whole, nc);
    free_ids(in_a, na);
    free_ids(in_b, nb);
    free_ids(in_c, nc);
}
END_TEST

/* ---- exactly once: 2,000 messages, 8 workers, kills and expiries ---- */

#define E2E_MESSAGES 2000
#define E2E_WORKERS 8

struct worker {
    const char *in, *out;
    unsigned seed;
    int committed, abandoned, expired, refused;
    bool timed_out;
    double deadline;
};

static long long queue_count(const char *queue, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/queues/%s", queue);
    struct response *r = http(&svc, "GET", path, NULL, NULL);
    long long v = response_int(r, name);
    response_free(r);
    return v;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    char path[256], body[2048];
    snprintf(path, sizeof path, "/queues/%s/dequeue", w->in);
    while (!(w->timed_out = now_seconds() > w->deadline)) {
        struct response *r = http(&svc, "POST", path, "{\"max_messages\":4,\"visibility_timeout\":1}", NULL);
        const cJSON *messages = r->status == 200 ? field(r->json, "messages") : NULL, *m;
        if (cJSON_GetArraySize(messages) == 0) {
            response_free(r);
            if (queue_count(w->in, "pending") + queue_count(w->in, "in_flight") == 0)
                break;
            usleep(50 * 1000);
            continue;
        }
        cJSON_ArrayForEach(m, messages) {
            int dice = (int)(rand_r(&w->seed) % 100);
            if (dice < 5) { /* the worker "dies": its lease is left to expire */
                w->abandoned++;
                continue;
            }
            if (dice < 8) { /* too slow: the lease expires before it settles */
                usleep(1300 * 1000);
                w->expired++;
            }
            /* The derived event's id is the message's id: a redelivered message
             * that was processed already would be an idempotent retry. */
            const char *id = str_field(m, "id");
            snprintf(body, sizeof body,
                     "{\"operations\":[{\"op\":\"ack\",\"queue\":\"%s\",\"id\":\"%s\",\"receipt\":\"%s\"},"
                     "{\"op\":\"append\",\"stream\":\"%s\",\"events\":[{\"id\":\"%s\",\"type\":\"Processed\","
                     "\"data\":{\"message\":\"%s\"}}]}]}",
                     w->in, id, str_field(m, "receipt"), w->out, id, id);
            struct response *t = post_tx(&svc, body);
            if (t->status == 200)
                w->committed++;
            else
                w->refused++;
            response_free(t);
        }
        response_free(r);
    }
    return NULL;
}

START_TEST(workers_with_kills_and_expiries_process_each_message_exactly_once)
{
    char in[64], out[64];
    snprintf(in, sizeof in, "%s", unique_name("in"));
    snprintf(out, sizeof out, "%s", unique_name("out"));
    struct response *r = qf_put_config(in, "{\"max_delivery_attempts\":1000}");
    ck_assert_int_eq(r->status, 200);
    response_free(r);
    char(*ids)[UUID_LEN + 1] = calloc(E2E_MESSAGES, sizeof *ids);
    qf_enqueue_n(in, E2E_MESSAGES, "Job", ids);

    struct worker workers[E2E_WORKERS];
    pthread_t threads[E2E_WORKERS];
    double deadline = now_seconds() + 120;
    for (int i = 0; i < E2E_WORKERS; i++) {
        workers[i] = (struct worker){.in = in, .out = out, .seed = (unsigned)(i * 7919 + 1), .deadline = deadline};
        ck_assert_int_eq(pthread_create(&threads[i], NULL, work, &workers[i]), 0);
    }
    int committed = 0, abandoned = 0, expired = 0;
    for (int i = 0; i < E2E_WORKERS; i++) {
        pthread_join(threads[i], NULL);
        ck_assert_msg(!workers[i].timed_out, "worker %d did not finish in time", i);
        committed += workers[i].committed;
        abandoned += workers[i].abandoned;
        expired += workers[i].expired;
    }
    ck_assert_int_gt(abandoned, 0);
    ck_assert_int_gt(expired, 0);
    ck_assert_int_eq(committed, E2E_MESSAGES);
    QF_EXPECT_COUNTS(in, 0, 0, 0, 0);

    int n;
    char **events = collect_ids(out, NULL, &n);
    ck_assert_int_eq(n, E2E_MESSAGES);
    for (int i = 0; i < E2E_MESSAGES; i++)
        ck_assert_msg(has_id(events, n, ids[i]), "message %s has no event", ids[i]);
    free_ids(events, n);
    free(ids);
}
END_TEST

static Suite *transactions_load_suite(void)
{
    Suite *s = suite_create("transactions_load");
    TCase *tc = tcase_create("transactions_load");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, two_workers_racing_for_one_delivery_and_version_commit_once);
    tcase_add_test(tc, transactions_sharing_a_commit_are_each_answered_as_alone);
    tcase_add_test(tc, a_sigkill_during_a_load_leaves_each_transaction_whole_or_absent);
    tcase_add_test(tc, workers_with_kills_and_expiries_process_each_message_exactly_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return qf_main(transactions_load_suite());
}
