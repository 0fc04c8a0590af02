/* Route matching; see router.h. */
#include "src/http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Compares `pattern` with `path` segment by segment; on success fills `m`'s params. */
static bool match_pattern(const char *pattern, const char *path, struct route_match *m)
{
    const char *p = pattern, *u = path;
    int n = 0;
    while (*p == '/' && *u == '/') {
        p++;
        u++;
        size_t plen = strcspn(p, "/"), ulen = strcspn(u, "/");
        if (p[0] == '{') {
            /* An empty segment is a parameter too, so that the handler answers
             * invalid_name rather than the router a misleading 404. */
            if (n == HTTP_MAX_PARAMS)
                goto fail;
            m->names[n] = p + 1; /* terminated by '}' — compared with name_matches */
            m->values[n] = percent_decode(u, ulen, false);
            n++;
        } else if (plen != ulen || strncmp(p, u, plen) != 0) {
            goto fail;
        }
        p += plen;
        u += ulen;
    }
    if (*p == '\0' && *u == '\0') {
        m->nparams = n;
        return true;
    }
fail:
    for (int i = 0; i < n; i++) {
        free(m->values[i]);
        m->values[i] = NULL;
    }
    return false;
}

static void add_allow(char *allow, size_t size, const char *method)
{
    if (strstr(allow, method))
        return;
    size_t len = strlen(allow);
    snprintf(allow + len, size - len, "%s%s", len ? ", " : "", method);
}

enum router_result router_match(const struct route *table, size_t n, const char *method, const char *path,
                                struct route_match *m)
{
    memset(m, 0, sizeof *m);
    if (!strcmp(method, "HEAD"))
        method = "GET";
    bool path_known = false;
    for (size_t i = 0; i < n; i++) {
        if (!match_pattern(table[i].pattern, path, m))
            continue;
        if (!strcmp(table[i].method, method)) {
            m->route = &table[i];
            m->allow[0] = '\0';
            return ROUTER_FOUND;
        }
        path_known = true;
        add_allow(m->allow, sizeof m->allow, table[i].method);
        if (!strcmp(table[i].method, "GET"))
            add_allow(m->allow, sizeof m->allow, "HEAD");
        router_match_free(m);
    }
    return path_known ? ROUTER_METHOD_NOT_ALLOWED : ROUTER_NOT_FOUND;
}

void router_match_free(struct route_match *m)
{
    for (int i = 0; i < m->nparams; i++) {
        free(m->values[i]);
        m->values[i] = NULL;
    }
    m->nparams = 0;
}
