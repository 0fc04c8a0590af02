/* The exchange log; see exchange_log.h. */
#include "exchange_log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Header names lower-cased; a repeated header's values joined with ", "
 * (RFC 9110 5.3). Lines without a colon (status lines) are skipped. */
static cJSON *header_object(const char *block)
{
    cJSON *obj = cJSON_CreateObject();
    for (const char *line = block; line && *line;) {
        const char *end = strpbrk(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *colon = memchr(line, ':', len);
        if (colon && colon > line && strncmp(line, "HTTP/", 5)) {
            char name[128];
            size_t nlen = (size_t)(colon - line) < sizeof name - 1 ? (size_t)(colon - line) : sizeof name - 1;
            for (size_t i = 0; i < nlen; i++)
                name[i] = (char)(line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32 : line[i]);
            name[nlen] = '\0';
            const char *v = colon + 1, *vend = line + len;
            while (v < vend && (*v == ' ' || *v == '\t'))
                v++;
            while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
                vend--;
            char *value = strndup(v, (size_t)(vend - v));
            cJSON *prior = cJSON_GetObjectItemCaseSensitive(obj, name);
            if (cJSON_IsString(prior)) {
                char *joined = NULL;
                if (asprintf(&joined, "%s, %s", prior->valuestring, value) >= 0) {
                    cJSON_ReplaceItemInObjectCaseSensitive(obj, name, cJSON_CreateString(joined));
                    free(joined);
                }
            } else {
                cJSON_AddStringToObject(obj, name, value);
            }
            free(value);
        }
        if (!end)
            break;
        line = end + 1;
        if (*line == '\n' && end[0] == '\r')
            line++;
    }
    return obj;
}

void exchange_log_record(const struct exchange *x)
{
    const char *dir = getenv("STREAMQ_EXCHANGES_DIR");
    if (!dir || !*dir || x->status <= 0)
        return;
    size_t kept = x->len < EXCHANGE_LOG_BODY_MAX ? x->len : EXCHANGE_LOG_BODY_MAX;
    char *body = strndup(x->body ? x->body : "", kept);
    cJSON *line = cJSON_CreateObject();
    cJSON_AddStringToObject(line, "client", x->client);
    cJSON_AddStringToObject(line, "method", x->method);
    cJSON_AddStringToObject(line, "target", x->target);
    if (x->accept)
        cJSON_AddStringToObject(line, "accept", x->accept);
    if (x->proxy_mount)
        cJSON_AddStringToObject(line, "proxy_mount", x->proxy_mount);
    cJSON_AddNumberToObject(line, "status", (double)x->status);
    cJSON_AddItemToObject(line, "headers", header_object(x->headers));
    /* A body with a NUL byte is kept up to it; the validator sees the length differ. */
    cJSON_AddStringToObject(line, "body", body);
    cJSON_AddNumberToObject(line, "length", (double)x->len);
    cJSON_AddBoolToObject(line, "complete", x->body_complete && kept == x->len && strlen(body) == kept);
    char *text = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    free(body);
    if (!text)
        return;
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the terminator: written by length below */
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-%d.ndjson", dir, program_invocation_short_name, (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        size_t done = 0;
        while (done < n + 1) {
            ssize_t w = write(fd, text + done, n + 1 - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            done += (size_t)w;
        }
        close(fd);
    }
    cJSON_free(text);
}
