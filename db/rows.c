/* Row conversions; see rows.h. */
#include "db/rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/util.h"

struct db_rows *db_rows_take(PGresult **res, int col)
{
    struct db_rows *rows = xmalloc(sizeof *rows);
    rows->res = *res;
    rows->col = col;
    *res = NULL;
    return rows;
}

void db_rows_free(struct db_rows *rows)
{
    if (!rows)
        return;
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
