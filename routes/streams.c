/* Stream metadata and lifecycle routes: metadata with ETag, listing,
 * retention policy, archive/unarchive and delete. */
#include <stdio.h>
#include <string.h>

#include "db/streams.h"
#include "routes/routes.h"
#include "src/core/json.h"
#include "src/core/text.h"
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

void stream_meta_json(struct text *t, const struct stream_meta *m)
{
    render_string(t, "{\"stream\":", m->stream);
    render_int(t, ",\"version\":", m->version);
    render_int(t, ",\"length\":", m->length);
    render_int_or_null(t, ",\"first_offset\":", m->first_offset);
    render_int_or_null(t, ",\"last_offset\":", m->last_offset);
    render_time(t, ",\"created_at\":", m->created_us);
    render_time_or_null(t, ",\"last_event_at\":", m->last_event_us);
    render_string(t, ",\"state\":", m->state);
    render_int_or_null(t, ",\"retention\":{\"max_age_seconds\":", m->max_age_seconds);
    render_int_or_null(t, ",\"max_count\":", m->max_count);
    render_string(t, ",\"source\":", m->has_policy ? "stream" : "default");
    render_int_or_null(t, "},\"trimmed_through\":", m->trimmed_through);
    render_time_or_null(t, ",\"trimmed_at\":", m->trimmed_at_us);
    text_cstr(t, "}");
}

/* A stream without a policy of its own is kept by the service's defaults
 * (--retention-max-age, --retention-max-count; 0 is no limit): show those. */
static void policy_in_force(struct request *req, struct stream_meta *m)
{
    if (m->has_policy)
        return;
    const struct config *cfg = req->svc->cfg;
    m->max_age_seconds = (struct db_nullable){cfg->retention_max_age <= 0, cfg->retention_max_age};
    m->max_count = (struct db_nullable){cfg->retention_max_count <= 0, cfg->retention_max_count};
}

static void reply_meta(struct request *req, struct stream_meta *meta)
{
    struct text t = {0};
    policy_in_force(req, meta);
    stream_meta_json(&t, meta);
    http_reply_json_text(req, 200, &t);
}

void route_streams_get(struct request *req)
{
    const char *stream;
    struct stream_meta meta;
    if (!path_name_or_reply(req, "stream", &stream))
        return;
    enum store_outcome outcome = db_streams_meta(req->svc->pool, stream, &meta);
    if (outcome != STORE_OK) {
        reply_failure(req, outcome, stream);
        return;
    }
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", (long long)meta.version);
    http_set_header(req, MHD_HTTP_HEADER_ETAG, etag);
    const char *none_match = http_header(req, "If-None-Match");
    if (none_match && route_etag_listed(none_match, etag))
        http_reply_empty(req, 304);
    else
        reply_meta(req, &meta);
}

void route_streams_list(struct request *req)
{
    const char *prefix, *after;
    int64_t limit;
    struct stream_list list;
    if (!route_list_query_or_reply(req, &prefix, &after, &limit))
        return;
    enum store_outcome outcome = db_streams_list(req->svc->pool, prefix, after, limit, &list);
    if (outcome != STORE_OK) {
        reply_failure(req, outcome, "");
        return;
    }
    struct text t = {0};
    text_cstr(&t, "{\"streams\":[");
    for (int i = 0; i < list.count; i++) {
        text_cstr(&t, i > 0 ? "," : "");
        policy_in_force(req, &list.items[i]);
        stream_meta_json(&t, &list.items[i]);
    }
    render_page_end(&t, list.next_after);
    http_reply_json_text(req, 200, &t);
    db_streams_list_free(&list);
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
    cJSON *body = NULL;
    struct retention_input in;
    struct stream_meta meta;
    if (!path_name_or_reply(req, "stream", &stream) || !json_body_object_or_reply(req, false, &body) ||
        !retention_member_or_reply(req, body, "max_age_seconds", &in.has_max_age, &in.max_age_seconds) ||
        !retention_member_or_reply(req, body, "max_count", &in.has_max_count, &in.max_count))
        goto out;
    enum store_outcome outcome = db_streams_set_retention(req->svc->pool, stream, &in, &meta);
    if (outcome == STORE_OK)
        reply_meta(req, &meta);
    else
        reply_failure(req, outcome, stream);
out:
    cJSON_Delete(body);
}

static void set_state(struct request *req, const char *state)
{
    const char *stream;
    struct stream_meta meta;
    if (!path_name_or_reply(req, "stream", &stream))
        return;
    enum store_outcome outcome = db_streams_set_state(req->svc->pool, stream, state, &meta);
    if (outcome == STORE_OK)
        reply_meta(req, &meta);
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
