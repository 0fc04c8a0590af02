/* What the hostile test found (see hostile.h): the failures, the tallies by
 * status and by category, and the summary printed at the end, worst failures
 * first. Workers report from their threads, under `lock`; the summary comes
 * after them. */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostile.h"

#define FAILURES_KEPT 4000
#define FAILURES_SHOWN_PER_CATEGORY 6
#define FAILURES_SHOWN 90

/* Tallies, under `lock`. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long by_status[600];
static long closed_silently, silent_timeouts, answers_total;

struct category_tally {
    const char *name;
    long requests, failures, silent;
    double seconds; /* spent by the workers on this category's requests */
};
static struct category_tally tallies[32];

struct failure {
    uint64_t index; /* REPORT_NO_INDEX: not one request's (fixtures, health, memory) */
    const char *category;
    char what[200];
    char why[240];
    int severity; /* 3: a write to a fixture succeeded; 2: another success where a refusal
                     was due, or a hidden request ran; 1: a 5xx */
};
static struct failure failures[FAILURES_KEPT];
static size_t failures_kept, failures_total;

/* Under `lock`. */
static struct category_tally *tally_of(const char *name)
{
    for (size_t i = 0; i < sizeof tallies / sizeof tallies[0]; i++) {
        if (!tallies[i].name)
            tallies[i].name = name;
        if (tallies[i].name == name || !strcmp(tallies[i].name, name))
            return &tallies[i];
    }
    return &tallies[0];
}

void report_fail(uint64_t index, const char *category, const char *what, const char *fmt, ...)
{
    pthread_mutex_lock(&lock);
    failures_total++;
    if (category)
        tally_of(category)->failures++;
    if (failures_kept < FAILURES_KEPT) {
        struct failure *f = &failures[failures_kept++];
        f->index = index;
        f->category = category ? category : "run";
        snprintf(f->what, sizeof f->what, "%s", what ? what : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->why, sizeof f->why, fmt, ap);
        va_end(ap);
        /* For the summary's order: writes that succeeded on a fixture first. */
        bool success = !strncmp(f->why, "status 2", 8) || !strncmp(f->why, "answered the request hidden", 27);
        bool fixture_write = strstr(f->what, "[fixture]") && strncmp(f->what, "GET ", 4) &&
                             strncmp(f->what, "HEAD ", 5) && !strstr(f->what, " GET ");
        f->severity = success ? 2 + fixture_write : !strncmp(f->why, "status 5", 8);
    }
    pthread_mutex_unlock(&lock);
}

void report_answer(int status)
{
    pthread_mutex_lock(&lock);
    by_status[status < 600 ? status : 599]++;
    answers_total++;
    pthread_mutex_unlock(&lock);
}

void report_silent(const char *category, bool eof)
{
    pthread_mutex_lock(&lock);
    if (eof)
        closed_silently++;
    else
        silent_timeouts++;
    tally_of(category)->silent++;
    pthread_mutex_unlock(&lock);
}

void report_request(const char *category, double seconds)
{
    pthread_mutex_lock(&lock);
    struct category_tally *t = tally_of(category);
    t->requests++;
    t->seconds += seconds;
    pthread_mutex_unlock(&lock);
}

size_t report_failures(void)
{
    pthread_mutex_lock(&lock);
    size_t n = failures_total;
    pthread_mutex_unlock(&lock);
    return n;
}

void report_escaped(FILE *f, const char *p, size_t n)
{
    const size_t head = 3000, tail = 300;
    for (size_t i = 0; i < n; i++) {
        if (n > head + tail && i == head) {
            fprintf(f, "\n... (%zu bytes not shown) ...\n", n - head - tail);
            i = n - tail;
        }
        unsigned char c = (unsigned char)p[i];
        if (c == '\n')
            fputs("\\n\n", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c == '\\')
            fputs("\\\\", f);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc('\n', f);
}

/* ---- the summary ---- */

/* STREAMQ_HOSTILE_SHOW=N lifts the limits to N per category and in all. */
static uint64_t show_limit(uint64_t fallback)
{
    const char *v = getenv("STREAMQ_HOSTILE_SHOW");
    return v && *v ? strtoull(v, NULL, 0) : fallback;
}

static int by_name(const void *a, const void *b)
{
    const struct category_tally *x = a, *y = b;
    if (!x->name || !y->name)
        return !x->name - !y->name;
    return strcmp(x->name, y->name);
}

static int by_category_severity_index(const void *a, const void *b)
{
    const struct failure *x = a, *y = b;
    bool xr = x->index == REPORT_NO_INDEX, yr = y->index == REPORT_NO_INDEX;
    if (xr != yr)
        return xr ? -1 : 1;
    int c = strcmp(x->category, y->category);
    if (c)
        return c;
    if (x->severity != y->severity)
        return y->severity - x->severity;
    return x->index < y->index ? -1 : x->index > y->index;
}

void report_summary(const struct report_run *run)
{
    if (run->replay)
        printf("\nhostile: seed 0x%016" PRIx64 ", request %" PRIu64 " replayed\n", run->seed, run->count - 1);
    else
        printf("\nhostile: seed 0x%016" PRIx64 ", %" PRIu64 " of %" PRIu64 " requests sent in %.1f s (%d workers)\n",
               run->seed, run->sent, run->count, run->seconds, run->workers);
    printf("answers by status (%ld answers):", answers_total);
    for (int s = 0; s < 600; s++)
        if (by_status[s])
            printf(" %d:%ld", s, by_status[s]);
    printf("\nno answer: %ld closed without one, %ld still silent at the deadline (garbage and unfinished requests)\n",
           closed_silently, silent_timeouts);
    qsort(tallies, sizeof tallies / sizeof tallies[0], sizeof tallies[0], by_name);
    printf("by category: requests, unanswered, failures, worker-seconds\n");
    for (size_t i = 0; i < sizeof tallies / sizeof tallies[0] && tallies[i].name; i++)
        printf("  %-14s %5ld %5ld %5ld %7.1f\n", tallies[i].name, tallies[i].requests, tallies[i].silent,
               tallies[i].failures, tallies[i].seconds);
    printf("resident memory: %ld MiB after the warm-up, %ld MiB at the end (limit: +%ld MiB)\n",
           run->rss_start_kib / 1024, run->rss_end_kib / 1024, run->rss_limit_kib / 1024);
    if (run->fixture_differences == 0)
        printf("fixtures: unchanged\n");
    else
        printf("fixtures: %d of %d groups CHANGED (see below)\n", run->fixture_differences, FX_GROUPS);
    if (failures_total == 0) {
        printf("no failures\n");
        return;
    }
    uint64_t per_category = show_limit(FAILURES_SHOWN_PER_CATEGORY);
    uint64_t in_all = show_limit(FAILURES_SHOWN);
    printf("\n%zu FAILURES (the worst %" PRIu64 " per category, %" PRIu64 " in all):\n", failures_total, per_category,
           in_all);
    qsort(failures, failures_kept, sizeof *failures, by_category_severity_index);
    uint64_t shown = 0, same = 0;
    for (size_t i = 0; i < failures_kept && shown < in_all; i++) {
        const struct failure *f = &failures[i];
        same = i > 0 && !strcmp(failures[i - 1].category, f->category) ? same + 1 : 0;
        if (same >= per_category && f->index != REPORT_NO_INDEX)
            continue;
        if (f->index == REPORT_NO_INDEX)
            printf("  [%s] %s: %s\n", f->category, f->what, f->why);
        else
            printf("  #%" PRIu64 " [%s] %s -> %s\n", f->index, f->category, f->what, f->why);
        shown++;
    }
    printf("\nreplay one: STREAMQ_HOSTILE_SEED=0x%016" PRIx64 " STREAMQ_HOSTILE_INDEX=<#> bash scripts/test hostile\n",
           run->seed);
}
