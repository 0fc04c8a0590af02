/* Store calls of the retention worker; see retention.h. The SQL is in
 * schema/006_retention.sql and 008_partitioning.sql (trim_stream and friends) and statements.c. */
#include "db/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "db/rows.h"

struct limits_text {
    char age[24], count[24], grace[24];
};

/* The defaults as parameters (max age, max count, grace): NULL (no limit) for
 * a limit <= 0. */
static void defaults_params(const struct retention_defaults *d, struct limits_text *t, const char **params)
{
    snprintf(t->age, sizeof t->age, "%lld", (long long)d->max_age_seconds);
    snprintf(t->count, sizeof t->count, "%lld", (long long)d->max_count);
    snprintf(t->grace, sizeof t->grace, "%lld", (long long)d->age_grace);
    params[0] = d->max_age_seconds > 0 ? t->age : NULL;
    params[1] = d->max_count > 0 ? t->count : NULL;
    params[2] = t->grace;
}

enum store_outcome db_retention_candidates(struct db_pool *pool, const struct retention_defaults *defaults,
                                           const char *after, int limit, struct retention_candidates *out)
{
    PGresult *res;
    struct limits_text t;
    char lim[24];
    const char *params[5];
    defaults_params(defaults, &t, params);
    snprintf(lim, sizeof lim, "%d", limit);
    params[3] = after;
    params[4] = lim;
    memset(out, 0, sizeof *out);
    enum store_outcome outcome = db_run(pool, STMT_RETENTION_CANDIDATES, 5, params, "retention candidates", &res);
    if (outcome == STORE_OK) {
        out->count = PQntuples(res);
        out->names = xcalloc((size_t)out->count + 1, sizeof *out->names);
        for (int i = 0; i < out->count; i++)
            db_copy(res, i, 0, out->names[i], sizeof out->names[i]);
    }
    PQclear(res);
    return outcome;
}

void db_retention_candidates_free(struct retention_candidates *c)
{
    free(c->names);
    c->names = NULL;
    c->count = 0;
}

enum store_outcome db_retention_trim(struct db_pool *pool, const char *stream,
                                     const struct retention_defaults *defaults, int limit, int64_t *trimmed)
{
    PGresult *res;
    struct limits_text t;
    char lim[24];
    const char *params[5];
    params[0] = stream;
    defaults_params(defaults, &t, &params[1]);
    snprintf(lim, sizeof lim, "%d", limit);
    params[4] = lim;
    *trimmed = 0;
    enum store_outcome outcome = db_run(pool, STMT_RETENTION_TRIM, 5, params, "trim stream", &res);
    if (outcome == STORE_OK)
        *trimmed = db_int(res, 0, 0);
    PQclear(res);
    return outcome;
}

/* Runs a statement of one or two integer parameters whose answer is one count. */
static enum store_outcome run_count(struct db_pool *pool, enum stmt_id stmt, int nparams, int64_t a, int64_t b,
                                    const char *what, int64_t *count)
{
    PGresult *res;
    char first[24], second[24];
    snprintf(first, sizeof first, "%lld", (long long)a);
    snprintf(second, sizeof second, "%lld", (long long)b);
    const char *params[] = {first, second};
    *count = 0;
    enum store_outcome outcome = db_run(pool, stmt, nparams, params, what, &res);
    if (outcome == STORE_OK)
        *count = db_int(res, 0, 0);
    PQclear(res);
    return outcome;
}

enum store_outcome db_retention_dead_letters(struct db_pool *pool, int64_t max_age_seconds, int limit, int64_t *deleted)
{
    return run_count(pool, STMT_RETENTION_DEAD_LETTERS, 2, max_age_seconds, limit, "delete old dead letters", deleted);
}

enum store_outcome db_retention_add_partitions(struct db_pool *pool, int ahead, int64_t *created)
{
    return run_count(pool, STMT_RETENTION_ADD_PARTITIONS, 1, ahead, 0, "add events partitions", created);
}

enum store_outcome db_retention_forget_ids(struct db_pool *pool, int limit, int64_t *deleted)
{
    return run_count(pool, STMT_RETENTION_FORGET_IDS, 1, limit, 0, "forget dropped event ids", deleted);
}

enum store_outcome db_retention_drop_partition(struct db_pool *pool, const struct retention_defaults *defaults,
                                               int64_t *dropped, char *name)
{
    PGresult *res;
    struct limits_text t;
    const char *params[3];
    defaults_params(defaults, &t, params);
    *dropped = 0;
    name[0] = '\0';
    enum store_outcome outcome = db_run(pool, STMT_RETENTION_DROP_PARTITION, 2, params, "drop events partition", &res);
    if (outcome == STORE_OK) {
        *dropped = db_int(res, 0, 0);
        db_copy(res, 0, 1, name, NAME_MAX_LEN + 1);
    }
    PQclear(res);
    return outcome;
}
