/* Group commit for appends: an append is handed to a small set of writer
 * threads and its caller is told when it has been written. A writer takes
 * every append queued at that moment (up to the limits in append_group.c) and
 * writes them with one call of append_batch() in one transaction and one
 * commit, each with its own outcome. One transaction costs PostgreSQL far more
 * than one more event in it, and the caller holds no thread while it waits
 * (the HTTP request is suspended), so the more clients append at once, the
 * larger the groups; alone, an append is written at once. */
#ifndef STREAMQ_DB_APPEND_GROUP_H
#define STREAMQ_DB_APPEND_GROUP_H

#include <stddef.h>

#include "db/events.h"

struct db_pool;
struct append_group;

/* One append handed to the writers; the caller owns the memory and fills the
 * first three fields. */
struct append_job {
    const struct append_input *in; /* borrowed until done() */
    void (*done)(struct append_job *job);
    void *arg;
    /* Set before done() is called: the outcome as db/events.h describes it, and
     * the result (free with db_events_append_result_free). */
    enum store_outcome outcome;
    struct append_result out;
    /* Private to append_group.c. */
    size_t body_len;
    struct append_job *next;
};

/* Starts `writers` writer threads on `pool`; NULL (logged) when a thread cannot start. */
struct append_group *append_group_start(struct db_pool *pool, int writers) MUST_CHECK;
/* Writes every append still queued, then stops the writers and frees the group.
 * No append may be submitted once this has begun. Accepts NULL. */
void append_group_stop(struct append_group *g);

/* Queues `job`; job->done(job) is called once, on a writer thread (or on this
 * one, when the group is stopping: outcome STORE_UNAVAILABLE), after which
 * append_group.c no longer touches the job. Any thread. */
void db_append_submit(struct append_group *g, struct append_job *job);

/* Group sizes since start, for /metrics: groups written, appends in them, and
 * groups by size: by_size[b] counts those of more than 2^(b-1) and at most 2^b
 * appends (by_size[0]: one append); the last counts every larger group. */
#define APPEND_GROUP_BUCKETS 8 /* up to 256 appends, GROUP_MAX_APPENDS */
struct append_group_stats {
    long long groups, appends;
    long long by_size[APPEND_GROUP_BUCKETS + 1];
};
/* Any thread. */
void append_group_stats(struct append_group *g, struct append_group_stats *out);

#endif
