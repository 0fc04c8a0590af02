/* Connection pool; see pool.h. Slots are fixed at pool-max; a slot's connection
 * is opened at start-up (the first pool-min) or on first use. */
#include "db/pool.h"

#include "db/listen.h"
#include "db/ops.h"
#include "db/standby.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/core/log.h"

/* After a failed connect, other acquirers fail fast for this long instead of
 * each waiting on their own doomed attempt while the database is down. */
#define RECONNECT_BACKOFF_US (250 * 1000)

struct db_pool {
    const struct config *cfg;
    const char *url, *app;      /* where its connections go, and what pg_stat_activity calls them */
    bool notify;                /* its commits wake waiting readers (the primary's) */
    struct db_standby *standby; /* the primary's: reads for a hot standby, or NULL */
    pthread_mutex_t lock;
    pthread_cond_t freed;
    struct db_conn *slots;
    int size;
    int in_use;
    long long waits, timeouts;
    long long acquires, acquire_us; /* connections handed out, and the time spent getting them */
    int64_t last_connect_failure_us;
    bool failing; /* the last connect failed: a standby's pool says so once, not at every retry */
};

/* Failed statements by the first two characters of their SQLSTATE ([0-9A-Z]),
 * and failures without one (a lost link) in the last slot. Process-wide, as
 * db_outcome sees a connection, not its pool. */
#define SQLSTATE_CLASSES (36 * 36)
static atomic_llong statement_errors[SQLSTATE_CLASSES + 1];

static int class_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'Z' ? c - 'A' + 10 : -1;
}

static void count_error(const char *state)
{
    int hi = state ? class_digit(state[0]) : -1, lo = hi >= 0 ? class_digit(state[1]) : -1;
    atomic_fetch_add(&statement_errors[lo >= 0 ? hi * 36 + lo : SQLSTATE_CLASSES], 1);
}

static PGconn *connect_to(const struct config *cfg, const char *url, const char *app, bool notify, char *err,
                          size_t errlen)
{
    char options[300], channel[DB_CHANNEL_LEN + 1] = "";
    /* The channel makes this connection's commits wake waiting readers (schema/002_notify.sql). */
    if (cfg->notify && notify)
        db_notify_channel(cfg, channel);
    int n = snprintf(options, sizeof options, "-c search_path=%s -c statement_timeout=%lld", cfg->schema,
                     (long long)cfg->command_timeout_ms);
    if (*channel)
        snprintf(options + n, sizeof options - (size_t)n, " -c streamq.notify_channel=%s", channel);
    const char *keys[] = {"connect_timeout", "application_name", "dbname", "options", NULL};
    const char *vals[] = {"5", app, url, options, NULL};
    if (!*url) {
        /* Leave the database to PGDATABASE and libpq's defaults. */
        keys[2] = "options";
        vals[2] = options;
        keys[3] = vals[3] = NULL;
    }
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        const char *msg = pg ? PQerrorMessage(pg) : "out of memory";
        snprintf(err, errlen, "%s connection failed: %.*s", notify ? "database" : "standby", (int)strcspn(msg, "\n"),
                 msg);
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

PGconn *db_connect(const struct config *cfg, char *err, size_t errlen)
{
    return connect_to(cfg, cfg->database_url, "streamq", true, err, errlen);
}

bool db_prepare_all(const struct config *cfg, PGconn *pg)
{
    for (int i = 0; i < STMT_COUNT_; i++) {
        char *sql = statements_expand(statements[i].sql, cfg->table_prefix);
        PGresult *res = PQprepare(pg, statements[i].name, sql, 0, NULL);
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok) {
            const char *msg = PQresultErrorMessage(res);
            log_error("preparing statement %s failed: %.*s", statements[i].name, (int)strcspn(msg, "\n"), msg);
        }
        PQclear(res);
        free(sql);
        if (!ok)
            return false;
    }
    return true;
}

/* Opens and prepares `slot`'s connection; the caller holds the slot (in_use). */
static bool connect_slot(struct db_pool *pool, struct db_conn *slot)
{
    PQfinish(slot->pg);
    slot->pg = NULL;
    slot->broken = false;

    pthread_mutex_lock(&pool->lock);
    bool backoff = now_usec() - pool->last_connect_failure_us < RECONNECT_BACKOFF_US;
    pthread_mutex_unlock(&pool->lock);
    if (backoff)
        return false;

    char err[512];
    PGconn *pg = connect_to(pool->cfg, pool->url, pool->app, pool->notify, err, sizeof err);
    pthread_mutex_lock(&pool->lock);
    bool first = !pool->failing;
    pool->failing = !pg;
    pthread_mutex_unlock(&pool->lock);
    if (!pg && pool->notify)
        log_error("%s", err);
    else if (!pg && first)
        log_warn("%s (tried again while reads go to the primary)", err);
    if (pg && db_prepare_all(pool->cfg, pg)) {
        slot->pg = pg;
        return true;
    }
    PQfinish(pg);
    pthread_mutex_lock(&pool->lock);
    pool->last_connect_failure_us = now_usec();
    pthread_mutex_unlock(&pool->lock);
    return false;
}

static struct db_pool *pool_open(const struct config *cfg, const char *url, const char *app, bool notify, int64_t min)
{
    struct db_pool *pool = xcalloc(1, sizeof *pool);
    pool->cfg = cfg;
    pool->url = url;
    pool->app = app;
    pool->notify = notify;
    pool->size = (int)cfg->pool_max;
    pool->slots = xcalloc((size_t)pool->size, sizeof *pool->slots);
    pool->last_connect_failure_us = now_usec() - 2 * RECONNECT_BACKOFF_US;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->freed, &attr);
    pthread_condattr_destroy(&attr);
    for (int i = 0; i < pool->size; i++)
        pool->slots[i].index = i;
    for (int i = 0; i < min; i++) {
        if (!connect_slot(pool, &pool->slots[i])) {
            db_pool_free(pool);
            return NULL;
        }
    }
    return pool;
}

struct db_pool *db_pool_new(const struct config *cfg)
{
    struct db_pool *pool = pool_open(cfg, cfg->database_url, "streamq", true, cfg->pool_min);
    if (pool && *cfg->read_database_url)
        pool->standby = db_standby_new(cfg);
    return pool;
}

struct db_pool *db_pool_new_standby(const struct config *cfg)
{
    /* Nothing opened yet: a standby that is down must not stop start-up. */
    return pool_open(cfg, cfg->read_database_url, "streamq-read", false, 0);
}

struct db_standby *db_pool_standby(struct db_pool *pool)
{
    return pool->standby;
}

void db_pool_close_idle(struct db_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    for (int i = 0; i < pool->size; i++) {
        struct db_conn *s = &pool->slots[i];
        if (!s->in_use && s->pg) {
            PQfinish(s->pg);
            s->pg = NULL;
            s->broken = false;
        }
    }
    pthread_mutex_unlock(&pool->lock);
}

void db_pool_free(struct db_pool *pool)
{
    if (!pool)
        return;
    db_standby_free(pool->standby);
    for (int i = 0; i < pool->size; i++)
        PQfinish(pool->slots[i].pg);
    free(pool->slots);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->freed);
    free(pool);
}

static struct db_conn *take_free_slot(struct db_pool *pool)
{
    struct db_conn *fallback = NULL;
    for (int i = 0; i < pool->size; i++) {
        struct db_conn *s = &pool->slots[i];
        if (s->in_use)
            continue;
        if (s->pg && !s->broken)
            return s;
        if (!fallback)
            fallback = s;
    }
    return fallback;
}

struct db_conn *db_pool_acquire(struct db_pool *pool)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    int64_t started_us = (int64_t)deadline.tv_sec * 1000000 + deadline.tv_nsec / 1000;
    int64_t ms = pool->cfg->acquire_timeout_ms;
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }

    pthread_mutex_lock(&pool->lock);
    struct db_conn *slot;
    bool counted = false;
    while (!(slot = take_free_slot(pool))) {
        if (!counted) {
            pool->waits++;
            counted = true;
        }
        if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) == ETIMEDOUT &&
            !(slot = take_free_slot(pool))) {
            pool->timeouts++;
            pthread_mutex_unlock(&pool->lock);
            return NULL;
        }
        if (slot)
            break;
    }
    slot->in_use = true;
    pool->in_use++;
    pool->acquires++;
    pool->acquire_us += now_usec() - started_us;
    pthread_mutex_unlock(&pool->lock);

    if (!slot->pg || slot->broken || PQstatus(slot->pg) != CONNECTION_OK) {
        if (!connect_slot(pool, slot)) {
            db_pool_release(pool, slot);
            return NULL;
        }
    }
    return slot;
}

void db_pool_release(struct db_pool *pool, struct db_conn *conn)
{
    if (!conn)
        return;
    if (conn->pg && !conn->broken) {
        PGTransactionStatusType ts = PQtransactionStatus(conn->pg);
        if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
            PGresult *res = PQexec(conn->pg, "ROLLBACK");
            if (PQresultStatus(res) != PGRES_COMMAND_OK)
                conn->broken = true;
            PQclear(res);
        } else if (ts != PQTRANS_IDLE) {
            conn->broken = true;
        }
    }
    if (conn->broken) {
        PQfinish(conn->pg);
        conn->pg = NULL;
        conn->broken = false;
    }
    pthread_mutex_lock(&pool->lock);
    conn->in_use = false;
    pool->in_use--;
    pthread_cond_signal(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
}

PGresult *db_exec(struct db_conn *conn, enum stmt_id id, int nparams, const char *const *values)
{
    return db_exec_meanwhile(conn, id, nparams, values, NULL, NULL);
}

PGresult *db_exec_meanwhile(struct db_conn *conn, enum stmt_id id, int nparams, const char *const *values,
                            void (*meanwhile)(void *), void *cls)
{
    PGresult *res = NULL;
    int format = statements[id].binary ? 1 : 0;
    if (!meanwhile) {
        res = PQexecPrepared(conn->pg, statements[id].name, nparams, values, NULL, NULL, format);
    } else if (!PQsendQueryPrepared(conn->pg, statements[id].name, nparams, values, NULL, NULL, format)) {
        meanwhile(cls);
    } else {
        meanwhile(cls);
        /* One statement: its result, then NULL; keep the last one if there were more. */
        for (PGresult *r; (r = PQgetResult(conn->pg));) {
            PQclear(res);
            res = r;
        }
    }
    if (PQstatus(conn->pg) != CONNECTION_OK)
        conn->broken = true;
    if (!res)
        res = PQmakeEmptyPGresult(conn->pg, PGRES_FATAL_ERROR);
    return res;
}

enum store_outcome db_outcome(struct db_conn *conn, const PGresult *res, const char *what)
{
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return STORE_OK;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    count_error(conn->broken ? NULL : state);
    const char *msg = PQresultErrorMessage(res);
    int msglen = (int)strcspn(msg, "\n");
    if (!state || conn->broken) {
        conn->broken = true;
        log_warn("%s: database link failed: %.*s", what, msglen, msg);
        return STORE_UNAVAILABLE;
    }
    if (!strcmp(state, "23505"))
        return STORE_DUPLICATE;
    if (!strncmp(state, "22", 2))
        return STORE_INVALID;
    if (!strncmp(state, "08", 2) || !strncmp(state, "57", 2) || !strncmp(state, "53", 2) || !strcmp(state, "40001") ||
        !strcmp(state, "40P01") || !strcmp(state, "55P03")) {
        log_warn("%s: database unavailable (%s): %.*s", what, state, msglen, msg);
        return STORE_UNAVAILABLE;
    }
    log_error("%s: database error %s: %.*s", what, state, msglen, msg);
    return STORE_ERROR;
}

void db_pool_stats(struct db_pool *pool, struct db_pool_stats *out)
{
    pthread_mutex_lock(&pool->lock);
    out->size = pool->size;
    out->open = 0;
    for (int i = 0; i < pool->size; i++)
        out->open += pool->slots[i].pg != NULL;
    out->in_use = pool->in_use;
    out->waits = pool->waits;
    out->timeouts = pool->timeouts;
    out->acquires = pool->acquires;
    out->acquire_us = pool->acquire_us;
    pthread_mutex_unlock(&pool->lock);
}

int db_statement_errors(struct db_error_count *out, int max)
{
    int n = 0;
    for (int i = 0; i <= SQLSTATE_CLASSES && n < max; i++) {
        long long count = atomic_load(&statement_errors[i]);
        if (count == 0)
            continue;
        static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        if (i < SQLSTATE_CLASSES)
            snprintf(out[n].sqlstate_class, sizeof out[n].sqlstate_class, "%c%c", digits[i / 36], digits[i % 36]);
        else
            snprintf(out[n].sqlstate_class, sizeof out[n].sqlstate_class, "none");
        out[n++].count = count;
    }
    return n;
}

enum store_outcome db_run(struct db_pool *pool, enum stmt_id id, int nparams, const char *const *values,
                          const char *what, PGresult **res)
{
    *res = NULL;
    struct db_conn *conn = db_pool_acquire(pool);
    if (!conn)
        return STORE_UNAVAILABLE;
    *res = db_exec(conn, id, nparams, values);
    enum store_outcome outcome = db_outcome(conn, *res, what);
    db_pool_release(pool, conn);
    return outcome;
}
