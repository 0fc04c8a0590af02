/* Group commit for appends: requests that arrive while others are being
 * written wait briefly and are then written together, in one transaction and
 * one commit (append_batch() in the schema), each with its own outcome. */
#ifndef STREAMQ_DB_APPEND_GROUP_H
#define STREAMQ_DB_APPEND_GROUP_H

#include "db/events.h"

/* Same contract as db_events_append; blocks the calling thread until its append
 * has been written (alone or with others). Any thread. */
enum store_outcome db_append_group(struct db_pool *pool, const struct append_input *in, struct append_result *out,
                                   int max_writers) MUST_CHECK;

#endif
