/* Store calls for the operational routes; see ops.h. */
#include "db/ops.h"

#include "db/pool.h"

enum store_outcome db_ops_ping(struct db_pool *pool)
{
    struct db_conn *conn = db_pool_acquire(pool);
    if (!conn)
        return STORE_UNAVAILABLE;
    PGresult *res = db_exec(conn, STMT_PING, 0, NULL);
    enum store_outcome out = db_outcome(conn, res, "ping") == STORE_OK ? STORE_OK : STORE_UNAVAILABLE;
    PQclear(res);
    db_pool_release(pool, conn);
    return out;
}
