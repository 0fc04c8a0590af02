/* streamq behind Debian's nginx, configured by the shipped
 * deploy/nginx/streamq.conf: two instances on one schema, nginx on loopback in
 * front of them with only the upstream addresses, the listen address, the log
 * path and the body limit substituted. Everything a client does here goes
 * through nginx: keep-alive, chunked and 4 MiB bodies, the 413, long polls,
 * SSE, X-Request-Id and X-Forwarded-For, both the / and the /streamq/ mount;
 * then one instance is SIGKILLed under appends and enqueues that retry a lost
 * answer with the same ids, and every acknowledged write is there exactly once. */
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"
#include "live_client.h"

#ifndef STREAMQ_DEPLOY
#error "STREAMQ_DEPLOY: the deploy/ directory"
#endif
#define NGINX_BIN "/usr/sbin/nginx"
#define NGINX_CONF STREAMQ_DEPLOY "/nginx/streamq.conf"

/* The instances accept bodies up to 6 MiB (and nginx the same, as the shipped
 * file says to raise both together), so a 4 MiB append fits and 7 MiB does not. */
#define MAX_BODY_ARG "6291456"
#define BODY_LIMIT_CONF "client_max_body_size 6m;"
#define BIG_DATA (4 * 1024 * 1024)
#define TOO_BIG (7 * 1024 * 1024)

#define FRAME_S 10.0 /* an SSE frame that is due arrives within this (no speed is asserted) */

static const char *const service_args[] = {"--max-body", MAX_BODY_ARG, NULL};

/* ---------------------------------------------------------------- nginx */

struct proxy {
    pid_t pid;
    char dir[64];
    struct service_proc front; /* port = nginx's; what http() and live_client talk to */
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    text[got] = '\0';
    fclose(f);
    return text;
}

/* Replaces the one occurrence of `from` in `*text` by `to`; asserts there is
 * exactly one, so the test notices when the shipped file changes under it. */
static void substitute(char **text, const char *from, const char *to)
{
    char *at = strstr(*text, from);
    ck_assert_msg(at, "%s has no \"%s\"", NGINX_CONF, from);
    ck_assert_msg(!strstr(at + 1, from), "%s has \"%s\" more than once", NGINX_CONF, from);
    char *out = NULL;
    ck_assert_int_gt(asprintf(&out, "%.*s%s%s", (int)(at - *text), *text, to, at + strlen(from)), 0);
    free(*text);
    *text = out;
}

/* A port on 127.0.0.1 free a moment ago (the kernel picks it); nginx binds it
 * next, and start_proxy tries another when someone else was quicker. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void write_conf(const struct proxy *p, int port, const struct service_proc *a, const struct service_proc *b)
{
    char *site = slurp(NGINX_CONF);
    ck_assert_msg(site, "cannot read %s", NGINX_CONF);
    char buf[300];
    snprintf(buf, sizeof buf, "server 127.0.0.1:%d;", a->port);
    substitute(&site, "server 127.0.0.1:8080;", buf);
    snprintf(buf, sizeof buf, "server 127.0.0.1:%d;", b->port);
    substitute(&site, "server 127.0.0.1:8081;", buf);
    snprintf(buf, sizeof buf, "listen 127.0.0.1:%d;", port);
    substitute(&site, "listen 80;", buf);
    snprintf(buf, sizeof buf, "%s/access.log", p->dir);
    substitute(&site, "/var/log/nginx/streamq.access.log", buf);
    substitute(&site, "client_max_body_size 4m;", BODY_LIMIT_CONF);
    snprintf(buf, sizeof buf, "%s/streamq.conf", p->dir);
    FILE *f = fopen(buf, "w");
    ck_assert(f);
    fputs(site, f);
    fclose(f);
    free(site);
    /* The main context Debian's /etc/nginx/nginx.conf would give, private to
     * this run: foreground, own pid file, logs and temp dirs. Workers run as
     * root when the test does, so they can write the temp dirs (4 MiB bodies
     * are buffered to a file). */
    snprintf(buf, sizeof buf, "%s/nginx.conf", p->dir);
    f = fopen(buf, "w");
    ck_assert(f);
    fprintf(f,
            "%sworker_processes 2;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
            "events { worker_connections 512; }\n"
            "http {\n  client_body_temp_path %s/body;\n  proxy_temp_path %s/proxy;\n"
            "  fastcgi_temp_path %s/fastcgi;\n  uwsgi_temp_path %s/uwsgi;\n  scgi_temp_path %s/scgi;\n"
            "  include %s/streamq.conf;\n}\n",
            geteuid() == 0 ? "user root;\n" : "", p->dir, p->dir, p->dir, p->dir, p->dir, p->dir, p->dir, p->dir);
    fclose(f);
}

static struct proxy *at_exit_proxy[4];
static pid_t at_exit_owner[4];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void stop_proxy(struct proxy *p)
{
    if (p->pid <= 0)
        return;
    kill(p->pid, SIGQUIT); /* graceful: the master waits for its workers */
    while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    p->pid = 0;
}

/* Stops nginx and removes its directory with the logs (a test that failed an
 * assertion ended before this, so its directory stays for a look). */
static void stop_and_remove_proxy(struct proxy *p)
{
    stop_proxy(p);
    if (p->dir[0])
        nftw(p->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Only the process that started a proxy stops it: check forks every test, and
 * the forks inherit this handler along with the runner's proxy. */
static void stop_proxies_at_exit(void)
{
    for (int i = 0; i < 4; i++)
        if (at_exit_proxy[i] && at_exit_owner[i] == getpid())
            stop_proxy(at_exit_proxy[i]);
}

/* Starts nginx in front of `a` and `b`; `p` must be static (stopped at exit). */
static void start_proxy(struct proxy *p, const struct service_proc *a, const struct service_proc *b)
{
    static int registered;
    if (!registered++)
        atexit(stop_proxies_at_exit);
    for (int i = 0; i < 4; i++)
        if (!at_exit_proxy[i] || at_exit_proxy[i] == p) {
            at_exit_proxy[i] = p;
            at_exit_owner[i] = getpid();
            break;
        }
    snprintf(p->dir, sizeof p->dir, "/tmp/streamq-nginx-XXXXXX");
    ck_assert(mkdtemp(p->dir));
    chmod(p->dir, 0755);
    for (int attempt = 0; attempt < 10; attempt++) {
        int port = free_port();
        write_conf(p, port, a, b);
        char conf[128], err[128];
        snprintf(conf, sizeof conf, "%s/nginx.conf", p->dir);
        snprintf(err, sizeof err, "%s/stderr.log", p->dir);
        p->pid = fork();
        ck_assert_int_ge(p->pid, 0);
        if (p->pid == 0) {
            int fd = open(err, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
            /* -e: the error log before the configuration is read (not /var/log). */
            char elog[128];
            snprintf(elog, sizeof elog, "%s/error.log", p->dir);
            execl(NGINX_BIN, "nginx", "-c", conf, "-p", p->dir, "-e", elog, (char *)NULL);
            _exit(127);
        }
        memset(&p->front, 0, sizeof p->front);
        p->front.port = port;
        p->front.proxy_mount = "/streamq";
        for (int waited = 0; waited < 10000; waited += 50) {
            if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
                p->pid = 0; /* exited: the port was taken meanwhile, or the config is wrong */
                break;
            }
            struct response *r = http(&p->front, "GET", "/healthz", NULL, NULL);
            char rid[80];
            /* Ours: healthy, and answered by streamq (which always names the request). */
            bool up = r->status == 200 && response_header(r, "X-Request-Id", rid, sizeof rid);
            response_free(r);
            if (up)
                return;
            usleep(50 * 1000);
        }
        stop_proxy(p);
    }
    char path[128];
    snprintf(path, sizeof path, "%s/error.log", p->dir);
    char *log = slurp(path);
    ck_abort_msg("nginx did not start; %s: %s", path, log ? log : "(none)");
}

static bool proxy_log_contains(const struct proxy *p, const char *needle)
{
    char path[128];
    snprintf(path, sizeof path, "%s/access.log", p->dir);
    char *log = slurp(path);
    bool found = log && strstr(log, needle);
    free(log);
    return found;
}

/* ------------------------------------------------------------- fixture */

/* Two instances and nginx, shared by the tests of the first case (started in
 * the runner's process, so they outlive each test's fork). */
static struct service_proc pair[2];
static struct proxy front;
static pid_t pair_owner;

/* As stop_proxies_at_exit: not from the forks of the tests (live_kill_at_exit
 * would be, so it is kept for the instances a test starts itself). */
static void kill_pair_at_exit(void)
{
    if (getpid() == pair_owner)
        for (int i = 0; i < 2; i++)
            svc_kill(&pair[i]);
}

static void setup_pair(void)
{
    pair_owner = getpid();
    atexit(kill_pair_at_exit);
    ck_assert_msg(svc_start_many(pair, 2, unique_name("ngx"), service_args), "two instances did not start");
    start_proxy(&front, &pair[0], &pair[1]);
}

static void teardown_pair(void)
{
    stop_and_remove_proxy(&front);
    for (int i = 0; i < 2; i++)
        if (svc_stop(&pair[i]) != 0)
            fprintf(stderr, "instance %d did not stop clean (log %s)\n", i, pair[i].log_path);
}

/* Either instance's log contains `needle`, within a few seconds: request
 * lines are written out in batches by the service's log flusher. */
static bool pair_log_contains(const char *needle)
{
    for (int i = 0; i < 100; i++) {
        if (svc_log_contains(&pair[0], needle) || svc_log_contains(&pair[1], needle))
            return true;
        usleep(50 * 1000);
    }
    return false;
}

static struct response *via(const char *method, const char *path, const char *body, const char *const *headers)
{
    return http(&front.front, method, path, body, headers);
}

static void append_one(const char *mount, const char *stream, int n)
{
    char path[300], body[200];
    snprintf(path, sizeof path, "%s/streams/%s/events", mount, stream);
    snprintf(body, sizeof body, "{\"events\":[{\"type\":\"Tick\",\"data\":{\"n\":%d}}]}", n);
    struct response *r = via("POST", path, body, NULL);
    ck_assert_msg(r->status == 201, "POST %s: %ld %s", path, r->status, r->body);
    response_free(r);
}

/* ------------------------------------------------------------- tests */

START_TEST(both_mounts_serve_the_same_api)
{
    const char *s = unique_name("mnt");
    append_one("", s, 0);
    append_one("/streamq", s, 1);
    const char *const mounts[] = {"", "/streamq"};
    for (int m = 0; m < 2; m++) {
        char path[300];
        snprintf(path, sizeof path, "%s/streams/%s/events?from=0&limit=10", mounts[m], s);
        struct response *r = via("GET", path, NULL, NULL);
        ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status, r->body);
        ck_assert_int_eq(array_size(r->json, "events"), 2);
        ck_assert_int_eq(int_field(field(array_item(r->json, "events", 1), "data"), "n"), 1);
        ck_assert_str_eq(str_field(r->json, "stream"), s);
        response_free(r);
    }
    /* The query string and the path reach streamq as sent under the prefix too. */
    char path[300];
    snprintf(path, sizeof path, "/streamq/streams/%s/events?from=1", s);
    struct response *r = via("GET", path, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 1);
    response_free(r);
    /* A route streamq does not have is streamq's 404 under the prefix, not nginx's. */
    r = via("GET", "/streamq/no/such/route", NULL, NULL);
    ck_assert_int_eq(r->status, 404);
    ck_assert_str_eq(response_code(r), "not_found");
    response_free(r);
    /* The bare prefix is sent to the mount. */
    r = via("GET", "/streamq", NULL, NULL);
    char loc[200];
    ck_assert_int_eq(r->status, 301);
    ck_assert(response_header(r, "Location", loc, sizeof loc));
    ck_assert_msg(strstr(loc, "/streamq/"), "Location %s", loc);
    response_free(r);
    /* The console under the mount: its page names its files relative to itself
     * (console/app.js), so they resolve below the prefix too, headers intact. */
    r = via("GET", "/streamq/console", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_ptr_nonnull(strstr(r->body, "src=\"console/app.js\""));
    ck_assert(response_header(r, "Content-Security-Policy", loc, sizeof loc));
    response_free(r);
    r = via("GET", "/streamq/console/app.js", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert(response_header(r, "Content-Type", loc, sizeof loc));
    ck_assert_str_eq(loc, "text/javascript; charset=utf-8");
    response_free(r);
}
END_TEST

START_TEST(requests_share_one_kept_alive_connection)
{
    CURL *curl = curl_easy_init();
    char url[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/streamq/healthz", front.front.port);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, fwrite);
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
    long opened = 0;
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(curl_easy_perform(curl), CURLE_OK);
        long status = 0, connects = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
        ck_assert_int_eq(status, 200);
        opened += connects;
    }
    /* Twenty answers, one TCP connection to nginx. */
    ck_assert_int_eq(opened, 1);
    fclose(sink);
    curl_easy_cleanup(curl);
}
END_TEST

START_TEST(a_chunked_body_is_accepted)
{
    const char *s = unique_name("chk");
    char path[300];
    snprintf(path, sizeof path, "/streams/%s/events", s);
    const char *const chunked[] = {"Transfer-Encoding: chunked", NULL};
    struct response *r = via("POST", path, "{\"events\":[{\"type\":\"Chunked\",\"data\":{\"n\":7}}]}", chunked);
    ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
    response_free(r);
    snprintf(path, sizeof path, "/streamq/streams/%s/events", s);
    r = via("GET", path, NULL, NULL);
    ck_assert_int_eq(array_size(r->json, "events"), 1);
    ck_assert_str_eq(str_field(array_item(r->json, "events", 0), "type"), "Chunked");
    response_free(r);
}
END_TEST

/* An append whose body is `data_len` bytes of event data plus its JSON. */
static char *big_append(size_t data_len)
{
    const char *head = "{\"events\":[{\"type\":\"Big\",\"data\":\"", *tail = "\"}]}";
    size_t n = strlen(head) + data_len + strlen(tail);
    char *body = malloc(n + 1);
    strcpy(body, head);
    memset(body + strlen(head), 'x', data_len);
    strcpy(body + strlen(head) + data_len, tail);
    return body;
}

START_TEST(a_4_mib_body_is_accepted_and_a_larger_one_is_a_413_problem)
{
    const char *s = unique_name("big");
    char path[300];
    snprintf(path, sizeof path, "/streams/%s/events", s);
    char *body = big_append(BIG_DATA);
    ck_assert_int_gt(strlen(body), 4194304); /* above streamq's default --max-body */
    struct response *r = via("POST", path, body, NULL);
    ck_assert_msg(r->status == 201, "%ld %s", r->status, r->body);
    response_free(r);
    free(body);
    snprintf(path, sizeof path, "/streamq/streams/%s/events?from=0", s);
    r = via("GET", path, NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    const cJSON *data = field(array_item(r->json, "events", 0), "data");
    ck_assert(cJSON_IsString(data));
    ck_assert_int_eq(strlen(data->valuestring), BIG_DATA);
    response_free(r);

    /* Too large, with a Content-Length and chunked, under both mounts: the
     * problem streamq itself sends (compared with an instance asked directly). */
    body = big_append(TOO_BIG);
    struct response *direct = http(&pair[0], "POST", "/streams/x/events", body, NULL);
    ck_assert_int_eq(direct->status, 413);
    const char *const id[] = {"X-Request-Id: too-big-1", NULL};
    const char *const chunked[] = {"Transfer-Encoding: chunked", NULL};
    const char *const *headers[] = {id, chunked};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/streams/%s/events", i ? "/streamq" : "", s);
        r = via("POST", path, body, headers[i]);
        ck_assert_msg(r->status == 413, "%s: %ld", path, r->status);
        char type[100], rid[80];
        ck_assert(response_header(r, "Content-Type", type, sizeof type));
        ck_assert_str_eq(type, "application/problem+json");
        ck_assert_str_eq(response_code(r), response_code(direct));
        ck_assert_str_eq(str_field(r->json, "type"), str_field(direct->json, "type"));
        ck_assert_str_eq(str_field(r->json, "title"), str_field(direct->json, "title"));
        ck_assert_int_eq(response_int(r, "status"), 413);
        ck_assert(response_header(r, "X-Request-Id", rid, sizeof rid));
        if (i == 0)
            ck_assert_str_eq(rid, "too-big-1");
        response_free(r);
    }
    response_free(direct);
    free(body);
    /* Nothing of it was written. */
    snprintf(path, sizeof path, "/streams/%s/events?from=0", s);
    r = via("GET", path, NULL, NULL);
    ck_assert_int_eq(array_size(r->json, "events"), 1);
    response_free(r);
}
END_TEST

START_TEST(a_long_poll_is_answered_by_an_append_through_the_proxy)
{
    const char *s = unique_name("poll");
    append_one("", s, 0);
    char path[300];
    snprintf(path, sizeof path, "/streams/%s/events?from=1&wait=10", s);
    struct live_call c;
    live_call_start(&c, &front.front, "GET", path, NULL);
    usleep(LIVE_SETTLE_MS * 1000);
    ck_assert_msg(!live_call_done(&c), "the long poll was answered before anything was appended");
    append_one("/streamq", s, 1); /* the other mount, quite possibly the other instance */
    ck_assert_msg(live_call_wait(&c, 15), "the long poll was not answered");
    struct response *r = live_call_join(&c);
    ck_assert_msg(r->status == 200, "%ld %s", r->status, r->body);
    /* Answered with the event, not at the end of its wait with none. */
    ck_assert_int_eq(array_size(r->json, "events"), 1);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), 1);
    response_free(r);

    /* A dequeue's wait_seconds under the prefix, woken by an enqueue at /. */
    const char *q = unique_name("pq");
    snprintf(path, sizeof path, "/streamq/queues/%s/dequeue", q);
    live_call_start(&c, &front.front, "POST", path, "{\"wait_seconds\":10}");
    usleep(LIVE_SETTLE_MS * 1000);
    ck_assert_msg(!live_call_done(&c), "the dequeue was answered before anything was enqueued");
    snprintf(path, sizeof path, "/queues/%s/messages", q);
    r = via("POST", path, "{\"messages\":[{\"type\":\"Job\",\"data\":{}}]}", NULL);
    ck_assert_int_eq(r->status, 201);
    response_free(r);
    ck_assert_msg(live_call_wait(&c, 15), "the dequeue was not answered");
    r = live_call_join(&c);
    ck_assert_msg(r->status == 200, "%ld %s", r->status, r->body);
    ck_assert_int_eq(array_size(r->json, "messages"), 1);
    response_free(r);
}
END_TEST

START_TEST(an_sse_subscription_receives_a_live_event)
{
    const char *const mounts[] = {"", "/streamq"};
    for (int m = 0; m < 2; m++) {
        const char *s = unique_name("sse");
        append_one(mounts[m], s, 0); /* a stream exists once written */
        char path[300];
        snprintf(path, sizeof path, "%s/streams/%s/subscribe?from=1", mounts[m], s);
        struct sse_client c;
        sse_open(&c, &front.front, path, NULL);
        char type[128];
        long status = sse_wait_headers(&c, FRAME_S, type, sizeof type);
        ck_assert_msg(status == 200, "GET %s: %ld", path, status);
        ck_assert_msg(!strncmp(type, "text/event-stream", 17), "Content-Type %s", type);
        ck_assert_int_eq(sse_frames(&c), 0);
        /* Appended after the subscription began: it can only arrive live, and
         * only if nginx passes the stream on unbuffered. */
        append_one(mounts[1 - m], s, 42);
        ck_assert_msg(sse_wait_frames(&c, 1, FRAME_S) == 1, "no frame through %s", path);
        const struct sse_frame *f = sse_frame_at(&c, 0);
        ck_assert_str_eq(f->id, "1");
        ck_assert_str_eq(f->event, "Tick");
        cJSON *ev = cJSON_Parse(f->data);
        ck_assert_int_eq(int_field(field(ev, "data"), "n"), 42);
        cJSON_Delete(ev);
        sse_close(&c);
    }
}
END_TEST

START_TEST(request_ids_pass_through_both_ways)
{
    /* The client's id reaches streamq (its log) and comes back. */
    const char *mine = unique_name("rid");
    char hdr[120], got[100];
    snprintf(hdr, sizeof hdr, "X-Request-Id: %s", mine);
    const char *const h1[] = {hdr, "X-Forwarded-For: 203.0.113.7", NULL};
    struct response *r = via("GET", "/streamq/healthz", NULL, h1);
    ck_assert_int_eq(r->status, 200);
    ck_assert(response_header(r, "X-Request-Id", got, sizeof got));
    ck_assert_str_eq(got, mine);
    response_free(r);
    ck_assert_msg(pair_log_contains(mine), "no instance logged %s", mine);
    /* nginx's log: the same id and the client chain with nginx's peer added. */
    char line[200];
    snprintf(line, sizeof line, "xff=\"203.0.113.7, 127.0.0.1\" request_id=%s", mine);
    ck_assert_msg(proxy_log_contains(&front, line), "nginx's access log has no %s", line);

    /* Without one, nginx names the request, and both logs carry that name. */
    r = via("GET", "/healthz", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert(response_header(r, "X-Request-Id", got, sizeof got));
    ck_assert_msg(matches("^[0-9a-f]{32}$", got), "X-Request-Id %s is not nginx's $request_id", got);
    response_free(r);
    ck_assert_msg(pair_log_contains(got), "no instance logged %s", got);
    snprintf(line, sizeof line, "xff=\"127.0.0.1\" request_id=%s", got);
    ck_assert_msg(proxy_log_contains(&front, line), "nginx's access log has no %s", line);
}
END_TEST

/* ------------------------------------------------ one instance SIGKILLed */

#define WORKERS 6
#define OPS_PER_WORKER 150
#define KILL_AFTER 200 /* acknowledged writes before the kill */
#define MAX_TRIES 100  /* a write is retried at most this often */
#define RETRY_PAUSE_MS 50

static struct service_proc victims[2];
static struct proxy kill_front;
static atomic_int acknowledged;

struct worker {
    int index;
    char run[16];
    char stream[64], queue[64];
    int appends, enqueues; /* acknowledged */
    int retries;
    char failure[300];
};

/* Sends `body` until an answer says it was done: 201 (for a retried enqueue
 * that had landed, with "duplicate": true), or 200 for an append found already
 * written (the retry of one whose answer was lost). Retries only
 * what a lost or refused answer leaves open (no answer, 502, 503, 504). */
static bool write_until_acknowledged(struct worker *w, const char *path, const char *body)
{
    for (int t = 0; t < MAX_TRIES; t++) {
        struct response *r = http(&kill_front.front, "POST", path, body, NULL);
        long status = r->status;
        if (status == 201 || status == 200) {
            response_free(r);
            atomic_fetch_add(&acknowledged, 1);
            return true;
        }
        if (status != 0 && status != 502 && status != 503 && status != 504) {
            snprintf(w->failure, sizeof w->failure, "POST %s: %ld %.200s", path, status, r->body);
            response_free(r);
            return false;
        }
        response_free(r);
        w->retries++;
        usleep(RETRY_PAUSE_MS * 1000);
    }
    snprintf(w->failure, sizeof w->failure, "POST %s: no answer after %d tries", path, MAX_TRIES);
    return false;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    char path[200], body[300];
    for (int i = 0; i < OPS_PER_WORKER && !w->failure[0]; i++) {
        /* Ids chosen by the client, unique to this run, so that a retry names the same writes. */
        char id[40];
        snprintf(id, sizeof id, "%.8s-%04x-4000-8000-%012x", w->run, w->index, i);
        if (i % 2 == 0) {
            snprintf(path, sizeof path, "/streams/%s/events", w->stream);
            snprintf(body, sizeof body, "{\"events\":[{\"id\":\"%s\",\"type\":\"Load\",\"data\":{\"i\":%d}}]}", id, i);
            if (write_until_acknowledged(w, path, body))
                w->appends++;
        } else {
            snprintf(path, sizeof path, "/streamq/queues/%s/messages", w->queue);
            snprintf(body, sizeof body, "{\"messages\":[{\"id\":\"%s\",\"type\":\"Load\",\"data\":{\"i\":%d}}]}", id,
                     i);
            if (write_until_acknowledged(w, path, body))
                w->enqueues++;
        }
    }
    return NULL;
}

/* How many items `array` of the page at `path` holds; asserts their ids are
 * distinct. */
static int count_distinct(const char *path, const char *array)
{
    struct response *r = http(&kill_front.front, "GET", path, NULL, NULL);
    ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status, r->body);
    int n = array_size(r->json, array);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            ck_assert_str_ne(str_field(array_item(r->json, array, i), "id"),
                             str_field(array_item(r->json, array, j), "id"));
    response_free(r);
    return n;
}

START_TEST(a_killed_instance_loses_no_acknowledged_write)
{
    live_kill_at_exit(&victims[0]);
    live_kill_at_exit(&victims[1]);
    ck_assert(svc_start_many(victims, 2, unique_name("ngk"), NULL));
    start_proxy(&kill_front, &victims[0], &victims[1]);

    char run[16];
    snprintf(run, sizeof run, "%08x", (unsigned)(getpid() ^ (unsigned)time(NULL)));
    struct worker w[WORKERS];
    pthread_t t[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].index = i;
        snprintf(w[i].run, sizeof w[i].run, "%s", run);
        snprintf(w[i].stream, sizeof w[i].stream, "%s", unique_name("kls"));
        snprintf(w[i].queue, sizeof w[i].queue, "%s", unique_name("klq"));
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    /* The kill lands while writes are in flight on both instances. */
    while (atomic_load(&acknowledged) < KILL_AFTER)
        usleep(5 * 1000);
    svc_kill(&victims[0]);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);

    int retries = 0;
    for (int i = 0; i < WORKERS; i++) {
        ck_assert_msg(!w[i].failure[0], "worker %d: %s", i, w[i].failure);
        retries += w[i].retries;
        /* Every write was acknowledged in the end (the survivor took them)... */
        ck_assert_int_eq(w[i].appends + w[i].enqueues, OPS_PER_WORKER);
        /* ...and each is there exactly once: the stream holds one event per
         * acknowledged append, the queue one message per acknowledged enqueue. */
        char path[200];
        snprintf(path, sizeof path, "/streams/%s/events?from=0&limit=1000", w[i].stream);
        ck_assert_int_eq(count_distinct(path, "events"), w[i].appends);
        snprintf(path, sizeof path, "/queues/%s/messages?state=pending&limit=1000", w[i].queue);
        ck_assert_int_eq(count_distinct(path, "messages"), w[i].enqueues);
    }
    fprintf(stderr, "nginx kill: %d writes acknowledged, %d retried after 502/503/504 or no answer\n",
            atomic_load(&acknowledged), retries);
    /* Both instances served the load before the kill. */
    ck_assert(svc_log_contains(&victims[0], "POST"));
    ck_assert(svc_log_contains(&victims[1], "POST"));

    stop_and_remove_proxy(&kill_front);
    ck_assert_int_eq(svc_stop(&victims[1]), 0);
}
END_TEST

static Suite *nginx_suite(void)
{
    Suite *s = suite_create("nginx");
    TCase *tc = tcase_create("through_nginx");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, setup_pair, teardown_pair);
    tcase_add_test(tc, both_mounts_serve_the_same_api);
    tcase_add_test(tc, requests_share_one_kept_alive_connection);
    tcase_add_test(tc, a_chunked_body_is_accepted);
    tcase_add_test(tc, a_4_mib_body_is_accepted_and_a_larger_one_is_a_413_problem);
    tcase_add_test(tc, a_long_poll_is_answered_by_an_append_through_the_proxy);
    tcase_add_test(tc, an_sse_subscription_receives_a_live_event);
    tcase_add_test(tc, request_ids_pass_through_both_ways);
    suite_add_tcase(s, tc);
    TCase *kill = tcase_create("instance_killed");
    tcase_set_timeout(kill, 300);
    tcase_add_test(kill, a_killed_instance_loses_no_acknowledged_write);
    suite_add_tcase(s, kill);
    return s;
}

int main(void)
{
    return harness_main(nginx_suite(), NULL);
}
