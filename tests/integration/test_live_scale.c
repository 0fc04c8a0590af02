/* 1,000 long polls and 100 SSE subscribers held at once on one stream, the
 * service on 4 HTTP threads and 4 database connections: while they wait, the
 * service runs as many threads and database connections as before, and
 * ordinary requests are answered; then one append answers every long poll
 * with the event and sends every subscriber its frame. One test thread drives
 * all of them with libcurl's multi interface. Runs alone: it counts every
 * streamq connection of the test database. No speed is asserted here (bench/
 * measures wake-up latency). */
#include <check.h>
#include <curl/curl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "live_client.h"
#include "streams_fixtures.h"

#define POLLS 1000
#define SUBSCRIBERS 100
#define HELD (POLLS + SUBSCRIBERS)

/* One held request: a long poll (first POLLS) or a subscriber. */
struct held {
    CURL *easy;
    bool sse, done;
    int result; /* CURLcode once done */
    char *body; /* long polls: the answer */
    size_t len;
    struct sse_parser p; /* subscribers */
};

static size_t held_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct held *h = arg;
    size_t n = size * nmemb;
    if (h->sse) {
        sse_parser_feed(&h->p, ptr, n);
        return n;
    }
    char *body = realloc(h->body, h->len + n + 1);
    if (!body)
        return 0;
    memcpy(body + h->len, ptr, n);
    h->len += n;
    body[h->len] = '\0';
    h->body = body;
    return n;
}

/* What a held request received so far, for messages. */
static const char *answer_of(const struct held *h)
{
    const char *text = h->sse ? h->p.raw : h->body;
    return text && *text ? text : "(nothing)";
}

/* Entries of /proc/<pid>/task: the threads of process `pid`. */
static int thread_count(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Connections to the test database that streamq opened (the suite runs alone). */
static long long streamq_connections(void)
{
    return live_sql_int("SELECT count(*) FROM pg_stat_activity"
                        " WHERE application_name = 'streamq' AND datname = current_database()");
}

/* Counts of what the held requests went through. */
struct tally {
    int polls_sent;      /* long polls whose request went out */
    int polls_done;      /* long polls answered (or failed) */
    int subs_done;       /* subscriptions that ended */
    int subs_with[3];    /* subscribers with at least 1, 2 frames ([1], [2]) */
    int first_done_poll; /* index of one answered long poll, or -1 */
};

static struct tally count(struct held *h)
{
    struct tally t = {.first_done_poll = -1};
    for (int i = 0; i < HELD; i++) {
        if (!h[i].sse) {
            long sent = 0;
            curl_easy_getinfo(h[i].easy, CURLINFO_REQUEST_SIZE, &sent);
            t.polls_sent += sent > 0 || h[i].done;
            t.polls_done += h[i].done;
            if (h[i].done && t.first_done_poll < 0)
                t.first_done_poll = i;
        } else {
            t.subs_done += h[i].done;
            for (int k = 1; k <= 2; k++)
                t.subs_with[k] += h[i].p.nframes >= k;
        }
    }
    return t;
}

/* Every long poll sent and every subscriber caught up (frame 0), or one of
 * them ended already (a failure, reported by the caller). */
static bool all_held(struct held *h)
{
    struct tally t = count(h);
    return (t.polls_sent == POLLS && t.subs_with[1] == SUBSCRIBERS) || t.polls_done > 0 || t.subs_done > 0;
}

/* Every long poll answered and every subscriber has the new frame. */
static bool all_woken(struct held *h)
{
    struct tally t = count(h);
    return t.polls_done == POLLS && t.subs_with[2] == SUBSCRIBERS;
}

/* Runs the transfers for `seconds`, or until `enough` (may be NULL) holds. */
static void pump(CURLM *m, struct held *h, double seconds, bool (*enough)(struct held *))
{
    double end = live_now() + seconds;
    for (int round = 0; live_now() < end; round++) {
        int running;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int queued;
        while ((msg = curl_multi_info_read(m, &queued))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            char *priv = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            struct held *one = (struct held *)priv;
            one->done = true;
            one->result = (int)msg->data.result;
        }
        if (enough && round % 10 == 0 && enough(h))
            return;
        curl_multi_poll(m, NULL, 0, 20, NULL);
    }
}

/* A request to `svc` on a thread, answered within 5 s with `status`, while all are held. */
static void expect_answered_meanwhile(const char *method, const char *path, const char *body, long status)
{
    struct live_call c;
    live_call_start(&c, &svc, method, path, body);
    bool answered = live_call_wait(&c, 5.0);
    ck_assert_msg(answered, "%s %s was not answered within 5 s while %d requests were held", method, path, HELD);
    struct response *r = live_call_join(&c);
    ck_assert_msg(r->status == status, "%s %s: %ld, want %ld: %s", method, path, r->status, status, r->body);
    response_free(r);
}

START_TEST(thousand_long_polls_and_hundred_subscribers_hold_no_thread_or_connection)
{
    /* The client side needs a descriptor per held request. */
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = rl.rlim_max;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    ck_assert_msg(rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= HELD + 256,
                  "RLIMIT_NOFILE hard limit %llu is too low for %d connections", (unsigned long long)rl.rlim_cur, HELD);

    const char *s = unique_name("scale"), *other = unique_name("scale");
    append_n(s, 1, "First");
    append_n(other, 1, "A");
    /* Warm up whatever starts on first use, then take the baseline. */
    expect_healthy();
    response_free(get("/streams/%s/events?wait=0", s));
    int threads_before = thread_count(svc.pid);
    long long conns_before = streamq_connections();
    ck_assert_int_gt(conns_before, 0);

    struct held *h = calloc(HELD, sizeof *h);
    ck_assert_ptr_nonnull(h);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    struct curl_slist *accept = curl_slist_append(NULL, "Accept: text/event-stream");
    char poll_url[400], sub_url[400];
    snprintf(poll_url, sizeof poll_url, "http://127.0.0.1:%d/streams/%s/events?from=1&wait=30", svc.port, s);
    snprintf(sub_url, sizeof sub_url, "http://127.0.0.1:%d/streams/%s/subscribe?from=0", svc.port, s);
    for (int i = 0; i < HELD; i++) {
        struct held *one = &h[i];
        one->sse = i >= POLLS;
        one->easy = curl_easy_init();
        ck_assert_ptr_nonnull(one->easy);
        curl_easy_setopt(one->easy, CURLOPT_URL, one->sse ? sub_url : poll_url);
        curl_easy_setopt(one->easy, CURLOPT_WRITEFUNCTION, held_write);
        curl_easy_setopt(one->easy, CURLOPT_WRITEDATA, one);
        curl_easy_setopt(one->easy, CURLOPT_PRIVATE, one);
        curl_easy_setopt(one->easy, CURLOPT_TIMEOUT, 90L);
        if (one->sse) {
            curl_easy_setopt(one->easy, CURLOPT_HTTPHEADER, accept);
            sse_parser_init(&one->p, 8);
        }
        ck_assert_int_eq(curl_multi_add_handle(m, one->easy), CURLM_OK);
    }

    /* All sent and caught up; then give the service time to park the long polls. */
    pump(m, h, 30.0, all_held);
    struct tally t = count(h);
    ck_assert_msg(t.polls_done == 0, "%d of %d long polls were answered before anything was appended; one got: %s",
                  t.polls_done, POLLS, answer_of(&h[t.first_done_poll]));
    ck_assert_msg(t.subs_done == 0, "%d of %d subscriptions ended", t.subs_done, SUBSCRIBERS);
    ck_assert_msg(t.polls_sent == POLLS && t.subs_with[1] == SUBSCRIBERS,
                  "after 30 s: %d of %d long polls sent, %d of %d subscribers have the catch-up frame", t.polls_sent,
                  POLLS, t.subs_with[1], SUBSCRIBERS);
    pump(m, h, 1.5, NULL);
    t = count(h);
    ck_assert_msg(t.polls_done == 0 && t.subs_done == 0, "%d long polls answered and %d subscriptions ended early",
                  t.polls_done, t.subs_done);

    int threads_during = thread_count(svc.pid);
    long long conns_during = streamq_connections();
    ck_assert_msg(abs(threads_during - threads_before) <= 1, "%d threads while %d requests are held, %d before",
                  threads_during, HELD, threads_before);
    ck_assert_msg(conns_during <= conns_before, "%lld database connections while %d requests are held, %lld before",
                  conns_during, HELD, conns_before);

    /* Ordinary requests go through, and an append elsewhere wakes none of them for good. */
    expect_answered_meanwhile("GET", "/healthz", NULL, 200);
    char path[300];
    snprintf(path, sizeof path, "/streams/%s/events", other);
    expect_answered_meanwhile("POST", path, "{\"events\":[{\"type\":\"Elsewhere\",\"data\":1}]}", 201);
    pump(m, h, 0.5, NULL);
    t = count(h);
    ck_assert_msg(t.polls_done == 0, "an append to another stream answered %d long polls: %s", t.polls_done,
                  answer_of(&h[t.first_done_poll]));

    /* One append answers them all. */
    struct response *r = appendf(s, "{\"events\":[{\"type\":\"Wake\",\"data\":{\"n\":1}}]}");
    EXPECT_JSON(r, 201);
    response_free(r);
    pump(m, h, 20.0, all_woken);
    t = count(h);
    ck_assert_msg(t.polls_done == POLLS && t.subs_with[2] == SUBSCRIBERS,
                  "20 s after the append: %d of %d long polls answered, %d of %d subscribers have its frame",
                  t.polls_done, POLLS, t.subs_with[2], SUBSCRIBERS);

    int bad = 0, first_bad = -1;
    for (int i = 0; i < HELD; i++) {
        struct held *one = &h[i];
        long status = 0;
        curl_easy_getinfo(one->easy, CURLINFO_RESPONSE_CODE, &status);
        bool ok = status == 200;
        if (!one->sse) {
            cJSON *json = cJSON_Parse(one->body ? one->body : "");
            const cJSON *events = cJSON_GetObjectItemCaseSensitive(json, "events");
            const cJSON *ev = cJSON_GetArrayItem(events, 0);
            const cJSON *off = cJSON_GetObjectItemCaseSensitive(ev, "offset");
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
            ok = ok && one->result == CURLE_OK && cJSON_GetArraySize(events) == 1 && cJSON_IsNumber(off) &&
                 off->valuedouble == 1 && cJSON_IsString(type) && !strcmp(type->valuestring, "Wake");
            cJSON_Delete(json);
        } else {
            const struct sse_frame *f0 = &one->p.frames[0], *f1 = &one->p.frames[1];
            ok = ok && one->p.nframes == 2 && f0->id && !strcmp(f0->id, "0") && f1->id && !strcmp(f1->id, "1") &&
                 f1->event && !strcmp(f1->event, "Wake");
        }
        if (!ok && bad++ == 0)
            first_bad = i;
    }
    ck_assert_msg(bad == 0, "%d held requests got the wrong answer; the first (%s %d): %s", bad,
                  first_bad >= POLLS ? "subscriber" : "long poll", first_bad, answer_of(&h[first_bad]));

    for (int i = 0; i < HELD; i++) {
        curl_multi_remove_handle(m, h[i].easy);
        curl_easy_cleanup(h[i].easy);
        free(h[i].body);
        if (h[i].sse)
            sse_parser_free(&h[i].p);
    }
    curl_slist_free_all(accept);
    curl_multi_cleanup(m);
    free(h);
    expect_healthy();
}
END_TEST

static Suite *live_scale_suite(void)
{
    Suite *s = suite_create("live-scale");
    TCase *tc = tcase_create("scale");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, thousand_long_polls_and_hundred_subscribers_hold_no_thread_or_connection);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    /* The pool is opened whole at start, so that its size cannot change under the count. */
    const char *args[] = {"--threads", "4", "--pool-min", "4", "--pool-max", "4", "--max-batch", "10", NULL};
    return harness_main(live_scale_suite(), args);
}
