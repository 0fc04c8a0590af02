/* The statement table; see statements.h. SQL for a resource is grouped with
 * the store file that runs it. */
#include "db/statements.h"

#include <string.h>

#include "src/util.h"

const struct statement statements[STMT_COUNT_] = {
    [STMT_PING] = {"ping", "SELECT 1"},
};

char *statements_expand(const char *sql, const char *prefix)
{
    size_t plen = strlen(prefix), n = 0, cap = strlen(sql) + 1;
    for (const char *s = sql; (s = strstr(s, "{p}")); s += 3)
        cap += plen;
    char *out = xmalloc(cap);
    for (const char *s = sql; *s;) {
        if (!strncmp(s, "{p}", 3)) {
            memcpy(out + n, prefix, plen);
            n += plen;
            s += 3;
        } else {
            out[n++] = *s++;
        }
    }
    out[n] = '\0';
    return out;
}
