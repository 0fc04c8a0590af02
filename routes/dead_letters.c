/* Dead-letter routes: list a queue's dead letters, redrive them, delete one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/dead_letters.h"
#include "routes/routes.h"
#include "src/core/json.h"
#include "src/core/text.h"
#include "src/http/input.h"
#include "src/http/problem.h"

#define REDRIVE_MAX_IDS 1000

static void reply_failure(struct request *req, enum store_outcome outcome, const char *queue)
{
    switch (outcome) {
    case STORE_NOT_FOUND:
        problem_reply(req, 404, "queue_not_found", "queue %s does not exist", queue);
        break;
    default:
        route_reply_store_failure(req, outcome);
        break;
    }
}

void dead_letter_json(struct text *t, const struct dead_letter *d)
{
    render_string(t, "{\"id\":", d->id);
    render_string(t, ",\"type\":", d->type);
    render_json(t, ",\"data\":", d->data);
    render_json(t, ",\"metadata\":", d->metadata);
    render_time(t, ",\"enqueued_at\":", d->enqueued_us);
    render_time(t, ",\"failed_at\":", d->failed_us);
    render_int(t, ",\"delivery_count\":", d->delivery_count);
    render_string(t, ",\"reason\":", d->reason);
    text_cstr(t, "}");
}

void route_dead_letters_list(struct request *req)
{
    const char *queue, *after;
    int64_t limit;
    struct db_seq_page page;
    if (!path_name_or_reply(req, "queue", &queue) || !route_cursor_or_reply(req, &after) ||
        !query_int_or_reply(req, "limit", 1, 1000, 100, &limit))
        return;
    enum store_outcome outcome = db_dead_letters_list(req->svc->pool, queue, after, limit, &page);
    if (outcome != STORE_OK) {
        reply_failure(req, outcome, queue);
        return;
    }
    struct text t = {0};
    text_cstr(&t, "{\"dead_letters\":[");
    for (int i = 0; i < page.count; i++) {
        struct dead_letter d;
        db_dead_letters_at(&page, i, &d);
        text_cstr(&t, i > 0 ? "," : "");
        dead_letter_json(&t, &d);
    }
    render_page_end(&t, page.next_after);
    http_reply_json_text(req, 200, &t);
    db_rows_free(page.rows);
}

/* body.ids as a PostgreSQL uuid[] literal in `*array` (NULL when absent: all). */
static bool ids_or_reply(struct request *req, const cJSON *body, char **array)
{
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, "ids");
    *array = NULL;
    if (!ids || cJSON_IsNull(ids))
        return true;
    int n = cJSON_IsArray(ids) ? cJSON_GetArraySize(ids) : -1;
    if (n < 0 || n > REDRIVE_MAX_IDS) {
        problem_reply(req, 400, "invalid_request", "ids must be an array of at most %d UUIDs", REDRIVE_MAX_IDS);
        return false;
    }
    /* Every element is checked to be a UUID, so the literal needs no quoting. */
    char *out = xmalloc((size_t)n * (UUID_STR_LEN + 1) + 3);
    size_t len = 0;
    out[len++] = '{';
    const cJSON *id;
    cJSON_ArrayForEach(id, ids) {
        if (!cJSON_IsString(id) || !uuid_is_valid(id->valuestring)) {
            free(out);
            problem_reply(req, 400, "invalid_request", "ids must hold UUIDs");
            return false;
        }
        if (len > 1)
            out[len++] = ',';
        memcpy(out + len, id->valuestring, UUID_STR_LEN);
        len += UUID_STR_LEN;
    }
    out[len++] = '}';
    out[len] = '\0';
    *array = out;
    return true;
}

void route_dead_letters_redrive(struct request *req)
{
    const char *queue;
    cJSON *body = NULL;
    char *ids = NULL;
    int64_t redriven;
    if (!path_name_or_reply(req, "queue", &queue) || !json_body_object_or_reply(req, true, &body) ||
        !ids_or_reply(req, body, &ids))
        goto out;
    enum store_outcome outcome = db_dead_letters_redrive(req->svc->pool, queue, ids, &redriven);
    if (outcome != STORE_OK) {
        reply_failure(req, outcome, queue);
        goto out;
    }
    cJSON *root = cJSON_CreateObject();
    json_add_int(root, "redriven", redriven);
    http_reply_json(req, 200, root);
out:
    free(ids);
    cJSON_Delete(body);
}

void route_dead_letters_delete(struct request *req)
{
    const char *queue, *id;
    if (!path_name_or_reply(req, "queue", &queue) || !path_uuid_or_reply(req, "id", &id))
        return;
    enum store_outcome outcome = db_dead_letters_delete(req->svc->pool, queue, id);
    switch (outcome) {
    case STORE_OK:
        http_reply_empty(req, 204);
        break;
    case STORE_NOT_FOUND:
        problem_reply(req, 404, "dead_letter_not_found", "queue %s has no dead letter %s", queue, id);
        break;
    default:
        route_reply_store_failure(req, outcome);
        break;
    }
}
