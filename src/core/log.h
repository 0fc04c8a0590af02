/* Logging: one line per call, written with a single write(2) so lines from
 * different threads never interleave. Text or JSON, set once at start-up. */
#ifndef STREAMQ_LOG_H
#define STREAMQ_LOG_H

#include <stdint.h>

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_init(enum log_format format, enum log_level level);

/* printf-style message at `level`; never pass secrets or connection strings. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* The access line of one request: method, route pattern, status, duration, request id. */
void log_request(const char *request_id, const char *method, const char *route, int status, int64_t duration_us);

#endif
