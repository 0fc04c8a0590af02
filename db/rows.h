/* Reading PGresult values inside db/: integers, nullable values and strings,
 * and keeping a result as struct db_rows for accessors that lend its values. */
#ifndef STREAMQ_DB_ROWS_H
#define STREAMQ_DB_ROWS_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "db/store.h"

struct db_rows_shared;

struct db_rows {
    PGresult *res;
    int col;                       /* the first column the accessors read */
    int first;                     /* the first row: accessors read row first + i */
    struct db_rows_shared *shared; /* NULL: `res` is owned by these rows alone */
};

/* Keeps `*res` as rows whose accessors start at column `col`, and sets `*res`
 * to NULL (so the caller's PQclear on its way out does nothing). */
struct db_rows *db_rows_take(PGresult **res, int col);

/* One result read for a group of jobs (db/batcher.h), each of which keeps the
 * rows that answer it: the result lives until the last of them is freed.
 * db_rows_share takes `*res` (and sets it to NULL) with one reference, the
 * sharer's, given up with db_rows_unshare; each slice holds another. */
struct db_rows_shared *db_rows_share(PGresult **res);
/* Rows from row `first` on, accessors starting at column `col`. */
struct db_rows *db_rows_slice(struct db_rows_shared *shared, int col, int first);
/* Gives up the sharer's reference; accepts NULL. */
void db_rows_unshare(struct db_rows_shared *shared);
/* Fills `page` from `*res`, the rows of a statement whose first column says
 * whether the parent (the queue) exists and whose last is the sequence number;
 * one row past `limit` means a next page. Takes the result (see db_rows_take)
 * unless the parent is missing: then STORE_NOT_FOUND. */
enum store_outcome db_seq_page_take(PGresult **res, int64_t limit, struct db_seq_page *page);

/* The integer in (row, col); 0 when NULL. */
int64_t db_int(const PGresult *res, int row, int col);

/* The integer in (row, col), or null. */
struct db_nullable db_nullable_int(const PGresult *res, int row, int col);

/* True when (row, col) holds PostgreSQL's boolean true. */
int db_bool(const PGresult *res, int row, int col);

/* The text in (row, col), borrowed from `res`; NULL when NULL. */
const char *db_text_or_null(const PGresult *res, int row, int col);

/* The JSON text in (row, col), borrowed from `res`; text NULL when NULL. */
struct db_json db_json_at(const PGresult *res, int row, int col);

/* Copies the text in (row, col) into `out` (`size` bytes, cut if longer). */
void db_copy(const PGresult *res, int row, int col, char *out, size_t size);

#endif
