/* The route table: every method and path the service answers. Order matters
 * only where a literal segment and a parameter could both match. */
#include "routes/routes.h"

const struct route route_table[] = {
    {"GET", "/healthz", route_ops_healthz},
    {"GET", "/readyz", route_ops_readyz},
    {"GET", "/version", route_ops_version},
    {"GET", "/openapi.yaml", route_ops_openapi},

    {"GET", "/streams", route_streams_list},
    {"GET", "/streams/{stream}", route_streams_get},
    {"DELETE", "/streams/{stream}", route_streams_delete},
    {"PUT", "/streams/{stream}/retention", route_streams_put_retention},
    {"POST", "/streams/{stream}/archive", route_streams_archive},
    {"POST", "/streams/{stream}/unarchive", route_streams_unarchive},
    {"POST", "/streams/{stream}/events", route_events_append},
    {"GET", "/streams/{stream}/events", route_events_read},
    {"GET", "/streams/{stream}/events/{offset}", route_events_get},
    {"GET", "/streams/{stream}/subscribe", route_subscribe},
    {"GET", "/streams/{stream}/consumers", route_consumers_list},
    {"PUT", "/streams/{stream}/consumers/{group}", route_consumers_commit},
    {"GET", "/streams/{stream}/consumers/{group}", route_consumers_get},
    {"DELETE", "/streams/{stream}/consumers/{group}", route_consumers_delete},
    {"GET", "/streams/{stream}/consumers/{group}/events", route_consumers_read},
    {"GET", "/events", route_events_global_read},

    {"GET", "/webhooks", route_webhooks_list},
    {"PUT", "/webhooks/{name}", route_webhooks_put},
    {"GET", "/webhooks/{name}", route_webhooks_get},
    {"DELETE", "/webhooks/{name}", route_webhooks_delete},
    {"POST", "/webhooks/{name}/pause", route_webhooks_pause},
    {"POST", "/webhooks/{name}/resume", route_webhooks_resume},
    {"PUT", "/webhooks/{name}/position", route_webhooks_set_position},

    {"GET", "/queues", route_queues_list},
    {"GET", "/queues/{queue}", route_queues_get},
    {"PUT", "/queues/{queue}", route_queues_put},
    {"DELETE", "/queues/{queue}", route_queues_delete},
    {"POST", "/queues/{queue}/purge", route_queues_purge},
    {"GET", "/queues/{queue}/messages", route_queues_peek},
    {"POST", "/queues/{queue}/messages", route_messages_enqueue},
    {"POST", "/queues/{queue}/dequeue", route_messages_dequeue},
    {"POST", "/queues/{queue}/ack", route_messages_ack_batch},
    {"POST", "/queues/{queue}/messages/{id}/ack", route_messages_ack},
    {"POST", "/queues/{queue}/messages/{id}/nack", route_messages_nack},
    {"POST", "/queues/{queue}/messages/{id}/visibility", route_messages_visibility},
    {"GET", "/queues/{queue}/dead-letters", route_dead_letters_list},
    {"POST", "/queues/{queue}/dead-letters/redrive", route_dead_letters_redrive},
    {"DELETE", "/queues/{queue}/dead-letters/{id}", route_dead_letters_delete},
};

const size_t route_table_len = sizeof route_table / sizeof route_table[0];
