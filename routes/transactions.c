/* POST /transactions: several operations (append, enqueue, ack, nack,
 * commit_offset) in one PostgreSQL transaction. Each operation is checked by
 * the validator its single route uses (routes/operations.h), the whole is
 * handed to the transaction writers (db/transactions.h) and the request waits
 * suspended; the answer is every operation's single-route result in order, or
 * the problem of the first one that did not succeed, naming it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/transactions.h"
#include "routes/operations.h"
#include "routes/routes.h"
#include "src/core/json.h"
#include "src/core/text.h"
#include "src/http/auth.h"
#include "src/http/input.h"
#include "src/http/problem.h"

#define TRANSACTION_MAX_OPERATIONS 100

/* What an operation keeps for the store and for its answer beside its tx_op. */
struct op_input {
    char *text; /* the operation as the client wrote it (owned): PostgreSQL reads its events or messages */
    struct append_expectation exp;
    struct append_input append;
    const char *id, *receipt; /* an ack's, which ack_job lists */
};

/* A transaction from its check to its answer: the request's route state. */
struct pending_transaction {
    cJSON *body; /* names, receipts and reasons are borrowed from it */
    struct tx_op *ops;
    struct op_input *inputs;
    int count;
    struct transaction_job job;
};

static void pending_transaction_free(void *state)
{
    struct pending_transaction *p = state;
    db_transaction_results_free(&p->job);
    for (int i = 0; i < p->count; i++)
        free(p->inputs[i].text);
    free(p->inputs);
    free(p->ops);
    cJSON_Delete(p->body);
    free(p);
}

/* `name` is one the request's token reaches; else 403. */
static bool reachable_or_reply(struct request *req, const char *name)
{
    if (auth_name_allowed(req->token, name))
        return true;
    problem_reply(req, 403, "forbidden", "this token reaches only names starting with %s", req->token->prefix);
    return false;
}

static bool name_or_reply(struct request *req, const cJSON *op, const char *member, const char **out)
{
    return body_name_or_reply(req, op, member, out) && reachable_or_reply(req, *out);
}

static bool kind_or_reply(struct request *req, const cJSON *op, enum tx_op_kind *kind)
{
    static const char *const names[] = {
        [TX_APPEND] = "append",
        [TX_ENQUEUE] = "enqueue",
        [TX_ACK] = "ack",
        [TX_NACK] = "nack",
        [TX_COMMIT_OFFSET] = "commit_offset",
    };
    const cJSON *word = cJSON_GetObjectItemCaseSensitive(op, "op");
    for (size_t k = 0; cJSON_IsString(word) && k < ARRAY_LEN(names); k++)
        if (!strcmp(word->valuestring, names[k])) {
            *kind = (enum tx_op_kind)k;
            return true;
        }
    problem_reply(req, 400, "invalid_request", "op must be one of append, enqueue, ack, nack, commit_offset");
    return false;
}

/* Checks one operation as its single route checks its path and body, and
 * readies its job. */
static bool operation_or_reply(struct request *req, const cJSON *op, struct tx_op *o, struct op_input *in)
{
    bool check_ids = false;
    int events;
    if (!cJSON_IsObject(op)) {
        problem_reply(req, 400, "invalid_request", "each operation must be an object with \"op\"");
        return false;
    }
    if (!kind_or_reply(req, op, &o->kind))
        return false;
    switch (o->kind) {
    case TX_APPEND:
        if (!name_or_reply(req, op, "stream", &in->append.stream) ||
            !append_body_or_reply(req, op, false, &in->exp, &check_ids, &events))
            return false;
        in->append.expected = in->exp.text;
        in->append.body = in->text;
        in->append.check_ids = check_ids;
        in->append.events = events;
        o->append.in = &in->append;
        db_append_prepare(&o->append);
        return true;
    case TX_ENQUEUE:
        if (!name_or_reply(req, op, "queue", &o->enqueue.queue) || !enqueue_body_or_reply(req, op))
            return false;
        o->enqueue.body = in->text;
        o->enqueue.messages = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(op, "messages"));
        db_enqueue_prepare(&o->enqueue);
        return true;
    case TX_ACK:
        if (!name_or_reply(req, op, "queue", &o->ack.queue) || !body_uuid_or_reply(req, op, "id", &in->id) ||
            !ack_body_or_reply(req, op, &in->receipt))
            return false;
        o->ack.ids = &in->id;
        o->ack.receipts = &in->receipt;
        o->ack.count = 1;
        db_ack_prepare(&o->ack);
        return true;
    case TX_NACK:
        return name_or_reply(req, op, "queue", &o->nack.queue) && body_uuid_or_reply(req, op, "id", &o->nack.id) &&
               nack_body_or_reply(req, op, &o->nack);
    case TX_COMMIT_OFFSET:
        return name_or_reply(req, op, "stream", &o->commit.stream) &&
               name_or_reply(req, op, "group", &o->commit.group) &&
               consumer_commit_body_or_reply(req, op, &o->commit.offset, &o->commit.force);
    }
    return false;
}

/* Each operation's text as the client wrote it; re-printed by cJSON only when
 * the request names "operations" with an escape, where the scan gives up. */
static void operation_texts(const char *raw, const cJSON *ops, struct op_input *inputs, int n)
{
    struct json_span *spans = xcalloc((size_t)n, sizeof *spans);
    int found;
    bool as_written = json_array_spans(raw, "operations", spans, n, &found) && found == n;
    const cJSON *op = ops->child;
    for (int i = 0; i < n; i++, op = op->next)
        inputs[i].text = as_written ? xstrndup(raw + spans[i].start, spans[i].len) : cJSON_PrintUnformatted(op);
    free(spans);
}

/* Renders {"results": [...]}: what each single route answers, null for a 204. */
static void render_results(const struct transaction_job *j, struct text *t)
{
    text_cstr(t, "{\"results\":[");
    for (int i = 0; i < j->count; i++) {
        const struct tx_op *o = &j->ops[i];
        text_cstr(t, i > 0 ? "," : "");
        switch (o->kind) {
        case TX_APPEND:
            append_result_json(t, o->append.in->stream, &o->append.out);
            break;
        case TX_ENQUEUE:
            enqueue_result_json(t, &o->enqueue);
            break;
        case TX_ACK:
        case TX_NACK:
            text_cstr(t, "null");
            break;
        case TX_COMMIT_OFFSET:
            consumer_json(t, o->commit.stream, &o->commit.out);
            break;
        }
    }
    text_cstr(t, "]}");
}

/* The problem of operation `i`, as its single route answers it. */
static void reply_refused(struct request *req, struct pending_transaction *p, int i)
{
    const struct tx_op *o = &p->ops[i];
    const struct tx_commit_offset *c = &o->commit;
    req->problem_operation = i + 1;
    switch (o->kind) {
    case TX_APPEND:
        append_reply_failure(req, o->append.in->stream, &p->inputs[i].exp, &o->append);
        break;
    case TX_ENQUEUE:
        enqueue_reply_failure(req, &o->enqueue);
        break;
    case TX_ACK:
        ack_reply_failure(req, &o->ack);
        break;
    case TX_NACK:
        settle_reply_failure(req, o->outcome, o->nack.id);
        break;
    case TX_COMMIT_OFFSET:
        consumer_commit_reply_failure(req, c->stream, c->group, c->offset, o->outcome, c->result, &c->out, c->version);
        break;
    }
}

static void reply_transaction(struct request *req, struct pending_transaction *p)
{
    switch (p->job.result) {
    case TX_COMMITTED:
    case TX_REPLAYED:
        http_reply_json_text(req, 200, &p->job.response);
        break;
    case TX_REFUSED:
        reply_refused(req, p, p->job.failed);
        break;
    case TX_ID_REUSED:
        problem_reply(req, 409, "transaction_id_reused",
                      "transaction_id %s committed other operations; a retry must send the same ones",
                      p->job.transaction_id);
        break;
    case TX_FAILED:
        route_reply_store_failure(req, p->job.base.outcome);
        break;
    }
}

void route_transactions(struct request *req)
{
    if (req->route_state) {
        reply_transaction(req, req->route_state);
        return;
    }
    cJSON *body = NULL;
    const char *transaction_id = NULL;
    if (!json_body_object_or_reply(req, false, &body))
        return;
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(body, "operations");
    const cJSON *tid = cJSON_GetObjectItemCaseSensitive(body, "transaction_id");
    int n = cJSON_IsArray(ops) ? cJSON_GetArraySize(ops) : 0;
    if (n < 1 || n > TRANSACTION_MAX_OPERATIONS) {
        problem_reply(req, 400, "invalid_request", "operations must be an array of 1-%d operations",
                      TRANSACTION_MAX_OPERATIONS);
        cJSON_Delete(body);
        return;
    }
    if (tid && !cJSON_IsNull(tid) && !body_uuid_or_reply(req, body, "transaction_id", &transaction_id)) {
        cJSON_Delete(body);
        return;
    }
    struct pending_transaction *p = xcalloc(1, sizeof *p);
    p->body = body;
    p->count = n;
    p->ops = xcalloc((size_t)n, sizeof *p->ops);
    p->inputs = xcalloc((size_t)n, sizeof *p->inputs);
    operation_texts(req->body, ops, p->inputs, n);
    const cJSON *op = ops->child;
    for (int i = 0; i < n; i++, op = op->next) {
        req->problem_operation = i + 1;
        if (!operation_or_reply(req, op, &p->ops[i], &p->inputs[i])) {
            pending_transaction_free(p);
            return;
        }
    }
    req->problem_operation = 0;
    int events = 0;
    for (int i = 0; i < n; i++)
        events += p->ops[i].kind == TX_APPEND ? p->ops[i].append.in->events : 0;
    if (events > TX_MAX_EVENTS) {
        problem_reply(req, 400, "invalid_request", "a transaction appends at most %d events (this one: %d)",
                      TX_MAX_EVENTS, events);
        pending_transaction_free(p);
        return;
    }
    struct transaction_job *j = &p->job;
    j->ops = p->ops;
    j->count = n;
    j->transaction_id = transaction_id;
    j->body = req->body;
    j->defaults = (struct queue_defaults){req->svc->cfg->visibility_timeout, req->svc->cfg->max_delivery_attempts};
    j->render = render_results;
    db_transaction_prepare(j);
    route_submit(req, req->svc->transactions, &j->base, p, pending_transaction_free);
}
