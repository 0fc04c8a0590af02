/* The waiters registry; see waiters.h. One mutex guards everything: watches
 * are short-lived and every operation is a few pointer moves, so a finer scheme
 * would buy nothing measurable for thousands of waiters. */
#include "src/http/waiters.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "src/http/server.h"

#define BUCKETS 1024

struct watch {
    struct request *req;
    enum wait_kind kind;
    char *key;
    bool parked, fired;
    int64_t deadline_us;
    struct watch **head; /* the list it is on: a bucket or the prefix list */
    struct watch *prev, *next;
};

struct waiters {
    pthread_mutex_t lock;
    struct watch *buckets[BUCKETS];
    struct watch *prefixes;
    struct watch *timers; /* parked without a watch: only the deadline wakes them */
    int parked;
    bool closing;
    int64_t earliest_signalled; /* the notifier already knows of deadlines from here on */
    int event_fd;
};

struct waiters *waiters_new(void)
{
    struct waiters *w = xcalloc(1, sizeof *w);
    pthread_mutex_init(&w->lock, NULL);
    w->earliest_signalled = INT64_MAX;
    w->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->event_fd < 0) {
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void waiters_free(struct waiters *w)
{
    if (!w)
        return;
    close(w->event_fd);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

static unsigned hash_key(enum wait_kind kind, const char *key)
{
    unsigned h = 2166136261u ^ (unsigned)kind;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % BUCKETS;
}

static struct watch **list_for(struct waiters *w, enum wait_kind kind, const char *key)
{
    return kind == WAIT_STREAM_PREFIX ? &w->prefixes : &w->buckets[hash_key(kind, key)];
}

static void unlink_watch(struct watch *x)
{
    if (!x->head)
        return;
    if (x->prev)
        x->prev->next = x->next;
    else
        *x->head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->head = NULL;
    x->prev = x->next = NULL;
}

static void free_watch(struct watch *x)
{
    free(x->key);
    free(x);
}

/* Called with the lock held. A parked request is resumed and its watch freed; a
 * watch not yet parked is only marked, and its park will resume at once. */
static void fire(struct waiters *w, struct watch *x)
{
    unlink_watch(x);
    if (!x->parked) {
        x->fired = true;
        return;
    }
    w->parked--;
    x->req->watch = NULL;
    http_request_resume(x->req);
    free_watch(x);
}

void http_wait_watch(struct request *req, enum wait_kind kind, const char *key)
{
    struct waiters *w = req->server_waiters;
    struct watch *x = xcalloc(1, sizeof *x);
    x->req = req;
    x->kind = kind;
    x->key = xstrdup(key);
    pthread_mutex_lock(&w->lock);
    if (req->watch) {
        unlink_watch(req->watch);
        free_watch(req->watch);
    }
    req->watch = x;
    if (w->closing) {
        x->fired = true;
    } else {
        x->head = list_for(w, kind, key);
        x->next = *x->head;
        if (x->next)
            x->next->prev = x;
        *x->head = x;
    }
    pthread_mutex_unlock(&w->lock);
}

void http_wait_park(struct request *req, int64_t deadline_us)
{
    struct waiters *w = req->server_waiters;
    bool signal = false;
    http_request_suspend(req);
    pthread_mutex_lock(&w->lock);
    struct watch *x = req->watch;
    if (!x) { /* parking without a watch waits for the deadline alone */
        x = req->watch = xcalloc(1, sizeof *x);
        x->req = req;
        x->key = xstrdup("");
        x->head = &w->timers;
        x->next = w->timers;
        if (x->next)
            x->next->prev = x;
        w->timers = x;
    }
    x->parked = true;
    x->deadline_us = deadline_us;
    w->parked++;
    if (x->fired || w->closing) {
        fire(w, x);
    } else if (deadline_us < w->earliest_signalled) {
        w->earliest_signalled = deadline_us;
        signal = true;
    }
    pthread_mutex_unlock(&w->lock);
    if (signal) {
        uint64_t one = 1;
        ssize_t rc = write(w->event_fd, &one, sizeof one);
        (void)rc; /* a full counter already wakes the notifier */
    }
}

void http_wait_cancel(struct request *req)
{
    struct waiters *w = req->server_waiters;
    if (!w || !req->watch)
        return;
    pthread_mutex_lock(&w->lock);
    struct watch *x = req->watch;
    if (x) {
        unlink_watch(x);
        if (x->parked)
            w->parked--;
        req->watch = NULL;
        free_watch(x);
    }
    pthread_mutex_unlock(&w->lock);
}

bool http_wait_closing(struct request *req)
{
    struct waiters *w = req->server_waiters;
    pthread_mutex_lock(&w->lock);
    bool closing = w->closing;
    pthread_mutex_unlock(&w->lock);
    return closing;
}

static void fire_list(struct waiters *w, struct watch **head, enum wait_kind kind, const char *key, bool all)
{
    for (struct watch *x = *head, *next; x; x = next) {
        next = x->next;
        if (x->kind != kind)
            continue;
        bool match = all || (kind == WAIT_STREAM_PREFIX ? !strncmp(key, x->key, strlen(x->key)) : !strcmp(key, x->key));
        if (match)
            fire(w, x);
    }
}

void waiters_wake(struct waiters *w, enum wait_kind kind, const char *key)
{
    bool all = !strcmp(key, "*");
    pthread_mutex_lock(&w->lock);
    if (all) {
        for (int i = 0; i < BUCKETS; i++)
            fire_list(w, &w->buckets[i], kind, key, true);
    } else {
        fire_list(w, list_for(w, kind, key), kind, key, false);
    }
    if (kind == WAIT_STREAM)
        fire_list(w, &w->prefixes, WAIT_STREAM_PREFIX, key, all);
    pthread_mutex_unlock(&w->lock);
}

static void fire_everything(struct waiters *w)
{
    for (int i = 0; i < BUCKETS; i++)
        while (w->buckets[i])
            fire(w, w->buckets[i]);
    while (w->prefixes)
        fire(w, w->prefixes);
    while (w->timers)
        fire(w, w->timers);
}

void waiters_wake_all(struct waiters *w)
{
    pthread_mutex_lock(&w->lock);
    fire_everything(w);
    pthread_mutex_unlock(&w->lock);
}

void waiters_close(struct waiters *w)
{
    pthread_mutex_lock(&w->lock);
    w->closing = true;
    fire_everything(w);
    pthread_mutex_unlock(&w->lock);
}

static int64_t expire_list(struct waiters *w, struct watch **head, int64_t now_us)
{
    int64_t earliest = INT64_MAX;
    for (struct watch *x = *head, *next; x; x = next) {
        next = x->next;
        if (!x->parked)
            continue;
        if (x->deadline_us <= now_us)
            fire(w, x);
        else if (x->deadline_us < earliest)
            earliest = x->deadline_us;
    }
    return earliest;
}

int64_t waiters_expire(struct waiters *w, int64_t now_us)
{
    int64_t earliest = INT64_MAX;
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < BUCKETS; i++) {
        int64_t e = expire_list(w, &w->buckets[i], now_us);
        earliest = e < earliest ? e : earliest;
    }
    int64_t e = expire_list(w, &w->prefixes, now_us);
    earliest = e < earliest ? e : earliest;
    e = expire_list(w, &w->timers, now_us);
    earliest = e < earliest ? e : earliest;
    w->earliest_signalled = earliest;
    pthread_mutex_unlock(&w->lock);
    return earliest;
}

int waiters_parked(struct waiters *w)
{
    pthread_mutex_lock(&w->lock);
    int n = w->parked;
    pthread_mutex_unlock(&w->lock);
    return n;
}

int waiters_fd(struct waiters *w)
{
    return w->event_fd;
}

void waiters_ack(struct waiters *w)
{
    uint64_t n;
    ssize_t rc = read(w->event_fd, &n, sizeof n);
    (void)rc;
}
