/* Webhook delivery state; see webhook_delivery.h. */
#include "db/webhook_delivery.h"

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/rows.h"
#include "src/core/log.h"

/* Columns of STMT_DELIVERY_CLAIM after the webhook's own (one leading + 12). */
enum { CLAIM_SECRET = 13, CLAIM_DELIVERY_ID, CLAIM_DELIVERY_END };

struct db_delivery_link {
    PGconn *pg;
};

struct db_delivery_link *db_delivery_link_open(const struct config *cfg, char *err, size_t errlen)
{
    PGconn *pg = db_connect(cfg, err, errlen);
    if (!pg)
        return NULL;
    if (!db_prepare_all(cfg, pg)) {
        snprintf(err, errlen, "preparing the dispatcher's statements failed");
        PQfinish(pg);
        return NULL;
    }
    struct db_delivery_link *link = xcalloc(1, sizeof *link);
    link->pg = pg;
    return link;
}

void db_delivery_link_close(struct db_delivery_link *link)
{
    if (!link)
        return;
    PQfinish(link->pg); /* its advisory locks end with it */
    free(link);
}

int db_delivery_claim(struct db_delivery_link *link, const char *const *busy, int nbusy, bool idle_too,
                      struct due_webhook *out, int max)
{
    cJSON *names = cJSON_CreateArray();
    for (int i = 0; i < nbusy; i++)
        cJSON_AddItemToArray(names, cJSON_CreateString(busy[i]));
    char *names_text = cJSON_PrintUnformatted(names);
    cJSON_Delete(names);
    char lim[16];
    snprintf(lim, sizeof lim, "%d", max);
    const char *params[] = {names_text, lim, idle_too ? "t" : "f"};
    PGresult *res = PQexecPrepared(link->pg, "delivery_claim", 3, params, NULL, NULL, 0);
    cJSON_free(names_text);
    int n = -1;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *msg = PQresultErrorMessage(res);
        log_warn("webhooks: claiming due webhooks failed: %.*s", (int)strcspn(msg, "\n"), msg);
        goto out;
    }
    n = PQntuples(res) < max ? PQntuples(res) : max;
    for (int i = 0; i < n; i++) {
        struct due_webhook *d = &out[i];
        db_webhook_read_row(res, i, &d->hook);
        snprintf(d->secret, sizeof d->secret, "%s", PQgetvalue(res, i, CLAIM_SECRET));
        snprintf(d->delivery_id, sizeof d->delivery_id, "%s", PQgetvalue(res, i, CLAIM_DELIVERY_ID));
        d->delivery_end = db_int(res, i, CLAIM_DELIVERY_END);
    }
out:
    PQclear(res);
    return n;
}

bool db_delivery_release(struct db_delivery_link *link, const char *name)
{
    const char *params[] = {name};
    PGresult *res = PQexecPrepared(link->pg, "delivery_unlock", 1, params, NULL, NULL, 0);
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    return ok && PQstatus(link->pg) == CONNECTION_OK;
}

enum store_outcome db_delivery_begin(struct db_pool *pool, const char *name, int64_t end,
                                     char delivery_id[DELIVERY_ID_LEN + 1])
{
    PGresult *res;
    char e[24];
    snprintf(e, sizeof e, "%lld", (long long)end);
    const char *params[] = {name, e};
    delivery_id[0] = '\0';
    enum store_outcome outcome = db_run(pool, STMT_DELIVERY_BEGIN, 2, params, "begin delivery", &res);
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    if (outcome == STORE_OK)
        snprintf(delivery_id, DELIVERY_ID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return outcome;
}

/* Runs an UPDATE whose result has no rows of interest. */
static enum store_outcome run_update(struct db_pool *pool, enum stmt_id id, int n, const char *const *params,
                                     const char *what)
{
    PGresult *res;
    enum store_outcome outcome = db_run(pool, id, n, params, what, &res);
    PQclear(res);
    return outcome;
}

enum store_outcome db_delivery_succeeded(struct db_pool *pool, const char *name, const char *delivery_id)
{
    const char *params[] = {name, delivery_id};
    return run_update(pool, STMT_DELIVERY_SUCCEEDED, 2, params, "record delivery");
}

enum store_outcome db_delivery_failed(struct db_pool *pool, const char *name, const char *delivery_id,
                                      const char *error, int64_t delay_ms)
{
    char delay[24];
    snprintf(delay, sizeof delay, "%lld", (long long)delay_ms);
    const char *params[] = {name, delivery_id, error, delay};
    return run_update(pool, STMT_DELIVERY_FAILED, 4, params, "record failed delivery");
}

enum store_outcome db_delivery_idle(struct db_pool *pool, const char *name, int64_t from, int64_t position,
                                    int64_t delay_ms)
{
    char pos[24], delay[24], old[24];
    snprintf(pos, sizeof pos, "%lld", (long long)position);
    snprintf(delay, sizeof delay, "%lld", (long long)delay_ms);
    snprintf(old, sizeof old, "%lld", (long long)from);
    const char *params[] = {name, pos, delay, old};
    return run_update(pool, STMT_DELIVERY_IDLE, 4, params, "record idle webhook");
}
