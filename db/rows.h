/* Turning PGresult rows into what routes use: JSON rendered by PostgreSQL
 * becomes raw cJSON items, integers become int64_t. */
#ifndef STREAMQ_DB_ROWS_H
#define STREAMQ_DB_ROWS_H

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <stdint.h>

/* A new array of raw items from column `col` of rows [0, nrows); NULL on allocation failure. */
cJSON *db_raw_array(const PGresult *res, int col, int nrows);

/* The integer in (row, col); 0 when NULL. */
int64_t db_int(const PGresult *res, int row, int col);

/* True when (row, col) holds PostgreSQL's boolean true. */
int db_bool(const PGresult *res, int row, int col);

#endif
