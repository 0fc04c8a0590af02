/* Calls sent at once; see group_calls.h. */
#include "group_calls.h"

#include <check.h>
#include <stdio.h>
#include <unistd.h>

static void *call_main(void *arg)
{
    struct call *c = arg;
    c->r = http(c->sp ? c->sp : &svc, "POST", c->path, c->body, NULL);
    return NULL;
}

struct call *group_add_call(struct call *calls, int *n, const char *path, const char *body)
{
    ck_assert_int_lt(*n, GROUP_MAX_CALLS);
    struct call *c = &calls[(*n)++];
    c->sp = NULL;
    c->r = NULL;
    snprintf(c->path, sizeof c->path, "%s", path);
    snprintf(c->body, sizeof c->body, "%s", body);
    return c;
}

void group_send(struct call *c)
{
    pthread_create(&c->thread, NULL, call_main, c);
}

void group_join(struct call *calls, int first, int n)
{
    for (int i = first; i < n; i++)
        pthread_join(calls[i].thread, NULL);
}

void group_free(struct call *calls, int n)
{
    for (int i = 0; i < n; i++)
        response_free(calls[i].r);
}

long long group_send_behind(const char *waiting_sql, struct call *calls, int n)
{
    group_send(&calls[0]);
    long long waiting = 0;
    for (int i = 0; i < 500 && (waiting = sql_value(waiting_sql)) == 0; i++)
        usleep(10 * 1000);
    ck_assert_int_ge(waiting, 1);
    for (int i = 1; i < n; i++)
        group_send(&calls[i]);
    sleep(1);
    return waiting;
}

PGconn *group_session(void)
{
    PGconn *pg = PQconnectdb(test_database_conninfo());
    ck_assert_int_eq(PQstatus(pg), CONNECTION_OK);
    return pg;
}

void group_exec_ok(PGconn *pg, const char *sql)
{
    PGresult *res = PQexec(pg, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK, "%s: %s", sql,
                  PQresultErrorMessage(res));
    PQclear(res);
}
