/* Every route handler, by resource file. Handlers parse, validate, make one
 * store call and render; see STYLE.md. */
#ifndef STREAMQ_ROUTES_H
#define STREAMQ_ROUTES_H

#include "src/http.h"

void route_ops_healthz(struct request *req);
void route_ops_readyz(struct request *req);
void route_ops_version(struct request *req);
void route_ops_openapi(struct request *req);

#endif
