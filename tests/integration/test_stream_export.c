/* NDJSON export of a large stream: every event arrives, in order, while the
 * service's resident memory stays flat (pages are fetched as the client reads). */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define EVENTS 200000
#define BATCH 1000
#define RSS_GROWTH_LIMIT_KIB (16 * 1024)

struct export_state {
    long long next_offset; /* the offset the next line must carry */
    long long lines, out_of_order;
    char partial[4096];
    size_t partial_len;
    long rss_max, calls;
};

static void check_line(struct export_state *x, const char *line, size_t len)
{
    const char *at = memmem(line, len, "\"offset\":", 9);
    long long offset = at ? strtoll(at + 9, NULL, 10) : -1;
    if (offset != x->next_offset)
        x->out_of_order++;
    x->next_offset = offset + 1;
    x->lines++;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct export_state *x = userdata;
    size_t n = size * nmemb;
    for (size_t i = 0; i < n; i++) {
        char c = ptr[i];
        if (c == '\n') {
            check_line(x, x->partial, x->partial_len);
            x->partial_len = 0;
        } else if (x->partial_len < sizeof x->partial) {
            x->partial[x->partial_len++] = c;
        }
    }
    if (++x->calls % 64 == 0) {
        long rss = svc_rss_kib(&svc);
        if (rss > x->rss_max)
            x->rss_max = rss;
    }
    return n;
}

START_TEST(ndjson_export_of_200k_events_is_complete_ordered_and_flat_in_memory)
{
    const char *stream = unique_name("export");
    char path[256];
    snprintf(path, sizeof path, "/streams/%s/events", stream);
    size_t cap = (size_t)BATCH * 96 + 64;
    char *body = malloc(cap);
    for (int b = 0; b < EVENTS / BATCH; b++) {
        size_t n = (size_t)snprintf(body, cap, "{\"events\":[");
        for (int i = 0; i < BATCH; i++)
            n += (size_t)snprintf(body + n, cap - n, "%s{\"type\":\"Row\",\"data\":{\"n\":%d,\"pad\":\"abcdefgh\"}}",
                                  i ? "," : "", b * BATCH + i);
        snprintf(body + n, cap - n, "]}");
        struct response *r = http(&svc, "POST", path, body, NULL);
        ck_assert_int_eq(r->status, 201);
        response_free(r);
    }
    free(body);

    /* Warm the pool and allocator with one page before measuring. */
    char url[512];
    snprintf(url, sizeof url, "%s?limit=1000", path);
    response_free(http(&svc, "GET", url, NULL, NULL));
    long rss_before = svc_rss_kib(&svc);
    ck_assert_int_gt(rss_before, 0);

    struct export_state x = {0};
    x.rss_max = rss_before;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", svc.port, path);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/x-ndjson");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);
    /* A slow reader keeps the export open longer: the service must not buffer ahead. */
    curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 16384L);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    char *type = NULL;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    ck_assert_int_eq(rc, CURLE_OK);
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(type, "application/x-ndjson");
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);

    fprintf(stderr, "exported %lld lines; service RSS %ld KiB before, %ld KiB at most while streaming\n", x.lines,
            rss_before, x.rss_max);
    ck_assert_int_eq(x.partial_len, 0);
    ck_assert_int_eq(x.lines, EVENTS);
    ck_assert_int_eq(x.out_of_order, 0);
    ck_assert_int_lt(x.rss_max - rss_before, RSS_GROWTH_LIMIT_KIB);
}
END_TEST

static Suite *export_suite(void)
{
    Suite *s = suite_create("stream-export");
    TCase *tc = tcase_create("export");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, ndjson_export_of_200k_events_is_complete_ordered_and_flat_in_memory);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    /* AddressSanitizer keeps freed memory in quarantine (256 MiB by default), which
     * would show as growth; a small quarantine measures the service, not the tool. */
    const char *asan = getenv("ASAN_OPTIONS");
    char opts[512];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=8", asan ? asan : "", asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    const char *args[] = {"--log-level", "info", NULL};
    return harness_main(export_suite(), args);
}
