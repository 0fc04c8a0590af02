/* Several statements as one transaction on one borrowed connection: a store
 * call that writes in more than one statement begins, runs each, and ends,
 * which commits only when every statement succeeded (else rolls back). */
#ifndef STREAMQ_DB_TX_H
#define STREAMQ_DB_TX_H

#include <libpq-fe.h>

#include "db/pool.h"

struct db_tx {
    struct db_pool *pool;
    struct db_conn *conn;
    enum store_outcome outcome; /* STORE_OK until a statement fails; then that failure */
};

/* Borrows a connection and opens a transaction on it. Whatever it returns, call
 * db_tx_end once. */
enum store_outcome db_tx_begin(struct db_pool *pool, struct db_tx *tx) MUST_CHECK;

/* Runs prepared statement `id` in the transaction. The caller owns `*res` (NULL when
 * the transaction had already failed) and PQclears it. A failure is remembered:
 * later statements are skipped and db_tx_end rolls back. */
enum store_outcome db_tx_exec(struct db_tx *tx, enum stmt_id id, int nparams, const char *const *values,
                              const char *what, PGresult **res);

/* Runs statement `id` in `tx` when it is not NULL (as db_tx_exec), else alone on
 * a connection of `pool` (as db_run): the store calls a transaction of several
 * operations shares with the single routes take either. */
enum store_outcome db_tx_or_run(struct db_pool *pool, struct db_tx *tx, enum stmt_id id, int nparams,
                                const char *const *values, const char *what, PGresult **res) MUST_CHECK;

/* Marks the transaction failed with `outcome` (a check in C refused what a
 * statement returned), so that db_tx_end rolls back. */
void db_tx_fail(struct db_tx *tx, enum store_outcome outcome);

/* Parts of a transaction that fail alone: db_tx_part_begin opens a savepoint;
 * db_tx_part_end releases it when every statement since succeeded, else rolls
 * back to it (undoing them) and clears the failure, so that the transaction
 * goes on. False when the savepoint itself could not be handled (the link
 * failed): then the whole transaction has failed. */
bool db_tx_part_begin(struct db_tx *tx);
bool db_tx_part_end(struct db_tx *tx);

/* Commits when every statement succeeded, else rolls back; gives the connection
 * back. Returns the transaction's outcome (a failed COMMIT included). */
enum store_outcome db_tx_end(struct db_tx *tx);

#endif
