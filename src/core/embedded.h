/* Files compiled into the binary by tools/embed.c. */
#ifndef STREAMQ_EMBEDDED_H
#define STREAMQ_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *name; /* base name, e.g. "001_initial.sql" */
    const char *text; /* NUL-terminated */
    size_t len;
};

/* Every array ends with an entry whose name is NULL; migrations are in file order. */
extern const struct embedded_file embedded_migrations[];
extern const struct embedded_file embedded_openapi[];
/* web/: the browser console's page, scripts, styles and icon (routes/console.c). */
extern const struct embedded_file embedded_console[];

#endif
