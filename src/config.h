/* Configuration: one option table drives flags, STREAMQ_* variables, the JSON
 * config file and --help. Precedence: flags > environment > file > defaults. */
#ifndef STREAMQ_CONFIG_H
#define STREAMQ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "src/core/log.h"
#include "src/core/util.h"

struct config {
    char *listen; /* "host:port" as given */
    struct sockaddr_storage listen_addr;
    socklen_t listen_addr_len;
    char *port_file;            /* "" for none */
    char *database_url;         /* "" leaves everything to libpq's PG* variables */
    char *read_database_url;    /* "" when reads go to the primary too */
    int64_t max_replica_lag_ms; /* a standby further behind serves no read */
    char *schema;
    char *table_prefix;
    int64_t pool_min;
    int64_t pool_max;
    int64_t acquire_timeout_ms;
    int64_t command_timeout_ms;
    bool auto_migrate;
    int64_t read_batch_size;
    int64_t visibility_timeout;
    int64_t max_delivery_attempts;
    int64_t sweep_interval_ms;
    int64_t retention_interval_ms;
    int64_t retention_max_age;     /* seconds; 0: no default limit */
    int64_t retention_max_count;   /* events; 0: no default limit */
    int64_t dead_letter_retention; /* seconds; 0: dead letters are kept */
    char *archive_dir;             /* "": trimmed events are deleted, not archived */
    int64_t sse_heartbeat_seconds;
    bool notify; /* commits NOTIFY and the notifier LISTENs (long polls, SSE) */
    char *partitioning;
    int64_t max_body;
    int64_t max_batch;
    int64_t append_writers;
    int64_t transaction_writers;
    int64_t transaction_id_ttl;
    int64_t queue_writers;
    int64_t threads;
    int64_t connection_timeout;
    int64_t shutdown_timeout;
    char *tokens_file;
    bool metrics_public;        /* GET /metrics needs no token */
    int64_t metrics_refresh_ms; /* queue depths on /metrics are read at most this often */
    char *webhook_allow;        /* "" allows any host */
    enum log_format log_format;
    enum log_level log_level;
    char *config_file;
    char *command; /* "serve" or "migrate" */
};

enum config_result { CONFIG_OK, CONFIG_HELP, CONFIG_VERSION, CONFIG_ERROR };

/* Looks up an environment variable; tests pass their own. */
typedef const char *(*config_getenv_fn)(const char *name);

/* Fills `cfg` from argv, the environment (through `get_env`) and the config file.
 * On CONFIG_ERROR `err` holds a message naming the option. Call config_free after,
 * whatever the result. */
enum config_result config_load(struct config *cfg, int argc, char **argv, config_getenv_fn get_env, char *err,
                               size_t errlen) MUST_CHECK;

void config_free(struct config *cfg);

/* Writes the --help text, one entry per option with its variable and default. */
void config_print_help(FILE *out);

#endif
