/* Every SQL statement streamq runs, by id. Each is prepared on every pooled
 * connection when it connects, with {p} replaced by the table prefix. */
#ifndef STREAMQ_DB_STATEMENTS_H
#define STREAMQ_DB_STATEMENTS_H

#include <stdbool.h>

enum stmt_id {
    STMT_PING,
    STMT_TX_BEGIN,
    STMT_TX_COMMIT,
    STMT_TX_SAVEPOINT,
    STMT_TX_RELEASE,
    STMT_TX_ROLLBACK_TO,
    /* events (db/events.c) */
    STMT_EVENTS_APPEND,
    STMT_EVENTS_READ_FORWARD,
    STMT_EVENTS_READ_BACKWARD,
    STMT_EVENTS_GET,
    STMT_EVENTS_GLOBAL_READ,
    STMT_EVENTS_EXPORT_FORWARD,
    STMT_EVENTS_EXPORT_BACKWARD,
    STMT_EVENTS_STREAM_EXISTS,
    /* consumer groups (db/consumers.c) */
    STMT_CONSUMERS_COMMIT,
    STMT_CONSUMERS_GET,
    STMT_CONSUMERS_LIST,
    STMT_CONSUMERS_DELETE,
    STMT_CONSUMERS_READ,
    /* webhooks (db/webhooks.c) */
    STMT_WEBHOOKS_PUT,
    STMT_WEBHOOKS_GET,
    STMT_WEBHOOKS_LIST,
    STMT_WEBHOOKS_SET_PAUSED,
    STMT_WEBHOOKS_SET_POSITION,
    STMT_WEBHOOKS_DELETE,
    /* webhook delivery (db/webhook_delivery.c) */
    STMT_DELIVERY_CLAIM,
    STMT_DELIVERY_UNLOCK,
    STMT_DELIVERY_BEGIN,
    STMT_DELIVERY_SUCCEEDED,
    STMT_DELIVERY_FAILED,
    STMT_DELIVERY_IDLE,
    /* streams (db/streams.c) */
    STMT_STREAMS_META,
    STMT_STREAMS_LIST,
    STMT_STREAMS_SET_RETENTION,
    STMT_STREAMS_SET_STATE,
    STMT_STREAMS_DELETE,
    /* queues (db/queues.c) */
    STMT_QUEUES_META,
    STMT_QUEUES_LIST,
    STMT_QUEUES_CONFIGURE,
    STMT_QUEUES_DEAD_LETTER_SPENT,
    STMT_QUEUES_PURGE,
    STMT_QUEUES_DELETE,
    STMT_QUEUES_PEEK,
    STMT_QUEUES_DEPTHS,
    /* messages (db/messages.c) */
    STMT_MESSAGES_ENQUEUE,
    STMT_MESSAGES_DEPTH_LOCK,
    STMT_MESSAGES_NACK,
    STMT_MESSAGES_VISIBILITY,
    STMT_MESSAGES_SWEEP,
    /* queue group commit (db/queue_group.c) */
    STMT_QUEUE_GROUP_ENQUEUE,
    STMT_QUEUE_GROUP_DEQUEUE,
    STMT_QUEUE_GROUP_ACK,
    /* dead letters (db/dead_letters.c) */
    STMT_DEAD_LETTERS_LIST,
    STMT_DEAD_LETTERS_REDRIVE,
    STMT_DEAD_LETTERS_DELETE,

    STMT_RETENTION_CANDIDATES,
    STMT_RETENTION_TRIM,
    STMT_RETENTION_DEAD_LETTERS,
    /* the standby's lag (db/standby.c) */
    STMT_STANDBY_PRIMARY_WAL,
    STMT_STANDBY_REPLAYED,
    /* transactions (db/transactions.c) */
    STMT_TRANSACTIONS_LOCK,
    STMT_TRANSACTIONS_FIND,
    STMT_TRANSACTIONS_STORE,
    STMT_TRANSACTIONS_EXPIRE,
    /* the cold archive (db/archive.c, db/archive_read.c) */
    STMT_ARCHIVE_LOCK,
    STMT_ARCHIVE_DUE,
    STMT_ARCHIVE_DELETE,
    STMT_ARCHIVE_STREAM,
    STMT_COUNT_
};

struct statement {
    const char *name;
    const char *sql; /* {p} stands for the table prefix */
    bool binary;     /* results in binary format, decoded by the statement's store file */
};

extern const struct statement statements[STMT_COUNT_];

/* Returns a new string: `sql` with every "{p}" replaced by `prefix`. */
char *statements_expand(const char *sql, const char *prefix);

#endif
