/* The route table: every method and path the service answers, and the scope a
 * bearer token needs for it (API.md, "Operations": read covers GETs and SSE;
 * write adds appends, enqueues, dequeues, settling, consumer commits and
 * transactions; admin
 * adds configuration, deletes, purges, redrives, retention, archive and
 * webhooks). Order matters only where a literal segment and a parameter could
 * both match. */
#include "routes/routes.h"

const struct route route_table[] = {
    {"GET", "/healthz", route_ops_healthz, SCOPE_OPEN},
    {"GET", "/readyz", route_ops_readyz, SCOPE_OPEN},
    {"GET", "/version", route_ops_version, SCOPE_READ},
    {"GET", "/openapi.yaml", route_ops_openapi, SCOPE_READ},
    /* Open with --metrics-public (service.c). */
    {"GET", "/metrics", route_metrics, SCOPE_READ},

    {"GET", "/streams", route_streams_list, SCOPE_READ},
    {"GET", "/streams/{stream}", route_streams_get, SCOPE_READ},
    {"DELETE", "/streams/{stream}", route_streams_delete, SCOPE_ADMIN},
    {"PUT", "/streams/{stream}/retention", route_streams_put_retention, SCOPE_ADMIN},
    {"POST", "/streams/{stream}/archive", route_streams_archive, SCOPE_ADMIN},
    {"POST", "/streams/{stream}/unarchive", route_streams_unarchive, SCOPE_ADMIN},
    {"POST", "/streams/{stream}/events", route_events_append, SCOPE_WRITE},
    {"GET", "/streams/{stream}/events", route_events_read, SCOPE_READ},
    {"GET", "/streams/{stream}/events/{offset}", route_events_get, SCOPE_READ},
    {"GET", "/streams/{stream}/export", route_events_export, SCOPE_READ},
    {"GET", "/streams/{stream}/subscribe", route_subscribe, SCOPE_READ},
    {"GET", "/streams/{stream}/consumers", route_consumers_list, SCOPE_READ},
    {"PUT", "/streams/{stream}/consumers/{group}", route_consumers_commit, SCOPE_WRITE},
    {"GET", "/streams/{stream}/consumers/{group}", route_consumers_get, SCOPE_READ},
    {"DELETE", "/streams/{stream}/consumers/{group}", route_consumers_delete, SCOPE_ADMIN},
    {"GET", "/streams/{stream}/consumers/{group}/events", route_consumers_read, SCOPE_READ},
    {"GET", "/events", route_events_global_read, SCOPE_READ},

    {"GET", "/webhooks", route_webhooks_list, SCOPE_READ},
    {"PUT", "/webhooks/{name}", route_webhooks_put, SCOPE_ADMIN},
    {"GET", "/webhooks/{name}", route_webhooks_get, SCOPE_READ},
    {"DELETE", "/webhooks/{name}", route_webhooks_delete, SCOPE_ADMIN},
    {"POST", "/webhooks/{name}/pause", route_webhooks_pause, SCOPE_ADMIN},
    {"POST", "/webhooks/{name}/resume", route_webhooks_resume, SCOPE_ADMIN},
    {"PUT", "/webhooks/{name}/position", route_webhooks_set_position, SCOPE_ADMIN},

    {"GET", "/queues", route_queues_list, SCOPE_READ},
    {"GET", "/queues/{queue}", route_queues_get, SCOPE_READ},
    {"PUT", "/queues/{queue}", route_queues_put, SCOPE_ADMIN},
    {"DELETE", "/queues/{queue}", route_queues_delete, SCOPE_ADMIN},
    {"POST", "/queues/{queue}/purge", route_queues_purge, SCOPE_ADMIN},
    {"GET", "/queues/{queue}/messages", route_queues_peek, SCOPE_READ},
    {"POST", "/queues/{queue}/messages", route_messages_enqueue, SCOPE_WRITE},
    {"POST", "/queues/{queue}/dequeue", route_messages_dequeue, SCOPE_WRITE},
    {"POST", "/queues/{queue}/ack", route_messages_ack_batch, SCOPE_WRITE},
    {"POST", "/queues/{queue}/messages/{id}/ack", route_messages_ack, SCOPE_WRITE},
    {"POST", "/queues/{queue}/messages/{id}/nack", route_messages_nack, SCOPE_WRITE},
    {"POST", "/queues/{queue}/messages/{id}/visibility", route_messages_visibility, SCOPE_WRITE},
    {"GET", "/queues/{queue}/dead-letters", route_dead_letters_list, SCOPE_READ},
    {"POST", "/queues/{queue}/dead-letters/redrive", route_dead_letters_redrive, SCOPE_ADMIN},
    {"DELETE", "/queues/{queue}/dead-letters/{id}", route_dead_letters_delete, SCOPE_ADMIN},

    {"POST", "/transactions", route_transactions, SCOPE_WRITE},

    /* The browser console's own files carry no data (its API calls need the
     * token); last, so that matching every other route never passes them. */
    {"GET", "/console", route_console_page, SCOPE_OPEN},
    {"GET", "/console/{file}", route_console_asset, SCOPE_OPEN},
};

const size_t route_table_len = sizeof route_table / sizeof route_table[0];
