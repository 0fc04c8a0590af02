/* JSON helpers over cJSON: parsing request bodies within the API's rules and
 * building values cJSON cannot express directly (64-bit integers). */
#ifndef STREAMQ_JSON_H
#define STREAMQ_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "src/core/util.h"

/* Makes cJSON allocate with xmalloc, which aborts on exhaustion: from then on a
 * cJSON constructor never returns NULL, so callers need no out-of-memory branches.
 * Call once at start-up, before any other thread runs. */
void json_init(void);

/* Parses `len` bytes of UTF-8 JSON; NULL when malformed, not UTF-8, or when an
 * object names a key twice (PostgreSQL would keep a different one than we checked). */
cJSON *json_parse(const char *text, size_t len);

/* True when `item` is a JSON number with an integral value in [min, max]. */
bool json_is_int(const cJSON *item, int64_t min, int64_t max);

/* Adds an integer member; values beyond 2^53 are not expected (the API keeps
 * positions below it). */
void json_add_int(cJSON *obj, const char *name, int64_t value);

/* Where a value is written in a JSON text: `len` bytes from `start`. */
struct json_span {
    size_t start, len;
};

/* The elements of the array that member `key` of the top-level object in
 * `text` holds, as written: up to `max` spans into `spans`, their number in
 * `*count`. `text` must be JSON json_parse accepted (so `key` is there at most
 * once). False when the member is absent, is not an array, or its name is
 * written with an escape. Lets a part of a request reach PostgreSQL as the
 * client wrote it, where re-printing through cJSON's doubles would round numbers. */
bool json_array_spans(const char *text, const char *key, struct json_span *spans, int max, int *count);

#endif
