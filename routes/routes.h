/* Every route handler, by resource file. Handlers parse, validate, make one
 * store call and render; see STYLE.md. */
#ifndef STREAMQ_ROUTES_H
#define STREAMQ_ROUTES_H

#include "src/http.h"

void route_ops_healthz(struct request *req);
void route_ops_readyz(struct request *req);
void route_ops_version(struct request *req);
void route_ops_openapi(struct request *req);

void route_events_append(struct request *req);
void route_events_read(struct request *req);
void route_events_get(struct request *req);
void route_events_global_read(struct request *req);

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

void route_dead_letters_list(struct request *req);
void route_dead_letters_redrive(struct request *req);
void route_dead_letters_delete(struct request *req);

/* The `after` query parameter of peek and dead-letter pages (a sequence number). */
bool route_cursor_or_reply(struct request *req, const char **after) MUST_CHECK;

#endif
