/* The fixtures of the hostile test (see hostile.h): for each group a stream
 * and a queue made by ordinary HTTP before the run, and the reads that must
 * answer the same after it. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hostile.h"

/* One request of the fixture setup; false (and a failure) unless `status`. */
static bool setup_step(const struct service_proc *sp, const char *method, const char *path, const char *body,
                       long status, struct response **out)
{
    struct response *r = http(sp, method, path, body, NULL);
    bool ok = r->status == status;
    if (!ok)
        report_fail(REPORT_NO_INDEX, "fixtures", path, "setup %s answered %ld (want %ld): %.200s", method, r->status,
                    status, r->body);
    if (out && ok)
        *out = r;
    else
        response_free(r);
    return ok;
}

bool fixtures_make(const struct service_proc *sp, const struct fixture_names *fx)
{
    char path[256], body[2048];
    for (int g = 0; g < FX_GROUPS; g++) {
        const char *s = fx->stream[g], *qn = fx->queue[g];
        snprintf(path, sizeof path, "/streams/%s/events", s);
        size_t n = (size_t)snprintf(body, sizeof body, "{\"expected_version\":\"no_stream\",\"events\":[");
        for (int e = 0; e < FIXTURE_EVENTS - 1; e++)
            n += (size_t)snprintf(body + n, sizeof body - n,
                                  "%s{\"id\":\"%s\",\"type\":\"FixtureCreated\",\"data\":{\"group\":\"%s\",\"i\":%d},"
                                  "\"metadata\":{\"fixture\":true}}",
                                  e ? "," : "", fx->event_id[g][e], fx->group[g], e);
        snprintf(body + n, sizeof body - n, "]}");
        if (!setup_step(sp, "POST", path, body, 201, NULL))
            return false;
        snprintf(body, sizeof body,
                 "{\"expected_version\":%d,\"events\":[{\"id\":\"%s\",\"type\":\"FixtureUpdated\",\"data\":[1,\"two\","
                 "null]}]}",
                 FIXTURE_EVENTS - 2, fx->event_id[g][FIXTURE_EVENTS - 1]);
        if (!setup_step(sp, "POST", path, body, 201, NULL))
            return false;

        snprintf(path, sizeof path, "/queues/%s", qn);
        if (!setup_step(sp, "PUT", path, "{\"visibility_timeout\":3600,\"max_delivery_attempts\":5}", 200, NULL))
            return false;
        /* [0] leased for an hour, [1] dead-lettered, the rest pending. */
        for (int m = 0; m < 2; m++) {
            snprintf(path, sizeof path, "/queues/%s/messages", qn);
            snprintf(body, sizeof body, "{\"messages\":[{\"id\":\"%s\",\"type\":\"FixtureJob\",\"data\":{\"i\":%d}}]}",
                     fx->message_id[g][m], m);
            struct response *r = NULL;
            if (!setup_step(sp, "POST", path, body, 201, NULL))
                return false;
            snprintf(path, sizeof path, "/queues/%s/dequeue", qn);
            if (!setup_step(sp, "POST", path,
                            "{\"max_messages\":1,\"visibility_timeout\":3600,\"consumer\":\"fixture\"}", 200, &r))
                return false;
            const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(r->json, "messages");
            const cJSON *first = cJSON_GetArrayItem(msgs, 0);
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(first, "id");
            const cJSON *receipt = cJSON_GetObjectItemCaseSensitive(first, "receipt");
            if (!cJSON_IsString(id) || strcmp(id->valuestring, fx->message_id[g][m]) || !cJSON_IsString(receipt)) {
                report_fail(REPORT_NO_INDEX, "fixtures", path, "dequeue did not lease %s: %.200s", fx->message_id[g][m],
                            r->body);
                response_free(r);
                return false;
            }
            if (m == 1) {
                snprintf(path, sizeof path, "/queues/%s/messages/%s/nack", qn, fx->message_id[g][m]);
                snprintf(body, sizeof body, "{\"receipt\":\"%s\",\"requeue\":false,\"reason\":\"fixture\"}",
                         receipt->valuestring);
                if (!setup_step(sp, "POST", path, body, 204, NULL)) {
                    response_free(r);
                    return false;
                }
            }
            response_free(r);
        }
        snprintf(path, sizeof path, "/queues/%s/messages", qn);
        n = (size_t)snprintf(body, sizeof body, "{\"messages\":[");
        for (int m = 2; m < FIXTURE_MESSAGES; m++)
            n += (size_t)snprintf(body + n, sizeof body - n,
                                  "%s{\"id\":\"%s\",\"type\":\"FixtureJob\",\"data\":{\"i\":%d}}", m > 2 ? "," : "",
                                  fx->message_id[g][m], m);
        snprintf(body + n, sizeof body - n, "]}");
        if (!setup_step(sp, "POST", path, body, 201, NULL))
            return false;
    }
    return true;
}

/* What is compared before and after: for each group, these reads. */
static const struct {
    bool stream; /* of the group's stream, else of its queue */
    const char *suffix;
} snapshot_parts[] = {
    {true, ""},
    {true, "/events?limit=1000"},
    {false, ""},
    {false, "/messages?limit=1000"},
    {false, "/messages?state=pending&limit=1000"},
    {false, "/messages?state=in_flight&limit=1000"},
    {false, "/dead-letters?limit=1000"},
};
#define SNAPSHOT_PARTS (sizeof snapshot_parts / sizeof snapshot_parts[0])

static void snapshot_path(const struct fixture_names *fx, char *out, size_t size, int g, size_t p)
{
    snprintf(out, size, "/%s/%s%s", snapshot_parts[p].stream ? "streams" : "queues",
             snapshot_parts[p].stream ? fx->stream[g] : fx->queue[g], snapshot_parts[p].suffix);
}

struct fixtures_snapshot {
    long status[FX_GROUPS][SNAPSHOT_PARTS];
    char *text[FX_GROUPS][SNAPSHOT_PARTS]; /* the body, volatile members removed */
};

struct fixtures_snapshot *fixtures_snapshot(const struct service_proc *sp, const struct fixture_names *fx)
{
    char path[256];
    struct fixtures_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    for (int g = 0; g < FX_GROUPS; g++)
        for (size_t p = 0; p < SNAPSHOT_PARTS; p++) {
            snapshot_path(fx, path, sizeof path, g, p);
            struct response *r = http(sp, "GET", path, NULL, NULL);
            s->status[g][p] = r->status;
            if (r->json) {
                /* The age of the oldest pending message grows by itself. */
                cJSON_DeleteItemFromObjectCaseSensitive(r->json, "oldest_pending_age_seconds");
                s->text[g][p] = cJSON_PrintUnformatted(r->json);
            } else {
                s->text[g][p] = strdup(r->body);
            }
            response_free(r);
        }
    return s;
}

/* One failure per damaged group: the first read that changed, and how many did. */
int fixtures_compare(const struct fixtures_snapshot *before, const struct fixtures_snapshot *after,
                     const struct fixture_names *fx)
{
    int damaged = 0;
    char path[256], what[200];
    for (int g = 0; g < FX_GROUPS; g++) {
        int changed = 0;
        size_t first = 0;
        for (size_t p = 0; p < SNAPSHOT_PARTS; p++)
            if (before->status[g][p] != after->status[g][p] || strcmp(before->text[g][p], after->text[g][p]) != 0)
                if (changed++ == 0)
                    first = p;
        if (changed == 0)
            continue;
        damaged++;
        snapshot_path(fx, path, sizeof path, g, first);
        snprintf(what, sizeof what, "fixture group '%s'", fx->group[g]);
        report_fail(REPORT_NO_INDEX, "fixtures", what,
                    "%d of %zu reads changed; GET %.80s was %ld %.60s... and is %ld %.60s...", changed, SNAPSHOT_PARTS,
                    path, before->status[g][first], before->text[g][first], after->status[g][first],
                    after->text[g][first]);
    }
    return damaged;
}

void fixtures_snapshot_free(struct fixtures_snapshot *s)
{
    if (!s)
        return;
    for (int g = 0; g < FX_GROUPS; g++)
        for (size_t p = 0; p < SNAPSHOT_PARTS; p++)
            free(s->text[g][p]);
    free(s);
}
