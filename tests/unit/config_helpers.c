/* The helpers of the config unit suites; see config_helpers.h. */
#include "config_helpers.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- fake environment ---- */

const char *const *fake_env;

const char *fake_getenv(const char *name)
{
    size_t len = strlen(name);
    for (const char *const *e = fake_env; e && *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

/* ---- temporary config files ---- */

void write_temp_file(const char *text, char path[64])
{
    strcpy(path, "/tmp/streamq-test-config-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_msg(fd >= 0, "mkstemp failed");
    size_t len = strlen(text);
    ck_assert_msg(write(fd, text, len) == (ssize_t)len, "short write to %s", path);
    close(fd);
}

/* ---- one load from a row's sources ---- */

enum config_result load(const struct sources *src, struct config *cfg, char *err, size_t errlen)
{
    char path[64] = "";
    char config_arg[80];
    char *argv[MAX_ARGS + 3];
    int argc = 0;

    argv[argc++] = "streamq";
    if (src->file) {
        write_temp_file(src->file, path);
        snprintf(config_arg, sizeof config_arg, "--config=%s", path);
        argv[argc++] = config_arg;
    }
    for (int i = 0; i < MAX_ARGS && src->args[i]; i++)
        argv[argc++] = (char *)src->args[i];
    argv[argc] = NULL;

    fake_env = src->env;
    err[0] = '\0';
    enum config_result r = config_load(cfg, argc, argv, fake_getenv, err, errlen);
    fake_env = NULL;
    if (path[0])
        unlink(path);
    return r;
}
