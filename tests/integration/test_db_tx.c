/* db/tx.c against the real database: statements in a transaction commit
 * together, and a failure (a statement's error, or one the caller declares)
 * leaves nothing behind and skips what follows. The service started by the
 * harness has migrated a schema of its own; this suite opens a pool on it. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "db/pool.h"
#include "db/tx.h"
#include "harness.h"
#include "src/config.h"

static struct config cfg;
static struct db_pool *pool;

static const char *no_env(const char *name)
{
    return NULL; /* everything from argv; libpq still reads PG* itself */
}

static void open_pool(void)
{
    char *argv[] = {"streamq", "--schema", svc.schema, "--pool-min", "1", "--pool-max", "2", NULL};
    char err[256];
    ck_assert_int_eq(config_load(&cfg, 7, argv, no_env, err, sizeof err), CONFIG_OK);
    pool = db_pool_new(&cfg);
    ck_assert_ptr_nonnull(pool);
}

static void close_pool(void)
{
    db_pool_free(pool);
    config_free(&cfg);
}

/* Creates queue `name` with a visibility timeout of `vt` (text) inside `tx`. */
static enum store_outcome configure(struct db_tx *tx, const char *name, const char *vt)
{
    const char *params[] = {name, vt, NULL, NULL, NULL, "t", "f", "f", "f"};
    PGresult *res;
    enum store_outcome outcome = db_tx_exec(tx, STMT_QUEUES_CONFIGURE, 9, params, "test configure", &res);
    PQclear(res);
    return outcome;
}

static bool queue_exists(const char *name)
{
    const char *params[] = {name, "30", "5"};
    PGresult *res;
    ck_assert_int_eq(db_run(pool, STMT_QUEUES_META, 3, params, "test meta", &res), STORE_OK);
    bool found = PQntuples(res) == 1;
    PQclear(res);
    return found;
}

START_TEST(statements_commit_together)
{
    open_pool();
    char a[64], b[64];
    snprintf(a, sizeof a, "%s", unique_name("txa"));
    snprintf(b, sizeof b, "%s", unique_name("txb"));
    struct db_tx tx;
    ck_assert_int_eq(db_tx_begin(pool, &tx), STORE_OK);
    ck_assert_int_eq(configure(&tx, a, "10"), STORE_OK);
    ck_assert_int_eq(configure(&tx, b, "20"), STORE_OK);
    ck_assert(!queue_exists(a)); /* not visible to others before the commit */
    ck_assert_int_eq(db_tx_end(&tx), STORE_OK);
    ck_assert(queue_exists(a));
    ck_assert(queue_exists(b));
    close_pool();
}
END_TEST

START_TEST(a_failed_statement_rolls_back_and_skips_the_rest)
{
    open_pool();
    char a[64], b[64];
    snprintf(a, sizeof a, "%s", unique_name("txa"));
    snprintf(b, sizeof b, "%s", unique_name("txb"));
    struct db_tx tx;
    ck_assert_int_eq(db_tx_begin(pool, &tx), STORE_OK);
    ck_assert_int_eq(configure(&tx, a, "10"), STORE_OK);
    ck_assert_int_eq(configure(&tx, "bad", "not a number"), STORE_INVALID);
    ck_assert_int_eq(configure(&tx, b, "20"), STORE_INVALID); /* skipped, same outcome */
    ck_assert_int_eq(db_tx_end(&tx), STORE_INVALID);
    ck_assert(!queue_exists(a));
    ck_assert(!queue_exists(b));
    close_pool();
}
END_TEST

START_TEST(a_declared_failure_rolls_back)
{
    open_pool();
    char a[64];
    snprintf(a, sizeof a, "%s", unique_name("txa"));
    struct db_tx tx;
    ck_assert_int_eq(db_tx_begin(pool, &tx), STORE_OK);
    ck_assert_int_eq(configure(&tx, a, "10"), STORE_OK);
    db_tx_fail(&tx, STORE_NOT_FOUND);
    ck_assert_int_eq(db_tx_end(&tx), STORE_NOT_FOUND);
    ck_assert(!queue_exists(a));
    /* The connection went back clean: the next transaction works. */
    ck_assert_int_eq(db_tx_begin(pool, &tx), STORE_OK);
    ck_assert_int_eq(configure(&tx, a, "10"), STORE_OK);
    ck_assert_int_eq(db_tx_end(&tx), STORE_OK);
    ck_assert(queue_exists(a));
    close_pool();
}
END_TEST

static Suite *tx_suite(void)
{
    Suite *s = suite_create("db_tx");
    TCase *tc = tcase_create("db_tx");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, statements_commit_together);
    tcase_add_test(tc, a_failed_statement_rolls_back_and_skips_the_rest);
    tcase_add_test(tc, a_declared_failure_rolls_back);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_main(tx_suite(), NULL);
}
