/* Queue routes: metadata with counts, listing, configuration, peeking at
 * messages without delivering them, purge and delete. */
#include <stdio.h>
#include <string.h>

#include "db/queues.h"
#include "routes/routes.h"
#include "src/core/json.h"
#include "src/core/text.h"
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

void queue_meta_json(struct text *t, const struct queue_meta *m)
{
    render_string(t, "{\"queue\":", m->queue);
    render_int(t, ",\"pending\":", m->pending);
    render_int(t, ",\"in_flight\":", m->in_flight);
    render_int(t, ",\"delayed\":", m->delayed);
    render_int(t, ",\"dead_letters\":", m->dead_letters);
    /* Seconds with exactly three decimals, as PostgreSQL prints numeric(x, 3);
     * 0 when nothing is pending. */
    text_cstr(t, ",\"oldest_pending_age_seconds\":");
    if (m->oldest_pending_age_ms.is_null) {
        text_cstr(t, "0");
    } else {
        int64_t ms = m->oldest_pending_age_ms.value, abs_ms = ms < 0 ? -ms : ms;
        text_printf(t, "%s%lld.%03lld", ms < 0 ? "-" : "", (long long)(abs_ms / 1000), (long long)(abs_ms % 1000));
    }
    render_int(t, ",\"config\":{\"visibility_timeout\":", m->visibility_timeout);
    render_int(t, ",\"max_delivery_attempts\":", m->max_delivery_attempts);
    render_int(t, ",\"retention_seconds\":", m->retention_seconds);
    render_int_or_null(t, ",\"max_depth\":", m->max_depth);
    render_int(t, "},\"retention\":{\"retention_seconds\":", m->retention_seconds);
    render_int_or_null(t, ",\"dead_letter_retention_seconds\":", m->dead_letter_retention_seconds);
    render_time_or_null(t, ",\"expired_through\":", m->expired_through_us);
    render_time_or_null(t, ",\"expired_at\":", m->expired_at_us);
    render_time_or_null(t, ",\"dead_letters_deleted_through\":", m->dead_letters_deleted_through_us);
    render_time_or_null(t, ",\"dead_letters_deleted_at\":", m->dead_letters_deleted_at_us);
    text_cstr(t, "}}");
}

void peeked_message_json(struct text *t, const struct peeked_message *m)
{
    render_string(t, "{\"id\":", m->id);
    render_string(t, ",\"type\":", m->type);
    render_time(t, ",\"enqueued_at\":", m->enqueued_us);
    render_time(t, ",\"visible_at\":", m->visible_us);
    render_int(t, ",\"delivery_count\":", m->delivery_count);
    render_string(t, ",\"consumer\":", m->consumer);
    render_time_or_null(t, ",\"visible_until\":", m->visible_until_us);
    text_cstr(t, "}");
}

/* Dead letters are kept for the service's --dead-letter-retention (0: kept). */
static void dead_letter_retention(struct request *req, struct queue_meta *m)
{
    int64_t keep = req->svc->cfg->dead_letter_retention;
    m->dead_letter_retention_seconds = (struct db_nullable){keep <= 0, keep};
}

static void reply_meta(struct request *req, struct queue_meta *meta)
{
    struct text t = {0};
    dead_letter_retention(req, meta);
    queue_meta_json(&t, meta);
    http_reply_json_text(req, 200, &t);
}

void route_queues_get(struct request *req)
{
    const char *queue;
    struct queue_meta meta;
    struct queue_defaults defaults = defaults_of(req);
    if (!path_name_or_reply(req, "queue", &queue))
        return;
    enum store_outcome outcome = db_queues_meta(req->svc->pool, queue, &defaults, &meta);
    if (outcome == STORE_OK)
        reply_meta(req, &meta);
    else
        reply_failure(req, outcome, queue);
}

void route_queues_list(struct request *req)
{
    const char *prefix, *after;
    int64_t limit;
    struct queue_list list;
    struct queue_defaults defaults = defaults_of(req);
    if (!route_list_query_or_reply(req, &prefix, &after, &limit))
        return;
    enum store_outcome outcome = db_queues_list(req->svc->pool, prefix, after, limit, &defaults, &list);
    if (outcome != STORE_OK) {
        reply_failure(req, outcome, "");
        return;
    }
    struct text t = {0};
    text_cstr(&t, "{\"queues\":[");
    for (int i = 0; i < list.count; i++) {
        text_cstr(&t, i > 0 ? "," : "");
        dead_letter_retention(req, &list.items[i]);
        queue_meta_json(&t, &list.items[i]);
    }
    render_page_end(&t, list.next_after);
    http_reply_json_text(req, 200, &t);
    db_queues_list_free(&list);
}

void route_queues_put(struct request *req)
{
    const char *queue;
    cJSON *body = NULL;
    struct queue_config in;
    struct queue_meta meta;
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
        reply_meta(req, &meta);
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
    json_add_int(root, "purged", purged);
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
    struct db_seq_page page;
    if (!path_name_or_reply(req, "queue", &queue) || !query_string_or_reply(req, "state", &state) ||
        !route_cursor_or_reply(req, &after) ||
        !query_int_or_reply(req, "limit", 1, PAGE_LIMIT_MAX, PAGE_LIMIT_DEFAULT, &limit))
        return;
    if (state && strcmp(state, "pending") != 0 && strcmp(state, "in_flight") != 0 && strcmp(state, "delayed") != 0) {
        problem_reply(req, 400, "invalid_parameter", "state must be pending, in_flight or delayed");
        return;
    }
    enum store_outcome outcome = db_queues_peek(req->svc->pool, queue, state, after, limit, &page);
    if (outcome != STORE_OK) {
        reply_failure(req, outcome, queue);
        return;
    }
    struct text t = {0};
    text_cstr(&t, "{\"messages\":[");
    for (int i = 0; i < page.count; i++) {
        struct peeked_message m;
        db_queues_peeked(&page, i, &m);
        text_cstr(&t, i > 0 ? "," : "");
        peeked_message_json(&t, &m);
    }
    render_page_end(&t, page.next_after);
    http_reply_json_text(req, 200, &t);
    db_rows_free(page.rows);
}
