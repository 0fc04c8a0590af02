/* The route table: every method and path the service answers. Order matters
 * only where a literal segment and a parameter could both match. */
#include "routes/routes.h"
#include "src/router.h"

const struct route route_table[] = {
    {"GET", "/healthz", route_ops_healthz},
    {"GET", "/readyz", route_ops_readyz},
    {"GET", "/version", route_ops_version},
    {"GET", "/openapi.yaml", route_ops_openapi},
};

const size_t route_table_len = sizeof route_table / sizeof route_table[0];
