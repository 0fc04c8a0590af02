/* LISTEN connection; see listen.h. */
#include "db/listen.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "src/core/util.h"

struct db_listener {
    PGconn *pg;
};

void db_notify_channel(const struct config *cfg, char out[DB_CHANNEL_LEN + 1])
{
    /* Schema and prefix are identifiers checked at start-up (a-z, 0-9, _). */
    snprintf(out, DB_CHANNEL_LEN + 1, "streamq.%s.%s", cfg->schema, cfg->table_prefix);
}

struct db_listener *db_listener_open(const struct config *cfg, char *err, size_t errlen)
{
    PGconn *pg = db_connect(cfg, err, errlen);
    if (!pg)
        return NULL;
    char channel[DB_CHANNEL_LEN + 1];
    db_notify_channel(cfg, channel);
    char *quoted = PQescapeIdentifier(pg, channel, strlen(channel));
    char sql[2 * DB_CHANNEL_LEN + 16];
    snprintf(sql, sizeof sql, "LISTEN %s", quoted ? quoted : "\"\"");
    PQfreemem(quoted);
    PGresult *res = PQexec(pg, sql);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) {
        const char *msg = PQresultErrorMessage(res);
        snprintf(err, errlen, "LISTEN failed: %.*s", (int)strcspn(msg, "\n"), msg);
    }
    PQclear(res);
    if (!ok || PQsetnonblocking(pg, 1) != 0) {
        PQfinish(pg);
        return NULL;
    }
    struct db_listener *l = xcalloc(1, sizeof *l);
    l->pg = pg;
    return l;
}

int db_listener_fd(const struct db_listener *l)
{
    return PQsocket(l->pg);
}

bool db_listener_drain(struct db_listener *l, void (*fn)(const char *payload, void *arg), void *arg)
{
    if (!PQconsumeInput(l->pg) || PQstatus(l->pg) != CONNECTION_OK)
        return false;
    PGnotify *n;
    while ((n = PQnotifies(l->pg)) != NULL) {
        fn(n->extra, arg);
        PQfreemem(n);
    }
    return true;
}

void db_listener_close(struct db_listener *l)
{
    if (!l)
        return;
    PQfinish(l->pg);
    free(l);
}
