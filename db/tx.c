/* Transactions over the pool; see tx.h. */
#include "db/tx.h"

enum store_outcome db_tx_begin(struct db_pool *pool, struct db_tx *tx)
{
    tx->pool = pool;
    tx->outcome = STORE_OK;
    tx->conn = db_pool_acquire(pool);
    if (!tx->conn)
        return tx->outcome = STORE_UNAVAILABLE;
    PGresult *res = NULL;
    enum store_outcome outcome = db_tx_exec(tx, STMT_TX_BEGIN, 0, NULL, "begin", &res);
    PQclear(res);
    return outcome;
}

enum store_outcome db_tx_exec(struct db_tx *tx, enum stmt_id id, int nparams, const char *const *values,
                              const char *what, PGresult **res)
{
    *res = NULL;
    if (tx->outcome != STORE_OK)
        return tx->outcome;
    *res = db_exec(tx->conn, id, nparams, values);
    tx->outcome = db_outcome(tx->conn, *res, what);
    return tx->outcome;
}

enum store_outcome db_tx_or_run(struct db_pool *pool, struct db_tx *tx, enum stmt_id id, int nparams,
                                const char *const *values, const char *what, PGresult **res)
{
    if (tx)
        return db_tx_exec(tx, id, nparams, values, what, res);
    return db_run(pool, id, nparams, values, what, res);
}

bool db_tx_part_begin(struct db_tx *tx)
{
    PGresult *res = NULL;
    enum store_outcome outcome = db_tx_exec(tx, STMT_TX_SAVEPOINT, 0, NULL, "savepoint", &res);
    PQclear(res);
    return outcome == STORE_OK;
}

bool db_tx_part_end(struct db_tx *tx)
{
    if (!tx->conn)
        return false;
    bool failed = tx->outcome != STORE_OK;
    PGresult *res = db_exec(tx->conn, failed ? STMT_TX_ROLLBACK_TO : STMT_TX_RELEASE, 0, NULL);
    enum store_outcome outcome = db_outcome(tx->conn, res, failed ? "rollback to savepoint" : "release savepoint");
    PQclear(res);
    tx->outcome = outcome;
    return outcome == STORE_OK;
}

void db_tx_fail(struct db_tx *tx, enum store_outcome outcome)
{
    if (tx->outcome == STORE_OK)
        tx->outcome = outcome;
}

enum store_outcome db_tx_end(struct db_tx *tx)
{
    if (!tx->conn)
        return tx->outcome;
    if (tx->outcome == STORE_OK) {
        PGresult *res = NULL;
        db_tx_exec(tx, STMT_TX_COMMIT, 0, NULL, "commit", &res);
        PQclear(res);
    }
    /* Release rolls back whatever is still open (a failed transaction). */
    db_pool_release(tx->pool, tx->conn);
    tx->conn = NULL;
    return tx->outcome;
}
