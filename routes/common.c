/* What several route files share: the answer to a failed store call, list
 * pages, and the `after` cursor of sequence-ordered pages. */
#include "db/store.h"
#include "routes/routes.h"
#include "src/core/json.h"
#include "src/http/input.h"
#include "src/http/problem.h"

void route_reply_store_failure(struct request *req, enum store_outcome outcome)
{
    if (outcome == STORE_UNAVAILABLE)
        problem_reply_unavailable(req);
    else
        problem_reply_internal(req);
}

cJSON *route_page_json(const char *key, cJSON *items, const char *next_after)
{
    cJSON *root = cJSON_CreateObject();
    if (!root || !cJSON_AddItemToObject(root, key, items)) {
        cJSON_Delete(items);
        cJSON_Delete(root);
        return NULL;
    }
    if (!json_add_string_or_null(root, "next_after", next_after[0] ? next_after : NULL)) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

bool route_cursor_or_reply(struct request *req, const char **after)
{
    int64_t seq;
    if (!query_string_or_reply(req, "after", after))
        return false;
    if (*after && !parse_int64(*after, 0, INT64_MAX, &seq)) {
        problem_reply(req, 400, "invalid_parameter", "after must be a next_after value from an earlier page");
        return false;
    }
    return true;
}
