/* Message routes: enqueue, dequeue under a lease, and settling a delivery
 * (ack, batch ack, nack, visibility). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/messages.h"
#include "routes/routes.h"
#include "src/core/text.h"
#include "src/http/input.h"
#include "src/http/problem.h"

#define DELAY_MAX 43200
#define VISIBILITY_MAX 43200
#define RECEIPT_MAX_LEN 200
#define REASON_MAX_LEN 1000

static struct queue_defaults defaults_of(struct request *req)
{
    struct queue_defaults d = {req->svc->cfg->visibility_timeout, req->svc->cfg->max_delivery_attempts};
    return d;
}

static bool messages_or_reply(struct request *req, const cJSON *messages)
{
    int64_t max = req->svc->cfg->max_batch;
    int n = cJSON_IsArray(messages) ? cJSON_GetArraySize(messages) : 0;
    if (n < 1 || n > max) {
        problem_reply(req, 400, "invalid_request", "messages must be an array of 1-%lld messages", (long long)max);
        return false;
    }
    const char **ids = xcalloc((size_t)n, sizeof *ids);
    int nids = 0, i = 0;
    bool ok = false;
    const cJSON *m;
    cJSON_ArrayForEach(m, messages) {
        const char *id;
        int64_t delay;
        bool has_delay;
        if (!batch_item_or_reply(req, m, "messages", i, &id) ||
            !body_int_or_reply(req, m, "delay_seconds", 0, DELAY_MAX, &delay, &has_delay))
            goto out;
        if (id)
            ids[nids++] = id;
        i++;
    }
    if (ids_repeat(ids, nids)) {
        problem_reply(req, 400, "invalid_request", "a message id appears twice in the batch");
        goto out;
    }
    ok = true;
out:
    free(ids);
    return ok;
}

void enqueued_message_json(struct text *t, const struct enqueued_message *m)
{
    render_string(t, "{\"id\":", m->id);
    render_time_or_null(t, ",\"enqueued_at\":", m->enqueued_us);
    render_time_or_null(t, ",\"visible_at\":", m->visible_us);
    render_bool(t, ",\"duplicate\":", m->duplicate);
    text_cstr(t, "}");
}

void dequeued_message_json(struct text *t, const struct dequeued_message *m)
{
    render_string(t, "{\"id\":", m->id);
    render_string(t, ",\"type\":", m->type);
    render_json(t, ",\"data\":", m->data);
    render_json(t, ",\"metadata\":", m->metadata);
    render_time(t, ",\"enqueued_at\":", m->enqueued_us);
    render_int(t, ",\"delivery_count\":", m->delivery_count);
    render_string(t, ",\"receipt\":", m->receipt);
    render_time(t, ",\"visible_until\":", m->visible_until_us);
    text_cstr(t, "}");
}

/* The problem code of a settle call that did not go through (STORE_NOT_FOUND or
 * STORE_STALE), alone or in a batch. */
static const char *settle_failure_code(enum store_outcome outcome)
{
    return outcome == STORE_STALE ? "stale_receipt" : "message_not_found";
}

void ack_results_json(struct text *t, const struct ack_result *items, int count)
{
    int n = 0;
    text_cstr(t, "{\"acked\":[");
    for (int i = 0; i < count; i++)
        if (items[i].outcome == STORE_OK)
            render_string(t, n++ > 0 ? "," : "", items[i].id);
    text_cstr(t, "],\"failed\":[");
    n = 0;
    for (int i = 0; i < count; i++) {
        if (items[i].outcome == STORE_OK)
            continue;
        render_string(t, n++ > 0 ? ",{\"id\":" : "{\"id\":", items[i].id);
        render_string(t, ",\"code\":", settle_failure_code(items[i].outcome));
        text_cstr(t, "}");
    }
    text_cstr(t, "]}");
}

void route_messages_enqueue(struct request *req)
{
    const char *queue;
    cJSON *body = NULL;
    struct db_list list = {0};
    if (!path_name_or_reply(req, "queue", &queue) || !json_body_object_or_reply(req, false, &body) ||
        !messages_or_reply(req, cJSON_GetObjectItemCaseSensitive(body, "messages")))
        goto out;
    /* PostgreSQL takes the messages from the body as sent, so data stays exact. */
    enum store_outcome outcome = db_messages_enqueue(req->svc->pool, queue, req->body, &list);
    switch (outcome) {
    case STORE_CREATED: {
        struct text t = {0};
        render_string(&t, "{\"queue\":", queue);
        text_cstr(&t, ",\"messages\":[");
        for (int i = 0; i < list.count; i++) {
            struct enqueued_message m;
            db_messages_enqueued(&list, i, &m);
            text_cstr(&t, i > 0 ? "," : "");
            enqueued_message_json(&t, &m);
        }
        text_cstr(&t, "]}");
        http_reply_json_text(req, 201, &t);
        break;
    }
    case STORE_FULL:
        http_set_header(req, MHD_HTTP_HEADER_RETRY_AFTER, "1");
        problem_reply(req, 429, "queue_full", "queue %s is at its max_depth; nothing was enqueued", queue);
        break;
    case STORE_INVALID:
        problem_reply(req, 400, "invalid_request", "PostgreSQL refused the message data (e.g. \\u0000 in a string)");
        break;
    default:
        route_reply_store_failure(req, outcome);
        break;
    }
out:
    db_rows_free(list.rows);
    cJSON_Delete(body);
}

#define DEQUEUE_RECHECK_MS 1000

void route_messages_dequeue(struct request *req)
{
    struct dequeue_input in = {0};
    cJSON *body = NULL;
    struct db_list list = {0};
    int64_t wait;
    bool has_max, has_vt, has_wait;
    struct queue_defaults defaults = defaults_of(req);
    if (!path_name_or_reply(req, "queue", &in.queue) || !json_body_object_or_reply(req, true, &body) ||
        !body_int_or_reply(req, body, "max_messages", 1, 100, &in.max_messages, &has_max) ||
        !body_int_or_reply(req, body, "visibility_timeout", 0, VISIBILITY_MAX, &in.visibility_timeout, &has_vt) ||
        !body_int_or_reply(req, body, "wait_seconds", 0, 60, &wait, &has_wait) ||
        !body_string_or_reply(req, body, "consumer", 200, false, &in.consumer))
        goto out;
    if (!has_max)
        in.max_messages = 1;
    if (!has_vt)
        in.visibility_timeout = -1;
    bool waiting = has_wait && route_wait_begin(req, wait, WAIT_QUEUE, in.queue);
    enum store_outcome outcome = db_messages_dequeue(req->svc->pool, &in, &defaults, &list);
    if (outcome == STORE_OK && waiting && list.count == 0) {
        /* Enqueues and nacks notify; a delay or a lease running out does not, so
         * a waiter also looks again every second. */
        route_wait_park(req, DEQUEUE_RECHECK_MS);
        goto out;
    }
    switch (outcome) {
    case STORE_OK: {
        struct text t = {0};
        text_cstr(&t, "{\"messages\":[");
        for (int i = 0; i < list.count; i++) {
            struct dequeued_message m;
            db_messages_dequeued(&list, i, &m);
            text_cstr(&t, i > 0 ? "," : "");
            dequeued_message_json(&t, &m);
        }
        text_cstr(&t, "]}");
        http_reply_json_text(req, 200, &t);
        break;
    }
    default:
        route_reply_store_failure(req, outcome);
        break;
    }
out:
    db_rows_free(list.rows);
    cJSON_Delete(body);
}

/* The answer for a settle call that did not go through. */
static void reply_settle_failure(struct request *req, enum store_outcome outcome, const char *id)
{
    switch (outcome) {
    case STORE_NOT_FOUND:
        problem_reply(req, 404, settle_failure_code(outcome), "message %s is not in flight in this queue", id);
        break;
    case STORE_STALE:
        problem_reply(req, 409, settle_failure_code(outcome),
                      "the receipt is not the latest delivery of message %s; nothing changed", id);
        break;
    default:
        route_reply_store_failure(req, outcome);
        break;
    }
}

/* Queue, message id and receipt of a settle call; the body is returned in `*body`. */
static bool settle_input_or_reply(struct request *req, const char **queue, const char **id, cJSON **body,
                                  const char **receipt)
{
    return path_name_or_reply(req, "queue", queue) && path_uuid_or_reply(req, "id", id) &&
           json_body_object_or_reply(req, false, body) &&
           body_string_or_reply(req, *body, "receipt", RECEIPT_MAX_LEN, true, receipt);
}

void route_messages_ack(struct request *req)
{
    const char *queue, *id, *receipt;
    cJSON *body = NULL;
    if (!settle_input_or_reply(req, &queue, &id, &body, &receipt))
        goto out;
    enum store_outcome outcome = db_messages_ack(req->svc->pool, queue, id, receipt);
    if (outcome == STORE_OK)
        http_reply_empty(req, 204);
    else
        reply_settle_failure(req, outcome, id);
out:
    cJSON_Delete(body);
}

void route_messages_nack(struct request *req)
{
    struct nack_input in = {0};
    cJSON *body = NULL;
    bool has_delay;
    struct queue_defaults defaults = defaults_of(req);
    if (!settle_input_or_reply(req, &in.queue, &in.id, &body, &in.receipt) ||
        !body_bool_or_reply(req, body, "requeue", true, &in.requeue) ||
        !body_int_or_reply(req, body, "delay_seconds", 0, DELAY_MAX, &in.delay_seconds, &has_delay) ||
        !body_string_or_reply(req, body, "reason", REASON_MAX_LEN, false, &in.reason))
        goto out;
    if (!has_delay)
        in.delay_seconds = 0;
    enum store_outcome outcome = db_messages_nack(req->svc->pool, &in, &defaults);
    if (outcome == STORE_OK)
        http_reply_empty(req, 204);
    else
        reply_settle_failure(req, outcome, in.id);
out:
    cJSON_Delete(body);
}

void route_messages_visibility(struct request *req)
{
    const char *queue, *id, *receipt;
    cJSON *body = NULL;
    int64_t timeout, until_us;
    bool has_timeout;
    if (!settle_input_or_reply(req, &queue, &id, &body, &receipt) ||
        !body_int_or_reply(req, body, "visibility_timeout", 0, VISIBILITY_MAX, &timeout, &has_timeout))
        goto out;
    if (!has_timeout) {
        problem_reply(req, 400, "invalid_request", "visibility_timeout is required");
        goto out;
    }
    enum store_outcome outcome = db_messages_visibility(req->svc->pool, queue, id, receipt, timeout, &until_us);
    if (outcome != STORE_OK) {
        reply_settle_failure(req, outcome, id);
        goto out;
    }
    struct text t = {0};
    render_time(&t, "{\"visible_until\":", until_us);
    text_cstr(&t, "}");
    http_reply_json_text(req, 200, &t);
out:
    cJSON_Delete(body);
}

static bool acks_or_reply(struct request *req, const cJSON *acks)
{
    int64_t max = req->svc->cfg->max_batch;
    int n = cJSON_IsArray(acks) ? cJSON_GetArraySize(acks) : 0;
    if (n < 1 || n > max) {
        problem_reply(req, 400, "invalid_request", "acks must be an array of 1-%lld {id, receipt}", (long long)max);
        return false;
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, acks) {
        const char *id, *receipt;
        if (!cJSON_IsObject(a)) {
            problem_reply(req, 400, "invalid_request", "each ack must be an object {id, receipt}");
            return false;
        }
        if (!body_uuid_or_reply(req, a, "id", &id) ||
            !body_string_or_reply(req, a, "receipt", RECEIPT_MAX_LEN, true, &receipt))
            return false;
    }
    return true;
}

void route_messages_ack_batch(struct request *req)
{
    const char *queue;
    cJSON *body = NULL;
    struct ack_results results = {0};
    if (!path_name_or_reply(req, "queue", &queue) || !json_body_object_or_reply(req, false, &body) ||
        !acks_or_reply(req, cJSON_GetObjectItemCaseSensitive(body, "acks")))
        goto out;
    enum store_outcome outcome = db_messages_ack_batch(req->svc->pool, queue, req->body, &results);
    switch (outcome) {
    case STORE_OK: {
        struct text t = {0};
        ack_results_json(&t, results.items, results.count);
        http_reply_json_text(req, 200, &t);
        break;
    }
    default:
        route_reply_store_failure(req, outcome);
        break;
    }
out:
    db_messages_ack_results_free(&results);
    cJSON_Delete(body);
}
