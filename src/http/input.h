/* Validation of request input that answers the client itself: each function
 * ending in _or_reply has queued a 400 problem when it returns false. */
#ifndef STREAMQ_INPUT_H
#define STREAMQ_INPUT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "src/http/server.h"

#define BATCH_TYPE_MAX_LEN 200

/* Parses the request body as a JSON object into `*out` (owned by the caller).
 * An empty body gives an empty object when `optional`; otherwise 400 invalid_json. */
bool json_body_object_or_reply(struct request *req, bool optional, cJSON **out) MUST_CHECK;

/* The path parameter `param` as a valid name (400 invalid_name otherwise). */
bool path_name_or_reply(struct request *req, const char *param, const char **out) MUST_CHECK;

/* Body member `member` as a valid name, as path_name_or_reply checks one (the
 * names of a transaction's operations). */
bool body_name_or_reply(struct request *req, const cJSON *obj, const char *member, const char **out) MUST_CHECK;

/* Query parameter `name` as an integer in [min, max], `def` when absent. */
bool query_int_or_reply(struct request *req, const char *name, int64_t min, int64_t max, int64_t def,
                        int64_t *out) MUST_CHECK;
/* Query parameter as a string (NULL when absent); 400 when its escapes are malformed. */
bool query_string_or_reply(struct request *req, const char *name, const char **out) MUST_CHECK;

/* Body member `name` as an integer in [min, max]; `*present` tells whether it was given
 * (JSON null counts as absent). */
bool body_int_or_reply(struct request *req, const cJSON *obj, const char *name, int64_t min, int64_t max, int64_t *out,
                       bool *present) MUST_CHECK;
/* Body member that may be absent (keep), null (`*value` = -1) or an integer in [min, max]
 * (min >= 0); `*has` tells whether it was given at all. */
bool body_nullable_int_or_reply(struct request *req, const cJSON *obj, const char *name, int64_t min, int64_t max,
                                bool *has, int64_t *value) MUST_CHECK;
/* Body member as a UUID string (required). */
bool body_uuid_or_reply(struct request *req, const cJSON *obj, const char *name, const char **out) MUST_CHECK;
/* Path parameter `param` as a UUID (400 invalid_parameter otherwise). */
bool path_uuid_or_reply(struct request *req, const char *param, const char **out) MUST_CHECK;
/* Item `index` of the batch array `list` ("events" or "messages"): an object with
 * type (1-200 characters), data (any JSON, required), metadata (object or null)
 * and an optional id (UUID), which goes to `*id` (NULL when absent). */
bool batch_item_or_reply(struct request *req, const cJSON *item, const char *list, int index,
                         const char **id) MUST_CHECK;
/* True when two of the `n` UUIDs are the same (in any case); sorts `ids`. */
bool ids_repeat(const char **ids, int n);

/* Body member as a string of 1..max_len chars; NULL when absent and not `required`. */
bool body_string_or_reply(struct request *req, const cJSON *obj, const char *name, size_t max_len, bool required,
                          const char **out) MUST_CHECK;
/* Body member as a boolean, `def` when absent. */
bool body_bool_or_reply(struct request *req, const cJSON *obj, const char *name, bool def, bool *out) MUST_CHECK;

#endif
