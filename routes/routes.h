/* Every route handler, by resource file. Handlers parse, validate, make one
 * store call and render; see STYLE.md. */
#ifndef STREAMQ_ROUTES_H
#define STREAMQ_ROUTES_H

#include <stddef.h>

#include "db/events.h"
#include "db/store.h"
#include "src/core/text.h"
#include "src/http/router.h"
#include "src/http/server.h"
#include "src/http/waiters.h"
#include "src/service.h"

/* Every method and path the service answers (routes/table.c). */
extern const struct route route_table[];
extern const size_t route_table_len;

void route_ops_healthz(struct request *req);
void route_ops_readyz(struct request *req);
void route_ops_version(struct request *req);
void route_ops_openapi(struct request *req);
void route_metrics(struct request *req);
void route_console_page(struct request *req);
void route_console_asset(struct request *req);

void route_events_append(struct request *req);
void route_events_read(struct request *req);
void route_events_export(struct request *req);
void route_events_get(struct request *req);
void route_events_global_read(struct request *req);

void route_consumers_commit(struct request *req);
void route_consumers_get(struct request *req);
void route_consumers_list(struct request *req);
void route_consumers_delete(struct request *req);
void route_consumers_read(struct request *req);
void route_subscribe(struct request *req);

void route_webhooks_put(struct request *req);
void route_webhooks_get(struct request *req);
void route_webhooks_list(struct request *req);
void route_webhooks_pause(struct request *req);
void route_webhooks_resume(struct request *req);
void route_webhooks_set_position(struct request *req);
void route_webhooks_delete(struct request *req);

void route_streams_get(struct request *req);
void route_streams_list(struct request *req);
void route_streams_put_retention(struct request *req);
void route_streams_archive(struct request *req);
void route_streams_unarchive(struct request *req);
void route_streams_delete(struct request *req);

void route_queues_get(struct request *req);
void route_queues_list(struct request *req);
void route_queues_put(struct request *req);
void route_queues_purge(struct request *req);
void route_queues_delete(struct request *req);
void route_queues_peek(struct request *req);

void route_messages_enqueue(struct request *req);
void route_messages_dequeue(struct request *req);
void route_messages_ack(struct request *req);
void route_messages_ack_batch(struct request *req);
void route_messages_nack(struct request *req);
void route_messages_visibility(struct request *req);

void route_transactions(struct request *req);

void route_dead_letters_list(struct request *req);
void route_dead_letters_redrive(struct request *req);
void route_dead_letters_delete(struct request *req);

/* Shared by the route files (routes/common.c). */

/* The answer to a store call that failed in a way every call can: 503 with
 * Retry-After for STORE_UNAVAILABLE, else 500. */
void route_reply_store_failure(struct request *req, enum store_outcome outcome);
/* The prefix, after and limit query parameters of the lists by name (streams,
 * queues, webhooks); the prefix is narrowed to the token's (route_visible_prefix). */
bool route_list_query_or_reply(struct request *req, const char **prefix, const char **after, int64_t *limit) MUST_CHECK;
/* What a list or the global read asked for (`asked`, NULL for everything),
 * narrowed to the names the request's token reaches: the longer of the two
 * prefixes when one starts with the other, else a prefix no name has. */
const char *route_visible_prefix(const struct request *req, const char *asked);
/* True when an If-None-Match header value lists `etag` (quoted) or `*`; it
 * compares weakly and may list several tags (RFC 9110 13.1.2). */
bool route_etag_listed(const char *header, const char *etag);
/* The `after` query parameter of peek and dead-letter pages (a sequence number). */
bool route_cursor_or_reply(struct request *req, const char **after) MUST_CHECK;

/* Group commit (db/batcher.h) from a handler: makes `state` the request's
 * route state (freed with the request by `state_free`), suspends the request
 * and hands `job` to `b`. The handler returns without a response; it runs again,
 * finding req->route_state, once the job was written (job->finished). */
struct batcher;
struct batch_job;
void route_submit(struct request *req, struct batcher *b, struct batch_job *job, void *state,
                  void (*state_free)(void *));

/* Long polls (src/http/waiters.h). A handler that may wait calls route_wait_begin
 * before its read; when the read found nothing and it returns true, the handler
 * parks with route_wait_park and returns without a response: it runs again from
 * the start when something changed, its deadline passed, or the service stops. */

#define ROUTE_WAIT_MAX 60

/* The `wait` query parameter of a long poll, in seconds, 0-ROUTE_WAIT_MAX
 * (dequeue reads `wait_seconds` from its body instead). */
bool route_wait_query_or_reply(struct request *req, int64_t *seconds) MUST_CHECK;
/* True when the request may still wait (seconds > 0, its deadline, set on the
 * first call, not passed, and the service not stopping); then it watches `key`. */
bool route_wait_begin(struct request *req, int64_t seconds, enum wait_kind kind, const char *key);
/* How recent the read of a request that may wait must be; call it before
 * route_wait_begin. Without `seconds`: a plain read, which a standby may serve.
 * On the first run: an empty answer is confirmed on the primary, so a reader
 * does not park past an event that has committed. Run again after parking:
 * on the primary, which shows the commit that woke it. */
enum db_recency route_wait_recency(const struct request *req, int64_t seconds);
/* Parks the request until a change to the watched key, its deadline, or
 * `recheck_ms` from now (0: no recheck), whichever is first. */
void route_wait_park(struct request *req, int64_t recheck_ms);

/* What the renderers share: JSON text written with src/core/text.h, so strings
 * and times read byte for byte as in the log. Each appends `before` (the JSON
 * text up to the value, e.g. ",\"version\":") and then the value. */

void render_int(struct text *t, const char *before, int64_t v);
void render_bool(struct text *t, const char *before, bool v);
/* `s` as a JSON string, or null when NULL. */
void render_string(struct text *t, const char *before, const char *s);
/* `us` (microseconds since the Unix epoch) as an RFC 3339 string. */
void render_time(struct text *t, const char *before, int64_t us);
/* The JSON text as it is, or null when there is none. */
void render_json(struct text *t, const char *before, struct db_json v);
void render_int_or_null(struct text *t, const char *before, struct db_nullable v);
void render_time_or_null(struct text *t, const char *before, struct db_nullable us);
/* Closes a list page begun with `{"<key>":[` and its items, separated by commas:
 * ],"next_after":<the cursor, or null when "">} */
void render_page_end(struct text *t, const char *next_after);

struct consumer;
struct webhook;
/* routes/consumers.c: a consumer group of `stream`. */
void consumer_json(struct text *t, const char *stream, const struct consumer *c);
/* routes/webhooks.c: a webhook; `secret` (may be NULL) only in the answer that made it. */
void webhook_json(struct text *t, const struct webhook *w, const char *secret);
struct due_webhook;
struct webhook_batch;
/* routes/webhooks.c: the next batch of `d` rendered as a delivery body (the
 * dispatcher's webhook_batch_fn, handed to it by service.c). */
enum store_outcome route_webhooks_batch(struct db_pool *pool, const struct due_webhook *d, struct webhook_batch *out);

/* routes/events.c: the problem answer of a failed stream read. */
void route_reply_read_failure(struct request *req, enum store_outcome outcome, const char *stream);
/* routes/events.c: a read's input that outlives its request (an NDJSON export
 * reads on after the handler returned): `in`, its strings owned copies. */
struct read_input_copy {
    struct read_input in;
    char *stream, *types, *since, *until;
};
void read_input_copy(struct read_input_copy *c, const struct read_input *in);
void read_input_copy_free(struct read_input_copy *c);
/* routes/events_archive.c: the include_archive query parameter (true/false);
 * a read page and an NDJSON export that include the cold archive. */
bool route_include_archive_or_reply(struct request *req, bool *include) MUST_CHECK;
void route_archive_read_page(struct request *req, const struct read_input *in, int64_t wait);
void route_archive_export(struct request *req, const struct read_input *in);

/* Renderers, each in the route file of its resource; they append the API's
 * JSON object for one struct (declared here for the unit tests too). */

struct append_result;
struct event;
/* routes/events.c: the answer to an append (`res` holds at least one event),
 * and one event as every read shows it. */
void append_result_json(struct text *t, const char *stream, const struct append_result *res);
void event_json(struct text *t, const struct event *ev);

struct stream_meta;
/* routes/streams.c: GET /streams/{stream} and every answer that carries metadata. */
void stream_meta_json(struct text *t, const struct stream_meta *m);

struct queue_meta;
struct peeked_message;
/* routes/queues.c: queue metadata and counts, and messages as peek shows them. */
void queue_meta_json(struct text *t, const struct queue_meta *m);
void peeked_message_json(struct text *t, const struct peeked_message *m);

struct dead_letter;
/* routes/dead_letters.c: one dead letter. */
void dead_letter_json(struct text *t, const struct dead_letter *d);

struct enqueued_message;
struct dequeued_message;
struct ack_result;
/* routes/messages.c: a message as enqueue and as dequeue report it, and the
 * answer of a batch ack: {"acked": [ids], "failed": [{id, code}]}, each in the
 * order sent. */
void enqueued_message_json(struct text *t, const struct enqueued_message *m);
void dequeued_message_json(struct text *t, const struct dequeued_message *m);
void ack_results_json(struct text *t, const struct ack_result *items, int count);

#endif
