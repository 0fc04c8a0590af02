/* The route table: every method and path the service answers. Order matters
 * only where a literal segment and a parameter could both match. */
#include "routes/routes.h"
#include "src/router.h"

const struct route route_table[] = {
    {"GET", "/healthz", route_ops_healthz},
    {"GET", "/readyz", route_ops_readyz},
    {"GET", "/version", route_ops_version},
    {"GET", "/openapi.yaml", route_ops_openapi},

    {"GET", "/streams", route_streams_list},
    {"GET", "/streams/{stream}", route_streams_get},
    {"DELETE", "/streams/{stream}", route_streams_delete},
    {"PUT", "/streams/{stream}/retention", route_streams_put_retention},
    {"POST", "/streams/{stream}/archive", route_streams_archive},
    {"POST", "/streams/{stream}/unarchive", route_streams_unarchive},
    {"POST", "/streams/{stream}/events", route_events_append},
    {"GET", "/streams/{stream}/events", route_events_read},
    {"GET", "/streams/{stream}/events/{offset}", route_events_get},
    {"GET", "/events", route_events_global_read},
};

const size_t route_table_len = sizeof route_table / sizeof route_table[0];
