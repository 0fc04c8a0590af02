/* Requests sent at once from threads of their own, for the group commit suites
 * (test_append_group.c, test_queue_group.c): each call is sent by its thread
 * and its response kept; plus a direct PostgreSQL session, with which a suite
 * holds a lock that makes the calls queue for their group. */
#ifndef STREAMQ_TEST_GROUP_CALLS_H
#define STREAMQ_TEST_GROUP_CALLS_H

#include <libpq-fe.h>
#include <pthread.h>

#include "harness.h"

#define GROUP_MAX_CALLS 24

struct call {
    const struct service_proc *sp; /* NULL: the suite's service */
    char path[320];
    char body[1024];
    struct response *r;
    pthread_t thread;
};

/* Adds a POST of `body` to `path` to `calls` (room for GROUP_MAX_CALLS). */
struct call *group_add_call(struct call *calls, int *n, const char *path, const char *body);
/* Starts the call's thread. */
void group_send(struct call *c);
/* Waits for the threads of the calls from `first` on. */
void group_join(struct call *calls, int first, int n);
void group_free(struct call *calls, int n);
/* Sends calls[0], waits until `waiting_sql` (a count of the sessions waiting
 * on the suite's lock) counts one, then sends the rest and gives them a second
 * to queue behind it (time to queue, not a timing assertion). Returns the
 * count it saw (asserted >= 1). */
long long group_send_behind(const char *waiting_sql, struct call *calls, int n);

/* A session on the test database (asserted). */
PGconn *group_session(void);
/* Runs `sql` on `pg`, asserting it succeeds. */
void group_exec_ok(PGconn *pg, const char *sql);

#endif
