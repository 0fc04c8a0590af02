/* Files compiled into the binary by tools/embed.c. */
#ifndef STREAMQ_EMBEDDED_H
#define STREAMQ_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *name; /* base name, e.g. "001_initial.sql" */
    const char *text; /* NUL-terminated */
    size_t len;
};

/* Both arrays end with an entry whose name is NULL; migrations are in file order. */
extern const struct embedded_file embedded_migrations[];
extern const struct embedded_file embedded_openapi[];

#endif
