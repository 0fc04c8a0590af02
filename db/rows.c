/* Row conversions; see rows.h. */
#include "db/rows.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/util.h"

struct db_rows_shared {
    PGresult *res;
    atomic_int refs;
};

struct db_rows *db_rows_take(PGresult **res, int col)
{
    struct db_rows *rows = xcalloc(1, sizeof *rows);
    rows->res = *res;
    rows->col = col;
    *res = NULL;
    return rows;
}

struct db_rows_shared *db_rows_share(PGresult **res)
{
    struct db_rows_shared *shared = xmalloc(sizeof *shared);
    shared->res = *res;
    atomic_init(&shared->refs, 1);
    *res = NULL;
    return shared;
}

struct db_rows *db_rows_slice(struct db_rows_shared *shared, int col, int first)
{
    struct db_rows *rows = xcalloc(1, sizeof *rows);
    atomic_fetch_add(&shared->refs, 1);
    rows->res = shared->res;
    rows->col = col;
    rows->first = first;
    rows->shared = shared;
    return rows;
}

void db_rows_unshare(struct db_rows_shared *shared)
{
    if (shared && atomic_fetch_sub(&shared->refs, 1) == 1) {
        PQclear(shared->res);
        free(shared);
    }
}

void db_rows_free(struct db_rows *rows)
{
    if (!rows)
        return;
    if (rows->shared)
        db_rows_unshare(rows->shared);
    else
        PQclear(rows->res);
    free(rows);
}

enum store_outcome db_seq_page_take(PGresult **res, int64_t limit, struct db_seq_page *page)
{
    memset(page, 0, sizeof *page);
    if (!db_bool(*res, 0, 0))
        return STORE_NOT_FOUND;
    /* Without items, the one row is the parent's, its item columns NULL. */
    int found = PQgetisnull(*res, 0, 1) ? 0 : PQntuples(*res);
    page->count = found > limit ? (int)limit : found;
    if (found > limit)
        db_copy(*res, page->count - 1, PQnfields(*res) - 1, page->next_after, sizeof page->next_after);
    page->rows = db_rows_take(res, 0);
    return STORE_OK;
}

int64_t db_int(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

struct db_nullable db_nullable_int(const PGresult *res, int row, int col)
{
    struct db_nullable v = {PQgetisnull(res, row, col), 0};
    if (!v.is_null)
        v.value = db_int(res, row, col);
    return v;
}

int db_bool(const PGresult *res, int row, int col)
{
    return PQgetvalue(res, row, col)[0] == 't';
}

const char *db_text_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

struct db_json db_json_at(const PGresult *res, int row, int col)
{
    struct db_json v = {db_text_or_null(res, row, col), (size_t)PQgetlength(res, row, col)};
    return v;
}

void db_copy(const PGresult *res, int row, int col, char *out, size_t size)
{
    snprintf(out, size, "%s", PQgetvalue(res, row, col));
}
