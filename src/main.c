/* streamq: durable event streams and work queues over HTTP, stored in PostgreSQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/config.h"
#include "src/core/json.h"
#include "src/core/log.h"
#include "src/service_run.h"
#include "src/token_command.h"

static const char *env_lookup(const char *name)
{
    return getenv(name);
}

int main(int argc, char **argv)
{
    struct config cfg;
    char err[512] = "";
    int status;

    json_init();
    if (argc > 1 && !strcmp(argv[1], "token"))
        return token_command(argc - 1, argv + 1, stdout, stderr);

    switch (config_load(&cfg, argc, argv, env_lookup, err, sizeof err)) {
    case CONFIG_HELP:
        config_print_help(stdout);
        status = 0;
        break;
    case CONFIG_VERSION:
        printf("streamq %s\n", STREAMQ_VERSION);
        status = 0;
        break;
    case CONFIG_ERROR:
        fprintf(stderr, "streamq: %s\n", err);
        status = 2;
        break;
    case CONFIG_OK:
    default:
        log_init(cfg.log_format, cfg.log_level);
        status = service_run(&cfg);
        break;
    }
    config_free(&cfg);
    return status;
}
