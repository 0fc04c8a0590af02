/* Store calls for a queue's dead letters: list, redrive, delete. */
#ifndef STREAMQ_DB_DEAD_LETTERS_H
#define STREAMQ_DB_DEAD_LETTERS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "db/pool.h"
#include "db/queues.h"

/* Dead letters in the order they failed; cursors as for db_queues_peek. */
enum store_outcome db_dead_letters_list(struct db_pool *pool, const char *queue, const char *after, int64_t limit,
                                        cJSON **dead_letters, char next_after[DB_CURSOR_LEN]) MUST_CHECK;

/* Makes dead letters pending again with delivery_count 0. `ids_array` is a
 * PostgreSQL uuid[] literal of validated ids, or NULL for all of them. */
enum store_outcome db_dead_letters_redrive(struct db_pool *pool, const char *queue, const char *ids_array,
                                           int64_t *redriven) MUST_CHECK;

enum store_outcome db_dead_letters_delete(struct db_pool *pool, const char *queue, const char *id) MUST_CHECK;

#endif
