/* What a single write route shares with POST /transactions (routes/transactions.c):
 * one validator per operation kind, reading the route's body (a transaction's
 * operation is that body plus the path names), and the answer of an operation
 * that did not succeed, so that a transaction accepts exactly what the single
 * route accepts and refuses with the same problem. Each *_or_reply function
 * has queued a problem when it returns false. */
#ifndef STREAMQ_ROUTES_OPERATIONS_H
#define STREAMQ_ROUTES_OPERATIONS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/append_group.h"
#include "db/consumers.h"
#include "db/messages.h"
#include "db/queue_group.h"
#include "src/http/server.h"

/* routes/append.c */

/* What an append expects of the stream's version, gathered from the body and
 * (on the single route) the HTTP precondition headers. */
struct append_expectation {
    char text[32];    /* "any", "no_stream", "exists" or a decimal version */
    char shown[32];   /* as the client wrote it, for the problem: -1 stays -1 */
    bool from_header; /* a failed check answers 412 instead of 409 */
};

/* expected_version (and If-Match / If-None-Match when `headers`) and the
 * events; `*check_ids` tells whether some event carries an id, `*events` counts them. */
bool append_body_or_reply(struct request *req, const cJSON *body, bool headers, struct append_expectation *exp,
                          bool *check_ids, int *events) MUST_CHECK;
/* The problem for an append whose outcome is neither STORE_CREATED nor STORE_OK. */
void append_reply_failure(struct request *req, const char *stream, const struct append_expectation *exp,
                          const struct append_job *job);

/* routes/messages.c */

/* The messages of an enqueue: 1..max batch, each valid, no id twice. */
bool enqueue_body_or_reply(struct request *req, const cJSON *body) MUST_CHECK;
/* The answer of a written enqueue: {"queue", "messages": [...]}. */
void enqueue_result_json(struct text *t, const struct enqueue_job *j);
/* The problem for an enqueue whose outcome is not STORE_CREATED. */
void enqueue_reply_failure(struct request *req, const struct enqueue_job *j);
/* The receipt of an ack. */
bool ack_body_or_reply(struct request *req, const cJSON *body, const char **receipt) MUST_CHECK;
/* The problem for a single ack (job->count 1) that did not go through. */
void ack_reply_failure(struct request *req, const struct ack_job *j);
/* receipt, requeue, delay_seconds and reason of a nack (in->queue and in->id untouched). */
bool nack_body_or_reply(struct request *req, const cJSON *body, struct nack_input *in) MUST_CHECK;
/* The problem for a settle call (nack) whose outcome is not STORE_OK. */
void settle_reply_failure(struct request *req, enum store_outcome outcome, const char *id);

/* routes/consumers.c */

/* offset (required) and force of a consumer commit. */
bool consumer_commit_body_or_reply(struct request *req, const cJSON *body, int64_t *offset, bool *force) MUST_CHECK;
/* The problem for a commit that did not commit (outcome not STORE_OK, or
 * `result` not CONSUMER_COMMITTED). */
void consumer_commit_reply_failure(struct request *req, const char *stream, const char *group, int64_t offset,
                                   enum store_outcome outcome, enum consumer_commit_outcome result,
                                   const struct consumer *c, int64_t version);

#endif
