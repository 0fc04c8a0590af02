/* Prometheus text format writer; see prom.h. */
#include "src/core/prom.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

void prom_family(struct text *t, const char *name, const char *type, const char *help)
{
    text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values escape '\', '"' and newlines; nothing else (format 0.0.4). */
static void label_value(struct text *t, const char *v)
{
    for (const char *run = v;; v++) {
        if (*v && *v != '\\' && *v != '"' && *v != '\n')
            continue;
        text_put(t, run, (size_t)(v - run));
        if (!*v)
            return;
        text_cstr(t, *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : "\\n");
        run = v + 1;
    }
}

static void sample_start(struct text *t, const char *name, const char *suffix, const struct prom_label *labels,
                         size_t n)
{
    text_cstr(t, name);
    if (suffix)
        text_cstr(t, suffix);
    for (size_t i = 0; i < n; i++) {
        text_cstr(t, i ? "," : "{");
        text_cstr(t, labels[i].name);
        text_cstr(t, "=\"");
        label_value(t, labels[i].value);
        text_cstr(t, "\"");
    }
    text_cstr(t, n ? "} " : " ");
}

void prom_sample_int(struct text *t, const char *name, const char *suffix, const struct prom_label *labels, size_t n,
                     uint64_t value)
{
    sample_start(t, name, suffix, labels, n);
    text_printf(t, "%llu\n", (unsigned long long)value);
}

void prom_sample_double(struct text *t, const char *name, const char *suffix, const struct prom_label *labels, size_t n,
                        double value)
{
    sample_start(t, name, suffix, labels, n);
    text_printf(t, "%.6f\n", value);
}

void prom_single_int(struct text *t, const char *name, const char *type, const char *help, uint64_t value)
{
    prom_family(t, name, type, help);
    prom_sample_int(t, name, NULL, NULL, 0, value);
}

void prom_process(struct text *t)
{
    /* statm's second field is resident pages. */
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size, resident;
    if (f && fscanf(f, "%llu %llu", &size, &resident) == 2)
        prom_single_int(t, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                        resident * (unsigned long long)sysconf(_SC_PAGESIZE));
    if (f)
        fclose(f);

    DIR *d = opendir("/proc/self/fd");
    if (d) {
        uint64_t n = 0;
        for (struct dirent *e; (e = readdir(d));)
            n += e->d_name[0] != '.';
        closedir(d);
        /* Less the descriptor of the listing itself. */
        prom_single_int(t, "process_open_fds", "gauge", "Number of open file descriptors.", n > 0 ? n - 1 : 0);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        prom_single_int(t, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
                        (uint64_t)rl.rlim_cur);
}
