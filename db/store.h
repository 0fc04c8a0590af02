/* What every store call shares with its callers: outcomes (routes switch on
 * these, never on SQLSTATEs), nullable values, and rows kept as read. Nothing
 * here shows libpq: a PGresult stays inside db/. */
#ifndef STREAMQ_DB_STORE_H
#define STREAMQ_DB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db_pool;

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
    STORE_DAMAGED,     /* a file of the cold archive is missing or fails its checks */
};

/* How recent the answer of a read must be when a hot standby serves reads
 * (--read-database-url, db/standby.h); without one, every read is on the primary. */
enum db_recency {
    DB_RECENT_ANY,      /* up to --max-replica-lag-ms behind; a "not found" is asked again on the primary */
    DB_RECENT_IF_EMPTY, /* a reader that would park on nothing: an empty answer is asked again on the primary */
    DB_RECENT_NOW,      /* woken by a commit: read on the primary, where the commit is visible */
};

/* An integer (or a time in microseconds since the Unix epoch) from a column
 * that may be NULL. */
struct db_nullable {
    bool is_null;
    int64_t value;
};

/* JSON text as PostgreSQL prints a jsonb value the client sent (data,
 * metadata): passed through as it is, never re-parsed, so numbers keep every
 * digit. Borrowed from the rows read; `text` is NULL for SQL NULL. */
struct db_json {
    const char *text;
    size_t len;
};

/* Rows a store call read, kept as PostgreSQL returned them so that hot paths
 * copy nothing: each resource's accessor (db_events_at, ...) fills a struct of
 * values borrowed from them. Opaque outside db/. */
struct db_rows;

/* Releases `rows` and everything borrowed from them; accepts NULL. */
void db_rows_free(struct db_rows *rows);

/* Rows a store call read and how many, read through that call's accessor. */
struct db_list {
    struct db_rows *rows; /* owned: release with db_rows_free */
    int count;
};

/* A page cursor: "" when there is no next page. */
#define DB_CURSOR_LEN 24

/* A page of rows in the order of a sequence number (peeked messages, dead
 * letters), read through the accessor of its store call. */
struct db_seq_page {
    struct db_rows *rows; /* owned: release with db_rows_free */
    int count;
    char next_after[DB_CURSOR_LEN]; /* the cursor of the next page, or "" */
};

#endif
