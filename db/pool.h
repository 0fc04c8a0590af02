/* A fixed-size pool of libpq connections. Each connection has every statement
 * of statements.h prepared when it connects; a broken one is reconnected and
 * re-prepared before it is handed out again. Thread-safe. */
#ifndef STREAMQ_DB_POOL_H
#define STREAMQ_DB_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "db/statements.h"
#include "db/store.h"
#include "src/config.h"

struct db_pool;

struct db_conn {
    PGconn *pg;
    bool broken; /* set by db_exec when the link failed; the pool reconnects it */
    bool in_use;
    int index;
};

/* The primary's pool: opens cfg->pool_min connections; returns NULL (and logs)
 * if any fails. With --read-database-url it also holds the standby's
 * (db/standby.h), which reads reach through db_run_read. */
struct db_pool *db_pool_new(const struct config *cfg) MUST_CHECK;
/* A pool of up to cfg->pool_max connections to --read-database-url, named
 * streamq-read; none is opened before it is needed. For db/standby.c. */
struct db_pool *db_pool_new_standby(const struct config *cfg) MUST_CHECK;
/* The standby of the primary's pool, or NULL. */
struct db_standby *db_pool_standby(struct db_pool *pool);
/* Closes every connection not lent out, so that the next acquire opens a new
 * one: after the server restarted, each of them would fail once otherwise. */
void db_pool_close_idle(struct db_pool *pool);
/* Frees the pool (and its standby's). Accepts NULL. */
void db_pool_free(struct db_pool *pool);

/* Borrows a connection, waiting up to the acquire timeout. NULL: none could be had
 * (all busy or the database is unreachable); treat as STORE_UNAVAILABLE. */
struct db_conn *db_pool_acquire(struct db_pool *pool) MUST_CHECK;
/* Returns `conn`; rolls back an open transaction first. Accepts NULL. */
void db_pool_release(struct db_pool *pool, struct db_conn *conn);

/* Runs prepared statement `id` with text parameters (NULL values are SQL NULL).
 * Never returns NULL; the caller PQclears the result. A failed link marks `conn` broken. */
PGresult *db_exec(struct db_conn *conn, enum stmt_id id, int nparams, const char *const *values);
/* The same, with `meanwhile(cls)` run (always, once) while PostgreSQL works on
 * the statement, so that the caller's own work overlaps with the database's. */
PGresult *db_exec_meanwhile(struct db_conn *conn, enum stmt_id id, int nparams, const char *const *values,
                            void (*meanwhile)(void *), void *cls);

/* Maps a result to an outcome: STORE_OK for success, else by SQLSTATE; logs unexpected errors. */
enum store_outcome db_outcome(struct db_conn *conn, const PGresult *res, const char *what);

/* Borrows a connection, runs one statement, gives the connection back. The caller
 * owns `*res` (NULL when no connection could be had) and PQclears it. */
enum store_outcome db_run(struct db_pool *pool, enum stmt_id id, int nparams, const char *const *values,
                          const char *what, PGresult **res) MUST_CHECK;

/* Pool figures and statement errors for /metrics: db/ops.h. */

/* Prepares every statement of statements.h on `pg`; false (logged) when one fails. */
bool db_prepare_all(const struct config *cfg, PGconn *pg) MUST_CHECK;

/* Connects with the service's settings (search_path, statement_timeout, application_name).
 * Returns NULL with the reason in `err`; used by the pool and by migrations. */
PGconn *db_connect(const struct config *cfg, char *err, size_t errlen);

#endif
