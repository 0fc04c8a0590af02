/* The cold archive (--archive-dir), as a client sees it: events trimmed by
 * retention read back with include_archive=true byte for byte as they read
 * before the trim, followed by the live ones, paging forward and backward
 * across the boundary and through the NDJSON export; a crash between the
 * archive's write and the rows' delete leaves every event readable exactly
 * once, before and after a restart finishes the trim; a damaged or missing
 * segment is a problem answer, not a crash. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "harness.h"

#define DEADLINE_MS 30000

static char archive_dir[] = "/tmp/streamq-archive-test-XXXXXX";

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* A fresh directory under the suite's archive directory. */
static const char *new_dir(const char *name)
{
    static char path[8][512];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", archive_dir, name);
    ck_assert_msg(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s", p);
    return p;
}

/* 1,000 events: 0..499 of type A, 500..999 of type B. */
static void append_thousand(const struct service_proc *sp, const char *stream)
{
    for (int half = 0; half < 2; half++) {
        char *body = numbered_batch("events", half ? "B" : "A", half * 500, 500);
        struct response *r = http(sp, "POST", fmt("/streams/%s/events", stream), body, NULL);
        ck_assert_msg(r->status == 201, "append: %ld %s", r->status, r->body);
        response_free(r);
        free(body);
    }
}

static void put_max_count(const struct service_proc *sp, const char *stream, int count)
{
    struct response *r = httpf(sp, "PUT", fmt("/streams/%s/retention", stream), "{\"max_count\":%d}", count);
    ck_assert_msg(r->status == 200, "retention: %ld %s", r->status, r->body);
    response_free(r);
}

static void await_first_offset(const struct service_proc *sp, const char *stream, long long want)
{
    for (int waited = 0;; waited += 50) {
        struct response *r = http(sp, "GET", fmt("/streams/%s", stream), NULL, NULL);
        ck_assert_msg(r->status == 200, "stream: %ld %s", r->status, r->body);
        long long first = response_int(r, "first_offset");
        response_free(r);
        if (first >= want)
            return;
        ck_assert_msg(waited < DEADLINE_MS, "first_offset of %s stayed at %lld", stream, first);
        sleep_ms(50);
    }
}

/* GET `path` on `sp` with an optional Accept header; asserts 200, returns the body (free it). */
static char *body_of(const struct service_proc *sp, const char *path, const char *accept)
{
    const char *headers[] = {accept, NULL};
    struct response *r = http(sp, "GET", path, NULL, accept ? headers : NULL);
    ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status, r->body);
    char *body = strdup(r->body);
    response_free(r);
    return body;
}

/* Pages through the stream with include_archive, `limit` at a time, in the
 * direction given; asserts the offsets run 0..n-1 (or back), n the events of
 * `before` (a page read before the trim), exactly once, each equal to the
 * event at that index of `before`. */
static void page_through(const struct service_proc *sp, const char *stream, const cJSON *before, bool backward,
                         int limit)
{
    long long n = array_size(before, "events"), expect = backward ? n - 1 : 0;
    const char *from = backward ? "" : "&from=0";
    char from_buf[48];
    for (int pages = 0;; pages++) {
        ck_assert_int_lt(pages, 1000);
        struct response *r = http(sp, "GET",
                                  fmt("/streams/%s/events?include_archive=true&limit=%d%s%s", stream, limit, from,
                                      backward ? "&direction=backward" : ""),
                                  NULL, NULL);
        ck_assert_msg(r->status == 200, "page: %ld %s", r->status, r->body);
        const cJSON *ev;
        cJSON_ArrayForEach(ev, field(r->json, "events")) {
            ck_assert_int_eq(int_field(ev, "offset"), expect);
            const cJSON *was = array_item(before, "events", (int)expect);
            ck_assert_msg(cJSON_Compare(ev, was, true), "event %lld differs", expect);
            expect += backward ? -1 : 1;
        }
        bool end = cJSON_IsTrue(field(r->json, "end_of_stream"));
        snprintf(from_buf, sizeof from_buf, "&from=%lld", int_field(r->json, "next_offset"));
        from = from_buf;
        response_free(r);
        if (end)
            break;
    }
    ck_assert_int_eq(expect, backward ? -1 : n);
}

START_TEST(trimmed_events_read_back_from_the_archive)
{
    const char *stream = unique_name("ar");
    append_thousand(&svc, stream);
    char *page_before = body_of(&svc, fmt("/streams/%s/events?limit=1000", stream), NULL);
    char *export_before = body_of(&svc, fmt("/streams/%s/export", stream), NULL);
    char *backward_before = body_of(&svc, fmt("/streams/%s/export?direction=backward", stream), NULL);
    cJSON *before = cJSON_Parse(page_before);
    ck_assert_int_eq(array_size(before, "events"), 1000);

    put_max_count(&svc, stream, 100);
    await_first_offset(&svc, stream, 900);

    /* Without include_archive only the live events are read, as ever. */
    struct response *r = get("/streams/%s/events?from=0&limit=1000", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 100);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), 900);
    ck_assert(cJSON_IsTrue(field(r->json, "trimmed")));
    response_free(r);
    r = get("/streams/%s/events?include_archive=false&from=0&limit=1000", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 100);
    response_free(r);

    /* With it, the same bytes as before the trim: the page, the export (also
     * through Accept on the read), forward and backward. */
    char *page_after = body_of(&svc, fmt("/streams/%s/events?limit=1000&include_archive=true", stream), NULL);
    ck_assert_str_eq(page_after, page_before);
    char *export_after = body_of(&svc, fmt("/streams/%s/export?include_archive=true", stream), NULL);
    ck_assert_str_eq(export_after, export_before);
    free(export_after);
    export_after =
        body_of(&svc, fmt("/streams/%s/events?include_archive=true", stream), "Accept: application/x-ndjson");
    ck_assert_str_eq(export_after, export_before);
    free(export_after);
    export_after = body_of(&svc, fmt("/streams/%s/export?include_archive=true&direction=backward", stream), NULL);
    ck_assert_str_eq(export_after, backward_before);
    free(export_after);

    /* Pages of 7 cross the archive/live boundary (899/900) both ways. */
    page_through(&svc, stream, before, false, 7);
    page_through(&svc, stream, before, true, 7);
    r = get("/streams/%s/events?include_archive=true&from=895&limit=10", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 10);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), 895);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 9), "offset"), 904);
    ck_assert_int_eq(int_field(r->json, "next_offset"), 905);
    ck_assert(cJSON_IsFalse(field(r->json, "end_of_stream")));
    ck_assert(cJSON_IsFalse(field(r->json, "trimmed")));
    ck_assert_int_eq(int_field(r->json, "first_offset"), 0);
    response_free(r);
    r = get("/streams/%s/events?include_archive=true&from=904&limit=10&direction=backward", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), 904);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 9), "offset"), 895);
    ck_assert_int_eq(int_field(r->json, "next_offset"), 894);
    response_free(r);

    /* Filters apply to archived events as to live ones. */
    r = get("/streams/%s/events?include_archive=true&type=B&limit=3", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 3);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), 500);
    response_free(r);
    r = get("/streams/%s/events?include_archive=true&type=C", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 0);
    ck_assert(cJSON_IsTrue(field(r->json, "end_of_stream")));
    response_free(r);
    r = get("/streams/%s/events?include_archive=true&until=2000-01-01T00:00:00Z", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 0);
    response_free(r);
    r = get("/streams/%s/events?include_archive=true&since=2000-01-01T00:00:00Z&limit=2", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 1), "offset"), 1);
    response_free(r);

    EXPECT_PROBLEM_FREE(get("/streams/%s/events?include_archive=yes", stream), 400, "invalid_parameter");
    EXPECT_PROBLEM_FREE(get("/streams/%s/export?include_archive=1", stream), 400, "invalid_parameter");
    EXPECT_PROBLEM_FREE(get("/streams/%s/events?include_archive=true", unique_name("none")), 404, "stream_not_found");

    /* A stream deleted and made again does not read the old one's archive. */
    EXPECT_204_FREE(request("DELETE", fmt("/streams/%s", stream), NULL));
    r = requestf("POST", fmt("/streams/%s/events", stream), "{\"events\":[{\"type\":\"N\",\"data\":1}]}");
    EXPECT_JSON(r, 201);
    response_free(r);
    r = get("/streams/%s/events?include_archive=true", stream);
    EXPECT_JSON(r, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 1);
    ck_assert_str_eq(str_field(array_item(r->json, "events", 0), "type"), "N");
    response_free(r);

    cJSON_Delete(before);
    free(page_before);
    free(page_after);
    free(export_before);
    free(backward_before);
}
END_TEST

/* Waits for `sp` to exit by itself; returns its exit status. */
static int await_exit(struct service_proc *sp)
{
    for (int waited = 0;; waited += 50) {
        int status;
        pid_t pid = waitpid(sp->pid, &status, WNOHANG);
        if (pid == sp->pid) {
            sp->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        ck_assert_msg(waited < DEADLINE_MS, "the service did not crash where the test asked it to");
        sleep_ms(50);
    }
}

START_TEST(a_crash_between_archive_and_delete_loses_and_repeats_nothing)
{
    const char *dir = new_dir("crash");
    const char *args[] = {"--retention-interval-ms", "100", "--archive-dir", dir, NULL};
    struct service_proc sp;
    setenv("STREAMQ_TEST_CRASH_AFTER_ARCHIVE", "1", 1);
    bool started = svc_start(&sp, NULL, args);
    unsetenv("STREAMQ_TEST_CRASH_AFTER_ARCHIVE");
    ck_assert(started);
    char stream[96];
    snprintf(stream, sizeof stream, "%s", unique_name("ac"));
    append_thousand(&sp, stream);
    char *page_before = body_of(&sp, fmt("/streams/%s/events?limit=1000", stream), NULL);
    char *export_before = body_of(&sp, fmt("/streams/%s/export", stream), NULL);
    cJSON *before = cJSON_Parse(page_before);
    put_max_count(&sp, stream, 100);
    /* The worker writes the segment and the manifest, then dies before the delete. */
    ck_assert_int_eq(await_exit(&sp), 86);
    ck_assert_int_eq(sql_value(fmt("SELECT count(*) FROM \"%s\".events WHERE stream = '%s'", sp.schema, stream)), 1000);

    /* Hold the stream's trim lock so the restarted worker cannot finish yet. */
    PGconn *pg = PQconnectdb(test_database_conninfo());
    ck_assert(PQstatus(pg) == CONNECTION_OK);
    char lock[512];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_lock(1936028020, hashtext('%s.%s'))", sp.schema, stream);
    PGresult *res = PQexec(pg, lock);
    ck_assert(PQresultStatus(res) == PGRES_TUPLES_OK);
    PQclear(res);

    struct service_proc again;
    ck_assert(svc_start(&again, sp.schema, args));
    char *page = body_of(&again, fmt("/streams/%s/events?limit=1000&include_archive=true", stream), NULL);
    ck_assert_str_eq(page, page_before);
    free(page);
    char *export = body_of(&again, fmt("/streams/%s/export?include_archive=true", stream), NULL);
    ck_assert_str_eq(export, export_before);
    free(export);
    page_through(&again, stream, before, false, 64);
    page_through(&again, stream, before, true, 64);
    ck_assert_int_eq(sql_value(fmt("SELECT count(*) FROM \"%s\".events WHERE stream = '%s'", sp.schema, stream)), 1000);

    /* Released, the worker sees the range archived and only deletes the rows. */
    res = PQexec(pg, "SELECT pg_advisory_unlock_all()");
    PQclear(res);
    PQfinish(pg);
    await_first_offset(&again, stream, 900);
    page = body_of(&again, fmt("/streams/%s/events?limit=1000&include_archive=true", stream), NULL);
    ck_assert_str_eq(page, page_before);
    free(page);
    export = body_of(&again, fmt("/streams/%s/export?include_archive=true", stream), NULL);
    ck_assert_str_eq(export, export_before);
    free(export);
    page_through(&again, stream, before, false, 64);
    ck_assert_int_eq(svc_stop(&again), 0);
    cJSON_Delete(before);
    free(page_before);
    free(export_before);
}
END_TEST

/* Overwrites (or removes, `contents` NULL; or leaves, `contents` "") every
 * segment file under `dir`; returns how many there are. */
static int spoil_segments(const char *dir, const char *contents)
{
    int spoiled = 0;
    DIR *root = opendir(dir);
    ck_assert_ptr_nonnull(root);
    for (struct dirent *s; (s = readdir(root));) {
        if (strncmp(s->d_name, "s-", 2) != 0)
            continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", dir, s->d_name);
        DIR *d = opendir(sub);
        ck_assert_ptr_nonnull(d);
        for (struct dirent *f; (f = readdir(d));) {
            if (!strstr(f->d_name, ".ndjson.gz"))
                continue;
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", sub, f->d_name);
            if (contents && !*contents) {
                /* only counted */
            } else if (contents) {
                FILE *out = fopen(path, "w");
                ck_assert_ptr_nonnull(out);
                fputs(contents, out);
                fclose(out);
            } else {
                ck_assert_int_eq(unlink(path), 0);
            }
            spoiled++;
        }
        closedir(d);
    }
    closedir(root);
    return spoiled;
}

START_TEST(large_events_span_several_segments)
{
    const char *dir = new_dir("large");
    const char *args[] = {"--retention-interval-ms", "100", "--archive-dir", dir, NULL};
    struct service_proc sp;
    ck_assert(svc_start(&sp, NULL, args));
    char stream[96];
    snprintf(stream, sizeof stream, "%s", unique_name("al"));
    /* 24 events of 400 kB: a segment holds at most 4 MiB, so 20 archived events make two or more. */
    size_t big = 400000;
    char *body = malloc(big + 128);
    ck_assert_ptr_nonnull(body);
    for (int i = 0; i < 24; i++) {
        int n = snprintf(body, big + 128, "{\"events\":[{\"type\":\"Big\",\"data\":{\"i\":%d,\"pad\":\"", i);
        memset(body + n, 'a' + i % 26, big);
        snprintf(body + n + big, 128, "\"}}]}");
        struct response *r = http(&sp, "POST", fmt("/streams/%s/events", stream), body, NULL);
        ck_assert_msg(r->status == 201, "append: %ld %s", r->status, r->body);
        response_free(r);
    }
    free(body);
    char *page_before = body_of(&sp, fmt("/streams/%s/events?limit=1000", stream), NULL);
    char *export_before = body_of(&sp, fmt("/streams/%s/export", stream), NULL);
    cJSON *before = cJSON_Parse(page_before);
    put_max_count(&sp, stream, 4);
    await_first_offset(&sp, stream, 20);
    ck_assert_int_ge(spoil_segments(dir, ""), 2);

    char *page = body_of(&sp, fmt("/streams/%s/events?limit=1000&include_archive=true", stream), NULL);
    ck_assert_str_eq(page, page_before);
    char *export = body_of(&sp, fmt("/streams/%s/export?include_archive=true", stream), NULL);
    ck_assert_str_eq(export, export_before);
    page_through(&sp, stream, before, false, 3);
    page_through(&sp, stream, before, true, 3);
    ck_assert_int_eq(svc_stop(&sp), 0);
    cJSON_Delete(before);
    free(page);
    free(export);
    free(page_before);
    free(export_before);
}
END_TEST

START_TEST(a_damaged_or_missing_segment_is_a_problem_not_a_crash)
{
    const char *dir = new_dir("damaged");
    const char *args[] = {"--retention-interval-ms", "100", "--archive-dir", dir, NULL};
    struct service_proc sp;
    ck_assert(svc_start(&sp, NULL, args));
    char stream[96];
    snprintf(stream, sizeof stream, "%s", unique_name("ad"));
    append_thousand(&sp, stream);
    put_max_count(&sp, stream, 100);
    await_first_offset(&sp, stream, 900);

    ck_assert_int_gt(spoil_segments(dir, "not gzip at all"), 0);
    struct response *r = http(&sp, "GET", fmt("/streams/%s/events?include_archive=true", stream), NULL, NULL);
    EXPECT_PROBLEM(r, 500, "archive_damaged");
    ck_assert_ptr_nonnull(strstr(str_field(r->json, "detail"), ".ndjson.gz"));
    response_free(r);
    r = http(&sp, "GET", fmt("/streams/%s/export?include_archive=true", stream), NULL, NULL);
    EXPECT_PROBLEM(r, 500, "archive_damaged");
    response_free(r);
    /* Live offsets above the archive read as usual. */
    r = http(&sp, "GET", fmt("/streams/%s/events?include_archive=true&from=950", stream), NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 50);
    response_free(r);

    ck_assert_int_gt(spoil_segments(dir, NULL), 0);
    r = http(&sp, "GET", fmt("/streams/%s/events?include_archive=true&direction=backward&from=10", stream), NULL, NULL);
    EXPECT_PROBLEM(r, 500, "archive_damaged");
    response_free(r);
    r = http(&sp, "GET", "/healthz", NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    response_free(r);
    ck_assert_int_eq(svc_stop(&sp), 0);
}
END_TEST

START_TEST(without_an_archive_dir_retention_deletes_and_include_archive_reads_live)
{
    const char *args[] = {"--retention-interval-ms", "100", NULL};
    struct service_proc sp;
    ck_assert(svc_start(&sp, NULL, args));
    char stream[96];
    snprintf(stream, sizeof stream, "%s", unique_name("an"));
    append_thousand(&sp, stream);
    put_max_count(&sp, stream, 100);
    await_first_offset(&sp, stream, 900);
    struct response *r =
        http(&sp, "GET", fmt("/streams/%s/events?include_archive=true&from=0&limit=1000", stream), NULL, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(array_size(r->json, "events"), 100);
    ck_assert_int_eq(int_field(array_item(r->json, "events", 0), "offset"), 900);
    ck_assert(cJSON_IsTrue(field(r->json, "trimmed")));
    response_free(r);
    ck_assert_int_eq(svc_stop(&sp), 0);
}
END_TEST

static Suite *archive_suite(void)
{
    Suite *s = suite_create("archive");
    TCase *tc = tcase_create("archive");
    tcase_set_timeout(tc, 600); /* several instances, 10 MB of events, under ASan on a busy machine */
    tcase_add_test(tc, trimmed_events_read_back_from_the_archive);
    tcase_add_test(tc, a_crash_between_archive_and_delete_loses_and_repeats_nothing);
    tcase_add_test(tc, large_events_span_several_segments);
    tcase_add_test(tc, a_damaged_or_missing_segment_is_a_problem_not_a_crash);
    tcase_add_test(tc, without_an_archive_dir_retention_deletes_and_include_archive_reads_live);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (!mkdtemp(archive_dir)) {
        perror("mkdtemp");
        return 1;
    }
    char shared[600];
    snprintf(shared, sizeof shared, "%s/shared", archive_dir);
    if (mkdir(shared, 0755) != 0) {
        perror("mkdir");
        return 1;
    }
    const char *args[] = {"--retention-interval-ms", "100", "--archive-dir", shared, NULL};
    int rc = harness_main(archive_suite(), args);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", archive_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", archive_dir);
    return rc;
}
