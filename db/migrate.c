/* Migration runner; see migrate.h. DDL text comes only from the binary and the
 * validated schema/prefix options, never from a request. */
#include "db/migrate.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "db/statements.h"
#include "src/core/embedded.h"
#include "src/core/log.h"

static int migration_number(const char *name)
{
    return atoi(name);
}

int db_migrate_latest(void)
{
    int latest = 0;
    for (const struct embedded_file *f = embedded_migrations; f->name; f++)
        if (migration_number(f->name) > latest)
            latest = migration_number(f->name);
    return latest;
}

/* Runs `sql` (a script or a command with no parameters); false with `err` filled on failure. */
static bool run(PGconn *pg, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        const char *msg = PQresultErrorMessage(res);
        snprintf(err, errlen, "migration: %s failed: %.*s", what, (int)strcspn(msg, "\n"), msg);
    }
    PQclear(res);
    return ok;
}

/* The version the database is at, 0 when never migrated, -1 on error. */
static int applied_version(PGconn *pg, const struct config *cfg, char *err, size_t errlen)
{
    char *sql = statements_expand("SELECT coalesce(max(version), 0) FROM {p}schema_migrations", cfg->table_prefix);
    char exists_sql[300];
    snprintf(exists_sql, sizeof exists_sql, "SELECT to_regclass('%s.%sschema_migrations') IS NOT NULL", cfg->schema,
             cfg->table_prefix);
    int version = -1;
    PGresult *res = PQexec(pg, exists_sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "migration: cannot read the schema version: %s", PQresultErrorMessage(res));
        goto out;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        version = 0;
        goto out;
    }
    PQclear(res);
    res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "migration: cannot read the schema version: %s", PQresultErrorMessage(res));
        goto out;
    }
    version = atoi(PQgetvalue(res, 0, 0));
out:
    PQclear(res);
    free(sql);
    return version;
}

static bool apply_pending(PGconn *pg, const struct config *cfg, char *err, size_t errlen)
{
    char sql[512];
    /* Instances starting together serialise here; the lock ends with the transaction. */
    snprintf(sql, sizeof sql,
             "BEGIN; SELECT pg_advisory_xact_lock(hashtext('streamq.migrate'), hashtext('%s'));"
             "CREATE SCHEMA IF NOT EXISTS %s; SET LOCAL search_path TO %s;",
             cfg->schema, cfg->schema, cfg->schema);
    if (!run(pg, sql, "taking the migration lock", err, errlen))
        return false;
    /* What schema/008_partitioning.sql records (and builds) when it runs. */
    char width[24];
    snprintf(width, sizeof width, "%lld", (long long)cfg->partition_width);
    const char *choice[] = {cfg->partitioning, width};
    PGresult *set = PQexecParams(pg,
                                 "SELECT set_config('streamq.partitioning', $1, true),"
                                 " set_config('streamq.partition_width', $2, true)",
                                 2, NULL, choice, NULL, NULL, 0);
    bool set_ok = PQresultStatus(set) == PGRES_TUPLES_OK;
    PQclear(set);
    if (!set_ok) {
        snprintf(err, errlen, "migration: cannot pass the partitioning options");
        goto fail;
    }
    char *create = statements_expand("CREATE TABLE IF NOT EXISTS {p}schema_migrations ("
                                     " version integer PRIMARY KEY, name text NOT NULL,"
                                     " applied_at timestamptz NOT NULL DEFAULT now())",
                                     cfg->table_prefix);
    bool ok = run(pg, create, "creating the migrations table", err, errlen);
    free(create);
    if (!ok)
        goto fail;
    int current = applied_version(pg, cfg, err, errlen);
    if (current < 0)
        goto fail;
    for (const struct embedded_file *f = embedded_migrations; f->name; f++) {
        int n = migration_number(f->name);
        if (n <= current)
            continue;
        char *body = statements_expand(f->text, cfg->table_prefix);
        ok = run(pg, body, f->name, err, errlen);
        free(body);
        if (!ok)
            goto fail;
        char *record =
            statements_expand("INSERT INTO {p}schema_migrations (version, name) VALUES ($1, $2)", cfg->table_prefix);
        char num[16];
        snprintf(num, sizeof num, "%d", n);
        const char *params[] = {num, f->name};
        PGresult *res = PQexecParams(pg, record, 2, NULL, params, NULL, NULL, 0);
        free(record);
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (!ok) {
            snprintf(err, errlen, "migration: recording %s failed", f->name);
            goto fail;
        }
        log_info("applied migration %s", f->name);
    }
    return run(pg, "COMMIT", "commit", err, errlen);
fail:
    PQclear(PQexec(pg, "ROLLBACK"));
    return false;
}

/* The partitioning the schema was created with (recorded by migration 8) must
 * be the one asked for: the events table's shape cannot change afterwards. */
static bool check_partitioning(PGconn *pg, const struct config *cfg, char *err, size_t errlen)
{
    char *sql = statements_expand("SELECT (SELECT value FROM {p}settings WHERE name = 'partitioning'),"
                                  " (SELECT value FROM {p}settings WHERE name = 'partition_width')",
                                  cfg->table_prefix);
    PGresult *res = PQexec(pg, sql);
    free(sql);
    bool ok = false;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "cannot read the schema's partitioning: %.200s", PQresultErrorMessage(res));
        goto out;
    }
    const char *recorded = PQgetisnull(res, 0, 0) ? "none" : PQgetvalue(res, 0, 0);
    long long width = PQgetisnull(res, 0, 1) ? 0 : atoll(PQgetvalue(res, 0, 1));
    if (strcmp(recorded, cfg->partitioning) != 0) {
        snprintf(err, errlen,
                 "database schema %s was created with --partitioning %s, but this start asks for --partitioning %s; "
                 "the choice is fixed when the schema is created: start with --partitioning %s, or use a new "
                 "--schema and move the events there",
                 cfg->schema, recorded, cfg->partitioning, recorded);
        goto out;
    }
    if (!strcmp(recorded, "time") && width != cfg->partition_width) {
        snprintf(err, errlen,
                 "database schema %s was created with --partition-width %lld (seconds), but this start asks for "
                 "--partition-width %lld; the width is fixed when the schema is created: start with "
                 "--partition-width %lld, or use a new --schema and move the events there",
                 cfg->schema, width, (long long)cfg->partition_width, width);
        goto out;
    }
    ok = true;
out:
    PQclear(res);
    return ok;
}

bool db_migrate(const struct config *cfg, bool apply, char *err, size_t errlen)
{
    PGconn *pg = db_connect(cfg, err, errlen);
    bool ok = false;
    if (!pg)
        goto out;
    PQclear(PQexec(pg, "SET client_min_messages TO warning"));
    if (apply) {
        ok = apply_pending(pg, cfg, err, errlen) && check_partitioning(pg, cfg, err, errlen);
        goto out;
    }
    int version = applied_version(pg, cfg, err, errlen);
    if (version < 0)
        goto out;
    if (version < db_migrate_latest()) {
        snprintf(err, errlen,
                 "database schema %s is at version %d but this binary needs %d; run `streamq migrate` "
                 "or set auto-migrate true",
                 cfg->schema, version, db_migrate_latest());
        goto out;
    }
    ok = check_partitioning(pg, cfg, err, errlen);
out:
    PQfinish(pg);
    return ok;
}
