/* The statement table; see statements.h. SQL for a resource is grouped with
 * the store file that runs it. */
#include "db/statements.h"

#include <string.h>

#include "src/core/util.h"

/* Statements select plain columns (text, numbers, booleans, jsonb as its text,
 * times as microseconds since the Unix epoch); routes/ renders the API's JSON
 * from them. The schema's stream_json() and queue_json() are no longer called:
 * they stay in schema/001_initial.sql, unused, rather than cost a migration. */

/* The columns db/webhooks.c reads a webhook from (after one leading column),
 * for a webhooks row aliased w. */
#define WEBHOOK_COLUMNS                                                                                                \
    "w.name, w.url, w.stream, w.stream_prefix, to_json(w.types)::text, w.position, w.max_batch, w.paused,"             \
    " w.consecutive_failures, (extract(epoch FROM w.last_delivery_at) * 1000000)::bigint, w.last_error,"               \
    " (extract(epoch FROM w.next_attempt_at) * 1000000)::bigint"

/* The SQL is laid out by hand, one clause per line. */
/* clang-format off */

/* A timestamptz as microseconds since the Unix epoch (NULL stays NULL). */
#define EPOCH_US(t) "(extract(epoch FROM " t ") * 1000000)::bigint"

/* The columns db/events.c reads an event from, for an events row aliased e. */
#define EVENT_COLUMNS \
    "e.event_id::text, e.stream, e.stream_offset, e.global_position, e.event_type, e.data::text," \
    " e.metadata::text, " EPOCH_US("e.created_at")

/* The columns db/queues.c reads queue metadata from, for a queues row aliased q
 * joined with QUEUE_COUNTS; `vt` and `attempts` are the parameters holding the
 * service's defaults for queues that set none. The age is in milliseconds, as
 * the API rounds it (NULL when nothing is pending). */
#define QUEUE_COLUMNS(vt, attempts) \
    "q.name, c.pending, c.in_flight, c.total - c.pending - c.in_flight," \
    " (SELECT count(*) FROM {p}dead_letter_queue d WHERE d.queue = q.name)," \
    " (round(extract(epoch FROM now() - c.oldest)::numeric, 3) * 1000)::bigint," \
    " coalesce(q.visibility_timeout, " vt "::int), coalesce(q.max_delivery_attempts, " attempts "::int)," \
    " q.retention_seconds, q.max_depth, " EPOCH_US("q.expired_through") ", " EPOCH_US("q.expired_at") "," \
    " " EPOCH_US("q.dead_letters_deleted_through") ", " EPOCH_US("q.dead_letters_deleted_at")
#define QUEUE_COUNTS \
    " CROSS JOIN LATERAL (" \
    "   SELECT count(*) AS total, count(*) FILTER (WHERE m.visible_at <= now()) AS pending," \
    "          min(m.enqueued_at) FILTER (WHERE m.visible_at <= now()) AS oldest," \
    "          count(*) FILTER (WHERE " LEASE_HELD("m") ") AS in_flight" \
    "     FROM {p}queue_events m WHERE m.queue = q.name) c"

/* Whether queue_events row `m` is leased now: a lease is on the row from a
 * dequeue until its ack, nack or the sweeper, and held until visible_at. */
#define LEASE_HELD(m) m ".receipt IS NOT NULL AND " m ".visible_at > now()"

/* Moving the queue_events rows named by CTE `src` (queue, message_id), locked
 * by the statement, to the dead letters: DEAD_LETTER_ROWS deletes them (as CTE
 * `gone`), DEAD_LETTER_INSERT writes them with `reason`. */
#define DEAD_LETTER_ROWS(src) \
    "DELETE FROM {p}queue_events m USING " src \
    " WHERE m.queue = " src ".queue AND m.message_id = " src ".message_id RETURNING m.*"
#define DEAD_LETTER_INSERT(reason) \
    "INSERT INTO {p}dead_letter_queue (queue, message_id, message_type, data, metadata, enqueued_at," \
    "                                  delivery_count, reason)" \
    " SELECT g.queue, g.message_id, g.message_type, g.data, g.metadata, g.enqueued_at, g.delivery_count, " reason \
    "   FROM gone g ORDER BY g.seq" \
    " ON CONFLICT (queue, message_id) DO NOTHING"

/* The columns db/streams.c reads stream metadata from, for a stream_metadata row aliased m. */
#define STREAM_COLUMNS \
    "m.stream, m.version, m.length, m.first_offset, m.last_offset, " EPOCH_US("m.created_at") "," \
    " " EPOCH_US("m.last_event_at") ", m.state, m.max_age_seconds, m.max_count, m.has_policy," \
    " m.trimmed_through, " EPOCH_US("m.trimmed_at")

const struct statement statements[STMT_COUNT_] = {
    [STMT_PING] = {"ping", "SELECT 1"},
    [STMT_TX_BEGIN] = {"tx_begin", "BEGIN"},
    [STMT_TX_COMMIT] = {"tx_commit", "COMMIT"},
    [STMT_TX_SAVEPOINT] = {"tx_savepoint", "SAVEPOINT part"},
    [STMT_TX_RELEASE] = {"tx_release", "RELEASE SAVEPOINT part"},
    [STMT_TX_ROLLBACK_TO] = {"tx_rollback_to", "ROLLBACK TO SAVEPOINT part"},

    /* Parallel arrays, one element per append (db/append_group.c). */
    [STMT_EVENTS_APPEND] = {"events_append",
        "SELECT request, outcome, current_version, event_id, stream_offset, global_position"
        "  FROM {p}append_batch($1::text[], $2::text[], $3::boolean[], $4::jsonb[])"},
    /* One row per event after the stream's version and first retained offset;
     * no row at all when the stream does not exist. */
    [STMT_EVENTS_READ_FORWARD] = {"events_read_forward",
        "SELECT s.version, s.first_offset, " EVENT_COLUMNS
        "  FROM {p}streams s"
        "  LEFT JOIN LATERAL ("
        "    SELECT ev.* FROM {p}events ev"
        "     WHERE ev.stream = $1 AND ev.stream_offset >= $2"
        "       AND ($3::text IS NULL OR ev.event_type = ANY (string_to_array($3, ',')))"
        "       AND ($4::timestamptz IS NULL OR ev.created_at >= $4)"
        "       AND ($5::timestamptz IS NULL OR ev.created_at < $5)"
        "     ORDER BY ev.stream_offset LIMIT $6) e ON true"
        " WHERE s.name = $1"
        " ORDER BY e.stream_offset"},
    [STMT_EVENTS_READ_BACKWARD] = {"events_read_backward",
        "SELECT s.version, s.first_offset, " EVENT_COLUMNS
        "  FROM {p}streams s"
        "  LEFT JOIN LATERAL ("
        "    SELECT ev.* FROM {p}events ev"
        "     WHERE ev.stream = $1 AND ev.stream_offset <= $2"
        "       AND ($3::text IS NULL OR ev.event_type = ANY (string_to_array($3, ',')))"
        "       AND ($4::timestamptz IS NULL OR ev.created_at >= $4)"
        "       AND ($5::timestamptz IS NULL OR ev.created_at < $5)"
        "     ORDER BY ev.stream_offset DESC LIMIT $6) e ON true"
        " WHERE s.name = $1"
        " ORDER BY e.stream_offset DESC"},
    [STMT_EVENTS_GET] = {"events_get",
        "SELECT EXISTS (SELECT 1 FROM {p}streams WHERE name = $1), " EVENT_COLUMNS
        "  FROM (SELECT 1) one LEFT JOIN {p}events e ON e.stream = $1 AND e.stream_offset = $2"},
    /* The global read only returns positions below the oldest transaction still
     * running (its xid << 12): every transaction that could still commit an event
     * there has finished, so nothing can appear behind a reader later. */
    [STMT_EVENTS_GLOBAL_READ] = {"events_global_read",
        "SELECT w.below, " EVENT_COLUMNS
        "  FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 12 AS below) w"
        "  LEFT JOIN LATERAL ("
        "    SELECT ev.* FROM {p}events ev"
        "     WHERE ev.global_position > $1 AND ev.global_position < w.below"
        "       AND ($3::text IS NULL OR ev.event_type = ANY (string_to_array($3, ',')))"
        "       AND ($4::text IS NULL OR starts_with(ev.stream, $4))"
        "     ORDER BY ev.global_position LIMIT $2) e ON true"
        " ORDER BY e.global_position"},

    /* A page of an NDJSON export: the event columns alone, in binary (PostgreSQL
     * then prints no number, uuid or time; only the jsonb is text) and without
     * the stream row of the page reads, whose join made PostgreSQL sort each
     * page. A page with no row asks STMT_EVENTS_STREAM_EXISTS which end it is. */
    [STMT_EVENTS_EXPORT_FORWARD] = {"events_export_forward",
        "SELECT e.event_id, e.stream_offset, e.global_position, e.event_type, e.data, e.metadata, e.created_at"
        "  FROM {p}events e"
        " WHERE e.stream = $1 AND e.stream_offset >= $2"
        "   AND ($3::text IS NULL OR e.event_type = ANY (string_to_array($3, ',')))"
        "   AND ($4::timestamptz IS NULL OR e.created_at >= $4)"
        "   AND ($5::timestamptz IS NULL OR e.created_at < $5)"
        " ORDER BY e.stream_offset LIMIT $6", .binary = true},
    [STMT_EVENTS_EXPORT_BACKWARD] = {"events_export_backward",
        "SELECT e.event_id, e.stream_offset, e.global_position, e.event_type, e.data, e.metadata, e.created_at"
        "  FROM {p}events e"
        " WHERE e.stream = $1 AND e.stream_offset <= $2"
        "   AND ($3::text IS NULL OR e.event_type = ANY (string_to_array($3, ',')))"
        "   AND ($4::timestamptz IS NULL OR e.created_at >= $4)"
        "   AND ($5::timestamptz IS NULL OR e.created_at < $5)"
        " ORDER BY e.stream_offset DESC LIMIT $6", .binary = true},
    [STMT_EVENTS_STREAM_EXISTS] = {"events_stream_exists",
        "SELECT EXISTS (SELECT 1 FROM {p}streams WHERE name = $1)"},

    /* Commits a group's offset in one statement. No row from `up` means it was
     * refused: the stream is missing ($1 NULL version), the offset is past
     * version + 1, or it moves backwards without force; the caller tells which
     * from the columns. The DO UPDATE condition is checked against the locked row,
     * so two racing commits cannot move a group backwards. */
    [STMT_CONSUMERS_COMMIT] = {"consumers_commit",
        "WITH s AS (SELECT version, first_offset FROM {p}streams WHERE name = $1),"
        " old AS (SELECT c.\"offset\" FROM {p}consumer_offsets c WHERE c.stream = $1 AND c.group_name = $2),"
        " up AS ("
        "   INSERT INTO {p}consumer_offsets AS c (stream, group_name, \"offset\")"
        "   SELECT $1, $2, $3::bigint FROM s WHERE $3::bigint <= s.version + 1"
        "   ON CONFLICT (stream, group_name) DO UPDATE SET \"offset\" = excluded.\"offset\", updated_at = now()"
        "     WHERE $4::boolean OR c.\"offset\" <= excluded.\"offset\""
        "   RETURNING c.\"offset\", c.updated_at)"
        " SELECT (SELECT version FROM s), (SELECT \"offset\" FROM old), up.\"offset\","
        "        (extract(epoch FROM up.updated_at) * 1000000)::bigint, (SELECT first_offset FROM s)"
        "   FROM (SELECT 1) one LEFT JOIN up ON true"},
    [STMT_CONSUMERS_GET] = {"consumers_get",
        "SELECT s.version, c.\"offset\", (extract(epoch FROM c.updated_at) * 1000000)::bigint, s.first_offset"
        "  FROM {p}streams s"
        "  LEFT JOIN {p}consumer_offsets c ON c.stream = s.name AND c.group_name = $2"
        " WHERE s.name = $1"},
    /* Every group of the stream by name; one row with NULLs when it has none. */
    [STMT_CONSUMERS_LIST] = {"consumers_list",
        "SELECT s.version, c.group_name, c.\"offset\", (extract(epoch FROM c.updated_at) * 1000000)::bigint,"
        "       s.first_offset"
        "  FROM {p}streams s"
        "  LEFT JOIN {p}consumer_offsets c ON c.stream = s.name"
        " WHERE s.name = $1"
        " ORDER BY c.group_name COLLATE \"C\""},
    /* The stream read from the group's committed offset (the stream's start when
     * it never committed, its first retained offset when retention trimmed past
     * it); that offset is the third column, the committed one the fourth. */
    [STMT_CONSUMERS_READ] = {"consumers_read",
        "SELECT s.version, s.first_offset, g.from_offset, g.committed, " EVENT_COLUMNS
        "  FROM {p}streams s"
        " CROSS JOIN LATERAL (SELECT coalesce((SELECT c.\"offset\" FROM {p}consumer_offsets c"
        "                                       WHERE c.stream = $1 AND c.group_name = $2), 0) AS committed) c0"
        " CROSS JOIN LATERAL (SELECT c0.committed, greatest(c0.committed, s.first_offset) AS from_offset) g"
        "  LEFT JOIN LATERAL ("
        "    SELECT ev.* FROM {p}events ev"
        "     WHERE ev.stream = $1 AND ev.stream_offset >= g.from_offset"
        "       AND ($3::text IS NULL OR ev.event_type = ANY (string_to_array($3, ',')))"
        "     ORDER BY ev.stream_offset LIMIT $4) e ON true"
        " WHERE s.name = $1"
        " ORDER BY e.stream_offset"},
    [STMT_CONSUMERS_DELETE] = {"consumers_delete",
        "WITH gone AS (DELETE FROM {p}consumer_offsets WHERE stream = $1 AND group_name = $2 RETURNING 1)"
        " SELECT EXISTS (SELECT 1 FROM {p}streams WHERE name = $1), (SELECT count(*) FROM gone)"},

    /* $6 is "start", "end", a position, or NULL (absent: "end" for a new webhook;
     * an update keeps its position unless it now follows something else). The
     * end of the global order is the last position below the watermark of the
     * global read: no event can still commit below it. */
    [STMT_WEBHOOKS_PUT] = {"webhooks_put",
        "WITH p AS (SELECT CASE coalesce($6, 'end')"
        "    WHEN 'start' THEN 0"
        "    WHEN 'end' THEN CASE WHEN $3::text IS NOT NULL"
        "        THEN coalesce((SELECT version + 1 FROM {p}streams WHERE name = $3), 0)"
        "        ELSE coalesce((SELECT max(global_position) FROM {p}events"
        "                        WHERE global_position < pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 12), 0)"
        "        END"
        "    ELSE $6::bigint END AS position)"
        " INSERT INTO {p}webhooks AS w (name, url, stream, stream_prefix, types, position, max_batch, secret)"
        " SELECT $1, $2, $3, $4, CASE WHEN $5::jsonb IS NULL THEN NULL"
        "                             ELSE ARRAY(SELECT jsonb_array_elements_text($5::jsonb)) END,"
        "        p.position, $7::int, coalesce($8, $9) FROM p"
        " ON CONFLICT (name) DO UPDATE SET url = excluded.url, stream = excluded.stream,"
        "   stream_prefix = excluded.stream_prefix, types = excluded.types, max_batch = excluded.max_batch,"
        "   secret = CASE WHEN $8::text IS NULL THEN w.secret ELSE excluded.secret END,"
        "   position = CASE WHEN $6::text IS NULL AND w.stream IS NOT DISTINCT FROM excluded.stream"
        "                    AND w.stream_prefix IS NOT DISTINCT FROM excluded.stream_prefix"
        "                   THEN w.position ELSE excluded.position END,"
        "   delivery_id = NULL, delivery_end = NULL, consecutive_failures = 0, last_error = NULL,"
        "   next_attempt_at = now(), updated_at = now()"
        " RETURNING (xmax = 0), " WEBHOOK_COLUMNS},
    [STMT_WEBHOOKS_GET] = {"webhooks_get", "SELECT true, " WEBHOOK_COLUMNS " FROM {p}webhooks w WHERE w.name = $1"},
    [STMT_WEBHOOKS_LIST] = {"webhooks_list",
        "SELECT true, " WEBHOOK_COLUMNS " FROM {p}webhooks w"
        " WHERE ($1::text IS NULL OR starts_with(w.name, $1))"
        "   AND ($2::text IS NULL OR w.name > $2)"
        " ORDER BY w.name LIMIT $3 + 1"},
    [STMT_WEBHOOKS_SET_PAUSED] = {"webhooks_set_paused",
        "UPDATE {p}webhooks w SET paused = $2, next_attempt_at = now(), updated_at = now()"
        " WHERE w.name = $1 RETURNING true, " WEBHOOK_COLUMNS},
    [STMT_WEBHOOKS_SET_POSITION] = {"webhooks_set_position",
        "UPDATE {p}webhooks w SET position = $2, delivery_id = NULL, delivery_end = NULL,"
        "   consecutive_failures = 0, last_error = NULL, next_attempt_at = now(), updated_at = now()"
        " WHERE w.name = $1 RETURNING true, " WEBHOOK_COLUMNS},
    [STMT_WEBHOOKS_DELETE] = {"webhooks_delete", "DELETE FROM {p}webhooks WHERE name = $1 RETURNING 1"},

    /* Run on the dispatcher's link: the subquery's LIMIT bounds the rows whose
     * lock is tried, so no lock is taken for a row that is not returned. The
     * lock key names the schema too: webhooks of two schemas never collide. */
    [STMT_DELIVERY_CLAIM] = {"delivery_claim",
        "SELECT true, " WEBHOOK_COLUMNS ", w.secret, coalesce(w.delivery_id::text, ''), coalesce(w.delivery_end, -1)"
        "  FROM (SELECT * FROM {p}webhooks c"
        "         WHERE NOT c.paused AND (c.next_attempt_at <= now()"
        "                OR ($3::boolean AND c.delivery_id IS NULL AND c.consecutive_failures = 0))"
        "           AND c.name NOT IN (SELECT jsonb_array_elements_text($1::jsonb))"
        "         ORDER BY c.next_attempt_at LIMIT $2) w"
        " WHERE pg_try_advisory_lock(1936028019, hashtext(current_schema() || '.' || w.name))"},
    [STMT_DELIVERY_UNLOCK] = {"delivery_unlock",
        "SELECT pg_advisory_unlock(1936028019, hashtext(current_schema() || '.' || $1))"},
    [STMT_DELIVERY_BEGIN] = {"delivery_begin",
        "UPDATE {p}webhooks SET delivery_id = gen_random_uuid(), delivery_end = $2"
        " WHERE name = $1 RETURNING delivery_id::text"},
    [STMT_DELIVERY_SUCCEEDED] = {"delivery_succeeded",
        "UPDATE {p}webhooks SET position = delivery_end, delivery_id = NULL, delivery_end = NULL,"
        "   consecutive_failures = 0, last_error = NULL, last_delivery_at = now(), next_attempt_at = now()"
        " WHERE name = $1 AND delivery_id = $2::uuid"},
    [STMT_DELIVERY_FAILED] = {"delivery_failed",
        "UPDATE {p}webhooks SET consecutive_failures = consecutive_failures + 1, last_error = $3,"
        "   next_attempt_at = now() + $4::bigint * interval '1 millisecond'"
        " WHERE name = $1 AND delivery_id = $2::uuid"},
    /* $4: the position the dispatcher started from; a rewind through the API meanwhile wins. */
    [STMT_DELIVERY_IDLE] = {"delivery_idle",
        "UPDATE {p}webhooks SET position = $2, next_attempt_at = now() + $3::bigint * interval '1 millisecond'"
        " WHERE name = $1 AND position = $4 AND delivery_id IS NULL"},

    [STMT_STREAMS_META] = {"streams_meta",
        "SELECT " STREAM_COLUMNS " FROM {p}stream_metadata m WHERE m.stream = $1"},
    [STMT_STREAMS_LIST] = {"streams_list",
        "SELECT " STREAM_COLUMNS " FROM {p}stream_metadata m"
        " WHERE ($1::text IS NULL OR starts_with(m.stream, $1))"
        "   AND ($2::text IS NULL OR m.stream > $2)"
        " ORDER BY m.stream LIMIT $3 + 1"},
    /* $4/$5 say whether max_age_seconds/max_count were given; absent ones keep their value. */
    [STMT_STREAMS_SET_RETENTION] = {"streams_set_retention",
        "INSERT INTO {p}retention_policies AS r (stream, max_age_seconds, max_count)"
        " SELECT name, $2::bigint, $3::bigint FROM {p}streams WHERE name = $1"
        " ON CONFLICT (stream) DO UPDATE SET"
        "   max_age_seconds = CASE WHEN $4::boolean THEN excluded.max_age_seconds ELSE r.max_age_seconds END,"
        "   max_count = CASE WHEN $5::boolean THEN excluded.max_count ELSE r.max_count END,"
        "   updated_at = now()"
        " RETURNING stream"},
    [STMT_STREAMS_SET_STATE] = {"streams_set_state",
        "UPDATE {p}streams SET state = $2 WHERE name = $1 RETURNING name"},
    [STMT_STREAMS_DELETE] = {"streams_delete", "SELECT {p}delete_stream($1)"},

    /* $2/$3 (and $4/$5 in the list) are the service's default visibility timeout
     * and delivery attempts, for queues that set none. */
    [STMT_QUEUES_META] = {"queues_meta",
        "SELECT " QUEUE_COLUMNS("$2", "$3") " FROM {p}queues q" QUEUE_COUNTS " WHERE q.name = $1"},
    [STMT_QUEUES_LIST] = {"queues_list",
        "SELECT " QUEUE_COLUMNS("$4", "$5") " FROM {p}queues q" QUEUE_COUNTS
        " WHERE ($1::text IS NULL OR starts_with(q.name, $1))"
        "   AND ($2::text IS NULL OR q.name > $2)"
        " ORDER BY q.name LIMIT $3 + 1"},
    /* $6..$9 say which of $2..$5 were given; absent ones keep their value. */
    [STMT_QUEUES_CONFIGURE] = {"queues_configure",
        "INSERT INTO {p}queues AS q (name, visibility_timeout, max_delivery_attempts, retention_seconds, max_depth)"
        " VALUES ($1, $2::int, $3::int, coalesce($4::int, 1209600), $5::bigint)"
        " ON CONFLICT (name) DO UPDATE SET"
        "   visibility_timeout = CASE WHEN $6::boolean THEN excluded.visibility_timeout ELSE q.visibility_timeout END,"
        "   max_delivery_attempts = CASE WHEN $7::boolean THEN excluded.max_delivery_attempts"
        "                           ELSE q.max_delivery_attempts END,"
        "   retention_seconds = CASE WHEN $8::boolean THEN excluded.retention_seconds ELSE q.retention_seconds END,"
        "   max_depth = CASE WHEN $9::boolean THEN excluded.max_depth ELSE q.max_depth END"
        " RETURNING q.name"},
    /* After max_delivery_attempts is lowered, messages not leased that have used up
     * the new allowance would never be delivered again: dead-letter them now. A
     * leased one goes when its lease ends (sweeper) or it is nacked. */
    [STMT_QUEUES_DEAD_LETTER_SPENT] = {"queues_dead_letter_spent",
        "WITH spent AS ("
        "  SELECT m.queue, m.message_id FROM {p}queue_events m"
        "   WHERE m.queue = $1"
        "     AND m.delivery_count >= (SELECT coalesce(max(q.max_delivery_attempts), $2::int)"
        "                                FROM {p}queues q WHERE q.name = $1)"
        "     AND NOT (m.receipt IS NOT NULL AND m.visible_at > now())"
        "     FOR UPDATE OF m SKIP LOCKED"
        "), gone AS (" DEAD_LETTER_ROWS("spent") "),"
        " moved AS (" DEAD_LETTER_INSERT("'max_delivery_attempts'") " RETURNING 1)"
        " SELECT count(*) FROM moved"},
    [STMT_QUEUES_PURGE] = {"queues_purge",
        "WITH gone AS (DELETE FROM {p}queue_events m WHERE m.queue = $1 RETURNING 1)"
        " SELECT EXISTS (SELECT 1 FROM {p}queues WHERE name = $1), (SELECT count(*) FROM gone)"},
    [STMT_QUEUES_DELETE] = {"queues_delete",
        "WITH messages AS (DELETE FROM {p}queue_events m WHERE m.queue = $1),"
        "     dead AS (DELETE FROM {p}dead_letter_queue d WHERE d.queue = $1),"
        "     q AS (DELETE FROM {p}queues WHERE name = $1 RETURNING 1)"
        " SELECT count(*) FROM q"},
    /* Every queue's depth for /metrics, in one statement; the settings columns
     * are not reported, so they get no defaults. */
    [STMT_QUEUES_DEPTHS] = {"queues_depths",
        "SELECT " QUEUE_COLUMNS("NULL", "NULL") " FROM {p}queues q" QUEUE_COUNTS " ORDER BY q.name"},
    /* Messages without delivering them; the cursor is the enqueue sequence number. */
    [STMT_QUEUES_PEEK] = {"queues_peek",
        "SELECT EXISTS (SELECT 1 FROM {p}queues WHERE name = $1),"
        "       p.id, p.type, p.enqueued_us, p.visible_us, p.delivery_count, p.consumer, p.visible_until_us, p.seq"
        "  FROM (SELECT 1) one LEFT JOIN LATERAL ("
        "    SELECT m.message_id::text AS id, m.message_type AS type, " EPOCH_US("m.enqueued_at") " AS enqueued_us,"
        "           " EPOCH_US("m.visible_at") " AS visible_us, m.delivery_count,"
        "           CASE WHEN " LEASE_HELD("m") " THEN m.consumer END AS consumer,"
        "           CASE WHEN " LEASE_HELD("m") " THEN " EPOCH_US("m.visible_at") " END AS visible_until_us, m.seq"
        "      FROM {p}queue_events m"
        "     WHERE m.queue = $1 AND ($2::bigint IS NULL OR m.seq > $2)"
        "       AND ($3::text IS NULL"
        "            OR ($3 = 'pending' AND m.visible_at <= now())"
        "            OR ($3 = 'in_flight' AND " LEASE_HELD("m") ")"
        "            OR ($3 = 'delayed' AND m.visible_at > now() AND m.receipt IS NULL))"
        "     ORDER BY m.seq LIMIT $4 + 1) p ON true"
        " ORDER BY p.seq"},

    /* One statement for the batch. $3 says the caller holds the queue's depth
     * lock: a queue with a max_depth answers 'limited' (nothing written) without
     * it, as the count must be taken by a statement that starts after the lock.
     * 'full' when the messages not already there would pass max_depth. A
     * duplicate (id in the queue or its dead letters) is not written again; its
     * times are read back by primary key (null when a concurrent enqueue of the
     * same id committed after this statement began). */
    [STMT_MESSAGES_ENQUEUE] = {"messages_enqueue",
        "WITH cfg AS ("
        "  SELECT q.max_depth FROM {p}queues q WHERE q.name = $1"
        "), made AS ("
        "  INSERT INTO {p}queues (name) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM cfg)"
        "  ON CONFLICT (name) DO NOTHING"
        "), input AS ("
        "  SELECT coalesce((x.m ->> 'id')::uuid, gen_random_uuid()) AS id, x.m, x.i"
        "    FROM jsonb_array_elements($2::jsonb -> 'messages') WITH ORDINALITY AS x(m, i)"
        "), verdict AS ("
        "  SELECT CASE WHEN c.max_depth IS NULL THEN 'ok'"
        "              WHEN NOT $3::boolean THEN 'limited'"
        "              WHEN (SELECT count(*) FROM {p}queue_events m WHERE m.queue = $1)"
        "                   + (SELECT count(*) FROM input"
        "                       WHERE NOT EXISTS (SELECT 1 FROM {p}queue_events e"
        "                                          WHERE e.queue = $1 AND e.message_id = input.id)"
        "                         AND NOT EXISTS (SELECT 1 FROM {p}dead_letter_queue d"
        "                                          WHERE d.queue = $1 AND d.message_id = input.id))"
        "                   > c.max_depth THEN 'full'"
        "              ELSE 'ok' END AS outcome"
        "    FROM (SELECT 1) one LEFT JOIN cfg c ON true"
        "), ins AS ("
        "  INSERT INTO {p}queue_events AS q (queue, message_id, message_type, data, metadata, visible_at)"
        "  SELECT $1, input.id, input.m ->> 'type', input.m -> 'data', nullif(input.m -> 'metadata', 'null'::jsonb),"
        "         now() + make_interval(secs => coalesce((input.m ->> 'delay_seconds')::numeric::int, 0))"
        "    FROM input"
        "   WHERE (SELECT outcome FROM verdict) = 'ok'"
        "     AND NOT EXISTS (SELECT 1 FROM {p}dead_letter_queue d WHERE d.queue = $1 AND d.message_id = input.id)"
        "   ORDER BY input.i"
        "  ON CONFLICT ON CONSTRAINT {p}queue_events_pkey DO NOTHING"
        "  RETURNING q.message_id, q.enqueued_at, q.visible_at"
        ")"
        " SELECT v.outcome, input.id::text, " EPOCH_US("coalesce(ins.enqueued_at, m.enqueued_at, d.enqueued_at)") ","
        "        " EPOCH_US("coalesce(ins.visible_at, m.visible_at, d.failed_at)") ", ins.message_id IS NULL"
        "   FROM verdict v"
        "   LEFT JOIN input ON v.outcome = 'ok'"
        "   LEFT JOIN ins ON ins.message_id = input.id"
        "   LEFT JOIN {p}queue_events m ON ins.message_id IS NULL AND m.queue = $1 AND m.message_id = input.id"
        "   LEFT JOIN {p}dead_letter_queue d ON ins.message_id IS NULL AND d.queue = $1 AND d.message_id = input.id"
        "  ORDER BY input.i"},
    /* Serialises the depth checks of one queue (see messages_enqueue). */
    [STMT_MESSAGES_DEPTH_LOCK] = {"messages_depth_lock", "SELECT pg_advisory_xact_lock(1936028018, hashtext($1))"},
    /* The enqueues of a group (db/queue_group.c): request j enqueues the
     * messages of body $2[j] into queue $1[j]. Decided per message as
     * messages_enqueue decides, except that a queue with a max_depth answers
     * 'limited' with nothing written (its requests take messages_enqueue under
     * the depth lock). An id sent to one queue by two requests of the group is
     * written for the first; the later one is a duplicate. Missing queues are
     * created in name order, so two groups never wait on each other's. The
     * lookups by id are laterals kept apart by LIMIT 1: probes of the primary
     * keys, never a join that a generic plan could make a whole-table scan. One row
     * per message: request, outcome, id, enqueued, visible, duplicate. */
    [STMT_QUEUE_GROUP_ENQUEUE] = {"queue_group_enqueue",
        "WITH req AS ("
        "  SELECT r.queue, r.body, r.j FROM unnest($1::text[], $2::jsonb[]) WITH ORDINALITY AS r(queue, body, j)"
        "), cfg AS ("
        "  SELECT n.queue, q.max_depth, q.name IS NOT NULL AS known"
        "    FROM (SELECT DISTINCT req.queue FROM req) n LEFT JOIN {p}queues q ON q.name = n.queue"
        "), made AS ("
        "  INSERT INTO {p}queues (name) SELECT cfg.queue FROM cfg WHERE NOT cfg.known ORDER BY cfg.queue"
        "  ON CONFLICT (name) DO NOTHING"
        "), input AS ("
        "  SELECT req.queue, req.j, x.i, coalesce((x.m ->> 'id')::uuid, gen_random_uuid()) AS id, x.m,"
        "         c.max_depth IS NOT NULL AS limited"
        "    FROM req JOIN cfg c ON c.queue = req.queue"
        "   CROSS JOIN LATERAL jsonb_array_elements(req.body -> 'messages') WITH ORDINALITY AS x(m, i)"
        "), firsts AS ("
        "  SELECT input.*, row_number() OVER (PARTITION BY input.queue, input.id ORDER BY input.j, input.i) = 1"
        "         AS first"
        "    FROM input"
        "), ins AS ("
        "  INSERT INTO {p}queue_events AS q (queue, message_id, message_type, data, metadata, visible_at)"
        "  SELECT f.queue, f.id, f.m ->> 'type', f.m -> 'data', nullif(f.m -> 'metadata', 'null'::jsonb),"
        "         now() + make_interval(secs => coalesce((f.m ->> 'delay_seconds')::numeric::int, 0))"
        "    FROM firsts f"
        "    LEFT JOIN LATERAL (SELECT 1 AS dead FROM {p}dead_letter_queue d"
        "                        WHERE d.queue = f.queue AND d.message_id = f.id LIMIT 1) dl ON true"
        "   WHERE f.first AND NOT f.limited AND dl.dead IS NULL"
        "   ORDER BY f.j, f.i"
        "  ON CONFLICT ON CONSTRAINT {p}queue_events_pkey DO NOTHING"
        "  RETURNING q.queue, q.message_id, q.enqueued_at, q.visible_at"
        ")"
        " SELECT f.j, CASE WHEN f.limited THEN 'limited' ELSE 'ok' END, f.id::text,"
        "        " EPOCH_US("coalesce(ins.enqueued_at, m.enqueued_at, d.enqueued_at)") ","
        "        " EPOCH_US("coalesce(ins.visible_at, m.visible_at, d.failed_at)") ","
        "        ins.message_id IS NULL OR NOT f.first"
        "   FROM firsts f"
        "   LEFT JOIN ins ON ins.queue = f.queue AND ins.message_id = f.id"
        "   LEFT JOIN LATERAL (SELECT m.enqueued_at, m.visible_at FROM {p}queue_events m"
        "                       WHERE ins.message_id IS NULL AND m.queue = f.queue AND m.message_id = f.id LIMIT 1) m"
        "     ON true"
        "   LEFT JOIN LATERAL (SELECT d.enqueued_at, d.failed_at FROM {p}dead_letter_queue d"
        "                       WHERE ins.message_id IS NULL AND d.queue = f.queue AND d.message_id = f.id LIMIT 1) d"
        "     ON true"
        "  ORDER BY f.j, f.i"},
    /* The dequeues of a group: request i takes up to $2[i] messages of queue
     * $1[i] under a lease of $3[i] seconds (NULL: the queue's, else $5) for
     * consumer $4[i]. The requests for one queue are served by ONE locking
     * scan for all of them (SKIP LOCKED does not skip this transaction's own
     * locks, so a second scan could hand a message out twice); its rows, oldest
     * first, go to the requests in order. The lease is written on the message
     * row itself, with a fresh random receipt (which makes any earlier receipt
     * stale). One row per leased message: request, then the message, ordered
     * by request and age. */
    [STMT_QUEUE_GROUP_DEQUEUE] = {"queue_group_dequeue",
        "WITH req AS ("
        "  SELECT r.queue, r.max, r.vt, r.consumer, r.i"
        "    FROM unnest($1::text[], $2::int[], $3::int[], $4::text[]) WITH ORDINALITY AS r(queue, max, vt, consumer, i)"
        "), slots AS ("
        "  SELECT req.*, sum(req.max) OVER (PARTITION BY req.queue ORDER BY req.i) - req.max AS before FROM req"
        "), qs AS ("
        "  SELECT n.queue, n.total, coalesce(q.visibility_timeout, $5::int) AS vt,"
        "         coalesce(q.max_delivery_attempts, $6::int) AS attempts"
        "    FROM (SELECT req.queue, sum(req.max)::int AS total FROM req GROUP BY req.queue) n"
        "    LEFT JOIN {p}queues q ON q.name = n.queue"
        "), picked AS ("
        "  SELECT p.queue, p.message_id, row_number() OVER (PARTITION BY p.queue ORDER BY p.seq) AS n"
        "    FROM qs CROSS JOIN LATERAL ("
        "      SELECT m.queue, m.message_id, m.seq FROM {p}queue_events m"
        "       WHERE m.queue = qs.queue AND m.visible_at <= now() AND m.delivery_count < qs.attempts"
        "       ORDER BY m.queue, m.seq LIMIT qs.total"
        "       FOR UPDATE OF m SKIP LOCKED) p"
        "), leased AS ("
        "  UPDATE {p}queue_events m"
        "     SET visible_at = now() + make_interval(secs => coalesce(s.vt, qs.vt)),"
        "         delivery_count = m.delivery_count + 1,"
        "         receipt = replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''),"
        "         consumer = s.consumer, leased_at = now()"
        "    FROM picked p"
        "    JOIN slots s ON s.queue = p.queue AND p.n > s.before AND p.n <= s.before + s.max"
        "    JOIN qs ON qs.queue = p.queue"
        "   WHERE m.queue = p.queue AND m.message_id = p.message_id"
        "  RETURNING s.i, m.*"
        ")"
        " SELECT l.i, l.message_id::text, l.message_type, l.data::text, l.metadata::text,"
        "        " EPOCH_US("l.enqueued_at") ", l.delivery_count, l.receipt, " EPOCH_US("l.visible_at")
        "   FROM leased l"
        "  ORDER BY l.i, l.seq"},
    /* The acks of a group, item k acking message $2[k] of queue $1[k] with
     * receipt $3[k]. The delete decides (its receipt test is rechecked on the
     * newest row version if a concurrent statement changed it); only a miss
     * locks the row to tell a newer delivery (stale) from no lease at all. IS
     * NOT DISTINCT FROM, unlike =, does not imply receipt IS NOT NULL, so the
     * planner cannot pick the (whole) lease expiry index over the primary key.
     * When the group acks one message more than once, the answers are those of
     * some order of them: the first ack with the receipt that held the lease
     * is acked, a later one with it not_found, one with another receipt stale.
     * One row per item, in order. */
    [STMT_QUEUE_GROUP_ACK] = {"queue_group_ack",
        "WITH req AS ("
        "  SELECT r.queue, r.id, r.receipt, r.k,"
        "         row_number() OVER (PARTITION BY r.queue, r.id, r.receipt ORDER BY r.k) AS nth"
        "    FROM unnest($1::text[], $2::uuid[], $3::text[]) WITH ORDINALITY AS r(queue, id, receipt, k)"
        "), gone AS ("
        "  DELETE FROM {p}queue_events m USING req"
        "   WHERE m.queue = req.queue AND m.message_id = req.id AND m.receipt IS NOT DISTINCT FROM req.receipt"
        "  RETURNING m.queue, m.message_id, m.receipt"
        ")"
        " SELECT CASE WHEN g.receipt = r.receipt AND r.nth = 1 THEN 'acked'"
        "             WHEN g.receipt = r.receipt THEN 'not_found'"
        "             WHEN g.message_id IS NOT NULL THEN 'stale'"
        "             WHEN (SELECT m.receipt IS NOT NULL FROM {p}queue_events m"
        "                    WHERE m.queue = r.queue AND m.message_id = r.id FOR UPDATE) THEN 'stale'"
        "             ELSE 'not_found' END"
        "   FROM req r LEFT JOIN gone g ON g.queue = r.queue AND g.message_id = r.id"
        "  ORDER BY r.k"},
    /* Requeued after $5 seconds, or to the dead letters when $4 (requeue) is
     * false or the message has used its deliveries; the lease is read locked
     * first, so the outcome is decided on the newest row version. */
    [STMT_MESSAGES_NACK] = {"messages_nack",
        "WITH cur AS MATERIALIZED ("
        "  SELECT m.queue, m.message_id, m.receipt,"
        "         m.delivery_count >= (SELECT coalesce(max(q.max_delivery_attempts), $7::int)"
        "                                FROM {p}queues q WHERE q.name = $1) AS spent"
        "    FROM {p}queue_events m WHERE m.queue = $1 AND m.message_id = $2::uuid"
        "     FOR UPDATE OF m"
        "), settled AS (SELECT * FROM cur WHERE cur.receipt = $3"
        "), to_dead AS (SELECT * FROM settled WHERE NOT $4::boolean OR settled.spent"
        "), gone AS (" DEAD_LETTER_ROWS("to_dead") "),"
        " moved AS (" DEAD_LETTER_INSERT("coalesce($6, CASE WHEN $4::boolean THEN 'max_delivery_attempts'"
                                         " ELSE 'nack' END)") "),"
        " requeued AS ("
        "  UPDATE {p}queue_events m"
        "     SET visible_at = now() + make_interval(secs => $5::int), receipt = NULL, consumer = NULL,"
        "         leased_at = NULL"
        "    FROM settled s WHERE m.queue = s.queue AND m.message_id = s.message_id AND $4::boolean AND NOT s.spent"
        "  RETURNING 1"
        ")"
        " SELECT CASE WHEN EXISTS (SELECT 1 FROM gone) THEN 'dead_lettered'"
        "             WHEN EXISTS (SELECT 1 FROM requeued) THEN 'requeued'"
        "             WHEN EXISTS (SELECT 1 FROM cur WHERE cur.receipt IS NOT NULL) THEN 'stale'"
        "             ELSE 'not_found' END"},
    /* Moves a lease's end: 'ok' with the new end, 'not_found' or 'stale'. */
    [STMT_MESSAGES_VISIBILITY] = {"messages_visibility",
        "WITH cur AS MATERIALIZED ("
        "  SELECT m.queue, m.message_id, m.receipt FROM {p}queue_events m"
        "   WHERE m.queue = $1 AND m.message_id = $2::uuid FOR UPDATE"
        "), moved AS ("
        "  UPDATE {p}queue_events m SET visible_at = now() + make_interval(secs => $4::int)"
        "    FROM cur WHERE m.queue = cur.queue AND m.message_id = cur.message_id AND cur.receipt = $3"
        "  RETURNING m.visible_at"
        ")"
        " SELECT CASE WHEN EXISTS (SELECT 1 FROM moved) THEN 'ok'"
        "             WHEN EXISTS (SELECT 1 FROM cur WHERE cur.receipt IS NOT NULL) THEN 'stale'"
        "             ELSE 'not_found' END,"
        "        (SELECT " EPOCH_US("moved.visible_at") " FROM moved)"},
    [STMT_MESSAGES_SWEEP] = {"messages_sweep",
        "SELECT requeued, dead_lettered, expired FROM {p}cleanup_expired_in_flight($1::int, $2::int)"},

    [STMT_DEAD_LETTERS_LIST] = {"dead_letters_list",
        "SELECT EXISTS (SELECT 1 FROM {p}queues WHERE name = $1), p.id, p.type, p.data, p.metadata,"
        "       p.enqueued_us, p.failed_us, p.delivery_count, p.reason, p.seq"
        "  FROM (SELECT 1) one LEFT JOIN LATERAL ("
        "    SELECT d.message_id::text AS id, d.message_type AS type, d.data::text AS data,"
        "           d.metadata::text AS metadata, " EPOCH_US("d.enqueued_at") " AS enqueued_us,"
        "           " EPOCH_US("d.failed_at") " AS failed_us, d.delivery_count, d.reason, d.seq"
        "      FROM {p}dead_letter_queue d"
        "     WHERE d.queue = $1 AND ($2::bigint IS NULL OR d.seq > $2)"
        "     ORDER BY d.seq LIMIT $3 + 1) p ON true"
        " ORDER BY p.seq"},
    /* $2 NULL redrives every dead letter of the queue. A redriven message is
     * enqueued anew: at the back, and its retention counts from now. */
    [STMT_DEAD_LETTERS_REDRIVE] = {"dead_letters_redrive",
        "WITH moved AS ("
        "  DELETE FROM {p}dead_letter_queue d"
        "   WHERE d.queue = $1 AND ($2::uuid[] IS NULL OR d.message_id = ANY ($2::uuid[]))"
        "     AND NOT EXISTS (SELECT 1 FROM {p}queue_events m WHERE m.queue = d.queue AND m.message_id = d.message_id)"
        "  RETURNING d.*"
        "), ins AS ("
        "  INSERT INTO {p}queue_events (queue, message_id, message_type, data, metadata, enqueued_at, visible_at,"
        "                              delivery_count)"
        "  SELECT queue, message_id, message_type, data, metadata, now(), now(), 0 FROM moved ORDER BY seq"
        "  RETURNING 1"
        ")"
        " SELECT EXISTS (SELECT 1 FROM {p}queues WHERE name = $1), (SELECT count(*) FROM ins)"},
    [STMT_DEAD_LETTERS_DELETE] = {"dead_letters_delete",
        "DELETE FROM {p}dead_letter_queue WHERE queue = $1 AND message_id = $2::uuid RETURNING 1"},

    /* The retention worker's steps (db/retention.c); $defaults NULL: no limit. */
    [STMT_RETENTION_CANDIDATES] = {"retention_candidates",
        "SELECT stream FROM {p}retention_candidates($1::bigint, $2::bigint, $3, $4::int)"},
    [STMT_RETENTION_TRIM] = {"retention_trim",
        "SELECT trimmed, first_offset FROM {p}trim_stream($1, $2::bigint, $3::bigint, $4::int)"},
    [STMT_RETENTION_DEAD_LETTERS] = {"retention_dead_letters",
        "SELECT {p}delete_old_dead_letters($1::bigint, $2::int)"},

    /* WAL positions as byte counts: what the primary has flushed (all a
     * standby can have), and what the standby has replayed (NULL on a server
     * that is not one). */
    [STMT_STANDBY_PRIMARY_WAL] = {"standby_primary_wal",
        "SELECT (pg_current_wal_flush_lsn() - '0/0'::pg_lsn)::bigint"},
    [STMT_STANDBY_REPLAYED] = {"standby_replayed",
        "SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint"},
    /* A transaction_id is taken by one transaction at a time: a retry racing
     * the original waits for it, then finds its answer. */
    [STMT_TRANSACTIONS_LOCK] = {"transactions_lock", "SELECT pg_advisory_xact_lock(1936028019, hashtext($1))"},
    /* The hash of the request's operations (jsonb text: spacing and key order
     * do not count), and the stored answer when the id committed before, with
     * whether it was for the same operations. */
    [STMT_TRANSACTIONS_FIND] = {"transactions_find",
        "SELECT encode(h.hash, 'hex'), t.request_hash = h.hash, t.response"
        "  FROM (SELECT sha256(convert_to(($2::jsonb -> 'operations')::text, 'UTF8')) AS hash) h"
        "  LEFT JOIN {p}transactions t ON t.id = $1::uuid"},
    [STMT_TRANSACTIONS_STORE] = {"transactions_store",
        "INSERT INTO {p}transactions (id, request_hash, response) VALUES ($1::uuid, decode($2, 'hex'), $3)"},
    [STMT_TRANSACTIONS_EXPIRE] = {"transactions_expire",
        "WITH gone AS ("
        "  DELETE FROM {p}transactions WHERE id IN ("
        "    SELECT id FROM {p}transactions WHERE created_at < now() - make_interval(secs => $1::bigint)"
        "     ORDER BY created_at LIMIT $2::int)"
        "  RETURNING 1)"
        " SELECT count(*) FROM gone"},

    /* The archiving trim (db/archive.c) runs these in one transaction: the
     * try-lock of trim_stream() (schema/006_retention.sql), so that it and
     * plain trims of the stream exclude each other too; the events due, chosen
     * as trim_stream() chooses them; after the segment is written, their delete. */
    [STMT_ARCHIVE_LOCK] = {"archive_lock",
        "SELECT pg_try_advisory_xact_lock(1936028020, hashtext(current_schema() || '.' || $1))"},
    [STMT_ARCHIVE_DUE] = {"archive_due",
        "WITH s AS ("
        "  SELECT s.name, s.first_offset, s.version, s.created_at,"
        "         CASE WHEN r.stream IS NULL THEN $2::bigint ELSE r.max_age_seconds END AS max_age,"
        "         CASE WHEN r.stream IS NULL THEN $3::bigint ELSE r.max_count END AS max_count"
        "    FROM {p}streams s LEFT JOIN {p}retention_policies r ON r.stream = s.name"
        "   WHERE s.name = $1"
        "), cand AS MATERIALIZED ("
        "  SELECT ev.*,"
        "         (s.max_count IS NOT NULL AND ev.stream_offset <= s.version - s.max_count)"
        "         OR (s.max_age IS NOT NULL AND ev.created_at < now() - make_interval(secs => s.max_age)) AS expired"
        "    FROM s JOIN {p}events ev ON ev.stream = s.name AND ev.stream_offset >= s.first_offset"
        "   ORDER BY ev.stream_offset LIMIT $4"
        "), due AS ("
        "  SELECT c.* FROM cand c"
        "   WHERE c.stream_offset < coalesce((SELECT min(k.stream_offset) FROM cand k WHERE NOT k.expired),"
        "                                    (SELECT s.version + 1 FROM s))"
        ")"
        " SELECT " EPOCH_US("s.created_at") ", " EVENT_COLUMNS
        "   FROM s LEFT JOIN due e ON true"
        "  ORDER BY e.stream_offset"},
    [STMT_ARCHIVE_DELETE] = {"archive_delete",
        "WITH gone AS ("
        "  DELETE FROM {p}events e WHERE e.stream = $1 AND e.stream_offset <= $2::bigint RETURNING 1"
        "), moved AS ("
        "  UPDATE {p}streams s"
        "     SET first_offset = greatest(s.first_offset, $2::bigint + 1),"
        "         trimmed_through = greatest(coalesce(s.trimmed_through, -1), $2::bigint), trimmed_at = now()"
        "   WHERE s.name = $1 AND s.first_offset <= $2::bigint"
        "  RETURNING 1"
        ")"
        " SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM moved)"},
    /* What a read with include_archive needs besides the live page: the
     * stream's incarnation (created_at), its live range, and since/until as
     * microseconds, converted as the live read converts them. */
    [STMT_ARCHIVE_STREAM] = {"archive_stream",
        "SELECT " EPOCH_US("s.created_at") ", s.first_offset, s.version,"
        " " EPOCH_US("$2::timestamptz") ", " EPOCH_US("$3::timestamptz")
        "  FROM {p}streams s WHERE s.name = $1"},
};
/* clang-format on */

char *statements_expand(const char *sql, const char *prefix)
{
    size_t plen = strlen(prefix), n = 0, cap = strlen(sql) + 1;
    for (const char *s = sql; (s = strstr(s, "{p}")); s += 3)
        cap += plen;
    char *out = xmalloc(cap);
    for (const char *s = sql; *s;) {
        if (!strncmp(s, "{p}", 3)) {
            memcpy(out + n, prefix, plen);
            n += plen;
            s += 3;
        } else {
            out[n++] = *s++;
        }
    }
    out[n] = '\0';
    return out;
}
