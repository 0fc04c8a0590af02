-- streamq schema, version 5: one-row queue leases.
-- A lease (receipt, consumer, when it was taken) now lives on its message row,
-- beside visible_at (the lease's end) and delivery_count, so a delivery and an
-- ack each write one row, as PGMQ's design does, instead of two tables.
-- in_flight_events stays, as a read-only view of the leased rows with the
-- columns it had. Every lease of the old table moves onto its message with its
-- receipt, so deliveries in flight during the upgrade still ack.

ALTER TABLE {p}queue_events
    ADD COLUMN receipt   text,
    ADD COLUMN consumer  text,
    ADD COLUMN leased_at timestamptz;

UPDATE {p}queue_events m
   SET receipt = f.receipt, consumer = f.consumer, leased_at = f.leased_at,
       visible_at = f.visible_until, delivery_count = f.delivery_count
  FROM {p}in_flight_events f
 WHERE f.queue = m.queue AND f.message_id = m.message_id;

-- The old functions wrote both tables; their replacements are the set-based
-- statements in db/statements.c. Dropped so that nothing writes the view.
DROP FUNCTION {p}ack_message(text, uuid, text);
DROP FUNCTION {p}nack_message(text, uuid, text, boolean, int, text, int);
DROP FUNCTION {p}set_visibility(text, uuid, text, int);
DROP FUNCTION {p}enqueue_messages(text, jsonb);
DROP TABLE {p}in_flight_events;

CREATE VIEW {p}in_flight_events AS
SELECT m.queue, m.message_id, m.receipt, m.consumer, m.leased_at, m.visible_at AS visible_until, m.delivery_count
  FROM {p}queue_events m
 WHERE m.receipt IS NOT NULL;

-- A simple view is updatable, and a DELETE through it would delete messages:
-- what "drop the lease" meant to the code before version 5. Refuse every write.
CREATE FUNCTION {p}in_flight_events_read_only() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'in_flight_events is a view of the leases on queue_events since schema version 5'
        USING ERRCODE = 'feature_not_supported';
END;
$$;

CREATE TRIGGER {p}in_flight_events_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON {p}in_flight_events
    FOR EACH ROW EXECUTE FUNCTION {p}in_flight_events_read_only();

-- A queue that drains keeps its table's pages through VACUUM. Truncated to
-- none, the table reads as "0 pages, 0 rows", and plans cached at that moment
-- (prepared statements keep a generic plan) scan it sequentially, as it grows
-- again, until the next ANALYZE; with its pages kept, lookups by primary key
-- stay index scans. VACUUM also no longer takes the exclusive lock that
-- truncation needs, which stalled every dequeue and ack while it waited.
ALTER TABLE {p}queue_events SET (vacuum_truncate = false);

-- The sweeper's scan for leases that ran out, oldest first.
CREATE INDEX {p}queue_events_lease_expiry_idx ON {p}queue_events (visible_at) WHERE receipt IS NOT NULL;

-- Moved a message to the dead letters for the old functions; the statements
-- that replace them do it set-based.
DROP FUNCTION {p}dead_letter(text, uuid, text);

-- The sweeper's step, one statement, safe to run from several instances at
-- once: expired leases are dropped (the message is visible again already, since
-- visible_at was the lease's end; its receipt now answers not_found) or, when
-- the message has used its deliveries, it moves to the dead letters. Messages
-- older than their queue's retention are deleted. Returns what it did.
CREATE OR REPLACE FUNCTION {p}cleanup_expired_in_flight(p_default_attempts int, p_limit int)
RETURNS TABLE (requeued bigint, dead_lettered bigint, expired bigint)
LANGUAGE sql
AS $$
    WITH due AS (
        SELECT m.queue, m.message_id,
               m.delivery_count >= coalesce(c.max_delivery_attempts, p_default_attempts) AS spent
          FROM {p}queue_events m
          LEFT JOIN {p}queues c ON c.name = m.queue
         WHERE m.receipt IS NOT NULL AND m.visible_at <= now()
         ORDER BY m.visible_at
         LIMIT p_limit
           FOR UPDATE OF m SKIP LOCKED
    ), released AS (
        UPDATE {p}queue_events m SET receipt = NULL, consumer = NULL, leased_at = NULL
          FROM due
         WHERE m.queue = due.queue AND m.message_id = due.message_id AND NOT due.spent
        RETURNING 1
    ), dead AS (
        DELETE FROM {p}queue_events m USING due
         WHERE m.queue = due.queue AND m.message_id = due.message_id AND due.spent
        RETURNING m.*
    ), dead_letters AS (
        INSERT INTO {p}dead_letter_queue (queue, message_id, message_type, data, metadata, enqueued_at,
                                          delivery_count, reason)
        SELECT queue, message_id, message_type, data, metadata, enqueued_at, delivery_count, 'max_delivery_attempts'
          FROM dead ORDER BY seq
        ON CONFLICT (queue, message_id) DO NOTHING
    ), old AS (
        -- Not a row of `due`: one statement must not write a row twice.
        SELECT m.queue, m.message_id FROM {p}queue_events m JOIN {p}queues c ON c.name = m.queue
         WHERE m.enqueued_at < now() - make_interval(secs => c.retention_seconds)
           AND NOT EXISTS (SELECT 1 FROM due WHERE due.queue = m.queue AND due.message_id = m.message_id)
         LIMIT p_limit
           FOR UPDATE OF m SKIP LOCKED
    ), gone AS (
        DELETE FROM {p}queue_events m USING old WHERE m.queue = old.queue AND m.message_id = old.message_id
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM released), (SELECT count(*) FROM dead), (SELECT count(*) FROM gone)
$$;
