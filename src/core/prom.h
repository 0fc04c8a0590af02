/* Writing the Prometheus text exposition format, version 0.0.4: family
 * headers, samples with escaped label values, and the process figures every
 * exporter gives (resident memory, open file descriptors). */
#ifndef STREAMQ_CORE_PROM_H
#define STREAMQ_CORE_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "src/core/text.h"

/* The Content-Type of a scrape's answer. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct prom_label {
    const char *name;  /* a static, valid label name */
    const char *value; /* any UTF-8; escaped when written */
};

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram, summary). */
void prom_family(struct text *t, const char *name, const char *type, const char *help);
/* One sample line: `name` then `suffix` (may be NULL, e.g. "_bucket"), the
 * `n` labels (may be 0), and the value. */
void prom_sample_int(struct text *t, const char *name, const char *suffix, const struct prom_label *labels, size_t n,
                     uint64_t value);
void prom_sample_double(struct text *t, const char *name, const char *suffix, const struct prom_label *labels, size_t n,
                        double value);
/* A family of one unlabelled sample. */
void prom_single_int(struct text *t, const char *name, const char *type, const char *help, uint64_t value);

/* process_resident_memory_bytes, process_open_fds and process_max_fds of this
 * process, read from /proc; a figure that cannot be read is left out. */
void prom_process(struct text *t);

#endif
