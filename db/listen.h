/* The notification link: one connection of its own (not from the pool) that
 * LISTENs on the service's channel, and the channel's name, which the pool's
 * connections also set so that their commits notify (schema/002_notify.sql). */
#ifndef STREAMQ_DB_LISTEN_H
#define STREAMQ_DB_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "src/config.h"

#define DB_CHANNEL_LEN 63

struct db_listener;

/* The channel of this schema and table prefix, so that several services on one
 * database (other schemas) do not wake each other. */
void db_notify_channel(const struct config *cfg, char out[DB_CHANNEL_LEN + 1]);

/* Connects and LISTENs; NULL with the reason in `err`. */
struct db_listener *db_listener_open(const struct config *cfg, char *err, size_t errlen);
/* The socket to poll for readability. */
int db_listener_fd(const struct db_listener *l);
/* Reads what arrived and calls `fn` with each notification's payload. Returns
 * false when the link is lost (close it and open a new one). */
bool db_listener_drain(struct db_listener *l, void (*fn)(const char *payload, void *arg), void *arg);
void db_listener_close(struct db_listener *l);

#endif
