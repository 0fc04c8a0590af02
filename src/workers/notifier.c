/* Notifier thread; see notifier.h. Cadence: it sleeps in poll(2) on its
 * database socket and the waiters' deadline descriptor, until the earliest
 * deadline of a parked request, or one second while it has no connection. */
#include "src/workers/notifier.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "db/listen.h"
#include "src/core/log.h"
#include "src/http/waiters.h"

#define RECONNECT_US 1000000

struct notifier {
    const struct config *cfg;
    struct waiters *waiters;
    notifier_events_fn on_events;
    void *on_events_arg;
    pthread_t thread;
    int stop_fd;
    atomic_bool stopping;
    atomic_llong connects; /* LISTEN connections opened; all but the first are reconnects */
};

/* A payload is lines of "s<stream>" or "q<queue>" (schema/002_notify.sql). */
static void on_notification(const char *payload, void *arg)
{
    struct notifier *n = arg;
    if (n->on_events && payload[0] == 's')
        n->on_events(n->on_events_arg);
    for (const char *line = payload; *line;) {
        size_t len = strcspn(line, "\n");
        if (len > 1 && (line[0] == 's' || line[0] == 'q')) {
            char key[NAME_MAX_LEN + 1];
            size_t klen = len - 1 < NAME_MAX_LEN ? len - 1 : NAME_MAX_LEN;
            memcpy(key, line + 1, klen);
            key[klen] = '\0';
            waiters_wake(n->waiters, line[0] == 's' ? WAIT_STREAM : WAIT_QUEUE, key);
        }
        line += len;
        if (*line == '\n')
            line++;
    }
}

static void *run(void *arg)
{
    struct notifier *n = arg;
    struct db_listener *link = NULL;
    int64_t next_connect = 0;
    bool warned = false;
    while (!atomic_load(&n->stopping)) {
        int64_t now = now_usec();
        if (!link && n->cfg->notify && now >= next_connect) {
            char err[300];
            link = db_listener_open(n->cfg, err, sizeof err);
            if (link) {
                atomic_fetch_add(&n->connects, 1);
                if (warned)
                    log_info("notifier: listening again; waking every waiter once");
                warned = false;
                /* Whatever committed while we were not listening went unannounced. */
                waiters_wake_all(n->waiters);
            } else {
                if (!warned)
                    log_warn("notifier: %s; retrying every second", err);
                warned = true;
                next_connect = now + RECONNECT_US;
            }
        }
        int64_t deadline = waiters_expire(n->waiters, now);
        if (!link && n->cfg->notify && next_connect < deadline)
            deadline = next_connect;
        int timeout_ms = -1;
        if (deadline != INT64_MAX) {
            int64_t ms = (deadline - now + 999) / 1000;
            timeout_ms = ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
        }
        struct pollfd fds[3] = {
            {n->stop_fd, POLLIN, 0},
            {waiters_fd(n->waiters), POLLIN, 0},
            {link ? db_listener_fd(link) : -1, POLLIN, 0},
        };
        if (poll(fds, 3, timeout_ms) < 0)
            continue;
        if (fds[1].revents & POLLIN)
            waiters_ack(n->waiters);
        if (link && (fds[2].revents & (POLLIN | POLLERR | POLLHUP)) && !db_listener_drain(link, on_notification, n)) {
            log_warn("notifier: lost its database connection; reconnecting");
            warned = true;
            db_listener_close(link);
            link = NULL;
            next_connect = 0;
        }
    }
    db_listener_close(link);
    return NULL;
}

struct notifier *notifier_start(const struct config *cfg, struct waiters *waiters, notifier_events_fn on_events,
                                void *arg)
{
    struct notifier *n = xcalloc(1, sizeof *n);
    n->cfg = cfg;
    n->waiters = waiters;
    n->on_events = on_events;
    n->on_events_arg = arg;
    atomic_init(&n->stopping, false);
    n->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (n->stop_fd < 0 || pthread_create(&n->thread, NULL, run, n) != 0) {
        if (n->stop_fd >= 0)
            close(n->stop_fd);
        free(n);
        return NULL;
    }
    return n;
}

void notifier_stop(struct notifier *n)
{
    if (!n)
        return;
    atomic_store(&n->stopping, true);
    uint64_t one = 1;
    ssize_t rc = write(n->stop_fd, &one, sizeof one);
    (void)rc;
    pthread_join(n->thread, NULL);
    close(n->stop_fd);
    free(n);
}

long long notifier_reconnects(struct notifier *n)
{
    long long connects = atomic_load(&n->connects);
    return connects > 1 ? connects - 1 : 0;
}
