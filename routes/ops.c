/* Operational routes: liveness, readiness, version and the OpenAPI document. */
#include <string.h>

#include "db/migrate.h"
#include "db/ops.h"
#include "routes/routes.h"
#include "src/core/embedded.h"
#include "src/core/json.h"
#include "src/http/problem.h"

static const char HEALTHY[] = "{\"status\":\"ok\"}";

void route_ops_healthz(struct request *req)
{
    http_reply_static(req, 200, "application/json; charset=utf-8", HEALTHY, sizeof HEALTHY - 1);
}

void route_ops_readyz(struct request *req)
{
    if (db_ops_ping(req->svc->pool) != STORE_OK) {
        problem_reply_unavailable(req);
        return;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "status", "ready");
    http_reply_json(req, 200, body);
}

void route_ops_version(struct request *req)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "version", STREAMQ_VERSION);
    json_add_int(body, "schema_version", db_migrate_latest());
    http_reply_json(req, 200, body);
}

void route_ops_openapi(struct request *req)
{
    http_reply_static(req, 200, "application/yaml", embedded_openapi[0].text, embedded_openapi[0].len);
}
