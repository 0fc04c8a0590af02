/* PostgreSQL array literals, for passing a variable number of values to a
 * prepared statement as one typed-array parameter ($1::text[], $2::jsonb[]):
 * {"a","b\"c"} with every element quoted, so no element's content (commas,
 * braces, spaces, the word NULL) can change how the literal splits. */
#ifndef STREAMQ_DB_ARRAYS_H
#define STREAMQ_DB_ARRAYS_H

#include <stddef.h>

#include "src/core/text.h"

/* Appends the string `s` (NUL-terminated, `n` = strlen(s)) as one element of
 * the literal being built in `t`, opening it with '{' when `t` is empty. */
void db_array_item(struct text *t, const char *s, size_t n);

/* Appends SQL NULL as one element. */
void db_array_null(struct text *t);

/* Appends the integer `v` as one element. */
void db_array_int(struct text *t, long long v);

/* Closes the literal; an empty `t` becomes the empty array "{}". */
void db_array_end(struct text *t);

#endif
