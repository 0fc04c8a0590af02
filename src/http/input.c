/* Input validation that replies; see input.h. */
#include "src/http/input.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/core/json.h"
#include "src/http/problem.h"

bool path_name_or_reply(struct request *req, const char *param, const char **out)
{
    const char *v = http_param(req, param);
    if (!v || !name_is_valid(v)) {
        problem_reply(req, 400, "invalid_name", "%s must be 1-%d characters of A-Z a-z 0-9 . _ : - (and not . or ..)",
                      param, NAME_MAX_LEN);
        return false;
    }
    *out = v;
    return true;
}

bool body_name_or_reply(struct request *req, const cJSON *obj, const char *member, const char **out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, member);
    if (!cJSON_IsString(item) || !name_is_valid(item->valuestring)) {
        problem_reply(req, 400, "invalid_name", "%s must be 1-%d characters of A-Z a-z 0-9 . _ : - (and not . or ..)",
                      member, NAME_MAX_LEN);
        return false;
    }
    *out = item->valuestring;
    return true;
}

bool query_string_or_reply(struct request *req, const char *name, const char **out)
{
    bool bad;
    *out = http_query(req, name, &bad);
    if (bad) {
        problem_reply(req, 400, "invalid_parameter", "query parameter %s has a malformed %%-escape or is not UTF-8",
                      name);
        return false;
    }
    return true;
}

bool query_int_or_reply(struct request *req, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out)
{
    const char *v;
    if (!query_string_or_reply(req, name, &v))
        return false;
    if (!v) {
        *out = def;
        return true;
    }
    if (!parse_int64(v, min, max, out)) {
        problem_reply(req, 400, "invalid_parameter", "query parameter %s must be an integer from %lld to %lld", name,
                      (long long)min, (long long)max);
        return false;
    }
    return true;
}

bool body_int_or_reply(struct request *req, const cJSON *obj, const char *name, int64_t min, int64_t max, int64_t *out,
                       bool *present)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    *present = item && !cJSON_IsNull(item);
    if (!*present)
        return true;
    if (!json_is_int(item, min, max)) {
        problem_reply(req, 400, "invalid_request", "%s must be an integer from %lld to %lld", name, (long long)min,
                      (long long)max);
        return false;
    }
    *out = (int64_t)item->valuedouble;
    return true;
}

bool body_string_or_reply(struct request *req, const cJSON *obj, const char *name, size_t max_len, bool required,
                          const char **out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    if (!item || cJSON_IsNull(item)) {
        if (!required)
            return true;
        problem_reply(req, 400, "invalid_request", "%s is required", name);
        return false;
    }
    size_t len = 0;
    if (cJSON_IsString(item))
        for (const char *c = item->valuestring; *c; c++)
            len += ((unsigned char)*c & 0xC0) != 0x80; /* characters, not bytes */
    if (len == 0 || len > max_len) {
        problem_reply(req, 400, "invalid_request", "%s must be a string of 1-%zu characters", name, max_len);
        return false;
    }
    *out = item->valuestring;
    return true;
}

bool body_bool_or_reply(struct request *req, const cJSON *obj, const char *name, bool def, bool *out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!item || cJSON_IsNull(item)) {
        *out = def;
        return true;
    }
    if (!cJSON_IsBool(item)) {
        problem_reply(req, 400, "invalid_request", "%s must be true or false", name);
        return false;
    }
    *out = cJSON_IsTrue(item);
    return true;
}

bool body_nullable_int_or_reply(struct request *req, const cJSON *obj, const char *name, int64_t min, int64_t max,
                                bool *has, int64_t *value)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    *has = item != NULL;
    *value = -1;
    if (!item || cJSON_IsNull(item))
        return true;
    if (!json_is_int(item, min, max)) {
        problem_reply(req, 400, "invalid_request", "%s must be an integer from %lld to %lld, or null", name,
                      (long long)min, (long long)max);
        return false;
    }
    *value = (int64_t)item->valuedouble;
    return true;
}

bool body_uuid_or_reply(struct request *req, const cJSON *obj, const char *name, const char **out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsString(item) || !uuid_is_valid(item->valuestring)) {
        problem_reply(req, 400, "invalid_request", "%s must be a UUID", name);
        return false;
    }
    *out = item->valuestring;
    return true;
}

bool path_uuid_or_reply(struct request *req, const char *param, const char **out)
{
    const char *v = http_param(req, param);
    if (!v || !uuid_is_valid(v)) {
        problem_reply(req, 400, "invalid_parameter", "%s must be a UUID", param);
        return false;
    }
    *out = v;
    return true;
}

bool batch_item_or_reply(struct request *req, const cJSON *item, const char *list, int index, const char **id)
{
    const char *type;
    *id = NULL;
    if (!cJSON_IsObject(item)) {
        problem_reply(req, 400, "invalid_request", "%s[%d] must be an object", list, index);
        return false;
    }
    if (!body_string_or_reply(req, item, "type", BATCH_TYPE_MAX_LEN, true, &type))
        return false;
    if (!cJSON_GetObjectItemCaseSensitive(item, "data")) {
        problem_reply(req, 400, "invalid_request", "%s[%d].data is required (any JSON value)", list, index);
        return false;
    }
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(item, "metadata");
    if (meta && !cJSON_IsNull(meta) && !cJSON_IsObject(meta)) {
        problem_reply(req, 400, "invalid_request", "%s[%d].metadata must be an object or null", list, index);
        return false;
    }
    const cJSON *given = cJSON_GetObjectItemCaseSensitive(item, "id");
    if (given && !cJSON_IsNull(given)) {
        if (!cJSON_IsString(given) || !uuid_is_valid(given->valuestring)) {
            problem_reply(req, 400, "invalid_request", "%s[%d].id must be a UUID", list, index);
            return false;
        }
        *id = given->valuestring;
    }
    return true;
}

static int compare_ids(const void *a, const void *b)
{
    return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

bool ids_repeat(const char **ids, int n)
{
    qsort(ids, (size_t)n, sizeof *ids, compare_ids);
    for (int k = 1; k < n; k++)
        if (!strcasecmp(ids[k - 1], ids[k]))
            return true;
    return false;
}

bool json_body_object_or_reply(struct request *req, bool optional, cJSON **out)
{
    *out = NULL;
    size_t len = req->body_len;
    const char *text = req->body ? req->body : "";
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r' || text[len - 1] == '\n'))
        len--;
    if (len == 0) {
        if (optional) {
            *out = cJSON_CreateObject();
            return true;
        }
        problem_reply(req, 400, "invalid_json", "a JSON object body is required");
        return false;
    }
    cJSON *root = json_parse(text, len);
    if (!root) {
        problem_reply(req, 400, "invalid_json",
                      "the body is not well-formed UTF-8 JSON (or repeats a key in an object)");
        return false;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        problem_reply(req, 400, "invalid_request", "the body must be a JSON object");
        return false;
    }
    *out = root;
    return true;
}
