/* Stream metadata and lifecycle routes: metadata with ETag, listing,
 * retention policy, archive/unarchive and delete. */
#include <stdio.h>
#include <string.h>

#include "db/streams.h"
#include "routes/routes.h"
#include "src/core/json.h"
#include "src/http/input.h"
#include "src/http/problem.h"

static void reply_failure(struct request *req, enum store_outcome outcome, const char *stream)
{
    switch (outcome) {
    case STORE_NOT_FOUND:
        problem_reply(req, 404, "stream_not_found", "stream %s does not exist", stream);
        break;
    default:
        route_reply_store_failure(req, outcome);
        break;
    }
}

/* If-None-Match compares weakly and may list several tags (RFC 9110 13.1.2). */
static bool etag_listed(const char *header, const char *etag)
{
    size_t elen = strlen(etag);
    for (const char *p = header; *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",");
        size_t end = n;
        while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t'))
            end--;
        const char *tag = p;
        if (end >= 2 && !strncmp(tag, "W/", 2)) {
            tag += 2;
            end -= 2;
        }
        if ((end == 1 && tag[0] == '*') || (end == elen && !strncmp(tag, etag, elen)))
            return true;
        p += n;
    }
    return false;
}

void route_streams_get(struct request *req)
{
    const char *stream;
    cJSON *meta = NULL;
    int64_t version;
    if (!path_name_or_reply(req, "stream", &stream))
        return;
    enum store_outcome outcome = db_streams_meta(req->svc->pool, stream, &meta, &version);
    if (outcome != STORE_OK) {
        reply_failure(req, outcome, stream);
        return;
    }
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", (long long)version);
    http_set_header(req, MHD_HTTP_HEADER_ETAG, etag);
    const char *none_match = http_header(req, "If-None-Match");
    if (none_match && etag_listed(none_match, etag)) {
        cJSON_Delete(meta);
        http_reply_empty(req, 304);
        return;
    }
    http_reply_json(req, 200, meta);
}

void route_streams_list(struct request *req)
{
    const char *prefix, *after;
    int64_t limit;
    cJSON *streams = NULL;
    char next_after[NAME_MAX_LEN + 1];
    if (!query_string_or_reply(req, "prefix", &prefix) || !query_string_or_reply(req, "after", &after) ||
        !query_int_or_reply(req, "limit", 1, 1000, 100, &limit))
        return;
    if ((prefix && strlen(prefix) > NAME_MAX_LEN) || (after && strlen(after) > NAME_MAX_LEN)) {
        problem_reply(req, 400, "invalid_parameter", "prefix and after are at most %d characters", NAME_MAX_LEN);
        return;
    }
    enum store_outcome outcome = db_streams_list(req->svc->pool, prefix, after, limit, &streams, next_after);
    if (outcome != STORE_OK) {
        reply_failure(req, outcome, "");
        return;
    }
    http_reply_json(req, 200, route_page_json("streams", streams, next_after));
}

/* One retention member: absent keeps the stored value, null removes the limit. */
static bool retention_member_or_reply(struct request *req, const cJSON *body, const char *name, bool *has,
                                      int64_t *value)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, name);
    *has = item != NULL;
    *value = 0;
    if (!item || cJSON_IsNull(item))
        return true;
    if (!json_is_int(item, 1, INT64_C(9007199254740991))) {
        problem_reply(req, 400, "invalid_request", "%s must be a positive integer or null", name);
        return false;
    }
    *value = (int64_t)item->valuedouble;
    return true;
}

void route_streams_put_retention(struct request *req)
{
    const char *stream;
    cJSON *body = NULL, *meta = NULL;
    struct retention_input in;
    if (!path_name_or_reply(req, "stream", &stream) || !json_body_object_or_reply(req, false, &body) ||
        !retention_member_or_reply(req, body, "max_age_seconds", &in.has_max_age, &in.max_age_seconds) ||
        !retention_member_or_reply(req, body, "max_count", &in.has_max_count, &in.max_count))
        goto out;
    enum store_outcome outcome = db_streams_set_retention(req->svc->pool, stream, &in, &meta);
    if (outcome == STORE_OK)
        http_reply_json(req, 200, meta);
    else
        reply_failure(req, outcome, stream);
out:
    cJSON_Delete(body);
}

static void set_state(struct request *req, const char *state)
{
    const char *stream;
    cJSON *meta = NULL;
    if (!path_name_or_reply(req, "stream", &stream))
        return;
    enum store_outcome outcome = db_streams_set_state(req->svc->pool, stream, state, &meta);
    if (outcome == STORE_OK)
        http_reply_json(req, 200, meta);
    else
        reply_failure(req, outcome, stream);
}

void route_streams_archive(struct request *req)
{
    set_state(req, "archived");
}

void route_streams_unarchive(struct request *req)
{
    set_state(req, "active");
}

void route_streams_delete(struct request *req)
{
    const char *stream;
    if (!path_name_or_reply(req, "stream", &stream))
        return;
    enum store_outcome outcome = db_streams_delete(req->svc->pool, stream);
    if (outcome == STORE_OK)
        http_reply_empty(req, 204);
    else
        reply_failure(req, outcome, stream);
}
