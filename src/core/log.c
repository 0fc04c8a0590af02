/* Text or JSON log lines on stderr; see log.h. */
#include "src/core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "src/core/text.h"

static enum log_format log_fmt = LOG_FORMAT_TEXT;
static enum log_level log_min = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(enum log_format format, enum log_level level)
{
    log_fmt = format;
    log_min = level;
}

/* One write(2) per line, so that lines from different threads never interleave. */
static void emit(struct text *line)
{
    text_put(line, "\n", 1);
    ssize_t rc = write(STDERR_FILENO, line->data, line->len);
    (void)rc;
    text_free(line);
}

static void put_time(struct text *line)
{
    char ts[RFC3339_LEN + 1];
    text_put(line, ts, rfc3339_format(wall_usec(), ts));
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < log_min)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct text line = {0};
    if (log_fmt == LOG_FORMAT_JSON) {
        text_cstr(&line, "{\"ts\":");
        text_json_time(&line, wall_usec());
        text_printf(&line, ",\"level\":\"%s\",\"msg\":", level_names[level]);
        text_json_string(&line, msg);
        text_put(&line, "}", 1);
    } else {
        put_time(&line);
        text_printf(&line, " %s %s", level_names[level], msg);
    }
    emit(&line);
}

void log_request(const char *request_id, const char *method, const char *route, int status, int64_t duration_us)
{
    if (LOG_INFO < log_min)
        return;
    struct text line = {0};
    if (log_fmt == LOG_FORMAT_JSON) {
        text_cstr(&line, "{\"ts\":");
        text_json_time(&line, wall_usec());
        text_cstr(&line, ",\"level\":\"info\",\"request_id\":");
        text_json_string(&line, request_id);
        text_cstr(&line, ",\"method\":");
        text_json_string(&line, method);
        text_cstr(&line, ",\"route\":");
        text_json_string(&line, route);
        text_printf(&line, ",\"status\":%d,\"duration_ms\":%.3f}", status, (double)duration_us / 1000.0);
    } else {
        put_time(&line);
        text_printf(&line, " info %s %s %s %d %.3fms", request_id, method, route, status, (double)duration_us / 1000.0);
    }
    emit(&line);
}
