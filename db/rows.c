/* Row conversions; see rows.h. */
#include "db/rows.h"

#include <stdlib.h>

cJSON *db_raw_array(const PGresult *res, int col, int nrows)
{
    cJSON *array = cJSON_CreateArray();
    for (int i = 0; array && i < nrows; i++) {
        cJSON *raw = cJSON_CreateRaw(PQgetvalue(res, i, col));
        if (!raw || !cJSON_AddItemToArray(array, raw)) {
            cJSON_Delete(raw);
            cJSON_Delete(array);
            array = NULL;
        }
    }
    return array;
}

int64_t db_int(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int db_bool(const PGresult *res, int row, int col)
{
    return PQgetvalue(res, row, col)[0] == 't';
}
