/* Consumer group routes: commit, get, list and delete a group's checkpoint on a
 * stream (the next offset it reads), and the renderer of a group's JSON. */
#include <stdlib.h>

#include "db/consumers.h"
#include "routes/operations.h"
#include "routes/routes.h"
#include "src/core/json.h"
#include "src/core/text.h"
#include "src/http/input.h"
#include "src/http/problem.h"

void consumer_json(struct text *t, const char *stream, const struct consumer *c)
{
    render_string(t, "{\"stream\":", stream);
    render_string(t, ",\"group\":", c->group);
    render_int(t, ",\"offset\":", c->offset);
    render_int(t, ",\"lag\":", c->lag);
    render_time(t, ",\"updated_at\":", c->updated_us);
    text_put(t, "}", 1);
}

static void reply_consumer(struct request *req, const char *stream, const struct consumer *c)
{
    struct text t = {0};
    consumer_json(&t, stream, c);
    http_reply_json_text(req, 200, &t);
}

static void reply_not_found(struct request *req, bool stream_exists, const char *stream, const char *group)
{
    if (stream_exists)
        problem_reply(req, 404, "consumer_not_found", "stream %s has no consumer group %s", stream, group);
    else
        problem_reply(req, 404, "stream_not_found", "stream %s does not exist", stream);
}

static bool names_or_reply(struct request *req, const char **stream, const char **group)
{
    return path_name_or_reply(req, "stream", stream) && path_name_or_reply(req, "group", group);
}

bool consumer_commit_body_or_reply(struct request *req, const cJSON *body, int64_t *offset, bool *force)
{
    bool present;
    if (!body_int_or_reply(req, body, "offset", 0, INT64_C(9007199254740991), offset, &present) ||
        !body_bool_or_reply(req, body, "force", false, force))
        return false;
    if (!present) {
        problem_reply(req, 400, "invalid_request", "offset is required: the next offset the group will read");
        return false;
    }
    return true;
}

void consumer_commit_reply_failure(struct request *req, const char *stream, const char *group, int64_t offset,
                                   enum store_outcome outcome, enum consumer_commit_outcome result,
                                   const struct consumer *c, int64_t version)
{
    if (outcome != STORE_OK) {
        route_reply_store_failure(req, outcome);
        return;
    }
    switch (result) {
    case CONSUMER_COMMITTED:
        /* A success: never asked for. */
        problem_reply_internal(req);
        break;
    case CONSUMER_NO_STREAM:
        reply_not_found(req, false, stream, group);
        break;
    case CONSUMER_PAST_END: {
        cJSON *extra = cJSON_CreateObject();
        json_add_int(extra, "version", version);
        problem_reply_extra(req, 400, "invalid_request", extra,
                            "offset %lld is past the end of stream %s (version %lld: at most %lld)", (long long)offset,
                            stream, (long long)version, (long long)version + 1);
        break;
    }
    case CONSUMER_REGRESSION: {
        cJSON *extra = cJSON_CreateObject();
        json_add_int(extra, "current_offset", c->offset);
        problem_reply_extra(req, 409, "offset_regression", extra,
                            "group %s is at offset %lld; moving it back to %lld needs \"force\": true", group,
                            (long long)c->offset, (long long)offset);
        break;
    }
    }
}

void route_consumers_commit(struct request *req)
{
    const char *stream, *group;
    cJSON *body = NULL;
    int64_t offset, version;
    bool force;
    struct consumer c;
    enum consumer_commit_outcome result;
    if (!names_or_reply(req, &stream, &group) || !json_body_object_or_reply(req, false, &body) ||
        !consumer_commit_body_or_reply(req, body, &offset, &force))
        goto out;
    enum store_outcome outcome =
        db_consumers_commit(req->svc->pool, stream, group, offset, force, &result, &c, &version);
    if (outcome == STORE_OK && result == CONSUMER_COMMITTED)
        reply_consumer(req, stream, &c);
    else
        consumer_commit_reply_failure(req, stream, group, offset, outcome, result, &c, version);
out:
    cJSON_Delete(body);
}

void route_consumers_get(struct request *req)
{
    const char *stream, *group;
    struct consumer c;
    bool stream_exists;
    if (!names_or_reply(req, &stream, &group))
        return;
    enum store_outcome outcome = db_consumers_get(req->svc->pool, stream, group, &c, &stream_exists);
    if (outcome == STORE_OK)
        reply_consumer(req, stream, &c);
    else if (outcome == STORE_NOT_FOUND)
        reply_not_found(req, stream_exists, stream, group);
    else
        route_reply_store_failure(req, outcome);
}

void route_consumers_list(struct request *req)
{
    const char *stream;
    struct consumer *groups = NULL;
    int n;
    if (!path_name_or_reply(req, "stream", &stream))
        return;
    enum store_outcome outcome = db_consumers_list(req->svc->pool, stream, &groups, &n);
    if (outcome == STORE_OK) {
        struct text t = {0};
        text_cstr(&t, "{\"consumers\":[");
        for (int i = 0; i < n; i++) {
            text_cstr(&t, i > 0 ? "," : "");
            consumer_json(&t, stream, &groups[i]);
        }
        text_cstr(&t, "]}");
        http_reply_json_text(req, 200, &t);
    } else if (outcome == STORE_NOT_FOUND) {
        reply_not_found(req, false, stream, "");
    } else {
        route_reply_store_failure(req, outcome);
    }
    free(groups);
}

void route_consumers_delete(struct request *req)
{
    const char *stream, *group;
    bool stream_exists;
    if (!names_or_reply(req, &stream, &group))
        return;
    enum store_outcome outcome = db_consumers_delete(req->svc->pool, stream, group, &stream_exists);
    if (outcome == STORE_OK)
        http_reply_empty(req, 204);
    else if (outcome == STORE_NOT_FOUND)
        reply_not_found(req, stream_exists, stream, group);
    else
        route_reply_store_failure(req, outcome);
}
