/* The v1 fixture of the upgrade suite (test_upgrade.c): tests/fixtures/schema_v1.sql,
 * a database that the v1 binary wrote (tests/fixtures/make_schema_v1.sh), and
 * tests/fixtures/schema_v1.expect, what v1 answered over HTTP then. Loads the
 * expectations, restores the dump into this cluster, and compares the new
 * binary's answers with v1's.
 *
 * Two things the fixture cannot carry are put back before the binary starts,
 * as they would be in a real upgrade (same cluster, shortly after the last v1
 * write): every stored timestamp is moved by the fixture's age in whole
 * seconds, so that the 12-hour lease and delay are as long as v1 left them
 * (answers are compared with v1's timestamps moved by the same seconds); and
 * this cluster's transaction ids are advanced past those of the fixture's
 * cluster, since global positions are made from them. */
#ifndef STREAMQ_TEST_UPGRADE_FIXTURE_H
#define STREAMQ_TEST_UPGRADE_FIXTURE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/* Reads and parses schema_v1.expect; false (with a message) on failure. */
bool upgrade_fixture_load(void);
/* Restores the fixture as a schema of its own (upgrade_schema()), moves its
 * timestamps, and advances this cluster's transaction ids past the fixture's.
 * Needs upgrade_fixture_load(). False (with a message) on failure. */
bool upgrade_fixture_restore(void);
/* The schema the fixture was restored as. */
const char *upgrade_schema(void);
/* Frees what upgrade_fixture_load() read. */
void upgrade_fixture_free(void);

/* Member `key` of section `section` of the expectations (the section itself
 * when `key` is NULL), asserted present. */
const cJSON *upgrade_expected(const char *section, const char *key);
/* What v1 answered to GET `path`. */
const cJSON *upgrade_v1_get(const char *path);
/* The largest global position v1 served, asserted known. */
long long upgrade_v1_max_position(void);

/* v1's timestamp `ts` moved by the restore's shift, in a rotating static buffer
 * (valid for the next three calls). */
const char *upgrade_shifted(const char *ts);
/* `now` holds every member of v1's `old` with the same value (timestamps moved
 * by the shift); arrays have the same items in the same order. New members are
 * allowed: the new binary may say more. Members whose value depends on when
 * they are read are skipped. `where` names `now` in failure messages. */
void upgrade_expect_same(const char *where, const cJSON *old, const cJSON *now);
/* `now` equals the JSON text `want` (numbers as doubles: see the raw checks). */
void upgrade_expect_json_value(const char *where, const cJSON *now, const char *want);

#endif
