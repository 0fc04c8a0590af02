/* The v1 fixture of the upgrade suite; see upgrade_fixture.h. */
#include "upgrade_fixture.h"

#include <check.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checks.h"
#include "harness.h"

#ifndef STREAMQ_FIXTURES
#error "STREAMQ_FIXTURES (the tests/fixtures directory) is set by tests/meson.build"
#endif

static cJSON *expect;     /* schema_v1.expect */
static long long shift_s; /* seconds every stored timestamp was moved by */
static char schema[64];   /* where the fixture was restored */

/* ---- reading the fixture ------------------------------------------------ */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    if (buf)
        buf[len] = '\0';
    fclose(f);
    return buf;
}

bool upgrade_fixture_load(void)
{
    char *text = slurp(STREAMQ_FIXTURES "/schema_v1.expect");
    expect = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!expect)
        fprintf(stderr, "cannot read %s\n", STREAMQ_FIXTURES "/schema_v1.expect");
    return expect != NULL;
}

const char *upgrade_schema(void)
{
    return schema;
}

void upgrade_fixture_free(void)
{
    cJSON_Delete(expect);
    expect = NULL;
}

const cJSON *upgrade_expected(const char *section, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(expect, section);
    const cJSON *v = key ? cJSON_GetObjectItemCaseSensitive(s, key) : s;
    ck_assert_msg(v != NULL, "schema_v1.expect has no %s %s", section, key ? key : "");
    return v;
}

const cJSON *upgrade_v1_get(const char *path)
{
    return upgrade_expected("get", path);
}

const char *upgrade_shifted(const char *ts)
{
    static char bufs[4][96];
    static int next;
    char *b = bufs[next++ % 4];
    struct tm tm = {0};
    int usec = 0;
    ck_assert_msg(sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                         &tm.tm_min, &tm.tm_sec, &usec) == 7,
                  "not a timestamp: %s", ts);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm) + (time_t)shift_s;
    gmtime_r(&t, &tm);
    snprintf(b, sizeof bufs[0], "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
    return b;
}

/* Members whose value depends on when they are read, not on what is stored:
 * the age of the oldest message, and the global read's watermark. */
static bool depends_on_now(const char *key)
{
    return key && (!strcmp(key, "oldest_pending_age_seconds") || !strcmp(key, "next_position"));
}

void upgrade_expect_same(const char *where, const cJSON *old, const cJSON *now)
{
    char sub[512];
    const cJSON *m;
    ck_assert_msg(now != NULL, "%s: missing; v1 had it", where);
    if (cJSON_IsObject(old)) {
        ck_assert_msg(cJSON_IsObject(now), "%s: not an object", where);
        cJSON_ArrayForEach(m, old) {
            if (depends_on_now(m->string))
                continue;
            snprintf(sub, sizeof sub, "%s.%s", where, m->string);
            upgrade_expect_same(sub, m, cJSON_GetObjectItemCaseSensitive(now, m->string));
        }
    } else if (cJSON_IsArray(old)) {
        ck_assert_msg(cJSON_IsArray(now) && cJSON_GetArraySize(now) == cJSON_GetArraySize(old),
                      "%s: %d items, v1 had %d", where, cJSON_IsArray(now) ? cJSON_GetArraySize(now) : -1,
                      cJSON_GetArraySize(old));
        int i = 0;
        cJSON_ArrayForEach(m, old) {
            snprintf(sub, sizeof sub, "%s[%d]", where, i);
            upgrade_expect_same(sub, m, cJSON_GetArrayItem(now, i++));
        }
    } else if (cJSON_IsString(old)) {
        const char *want = is_timestamp(old->valuestring) ? upgrade_shifted(old->valuestring) : old->valuestring;
        ck_assert_msg(cJSON_IsString(now) && !strcmp(now->valuestring, want), "%s: %s, want %s (v1: %s)", where,
                      cJSON_IsString(now) ? now->valuestring : "(not a string)", want, old->valuestring);
    } else if (cJSON_IsNumber(old)) {
        ck_assert_msg(cJSON_IsNumber(now) && now->valuedouble == old->valuedouble, "%s: %.17g, v1 said %.17g", where,
                      cJSON_IsNumber(now) ? now->valuedouble : -1.0, old->valuedouble);
    } else {
        ck_assert_msg((now->type & 0xff) == (old->type & 0xff), "%s: type %d, v1 had %d", where, now->type & 0xff,
                      old->type & 0xff);
    }
}

void upgrade_expect_json_value(const char *where, const cJSON *now, const char *want)
{
    cJSON *w = cJSON_Parse(want);
    ck_assert_ptr_nonnull(w);
    bool same = now && cJSON_Compare(now, w, true);
    cJSON_Delete(w);
    ck_assert_msg(same, "%s is not %s", where, want);
}

/* The largest global position v1 served, and the next_position it answered
 * with; -1 where absent. Asserts nothing: the restore calls it before the suite. */
static void v1_positions(long long *max_event, long long *next)
{
    const cJSON *get = cJSON_GetObjectItemCaseSensitive(expect, "get");
    const cJSON *read = cJSON_GetObjectItemCaseSensitive(get, "/events?limit=1000"), *e;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(read, "next_position");
    *next = cJSON_IsNumber(n) ? (long long)n->valuedouble : -1;
    *max_event = -1;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(read, "events")) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "global_position");
        if (cJSON_IsNumber(p) && (long long)p->valuedouble > *max_event)
            *max_event = (long long)p->valuedouble;
    }
}

long long upgrade_v1_max_position(void)
{
    long long max, next;
    v1_positions(&max, &next);
    ck_assert_int_ge(max, 0);
    return max;
}

/* ---- restoring it, before the service starts ---------------------------- */

static bool sql_ok(PGconn *pg, PGresult *res, const char *what)
{
    ExecStatusType st = PQresultStatus(res);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "restore: %s failed: %s", what, PQerrorMessage(pg));
    PQclear(res);
    return ok;
}

/* One integer from `sql` with up to two text parameters; LLONG_MIN on failure. */
static long long sql_int(PGconn *pg, const char *sql, const char *a, const char *b)
{
    const char *params[] = {a, b};
    PGresult *res = PQexecParams(pg, sql, b ? 2 : a ? 1 : 0, NULL, params, NULL, NULL, 0);
    long long v = LLONG_MIN;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        v = atoll(PQgetvalue(res, 0, 0));
    else
        fprintf(stderr, "restore: %s failed: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    return v;
}

/* Every timestamptz column of every table in the schema moves by streamq.shift seconds. */
static const char shift_sql[] =
    "DO $$ DECLARE r record; BEGIN"
    "  FOR r IN SELECT c.table_name, string_agg(format('%1$I = %1$I + make_interval(secs => %2$s)',"
    "                                                   c.column_name, current_setting('streamq.shift')), ', ') AS sets"
    "             FROM information_schema.columns c"
    "             JOIN information_schema.tables t USING (table_schema, table_name)"
    "            WHERE c.table_schema = current_setting('streamq.schema') AND t.table_type = 'BASE TABLE'"
    "              AND c.data_type = 'timestamp with time zone'"
    "            GROUP BY c.table_name LOOP"
    "    EXECUTE format('UPDATE %I.%I SET %s', current_setting('streamq.schema'), r.table_name, r.sets);"
    "  END LOOP;"
    "END $$";

bool upgrade_fixture_restore(void)
{
    char *dump = slurp(STREAMQ_FIXTURES "/schema_v1.sql");
    if (!dump) {
        fprintf(stderr, "restore: cannot read %s\n", STREAMQ_FIXTURES "/schema_v1.sql");
        return false;
    }
    snprintf(schema, sizeof schema, "%s", unique_name("upgrade"));
    for (char *c = schema; *c; c++)
        if (*c == '-')
            *c = '_';
    const char *made_at = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(expect, "made_at"));
    PGconn *pg = PQconnectdb(test_database_conninfo());
    bool ok = PQstatus(pg) == CONNECTION_OK && made_at;
    char rename[160], shift[24];
    snprintf(rename, sizeof rename, "ALTER SCHEMA upgrade_v1 RENAME TO %s", schema);
    /* The fixture's schema name is fixed: it exists only inside this transaction. */
    ok = ok && sql_ok(pg,
                      PQexec(pg, "SET client_min_messages TO warning; BEGIN;"
                                 "DROP SCHEMA IF EXISTS upgrade_v1 CASCADE"),
                      "begin");
    ok = ok && sql_ok(pg, PQexec(pg, dump), "schema_v1.sql");
    ok = ok && sql_ok(pg, PQexec(pg, rename), "rename");
    if (ok) {
        shift_s = sql_int(pg, "SELECT floor(extract(epoch FROM now() - $1::timestamptz))::bigint", made_at, NULL);
        snprintf(shift, sizeof shift, "%lld", shift_s);
        const char *params[] = {shift, schema};
        ok = shift_s != LLONG_MIN && shift_s >= 0 &&
             sql_ok(pg,
                    PQexecParams(pg,
                                 "SELECT set_config('streamq.shift', $1, true), set_config('streamq.schema', $2, true)",
                                 2, NULL, params, NULL, NULL, 0),
                    "settings") &&
             sql_ok(pg, PQexec(pg, shift_sql), "moving timestamps") && sql_ok(pg, PQexec(pg, "COMMIT"), "commit");
    }
    /* Global positions are (xid << 12) + index, and the global read serves only
     * below the oldest running xid: this cluster must be past the fixture's
     * cluster (its last event and v1's last next_position), as the same
     * cluster would be after a real upgrade. */
    long long max_event, next;
    v1_positions(&max_event, &next);
    long long past = (max_event > next ? max_event : next) >> 12;
    ok = ok && max_event >= 0 && next >= 0;
    for (long long xid = 0; ok && xid <= past;) {
        xid = sql_int(pg, "SELECT pg_current_xact_id()::text::bigint", NULL, NULL);
        ok = xid != LLONG_MIN;
    }
    if (!ok)
        fprintf(stderr, "restore: %s\n", PQerrorMessage(pg));
    PQfinish(pg);
    free(dump);
    return ok;
}
