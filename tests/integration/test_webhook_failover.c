/* Webhook delivery with two instances on one schema (API.md, "Webhooks": one
 * instance delivers a webhook at a time, and another takes over when it dies).
 * The instance in the middle of a delivery is found by the connection it holds
 * to the loopback receiver (/proc/net/tcp against /proc/<pid>/fd), killed, and
 * the other must send the same batch again and go on; while both run, no batch
 * is sent twice. Runs alone: it kills processes and counts on timing. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "receiver.h"

#define SECRET "whsec-failover-test-0123456789"
#define NAME_MAX_LEN 96

static const char *const service_args[] = {"--max-batch", "10", "--webhook-allow", "127.0.0.1", NULL};

/* The two instances of the running test; killed at exit should an assertion end the test early. */
static struct service_proc pair[2];

static void kill_pair(void)
{
    svc_kill(&pair[0]);
    svc_kill(&pair[1]);
}

static void start_pair(void)
{
    atexit(kill_pair);
    ck_assert_msg(svc_start_many(pair, 2, unique_name("wfo"), service_args), "two instances did not start");
}

static struct receiver *start_receiver(void)
{
    struct receiver *rc = receiver_start();
    ck_assert_msg(rc != NULL, "the receiver could not listen");
    return rc;
}

/* Appends `count` events {"i": k}, k from `first`, to `stream` through `sp`; asserts they got offsets from `first`. */
static void append_on(const struct service_proc *sp, const char *stream, int first, int count)
{
    char *body = numbered_batch("events", "A", first, count);
    struct response *r = http(sp, "POST", fmt("/streams/%s/events", stream), body, NULL);
    free(body);
    ck_assert_msg(r->status == 201, "append: status %ld, body %s", r->status, r->body);
    ck_assert_int_eq(response_int(r, "first_offset"), first);
    response_free(r);
}

/* Creates a stream webhook `name` from the start through `sp`, delivering to the receiver. */
static void create_hook_on(const struct service_proc *sp, const char *name, const struct receiver *rc,
                           const char *stream, int max_batch)
{
    struct response *r = httpf(sp, "PUT", fmt("/webhooks/%s", name),
                               "{\"url\":\"http://127.0.0.1:%d/hook\",\"stream\":\"%s\",\"from\":\"start\","
                               "\"max_batch\":%d,\"secret\":\"%s\"}",
                               receiver_port(rc), stream, max_batch, SECRET);
    ck_assert_msg(r->status == 201, "create: status %ld, body %s", r->status, r->body);
    response_free(r);
}

/* Polls the webhook's position through `sp` for up to `seconds` until it is `position`. */
static void expect_position_on(const struct service_proc *sp, const char *name, long long position, double seconds)
{
    double deadline = now_seconds() + seconds;
    long long seen;
    for (;;) {
        struct response *r = http(sp, "GET", fmt("/webhooks/%s", name), NULL, NULL);
        ck_assert_msg(r->status == 200, "GET webhook: status %ld, body %s", r->status, r->body);
        seen = response_int(r, "position");
        response_free(r);
        if (seen == position || now_seconds() > deadline)
            break;
        usleep(100 * 1000);
    }
    ck_assert_msg(seen == position, "webhook %s: position %lld after %.0f s, want %lld", name, seen, seconds, position);
}

/* The body of delivery `req` of webhook `name` (delete it), its form asserted. */
static cJSON *delivery_body(const struct received *req, int index, const char *name)
{
    ck_assert_msg(!req->error[0], "request %d malformed: %s", index, req->error);
    ck_assert_str_eq(req->method, "POST");
    ck_assert_msg(is_uuid(req->webhook_id), "request %d: webhook-id \"%s\"", index, req->webhook_id);
    ck_assert_msg(!strncmp(req->webhook_sig, "v1,", 3), "request %d: webhook-signature \"%s\"", index,
                  req->webhook_sig);
    cJSON *body = received_json(req);
    ck_assert_msg(body != NULL, "request %d: body is not JSON: %s", index, req->body);
    ck_assert_str_eq(str_field(body, "webhook"), name);
    ck_assert_int_ge(array_size(body, "events"), 1);
    return body;
}

/* Inodes of the TCP sockets from local port `local` (any when 0) to remote port `remote`. */
static int tcp_inodes(int local, int remote, unsigned long *out, int max)
{
    static const char *const tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    int n = 0;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        FILE *f = fopen(tables[t], "r");
        char line[512];
        if (!f)
            continue;
        if (fgets(line, sizeof line, f)) { /* the column titles */
            while (n < max && fgets(line, sizeof line, f)) {
                unsigned lport, rport;
                unsigned long inode;
                /* sl: local:port remote:port st tx:rx tr:when retrnsmt uid timeout inode */
                if (sscanf(line, " %*d: %*x:%x %*x:%x %*x %*s %*s %*s %*u %*d %lu", &lport, &rport, &inode) == 3 &&
                    (int)rport == remote && (local == 0 || (int)lport == local) && inode != 0)
                    out[n++] = inode;
            }
        }
        fclose(f);
    }
    return n;
}

/* True when process `pid` has socket `inode` open. */
static bool holds_socket(pid_t pid, unsigned long inode)
{
    char dir[64], want[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    snprintf(want, sizeof want, "socket:[%lu]", inode);
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d)) != NULL;) {
        char path[320], target[128];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len > 0) {
            target[len] = '\0';
            found = !strcmp(target, want);
        }
    }
    closedir(d);
    return found;
}

/* The index in `sps` of the one instance with a connection from `peer_port` to the
 * receiver's port; -1 when none or more than one has it. */
static int delivering_instance(const struct service_proc *sps, int n, int receiver, int peer_port)
{
    unsigned long inodes[64];
    int found = -1, count = tcp_inodes(peer_port, receiver, inodes, 64);
    for (int i = 0; i < n; i++) {
        bool holds = false;
        for (int k = 0; k < count && !holds; k++)
            holds = holds_socket(sps[i].pid, inodes[k]);
        if (holds && found >= 0)
            return -1;
        if (holds)
            found = i;
    }
    return found;
}

/* Walks the deliveries answered 2xx in arrival order against the events of the
 * stream as read (`read`): each batch is consecutive offsets that start at or
 * before the first offset not yet delivered (nothing skipped, order kept; a
 * batch may come again). Returns that first offset not yet delivered. */
static int delivered_through(struct receiver *rc, const char *name, const cJSON *read)
{
    int next = 0;
    for (int i = 0; i < receiver_count(rc); i++) {
        const struct received *req = receiver_at(rc, i);
        if (req->status < 200 || req->status > 299)
            continue;
        cJSON *body = delivery_body(req, i, name);
        long long first = int_field(array_item(body, "events", 0), "offset");
        ck_assert_msg(first <= next, "request %d starts at offset %lld, but %d was never delivered", i, first, next);
        for (int k = 0; k < array_size(body, "events"); k++) {
            const cJSON *event = array_item(body, "events", k);
            ck_assert_int_eq(int_field(event, "offset"), first + k);
            ck_assert_msg(cJSON_Compare(event, cJSON_GetArrayItem(read, (int)first + k), true),
                          "request %d event %d differs from the read", i, k);
        }
        if (first + array_size(body, "events") > next)
            next = (int)first + array_size(body, "events");
        cJSON_Delete(body);
    }
    return next;
}

/* The stream's events as `sp` reads them (delete them). */
static cJSON *read_stream(const struct service_proc *sp, const char *stream)
{
    struct response *r = http(sp, "GET", fmt("/streams/%s/events?from=0&limit=100", stream), NULL, NULL);
    ck_assert_msg(r->status == 200 && r->json, "read: status %ld, body %s", r->status, r->body);
    cJSON *events = cJSON_DetachItemFromObjectCaseSensitive(r->json, "events");
    response_free(r);
    ck_assert(cJSON_IsArray(events));
    return events;
}

START_TEST(another_instance_resends_the_batch_of_one_killed_mid_delivery)
{
    start_pair();
    struct receiver *rc = start_receiver();
    receiver_answer(rc, RECEIVER_HOLD); /* the first delivery gets no answer */
    char stream[NAME_MAX_LEN], name[NAME_MAX_LEN];
    snprintf(stream, sizeof stream, "%s", unique_name("wfs"));
    snprintf(name, sizeof name, "%s", unique_name("hook"));
    append_on(&pair[0], stream, 0, 5);
    create_hook_on(&pair[0], name, rc, stream, 10);
    ck_assert_msg(receiver_wait(rc, 1, 10), "no delivery within 10 s");
    const struct received *held = receiver_at(rc, 0);
    ck_assert_int_eq(held->status, RECEIVER_HOLD);
    cJSON *held_body = delivery_body(held, 0, name);
    ck_assert_int_eq(array_size(held_body, "events"), 5);

    int who = delivering_instance(pair, 2, receiver_port(rc), held->peer_port);
    ck_assert_msg(who >= 0, "no single instance (pids %d, %d) holds the connection from port %d to %d",
                  (int)pair[0].pid, (int)pair[1].pid, held->peer_port, receiver_port(rc));
    struct service_proc *survivor = &pair[1 - who];
    double killed = receiver_now();
    svc_kill(&pair[who]);
    receiver_release(rc, 200); /* goes to a dead peer; every later request is answered 200 */

    ck_assert_msg(receiver_wait(rc, 2, 10), "nothing was sent again within 10 s of the kill");
    const struct received *again = receiver_at(rc, 1);
    ck_assert_msg(again->at - killed <= 10.0, "sent again %.1f s after the kill", again->at - killed);
    ck_assert_int_eq(again->status, 200);
    cJSON *again_body = delivery_body(again, 1, name);
    ck_assert_msg(cJSON_Compare(field(held_body, "events"), field(again_body, "events"), true),
                  "the batch sent again is not the held one:\n%s\nheld:\n%s", again->body, held->body);
    cJSON_Delete(again_body);
    cJSON_Delete(held_body);

    /* The survivor goes on from there. */
    append_on(survivor, stream, 5, 5);
    expect_position_on(survivor, name, 10, 15);
    sleep(1);
    cJSON *read = read_stream(survivor, stream);
    ck_assert_int_eq(cJSON_GetArraySize(read), 10);
    ck_assert_int_eq(delivered_through(rc, name, read), 10);
    cJSON_Delete(read);
    ck_assert_int_eq(svc_stop(survivor), 0);
    receiver_stop(rc);
}
END_TEST

START_TEST(two_instances_deliver_each_batch_once)
{
    start_pair();
    struct receiver *rc = start_receiver();
    char stream[NAME_MAX_LEN], name[NAME_MAX_LEN];
    snprintf(stream, sizeof stream, "%s", unique_name("wfs"));
    snprintf(name, sizeof name, "%s", unique_name("hook"));
    create_hook_on(&pair[0], name, rc, stream, 5);
    /* Appends through both instances, so that both are poked. */
    for (int k = 0; k < 10; k++) {
        append_on(&pair[k % 2], stream, 3 * k, 3);
        usleep(150 * 1000);
    }
    ck_assert_msg(receiver_wait_acked(rc, 30, 20), "the receiver got %d of 30 events in 20 s",
                  receiver_acked_events(rc));
    expect_position_on(&pair[1], name, 30, 10);
    sleep(2); /* a batch sent twice would come now */

    int requests = receiver_count(rc), next = 0;
    for (int i = 0; i < requests; i++) {
        const struct received *req = receiver_at(rc, i);
        ck_assert_int_eq(req->status, 200);
        cJSON *body = delivery_body(req, i, name);
        ck_assert_int_le(array_size(body, "events"), 5);
        for (int k = 0; k < array_size(body, "events"); k++, next++)
            ck_assert_msg(int_field(array_item(body, "events", k), "offset") == next,
                          "request %d event %d: offset %lld, want %d (sent twice or skipped)", i, k,
                          int_field(array_item(body, "events", k), "offset"), next);
        cJSON_Delete(body);
        for (int j = 0; j < i; j++)
            ck_assert_msg(strcmp(receiver_at(rc, j)->webhook_id, req->webhook_id),
                          "batch %s was POSTed twice (requests %d and %d), both answered 200", req->webhook_id, j, i);
    }
    ck_assert_int_eq(next, 30);
    ck_assert_int_eq(svc_stop(&pair[0]), 0);
    ck_assert_int_eq(svc_stop(&pair[1]), 0);
    receiver_stop(rc);
}
END_TEST

/* A webhook registered while its host was allowed is not delivered by an
 * instance whose --webhook-allow no longer allows it: it shows as failing. */
START_TEST(a_narrowed_allow_list_stops_delivery)
{
    struct receiver *rc = start_receiver();
    const char *schema = unique_name("wal");
    const char *stream = unique_name("wal");
    const char *name = unique_name("hook");
    ck_assert(svc_start(&pair[0], schema, service_args));
    append_on(&pair[0], stream, 0, 1);
    ck_assert_int_eq(svc_stop(&pair[0]), 0); /* nothing is delivered: the webhook does not exist yet */
    const char *narrowed[] = {"--webhook-allow", "hooks.example.com", NULL};
    ck_assert(svc_start(&pair[1], schema, narrowed));
    /* Registered straight in the table, as an older instance with a wider list would have. */
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s.webhooks (name, url, stream, position, secret) VALUES ('%s', 'http://127.0.0.1:%d/hook', "
             "'%s', 0, '" SECRET "')",
             pair[1].schema, name, receiver_port(rc), stream);
    sql_value(sql);
    ck_assert_msg(!receiver_wait(rc, 1, 3.0), "a refused host got a delivery");
    struct response *r = http(&pair[1], "GET", fmt("/webhooks/%s", name), NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_str_eq(str_field(r->json, "state"), "failing");
    ck_assert_ptr_nonnull(strstr(str_field(r->json, "last_error"), "--webhook-allow"));
    ck_assert_int_eq(int_field(r->json, "position"), 0);
    response_free(r);
    ck_assert_int_eq(svc_stop(&pair[1]), 0);
    receiver_stop(rc);
}
END_TEST

static Suite *webhook_failover_suite(void)
{
    Suite *s = suite_create("webhook_failover");
    TCase *tc = tcase_create("webhook_failover");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, another_instance_resends_the_batch_of_one_killed_mid_delivery);
    tcase_add_test(tc, two_instances_deliver_each_batch_once);
    tcase_add_test(tc, a_narrowed_allow_list_stops_delivery);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(webhook_failover_suite(), service_args);
}
