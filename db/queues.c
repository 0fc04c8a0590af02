/* Store calls for queues; see queues.h. */
#include "db/queues.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "db/rows.h"
#include "db/standby.h"
#include "db/tx.h"

struct numbers {
    char a[24], b[24];
};

static void defaults_text(const struct queue_defaults *d, struct numbers *n)
{
    snprintf(n->a, sizeof n->a, "%lld", (long long)d->visibility_timeout);
    snprintf(n->b, sizeof n->b, "%lld", (long long)d->max_delivery_attempts);
}

/* Columns as QUEUE_COLUMNS in statements.c lists them. */
enum {
    QM_QUEUE,
    QM_PENDING,
    QM_IN_FLIGHT,
    QM_DELAYED,
    QM_DEAD_LETTERS,
    QM_OLDEST_AGE_MS,
    QM_VISIBILITY_TIMEOUT,
    QM_MAX_DELIVERY_ATTEMPTS,
    QM_RETENTION_SECONDS,
    QM_MAX_DEPTH,
    QM_EXPIRED_THROUGH_US,
    QM_EXPIRED_AT_US,
    QM_DL_DELETED_THROUGH_US,
    QM_DL_DELETED_AT_US,
};

static void row_to_meta(const PGresult *res, int row, struct queue_meta *m)
{
    db_copy(res, row, QM_QUEUE, m->queue, sizeof m->queue);
    m->pending = db_int(res, row, QM_PENDING);
    m->in_flight = db_int(res, row, QM_IN_FLIGHT);
    m->delayed = db_int(res, row, QM_DELAYED);
    m->dead_letters = db_int(res, row, QM_DEAD_LETTERS);
    m->oldest_pending_age_ms = db_nullable_int(res, row, QM_OLDEST_AGE_MS);
    m->visibility_timeout = db_int(res, row, QM_VISIBILITY_TIMEOUT);
    m->max_delivery_attempts = db_int(res, row, QM_MAX_DELIVERY_ATTEMPTS);
    m->retention_seconds = db_int(res, row, QM_RETENTION_SECONDS);
    m->max_depth = db_nullable_int(res, row, QM_MAX_DEPTH);
    m->expired_through_us = db_nullable_int(res, row, QM_EXPIRED_THROUGH_US);
    m->expired_at_us = db_nullable_int(res, row, QM_EXPIRED_AT_US);
    m->dead_letters_deleted_through_us = db_nullable_int(res, row, QM_DL_DELETED_THROUGH_US);
    m->dead_letters_deleted_at_us = db_nullable_int(res, row, QM_DL_DELETED_AT_US);
}

enum store_outcome db_queues_meta(struct db_pool *pool, const char *queue, const struct queue_defaults *defaults,
                                  struct queue_meta *meta)
{
    PGresult *res;
    struct numbers d;
    defaults_text(defaults, &d);
    const char *params[] = {queue, d.a, d.b};
    memset(meta, 0, sizeof *meta);
    enum store_outcome outcome =
        db_run_read(pool, DB_RECENT_ANY, STMT_QUEUES_META, 3, params, "queue metadata", db_final_has_rows, NULL, &res);
    if (outcome == STORE_OK && PQntuples(res) == 0)
        outcome = STORE_NOT_FOUND;
    if (outcome == STORE_OK)
        row_to_meta(res, 0, meta);
    PQclear(res);
    return outcome;
}

enum store_outcome db_queues_list(struct db_pool *pool, const char *prefix, const char *after, int64_t limit,
                                  const struct queue_defaults *defaults, struct queue_list *out)
{
    PGresult *res;
    struct numbers d;
    char lim[24];
    defaults_text(defaults, &d);
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    const char *params[] = {prefix, after, lim, d.a, d.b};
    memset(out, 0, sizeof *out);
    enum store_outcome outcome =
        db_run_read(pool, DB_RECENT_ANY, STMT_QUEUES_LIST, 5, params, "list queues", NULL, NULL, &res);
    if (outcome == STORE_OK) {
        /* One row past the page tells whether there is a next one. */
        int rows = PQntuples(res) > limit ? (int)limit : PQntuples(res);
        out->items = xcalloc((size_t)rows + 1, sizeof *out->items);
        out->count = rows;
        for (int i = 0; i < rows; i++)
            row_to_meta(res, i, &out->items[i]);
        if (PQntuples(res) > limit)
            snprintf(out->next_after, sizeof out->next_after, "%s", out->items[rows - 1].queue);
    }
    PQclear(res);
    return outcome;
}

void db_queues_list_free(struct queue_list *list)
{
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

enum store_outcome db_queues_configure(struct db_pool *pool, const char *queue, const struct queue_config *in,
                                       const struct queue_defaults *defaults, struct queue_meta *meta)
{
    PGresult *res;
    char vt[24], attempts[24], retention[24], depth[24];
    snprintf(vt, sizeof vt, "%lld", (long long)in->visibility_timeout);
    snprintf(attempts, sizeof attempts, "%lld", (long long)in->max_delivery_attempts);
    snprintf(retention, sizeof retention, "%lld", (long long)in->retention_seconds);
    snprintf(depth, sizeof depth, "%lld", (long long)in->max_depth);
    const char *params[] = {queue,
                            in->has_visibility_timeout && in->visibility_timeout >= 0 ? vt : NULL,
                            in->has_max_delivery_attempts && in->max_delivery_attempts >= 0 ? attempts : NULL,
                            in->has_retention_seconds && in->retention_seconds >= 0 ? retention : NULL,
                            in->has_max_depth && in->max_depth >= 0 ? depth : NULL,
                            in->has_visibility_timeout ? "t" : "f",
                            in->has_max_delivery_attempts ? "t" : "f",
                            in->has_retention_seconds ? "t" : "f",
                            in->has_max_depth ? "t" : "f"};
    struct db_tx tx;
    memset(meta, 0, sizeof *meta);
    /* The new settings and the dead-lettering they imply commit together. */
    if (db_tx_begin(pool, &tx) == STORE_OK) {
        db_tx_exec(&tx, STMT_QUEUES_CONFIGURE, 9, params, "configure queue", &res);
        PQclear(res);
    }
    if (in->has_max_delivery_attempts && tx.outcome == STORE_OK) {
        struct numbers d;
        defaults_text(defaults, &d);
        const char *spent[] = {queue, d.b};
        db_tx_exec(&tx, STMT_QUEUES_DEAD_LETTER_SPENT, 2, spent, "dead-letter spent messages", &res);
        PQclear(res);
    }
    enum store_outcome outcome = db_tx_end(&tx);
    if (outcome != STORE_OK)
        return outcome;
    return db_queues_meta(pool, queue, defaults, meta);
}

enum store_outcome db_queues_purge(struct db_pool *pool, const char *queue, int64_t *purged)
{
    PGresult *res;
    const char *params[] = {queue};
    *purged = 0;
    enum store_outcome outcome = db_run(pool, STMT_QUEUES_PURGE, 1, params, "purge queue", &res);
    if (outcome == STORE_OK) {
        if (!db_bool(res, 0, 0))
            outcome = STORE_NOT_FOUND;
        *purged = db_int(res, 0, 1);
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_queues_delete(struct db_pool *pool, const char *queue)
{
    PGresult *res;
    const char *params[] = {queue};
    enum store_outcome outcome = db_run(pool, STMT_QUEUES_DELETE, 1, params, "delete queue", &res);
    if (outcome == STORE_OK && db_int(res, 0, 0) == 0)
        outcome = STORE_NOT_FOUND;
    PQclear(res);
    return outcome;
}

/* Columns of the peek query: whether the queue exists, each message, its sequence number. */
enum { PK_EXISTS, PK_ID, PK_TYPE, PK_ENQUEUED_US, PK_VISIBLE_US, PK_DELIVERY_COUNT, PK_CONSUMER, PK_UNTIL_US, PK_SEQ };

enum store_outcome db_queues_peek(struct db_pool *pool, const char *queue, const char *state, const char *after,
                                  int64_t limit, struct db_seq_page *out)
{
    PGresult *res;
    char lim[24];
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    const char *params[] = {queue, after, state, lim};
    memset(out, 0, sizeof *out);
    enum store_outcome outcome =
        db_run_read(pool, DB_RECENT_ANY, STMT_QUEUES_PEEK, 4, params, "peek queue", db_final_first_true, NULL, &res);
    if (outcome == STORE_OK)
        outcome = db_seq_page_take(&res, limit, out);
    PQclear(res);
    return outcome;
}

void db_queues_peeked(const struct db_seq_page *page, int i, struct peeked_message *out)
{
    const PGresult *res = page->rows->res;
    out->id = PQgetvalue(res, i, PK_ID);
    out->type = PQgetvalue(res, i, PK_TYPE);
    out->enqueued_us = db_int(res, i, PK_ENQUEUED_US);
    out->visible_us = db_int(res, i, PK_VISIBLE_US);
    out->delivery_count = db_int(res, i, PK_DELIVERY_COUNT);
    out->consumer = db_text_or_null(res, i, PK_CONSUMER);
    out->visible_until_us = db_nullable_int(res, i, PK_UNTIL_US);
}

struct depth_cache {
    pthread_mutex_t lock; /* held across a read, so that scrapes at once share it */
    int64_t refresh_us;
    int64_t tried_at_us; /* monotonic; last read attempt, failed ones included */
    struct queue_depths latest;
};

struct depth_cache *db_depth_cache_new(int64_t refresh_ms)
{
    struct depth_cache *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    c->refresh_us = refresh_ms * 1000;
    return c;
}

void db_depth_cache_free(struct depth_cache *c)
{
    if (!c)
        return;
    db_queue_depths_free(&c->latest);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void db_queue_depths_free(struct queue_depths *d)
{
    free(d->items);
    memset(d, 0, sizeof *d);
}

/* Reads every queue's depth into `c->latest`. Locked. */
static enum store_outcome read_depths(struct db_pool *pool, struct depth_cache *c)
{
    PGresult *res;
    enum store_outcome outcome =
        db_run_read(pool, DB_RECENT_ANY, STMT_QUEUES_DEPTHS, 0, NULL, "queue depths", NULL, NULL, &res);
    if (outcome == STORE_OK) {
        int rows = PQntuples(res);
        db_queue_depths_free(&c->latest);
        c->latest.items = xcalloc((size_t)rows + 1, sizeof *c->latest.items);
        c->latest.count = rows;
        c->latest.read_at_us = c->tried_at_us;
        for (int i = 0; i < rows; i++)
            row_to_meta(res, i, &c->latest.items[i]);
    }
    PQclear(res);
    return outcome;
}

enum store_outcome db_queue_depths(struct db_pool *pool, struct depth_cache *c, struct queue_depths *out)
{
    enum store_outcome outcome = STORE_OK;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&c->lock);
    int64_t now = now_usec();
    if (c->tried_at_us == 0 || now - c->tried_at_us >= c->refresh_us) {
        c->tried_at_us = now;
        outcome = read_depths(pool, c);
    } else if (c->latest.read_at_us != c->tried_at_us) {
        outcome = STORE_UNAVAILABLE; /* the last try failed; the next is due after the interval */
    }
    *out = c->latest;
    out->items = xcalloc((size_t)c->latest.count + 1, sizeof *out->items);
    if (c->latest.count > 0)
        memcpy(out->items, c->latest.items, (size_t)c->latest.count * sizeof *out->items);
    pthread_mutex_unlock(&c->lock);
    return outcome;
}
