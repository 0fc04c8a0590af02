/* Webhook routes: register or change a webhook, read, list, pause, resume,
 * move its position, delete; and the renderer of a webhook's JSON (never its
 * secret, but once, when the service made it). Delivery is src/workers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/events.h"
#include "db/webhooks.h"
#include "routes/routes.h"
#include "src/core/json.h"
#include "src/core/text.h"
#include "src/core/url.h"
#include "src/http/auth.h"
#include "src/http/input.h"
#include "src/http/problem.h"

#define SECRET_MIN 16

static const char *state_of(const struct webhook *w)
{
    return w->paused ? "paused" : w->consecutive_failures > 0 ? "failing" : "active";
}

/* A time that is 0 when there is none. */
static struct db_nullable time_or_null(int64_t us)
{
    return (struct db_nullable){.is_null = us == 0, .value = us};
}

void webhook_json(struct text *t, const struct webhook *w, const char *secret)
{
    render_string(t, "{\"name\":", w->name);
    render_string(t, ",\"url\":", w->url);
    render_string(t, w->has_stream ? ",\"stream\":" : ",\"stream_prefix\":", w->target);
    if (w->ntypes == 0)
        text_cstr(t, ",\"types\":null");
    for (int i = 0; i < w->ntypes; i++)
        render_string(t, i == 0 ? ",\"types\":[" : ",", w->types[i]);
    if (w->ntypes > 0)
        text_put(t, "]", 1);
    render_int(t, ",\"position\":", w->position);
    render_int(t, ",\"max_batch\":", w->max_batch);
    render_string(t, ",\"state\":", state_of(w));
    render_time_or_null(t, ",\"last_delivery_at\":", time_or_null(w->last_delivery_us));
    render_string(t, ",\"last_error\":", w->last_error);
    render_int(t, ",\"consecutive_failures\":", w->consecutive_failures);
    render_time_or_null(t, ",\"next_attempt_at\":", time_or_null(w->paused ? 0 : w->next_attempt_us));
    if (secret && *secret)
        render_string(t, ",\"secret\":", secret);
    text_put(t, "}", 1);
}

static void reply_webhook(struct request *req, unsigned status, struct webhook *w, const char *secret)
{
    struct text t = {0};
    webhook_json(&t, w, secret);
    db_webhook_clear(w);
    http_reply_json_text(req, status, &t);
}

static void reply_failure(struct request *req, enum store_outcome outcome, const char *name)
{
    if (outcome == STORE_NOT_FOUND)
        problem_reply(req, 404, "webhook_not_found", "webhook %s does not exist", name);
    else
        route_reply_store_failure(req, outcome);
}

static bool url_or_reply(struct request *req, const char *url)
{
    const char *why = url_refusal(url, req->svc->cfg->webhook_allow);
    if (why)
        problem_reply(req, 400, "invalid_url", "%s", why);
    return why == NULL;
}

/* "types": absent or null for every type, else an array of 1-100 type names. */
static bool types_or_reply(struct request *req, const cJSON *body, const char **types, int *n)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, "types");
    *n = 0;
    if (!item || cJSON_IsNull(item))
        return true;
    if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) < 1 || cJSON_GetArraySize(item) > WEBHOOK_MAX_TYPES) {
        problem_reply(req, 400, "invalid_request", "types must be null or an array of 1-%d event types",
                      WEBHOOK_MAX_TYPES);
        return false;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, item) {
        if (!cJSON_IsString(t) || !*t->valuestring || strlen(t->valuestring) > BATCH_TYPE_MAX_LEN) {
            problem_reply(req, 400, "invalid_request", "each of types must be a string of 1-%d characters",
                          BATCH_TYPE_MAX_LEN);
            return false;
        }
        types[(*n)++] = t->valuestring;
    }
    return true;
}

/* "from": "start", "end" or a non-negative integer; absent keeps the default. */
static bool from_or_reply(struct request *req, const cJSON *body, struct webhook_input *in)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, "from");
    in->from = WEBHOOK_FROM_DEFAULT;
    if (!item || cJSON_IsNull(item))
        return true;
    if (cJSON_IsString(item) && !strcmp(item->valuestring, "start")) {
        in->from = WEBHOOK_FROM_START;
    } else if (cJSON_IsString(item) && !strcmp(item->valuestring, "end")) {
        in->from = WEBHOOK_FROM_END;
    } else if (json_is_int(item, 0, INT64_C(9007199254740991))) {
        in->from = WEBHOOK_FROM_POSITION;
        in->from_position = (int64_t)item->valuedouble;
    } else {
        problem_reply(req, 400, "invalid_request", "from must be \"start\", \"end\" or a non-negative integer");
        return false;
    }
    return true;
}

/* Exactly one of "stream" (a name) and "stream_prefix" ("" or the start of names). */
static bool target_or_reply(struct request *req, const cJSON *body, struct webhook_input *in)
{
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(body, "stream");
    const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(body, "stream_prefix");
    bool has_stream = stream && !cJSON_IsNull(stream), has_prefix = prefix && !cJSON_IsNull(prefix);
    if (has_stream == has_prefix) {
        problem_reply(req, 400, "invalid_request", "give exactly one of stream and stream_prefix");
        return false;
    }
    const cJSON *item = has_stream ? stream : prefix;
    if (!cJSON_IsString(item) || (has_stream && !name_is_valid(item->valuestring)) ||
        strlen(item->valuestring) > NAME_MAX_LEN) {
        problem_reply(req, 400, has_stream ? "invalid_name" : "invalid_request",
                      "%s must be a stream name%s of at most %d characters", has_stream ? "stream" : "stream_prefix",
                      has_stream ? "" : " prefix", NAME_MAX_LEN);
        return false;
    }
    /* A token limited to a prefix may follow only streams within it. */
    const char *mine = req->token ? req->token->prefix : "";
    if (strncmp(item->valuestring, mine, strlen(mine)) != 0) {
        problem_reply(req, 403, "forbidden", "this token reaches only streams starting with %s", mine);
        return false;
    }
    in->has_stream = has_stream;
    in->target = item->valuestring;
    return true;
}

void route_webhooks_put(struct request *req)
{
    cJSON *body = NULL;
    struct webhook_input in = {0};
    const char *types[WEBHOOK_MAX_TYPES];
    struct webhook w;
    bool created, has_batch;
    char secret[WEBHOOK_SECRET_MAX + 1];
    in.max_batch = 100;
    if (!path_name_or_reply(req, "name", &in.name) || !json_body_object_or_reply(req, false, &body) ||
        !body_string_or_reply(req, body, "url", WEBHOOK_URL_MAX, true, &in.url) || !url_or_reply(req, in.url) ||
        !target_or_reply(req, body, &in) || !types_or_reply(req, body, types, &in.ntypes) ||
        !from_or_reply(req, body, &in) ||
        !body_int_or_reply(req, body, "max_batch", 1, 1000, &in.max_batch, &has_batch) ||
        !body_string_or_reply(req, body, "secret", WEBHOOK_SECRET_MAX, false, &in.secret))
        goto out;
    if (in.secret && strlen(in.secret) < SECRET_MIN) {
        problem_reply(req, 400, "invalid_request", "secret must be %d-%d characters", SECRET_MIN, WEBHOOK_SECRET_MAX);
        goto out;
    }
    in.types = types;
    enum store_outcome outcome = db_webhooks_put(req->svc->pool, &in, &w, &created, secret);
    if (outcome == STORE_OK)
        reply_webhook(req, created ? 201 : 200, &w, secret);
    else
        reply_failure(req, outcome, in.name);
out:
    cJSON_Delete(body);
}

void route_webhooks_get(struct request *req)
{
    const char *name;
    struct webhook w;
    if (!path_name_or_reply(req, "name", &name))
        return;
    enum store_outcome outcome = db_webhooks_get(req->svc->pool, name, &w);
    if (outcome == STORE_OK)
        reply_webhook(req, 200, &w, NULL);
    else
        reply_failure(req, outcome, name);
}

void route_webhooks_list(struct request *req)
{
    const char *prefix, *after;
    int64_t limit;
    struct webhook *list = NULL;
    int n = 0;
    char next_after[NAME_MAX_LEN + 1];
    if (!route_list_query_or_reply(req, &prefix, &after, &limit))
        return;
    enum store_outcome outcome = db_webhooks_list(req->svc->pool, prefix, after, limit, &list, &n, next_after);
    if (outcome == STORE_OK) {
        struct text t = {0};
        text_cstr(&t, "{\"webhooks\":[");
        for (int i = 0; i < n; i++) {
            text_cstr(&t, i > 0 ? "," : "");
            webhook_json(&t, &list[i], NULL);
        }
        render_page_end(&t, next_after);
        http_reply_json_text(req, 200, &t);
    } else {
        route_reply_store_failure(req, outcome);
    }
    for (int i = 0; i < n; i++)
        db_webhook_clear(&list[i]);
    free(list);
}

static void set_paused(struct request *req, bool paused)
{
    const char *name;
    struct webhook w;
    if (!path_name_or_reply(req, "name", &name))
        return;
    enum store_outcome outcome = db_webhooks_set_paused(req->svc->pool, name, paused, &w);
    if (outcome == STORE_OK)
        reply_webhook(req, 200, &w, NULL);
    else
        reply_failure(req, outcome, name);
}

void route_webhooks_pause(struct request *req)
{
    set_paused(req, true);
}

void route_webhooks_resume(struct request *req)
{
    set_paused(req, false);
}

void route_webhooks_set_position(struct request *req)
{
    const char *name;
    cJSON *body = NULL;
    int64_t position;
    bool present;
    struct webhook w;
    if (!path_name_or_reply(req, "name", &name) || !json_body_object_or_reply(req, false, &body) ||
        !body_int_or_reply(req, body, "position", 0, INT64_C(9007199254740991), &position, &present))
        goto out;
    if (!present) {
        problem_reply(req, 400, "invalid_request", "position is required");
        goto out;
    }
    enum store_outcome outcome = db_webhooks_set_position(req->svc->pool, name, position, &w);
    if (outcome == STORE_OK)
        reply_webhook(req, 200, &w, NULL);
    else
        reply_failure(req, outcome, name);
out:
    cJSON_Delete(body);
}

void route_webhooks_delete(struct request *req)
{
    const char *name;
    if (!path_name_or_reply(req, "name", &name))
        return;
    enum store_outcome outcome = db_webhooks_delete(req->svc->pool, name);
    if (outcome == STORE_OK)
        http_reply_empty(req, 204);
    else
        reply_failure(req, outcome, name);
}

/* The types filter as the reads take it: comma-separated (NULL: every type). */
static char *types_filter(const struct webhook *w)
{
    struct text t = {0};
    for (int i = 0; i < w->ntypes; i++) {
        text_cstr(&t, i > 0 ? "," : "");
        text_cstr(&t, w->types[i]);
    }
    return t.data;
}

/* Renders `events` (their first `count`) as a delivery body into `out`. */
static void batch_body(const struct webhook *w, const struct db_list *events, int count, struct webhook_batch *out)
{
    struct text t = {0};
    render_string(&t, "{\"webhook\":", w->name);
    text_cstr(&t, ",\"events\":[");
    for (int i = 0; i < count; i++) {
        struct event ev;
        db_events_at(events, i, &ev);
        text_cstr(&t, i > 0 ? "," : "");
        event_json(&t, &ev);
    }
    text_cstr(&t, "]}");
    out->body = t.data;
    out->len = t.len;
    out->count = count;
}

/* How many of the first `count` events a retry sends again: those before the end
 * recorded for the batch in flight (offsets below it, or positions up to it). */
static int count_in_batch(const struct db_list *events, int count, const struct due_webhook *d)
{
    if (!d->delivery_id[0])
        return count;
    while (count > 0) {
        struct event ev;
        db_events_at(events, count - 1, &ev);
        bool inside = d->hook.has_stream ? ev.offset < d->delivery_end : ev.global_position <= d->delivery_end;
        if (inside)
            break;
        count--;
    }
    return count;
}

/* A stream webhook's position is the next offset; a retry stops before the end
 * recorded for the batch in flight, so it sends the same events. Batches are
 * read on the primary: the dispatcher is poked by commits, which a standby may
 * not show yet. */
static enum store_outcome stream_batch(struct db_pool *pool, const struct due_webhook *d, const char *types,
                                       struct webhook_batch *out)
{
    const struct webhook *w = &d->hook;
    struct read_input in = {
        .stream = w->target, .from = w->position, .limit = w->max_batch, .types = types, .recency = DB_RECENT_NOW};
    struct read_page page;
    enum store_outcome outcome = db_events_read(pool, &in, &page);
    if (outcome == STORE_NOT_FOUND) { /* registered before its stream's first event */
        out->end = w->position;
        return STORE_OK;
    }
    if (outcome != STORE_OK)
        return outcome;
    int count = count_in_batch(&page.events, page.events.count, d);
    if (d->delivery_id[0])
        out->end = d->delivery_end;
    else if (count == w->max_batch)
        out->end = page.last_offset_read + 1;
    else /* everything up to the version was looked at, the filtered-out events too */
        out->end = page.version + 1 > w->position ? page.version + 1 : w->position;
    if (count > 0)
        batch_body(w, &page.events, count, out);
    db_rows_free(page.events.rows);
    return STORE_OK;
}

/* A prefix webhook follows the global read: its position is the read's
 * from_position after the last delivered event, that event's position (API.md);
 * it stays there while nothing matches, rather than moving on to next_position. */
static enum store_outcome prefix_batch(struct db_pool *pool, const struct due_webhook *d, const char *types,
                                       struct webhook_batch *out)
{
    const struct webhook *w = &d->hook;
    struct global_read_input in = {.from_position = w->position,
                                   .limit = w->max_batch,
                                   .types = types,
                                   .stream_prefix = w->target,
                                   .recency = DB_RECENT_NOW};
    struct db_list events;
    int64_t next;
    enum store_outcome outcome = db_events_global_read(pool, &in, &events, &next);
    if (outcome != STORE_OK)
        return outcome;
    int count = count_in_batch(&events, events.count, d);
    out->end = w->position;
    if (d->delivery_id[0]) {
        out->end = d->delivery_end;
    } else if (count > 0) {
        struct event last;
        db_events_at(&events, count - 1, &last);
        out->end = last.global_position;
    }
    if (count > 0)
        batch_body(w, &events, count, out);
    db_rows_free(events.rows);
    return STORE_OK;
}

enum store_outcome route_webhooks_batch(struct db_pool *pool, const struct due_webhook *d, struct webhook_batch *out)
{
    memset(out, 0, sizeof *out);
    char *types = types_filter(&d->hook);
    enum store_outcome outcome =
        d->hook.has_stream ? stream_batch(pool, d, types, out) : prefix_batch(pool, d, types, out);
    free(types);
    return outcome;
}
