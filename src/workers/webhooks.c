/* Webhook dispatcher thread; see webhooks.h. One loop: claim due webhooks on
 * the link, start their POSTs on the multi handle, let curl run them, and
 * record each outcome as it finishes, then give up the webhook's lock. */
#include "src/workers/webhooks.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/core/log.h"
#include "src/core/sign.h"
#include "src/core/url.h"

#define MAX_IN_FLIGHT 64
#define CLAIM_EVERY_US 250000
#define IDLE_RECHECK_MS 5000
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 300000
#define POST_TIMEOUT_MS 10000
#define POLL_MS 50

struct delivery {
    bool used;
    struct due_webhook w;
    CURL *easy;
    struct curl_slist *headers;
    struct webhook_batch batch;
    char error[CURL_ERROR_SIZE];
};

struct dispatcher {
    const struct config *cfg;
    struct db_pool *pool;
    webhook_batch_fn build;
    pthread_t thread;
    atomic_bool stopping, poked;
    CURLM *multi;
    struct db_delivery_link *link;
    struct delivery slots[MAX_IN_FLIGHT];
    /* Deliveries and failures by webhook since start, for /metrics. A webhook
     * deleted meanwhile keeps its counts: Prometheus counters never go back. */
    pthread_mutex_t counts_lock;
    struct webhook_counts *counts;
    int ncounts;
};

/* Counts one finished attempt of `name`'s delivery. Dispatcher thread. */
static void count_attempt(struct dispatcher *d, const char *name, bool failed)
{
    pthread_mutex_lock(&d->counts_lock);
    int i = 0;
    while (i < d->ncounts && strcmp(d->counts[i].webhook, name))
        i++;
    if (i == d->ncounts) {
        d->counts = xrealloc(d->counts, (size_t)(d->ncounts + 1) * sizeof *d->counts);
        memset(&d->counts[i], 0, sizeof d->counts[i]);
        snprintf(d->counts[i].webhook, sizeof d->counts[i].webhook, "%s", name);
        d->ncounts++;
    }
    d->counts[i].deliveries++;
    d->counts[i].failures += failed;
    pthread_mutex_unlock(&d->counts_lock);
}

static size_t discard(char *ptr, size_t size, size_t n, void *arg)
{
    return size * n;
}

static void finish_slot(struct dispatcher *d, struct delivery *s)
{
    if (s->easy) {
        curl_multi_remove_handle(d->multi, s->easy);
        curl_easy_cleanup(s->easy);
    }
    curl_slist_free_all(s->headers);
    free(s->batch.body);
    if (d->link && !db_delivery_release(d->link, s->w.hook.name)) {
        db_delivery_link_close(d->link); /* its other locks end with it */
        d->link = NULL;
    }
    db_webhook_clear(&s->w.hook);
    memset(s, 0, sizeof *s);
}

static int64_t retry_delay_ms(int64_t failures_before)
{
    int64_t ms = RETRY_FIRST_MS;
    for (int64_t i = 0; i < failures_before && ms < RETRY_MAX_MS; i++)
        ms *= 2;
    return ms < RETRY_MAX_MS ? ms : RETRY_MAX_MS;
}

static void add_header(struct delivery *s, const char *name, const char *value)
{
    char line[256];
    snprintf(line, sizeof line, "%s: %s", name, value);
    s->headers = curl_slist_append(s->headers, line);
}

/* Builds the batch and starts its POST; false when the slot was given back at once. */
static bool start(struct dispatcher *d, struct delivery *s)
{
    const char *name = s->w.hook.name;
    const char *refused = url_refusal(s->w.hook.url, d->cfg->webhook_allow);
    if (refused) { /* registered before --webhook-allow was narrowed: failing, visibly */
        bool begun =
            s->w.delivery_id[0] || db_delivery_begin(d->pool, name, s->w.hook.position, s->w.delivery_id) == STORE_OK;
        if (!begun || db_delivery_failed(d->pool, name, s->w.delivery_id, refused, RETRY_MAX_MS) != STORE_OK)
            log_warn("webhooks: %s: could not record that its url is refused", name);
        count_attempt(d, name, true);
        return false;
    }
    if (d->build(d->pool, &s->w, &s->batch) != STORE_OK)
        return false; /* logged by the store; the next claim tries again */
    if (s->batch.count == 0) {
        /* A batch in flight whose events are gone (the stream was deleted) has
         * nothing left to resend: it ends as delivered, or it would be retried forever. */
        enum store_outcome done =
            s->w.delivery_id[0] ? db_delivery_succeeded(d->pool, name, s->w.delivery_id)
                                : db_delivery_idle(d->pool, name, s->w.hook.position, s->batch.end, IDLE_RECHECK_MS);
        if (done != STORE_OK)
            log_warn("webhooks: %s: could not record a look with nothing to send", name);
        return false;
    }
    if (!s->w.delivery_id[0] && db_delivery_begin(d->pool, name, s->batch.end, s->w.delivery_id) != STORE_OK)
        return false;
    char ts[24], signature[SIGNATURE_LEN];
    int64_t now = (int64_t)time(NULL);
    snprintf(ts, sizeof ts, "%lld", (long long)now);
    sign_webhook(s->w.secret, s->w.delivery_id, now, s->batch.body, s->batch.len, signature);
    add_header(s, "Content-Type", "application/json");
    add_header(s, "webhook-id", s->w.delivery_id);
    add_header(s, "webhook-timestamp", ts);
    add_header(s, "webhook-signature", signature);
    add_header(s, "Expect", ""); /* send the body at once, without waiting for 100 Continue */
    s->easy = curl_easy_init();
    if (!s->easy)
        return false;
    curl_easy_setopt(s->easy, CURLOPT_URL, s->w.hook.url);
    curl_easy_setopt(s->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->batch.body);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->batch.len);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, (long)POST_TIMEOUT_MS);
    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->error);
    curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
    curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "streamq/" STREAMQ_VERSION);
    return curl_multi_add_handle(d->multi, s->easy) == CURLM_OK;
}

/* Returns true when the delivery succeeded (the webhook may have more to send at once). */
static bool record(struct dispatcher *d, struct delivery *s, CURLcode code)
{
    long status = 0;
    char error[300];
    const char *name = s->w.hook.name;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    bool delivered = code == CURLE_OK && status >= 200 && status < 300;
    count_attempt(d, name, !delivered);
    if (delivered) {
        if (db_delivery_succeeded(d->pool, name, s->w.delivery_id) != STORE_OK)
            log_warn("webhooks: %s: delivered, but the position could not be recorded; it will be sent again", name);
        return true;
    }
    if (code == CURLE_OK)
        snprintf(error, sizeof error, "the receiver answered %ld", status);
    else
        snprintf(error, sizeof error, "%s", s->error[0] ? s->error : curl_easy_strerror(code));
    int64_t delay = retry_delay_ms(s->w.hook.consecutive_failures);
    log_info("webhooks: %s: delivery %s failed (%s); next attempt in %lld ms", name, s->w.delivery_id, error,
             (long long)delay);
    if (db_delivery_failed(d->pool, name, s->w.delivery_id, error, delay) != STORE_OK)
        log_warn("webhooks: %s: could not record a failed delivery", name);
    return false;
}

static void claim(struct dispatcher *d, bool idle_too)
{
    const char *busy[MAX_IN_FLIGHT];
    struct due_webhook due[MAX_IN_FLIGHT];
    int nbusy = 0, nfree = 0;
    for (int i = 0; i < MAX_IN_FLIGHT; i++) {
        if (d->slots[i].used)
            busy[nbusy++] = d->slots[i].w.hook.name;
        else
            nfree++;
    }
    if (nfree == 0)
        return;
    int n = db_delivery_claim(d->link, busy, nbusy, idle_too, due, nfree);
    if (n < 0) {
        db_delivery_link_close(d->link);
        d->link = NULL;
        return;
    }
    for (int i = 0, slot = 0; i < n; i++) {
        while (d->slots[slot].used)
            slot++;
        struct delivery *s = &d->slots[slot];
        s->used = true;
        s->w = due[i];
        if (!start(d, s))
            finish_slot(d, s);
    }
}

static void *run(void *arg)
{
    struct dispatcher *d = arg;
    int64_t next_claim = 0, next_connect = 0;
    while (!atomic_load(&d->stopping)) {
        int64_t now = now_usec();
        if (!d->link && now >= next_connect) {
            char err[300];
            d->link = db_delivery_link_open(d->cfg, err, sizeof err);
            if (!d->link) {
                log_warn("webhooks: %s; retrying in a second", err);
                next_connect = now + 1000000;
            }
        }
        bool poked = atomic_exchange(&d->poked, false);
        if (d->link && (now >= next_claim || poked)) {
            claim(d, poked);
            next_claim = now + CLAIM_EVERY_US;
        }
        int running = 0;
        curl_multi_perform(d->multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(d->multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct delivery *s = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            /* A webhook with a backlog sends its next batch at once, not at the next look. */
            if (record(d, s, msg->data.result))
                next_claim = 0;
            finish_slot(d, s);
        }
        /* Sleep no longer than curl wants (a new transfer, a connect under way) nor
         * past the next look (at once after a success): each would cost a delivery
         * the whole wait. */
        long curl_wants = -1;
        curl_multi_timeout(d->multi, &curl_wants);
        int64_t until_claim = d->link ? (next_claim - now_usec()) / 1000 : POLL_MS;
        int64_t wait_ms = curl_wants >= 0 && curl_wants < POLL_MS ? curl_wants : POLL_MS;
        if (until_claim < wait_ms)
            wait_ms = until_claim;
        if (wait_ms > 0)
            curl_multi_poll(d->multi, NULL, 0, (int)wait_ms, NULL);
    }
    for (int i = 0; i < MAX_IN_FLIGHT; i++)
        if (d->slots[i].used)
            finish_slot(d, &d->slots[i]);
    return NULL;
}

struct dispatcher *webhooks_start(const struct config *cfg, struct db_pool *pool, webhook_batch_fn build)
{
    struct dispatcher *d = xcalloc(1, sizeof *d);
    d->cfg = cfg;
    d->pool = pool;
    d->build = build;
    atomic_init(&d->stopping, false);
    atomic_init(&d->poked, false);
    pthread_mutex_init(&d->counts_lock, NULL);
    d->multi = curl_multi_init();
    if (!d->multi || pthread_create(&d->thread, NULL, run, d) != 0) {
        if (d->multi)
            curl_multi_cleanup(d->multi);
        pthread_mutex_destroy(&d->counts_lock);
        free(d);
        return NULL;
    }
    return d;
}

void webhooks_poke(struct dispatcher *d)
{
    if (d) {
        atomic_store(&d->poked, true);
        curl_multi_wakeup(d->multi);
    }
}

void webhooks_stop(struct dispatcher *d)
{
    if (!d)
        return;
    atomic_store(&d->stopping, true);
    curl_multi_wakeup(d->multi);
    pthread_join(d->thread, NULL);
    db_delivery_link_close(d->link);
    curl_multi_cleanup(d->multi);
    pthread_mutex_destroy(&d->counts_lock);
    free(d->counts);
    free(d);
}

int webhooks_counts(struct dispatcher *d, struct webhook_counts **out)
{
    pthread_mutex_lock(&d->counts_lock);
    int n = d->ncounts;
    *out = xcalloc((size_t)n + 1, sizeof **out);
    if (n > 0)
        memcpy(*out, d->counts, (size_t)n * sizeof **out);
    pthread_mutex_unlock(&d->counts_lock);
    return n;
}
