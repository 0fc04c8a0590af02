/* Entry point of `streamq serve` and `streamq migrate`. */
#ifndef STREAMQ_SERVICE_RUN_H
#define STREAMQ_SERVICE_RUN_H

#include "src/config.h"

/* Runs until SIGTERM/SIGINT (serve) or until migrations are applied (migrate).
 * Returns the process exit status. */
int service_run(const struct config *cfg);

#endif
