/* Message routes: enqueue, dequeue under a lease, and settling a delivery
 * (ack, batch ack, nack, visibility). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/messages.h"
#include "db/queue_group.h"
#include "routes/operations.h"
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

bool enqueue_body_or_reply(struct request *req, const cJSON *body)
{
    return messages_or_reply(req, cJSON_GetObjectItemCaseSensitive(body, "messages"));
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

static void pending_enqueue_free(void *state)
{
    struct enqueue_job *j = state;
    db_rows_free(j->out.rows);
    free(j);
}

void enqueue_result_json(struct text *t, const struct enqueue_job *j)
{
    render_string(t, "{\"queue\":", j->queue);
    text_cstr(t, ",\"messages\":[");
    for (int i = 0; i < j->out.count; i++) {
        struct enqueued_message m;
        db_messages_enqueued(&j->out, i, &m);
        text_cstr(t, i > 0 ? "," : "");
        enqueued_message_json(t, &m);
    }
    text_cstr(t, "]}");
}

void enqueue_reply_failure(struct request *req, const struct enqueue_job *j)
{
    switch (j->base.outcome) {
    case STORE_FULL:
        http_set_header(req, MHD_HTTP_HEADER_RETRY_AFTER, "1");
        problem_reply(req, 429, "queue_full", "queue %s is at its max_depth; nothing was enqueued", j->queue);
        break;
    case STORE_INVALID:
        problem_reply(req, 400, "invalid_request", "PostgreSQL refused the message data (e.g. \\u0000 in a string)");
        break;
    default:
        route_reply_store_failure(req, j->base.outcome);
        break;
    }
}

static void reply_enqueued(struct request *req, const struct enqueue_job *j)
{
    if (j->base.outcome != STORE_CREATED) {
        enqueue_reply_failure(req, j);
        return;
    }
    struct text t = {0};
    enqueue_result_json(&t, j);
    http_reply_json_text(req, 201, &t);
}

/* Validates, then hands the enqueue to the group commit (db/queue_group.h) and
 * suspends the request; the handler runs again to answer once it was written. */
void route_messages_enqueue(struct request *req)
{
    if (req->route_state) {
        reply_enqueued(req, req->route_state);
        return;
    }
    const char *queue;
    cJSON *body = NULL;
    if (!path_name_or_reply(req, "queue", &queue) || !json_body_object_or_reply(req, false, &body) ||
        !enqueue_body_or_reply(req, body)) {
        cJSON_Delete(body);
        return;
    }
    struct enqueue_job *j = xcalloc(1, sizeof *j);
    j->queue = queue;
    /* PostgreSQL takes the messages from the body as sent, so data stays exact. */
    j->body = req->body;
    j->messages = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(body, "messages"));
    cJSON_Delete(body);
    db_enqueue_prepare(j);
    route_submit(req, req->svc->enqueues, &j->base, j, pending_enqueue_free);
}

#define DEQUEUE_RECHECK_MS 1000

/* A dequeue between its hand-offs to the group commit and its answer: a long
 * poll that found nothing parks, and hands its dequeue over again when woken. */
struct pending_dequeue {
    struct dequeue_input in;
    char *consumer; /* in.consumer's copy: the body is parsed once */
    int64_t wait;
    bool waiting; /* the last dequeue watched the queue first */
    struct dequeue_job job;
};

static void pending_dequeue_free(void *state)
{
    struct pending_dequeue *p = state;
    db_rows_free(p->job.out.rows);
    free(p->consumer);
    free(p);
}

/* The dequeue's input from the body, or NULL when a problem was queued. */
static struct pending_dequeue *dequeue_input_or_reply(struct request *req)
{
    struct dequeue_input in = {0};
    cJSON *body = NULL;
    int64_t wait;
    bool has_max, has_vt, has_wait;
    struct pending_dequeue *p = NULL;
    if (!path_name_or_reply(req, "queue", &in.queue) || !json_body_object_or_reply(req, true, &body) ||
        !body_int_or_reply(req, body, "max_messages", 1, 100, &in.max_messages, &has_max) ||
        !body_int_or_reply(req, body, "visibility_timeout", 0, VISIBILITY_MAX, &in.visibility_timeout, &has_vt) ||
        !body_int_or_reply(req, body, "wait_seconds", 0, 60, &wait, &has_wait) ||
        !body_string_or_reply(req, body, "consumer", 200, false, &in.consumer))
        goto out;
    p = xcalloc(1, sizeof *p);
    p->in = in;
    if (!has_max)
        p->in.max_messages = 1;
    if (!has_vt)
        p->in.visibility_timeout = -1;
    p->wait = has_wait ? wait : 0;
    p->consumer = in.consumer ? xstrdup(in.consumer) : NULL;
    p->in.consumer = p->consumer;
    p->job.in = &p->in;
    p->job.defaults = defaults_of(req);
out:
    cJSON_Delete(body);
    return p;
}

static void reply_dequeued(struct request *req, const struct dequeue_job *j)
{
    if (j->base.outcome != STORE_OK) {
        route_reply_store_failure(req, j->base.outcome);
        return;
    }
    struct text t = {0};
    text_cstr(&t, "{\"messages\":[");
    for (int i = 0; i < j->out.count; i++) {
        struct dequeued_message m;
        db_messages_dequeued(&j->out, i, &m);
        text_cstr(&t, i > 0 ? "," : "");
        dequeued_message_json(&t, &m);
    }
    text_cstr(&t, "]}");
    http_reply_json_text(req, 200, &t);
}

/* Runs when the request arrives, when its dequeue was written, and when a long
 * poll that parked is woken (then it dequeues again). */
void route_messages_dequeue(struct request *req)
{
    struct pending_dequeue *p = req->route_state;
    if (p && p->job.base.finished) {
        if (p->job.base.outcome == STORE_OK && p->waiting && p->job.out.count == 0) {
            /* Enqueues and nacks notify; a delay or a lease running out does
             * not, so a waiter also looks again every second. */
            p->job.base.finished = false;
            route_wait_park(req, DEQUEUE_RECHECK_MS);
            return;
        }
        reply_dequeued(req, &p->job);
        return;
    }
    if (!p && !(p = dequeue_input_or_reply(req)))
        return;
    /* Watched before the dequeue, so an enqueue committed after it still wakes us. */
    p->waiting = route_wait_begin(req, p->wait, WAIT_QUEUE, p->in.queue);
    db_rows_free(p->job.out.rows);
    db_dequeue_prepare(&p->job);
    route_submit(req, req->svc->dequeues, &p->job.base, p, pending_dequeue_free);
}

void settle_reply_failure(struct request *req, enum store_outcome outcome, const char *id)
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

bool ack_body_or_reply(struct request *req, const cJSON *body, const char **receipt)
{
    return body_string_or_reply(req, body, "receipt", RECEIPT_MAX_LEN, true, receipt);
}

/* Queue, message id and receipt of a settle call; the body is returned in `*body`. */
static bool settle_input_or_reply(struct request *req, const char **queue, const char **id, cJSON **body,
                                  const char **receipt)
{
    return path_name_or_reply(req, "queue", queue) && path_uuid_or_reply(req, "id", id) &&
           json_body_object_or_reply(req, false, body) && ack_body_or_reply(req, *body, receipt);
}

void ack_reply_failure(struct request *req, const struct ack_job *j)
{
    if (j->base.outcome != STORE_OK)
        route_reply_store_failure(req, j->base.outcome);
    else
        settle_reply_failure(req, j->out.items[0].outcome, j->ids[0]);
}

/* An ack (one, or a batch to one queue) handed to the group commit; the body
 * is kept, as the receipts are borrowed from it. */
struct pending_ack {
    cJSON *body;
    const char **ids, **receipts;     /* owned arrays of borrowed strings */
    const char *one_id, *one_receipt; /* a single ack's */
    struct ack_job job;
};

static void pending_ack_free(void *state)
{
    struct pending_ack *p = state;
    db_messages_ack_results_free(&p->job.out);
    free(p->ids);
    free(p->receipts);
    cJSON_Delete(p->body);
    free(p);
}

static void submit_ack(struct request *req, struct pending_ack *p)
{
    db_ack_prepare(&p->job);
    route_submit(req, req->svc->acks, &p->job.base, p, pending_ack_free);
}

void route_messages_ack(struct request *req)
{
    struct pending_ack *p = req->route_state;
    if (p) {
        if (p->job.base.outcome == STORE_OK && p->job.out.items[0].outcome == STORE_OK)
            http_reply_empty(req, 204);
        else
            ack_reply_failure(req, &p->job);
        return;
    }
    const char *queue, *id, *receipt;
    cJSON *body = NULL;
    if (!settle_input_or_reply(req, &queue, &id, &body, &receipt)) {
        cJSON_Delete(body);
        return;
    }
    p = xcalloc(1, sizeof *p);
    p->body = body;
    p->one_id = id;
    p->one_receipt = receipt;
    p->job.queue = queue;
    p->job.ids = &p->one_id;
    p->job.receipts = &p->one_receipt;
    p->job.count = 1;
    submit_ack(req, p);
}

bool nack_body_or_reply(struct request *req, const cJSON *body, struct nack_input *in)
{
    bool has_delay;
    if (!ack_body_or_reply(req, body, &in->receipt) || !body_bool_or_reply(req, body, "requeue", true, &in->requeue) ||
        !body_int_or_reply(req, body, "delay_seconds", 0, DELAY_MAX, &in->delay_seconds, &has_delay) ||
        !body_string_or_reply(req, body, "reason", REASON_MAX_LEN, false, &in->reason))
        return false;
    if (!has_delay)
        in->delay_seconds = 0;
    return true;
}

void route_messages_nack(struct request *req)
{
    struct nack_input in = {0};
    cJSON *body = NULL;
    struct queue_defaults defaults = defaults_of(req);
    if (!path_name_or_reply(req, "queue", &in.queue) || !path_uuid_or_reply(req, "id", &in.id) ||
        !json_body_object_or_reply(req, false, &body) || !nack_body_or_reply(req, body, &in))
        goto out;
    enum store_outcome outcome = db_messages_nack(req->svc->pool, &in, &defaults);
    if (outcome == STORE_OK)
        http_reply_empty(req, 204);
    else
        settle_reply_failure(req, outcome, in.id);
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
        settle_reply_failure(req, outcome, id);
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
    struct pending_ack *p = req->route_state;
    if (p) {
        if (p->job.base.outcome == STORE_OK) {
            struct text t = {0};
            ack_results_json(&t, p->job.out.items, p->job.out.count);
            http_reply_json_text(req, 200, &t);
        } else {
            route_reply_store_failure(req, p->job.base.outcome);
        }
        return;
    }
    const char *queue;
    cJSON *body = NULL;
    const cJSON *acks;
    if (!path_name_or_reply(req, "queue", &queue) || !json_body_object_or_reply(req, false, &body) ||
        !acks_or_reply(req, acks = cJSON_GetObjectItemCaseSensitive(body, "acks"))) {
        cJSON_Delete(body);
        return;
    }
    p = xcalloc(1, sizeof *p);
    p->body = body;
    int n = cJSON_GetArraySize(acks), k = 0;
    p->ids = xcalloc((size_t)n, sizeof *p->ids);
    p->receipts = xcalloc((size_t)n, sizeof *p->receipts);
    const cJSON *a;
    cJSON_ArrayForEach(a, acks) {
        p->ids[k] = cJSON_GetObjectItemCaseSensitive(a, "id")->valuestring;
        p->receipts[k++] = cJSON_GetObjectItemCaseSensitive(a, "receipt")->valuestring;
    }
    p->job.queue = queue;
    p->job.ids = p->ids;
    p->job.receipts = p->receipts;
    p->job.count = n;
    submit_ack(req, p);
}
