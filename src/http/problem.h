/* RFC 9457 problem details. Handlers never build an error body by hand: they
 * name a stable `code` and these functions render and queue the response. */
#ifndef STREAMQ_PROBLEM_H
#define STREAMQ_PROBLEM_H

#include <cjson/cJSON.h>

#include "src/http/server.h"

#define PROBLEM_TYPE_BASE "https://streamq.dev/problems/"

/* Returns a new problem object; `extra` (may be NULL) is consumed and its members
 * merged in. Never returns NULL. */
cJSON *problem_new(unsigned status, const char *code, const char *detail, cJSON *extra);

/* Queues a problem response with a printf-style detail. */
void problem_reply(struct request *req, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same, with extra members (consumed). */
void problem_reply_extra(struct request *req, unsigned status, const char *code, cJSON *extra, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* 503 unavailable with Retry-After: the database did not answer in time. */
void problem_reply_unavailable(struct request *req);
/* 500 internal_error; the cause has been logged where it was found. */
void problem_reply_internal(struct request *req);

#endif
