/* Webhooks as resources; see webhooks.h. */
#include "db/webhooks.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "db/rows.h"
#include "db/standby.h"
#include "db/webhook_delivery.h"

/* Columns of WEBHOOK_COLUMNS (statements.c), after the leading one. */
enum {
    WH_NAME = 1,
    WH_URL,
    WH_STREAM,
    WH_PREFIX,
    WH_TYPES,
    WH_POSITION,
    WH_MAX_BATCH,
    WH_PAUSED,
    WH_FAILURES,
    WH_LAST_DELIVERY,
    WH_LAST_ERROR,
    WH_NEXT_ATTEMPT
};

void db_webhook_clear(struct webhook *w)
{
    for (int i = 0; i < w->ntypes; i++)
        free(w->types[i]);
    free(w->last_error);
    memset(w, 0, sizeof *w);
}

void db_webhook_read_row(const PGresult *res, int row, struct webhook *w)
{
    memset(w, 0, sizeof *w);
    snprintf(w->name, sizeof w->name, "%s", PQgetvalue(res, row, WH_NAME));
    snprintf(w->url, sizeof w->url, "%s", PQgetvalue(res, row, WH_URL));
    w->has_stream = !PQgetisnull(res, row, WH_STREAM);
    snprintf(w->target, sizeof w->target, "%s", PQgetvalue(res, row, w->has_stream ? WH_STREAM : WH_PREFIX));
    if (!PQgetisnull(res, row, WH_TYPES)) {
        cJSON *types = cJSON_Parse(PQgetvalue(res, row, WH_TYPES));
        const cJSON *t;
        cJSON_ArrayForEach(t, types) {
            if (cJSON_IsString(t) && w->ntypes < WEBHOOK_MAX_TYPES)
                w->types[w->ntypes++] = xstrdup(t->valuestring);
        }
        cJSON_Delete(types);
    }
    w->position = db_int(res, row, WH_POSITION);
    w->max_batch = db_int(res, row, WH_MAX_BATCH);
    w->paused = db_bool(res, row, WH_PAUSED);
    w->consecutive_failures = db_int(res, row, WH_FAILURES);
    w->last_delivery_us = PQgetisnull(res, row, WH_LAST_DELIVERY) ? 0 : db_int(res, row, WH_LAST_DELIVERY);
    w->last_error = PQgetisnull(res, row, WH_LAST_ERROR) ? NULL : xstrdup(PQgetvalue(res, row, WH_LAST_ERROR));
    w->next_attempt_us = db_int(res, row, WH_NEXT_ATTEMPT);
}

/* base64url without padding: what a generated secret is made of. */
static void new_secret(char *out, size_t size)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char bytes[32];
    random_bytes(bytes, sizeof bytes);
    size_t n = 0;
    for (size_t i = 0; i < sizeof bytes && n + 1 < size; i++)
        out[n++] = alphabet[bytes[i] & 63]; /* 32 symbols of 6 bits: 192 bits of entropy */
    out[n] = '\0';
}

/* One webhook from a statement that returns zero or one row. */
static enum store_outcome one_row(enum store_outcome outcome, PGresult *res, struct webhook *out)
{
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    if (outcome == STORE_OK)
        db_webhook_read_row(res, 0, out);
    PQclear(res);
    return outcome;
}

enum store_outcome db_webhooks_put(struct db_pool *pool, const struct webhook_input *in, struct webhook *out,
                                   bool *created, char *secret_out)
{
    PGresult *res;
    char from[24], batch[24], made[64];
    char *types = NULL;
    memset(out, 0, sizeof *out);
    secret_out[0] = '\0';
    if (in->ntypes > 0) {
        cJSON *array = cJSON_CreateArray();
        for (int i = 0; i < in->ntypes; i++)
            cJSON_AddItemToArray(array, cJSON_CreateString(in->types[i]));
        types = cJSON_PrintUnformatted(array);
        cJSON_Delete(array);
    }
    switch (in->from) {
    case WEBHOOK_FROM_START:
        snprintf(from, sizeof from, "start");
        break;
    case WEBHOOK_FROM_END:
        snprintf(from, sizeof from, "end");
        break;
    case WEBHOOK_FROM_POSITION:
        snprintf(from, sizeof from, "%lld", (long long)in->from_position);
        break;
    case WEBHOOK_FROM_DEFAULT:
        break;
    }
    snprintf(batch, sizeof batch, "%lld", (long long)in->max_batch);
    new_secret(made, sizeof made);
    const char *params[] = {in->name,
                            in->url,
                            in->has_stream ? in->target : NULL,
                            in->has_stream ? NULL : in->target,
                            types,
                            in->from == WEBHOOK_FROM_DEFAULT ? NULL : from,
                            batch,
                            in->secret,
                            made};
    enum store_outcome outcome = db_run(pool, STMT_WEBHOOKS_PUT, 9, params, "put webhook", &res);
    cJSON_free(types);
    if (outcome == STORE_OK) {
        *created = db_bool(res, 0, 0);
        if (*created && !in->secret)
            snprintf(secret_out, WEBHOOK_SECRET_MAX + 1, "%s", made);
    }
    return one_row(outcome, res, out);
}

enum store_outcome db_webhooks_get(struct db_pool *pool, const char *name, struct webhook *out)
{
    PGresult *res;
    const char *params[] = {name};
    memset(out, 0, sizeof *out);
    enum store_outcome outcome =
        db_run_read(pool, DB_RECENT_ANY, STMT_WEBHOOKS_GET, 1, params, "get webhook", db_final_has_rows, NULL, &res);
    return one_row(outcome, res, out);
}

enum store_outcome db_webhooks_list(struct db_pool *pool, const char *prefix, const char *after, int64_t limit,
                                    struct webhook **out, int *n, char *next_after)
{
    PGresult *res;
    char lim[24];
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    const char *params[] = {prefix, after, lim};
    *out = NULL;
    *n = 0;
    next_after[0] = '\0';
    enum store_outcome outcome =
        db_run_read(pool, DB_RECENT_ANY, STMT_WEBHOOKS_LIST, 3, params, "list webhooks", NULL, NULL, &res);
    if (outcome == STORE_OK) {
        int rows = PQntuples(res) > limit ? (int)limit : PQntuples(res);
        *out = xcalloc((size_t)rows + 1, sizeof **out);
        for (int i = 0; i < rows; i++)
            db_webhook_read_row(res, i, &(*out)[i]);
        *n = rows;
        if (PQntuples(res) > limit)
            snprintf(next_after, NAME_MAX_LEN + 1, "%s", (*out)[rows - 1].name);
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_webhooks_set_paused(struct db_pool *pool, const char *name, bool paused, struct webhook *out)
{
    PGresult *res;
    const char *params[] = {name, paused ? "t" : "f"};
    memset(out, 0, sizeof *out);
    enum store_outcome outcome = db_run(pool, STMT_WEBHOOKS_SET_PAUSED, 2, params, "pause webhook", &res);
    return one_row(outcome, res, out);
}

enum store_outcome db_webhooks_set_position(struct db_pool *pool, const char *name, int64_t position,
                                            struct webhook *out)
{
    PGresult *res;
    char pos[24];
    snprintf(pos, sizeof pos, "%lld", (long long)position);
    const char *params[] = {name, pos};
    memset(out, 0, sizeof *out);
    enum store_outcome outcome = db_run(pool, STMT_WEBHOOKS_SET_POSITION, 2, params, "move webhook", &res);
    return one_row(outcome, res, out);
}

enum store_outcome db_webhooks_delete(struct db_pool *pool, const char *name)
{
    PGresult *res;
    const char *params[] = {name};
    enum store_outcome outcome = db_run(pool, STMT_WEBHOOKS_DELETE, 1, params, "delete webhook", &res);
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    PQclear(res);
    return outcome;
}
