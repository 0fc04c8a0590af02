/* Group commit for appends (db/batcher.h): the appends queued at one moment are
 * written with one call of append_batch() in one transaction and one commit,
 * each with its own outcome. */
#ifndef STREAMQ_DB_APPEND_GROUP_H
#define STREAMQ_DB_APPEND_GROUP_H

#include <stddef.h>

#include "db/batcher.h"
#include "db/events.h"

/* One append handed to the writers; the caller owns the memory and fills `in`. */
struct append_job {
    struct batch_job base;         /* base.outcome: as db/events.h describes it */
    const struct append_input *in; /* borrowed until done() */
    /* Set before done() is called (free with db_events_append_result_free). */
    struct append_result out;
};

/* The kind of batcher that writes appends (batcher_start). */
extern const struct batcher_kind db_append_kind;

/* Readies `job` (its `in` set) for batcher_submit on a batcher of db_append_kind. */
void db_append_prepare(struct append_job *job);

struct db_tx;
/* Writes the append of `job` (readied) as a statement of `tx`, with the same
 * outcomes as through the group commit; a failed statement fails `tx`. */
void db_append_in(struct db_tx *tx, struct append_job *job);

#endif
