/* Bearer tokens (src/http/auth.c, API.md "Operations"): with a tokens file,
 * every route but /healthz, /readyz and the console's files needs a token
 * whose scope covers it and whose name prefix covers the names in its path;
 * 401 and 403 change nothing; lists and the global read show only what the token reaches; SIGHUP re-reads
 * the file (a file that no longer parses keeps the old set); the log names
 * tokens by label and never shows one. Hashes: `printf '<token>' | sha256sum`. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define ADMIN "admin-token-0123456789"
#define WRITE "write-token-0123456789"
#define READ "read-token-0123456789"
#define TEAM_A "team-a-token-0123456789"
#define REVOKED "revoke-token-0123456789"

static const char tokens_file_text[] =
    "# streamq tokens for test_auth\n"
    "admin ca8d40e6ce4716b552f1c69863335b502f2afb57ffae171d6675fd56d91ca5b2 ops\n"
    "write cd788a93460f136411bad19df0614d09a4bdb5f6bf66e400d6ea03c9cb0b501e ci\n"
    "read d354526d2b69d5dec36caef20814c68e90bf9a093c3cce5d33b59e8d01e41652\n"
    "admin b57e9c993752314dd17c65579c5aa5bcd37845cc87373a6a239e08c864b4047e team-a prefix=team-a-\n"
    "admin 01dfba344a7e2cc790f00c070b90b4fc66f2d2f0b4501278e5a45c800ea21a27 leaving\n";

static char tokens_path[64];

static void write_tokens(const char *text)
{
    char tmp[80];
    snprintf(tmp, sizeof tmp, "%s.new", tokens_path);
    FILE *f = fopen(tmp, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(rename(tmp, tokens_path), 0);
}

/* `token` NULL: no Authorization header; else "Bearer <token>" unless it
 * already names a scheme. */
static struct response *call(const char *token, const char *method, const char *path, const char *body)
{
    char header[128];
    const char *headers[] = {header, NULL};
    if (token)
        snprintf(header, sizeof header, "Authorization: %s%s", strchr(token, ' ') ? "" : "Bearer ", token);
    return http(&svc, method, path, body, token ? headers : NULL);
}

static long status_of(const char *token, const char *method, const char *path, const char *body)
{
    struct response *r = call(token, method, path, body);
    long status = r->status;
    response_free(r);
    return status;
}

static void expect_problem(struct response *r, long status, const char *code)
{
    ck_assert_msg(r->status == status, "status %ld, want %ld: %s", r->status, status, r->body);
    ck_assert_str_eq(response_code(r), code);
    char buf[128];
    if (status == 401) {
        ck_assert_ptr_nonnull(response_header(r, "WWW-Authenticate", buf, sizeof buf));
        ck_assert_str_eq(buf, "Bearer realm=\"streamq\"");
    }
    response_free(r);
}

static const char *append_body = "{\"events\":[{\"type\":\"A\",\"data\":1}]}";

START_TEST(health_and_readiness_stay_open)
{
    ck_assert_int_eq(status_of(NULL, "GET", "/healthz", NULL), 200);
    ck_assert_int_eq(status_of(NULL, "GET", "/readyz", NULL), 200);
    ck_assert_int_eq(status_of("nonsense", "GET", "/healthz", NULL), 200);
    /* The console's page and files carry no data; its API calls need the token. */
    ck_assert_int_eq(status_of(NULL, "GET", "/console", NULL), 200);
    ck_assert_int_eq(status_of(NULL, "GET", "/console/app.js", NULL), 200);
}
END_TEST

START_TEST(missing_malformed_and_unknown_tokens_get_401_and_change_nothing)
{
    const char *stream = unique_name("auth");
    char path[160];
    snprintf(path, sizeof path, "/streams/%s/events", stream);
    expect_problem(call(NULL, "POST", path, append_body), 401, "unauthorized");
    expect_problem(call("Basic YWRtaW46YWRtaW4=", "POST", path, append_body), 401, "unauthorized");
    expect_problem(call("Bearer ", "POST", path, append_body), 401, "unauthorized");
    expect_problem(call("wrong-token-0123456789", "POST", path, append_body), 401, "unauthorized");
    expect_problem(call(ADMIN "x", "POST", path, append_body), 401, "unauthorized");
    expect_problem(call(NULL, "GET", "/streams", NULL), 401, "unauthorized");
    expect_problem(call(NULL, "GET", "/version", NULL), 401, "unauthorized");
    expect_problem(call(NULL, "POST", "/queues/q-auth/messages", "{\"messages\":[{\"type\":\"T\",\"data\":1}]}"), 401,
                   "unauthorized");
    snprintf(path, sizeof path, "/streams/%s", stream);
    ck_assert_int_eq(status_of(ADMIN, "GET", path, NULL), 404);
    ck_assert_int_eq(status_of(ADMIN, "GET", "/queues/q-auth", NULL), 404);
}
END_TEST

START_TEST(each_scope_covers_its_calls_and_no_more)
{
    const char *stream = unique_name("auth");
    char events[160], meta[160], archive[160];
    snprintf(events, sizeof events, "/streams/%s/events", stream);
    snprintf(meta, sizeof meta, "/streams/%s", stream);
    snprintf(archive, sizeof archive, "/streams/%s/archive", stream);

    /* read: GETs only. */
    expect_problem(call(READ, "POST", events, append_body), 403, "forbidden");
    ck_assert_int_eq(status_of(ADMIN, "GET", meta, NULL), 404);
    /* write: appends, but not deletes or archiving. */
    ck_assert_int_eq(status_of(WRITE, "POST", events, append_body), 201);
    ck_assert_int_eq(status_of(READ, "GET", events, NULL), 200);
    ck_assert_int_eq(status_of(READ, "GET", meta, NULL), 200);
    expect_problem(call(WRITE, "DELETE", meta, NULL), 403, "forbidden");
    expect_problem(call(WRITE, "POST", archive, NULL), 403, "forbidden");
    ck_assert_int_eq(status_of(READ, "GET", meta, NULL), 200);
    /* Queues: read cannot enqueue, write cannot configure or purge. */
    const char *queue = unique_name("authq");
    char q[160], msgs[160], purge[160];
    snprintf(q, sizeof q, "/queues/%s", queue);
    snprintf(msgs, sizeof msgs, "/queues/%s/messages", queue);
    snprintf(purge, sizeof purge, "/queues/%s/purge", queue);
    const char *msg = "{\"messages\":[{\"type\":\"T\",\"data\":1}]}";
    expect_problem(call(READ, "POST", msgs, msg), 403, "forbidden");
    ck_assert_int_eq(status_of(READ, "GET", q, NULL), 404);
    ck_assert_int_eq(status_of(WRITE, "POST", msgs, msg), 201);
    expect_problem(call(WRITE, "PUT", q, "{\"visibility_timeout\":5}"), 403, "forbidden");
    expect_problem(call(WRITE, "POST", purge, NULL), 403, "forbidden");
    struct response *r = call(READ, "GET", q, NULL);
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(response_int(r, "pending"), 1);
    response_free(r);
    expect_problem(call(WRITE, "PUT", "/webhooks/auth-hook", "{\"url\":\"http://127.0.0.1:9/\",\"stream\":\"s\"}"), 403,
                   "forbidden");
    /* admin: everything. */
    ck_assert_int_eq(status_of(ADMIN, "POST", purge, NULL), 200);
    ck_assert_int_eq(status_of(ADMIN, "DELETE", meta, NULL), 204);
    ck_assert_int_eq(status_of(READ, "GET", meta, NULL), 404);
}
END_TEST

START_TEST(a_prefix_token_reaches_only_its_names)
{
    char mine[96], theirs[96], path[200];
    snprintf(mine, sizeof mine, "team-a-%s", unique_name("s"));
    snprintf(theirs, sizeof theirs, "team-b-%s", unique_name("s"));
    snprintf(path, sizeof path, "/streams/%s/events", mine);
    ck_assert_int_eq(status_of(TEAM_A, "POST", path, append_body), 201);
    snprintf(path, sizeof path, "/streams/%s/events", theirs);
    expect_problem(call(TEAM_A, "POST", path, append_body), 403, "forbidden");
    expect_problem(call(TEAM_A, "GET", path, NULL), 403, "forbidden");
    ck_assert_int_eq(status_of(ADMIN, "GET", path, NULL), 404); /* nothing was written */
    ck_assert_int_eq(status_of(ADMIN, "POST", path, append_body), 201);
    snprintf(path, sizeof path, "/queues/%s/messages", theirs);
    expect_problem(call(TEAM_A, "POST", path, "{\"messages\":[{\"type\":\"T\",\"data\":1}]}"), 403, "forbidden");

    /* Lists and the global read show only team-a's names. */
    struct response *r = call(TEAM_A, "GET", "/streams?limit=1000", NULL);
    ck_assert_int_eq(r->status, 200);
    const cJSON *s;
    int seen_mine = 0;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(r->json, "streams")) {
        const char *name = cJSON_GetObjectItem(s, "stream")->valuestring;
        ck_assert_msg(!strncmp(name, "team-a-", 7), "listed %s", name);
        seen_mine += !strcmp(name, mine);
    }
    ck_assert_int_eq(seen_mine, 1);
    response_free(r);
    r = call(TEAM_A, "GET", "/streams?prefix=team-b-", NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r->json, "streams")), 0);
    response_free(r);
    r = call(TEAM_A, "GET", "/events?limit=1000", NULL);
    ck_assert_int_eq(r->status, 200);
    const cJSON *ev;
    cJSON_ArrayForEach(ev, cJSON_GetObjectItem(r->json, "events")) {
        const char *name = cJSON_GetObjectItem(ev, "stream")->valuestring;
        ck_assert_msg(!strncmp(name, "team-a-", 7), "global read showed %s", name);
    }
    response_free(r);

    /* A webhook of its own may follow only its own streams. */
    char hook[120], body[300];
    snprintf(hook, sizeof hook, "/webhooks/team-a-%s", unique_name("h"));
    snprintf(body, sizeof body, "{\"url\":\"http://127.0.0.1:9/\",\"stream\":\"%s\"}", theirs);
    expect_problem(call(TEAM_A, "PUT", hook, body), 403, "forbidden");
    expect_problem(call(TEAM_A, "PUT", hook, "{\"url\":\"http://127.0.0.1:9/\",\"stream_prefix\":\"\"}"), 403,
                   "forbidden");
    ck_assert_int_eq(status_of(ADMIN, "GET", hook, NULL), 404);
    snprintf(body, sizeof body, "{\"url\":\"http://127.0.0.1:9/\",\"stream\":\"%s\"}", mine);
    ck_assert_int_eq(status_of(TEAM_A, "PUT", hook, body), 201);
    expect_problem(call(TEAM_A, "DELETE", "/webhooks/elsewhere", NULL), 403, "forbidden");
}
END_TEST

/* POST /transactions needs write, and a prefix token must reach the name of
 * every operation: the first it does not reach is named, and nothing runs. */
START_TEST(a_transaction_needs_write_and_every_name_in_the_prefix)
{
    char mine[96], theirs[96], body[1024];
    snprintf(mine, sizeof mine, "team-a-%s", unique_name("s"));
    snprintf(theirs, sizeof theirs, "team-b-%s", unique_name("q"));
    snprintf(body, sizeof body,
             "{\"operations\":[{\"op\":\"append\",\"stream\":\"%s\",\"events\":[{\"type\":\"A\",\"data\":1}]},"
             "{\"op\":\"enqueue\",\"queue\":\"%s\",\"messages\":[{\"type\":\"M\",\"data\":1}]}]}",
             mine, theirs);
    expect_problem(call(READ, "POST", "/transactions", body), 403, "forbidden");
    struct response *r = call(TEAM_A, "POST", "/transactions", body);
    ck_assert_int_eq(r->status, 403);
    ck_assert_str_eq(response_code(r), "forbidden");
    ck_assert_int_eq(response_int(r, "operation"), 1);
    response_free(r);
    char path[200];
    snprintf(path, sizeof path, "/streams/%s", mine);
    ck_assert_int_eq(status_of(ADMIN, "GET", path, NULL), 404); /* the first operation did not run */
    snprintf(body, sizeof body,
             "{\"operations\":[{\"op\":\"commit_offset\",\"stream\":\"%s\",\"group\":\"g\",\"offset\":0}]}", theirs);
    r = call(TEAM_A, "POST", "/transactions", body);
    ck_assert_int_eq(r->status, 403);
    ck_assert_int_eq(response_int(r, "operation"), 0);
    response_free(r);
    snprintf(body, sizeof body,
             "{\"operations\":[{\"op\":\"append\",\"stream\":\"%s\",\"events\":[{\"type\":\"A\",\"data\":1}]}]}", mine);
    ck_assert_int_eq(status_of(TEAM_A, "POST", "/transactions", body), 200);
    ck_assert_int_eq(status_of(WRITE, "POST", "/transactions", body), 200);
}
END_TEST

static long status_after_reload(const char *token, long want)
{
    long status = 0;
    for (int i = 0; i < 100 && status != want; i++) {
        usleep(20 * 1000);
        status = status_of(token, "GET", "/streams", NULL);
    }
    return status;
}

START_TEST(sighup_revokes_and_a_broken_file_keeps_the_old_set)
{
    ck_assert_int_eq(status_of(REVOKED, "GET", "/streams", NULL), 200);
    /* Broken: the old set stays, the revoked token still works, the log says why. */
    write_tokens("admin nothex\n");
    kill(svc.pid, SIGHUP);
    for (int i = 0; i < 100 && !svc_log_contains(&svc, "keeping the 5 tokens"); i++)
        usleep(20 * 1000);
    ck_assert(svc_log_contains(&svc, "keeping the 5 tokens"));
    ck_assert_int_eq(status_of(REVOKED, "GET", "/streams", NULL), 200);

    /* Without its line, the token is refused from the reload on. */
    char without[sizeof tokens_file_text];
    snprintf(without, sizeof without, "%s", tokens_file_text);
    *strstr(without, "admin 01dfba") = '\0';
    write_tokens(without);
    kill(svc.pid, SIGHUP);
    ck_assert_int_eq(status_after_reload(REVOKED, 401), 401);
    ck_assert_int_eq(status_of(ADMIN, "GET", "/streams", NULL), 200);
    write_tokens(tokens_file_text);
    kill(svc.pid, SIGHUP);
    ck_assert_int_eq(status_after_reload(REVOKED, 200), 200);
}
END_TEST

START_TEST(the_log_names_labels_and_never_a_token)
{
    ck_assert_int_eq(status_of(WRITE, "GET", "/version", NULL), 200);
    ck_assert_int_eq(status_of(READ, "GET", "/version", NULL), 200);
    ck_assert_int_eq(status_of("Bearer " ADMIN "-wrong", "GET", "/version", NULL), 401);
    /* Access lines are written at least every 100 ms. */
    for (int i = 0; i < 100 && !svc_log_contains(&svc, "token=ci"); i++)
        usleep(20 * 1000);
    ck_assert(svc_log_contains(&svc, "token=ci"));
    ck_assert(svc_log_contains(&svc, "token=sha256:d354526d")); /* the read token has no label */
    const char *secrets[] = {ADMIN, WRITE, READ, TEAM_A, REVOKED};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        ck_assert_msg(!svc_log_contains(&svc, secrets[i]), "the log shows %s", secrets[i]);
}
END_TEST

static Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("auth");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, health_and_readiness_stay_open);
    tcase_add_test(tc, missing_malformed_and_unknown_tokens_get_401_and_change_nothing);
    tcase_add_test(tc, each_scope_covers_its_calls_and_no_more);
    tcase_add_test(tc, a_prefix_token_reaches_only_its_names);
    tcase_add_test(tc, a_transaction_needs_write_and_every_name_in_the_prefix);
    tcase_add_test(tc, sighup_revokes_and_a_broken_file_keeps_the_old_set);
    tcase_add_test(tc, the_log_names_labels_and_never_a_token);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    snprintf(tokens_path, sizeof tokens_path, "/tmp/streamq-tokens.%d", (int)getpid());
    FILE *f = fopen(tokens_path, "w");
    if (!f)
        return 1;
    fputs(tokens_file_text, f);
    fclose(f);
    const char *args[] = {"--tokens-file", tokens_path, NULL};
    int status = harness_main(auth_suite(), args);
    unlink(tokens_path);
    return status;
}
