/* GET /metrics: the Prometheus text format (0.0.4). Figures kept in memory
 * (requests, pool, group commit, statement errors, the background threads,
 * the process) are read as they are; the one store call reads the queue
 * depths, cached for the refresh interval. A scrape answers 200 even when the
 * database does not: the figures that need it are then the last ones read (or
 * absent), and streamq_queue_depths_up says so. */
#include <stdio.h>

#include "db/batcher.h"
#include "db/ops.h"
#include "db/queues.h"
#include "routes/routes.h"
#include "src/core/prom.h"

static void render_pool(struct db_pool *pool, struct text *t)
{
    struct db_pool_stats p;
    db_pool_stats(pool, &p);
    prom_single_int(t, "streamq_db_pool_size", "gauge", "Database connections the pool may open (--pool-max).",
                    (uint64_t)p.size);
    prom_single_int(t, "streamq_db_pool_open", "gauge", "Database connections open now.", (uint64_t)p.open);
    prom_single_int(t, "streamq_db_pool_in_use", "gauge", "Database connections lent out now.", (uint64_t)p.in_use);
    prom_single_int(t, "streamq_db_pool_waits_total", "counter", "Acquires that found no free connection and waited.",
                    (uint64_t)p.waits);
    prom_single_int(t, "streamq_db_pool_timeouts_total", "counter",
                    "Acquires that waited the whole acquire timeout in vain (answered 503).", (uint64_t)p.timeouts);
    prom_family(t, "streamq_db_pool_acquire_seconds", "summary",
                "Time spent getting a connection from the pool (count: connections handed out).");
    prom_sample_double(t, "streamq_db_pool_acquire_seconds", "_sum", NULL, 0, (double)p.acquire_us / 1e6);
    prom_sample_int(t, "streamq_db_pool_acquire_seconds", "_count", NULL, 0, (uint64_t)p.acquires);

    struct db_error_count errors[64];
    int n = db_statement_errors(errors, (int)ARRAY_LEN(errors));
    prom_family(t, "streamq_db_statement_errors_total", "counter",
                "Statements that failed, by SQLSTATE class (\"none\": the link failed without one).");
    for (int i = 0; i < n; i++) {
        struct prom_label label = {"sqlstate_class", errors[i].sqlstate_class};
        prom_sample_int(t, "streamq_db_statement_errors_total", NULL, &label, 1, (uint64_t)errors[i].count);
    }
}

/* Where reads ran, and the standby's state when one is configured. */
static void render_reads(struct db_pool *pool, struct text *t)
{
    struct db_read_stats r;
    db_read_stats(pool, &r);
    prom_family(t, "streamq_db_reads_total", "counter",
                "Read statements by the server that ran them (standby: --read-database-url; primary: every other).");
    struct prom_label standby = {"server", "standby"}, primary = {"server", "primary"};
    prom_sample_int(t, "streamq_db_reads_total", NULL, &standby, 1, (uint64_t)r.on_standby);
    prom_sample_int(t, "streamq_db_reads_total", NULL, &primary, 1, (uint64_t)r.on_primary);
    prom_single_int(t, "streamq_db_reads_asked_again_total", "counter",
                    "Reads the standby failed or could not settle (not found; nothing for a waiting reader), run "
                    "again on the primary.",
                    (uint64_t)r.asked_again);
    if (!r.configured)
        return;
    prom_single_int(t, "streamq_standby_in_service", "gauge",
                    "1 while reads go to the standby: it answers and is at most --max-replica-lag-ms behind.",
                    r.in_service);
    prom_single_int(t, "streamq_standby_left_service_total", "counter",
                    "Times the standby stopped serving reads (down, failed, or too far behind).",
                    (uint64_t)r.out_of_service);
    if (r.lag_ms >= 0) {
        prom_family(t, "streamq_standby_lag_seconds", "gauge",
                    "How far the standby's replay was behind the primary at the last check (an upper bound).");
        prom_sample_double(t, "streamq_standby_lag_seconds", NULL, NULL, 0, (double)r.lag_ms / 1e3);
    }
}

/* One histogram over every kind of group commit (label `kind`). */
static void render_group_commit(struct batcher *const *batchers, int n, struct text *t)
{
    static const char *const NAME = "streamq_group_commit_size";
    prom_family(t, NAME, "histogram",
                "Jobs written together in one transaction by the group commit, by kind (append, enqueue, dequeue, ack, "
                "transaction).");
    for (int k = 0; k < n; k++) {
        struct batcher_stats g;
        const char *kind = batcher_stats(batchers[k], &g);
        long long cumulative = 0;
        for (int i = 0; i <= BATCHER_SIZE_BUCKETS; i++) {
            char le[16];
            cumulative += g.by_size[i];
            if (i < BATCHER_SIZE_BUCKETS)
                snprintf(le, sizeof le, "%d", 1 << i);
            else
                snprintf(le, sizeof le, "+Inf");
            struct prom_label labels[] = {{"kind", kind}, {"le", le}};
            prom_sample_int(t, NAME, "_bucket", labels, 2, (uint64_t)cumulative);
        }
        struct prom_label label = {"kind", kind};
        prom_sample_int(t, NAME, "_sum", &label, 1, (uint64_t)g.jobs);
        prom_sample_int(t, NAME, "_count", &label, 1, (uint64_t)g.groups);
    }
}

/* The queue gauges, one family per figure and one sample per queue. */
static const struct {
    const char *name, *help;
} QUEUE_GAUGES[] = {
    {"streamq_queue_pending", "Messages ready to be dequeued, by queue."},
    {"streamq_queue_in_flight", "Messages leased and not yet settled, by queue."},
    {"streamq_queue_delayed", "Messages not visible yet (delay or nack backoff), by queue."},
    {"streamq_queue_dead_letters", "Messages in the queue's dead letters, by queue."},
    {"streamq_queue_oldest_pending_age_seconds", "Age of the oldest pending message, by queue (0: none pending)."},
};

static void render_queue_gauge(struct text *t, size_t gauge, const struct queue_meta *q)
{
    struct prom_label label = {"queue", q->queue};
    const char *name = QUEUE_GAUGES[gauge].name;
    const int64_t counts[] = {q->pending, q->in_flight, q->delayed, q->dead_letters};
    if (gauge < ARRAY_LEN(counts))
        prom_sample_int(t, name, NULL, &label, 1, (uint64_t)counts[gauge]);
    else
        prom_sample_double(t, name, NULL, &label, 1,
                           q->oldest_pending_age_ms.is_null ? 0 : (double)q->oldest_pending_age_ms.value / 1e3);
}

static void render_queues(struct request *req, struct text *t)
{
    struct queue_depths d;
    enum store_outcome outcome = db_queue_depths(req->svc->pool, req->svc->depths, &d);
    prom_single_int(t, "streamq_queue_depths_up", "gauge",
                    "1 when the queue gauges below come from the latest reading, 0 when it failed (they are older).",
                    outcome == STORE_OK);
    if (d.read_at_us) {
        prom_family(t, "streamq_queue_depths_age_seconds", "gauge", "How old the queue gauges are.");
        prom_sample_double(t, "streamq_queue_depths_age_seconds", NULL, NULL, 0,
                           (double)(now_usec() - d.read_at_us) / 1e6);
    }
    for (size_t g = 0; g < ARRAY_LEN(QUEUE_GAUGES); g++) {
        prom_family(t, QUEUE_GAUGES[g].name, "gauge", QUEUE_GAUGES[g].help);
        for (int i = 0; i < d.count; i++)
            render_queue_gauge(t, g, &d.items[i]);
    }
    db_queue_depths_free(&d);
}

void route_metrics(struct request *req)
{
    struct text t = {0};
    http_server_render_metrics(req->server, &t);
    render_pool(req->svc->pool, &t);
    render_reads(req->svc->pool, &t);
    struct batcher *const batchers[] = {req->svc->appends, req->svc->enqueues, req->svc->dequeues, req->svc->acks,
                                        req->svc->transactions};
    render_group_commit(batchers, (int)ARRAY_LEN(batchers), &t);
    render_queues(req, &t);
    service_render_worker_metrics(req->svc, &t);
    prom_process(&t);
    http_reply_owned(req, 200, PROM_CONTENT_TYPE, t.data, t.len);
}
