/* Long polls when something goes wrong around them: SIGTERM answers every
 * waiting request (200, an empty page) before the service exits 0, and when
 * PostgreSQL kills the notifier's LISTEN connection the service reconnects
 * and the waiters are still answered by the next commit. Runs alone: it
 * stops an instance of its own, terminates a backend and times a global read
 * (see test_live_global.c). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "live_client.h"
#include "streams_fixtures.h"

#define RECONNECT_S 2.0 /* a write that lands while the notifier reconnects is seen this soon */

/* `method` `path` with `body` on `sp`; asserts `status`. */
static void send_on(const struct service_proc *sp, const char *method, const char *path, const char *body, long status)
{
    struct response *r = http(sp, method, path, body, NULL);
    ck_assert_msg(r->status == status, "%s %s: %ld, want %ld: %s", method, path, r->status, status, r->body);
    response_free(r);
}

/* Waits up to `timeout_s` for process `pid` to exit, without reaping it. */
static bool exited_within(pid_t pid, double timeout_s)
{
    double until = live_now() + timeout_s;
    for (;;) {
        siginfo_t info = {0};
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid)
            return true;
        if (live_now() >= until)
            return false;
        usleep(20 * 1000);
    }
}

START_TEST(sigterm_answers_every_waiter_then_exits_0)
{
    static struct service_proc p;
    live_kill_at_exit(&p);
    ck_assert(svc_start(&p, svc.schema, NULL));
    const char *s = unique_name("lf"), *q = unique_name("lf");
    send_on(&p, "POST", fmt("/streams/%s/events", s), "{\"events\":[{\"type\":\"A\",\"data\":0}]}", 201);
    send_on(&p, "PUT", fmt("/streams/%s/consumers/g", s), "{\"offset\":1}", 200);
    send_on(&p, "PUT", fmt("/queues/%s", q), "{}", 200);
    struct response *r = http(&p, "GET", fmt("/events?stream_prefix=%s", s), NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    long long position = response_int(r, "next_position");
    response_free(r);

    enum { N = 5 };
    const char *paths[N] = {
        fmt("/streams/%s/events?from=1&wait=30", s),
        fmt("/streams/%s/events?from=0&type=Nothing&wait=30", s),
        fmt("/events?stream_prefix=%s&from_position=%lld&wait=30", s, position),
        fmt("/streams/%s/consumers/g/events?wait=30", s),
        fmt("/queues/%s/dequeue", q),
    };
    struct live_call c[N];
    for (int i = 0; i < N; i++)
        live_call_start(&c[i], &p, i == 4 ? "POST" : "GET", paths[i], i == 4 ? "{\"wait_seconds\":30}" : NULL);
    usleep(LIVE_SETTLE_MS * 1000);
    for (int i = 0; i < N; i++)
        EXPECT_WAITING(&c[i]);

    ck_assert_int_eq(kill(p.pid, SIGTERM), 0);
    double term = live_now();
    for (int i = 0; i < N; i++) {
        r = live_call_join(&c[i]);
        ck_assert_msg(r->status == 200, "waiter %d (%s) got %ld after SIGTERM: %s", i, paths[i], r->status, r->body);
        ck_assert_msg(r->json != NULL, "waiter %d: not JSON: %s", i, r->body);
        ck_assert_int_eq(array_size(r->json, i == 4 ? "messages" : "events"), 0);
        /* Answered by the shutdown (default --shutdown-timeout 10), not by its 30 s deadline. */
        ck_assert_msg(c[i].answered_at - term < 10.0, "waiter %d answered %.3f s after SIGTERM", i,
                      c[i].answered_at - term);
        if (i == 0 || i == 3)
            ck_assert_int_eq(response_int(r, "next_offset"), 1);
        if (i == 2)
            ck_assert_int_ge(response_int(r, "next_position"), position);
        response_free(r);
    }
    ck_assert_msg(exited_within(p.pid, 15.0), "the service did not exit within 15 s of SIGTERM");
    ck_assert_int_eq(svc_stop(&p), 0);
}
END_TEST

START_TEST(waiters_are_answered_while_the_notifier_reconnects)
{
    const char *s = unique_name("lf"), *q = unique_name("lf");
    append_n(s, 1, "A");
    struct response *r = request("PUT", fmt("/queues/%s", q), "{}");
    EXPECT_JSON(r, 200);
    response_free(r);
    r = get("/events?stream_prefix=%s", s);
    EXPECT_JSON(r, 200);
    long long position = response_int(r, "next_position");
    response_free(r);
    /* This suite's service alone listens on its schema (an instance a failed test left is gone soon). */
    int listening = 0;
    for (double until = live_now() + 3.0; live_now() < until && (listening = live_notifiers(svc.schema)) != 1;)
        usleep(50 * 1000);
    ck_assert_msg(listening == 1, "%d LISTEN connections on schema %s, want 1", listening, svc.schema);

    struct live_call read, global, dequeue;
    live_call_start(&read, &svc, "GET", fmt("/streams/%s/events?from=1&wait=20", s), NULL);
    live_call_start(&global, &svc, "GET", fmt("/events?stream_prefix=%s&from_position=%lld&wait=20", s, position),
                    NULL);
    live_call_start(&dequeue, &svc, "POST", fmt("/queues/%s/dequeue", q), "{\"wait_seconds\":20}");
    usleep(LIVE_SETTLE_MS * 1000);
    EXPECT_WAITING(&read);
    EXPECT_WAITING(&global);
    EXPECT_WAITING(&dequeue);

    /* The notification of these writes may be lost with the connection. */
    ck_assert_int_eq(live_terminate_notifier(svc.schema), 1);
    double started = live_now();
    r = appendf(s, "{\"events\":[{\"type\":\"AfterKill\",\"data\":1}]}");
    EXPECT_JSON(r, 201);
    response_free(r);
    r = request("POST", fmt("/queues/%s/messages", q), "{\"messages\":[{\"type\":\"AfterKill\",\"data\":1}]}");
    EXPECT_JSON(r, 201);
    response_free(r);
    double returned = live_now();

    r = EXPECT_WOKEN(&read, started, returned, RECONNECT_S);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 1);
    ck_assert_str_eq(str_field(array_item(r->json, "events", 0), "type"), "AfterKill");
    response_free(r);
    r = EXPECT_WOKEN(&global, started, returned, RECONNECT_S);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 1);
    ck_assert_str_eq(str_field(array_item(r->json, "events", 0), "stream"), s);
    response_free(r);
    r = EXPECT_WOKEN(&dequeue, started, returned, RECONNECT_S);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "messages"), 1);
    response_free(r);

    /* Listening again, and a wake-up is as quick as before. */
    listening = 0;
    for (double until = live_now() + 3.0; live_now() < until && (listening = live_notifiers(svc.schema)) == 0;)
        usleep(50 * 1000);
    ck_assert_msg(listening == 1, "%d LISTEN connections 3 s after the kill, want 1", listening);
    START_WAITING(&read, "GET", fmt("/streams/%s/events?from=2&wait=10", s), NULL);
    struct live_write w = live_append_one(s, "Later", 2);
    r = EXPECT_WOKEN(&read, w.started, w.returned, LIVE_WAKE_S);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 1);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), 2);
    response_free(r);
    expect_healthy();
}
END_TEST

static Suite *live_faults_suite(void)
{
    Suite *s = suite_create("live-faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, sigterm_answers_every_waiter_then_exits_0);
    tcase_add_test(tc, waiters_are_answered_while_the_notifier_reconnects);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return streams_fixtures_main(live_faults_suite());
}
