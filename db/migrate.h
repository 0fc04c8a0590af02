/* Schema migrations embedded from schema/NNN_*.sql: applied in order, in one
 * transaction under an advisory lock, and recorded in {p}schema_migrations. */
#ifndef STREAMQ_DB_MIGRATE_H
#define STREAMQ_DB_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "src/config.h"

/* The highest migration number compiled into this binary. */
int db_migrate_latest(void);

/* With `apply`, brings the database up to db_migrate_latest(); without, only checks
 * that it is there. On failure returns false with the reason in `err`. */
bool db_migrate(const struct config *cfg, bool apply, char *err, size_t errlen) MUST_CHECK;

#endif
