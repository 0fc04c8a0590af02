/* Integration harness; see harness.h. */
#include "harness.h"

#include "exchange_log.h"

#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct service_proc svc;

static const char *binary(void)
{
    const char *b = getenv("STREAMQ_BIN");
    return b ? b : "build-test/streamq";
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

bool svc_log_contains(const struct service_proc *sp, const char *needle)
{
    char *text = read_file(sp->log_path);
    bool found = text && strstr(text, needle);
    free(text);
    return found;
}

static pid_t spawn(const char *const *args, const char *log_path)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = binary();
    for (int i = 0; args && args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void svc_spawn(struct service_proc *sp, const char *schema, const char *const *args)
{
    memset(sp, 0, sizeof *sp);
    snprintf(sp->schema, sizeof sp->schema, "%s", schema ? schema : unique_name("t"));
    for (char *c = sp->schema; *c; c++)
        if (*c == '-')
            *c = '_';
    snprintf(sp->log_path, sizeof sp->log_path, "/tmp/streamq-%s-%s.log", sp->schema, unique_name("p"));
    snprintf(sp->port_path, sizeof sp->port_path, "%s.port", sp->log_path);
    unlink(sp->port_path);
    const char *argv[64] = {"--listen",    "127.0.0.1:0", "--schema",    sp->schema,
                            "--log-level", "info",        "--port-file", sp->port_path};
    int n = 8;
    for (int i = 0; args && args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    sp->pid = spawn(argv, sp->log_path);
}

static bool svc_wait_listening(struct service_proc *sp)
{
    for (int waited = 0; waited < 60000; waited += 20) {
        /* The service writes the file whole (rename) once it listens. */
        char *text = read_file(sp->port_path);
        if (text) {
            sp->port = atoi(text);
            free(text);
            unlink(sp->port_path);
            return sp->port > 0;
        }
        int status;
        if (waitpid(sp->pid, &status, WNOHANG) == sp->pid) {
            fprintf(stderr, "streamq exited during start-up; log %s\n", sp->log_path);
            sp->pid = 0;
            return false;
        }
        usleep(20 * 1000);
    }
    fprintf(stderr, "streamq did not start listening; log %s\n", sp->log_path);
    svc_kill(sp); /* never leave a service behind the test run */
    return false;
}

bool svc_start(struct service_proc *sp, const char *schema, const char *const *args)
{
    return svc_start_many(sp, 1, schema, args);
}

bool svc_start_many(struct service_proc *sps, int n, const char *schema, const char *const *args)
{
    char shared[64];
    snprintf(shared, sizeof shared, "%s", schema ? schema : unique_name("t"));
    for (int i = 0; i < n; i++)
        svc_spawn(&sps[i], shared, args);
    bool ok = true;
    for (int i = 0; i < n; i++)
        ok &= svc_wait_listening(&sps[i]);
    for (int i = 0; !ok && i < n; i++)
        svc_kill(&sps[i]);
    return ok;
}

int svc_stop(struct service_proc *sp)
{
    if (sp->pid <= 0)
        return -1;
    kill(sp->pid, SIGTERM);
    int status = 0;
    while (waitpid(sp->pid, &status, 0) < 0 && errno == EINTR)
        ;
    sp->pid = 0;
    if (svc_log_contains(sp, "Sanitizer") || svc_log_contains(sp, "runtime error:")) {
        fprintf(stderr, "sanitizer report in %s\n", sp->log_path);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void svc_kill(struct service_proc *sp)
{
    if (sp->pid <= 0)
        return;
    kill(sp->pid, SIGKILL);
    while (waitpid(sp->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    sp->pid = 0;
}

int svc_run_to_exit(const char *const *args, char *out, size_t outlen)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/streamq-run-%d-%s.log", (int)getpid(), unique_name("x"));
    pid_t pid = spawn(args, path);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    char *text = read_file(path);
    if (out && outlen) {
        snprintf(out, outlen, "%s", text ? text : "");
    }
    bool sanitizer = text && (strstr(text, "Sanitizer") || strstr(text, "runtime error:"));
    free(text);
    unlink(path);
    if (sanitizer)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

long svc_rss_kib(const struct service_proc *sp)
{
    char path[64], *text;
    snprintf(path, sizeof path, "/proc/%d/status", (int)sp->pid);
    text = read_file(path);
    const char *at = text ? strstr(text, "VmRSS:") : NULL;
    long kib = at ? strtol(at + 6, NULL, 10) : -1;
    free(text);
    return kib;
}

struct buffer {
    char *data;
    size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buffer *b = userdata;
    size_t n = size * nmemb;
    b->data = realloc(b->data, b->len + n + 1);
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

struct response *http(const struct service_proc *sp, const char *method, const char *path, const char *body,
                      const char *const *headers)
{
    struct response *r = calloc(1, sizeof *r);
    struct buffer b = {0}, h = {0};
    char url[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", sp->port, path);
    CURL *curl = curl_easy_init();
    struct curl_slist *list = NULL;
    bool has_type = false;
    const char *accept = NULL;
    for (int i = 0; headers && headers[i]; i++) {
        list = curl_slist_append(list, headers[i]);
        has_type |= !strncasecmp(headers[i], "Content-Type:", 13);
        if (!strncasecmp(headers[i], "Accept:", 7))
            accept = headers[i] + 7 + strspn(headers[i] + 7, " ");
    }
    if (body && !has_type)
        list = curl_slist_append(list, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    r->body = b.data ? b.data : calloc(1, 1);
    r->len = b.len;
    r->headers = h.data ? h.data : calloc(1, 1);
    r->json = cJSON_Parse(r->body);
    exchange_log_record(&(struct exchange){.client = "curl",
                                           .method = method,
                                           .target = path,
                                           .accept = accept,
                                           .proxy_mount = sp->proxy_mount,
                                           .status = r->status,
                                           .headers = r->headers,
                                           .body = r->body,
                                           .len = r->len,
                                           .body_complete = true});
    return r;
}

struct response *httpf(const struct service_proc *sp, const char *method, const char *path, const char *fmt, ...)
{
    char *body = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&body, fmt, ap) < 0)
        body = NULL;
    va_end(ap);
    struct response *r = http(sp, method, path, body, NULL);
    free(body);
    return r;
}

void response_free(struct response *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->headers);
    cJSON_Delete(r->json);
    free(r);
}

const char *response_header(const struct response *r, const char *name, char *buf, size_t size)
{
    size_t nlen = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > nlen && line[nlen] == ':' && !strncasecmp(line, name, nlen)) {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            snprintf(buf, size, "%.*s", (int)(len - (size_t)(v - line)), v);
            return buf;
        }
        line = end ? end + 2 : NULL;
    }
    return NULL;
}

const char *response_code(const struct response *r)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(r->json, "code");
    return cJSON_IsString(code) ? code->valuestring : "";
}

long long response_int(const struct response *r, const char *path)
{
    const cJSON *node = r->json;
    char key[128];
    while (node && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        node = cJSON_GetObjectItemCaseSensitive(node, key);
        path += n + (path[n] == '.');
    }
    return cJSON_IsNumber(node) ? (long long)node->valuedouble : LLONG_MIN;
}

const char *unique_name(const char *prefix)
{
    static char bufs[8][96];
    static int next;
    static unsigned long long counter;
    char *b = bufs[next++ % 8];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(b, sizeof bufs[0], "%s-%x%lx%llx", prefix, (unsigned)getpid(), (long)(ts.tv_nsec & 0xfffff), counter++);
    return b;
}

const char *test_database_conninfo(void)
{
    return ""; /* libpq takes PGHOST, PGPORT, PGUSER and PGDATABASE from the environment */
}

long long sql_value(const char *sql)
{
    PGconn *pg = PQconnectdb(test_database_conninfo());
    ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);
    ck_assert_msg(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(res));
    long long n = st == PGRES_TUPLES_OK && PQntuples(res) > 0 ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    PQfinish(pg);
    return n;
}

int harness_main(Suite *suite, const char *const *service_args)
{
    curl_global_init(CURL_GLOBAL_ALL);
    SRunner *sr = srunner_create(suite);
    if (!svc_start(&svc, NULL, service_args)) {
        fprintf(stderr, "could not start streamq (STREAMQ_BIN=%s)\n", binary());
        srunner_free(sr);
        return 1;
    }
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    int status = svc_stop(&svc);
    if (status != 0)
        fprintf(stderr, "streamq exited with status %d on SIGTERM (log %s)\n", status, svc.log_path);
    curl_global_cleanup();
    return failed == 0 && status == 0 ? 0 : 1;
}
