/* Configuration table and its four sources; see config.h. */
#include "src/config.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stddef.h>

enum opt_type { OPT_STRING, OPT_INT, OPT_BOOL, OPT_ENUM };

struct option_def {
    const char *name; /* flag without "--"; env var is STREAMQ_ + upper snake case */
    enum opt_type type;
    size_t offset;
    const char *def;
    int64_t min, max;
    const char *const *choices; /* OPT_ENUM: NULL-terminated, index is the stored value */
    const char *help;
};

static const char *const log_formats[] = {"text", "json", NULL};
static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const partitionings[] = {"none", NULL};

#define OFF(field) offsetof(struct config, field)
#define I64_MAX INT64_MAX

static const struct option_def options[] = {
    {"listen", OPT_STRING, OFF(listen), "127.0.0.1:8080", 0, 0, NULL,
     "address:port to serve HTTP on; port 0 picks a free one (the log says which)"},
    {"port-file", OPT_STRING, OFF(port_file), "", 0, 0, NULL,
     "once listening, write the bound port (a decimal number and a newline) to this file"},
    {"database-url", OPT_STRING, OFF(database_url), "", 0, 0, NULL,
     "libpq connection string or URL; also DATABASE_URL; what it leaves out comes from PG* variables"},
    {"read-database-url", OPT_STRING, OFF(read_database_url), "", 0, 0, NULL,
     "a hot standby of the database for reads (libpq connection string or URL); empty: every read goes to the "
     "primary"},
    {"max-replica-lag-ms", OPT_INT, OFF(max_replica_lag_ms), "1000", 100, 3600000, NULL,
     "reads go to the primary while the standby is further behind than this (checked every quarter of it, "
     "at most every second)"},
    {"schema", OPT_STRING, OFF(schema), "event_streaming", 0, 0, NULL,
     "PostgreSQL schema holding streamq's tables (created by migrations)"},
    {"table-prefix", OPT_STRING, OFF(table_prefix), "", 0, 0, NULL,
     "prefix for every table, view and function name, e.g. sq_ (lower case, digits, _)"},
    {"pool-min", OPT_INT, OFF(pool_min), "2", 1, 1000, NULL, "database connections opened at start-up"},
    {"pool-max", OPT_INT, OFF(pool_max), "16", 1, 1000, NULL, "most database connections open at once"},
    {"acquire-timeout-ms", OPT_INT, OFF(acquire_timeout_ms), "5000", 1, 600000, NULL,
     "how long a request waits for a free connection before 503 unavailable"},
    {"command-timeout-ms", OPT_INT, OFF(command_timeout_ms), "30000", 0, 3600000, NULL,
     "statement_timeout for every query; 0 disables it"},
    {"auto-migrate", OPT_BOOL, OFF(auto_migrate), "true", 0, 0, NULL,
     "apply pending schema migrations at start-up (true/false)"},
    {"read-batch-size", OPT_INT, OFF(read_batch_size), "1000", 10, 100000, NULL,
     "rows fetched per page while streaming NDJSON exports"},
    {"visibility-timeout", OPT_INT, OFF(visibility_timeout), "30", 0, 43200, NULL,
     "default lease in seconds for queues that do not set one"},
    {"max-delivery-attempts", OPT_INT, OFF(max_delivery_attempts), "5", 1, 1000, NULL,
     "default deliveries before a message is dead-lettered"},
    {"sweep-interval-ms", OPT_INT, OFF(sweep_interval_ms), "1000", 50, 3600000, NULL,
     "how often the sweeper returns expired leases and applies retention"},
    {"retention-interval-ms", OPT_INT, OFF(retention_interval_ms), "10000", 50, 3600000, NULL,
     "how often the retention worker trims streams and deletes old dead letters"},
    {"retention-max-age", OPT_INT, OFF(retention_max_age), "0", 0, I64_MAX, NULL,
     "seconds an event is kept in a stream without a retention policy of its own; 0: no limit"},
    {"retention-max-count", OPT_INT, OFF(retention_max_count), "0", 0, I64_MAX, NULL,
     "newest events kept in a stream without a retention policy of its own; 0: no limit"},
    {"dead-letter-retention", OPT_INT, OFF(dead_letter_retention), "1209600", 0, I64_MAX, NULL,
     "seconds a dead letter is kept before the retention worker deletes it; 0: kept until deleted"},
    {"archive-dir", OPT_STRING, OFF(archive_dir), "", 0, 0, NULL,
     "directory of the cold archive: trimmed events are written there (gzip NDJSON) before they are deleted; \"\": not "
     "archived"},
    {"sse-heartbeat-seconds", OPT_INT, OFF(sse_heartbeat_seconds), "15", 1, 300, NULL,
     "a Server-Sent Events subscription with nothing to send gets a comment line this often"},
    {"notify", OPT_BOOL, OFF(notify), "true", 0, 0, NULL,
     "commits send a PostgreSQL NOTIFY that wakes long polls and SSE streams at once; false: waiters wake only at "
     "their deadline (for measuring NOTIFY's cost)"},
    {"partitioning", OPT_ENUM, OFF(partitioning), "none", 0, 0, partitionings, "table partitioning of events (none)"},
    {"max-body", OPT_INT, OFF(max_body), "4194304", 1024, 1073741824, NULL,
     "largest request body in bytes; larger ones get 413"},
    {"max-batch", OPT_INT, OFF(max_batch), "1000", 1, 4096, NULL, "most events or messages in one append or enqueue"},
    {"append-writers", OPT_INT, OFF(append_writers), "4", 1, 1000, NULL,
     "appends written at once; appends arriving meanwhile are combined into shared commits"},
    {"queue-writers", OPT_INT, OFF(queue_writers), "2", 1, 1000, NULL,
     "enqueues, dequeues and acks (each) written at once; those arriving meanwhile are combined into shared commits"},
    {"transaction-writers", OPT_INT, OFF(transaction_writers), "4", 1, 1000, NULL,
     "transactions (POST /transactions) written at once; those arriving meanwhile share one commit (a savepoint each)"},
    {"transaction-id-ttl", OPT_INT, OFF(transaction_id_ttl), "86400", 60, I64_MAX, NULL,
     "seconds the answer of a transaction sent with a transaction_id is kept for its retries"},
    {"threads", OPT_INT, OFF(threads), "16", 1, 1024, NULL, "HTTP worker threads"},
    {"connection-timeout", OPT_INT, OFF(connection_timeout), "60", 1, 86400, NULL,
     "seconds an idle or stalled client connection is kept"},
    {"shutdown-timeout", OPT_INT, OFF(shutdown_timeout), "10", 0, 3600, NULL,
     "seconds to let in-flight requests finish on SIGTERM/SIGINT"},
    {"webhook-allow", OPT_STRING, OFF(webhook_allow), "", 0, 0, NULL,
     "comma-separated hosts webhooks may deliver to (a leading *. matches subdomains); empty: any host"},
    {"tokens-file", OPT_STRING, OFF(tokens_file), "", 0, 0, NULL,
     "file of bearer tokens: <scope> <sha256 hex> [label] [prefix=P] per line (streamq token makes one); "
     "re-read on SIGHUP; empty: no token needed"},
    {"metrics-public", OPT_BOOL, OFF(metrics_public), "false", 0, 0, NULL,
     "GET /metrics answers without a token even when --tokens-file is set (true/false); otherwise it needs read"},
    {"metrics-refresh-ms", OPT_INT, OFF(metrics_refresh_ms), "5000", 100, 3600000, NULL,
     "queue depth gauges on /metrics are read from the database at most this often; scrapes between get the last "
     "reading"},
    {"log-format", OPT_ENUM, OFF(log_format), "text", 0, 0, log_formats, "text or json"},
    {"log-level", OPT_ENUM, OFF(log_level), "info", 0, 0, log_levels,
     "debug, info, warn or error; request lines are info"},
};

static const struct option_def *find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < ARRAY_LEN(options); i++)
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
            return &options[i];
    return NULL;
}

static void env_name(const struct option_def *opt, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "STREAMQ_");
    for (const char *p = opt->name; *p && n + 1 < size; p++)
        buf[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    buf[n] = '\0';
}

static bool is_identifier(const char *s, bool allow_empty, bool allow_leading_digit)
{
    size_t n = strlen(s);
    if (n == 0)
        return allow_empty;
    if (n > 40)
        return false;
    if (!allow_leading_digit && isdigit((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

/* Stores `value` into the option's field; `source` names where it came from for errors. */
static bool set_option(struct config *cfg, const struct option_def *opt, const char *value, const char *source,
                       char *err, size_t errlen)
{
    char *field = (char *)cfg + opt->offset;
    switch (opt->type) {
    case OPT_STRING:
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return true;
    case OPT_INT: {
        int64_t v;
        if (!parse_int64(value, opt->min, opt->max, &v)) {
            snprintf(err, errlen, "invalid value for %s (from %s): expected an integer from %lld to %lld", opt->name,
                     source, (long long)opt->min, (long long)opt->max);
            return false;
        }
        *(int64_t *)field = v;
        return true;
    }
    case OPT_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes") || !strcmp(value, "on"))
            *(bool *)field = true;
        else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no") || !strcmp(value, "off"))
            *(bool *)field = false;
        else {
            snprintf(err, errlen, "invalid value for %s (from %s): expected true or false", opt->name, source);
            return false;
        }
        return true;
    case OPT_ENUM:
        for (int i = 0; opt->choices[i]; i++) {
            if (!strcmp(value, opt->choices[i])) {
                if (opt->offset == OFF(partitioning)) {
                    free(cfg->partitioning);
                    cfg->partitioning = xstrdup(value);
                } else {
                    *(int *)field = i;
                }
                return true;
            }
        }
        snprintf(err, errlen, "invalid value for %s (from %s): not one of the allowed values", opt->name, source);
        return false;
    }
    return false;
}

static bool apply_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    cJSON *root = NULL;
    bool ok = false;

    if (!f) {
        snprintf(err, errlen, "config: cannot open %s", path);
        goto out;
    }
    size_t cap = 4096, len = 0, n;
    text = xmalloc(cap);
    while ((n = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap)
            text = xrealloc(text, cap *= 2);
    }
    text[len] = '\0';
    root = cJSON_Parse(text);
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "config: %s is not a JSON object", path);
        goto out;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        const struct option_def *opt = find_option(item->string, strlen(item->string));
        char value[64];
        const char *v = value;
        if (!opt || !strcmp(item->string, "config")) {
            snprintf(err, errlen, "config: unknown option \"%s\" in %s", item->string, path);
            goto out;
        }
        if (cJSON_IsString(item))
            v = item->valuestring;
        else if (cJSON_IsBool(item))
            v = cJSON_IsTrue(item) ? "true" : "false";
        else if (cJSON_IsNumber(item) && item->valuedouble == floor(item->valuedouble) &&
                 fabs(item->valuedouble) < 0x1p53)
            snprintf(value, sizeof value, "%.0f", item->valuedouble);
        else {
            snprintf(err, errlen, "config: option \"%s\" in %s must be a string, whole number or boolean", item->string,
                     path);
            goto out;
        }
        if (!set_option(cfg, opt, v, path, err, errlen))
            goto out;
    }
    ok = true;
out:
    if (f)
        fclose(f);
    free(text);
    cJSON_Delete(root);
    return ok;
}

static bool parse_listen(struct config *cfg, char *err, size_t errlen)
{
    const char *colon = strrchr(cfg->listen, ':');
    int64_t port;
    if (!colon || !parse_int64(colon + 1, 0, 65535, &port)) {
        snprintf(err, errlen, "invalid value for listen: expected host:port, got \"%s\"", cfg->listen);
        return false;
    }
    char host[64];
    size_t hlen = (size_t)(colon - cfg->listen);
    if (hlen >= sizeof host)
        goto bad;
    memcpy(host, cfg->listen, hlen);
    host[hlen] = '\0';
    memset(&cfg->listen_addr, 0, sizeof cfg->listen_addr);
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    struct sockaddr_in *v4 = (struct sockaddr_in *)&cfg->listen_addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&cfg->listen_addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        cfg->listen_addr_len = sizeof *v4;
        return true;
    }
    if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons((uint16_t)port);
            cfg->listen_addr_len = sizeof *v6;
            return true;
        }
    }
bad:
    snprintf(err, errlen, "invalid value for listen: \"%s\" is not an IPv4 address, [IPv6] or localhost", cfg->listen);
    return false;
}

static bool check_config(struct config *cfg, char *err, size_t errlen)
{
    if (!parse_listen(cfg, err, errlen))
        return false;
    if (!is_identifier(cfg->schema, false, false)) {
        snprintf(err, errlen, "invalid value for schema: use 1-40 of a-z, 0-9 and _, not starting with a digit");
        return false;
    }
    if (!is_identifier(cfg->table_prefix, true, false)) {
        snprintf(err, errlen,
                 "invalid value for table-prefix: use up to 40 of a-z, 0-9 and _, not starting with a digit");
        return false;
    }
    if (cfg->pool_min > cfg->pool_max) {
        snprintf(err, errlen, "invalid value for pool-min: %lld is above pool-max %lld", (long long)cfg->pool_min,
                 (long long)cfg->pool_max);
        return false;
    }
    return true;
}

enum config_result config_load(struct config *cfg, int argc, char **argv, config_getenv_fn get_env, char *err,
                               size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->command = xstrdup("serve");
    for (size_t i = 0; i < ARRAY_LEN(options); i++)
        if (!set_option(cfg, &options[i], options[i].def, "default", err, errlen))
            return CONFIG_ERROR;

    /* First pass over argv: --help, --version, --config and the command, so the
     * file can be applied before the environment and the flags override it. */
    const char *config_file = get_env("STREAMQ_CONFIG");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return CONFIG_HELP;
        if (!strcmp(a, "--version"))
            return CONFIG_VERSION;
        if (!strncmp(a, "--config=", 9))
            config_file = a + 9;
        else if (!strcmp(a, "--config")) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "option --config needs a value");
                return CONFIG_ERROR;
            }
            config_file = argv[++i];
        } else if (!strncmp(a, "--", 2)) {
            if (!strchr(a, '='))
                i++; /* skip the value; checked in the second pass */
        } else if (!strcmp(a, "serve") || !strcmp(a, "migrate")) {
            free(cfg->command);
            cfg->command = xstrdup(a);
        } else {
            snprintf(err, errlen, "unexpected argument \"%s\" (commands: serve, migrate, token)", a);
            return CONFIG_ERROR;
        }
    }
    if (config_file && *config_file) {
        cfg->config_file = xstrdup(config_file);
        if (!apply_file(cfg, config_file, err, errlen))
            return CONFIG_ERROR;
    }

    const char *url = get_env("DATABASE_URL");
    if (url && *url && !set_option(cfg, find_option("database-url", 12), url, "DATABASE_URL", err, errlen))
        return CONFIG_ERROR;
    for (size_t i = 0; i < ARRAY_LEN(options); i++) {
        char name[64];
        env_name(&options[i], name, sizeof name);
        const char *v = get_env(name);
        if (v && !set_option(cfg, &options[i], v, name, err, errlen))
            return CONFIG_ERROR;
    }

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0)
            continue;
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const char *value = eq ? eq + 1 : NULL;
        if (len == 6 && !strncmp(name, "config", 6)) {
            if (!eq)
                i++;
            continue;
        }
        const struct option_def *opt = find_option(name, len);
        if (!opt) {
            snprintf(err, errlen, "unknown option --%.*s (see --help)", (int)len, name);
            return CONFIG_ERROR;
        }
        if (!value) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "option --%s needs a value", opt->name);
                return CONFIG_ERROR;
            }
            value = argv[++i];
        }
        char source[80];
        snprintf(source, sizeof source, "--%s", opt->name);
        if (!set_option(cfg, opt, value, source, err, errlen))
            return CONFIG_ERROR;
    }
    return check_config(cfg, err, errlen) ? CONFIG_OK : CONFIG_ERROR;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < ARRAY_LEN(options); i++)
        if (options[i].type == OPT_STRING || options[i].offset == OFF(partitioning)) {
            char **field = (char **)((char *)cfg + options[i].offset);
            free(*field);
            *field = NULL;
        }
    free(cfg->config_file);
    free(cfg->command);
    cfg->config_file = cfg->command = NULL;
}

void config_print_help(FILE *out)
{
    fprintf(out, "usage: streamq [serve|migrate] [--option value]...\n"
                 "       streamq token --scope read|write|admin [--label L] [--prefix P]\n\n"
                 "  serve    run the HTTP service (default)\n"
                 "  migrate  apply pending schema migrations and exit\n"
                 "  token    print a new bearer token and its line for --tokens-file\n\n"
                 "Each option is also read from the variable shown, and from a JSON file\n"
                 "given with --config FILE (or STREAMQ_CONFIG) whose keys are the option names.\n"
                 "Precedence: flags > environment > config file > defaults.\n\n");
    for (size_t i = 0; i < ARRAY_LEN(options); i++) {
        char name[64];
        env_name(&options[i], name, sizeof name);
        fprintf(out, "  --%-24s %s\n  %-26s %s (default: \"%s\")\n", options[i].name, name, "", options[i].help,
                options[i].def);
    }
    fprintf(out, "  --%-24s %s\n  %-26s %s\n  --help, --version\n", "config", "STREAMQ_CONFIG", "", "JSON config file");
}
