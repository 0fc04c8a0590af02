/* Store calls for webhooks as resources: create or update, read, list, pause
 * and resume, move the position, delete. (Delivery is db/webhook_delivery.) */
#ifndef STREAMQ_DB_WEBHOOKS_H
#define STREAMQ_DB_WEBHOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "db/store.h"
#include "src/core/util.h"

#define WEBHOOK_MAX_TYPES 100
#define WEBHOOK_URL_MAX 2048
#define WEBHOOK_SECRET_MAX 256

struct webhook {
    char name[NAME_MAX_LEN + 1];
    char url[WEBHOOK_URL_MAX + 1];
    bool has_stream;                /* else it follows a prefix */
    char target[NAME_MAX_LEN + 1];  /* the stream, or the prefix ("" for every stream) */
    char *types[WEBHOOK_MAX_TYPES]; /* owned; ntypes == 0: every type */
    int ntypes;
    int64_t position;
    int64_t max_batch;
    bool paused;
    int64_t consecutive_failures;
    int64_t last_delivery_us; /* 0: never */
    char *last_error;         /* owned; NULL: none */
    int64_t next_attempt_us;
};

void db_webhook_clear(struct webhook *w);

#define DELIVERY_ID_LEN 36

/* A webhook as the dispatcher claimed it (db/webhook_delivery.h). */
struct due_webhook {
    struct webhook hook; /* clear with db_webhook_clear */
    char secret[WEBHOOK_SECRET_MAX + 1];
    char delivery_id[DELIVERY_ID_LEN + 1]; /* "" when no batch is in flight */
    int64_t delivery_end;                  /* where the batch in flight ends, -1 when none */
};

/* A delivery's body and where the webhook's position goes once it is delivered. */
struct webhook_batch {
    char *body; /* owned (malloc); NULL when count is 0 */
    size_t len;
    int count; /* events in it; 0: nothing to send, `end` is the new position */
    int64_t end;
};

enum webhook_from { WEBHOOK_FROM_DEFAULT, WEBHOOK_FROM_START, WEBHOOK_FROM_END, WEBHOOK_FROM_POSITION };

struct webhook_input {
    const char *name, *url;
    bool has_stream;
    const char *target;
    const char *const *types;
    int ntypes;
    enum webhook_from from; /* DEFAULT: "end" for a new webhook; an update keeps the position */
    int64_t from_position;
    int64_t max_batch;
    const char *secret; /* NULL: keep (update) or make one (create) */
};

/* Creates or updates. `*created` tells which; `secret_out` (WEBHOOK_SECRET_MAX + 1
 * bytes) gets the secret when the service made it, else "". */
enum store_outcome db_webhooks_put(struct db_pool *pool, const struct webhook_input *in, struct webhook *out,
                                   bool *created, char *secret_out) MUST_CHECK;
enum store_outcome db_webhooks_get(struct db_pool *pool, const char *name, struct webhook *out) MUST_CHECK;
/* Up to `limit` webhooks by name after `after` (may be NULL), starting with
 * `prefix` (may be NULL): a new array (free each with db_webhook_clear, then the
 * array); `next_after` (NAME_MAX_LEN + 1) is the last name when more follow, else "". */
enum store_outcome db_webhooks_list(struct db_pool *pool, const char *prefix, const char *after, int64_t limit,
                                    struct webhook **out, int *n, char *next_after) MUST_CHECK;
enum store_outcome db_webhooks_set_paused(struct db_pool *pool, const char *name, bool paused,
                                          struct webhook *out) MUST_CHECK;
/* Moves delivery to `position` and forgets the batch in flight and its failures. */
enum store_outcome db_webhooks_set_position(struct db_pool *pool, const char *name, int64_t position,
                                            struct webhook *out) MUST_CHECK;
enum store_outcome db_webhooks_delete(struct db_pool *pool, const char *name) MUST_CHECK;

#endif
