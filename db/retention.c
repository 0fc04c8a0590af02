/* Store calls of the retention worker; see retention.h. The SQL is in
 * schema/007_retention.sql (trim_stream and friends) and statements.c. */
#include "db/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "db/rows.h"

struct limits_text {
    char age[24], count[24];
};

/* The defaults as parameters: NULL (no limit) for <= 0. */
static void defaults_params(const struct retention_defaults *d, struct limits_text *t, const char **age,
                            const char **count)
{
    snprintf(t->age, sizeof t->age, "%lld", (long long)d->max_age_seconds);
    snprintf(t->count, sizeof t->count, "%lld", (long long)d->max_count);
    *age = d->max_age_seconds > 0 ? t->age : NULL;
    *count = d->max_count > 0 ? t->count : NULL;
}

enum store_outcome db_retention_candidates(struct db_pool *pool, const struct retention_defaults *defaults,
                                           const char *after, int limit, struct retention_candidates *out)
{
    PGresult *res;
    struct limits_text t;
    char lim[24];
    const char *params[4];
    defaults_params(defaults, &t, &params[0], &params[1]);
    snprintf(lim, sizeof lim, "%d", limit);
    params[2] = after;
    params[3] = lim;
    memset(out, 0, sizeof *out);
    enum store_outcome outcome = db_run(pool, STMT_RETENTION_CANDIDATES, 4, params, "retention candidates", &res);
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
    const char *params[4];
    params[0] = stream;
    defaults_params(defaults, &t, &params[1], &params[2]);
    snprintf(lim, sizeof lim, "%d", limit);
    params[3] = lim;
    *trimmed = 0;
    enum store_outcome outcome = db_run(pool, STMT_RETENTION_TRIM, 4, params, "trim stream", &res);
    if (outcome == STORE_OK)
        *trimmed = db_int(res, 0, 0);
    PQclear(res);
    return outcome;
}

enum store_outcome db_retention_dead_letters(struct db_pool *pool, int64_t max_age_seconds, int limit, int64_t *deleted)
{
    PGresult *res;
    char age[24], lim[24];
    snprintf(age, sizeof age, "%lld", (long long)max_age_seconds);
    snprintf(lim, sizeof lim, "%d", limit);
    const char *params[] = {age, lim};
    *deleted = 0;
    enum store_outcome outcome = db_run(pool, STMT_RETENTION_DEAD_LETTERS, 2, params, "delete old dead letters", &res);
    if (outcome == STORE_OK)
        *deleted = db_int(res, 0, 0);
    PQclear(res);
    return outcome;
}
