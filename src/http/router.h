/* Maps method + path to a route handler. Patterns are literal segments and
 * {name} parameters; parameters are percent-decoded segment by segment so an
 * encoded '/' stays inside its parameter. */
#ifndef STREAMQ_ROUTER_H
#define STREAMQ_ROUTER_H

#include <stddef.h>

#include "src/http/auth.h"
#include "src/http/server.h"

typedef void (*route_handler)(struct request *req);

struct route {
    const char *method;  /* "GET", "POST", "PUT", "DELETE" */
    const char *pattern; /* e.g. "/streams/{stream}/events/{offset}"; also the log name */
    route_handler handler;
    /* What a bearer token must cover when tokens are configured (auth.h);
     * path parameters {stream}, {queue} and {name} must also lie within the
     * token's name prefix. */
    enum auth_scope scope;
};

enum router_result { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_METHOD_NOT_ALLOWED };

struct route_match {
    const struct route *route;
    int nparams;
    const char *names[HTTP_MAX_PARAMS]; /* point into the pattern (static) */
    char *values[HTTP_MAX_PARAMS];      /* owned; NULL when the segment's escapes are malformed */
    char allow[64];                     /* for 405: "GET, POST" */
};

/* Finds the first route whose pattern and method match. HEAD matches GET routes.
 * On ROUTER_FOUND, `m` owns decoded values: free them with router_match_free. */
enum router_result router_match(const struct route *table, size_t n, const char *method, const char *path,
                                struct route_match *m);
void router_match_free(struct route_match *m);

#endif
