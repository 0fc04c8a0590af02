/* Problem rendering; see problem.h. */
#include "src/http/problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct problem_title {
    const char *code;
    const char *title;
};

static const struct problem_title titles[] = {
    {"invalid_json", "Request body is not valid JSON"},
    {"invalid_request", "Request is invalid"},
    {"invalid_name", "Name is invalid"},
    {"invalid_parameter", "Parameter is invalid"},
    {"not_found", "No such route"},
    {"method_not_allowed", "Method not allowed"},
    {"payload_too_large", "Request body too large"},
    {"unavailable", "Service unavailable"},
    {"internal_error", "Internal error"},
    {"version_conflict", "Stream version conflict"},
    {"duplicate_event_id", "Duplicate event id"},
    {"stream_archived", "Stream is archived"},
    {"stream_not_found", "Stream not found"},
    {"event_not_found", "Event not found"},
    {"queue_not_found", "Queue not found"},
    {"message_not_found", "Message not found"},
    {"dead_letter_not_found", "Dead letter not found"},
    {"stale_receipt", "Receipt is stale"},
    {"queue_full", "Queue is full"},
    {"consumer_not_found", "Consumer group not found"},
    {"offset_regression", "Offset moves backwards"},
    {"webhook_not_found", "Webhook not found"},
    {"invalid_url", "URL is invalid or not allowed"},
    {"unauthorized", "Bearer token required"},
    {"forbidden", "Token does not cover this call"},
    {"transaction_id_reused", "Transaction id was used for other operations"},
    {"archive_damaged", "Archive is damaged"},
};

static const char *title_for(const char *code)
{
    for (size_t i = 0; i < ARRAY_LEN(titles); i++)
        if (!strcmp(titles[i].code, code))
            return titles[i].title;
    return "Error";
}

cJSON *problem_new(unsigned status, const char *code, const char *detail, cJSON *extra)
{
    cJSON *p = cJSON_CreateObject(); /* allocation aborts (json_init): never NULL */
    char type[128];
    snprintf(type, sizeof type, PROBLEM_TYPE_BASE "%s", code);
    cJSON_AddStringToObject(p, "type", type);
    cJSON_AddStringToObject(p, "title", title_for(code));
    cJSON_AddNumberToObject(p, "status", status);
    cJSON_AddStringToObject(p, "detail", detail);
    cJSON_AddStringToObject(p, "code", code);
    if (extra) {
        cJSON *item;
        while ((item = extra->child) != NULL) {
            cJSON_DetachItemViaPointer(extra, item);
            cJSON_DeleteItemFromObjectCaseSensitive(p, item->string);
            cJSON_AddItemToObject(p, item->string, item);
        }
        cJSON_Delete(extra);
    }
    return p;
}

static void reply(struct request *req, unsigned status, const char *code, cJSON *extra, const char *fmt, va_list ap)
{
    char detail[512];
    vsnprintf(detail, sizeof detail, fmt, ap);
    if (req->problem_operation > 0) {
        if (!extra)
            extra = cJSON_CreateObject();
        cJSON_AddNumberToObject(extra, "operation", req->problem_operation - 1);
    }
    cJSON *body = problem_new(status, code, detail, extra);
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!text) {
        http_reply_static(req, 500, "application/problem+json", "{}", 2);
        return;
    }
    http_reply_owned(req, status, "application/problem+json", text, strlen(text));
}

void problem_reply(struct request *req, unsigned status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply(req, status, code, NULL, fmt, ap);
    va_end(ap);
}

void problem_reply_extra(struct request *req, unsigned status, const char *code, cJSON *extra, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply(req, status, code, extra, fmt, ap);
    va_end(ap);
}

void problem_reply_unavailable(struct request *req)
{
    http_set_header(req, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    problem_reply(req, 503, "unavailable", "the database did not answer in time; retry shortly");
}

void problem_reply_internal(struct request *req)
{
    problem_reply(req, 500, "internal_error", "the request failed inside streamq; see the log for request %s",
                  req->request_id);
}
