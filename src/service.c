/* Service lifecycle: schema, pool, HTTP daemon and background threads up in
 * order, and down in reverse when a stop signal arrives. */
#include "src/service.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "db/append_group.h"
#include "db/batcher.h"
#include "db/migrate.h"
#include "db/pool.h"
#include "db/queue_group.h"
#include "db/queues.h"
#include "db/standby.h"
#include "db/transactions.h"
#include "routes/routes.h"
#include "src/core/log.h"
#include "src/core/prom.h"
#include "src/http/auth.h"
#include "src/http/server.h"
#include "src/http/waiters.h"
#include "src/service_run.h"
#include "src/workers/notifier.h"
#include "src/workers/periodic.h"
#include "src/workers/retention.h"
#include "src/workers/sweeper.h"
#include "src/workers/webhooks.h"

/* Written whole under a temporary name and renamed, so a reader never sees half of it. */
static bool write_port_file(const char *path, unsigned short port)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return false;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return false;
    bool ok = fprintf(f, "%u\n", port) > 0;
    ok = (fclose(f) == 0) && ok;
    return ok && rename(tmp, path) == 0;
}

/* Parked long polls and SSE streams cost a descriptor each: take every descriptor
 * the hard limit allows, and let the server accept nearly that many connections
 * (the rest is kept for the pool, the log and the notifier). */
static unsigned raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1000;
    rlim_t before = rl.rlim_cur;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = before;
    }
    rlim_t limit = rl.rlim_cur > 1000000 ? 1000000 : rl.rlim_cur;
    unsigned connections = limit > 1024 ? (unsigned)(limit - 256) : (unsigned)(limit * 3 / 4);
    log_info("open files: soft limit %llu (was %llu), hard %llu; accepting up to %u connections",
             (unsigned long long)rl.rlim_cur, (unsigned long long)before, (unsigned long long)rl.rlim_max, connections);
    return connections;
}

/* The group commit's writers: appends, then each queue operation. False
 * (logged) when one cannot start; stop_batchers undoes what started. */
static bool start_batchers(struct service *svc, const struct config *cfg)
{
    int q = (int)cfg->queue_writers;
    svc->appends = batcher_start(&db_append_kind, svc->pool, (int)cfg->append_writers);
    svc->enqueues = svc->appends ? batcher_start(&db_enqueue_kind, svc->pool, q) : NULL;
    svc->dequeues = svc->enqueues ? batcher_start(&db_dequeue_kind, svc->pool, q) : NULL;
    svc->acks = svc->dequeues ? batcher_start(&db_ack_kind, svc->pool, q) : NULL;
    svc->transactions =
        svc->acks ? batcher_start(&db_transaction_kind, svc->pool, (int)cfg->transaction_writers) : NULL;
    return svc->transactions != NULL;
}

/* Writes every job still queued, then stops the writers. */
static void stop_batchers(struct service *svc)
{
    batcher_stop(svc->transactions);
    batcher_stop(svc->acks);
    batcher_stop(svc->dequeues);
    batcher_stop(svc->enqueues);
    batcher_stop(svc->appends);
}

static void poke_dispatcher(void *dispatcher)
{
    webhooks_poke(dispatcher);
}

static void check_standby(void *pool)
{
    db_standby_check(pool);
}

/* The standby's check, when reads may go to one; true when it started or none is needed. */
static bool start_standby_check(const struct config *cfg, struct db_pool *pool, struct periodic **check)
{
    *check = NULL;
    if (!*cfg->read_database_url)
        return true;
    *check = periodic_start(db_standby_check_interval_ms(cfg), check_standby, pool);
    if (*check)
        log_info("reads go to the standby while it is at most %lld ms behind (checked every %lld ms)",
                 (long long)cfg->max_replica_lag_ms, (long long)db_standby_check_interval_ms(cfg));
    return *check != NULL;
}

struct service_workers {
    struct sweeper *sweeper;
    struct dispatcher *dispatcher;
    struct notifier *notifier;
};

void service_render_worker_metrics(const struct service *svc, struct text *out)
{
    const struct service_workers *w = svc->workers;
    struct sweeper_stats sweeps;
    sweeper_stats(w->sweeper, &sweeps);
    prom_single_int(out, "streamq_sweeper_runs_total", "counter", "Sweeps of expired leases and retention.",
                    (uint64_t)sweeps.runs);
    prom_single_int(out, "streamq_sweeper_requeued_total", "counter",
                    "Messages whose lease expired, returned to their queue by the sweeper.", (uint64_t)sweeps.requeued);
    prom_single_int(out, "streamq_sweeper_dead_lettered_total", "counter",
                    "Messages whose lease expired on their last delivery, dead-lettered by the sweeper.",
                    (uint64_t)sweeps.dead_lettered);
    prom_single_int(out, "streamq_sweeper_expired_total", "counter",
                    "Messages deleted by the sweeper past their queue's retention.", (uint64_t)sweeps.expired);

    struct webhook_counts *hooks = NULL;
    int n = webhooks_counts(w->dispatcher, &hooks);
    prom_family(out, "streamq_webhook_deliveries_total", "counter",
                "Webhook delivery attempts that finished (success or failure), by webhook.");
    for (int i = 0; i < n; i++) {
        struct prom_label label = {"webhook", hooks[i].webhook};
        prom_sample_int(out, "streamq_webhook_deliveries_total", NULL, &label, 1, (uint64_t)hooks[i].deliveries);
    }
    prom_family(out, "streamq_webhook_delivery_failures_total", "counter",
                "Webhook delivery attempts that got no 2xx (error, timeout, refused URL), by webhook.");
    for (int i = 0; i < n; i++) {
        struct prom_label label = {"webhook", hooks[i].webhook};
        prom_sample_int(out, "streamq_webhook_delivery_failures_total", NULL, &label, 1, (uint64_t)hooks[i].failures);
    }
    free(hooks);

    prom_single_int(out, "streamq_notifier_reconnects_total", "counter",
                    "Times the notifier opened its LISTEN connection again after losing it.",
                    (uint64_t)notifier_reconnects(w->notifier));
}

/* The route table as served: /metrics opens to anyone with --metrics-public. */
static struct route *served_routes(const struct config *cfg)
{
    struct route *routes = xcalloc(route_table_len, sizeof *routes);
    for (size_t i = 0; i < route_table_len; i++) {
        routes[i] = route_table[i];
        if (cfg->metrics_public && routes[i].handler == route_metrics)
            routes[i].scope = SCOPE_OPEN;
    }
    return routes;
}

/* The service from start to stop; its exit status. */
/* True for 127.0.0.0/8 and ::1: only this machine can connect. */
static bool listens_on_loopback(const struct sockaddr_storage *addr)
{
    if (addr->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr) >> 24) == 127;
    if (addr->ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)addr)->sin6_addr);
    return false;
}

static int serve(const struct config *cfg)
{
    char err[600];
    int status = 0;
    struct service svc;
    memset(&svc, 0, sizeof svc);
    svc.cfg = cfg;

    /* Signals are taken with sigwait below; threads created from here on inherit the mask. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    bool apply = cfg->auto_migrate || !strcmp(cfg->command, "migrate");
    if (!db_migrate(cfg, apply, err, sizeof err)) {
        log_error("%s", err);
        return 1;
    }
    if (!strcmp(cfg->command, "migrate")) {
        log_info("database schema %s is at version %d", cfg->schema, db_migrate_latest());
        return 0;
    }

    /* Found out now, not at the first trim: the worker could not archive, so
     * it would trim nothing. */
    if (*cfg->archive_dir && access(cfg->archive_dir, W_OK | X_OK) != 0) {
        log_error("--archive-dir %s: not a writable directory", cfg->archive_dir);
        return 1;
    }
    if (*cfg->archive_dir)
        log_info("trimmed events are archived in %s before they are deleted", cfg->archive_dir);

    struct auth *auth = NULL;
    if (*cfg->tokens_file) {
        auth = auth_load(cfg->tokens_file, err, sizeof err);
        if (!auth) {
            log_error("%s", err);
            return 1;
        }
        log_info("bearer tokens required: %d in %s (re-read on SIGHUP)", auth_count(auth), cfg->tokens_file);
    } else if (!listens_on_loopback(&cfg->listen_addr)) {
        log_warn("listening on %s without --tokens-file: anyone who reaches it can read, write and delete everything",
                 cfg->listen);
    }

    svc.pool = db_pool_new(cfg);
    if (!svc.pool) {
        auth_free(auth);
        log_error("cannot open the database pool");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before any other thread: it is not thread-safe */
    struct waiters *waiters = start_batchers(&svc, cfg) ? waiters_new() : NULL;
    struct sweeper *sweeper = waiters ? sweeper_start(cfg, svc.pool) : NULL;
    struct retention *retention = sweeper ? retention_start(cfg, svc.pool, event_json) : NULL;
    struct dispatcher *dispatcher = retention ? webhooks_start(cfg, svc.pool, route_webhooks_batch) : NULL;
    struct notifier *notifier = dispatcher ? notifier_start(cfg, waiters, poke_dispatcher, dispatcher) : NULL;
    struct periodic *standby_check = NULL;
    if (!notifier || !start_standby_check(cfg, svc.pool, &standby_check)) {
        log_error("cannot start the background threads");
        notifier_stop(notifier);
        webhooks_stop(dispatcher);
        retention_stop(retention);
        sweeper_stop(sweeper);
        waiters_free(waiters);
        stop_batchers(&svc);
        db_pool_free(svc.pool);
        auth_free(auth);
        return 1;
    }
    struct service_workers workers = {sweeper, dispatcher, notifier};
    svc.workers = &workers;
    svc.depths = db_depth_cache_new(cfg->metrics_refresh_ms);
    struct route *routes = served_routes(cfg);
    struct http_options http = {
        .listen_addr = &cfg->listen_addr,
        .listen = cfg->listen,
        .threads = (unsigned)cfg->threads,
        .connection_timeout = (unsigned)cfg->connection_timeout,
        .max_body = (size_t)cfg->max_body,
        .connection_limit = raise_fd_limit(),
        .waiters = waiters,
        .auth = auth,
    };
    svc.http = http_server_start(&http, routes, route_table_len, &svc);
    if (!svc.http) {
        free(routes);
        db_depth_cache_free(svc.depths);
        periodic_stop(standby_check);
        notifier_stop(notifier);
        webhooks_stop(dispatcher);
        retention_stop(retention);
        sweeper_stop(sweeper);
        waiters_free(waiters);
        stop_batchers(&svc);
        db_pool_free(svc.pool);
        auth_free(auth);
        return 1;
    }
    log_info("streamq %s listening on http://%s:%u (schema %s, pool %lld-%lld, %lld threads)", STREAMQ_VERSION,
             cfg->listen_addr.ss_family == AF_INET6 ? "[::]" : "127.0.0.1", http_server_port(svc.http), cfg->schema,
             (long long)cfg->pool_min, (long long)cfg->pool_max, (long long)cfg->threads);

    if (*cfg->port_file && !write_port_file(cfg->port_file, http_server_port(svc.http))) {
        log_error("cannot write the port file %s", cfg->port_file);
        status = 1;
        goto stop;
    }

    int sig = 0;
    while (sigwait(&stop, &sig) == 0 && sig == SIGHUP) {
        if (!auth)
            log_info("SIGHUP: no --tokens-file to read again");
        else if (!auth_reload(auth, err, sizeof err))
            log_error("SIGHUP: keeping the %d tokens in use: %s", auth_count(auth), err);
        else
            log_info("SIGHUP: bearer tokens re-read: %d in %s", auth_count(auth), cfg->tokens_file);
    }
    log_info("received %s; answering waiters and finishing in-flight requests", sig == SIGTERM ? "SIGTERM" : "SIGINT");
stop:
    /* Waiters first: parked requests answer with what they have, then count as
     * in-flight requests that the server lets finish. */
    waiters_close(waiters);
    /* The group commit's writers run until the server has stopped: a job
     * already handed to them is written and answered. */
    http_server_stop(svc.http, cfg->shutdown_timeout * 1000);
    stop_batchers(&svc);
    auth_free(auth);
    periodic_stop(standby_check);
    notifier_stop(notifier);
    webhooks_stop(dispatcher);
    retention_stop(retention);
    sweeper_stop(sweeper);
    waiters_free(waiters);
    db_depth_cache_free(svc.depths);
    free(routes);
    db_pool_free(svc.pool);
    curl_global_cleanup();
    log_info("stopped");
    return status;
}

int service_run(const struct config *cfg)
{
    /* The flusher blocks every signal, so it may start before serve() sets the mask for sigwait. */
    if (!log_flusher_start()) {
        log_error("cannot start the log flusher");
        return 1;
    }
    int status = serve(cfg);
    log_flusher_stop();
    return status;
}
