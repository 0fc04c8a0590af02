/* Shared by the two config unit suites (test_config.c, test_config_values.c): a fake
 * environment passed through config_load's getenv hook, temporary config files in /tmp,
 * and load(), which runs config_load over one test's sources. */
#ifndef STREAMQ_TEST_CONFIG_HELPERS_H
#define STREAMQ_TEST_CONFIG_HELPERS_H

#include <stddef.h>

#include "src/config.h"

#define MAX_ARGS 8
#define MAX_ENV 6

/* "NAME=value" strings, NULL-terminated; read by fake_getenv. */
extern const char *const *fake_env;

/* The getenv hook for config_load: looks `name` up in fake_env. */
const char *fake_getenv(const char *name);

/* Writes `text` to a new file under /tmp; its path goes to `path`. */
void write_temp_file(const char *text, char path[64]);

struct sources {
    const char *file;           /* config file text, or NULL for no file */
    const char *env[MAX_ENV];   /* "NAME=value", NULL-terminated */
    const char *args[MAX_ARGS]; /* after argv[0], NULL-terminated */
};

/* Runs config_load over `src`; when there is a file it is passed as --config=PATH
 * first, and removed again before returning. The caller frees `cfg`. */
enum config_result load(const struct sources *src, struct config *cfg, char *err, size_t errlen);

#endif
