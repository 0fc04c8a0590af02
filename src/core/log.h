/* Logging: one line per call on stderr, text or JSON, set once at start-up.
 * Lines are never interleaved mid-line with another thread's. Access lines
 * (log_request) wait in a buffer of their thread, written when it fills, by the
 * flusher at least every 100 ms, when the thread ends, and by log_flush() (also
 * at exit()); every other line is written at once, after its thread's buffered
 * lines. */
#ifndef STREAMQ_LOG_H
#define STREAMQ_LOG_H

#include <stdbool.h>
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

/* The access line of one request: method, route pattern, status, duration,
 * request id, and who made it (a bearer token's label; NULL when none was
 * checked). Never the token itself. */
void log_request(const char *request_id, const char *method, const char *route, int status, int64_t duration_us,
                 const char *who);

/* Writes every thread's buffered lines now. */
void log_flush(void);

/* Starts the thread that calls log_flush() every 100 ms (it blocks every signal);
 * false when it could not start. log_flusher_stop() stops it and flushes. */
bool log_flusher_start(void);
void log_flusher_stop(void);

#endif
