/* Outcomes of store calls: routes switch on these, never on SQLSTATEs. */
#ifndef STREAMQ_DB_STORE_H
#define STREAMQ_DB_STORE_H

enum store_outcome {
    STORE_OK,
    STORE_CREATED, /* something new was written */
    STORE_NOT_FOUND,
    STORE_VERSION_CONFLICT,
    STORE_DUPLICATE,
    STORE_ARCHIVED,
    STORE_STALE,       /* a receipt that no longer holds the lease */
    STORE_FULL,        /* a queue at its max_depth */
    STORE_INVALID,     /* PostgreSQL refused the data (e.g. \u0000 in jsonb) */
    STORE_UNAVAILABLE, /* no connection in time, lost link, timeout */
    STORE_ERROR,       /* anything else; logged where found */
};

#endif
