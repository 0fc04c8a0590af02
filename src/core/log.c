/* Text or JSON log lines on stderr; see log.h. */
#include "src/core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_format log_fmt = LOG_FORMAT_TEXT;
static enum log_level log_min = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(enum log_format format, enum log_level level)
{
    log_fmt = format;
    log_min = level;
}

static size_t timestamp(char *buf, size_t size)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    return n + (size_t)snprintf(buf + n, size - n, ".%06ldZ", (long)tv.tv_usec);
}

/* Appends `s` JSON-escaped; control characters become \u escapes. */
static size_t json_escape(char *buf, size_t size, size_t n, const char *s)
{
    for (; *s && n + 7 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(buf + n, size - n, "\\u%04x", c);
        } else {
            buf[n++] = (char)c;
        }
    }
    return n;
}

static void emit(char *line, size_t n, size_t size)
{
    if (n >= size - 1)
        n = size - 2;
    line[n++] = '\n';
    ssize_t rc = write(STDERR_FILENO, line, n);
    (void)rc;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < log_min)
        return;
    char msg[1024], line[2400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = 0;
    if (log_fmt == LOG_FORMAT_JSON) {
        n += (size_t)snprintf(line, sizeof line, "{\"ts\":\"");
        n += timestamp(line + n, sizeof line - n);
        n += (size_t)snprintf(line + n, sizeof line - n, "\",\"level\":\"%s\",\"msg\":\"", level_names[level]);
        n = json_escape(line, sizeof line, n, msg);
        n += (size_t)snprintf(line + n, sizeof line - n, "\"}");
    } else {
        n += timestamp(line, sizeof line);
        n += (size_t)snprintf(line + n, sizeof line - n, " %s %s", level_names[level], msg);
    }
    emit(line, n, sizeof line);
}

void log_request(const char *request_id, const char *method, const char *route, int status,
                 int64_t duration_us)
{
    if (LOG_INFO < log_min)
        return;
    char line[700];
    size_t n = 0;
    if (log_fmt == LOG_FORMAT_JSON) {
        n += (size_t)snprintf(line, sizeof line, "{\"ts\":\"");
        n += timestamp(line + n, sizeof line - n);
        n += (size_t)snprintf(line + n, sizeof line - n, "\",\"level\":\"info\",\"request_id\":\"");
        n = json_escape(line, sizeof line, n, request_id);
        n += (size_t)snprintf(line + n, sizeof line - n,
                              "\",\"method\":\"%s\",\"route\":\"%s\",\"status\":%d,\"duration_ms\":%.3f}",
                              method, route, status, (double)duration_us / 1000.0);
    } else {
        n += timestamp(line, sizeof line);
        n += (size_t)snprintf(line + n, sizeof line - n, " info %s %s %s %d %.3fms", request_id, method,
                              route, status, (double)duration_us / 1000.0);
    }
    emit(line, n, sizeof line);
}
