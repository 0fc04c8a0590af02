/* What several route files share: the answer to a failed store call, the
 * parameters of list pages, and the renderers' helpers. */
#include <string.h>

#include "db/batcher.h"
#include "db/store.h"
#include "routes/routes.h"

#include "src/core/text.h"
#include "src/http/auth.h"
#include "src/http/input.h"
#include "src/http/problem.h"

void route_reply_store_failure(struct request *req, enum store_outcome outcome)
{
    if (outcome == STORE_UNAVAILABLE)
        problem_reply_unavailable(req);
    else
        problem_reply_internal(req);
}

bool route_list_query_or_reply(struct request *req, const char **prefix, const char **after, int64_t *limit)
{
    if (!query_string_or_reply(req, "prefix", prefix) || !query_string_or_reply(req, "after", after) ||
        !query_int_or_reply(req, "limit", 1, 1000, 100, limit))
        return false;
    if ((*prefix && strlen(*prefix) > NAME_MAX_LEN) || (*after && strlen(*after) > NAME_MAX_LEN)) {
        problem_reply(req, 400, "invalid_parameter", "prefix and after are at most %d characters", NAME_MAX_LEN);
        return false;
    }
    *prefix = route_visible_prefix(req, *prefix);
    return true;
}

const char *route_visible_prefix(const struct request *req, const char *asked)
{
    const char *mine = req->token ? req->token->prefix : "";
    if (!*mine)
        return asked;
    if (asked && !strncmp(asked, mine, strlen(mine)))
        return asked;
    if (!asked || !strncmp(mine, asked, strlen(asked)))
        return mine;
    return "/"; /* not a name character: nothing matches */
}

bool route_cursor_or_reply(struct request *req, const char **after)
{
    int64_t seq;
    if (!query_string_or_reply(req, "after", after))
        return false;
    if (*after && !parse_int64(*after, 0, INT64_MAX, &seq)) {
        problem_reply(req, 400, "invalid_parameter", "after must be a next_after value from an earlier page");
        return false;
    }
    return true;
}

bool route_etag_listed(const char *header, const char *etag)
{
    size_t elen = strlen(etag);
    for (const char *p = header; *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",");
        size_t end = n;
        while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t'))
            end--;
        const char *tag = p;
        if (end >= 2 && !strncmp(tag, "W/", 2)) {
            tag += 2;
            end -= 2;
        }
        if ((end == 1 && tag[0] == '*') || (end == elen && !strncmp(tag, etag, elen)))
            return true;
        p += n;
    }
    return false;
}

static void render_null(struct text *t, const char *before)
{
    text_cstr(t, before);
    text_cstr(t, "null");
}

void render_int(struct text *t, const char *before, int64_t v)
{
    text_cstr(t, before);
    text_int(t, v);
}

void render_bool(struct text *t, const char *before, bool v)
{
    text_cstr(t, before);
    text_cstr(t, v ? "true" : "false");
}

void render_string(struct text *t, const char *before, const char *s)
{
    if (!s) {
        render_null(t, before);
        return;
    }
    text_cstr(t, before);
    text_json_string(t, s);
}

void render_time(struct text *t, const char *before, int64_t us)
{
    text_cstr(t, before);
    text_json_time(t, us);
}

void render_json(struct text *t, const char *before, struct db_json v)
{
    if (!v.text) {
        render_null(t, before);
        return;
    }
    text_cstr(t, before);
    text_put(t, v.text, v.len);
}

void render_int_or_null(struct text *t, const char *before, struct db_nullable v)
{
    if (v.is_null)
        render_null(t, before);
    else
        render_int(t, before, v.value);
}

void render_time_or_null(struct text *t, const char *before, struct db_nullable us)
{
    if (us.is_null)
        render_null(t, before);
    else
        render_time(t, before, us.value);
}

void render_page_end(struct text *t, const char *next_after)
{
    render_string(t, "],\"next_after\":", next_after[0] ? next_after : NULL);
    text_cstr(t, "}");
}

bool route_wait_query_or_reply(struct request *req, int64_t *seconds)
{
    return query_int_or_reply(req, "wait", 0, ROUTE_WAIT_MAX, 0, seconds);
}

bool route_wait_begin(struct request *req, int64_t seconds, enum wait_kind kind, const char *key)
{
    if (seconds <= 0)
        return false;
    int64_t now = now_usec();
    if (req->wait_until_us == 0)
        req->wait_until_us = now + seconds * 1000000;
    /* Within a millisecond of the deadline, answering beats another round trip. */
    if (now >= req->wait_until_us - 1000 || http_wait_closing(req))
        return false;
    http_wait_watch(req, kind, key);
    return true;
}

enum db_recency route_wait_recency(const struct request *req, int64_t seconds)
{
    if (seconds <= 0)
        return DB_RECENT_ANY;
    return req->wait_until_us ? DB_RECENT_NOW : DB_RECENT_IF_EMPTY;
}

void route_wait_park(struct request *req, int64_t recheck_ms)
{
    int64_t until = req->wait_until_us;
    if (recheck_ms > 0 && now_usec() + recheck_ms * 1000 < until)
        until = now_usec() + recheck_ms * 1000;
    http_wait_park(req, until);
}

/* On a writer thread: the job's answer is ready, let the handler render it. */
static void job_done(struct batch_job *job)
{
    http_request_resume(job->arg);
}

void route_submit(struct request *req, struct batcher *b, struct batch_job *job, void *state,
                  void (*state_free)(void *))
{
    job->done = job_done;
    job->arg = req;
    if (req->route_state != state) {
        if (req->route_state_free)
            req->route_state_free(req->route_state);
        req->route_state = state;
        req->route_state_free = state_free;
    }
    /* Suspended first: the writer may finish, and resume it, at once. */
    http_request_suspend(req);
    batcher_submit(b, job);
}
