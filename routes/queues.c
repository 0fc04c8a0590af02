/* Queue routes: metadata with counts, listing, configuration, peeking at
 * messages without delivering them, purge and delete. */
#include <stdio.h>
#include <string.h>

#include "db/queues.h"
#include "routes/routes.h"
#include "src/core/json.h"
#include "src/http/input.h"
#include "src/http/problem.h"

#define PAGE_LIMIT_MAX 1000
#define PAGE_LIMIT_DEFAULT 100

static struct queue_defaults defaults_of(struct request *req)
{
    struct queue_defaults d = {req->svc->cfg->visibility_timeout, req->svc->cfg->max_delivery_attempts};
    return d;
}

static void reply_failure(struct request *req, enum store_outcome outcome, const char *queue)
{
    switch (outcome) {
    case STORE_NOT_FOUND:
        problem_reply(req, 404, "queue_not_found", "queue %s does not exist", queue);
        break;
    default:
        route_reply_store_failure(req, outcome);
        break;
    }
}

void route_queues_get(struct request *req)
{
    const char *queue;
    cJSON *meta = NULL;
    struct queue_defaults defaults = defaults_of(req);
    if (!path_name_or_reply(req, "queue", &queue))
        return;
    enum store_outcome outcome = db_queues_meta(req->svc->pool, queue, &defaults, &meta);
    if (outcome == STORE_OK)
        http_reply_json(req, 200, meta);
    else
        reply_failure(req, outcome, queue);
}

void route_queues_list(struct request *req)
{
    const char *prefix, *after;
    int64_t limit;
    cJSON *queues = NULL;
    char next_after[NAME_MAX_LEN + 1];
    struct queue_defaults defaults = defaults_of(req);
    if (!query_string_or_reply(req, "prefix", &prefix) || !query_string_or_reply(req, "after", &after) ||
        !query_int_or_reply(req, "limit", 1, PAGE_LIMIT_MAX, PAGE_LIMIT_DEFAULT, &limit))
        return;
    if ((prefix && strlen(prefix) > NAME_MAX_LEN) || (after && strlen(after) > NAME_MAX_LEN)) {
        problem_reply(req, 400, "invalid_parameter", "prefix and after are at most %d characters", NAME_MAX_LEN);
        return;
    }
    enum store_outcome outcome = db_queues_list(req->svc->pool, prefix, after, limit, &defaults, &queues, next_after);
    if (outcome == STORE_OK)
        http_reply_json(req, 200, route_page_json("queues", queues, next_after));
    else
        reply_failure(req, outcome, "");
}

void route_queues_put(struct request *req)
{
    const char *queue;
    cJSON *body = NULL, *meta = NULL;
    struct queue_config in;
    struct queue_defaults defaults = defaults_of(req);
    if (!path_name_or_reply(req, "queue", &queue) || !json_body_object_or_reply(req, false, &body) ||
        !body_nullable_int_or_reply(req, body, "visibility_timeout", 0, 43200, &in.has_visibility_timeout,
                                    &in.visibility_timeout) ||
        !body_nullable_int_or_reply(req, body, "max_delivery_attempts", 1, 1000, &in.has_max_delivery_attempts,
                                    &in.max_delivery_attempts) ||
        !body_nullable_int_or_reply(req, body, "retention_seconds", 60, 315360000, &in.has_retention_seconds,
                                    &in.retention_seconds) ||
        !body_nullable_int_or_reply(req, body, "max_depth", 1, INT64_C(9007199254740991), &in.has_max_depth,
                                    &in.max_depth))
        goto out;
    enum store_outcome outcome = db_queues_configure(req->svc->pool, queue, &in, &defaults, &meta);
    if (outcome == STORE_OK)
        http_reply_json(req, 200, meta);
    else
        reply_failure(req, outcome, queue);
out:
    cJSON_Delete(body);
}

void route_queues_purge(struct request *req)
{
    const char *queue;
    int64_t purged;
    if (!path_name_or_reply(req, "queue", &queue))
        return;
    enum store_outcome outcome = db_queues_purge(req->svc->pool, queue, &purged);
    if (outcome != STORE_OK) {
        reply_failure(req, outcome, queue);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    if (root && !json_add_int(root, "purged", purged)) {
        cJSON_Delete(root);
        root = NULL;
    }
    http_reply_json(req, 200, root);
}

void route_queues_delete(struct request *req)
{
    const char *queue;
    if (!path_name_or_reply(req, "queue", &queue))
        return;
    enum store_outcome outcome = db_queues_delete(req->svc->pool, queue);
    if (outcome == STORE_OK)
        http_reply_empty(req, 204);
    else
        reply_failure(req, outcome, queue);
}

void route_queues_peek(struct request *req)
{
    const char *queue, *state, *after;
    int64_t limit;
    cJSON *messages = NULL;
    char next_after[DB_CURSOR_LEN];
    if (!path_name_or_reply(req, "queue", &queue) || !query_string_or_reply(req, "state", &state) ||
        !route_cursor_or_reply(req, &after) ||
        !query_int_or_reply(req, "limit", 1, PAGE_LIMIT_MAX, PAGE_LIMIT_DEFAULT, &limit))
        return;
    if (state && strcmp(state, "pending") != 0 && strcmp(state, "in_flight") != 0 && strcmp(state, "delayed") != 0) {
        problem_reply(req, 400, "invalid_parameter", "state must be pending, in_flight or delayed");
        return;
    }
    enum store_outcome outcome = db_queues_peek(req->svc->pool, queue, state, after, limit, &messages, next_after);
    if (outcome == STORE_OK)
        http_reply_json(req, 200, route_page_json("messages", messages, next_after));
    else
        reply_failure(req, outcome, queue);
}
