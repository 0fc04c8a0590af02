/* Appending events: optimistic concurrency from the body or the HTTP
 * preconditions, validation of every event, then the append is handed to the
 * group commit (db/append_group.h) and the request waits suspended. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/append_group.h"
#include "db/events.h"
#include "routes/operations.h"
#include "routes/routes.h"
#include "src/core/json.h"
#include "src/core/text.h"
#include "src/http/input.h"
#include "src/http/problem.h"

#define POSITION_MAX 9007199254740991LL /* 2^53 - 1 */

/* Reads body.expected_version into `text`; false after replying 400. */
static bool body_expectation_or_reply(struct request *req, const cJSON *body, char *text, size_t size, char *shown,
                                      bool *given)
{
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(body, "expected_version");
    *given = ev && !cJSON_IsNull(ev);
    snprintf(text, size, "any");
    if (!*given)
        return true;
    if (cJSON_IsString(ev) && (!strcmp(ev->valuestring, "any") || !strcmp(ev->valuestring, "no_stream") ||
                               !strcmp(ev->valuestring, "exists"))) {
        snprintf(text, size, "%s", ev->valuestring);
        snprintf(shown, size, "%s", ev->valuestring);
        return true;
    }
    if (json_is_int(ev, -1, POSITION_MAX)) {
        /* -1 is the version of a stream with no events: the same as "no_stream". */
        snprintf(shown, size, "%lld", (long long)ev->valuedouble);
        snprintf(text, size, "%s", ev->valuedouble < 0 ? "no_stream" : shown);
        return true;
    }
    problem_reply(req, 400, "invalid_request",
                  "expected_version must be \"any\", \"no_stream\", \"exists\" or an integer >= -1");
    return false;
}

/* If-Match: "N" and If-None-Match: * as expectations; false after replying 400. */
static bool header_expectation_or_reply(struct request *req, char *text, size_t size, char *shown, bool *given)
{
    const char *match = http_header(req, "If-Match");
    const char *none_match = http_header(req, "If-None-Match");
    *given = match || none_match;
    if (match && none_match) {
        problem_reply(req, 400, "invalid_request", "send If-Match or If-None-Match, not both");
        return false;
    }
    if (none_match) {
        if (strcmp(none_match, "*") != 0) {
            problem_reply(req, 400, "invalid_request", "If-None-Match on an append must be *");
            return false;
        }
        snprintf(text, size, "no_stream");
        snprintf(shown, size, "no_stream");
        return true;
    }
    if (match) {
        size_t len = strlen(match);
        char digits[32];
        int64_t v;
        if (len < 3 || len > 22 || match[0] != '"' || match[len - 1] != '"')
            goto bad;
        snprintf(digits, sizeof digits, "%.*s", (int)(len - 2), match + 1);
        if (!parse_int64(digits, -1, POSITION_MAX, &v) || (digits[0] == '0' && digits[1]) || !strncmp(digits, "-0", 2))
            goto bad;
        snprintf(shown, size, "%lld", (long long)v);
        snprintf(text, size, "%s", v < 0 ? "no_stream" : shown);
        return true;
    bad:
        problem_reply(req, 400, "invalid_request", "If-Match must be a stream version in quotes, e.g. \"41\"");
        return false;
    }
    return true;
}

static bool expectation_or_reply(struct request *req, const cJSON *body, struct append_expectation *exp)
{
    char from_body[32], from_header[32], body_shown[32] = "any", header_shown[32] = "";
    bool body_given, header_given;
    if (!body_expectation_or_reply(req, body, from_body, sizeof from_body, body_shown, &body_given) ||
        !header_expectation_or_reply(req, from_header, sizeof from_header, header_shown, &header_given))
        return false;
    if (body_given && header_given && strcmp(from_body, from_header) != 0) {
        problem_reply(req, 400, "invalid_request", "the precondition header (%s) and expected_version (%s) disagree",
                      from_header, from_body);
        return false;
    }
    exp->from_header = header_given;
    snprintf(exp->text, sizeof exp->text, "%s", header_given ? from_header : from_body);
    snprintf(exp->shown, sizeof exp->shown, "%s", header_given ? header_shown : body_shown);
    return true;
}

/* Checks every event; `*check_ids` tells whether the client supplied any id.
 * False after replying 400. */
static bool events_or_reply(struct request *req, const cJSON *events, bool *check_ids)
{
    int64_t max = req->svc->cfg->max_batch;
    int n = cJSON_IsArray(events) ? cJSON_GetArraySize(events) : 0;
    const char **ids = NULL;
    int nids = 0;
    bool ok = false;

    if (n < 1 || n > max) {
        problem_reply(req, 400, "invalid_request", "events must be an array of 1-%lld events", (long long)max);
        return false;
    }
    ids = xcalloc((size_t)n, sizeof *ids);
    int i = 0;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, events) {
        const char *id;
        if (!batch_item_or_reply(req, ev, "events", i++, &id))
            goto out;
        if (id)
            ids[nids++] = id;
    }
    if (ids_repeat(ids, nids)) {
        problem_reply(req, 400, "invalid_request", "an event id appears twice in the batch");
        goto out;
    }
    *check_ids = nids > 0;
    ok = true;
out:
    free(ids);
    return ok;
}

bool append_body_or_reply(struct request *req, const cJSON *body, bool headers, struct append_expectation *exp,
                          bool *check_ids, int *events)
{
    bool given;
    if (headers) {
        if (!expectation_or_reply(req, body, exp))
            return false;
    } else {
        snprintf(exp->shown, sizeof exp->shown, "any");
        exp->from_header = false;
        if (!body_expectation_or_reply(req, body, exp->text, sizeof exp->text, exp->shown, &given))
            return false;
    }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, "events");
    if (!events_or_reply(req, list, check_ids))
        return false;
    *events = cJSON_GetArraySize(list);
    return true;
}

void append_result_json(struct text *t, const char *stream, const struct append_result *res)
{
    const struct appended_event *first = &res->events[0], *last = &res->events[res->count - 1];
    /* "events" first: the order the API has always written. */
    text_cstr(t, "{\"events\":[");
    for (int i = 0; i < res->count; i++) {
        render_string(t, i > 0 ? ",{\"id\":" : "{\"id\":", res->events[i].id);
        render_int(t, ",\"offset\":", res->events[i].offset);
        render_int(t, ",\"global_position\":", res->events[i].position);
        text_cstr(t, "}");
    }
    render_string(t, "],\"stream\":", stream);
    render_int(t, ",\"first_offset\":", first->offset);
    render_int(t, ",\"last_offset\":", last->offset);
    render_int(t, ",\"version\":", last->offset);
    text_cstr(t, "}");
}

/* Answers a written (201) or retried (200) append. */
static void reply_appended(struct request *req, unsigned status, const char *stream, const struct append_result *res)
{
    struct text t = {0};
    append_result_json(&t, stream, res);
    http_reply_json_text(req, status, &t);
}

static void reply_version_conflict(struct request *req, const struct append_expectation *exp, int64_t current)
{
    cJSON *extra = cJSON_CreateObject();
    int64_t n;
    if (parse_int64(exp->shown, -1, POSITION_MAX, &n))
        json_add_int(extra, "expected_version", n);
    else
        cJSON_AddStringToObject(extra, "expected_version", exp->shown);
    json_add_int(extra, "current_version", current);
    problem_reply_extra(req, exp->from_header ? 412 : 409, "version_conflict", extra,
                        "expected version %s but the stream is at %lld", exp->shown, (long long)current);
}

/* An append between its hand-off to the group commit's writers and its answer;
 * the request's route state while it is suspended. */
struct pending_append {
    struct append_expectation exp;
    struct append_input in;
    struct append_job job;
};

static void pending_append_free(void *state)
{
    struct pending_append *p = state;
    db_events_append_result_free(&p->job.out);
    free(p);
}

void append_reply_failure(struct request *req, const char *stream, const struct append_expectation *exp,
                          const struct append_job *job)
{
    switch (job->base.outcome) {
    case STORE_VERSION_CONFLICT:
        reply_version_conflict(req, exp, job->out.current_version);
        break;
    case STORE_DUPLICATE:
        problem_reply(req, 409, "duplicate_event_id",
                      "an event id of the batch already exists and this is not a retry of that append");
        break;
    case STORE_ARCHIVED:
        problem_reply(req, 409, "stream_archived", "stream %s is archived and read-only", stream);
        break;
    case STORE_INVALID:
        problem_reply(req, 400, "invalid_request", "PostgreSQL refused the event data (e.g. \\u0000 in a string)");
        break;
    default:
        route_reply_store_failure(req, job->base.outcome);
        break;
    }
}

static void reply_append_outcome(struct request *req, struct pending_append *p)
{
    if (p->job.base.outcome == STORE_CREATED || p->job.base.outcome == STORE_OK)
        reply_appended(req, p->job.base.outcome == STORE_CREATED ? 201 : 200, p->in.stream, &p->job.out);
    else
        append_reply_failure(req, p->in.stream, &p->exp, &p->job);
}

/* Validates, then hands the append to the group commit and suspends the request:
 * it holds no HTTP thread while it waits, so every client appending at once can
 * join the same group. The handler runs again once the append was written. */
void route_events_append(struct request *req)
{
    if (req->route_state) {
        reply_append_outcome(req, req->route_state);
        return;
    }
    const char *stream;
    cJSON *body = NULL;
    struct append_expectation exp;
    bool check_ids = false;
    int events;

    if (!path_name_or_reply(req, "stream", &stream) || !json_body_object_or_reply(req, false, &body) ||
        !append_body_or_reply(req, body, true, &exp, &check_ids, &events)) {
        cJSON_Delete(body);
        return;
    }
    cJSON_Delete(body);
    struct pending_append *p = xcalloc(1, sizeof *p);
    p->exp = exp;
    /* PostgreSQL takes the events from the body as sent: re-printing them through
     * cJSON's doubles would round numbers that jsonb keeps exact. */
    p->in = (struct append_input){stream, p->exp.text, req->body, check_ids, events};
    p->job.in = &p->in;
    db_append_prepare(&p->job);
    route_submit(req, req->svc->appends, &p->job.base, p, pending_append_free);
}
