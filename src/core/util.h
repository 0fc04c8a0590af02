/* Small leaf helpers shared by every layer: allocation that aborts on
 * exhaustion, strict number parsing, names, UTF-8, ids and clocks. */
#ifndef STREAMQ_UTIL_H
#define STREAMQ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MUST_CHECK __attribute__((warn_unused_result))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define NAME_MAX_LEN 200
#define UUID_STR_LEN 36

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Parses all of `s` as a base-10 int64 within [min, max]; no spaces, no sign games. */
bool parse_int64(const char *s, int64_t min, int64_t max, int64_t *out) MUST_CHECK;

/* A stream, queue or group name: 1-200 chars of [A-Za-z0-9._:-], not "." or "..". */
bool name_is_valid(const char *s);

/* True when `len` bytes at `s` are well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_is_valid(const char *s, size_t len);

/* The value of one hex digit (either case), or -1. */
int hex_value(char c);

/* Decodes %XX escapes of `in` (and '+' as space when `plus_is_space`) into a new string.
 * Returns NULL for a malformed escape or a decoded NUL byte. */
char *percent_decode(const char *in, size_t len, bool plus_is_space);

/* Fills `buf` with cryptographically random bytes; aborts if the kernel cannot. */
void random_bytes(void *buf, size_t len);

/* Writes a new random (version 4) UUID as 36 chars + NUL into `out`. */
void uuid_v4(char out[UUID_STR_LEN + 1]);

/* True when `s` is a UUID in its canonical 8-4-4-4-12 hex form (any case). */
bool uuid_is_valid(const char *s);

/* True when `s` is an RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). */
bool rfc3339_is_valid(const char *s);

/* Monotonic clock in microseconds. */
int64_t now_usec(void);

#endif
