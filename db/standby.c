/* Reads on a hot standby; see standby.h.
 *
 * The lag is measured without comparing the two servers' clocks (and without
 * pg_last_xact_replay_timestamp(), which stands still while the primary is
 * idle): each check reads the primary's flushed WAL position and remembers
 * when it last saw each position, then reads how far the standby replayed. A
 * standby that replayed everything the primary had flushed at time t is at
 * most now - t behind; one that replayed all the primary has is not behind. */
#include "db/standby.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "db/ops.h"
#include "db/pool.h"
#include "db/rows.h"
#include "src/core/log.h"

/* Primary WAL positions remembered: with one per check, 64 checks = 16 times
 * --max-replica-lag-ms, far more than needed to tell "in time" from "late". */
#define SAMPLES 64

struct wal_sample {
    int64_t lsn;     /* the primary's flushed WAL position */
    int64_t seen_us; /* the last check that found the primary there */
};

struct db_standby {
    const struct config *cfg;
    struct db_pool *pool;
    atomic_bool in_service;
    atomic_llong lag_ms;
    /* The checker's own: one thread runs db_standby_check. */
    struct wal_sample samples[SAMPLES]; /* oldest first */
    int nsamples;
};

/* Process-wide, as db_statement_errors: with no standby, every read counts on the primary. */
static atomic_llong reads_on_standby, reads_on_primary, reads_asked_again, left_service;

struct db_standby *db_standby_new(const struct config *cfg)
{
    struct db_standby *s = xcalloc(1, sizeof *s);
    s->cfg = cfg;
    s->pool = db_pool_new_standby(cfg);
    atomic_init(&s->in_service, false);
    atomic_init(&s->lag_ms, -1);
    return s;
}

void db_standby_free(struct db_standby *standby)
{
    if (!standby)
        return;
    db_pool_free(standby->pool);
    free(standby);
}

/* A standby whose link failed has probably restarted or gone: its other idle
 * connections are as dead, and would each fail a read (or a check) first. */
static void lost_link(struct db_standby *s)
{
    db_pool_close_idle(s->pool);
}

static void leave_service(struct db_standby *s, const char *why, long long lag_ms)
{
    if (!atomic_exchange(&s->in_service, false))
        return;
    atomic_fetch_add(&left_service, 1);
    if (lag_ms >= 0)
        log_warn("standby: %s (%lld ms behind); reads go to the primary until it catches up", why, lag_ms);
    else
        log_warn("standby: %s; reads go to the primary until it answers again", why);
}

static void enter_service(struct db_standby *s, long long lag_ms)
{
    if (!atomic_exchange(&s->in_service, true))
        log_info("standby: serving reads (%lld ms behind the primary)", lag_ms);
}

bool db_read_acquire(struct db_pool *pool, enum db_recency recency, struct db_read *rd)
{
    struct db_standby *s = db_pool_standby(pool);
    rd->pool = pool;
    rd->conn = NULL;
    if (s && recency != DB_RECENT_NOW && atomic_load(&s->in_service)) {
        rd->from = s->pool;
        rd->conn = db_pool_acquire(s->pool);
        if (rd->conn) {
            atomic_fetch_add(&reads_on_standby, 1);
            return true;
        }
        leave_service(s, "no connection could be had", -1);
    }
    rd->from = pool;
    rd->conn = db_pool_acquire(pool);
    if (rd->conn)
        atomic_fetch_add(&reads_on_primary, 1);
    return rd->conn != NULL;
}

bool db_read_on_standby(const struct db_read *rd)
{
    return rd->from != rd->pool;
}

bool db_read_move_to_primary(struct db_read *rd)
{
    bool broken = rd->conn && rd->conn->broken;
    db_read_release(rd);
    if (broken) {
        lost_link(db_pool_standby(rd->pool));
        leave_service(db_pool_standby(rd->pool), "its link failed", -1);
    }
    atomic_fetch_add(&reads_asked_again, 1);
    rd->from = rd->pool;
    rd->conn = db_pool_acquire(rd->pool);
    if (rd->conn)
        atomic_fetch_add(&reads_on_primary, 1);
    return rd->conn != NULL;
}

void db_read_release(struct db_read *rd)
{
    db_pool_release(rd->from, rd->conn);
    rd->conn = NULL;
}

bool db_final_has_rows(const PGresult *res, const void *cls)
{
    (void)cls;
    return PQntuples(res) > 0;
}

bool db_final_first_true(const PGresult *res, const void *cls)
{
    (void)cls;
    return PQntuples(res) > 0 && db_bool(res, 0, 0);
}

enum store_outcome db_run_read(struct db_pool *pool, enum db_recency recency, enum stmt_id id, int nparams,
                               const char *const *values, const char *what, db_read_final_fn final, const void *cls,
                               PGresult **res)
{
    struct db_read rd;
    *res = NULL;
    if (!db_read_acquire(pool, recency, &rd))
        return STORE_UNAVAILABLE;
    enum store_outcome outcome;
    for (;;) {
        *res = db_exec(rd.conn, id, nparams, values);
        outcome = db_outcome(rd.conn, *res, what);
        /* A standby that failed (lost link, timeout, a query cancelled by a
         * recovery conflict) or gave an answer the caller must not keep: ask the primary. */
        bool kept = outcome == STORE_OK ? !final || final(*res, cls) : outcome != STORE_UNAVAILABLE;
        if (kept || !db_read_on_standby(&rd))
            break;
        PQclear(*res);
        *res = NULL;
        if (!db_read_move_to_primary(&rd)) {
            outcome = STORE_UNAVAILABLE;
            break;
        }
    }
    db_read_release(&rd);
    return outcome;
}

/* Remembers that the primary has flushed up to `lsn` at `now_us`. */
static void note_primary(struct db_standby *s, int64_t lsn, int64_t now_us)
{
    struct wal_sample *last = s->nsamples ? &s->samples[s->nsamples - 1] : NULL;
    if (last && last->lsn > lsn)
        s->nsamples = 0; /* another primary (a failover): what was seen of the old one says nothing */
    else if (last && last->lsn == lsn) {
        last->seen_us = now_us;
        return;
    }
    if (s->nsamples == SAMPLES) {
        memmove(&s->samples[0], &s->samples[1], sizeof s->samples[0] * (SAMPLES - 1));
        s->nsamples--;
    }
    s->samples[s->nsamples++] = (struct wal_sample){lsn, now_us};
}

/* How far behind a standby that replayed up to `replayed` is, in ms: at most
 * the age of the last check at which the primary had flushed no more than
 * that. -1 when no such check is remembered. */
static int64_t lag_ms(const struct db_standby *s, int64_t replayed, int64_t now_us)
{
    if (s->nsamples == 0)
        return -1;
    if (replayed >= s->samples[s->nsamples - 1].lsn)
        return 0;
    int i = 0;
    while (s->samples[i].lsn <= replayed)
        i++;
    return i == 0 ? -1 : (now_us - s->samples[i - 1].seen_us) / 1000;
}

void db_standby_check(struct db_pool *pool)
{
    struct db_standby *s = db_pool_standby(pool);
    if (!s)
        return;
    PGresult *res = NULL;
    int64_t at = now_usec();
    /* A primary that does not answer leaves the standby as it was: its lag
     * cannot be told, and reads have nowhere better to go. */
    if (db_run(pool, STMT_STANDBY_PRIMARY_WAL, 0, NULL, "standby check (primary)", &res) != STORE_OK) {
        PQclear(res);
        return;
    }
    note_primary(s, db_int(res, 0, 0), at);
    PQclear(res);

    enum store_outcome outcome = db_run(s->pool, STMT_STANDBY_REPLAYED, 0, NULL, "standby check", &res);
    bool recovering = outcome == STORE_OK && db_bool(res, 0, 0);
    int64_t lag = recovering && !PQgetisnull(res, 0, 1) ? lag_ms(s, db_int(res, 0, 1), now_usec()) : -1;
    PQclear(res);
    atomic_store(&s->lag_ms, lag);
    if (outcome != STORE_OK) {
        lost_link(s);
        leave_service(s, "it does not answer", -1);
    } else if (!recovering)
        leave_service(s, "it is not a standby (pg_is_in_recovery() is false)", -1);
    else if (lag < 0)
        leave_service(s, "how far it is behind cannot be told yet", -1);
    else if (lag > s->cfg->max_replica_lag_ms)
        leave_service(s, "it is behind by more than --max-replica-lag-ms", lag);
    else
        enter_service(s, lag);
}

int64_t db_standby_check_interval_ms(const struct config *cfg)
{
    int64_t ms = cfg->max_replica_lag_ms / 4;
    return ms < 25 ? 25 : ms > 1000 ? 1000 : ms;
}

void db_read_stats(struct db_pool *pool, struct db_read_stats *out)
{
    struct db_standby *s = db_pool_standby(pool);
    out->configured = s != NULL;
    out->in_service = s && atomic_load(&s->in_service);
    out->lag_ms = s ? atomic_load(&s->lag_ms) : -1;
    out->on_standby = atomic_load(&reads_on_standby);
    out->on_primary = atomic_load(&reads_on_primary);
    out->asked_again = atomic_load(&reads_asked_again);
    out->out_of_service = atomic_load(&left_service);
}
