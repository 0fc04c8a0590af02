/* Group commit, the machinery: jobs handed to a small set of writer threads,
 * each of which takes every job queued at that moment (while they fit one
 * group) and writes them together, in one transaction, with as few statements
 * as the kind of job allows; each job still gets its own outcome. One
 * transaction costs PostgreSQL far more than one more row in it, and the
 * submitter holds no thread while it waits (an HTTP request is suspended), so
 * the more clients write at once, the larger the groups; alone, a job is
 * written at once. What a job is and how a group is written belong to the
 * instance (db/append_group.c, db/queue_group.c). */
#ifndef STREAMQ_DB_BATCHER_H
#define STREAMQ_DB_BATCHER_H

#include <stdbool.h>
#include <stddef.h>

#include "db/store.h"
#include "src/core/util.h"

struct db_pool;
struct batcher;

/* The part of a job the batcher sees; embedded in the instance's job. The
 * submitter fills done, arg, items and bytes. */
struct batch_job {
    void (*done)(struct batch_job *job);
    void *arg;
    int items;    /* rows it writes, for the group's limit */
    size_t bytes; /* parameter bytes it adds, for the group's limit */
    /* Set before done() is called; STORE_UNAVAILABLE when the batcher was
     * stopping. The instance's write() sets it for every job it writes. */
    enum store_outcome outcome;
    bool finished;          /* true from just before done() */
    struct batch_job *next; /* the group's list: private to the batcher and write() */
};

struct batcher_kind {
    const char *name; /* for logs: "append", "ack", ... */
    /* What one group may hold; a job bigger than that still goes alone. */
    int max_jobs, max_items;
    size_t max_bytes;
    /* Writes the `count` jobs listed from `group` (by ->next) in one
     * transaction, setting each job's outcome and results. False when the
     * group failed as a whole, with nothing written and no job's results left
     * filled: `*failure` says how. The batcher then writes each job alone, so
     * that one job PostgreSQL refuses fails alone. */
    bool (*write)(struct db_pool *pool, struct batch_job *group, int count, enum store_outcome *failure);
};

/* Starts `writers` writer threads on `pool`; NULL (logged) when a thread cannot
 * start. `kind` is borrowed (static). */
struct batcher *batcher_start(const struct batcher_kind *kind, struct db_pool *pool, int writers) MUST_CHECK;
/* Writes every job still queued, then stops the writers and frees the
 * batcher. No job may be submitted once this has begun. Accepts NULL. */
void batcher_stop(struct batcher *b);

/* Queues `job`; job->done(job) is called once, on a writer thread (or on this
 * one, when the batcher is stopping: outcome STORE_UNAVAILABLE), after which
 * the batcher no longer touches the job. Any thread. */
void batcher_submit(struct batcher *b, struct batch_job *job);

/* Group sizes since start, for /metrics: groups written, jobs in them, and
 * groups by size: by_size[i] counts those of more than 2^(i-1) and at most 2^i
 * jobs (by_size[0]: one job); the last counts every larger group. */
#define BATCHER_SIZE_BUCKETS 8 /* up to 256 jobs */
struct batcher_stats {
    long long groups, jobs;
    long long by_size[BATCHER_SIZE_BUCKETS + 1];
};
/* The kind's name ("append", "ack", ...) and its figures. Any thread. */
const char *batcher_stats(struct batcher *b, struct batcher_stats *out);

#endif
