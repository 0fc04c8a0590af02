/* Subscribing to a stream with Server-Sent Events, GET
 * /streams/{s}/subscribe?from=N: 200 text/event-stream, then one frame
 * "id: <offset>\nevent: <type>\ndata: <the event JSON as reads show it>\n\n"
 * per event, the existing ones first and then each as its append commits, in
 * offset order and each once; Last-Event-ID: K resumes at K+1 and wins over
 * `from`; ": heartbeat" comments while idle; a clean end of the body on
 * SIGTERM. Subscribers read on threads of their own (live_client.h). */
#include <check.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "live_client.h"
#include "streams_fixtures.h"

#define FRAME_S 5.0     /* frames that are due arrive within this (no speed is asserted) */
#define QUIET_MS 300    /* how long the test listens for frames that must not come */
#define RECONNECT_S 2.0 /* a write that lands while the notifier reconnects is seen this soon */
#define EVENT_STREAM_TYPE "text/event-stream"

/* Subscribes to `stream` with `query` ("" for none) and optional Last-Event-ID
 * on `sp`; asserts 200 and the event-stream content type. */
static void subscribe_at(int line, struct sse_client *c, const struct service_proc *sp, const char *stream,
                         const char *query, const char *last_event_id)
{
    char path[600];
    snprintf(path, sizeof path, "/streams/%s/subscribe%s%s", stream, *query ? "?" : "", query);
    sse_open(c, sp, path, last_event_id);
    char type[128];
    long status = sse_wait_headers(c, FRAME_S, type, sizeof type);
    if (status != 200) {
        char *raw = sse_raw(c);
        ck_assert_msg(false, "line %d: GET %s answered %ld: %s", line, path, status, raw);
    }
    ck_assert_msg(!strncmp(type, EVENT_STREAM_TYPE, strlen(EVENT_STREAM_TYPE)), "line %d: Content-Type %s", line, type);
}
#define SUBSCRIBE(c, sp, stream, query, id) subscribe_at(__LINE__, (c), (sp), (stream), (query), (id))

/* Frames `at`… of `c` (`n` of them) are the events of `stream` at offsets
 * `first`…, each exactly as the read shows it, sent as
 * "id: …\nevent: …\ndata: …\n\n". `sp` is the instance to read from. */
static void expect_frames_at(int line, struct sse_client *c, const struct service_proc *sp, int at, const char *stream,
                             long long first, int n)
{
    int got = sse_wait_frames(c, at + n, FRAME_S);
    ck_assert_msg(got >= at + n, "line %d: %d frames after %.0f s, want %d", line, got, FRAME_S, at + n);
    char path[600];
    snprintf(path, sizeof path, "/streams/%s/events?from=%lld&limit=%d", stream, first, n);
    struct response *read = http(sp, "GET", path, NULL, NULL);
    ck_assert_int_eq(read->status, 200);
    ck_assert_int_eq(array_size(read->json, "events"), n);
    char *raw = sse_raw(c);
    for (int i = 0; i < n; i++) {
        const struct sse_frame *f = sse_frame_at(c, at + i);
        const cJSON *ev = array_item(read->json, "events", i);
        char id[32];
        snprintf(id, sizeof id, "%lld", first + i);
        ck_assert_msg(f->id && !strcmp(f->id, id), "line %d: frame %d has id %s, want %s", line, at + i,
                      f->id ? f->id : "(none)", id);
        ck_assert_msg(f->event && !strcmp(f->event, str_field(ev, "type")), "line %d: frame %d has event %s", line,
                      at + i, f->event ? f->event : "(none)");
        ck_assert_msg(f->data_lines == 1, "line %d: frame %d has %d data lines", line, at + i, f->data_lines);
        cJSON *data = cJSON_Parse(f->data);
        ck_assert_msg(data && cJSON_Compare(data, ev, true), "line %d: frame %d data %s is not the event as read: %s",
                      line, at + i, f->data, cJSON_PrintUnformatted(ev));
        cJSON_Delete(data);
        char *wire = NULL;
        ck_assert_int_gt(asprintf(&wire, "id: %s\nevent: %s\ndata: %s\n\n", f->id, f->event, f->data), 0);
        ck_assert_msg(strstr(raw, wire), "line %d: frame %d is not sent as \"%s\"; body so far: %s", line, at + i, wire,
                      raw);
        free(wire);
    }
    free(raw);
    response_free(read);
}
#define EXPECT_FRAMES(c, sp, at, stream, first, n) expect_frames_at(__LINE__, (c), (sp), (at), (stream), (first), (n))

/* No frame beyond the first `n` comes within QUIET_MS. */
static void expect_no_more_frames_at(int line, struct sse_client *c, int n)
{
    usleep(QUIET_MS * 1000);
    int got = sse_frames(c);
    ck_assert_msg(got == n, "line %d: %d frames, want %d; the extra one has id %s", line, got, n,
                  got > n ? sse_frame_at(c, n)->id : "");
}
#define EXPECT_NO_MORE_FRAMES(c, n) expect_no_more_frames_at(__LINE__, (c), (n))

START_TEST(catch_up_then_live_frames_in_offset_order)
{
    const char *s = unique_name("sub");
    struct response *r = appendf(s, "{\"events\":[{\"type\":\"A\",\"data\":{\"i\":0},\"metadata\":{\"m\":1}},"
                                    "{\"type\":\"B\",\"data\":[1,\"two\"]},{\"type\":\"A\",\"data\":\"three\"}]}");
    EXPECT_JSON(r, 201);
    response_free(r);
    struct sse_client c;
    SUBSCRIBE(&c, &svc, s, "from=0", NULL);
    EXPECT_FRAMES(&c, &svc, 0, s, 0, 3);
    EXPECT_NO_MORE_FRAMES(&c, 3);

    /* Live: a batch, then one more, each frame once and in order. */
    r = appendf(s, "{\"events\":[{\"type\":\"C\",\"data\":3},{\"type\":\"D\",\"data\":{\"nested\":{\"x\":[]}}}]}");
    EXPECT_JSON(r, 201);
    response_free(r);
    EXPECT_FRAMES(&c, &svc, 3, s, 3, 2);
    response_free(append_one(s, "E"));
    EXPECT_FRAMES(&c, &svc, 5, s, 5, 1);
    EXPECT_NO_MORE_FRAMES(&c, 6);
    sse_close(&c);
}
END_TEST

START_TEST(from_and_last_event_id_choose_the_first_frame)
{
    const char *s = unique_name("sub");
    append_n(s, 5, "A");
    struct sse_client c;
    SUBSCRIBE(&c, &svc, s, "from=3", NULL);
    EXPECT_FRAMES(&c, &svc, 0, s, 3, 2);
    EXPECT_NO_MORE_FRAMES(&c, 2);
    sse_close(&c);

    /* Last-Event-ID: 1 resumes at 2 and wins over from=4. */
    SUBSCRIBE(&c, &svc, s, "from=4", "1");
    EXPECT_FRAMES(&c, &svc, 0, s, 2, 3);
    EXPECT_NO_MORE_FRAMES(&c, 3);
    sse_close(&c);

    /* Caught up already: nothing until the next append. */
    struct sse_client at_end, past;
    SUBSCRIBE(&at_end, &svc, s, "", "4");
    SUBSCRIBE(&past, &svc, s, "from=5", NULL);
    EXPECT_NO_MORE_FRAMES(&at_end, 0);
    EXPECT_NO_MORE_FRAMES(&past, 0);
    response_free(append_one(s, "Next"));
    EXPECT_FRAMES(&at_end, &svc, 0, s, 5, 1);
    EXPECT_FRAMES(&past, &svc, 0, s, 5, 1);
    sse_close(&at_end);
    sse_close(&past);
}
END_TEST

START_TEST(missing_stream_is_404_and_bad_from_is_400)
{
    struct response *r = get("/streams/%s/subscribe?from=0", unique_name("sub"));
    EXPECT_PROBLEM(r, 404, "stream_not_found");
    response_free(r);
    r = get("/streams/%s/subscribe", unique_name("sub"));
    EXPECT_PROBLEM(r, 404, "stream_not_found");
    response_free(r);

    const char *s = unique_name("sub");
    append_n(s, 1, "A");
    static const char *const bad[] = {"from=-1", "from=x", "from=1.5", "from="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = get("/streams/%s/subscribe?%s", s, bad[i]);
        ck_assert_msg(r->status == 400, "%s: %ld %s", bad[i], r->status, r->body);
        EXPECT_PROBLEM(r, 400, "invalid_parameter");
        response_free(r);
    }
    EXPECT_PROBLEM_FREE(get("/streams/bad%%20name/subscribe"), 400, "invalid_name");
    expect_healthy();
}
END_TEST

/* Appends single events to a stream from a thread of its own. */
struct appender {
    const char *stream;
    int count, failures;
    pthread_t thread;
};

static void *append_main(void *arg)
{
    struct appender *a = arg;
    char path[300];
    snprintf(path, sizeof path, "/streams/%s/events", a->stream);
    for (int i = 0; i < a->count; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"events\":[{\"type\":\"Live\",\"data\":{\"i\":%d}}]}", i);
        struct response *r = http(&svc, "POST", path, body, NULL);
        a->failures += r->status != 201;
        response_free(r);
        usleep(10 * 1000);
    }
    return NULL;
}

START_TEST(every_subscriber_gets_every_event_once_while_appends_run)
{
    enum { EARLY = 8, LATE = 4, BEFORE = 5, DURING = 40 };
    const char *s = unique_name("sub");
    append_n(s, BEFORE, "Old");
    struct sse_client c[EARLY + LATE];
    for (int i = 0; i < EARLY; i++)
        SUBSCRIBE(&c[i], &svc, s, "from=0", NULL);

    /* The late ones join while appends commit: the seam between catch-up and live
     * must neither skip nor repeat. */
    struct appender a = {.stream = s, .count = DURING};
    ck_assert_int_eq(pthread_create(&a.thread, NULL, append_main, &a), 0);
    for (int i = EARLY; i < EARLY + LATE; i++) {
        usleep(60 * 1000);
        SUBSCRIBE(&c[i], &svc, s, i % 2 ? "from=0" : "from=2", NULL);
    }
    pthread_join(a.thread, NULL);
    ck_assert_int_eq(a.failures, 0);

    for (int i = 0; i < EARLY + LATE; i++) {
        long long first = i >= EARLY && i % 2 == 0 ? 2 : 0;
        int n = BEFORE + DURING - (int)first;
        EXPECT_FRAMES(&c[i], &svc, 0, s, first, n);
        EXPECT_NO_MORE_FRAMES(&c[i], n);
        sse_close(&c[i]);
    }
}
END_TEST

START_TEST(subscribers_get_frames_while_the_notifier_reconnects)
{
    const char *s = unique_name("sub");
    append_n(s, 1, "A");
    struct sse_client c;
    SUBSCRIBE(&c, &svc, s, "from=0", NULL);
    EXPECT_FRAMES(&c, &svc, 0, s, 0, 1);
    ck_assert_int_ge(live_terminate_notifier(svc.schema), 1);
    double started = live_now();
    response_free(append_one(s, "AfterKill"));
    double returned = live_now();
    int got = sse_wait_frames(&c, 2, RECONNECT_S + (returned - started));
    ck_assert_msg(got == 2, "no frame %.1f s after the append that followed the notifier's kill", RECONNECT_S);
    ck_assert_msg(sse_frame_at(&c, 1)->at - returned <= RECONNECT_S, "the frame came %.3f s after the append",
                  sse_frame_at(&c, 1)->at - returned);
    EXPECT_FRAMES(&c, &svc, 1, s, 1, 1);
    sse_close(&c);
}
END_TEST

/* Starts `sp` with `args` on this suite's schema; killed at exit if left running. */
static void start_own(struct service_proc *sp, const char *const *args)
{
    live_kill_at_exit(sp);
    ck_assert_msg(svc_start(sp, svc.schema, args), "could not start streamq with %s", args ? args[0] : "no options");
}

START_TEST(idle_subscription_gets_heartbeats)
{
    static struct service_proc p;
    const char *args[] = {"--sse-heartbeat-seconds", "1", NULL};
    start_own(&p, args);
    const char *s = unique_name("sub");
    struct response *r =
        http(&p, "POST", fmt("/streams/%s/events", s), "{\"events\":[{\"type\":\"A\",\"data\":0}]}", NULL);
    ck_assert_int_eq(r->status, 201);
    response_free(r);
    struct sse_client c;
    SUBSCRIBE(&c, &p, s, "from=0", NULL);
    EXPECT_FRAMES(&c, &p, 0, s, 0, 1);

    /* About one a second while nothing happens, and they are not events. */
    usleep(3500 * 1000);
    int beats = sse_heartbeats(&c);
    ck_assert_msg(beats >= 2 && beats <= 4, "%d heartbeats in 3.5 idle seconds at --sse-heartbeat-seconds 1", beats);
    ck_assert_int_eq(sse_frames(&c), 1);
    char *raw = sse_raw(&c);
    ck_assert_msg(strstr(raw, "\n\n: heartbeat\n\n"), "no \": heartbeat\" comment after the frame: %s", raw);
    free(raw);

    r = http(&p, "POST", fmt("/streams/%s/events", s), "{\"events\":[{\"type\":\"B\",\"data\":1}]}", NULL);
    ck_assert_int_eq(r->status, 201);
    response_free(r);
    EXPECT_FRAMES(&c, &p, 1, s, 1, 1);
    sse_close(&c);
    ck_assert_int_eq(svc_stop(&p), 0);
}
END_TEST

START_TEST(sigterm_ends_every_subscription_cleanly)
{
    static struct service_proc p;
    start_own(&p, NULL);
    const char *s = unique_name("sub");
    struct response *r = http(&p, "POST", fmt("/streams/%s/events", s),
                              "{\"events\":[{\"type\":\"A\",\"data\":0},{\"type\":\"A\",\"data\":1}]}", NULL);
    ck_assert_int_eq(r->status, 201);
    response_free(r);
    struct sse_client c[3];
    SUBSCRIBE(&c[0], &p, s, "from=0", NULL);
    SUBSCRIBE(&c[1], &p, s, "from=2", NULL);
    SUBSCRIBE(&c[2], &p, s, "", "0");
    EXPECT_FRAMES(&c[0], &p, 0, s, 0, 2);
    EXPECT_FRAMES(&c[2], &p, 0, s, 1, 1);
    EXPECT_NO_MORE_FRAMES(&c[1], 0);

    ck_assert_int_eq(kill(p.pid, SIGTERM), 0);
    double term = live_now();
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(sse_wait_finished(&c[i], 10.0), "subscription %d still open 10 s after SIGTERM", i);
        pthread_mutex_lock(&c[i].mu);
        int result = c[i].curl_result;
        double at = c[i].finished_at;
        pthread_mutex_unlock(&c[i].mu);
        ck_assert_msg(result == CURLE_OK, "subscription %d ended with curl error %d (%s), not a complete body", i,
                      result, curl_easy_strerror((CURLcode)result));
        ck_assert_msg(at - term < 10.0, "subscription %d ended %.3f s after SIGTERM", i, at - term);
        /* It ends between frames, never inside one. */
        char *raw = sse_raw(&c[i]);
        size_t len = strlen(raw);
        ck_assert_msg(len == 0 || (len >= 2 && !strcmp(raw + len - 2, "\n\n")), "body %d ends mid-frame: %s", i, raw);
        free(raw);
    }
    ck_assert_int_eq(sse_frames(&c[0]), 2);
    ck_assert_int_eq(sse_frames(&c[1]), 0);
    ck_assert_int_eq(sse_frames(&c[2]), 1);
    for (int i = 0; i < 3; i++)
        sse_close(&c[i]);
    ck_assert_int_eq(svc_stop(&p), 0);
}
END_TEST

static Suite *subscribe_suite(void)
{
    Suite *s = suite_create("subscribe");
    TCase *tc = tcase_create("subscribe");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, catch_up_then_live_frames_in_offset_order);
    tcase_add_test(tc, from_and_last_event_id_choose_the_first_frame);
    tcase_add_test(tc, missing_stream_is_404_and_bad_from_is_400);
    tcase_add_test(tc, every_subscriber_gets_every_event_once_while_appends_run);
    tcase_add_test(tc, subscribers_get_frames_while_the_notifier_reconnects);
    tcase_add_test(tc, idle_subscription_gets_heartbeats);
    tcase_add_test(tc, sigterm_ends_every_subscription_cleanly);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return streams_fixtures_main(subscribe_suite());
}
