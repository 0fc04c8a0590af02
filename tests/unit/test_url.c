/* Unit tests for src/core/url.c: the webhook URLs streamq accepts, and the
 * --webhook-allow list (exact hosts, "*." subdomain entries, case, spaces). */
#include <check.h>
#include <stdbool.h>
#include <string.h>

#include "src/core/url.h"
#include "src/core/util.h"

static const struct {
    const char *url, *allow;
    bool ok;
    const char *why;
} rows[] = {
    {"http://127.0.0.1:9000/hook", "", true, "IPv4 with port and path"},
    {"https://h.example.com", "", true, "https, no path"},
    {"HTTP://Example.COM/x?q=1#f", "", true, "scheme and host in any case, query and fragment"},
    {"http://[::1]:80/", "", true, "IPv6 literal with port"},
    {"ftp://127.0.0.1/", "", false, "another scheme"},
    {"127.0.0.1/x", "", false, "no scheme"},
    {"http://", "", false, "no host"},
    {"http://:80/", "", false, "port without host"},
    {"http://user@127.0.0.1/", "", false, "userinfo"},
    {"http://a_b.example.com/", "", false, "underscore in a host"},
    {"http://[::1/", "", false, "unclosed IPv6 literal"},
    {"http://127.0.0.1:0/", "", false, "port 0"},
    {"http://127.0.0.1:65536/", "", false, "port past 65535"},
    {"http://127.0.0.1:/", "", false, "empty port"},
    {"http://127.0.0.1:8o/", "", false, "port with a letter"},
    {"http://127.0.0.1/a b", "", false, "space in the path"},
    {"http://127.0.0.1/caf\xC3\xA9", "", false, "raw non-ASCII in the path"},
    {"http://127.0.0.1/a%20b", "", true, "percent-encoded path"},
    {"http://127.0.0.1/", "127.0.0.1,localhost", true, "exact host in the list"},
    {"http://LOCALHOST:1/", "127.0.0.1, localhost", true, "case and spaces in the list"},
    {"http://evil.com/", "127.0.0.1,localhost", false, "host not in the list"},
    {"http://a.example.com/", "*.example.com", true, "subdomain entry"},
    {"http://a.b.example.com/", "*.example.com", true, "deeper subdomain"},
    {"http://example.com/", "*.example.com", false, "a subdomain entry does not match the domain itself"},
    {"http://badexample.com/", "*.example.com", false, "suffix without the dot"},
    {"http://127.0.0.10/", "127.0.0.1", false, "a prefix of an entry is not the entry"},
};

START_TEST(test_urls)
{
    const char *why = url_refusal(rows[_i].url, rows[_i].allow);
    ck_assert_msg((why == NULL) == rows[_i].ok, "row %d (%s): %s", _i, rows[_i].why, why ? why : "accepted");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("url");
    TCase *tc = tcase_create("url");
    tcase_add_loop_test(tc, test_urls, 0, (int)ARRAY_LEN(rows));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
