/* A growable byte buffer and the two formatters every JSON writer shares: the
 * JSON string escaper and the RFC 3339 timestamp. The log and the renderers
 * both use these, so a name or a time reads the same byte for byte in both. */
#ifndef STREAMQ_CORE_TEXT_H
#define STREAMQ_CORE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* "2026-11-24T10:00:00.123456Z" plus NUL. */
#define RFC3339_LEN 27

struct text {
    char *data; /* NUL-terminated once anything was put; NULL before */
    size_t len, cap;
};

/* Appends `n` bytes (allocation aborts on exhaustion, never fails). */
void text_put(struct text *t, const char *s, size_t n);
void text_cstr(struct text *t, const char *s);
void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends the decimal digits of `v` (a JSON number; '-' first when negative). */
void text_int(struct text *t, int64_t v);
/* Appends `s` as a JSON string literal, quotes included: UTF-8 kept as it is,
 * '"' and '\' escaped, control bytes as \u00XX. */
void text_json_string(struct text *t, const char *s);
/* Appends the quoted RFC 3339 timestamp of `unix_us` (see rfc3339_format). */
void text_json_time(struct text *t, int64_t unix_us);
/* Empties `t` and releases its memory; accepts a zeroed buffer. */
void text_free(struct text *t);

/* Formats microseconds since the Unix epoch as RFC 3339 UTC with microseconds
 * into `out` (RFC3339_LEN + 1 bytes); returns RFC3339_LEN. */
size_t rfc3339_format(int64_t unix_us, char out[RFC3339_LEN + 1]);

/* The wall clock in microseconds since the Unix epoch. */
int64_t wall_usec(void);

#endif
