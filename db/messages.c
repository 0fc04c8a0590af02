/* Store calls for queue messages; see messages.h. */
#include "db/messages.h"

#include <stdio.h>
#include <string.h>

#include "db/rows.h"
#include "src/core/json.h"
#include "src/core/log.h"

static enum store_outcome settle_outcome(const char *word)
{
    if (!strcmp(word, "acked") || !strcmp(word, "requeued") || !strcmp(word, "dead_lettered") || !strcmp(word, "ok"))
        return STORE_OK;
    if (!strcmp(word, "not_found"))
        return STORE_NOT_FOUND;
    if (!strcmp(word, "stale"))
        return STORE_STALE;
    log_error("settle: unknown outcome %s", word);
    return STORE_ERROR;
}

enum store_outcome db_messages_enqueue(struct db_pool *pool, const char *queue, const char *body, cJSON **messages)
{
    PGresult *res;
    const char *params[] = {queue, body};
    *messages = NULL;
    enum store_outcome outcome = db_run(pool, STMT_MESSAGES_ENQUEUE, 2, params, "enqueue", &res);
    if (outcome != STORE_OK)
        goto out;
    if (PQntuples(res) > 0 && !strcmp(PQgetvalue(res, 0, 0), "full")) {
        outcome = STORE_FULL;
        goto out;
    }
    outcome = STORE_CREATED;
    *messages = cJSON_CreateArray();
    bool ok = *messages != NULL;
    for (int i = 0; ok && i < PQntuples(res); i++) {
        cJSON *m = cJSON_CreateObject();
        if (!m || !cJSON_AddItemToArray(*messages, m)) {
            cJSON_Delete(m);
            ok = false;
            break;
        }
        ok = cJSON_AddStringToObject(m, "id", PQgetvalue(res, i, 1)) &&
             json_add_string_or_null(m, "enqueued_at", PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2)) &&
             json_add_string_or_null(m, "visible_at", PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3)) &&
             cJSON_AddBoolToObject(m, "duplicate", db_bool(res, i, 4));
    }
    if (!ok) {
        cJSON_Delete(*messages);
        *messages = NULL;
        outcome = STORE_ERROR;
    }
out:
    PQclear(res);
    return outcome;
}

enum store_outcome db_messages_dequeue(struct db_pool *pool, const struct dequeue_input *in,
                                       const struct queue_defaults *defaults, cJSON **messages)
{
    PGresult *res;
    char max[24], vt[24], dvt[24], dattempts[24];
    snprintf(max, sizeof max, "%lld", (long long)in->max_messages);
    snprintf(vt, sizeof vt, "%lld", (long long)in->visibility_timeout);
    snprintf(dvt, sizeof dvt, "%lld", (long long)defaults->visibility_timeout);
    snprintf(dattempts, sizeof dattempts, "%lld", (long long)defaults->max_delivery_attempts);
    const char *params[] = {in->queue, max, in->visibility_timeout >= 0 ? vt : NULL, in->consumer, dvt, dattempts};
    *messages = NULL;
    enum store_outcome outcome = db_run(pool, STMT_MESSAGES_DEQUEUE, 6, params, "dequeue", &res);
    if (outcome == STORE_OK && !(*messages = db_raw_array(res, 0, PQntuples(res))))
        outcome = STORE_ERROR;
    PQclear(res);
    return outcome;
}

enum store_outcome db_messages_ack(struct db_pool *pool, const char *queue, const char *id, const char *receipt)
{
    PGresult *res;
    const char *params[] = {queue, id, receipt};
    enum store_outcome outcome = db_run(pool, STMT_MESSAGES_ACK, 3, params, "ack", &res);
    if (outcome == STORE_OK)
        outcome = settle_outcome(PQgetvalue(res, 0, 0));
    PQclear(res);
    return outcome;
}

enum store_outcome db_messages_ack_batch(struct db_pool *pool, const char *queue, const char *body, cJSON **acked,
                                         cJSON **failed)
{
    PGresult *res;
    const char *params[] = {queue, body};
    *acked = cJSON_CreateArray();
    *failed = cJSON_CreateArray();
    enum store_outcome outcome = db_run(pool, STMT_MESSAGES_ACK_BATCH, 2, params, "batch ack", &res);
    for (int i = 0; outcome == STORE_OK && i < PQntuples(res); i++) {
        const char *id = PQgetvalue(res, i, 0), *word = PQgetvalue(res, i, 1);
        enum store_outcome one = settle_outcome(word);
        bool ok;
        if (one == STORE_OK) {
            ok = cJSON_AddItemToArray(*acked, cJSON_CreateString(id));
        } else {
            cJSON *f = cJSON_CreateObject();
            ok = f && cJSON_AddItemToArray(*failed, f);
            if (!ok)
                cJSON_Delete(f);
            ok = ok && cJSON_AddStringToObject(f, "id", id) &&
                 cJSON_AddStringToObject(f, "code", one == STORE_STALE ? "stale_receipt" : "message_not_found");
        }
        if (!ok)
            outcome = STORE_ERROR;
    }
    if (outcome != STORE_OK || !*acked || !*failed) {
        cJSON_Delete(*acked);
        cJSON_Delete(*failed);
        *acked = *failed = NULL;
        if (outcome == STORE_OK)
            outcome = STORE_ERROR;
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_messages_nack(struct db_pool *pool, const struct nack_input *in,
                                    const struct queue_defaults *defaults)
{
    PGresult *res;
    char delay[24], attempts[24];
    snprintf(delay, sizeof delay, "%lld", (long long)in->delay_seconds);
    snprintf(attempts, sizeof attempts, "%lld", (long long)defaults->max_delivery_attempts);
    const char *params[] = {in->queue, in->id, in->receipt, in->requeue ? "t" : "f", delay, in->reason, attempts};
    enum store_outcome outcome = db_run(pool, STMT_MESSAGES_NACK, 7, params, "nack", &res);
    if (outcome == STORE_OK)
        outcome = settle_outcome(PQgetvalue(res, 0, 0));
    PQclear(res);
    return outcome;
}

enum store_outcome db_messages_visibility(struct db_pool *pool, const char *queue, const char *id, const char *receipt,
                                          int64_t timeout, char visible_until[DB_TIMESTAMP_LEN])
{
    PGresult *res;
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)timeout);
    const char *params[] = {queue, id, receipt, t};
    visible_until[0] = '\0';
    enum store_outcome outcome = db_run(pool, STMT_MESSAGES_VISIBILITY, 4, params, "visibility", &res);
    if (outcome == STORE_OK) {
        outcome = settle_outcome(PQgetvalue(res, 0, 0));
        snprintf(visible_until, DB_TIMESTAMP_LEN, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_messages_sweep(struct db_pool *pool, const struct queue_defaults *defaults, int64_t limit,
                                     struct sweep_counts *out)
{
    PGresult *res;
    char attempts[24], lim[24];
    snprintf(attempts, sizeof attempts, "%lld", (long long)defaults->max_delivery_attempts);
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    const char *params[] = {attempts, lim};
    memset(out, 0, sizeof *out);
    enum store_outcome outcome = db_run(pool, STMT_MESSAGES_SWEEP, 2, params, "sweep", &res);
    if (outcome == STORE_OK) {
        out->requeued = db_int(res, 0, 0);
        out->dead_lettered = db_int(res, 0, 1);
        out->expired = db_int(res, 0, 2);
    }
    PQclear(res);
    return outcome;
}
