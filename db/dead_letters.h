/* Store calls for a queue's dead letters: list, redrive, delete. Listed dead
 * letters are lent from the rows read (db_dead_letters_at); routes/dead_letters.c
 * renders them. */
#ifndef STREAMQ_DB_DEAD_LETTERS_H
#define STREAMQ_DB_DEAD_LETTERS_H

#include <stddef.h>
#include <stdint.h>

#include "db/store.h"
#include "src/core/util.h"

/* A dead letter; strings are borrowed from the page. */
struct dead_letter {
    const char *id, *type;
    struct db_json data, metadata; /* metadata: text NULL when there is none */
    int64_t enqueued_us, failed_us, delivery_count;
    const char *reason;
};

/* Dead letters in the order they failed; cursors as for db_queues_peek. */
enum store_outcome db_dead_letters_list(struct db_pool *pool, const char *queue, const char *after, int64_t limit,
                                        struct db_seq_page *out) MUST_CHECK;
/* Dead letter `i` of a page from db_dead_letters_list (0 <= i < page->count);
 * its strings are valid until the rows are freed. */
void db_dead_letters_at(const struct db_seq_page *page, int i, struct dead_letter *out);

/* Makes dead letters pending again with delivery_count 0. `ids_array` is a
 * PostgreSQL uuid[] literal of validated ids, or NULL for all of them. */
enum store_outcome db_dead_letters_redrive(struct db_pool *pool, const char *queue, const char *ids_array,
                                           int64_t *redriven) MUST_CHECK;

enum store_outcome db_dead_letters_delete(struct db_pool *pool, const char *queue, const char *id) MUST_CHECK;

#endif
