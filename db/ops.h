/* Store calls for the operational routes. */
#ifndef STREAMQ_DB_OPS_H
#define STREAMQ_DB_OPS_H

#include "db/store.h"
#include "src/core/util.h"

/* STORE_OK when a pooled connection answers a query, else STORE_UNAVAILABLE. */
enum store_outcome db_ops_ping(struct db_pool *pool) MUST_CHECK;

#endif
