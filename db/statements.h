/* Every SQL statement streamq runs, by id. Each is prepared on every pooled
 * connection when it connects, with {p} replaced by the table prefix. */
#ifndef STREAMQ_DB_STATEMENTS_H
#define STREAMQ_DB_STATEMENTS_H

enum stmt_id {
    STMT_PING,
    /* events (db/events.c) */
    STMT_EVENTS_APPEND,
    STMT_EVENTS_READ_FORWARD,
    STMT_EVENTS_READ_BACKWARD,
    STMT_EVENTS_GET,
    STMT_EVENTS_GLOBAL_READ,
    /* streams (db/streams.c) */
    STMT_STREAMS_META,
    STMT_STREAMS_LIST,
    STMT_STREAMS_SET_RETENTION,
    STMT_STREAMS_SET_STATE,
    STMT_STREAMS_DELETE,
    STMT_COUNT_
};

struct statement {
    const char *name;
    const char *sql; /* {p} stands for the table prefix */
};

extern const struct statement statements[STMT_COUNT_];

/* Returns a new string: `sql` with every "{p}" replaced by `prefix`. */
char *statements_expand(const char *sql, const char *prefix);

#endif
