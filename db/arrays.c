/* PostgreSQL array literals; see arrays.h. */
#include "db/arrays.h"

#include <stdio.h>
#include <string.h>

void db_array_item(struct text *t, const char *s, size_t n)
{
    text_put(t, t->len == 0 ? "{\"" : ",\"", 2);
    const char *end = s + n;
    while (s < end) {
        /* Inside quotes only '"' and '\' need a backslash before them. */
        size_t plain = strcspn(s, "\"\\");
        text_put(t, s, plain);
        s += plain;
        if (s < end) {
            char escaped[2] = {'\\', *s++};
            text_put(t, escaped, 2);
        }
    }
    text_put(t, "\"", 1);
}

void db_array_null(struct text *t)
{
    text_cstr(t, t->len == 0 ? "{NULL" : ",NULL");
}

void db_array_int(struct text *t, long long v)
{
    char n[24];
    int len = snprintf(n, sizeof n, "%lld", v);
    db_array_item(t, n, (size_t)len);
}

void db_array_end(struct text *t)
{
    text_put(t, t->len == 0 ? "{}" : "}", t->len == 0 ? 2 : 1);
}
