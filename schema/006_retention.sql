-- streamq schema, version 6: retention enforced.
-- A stream's oldest events go when its policy (or, for a stream without one,
-- the service's defaults) no longer keeps them; a queue's messages pending past
-- its retention_seconds move to the dead letters with reason retention_expired
-- (version 5's sweeper deleted them); dead letters older than the service's
-- --dead-letter-retention are deleted. Every existing event, message, dead
-- letter and setting is kept: the new columns start NULL (nothing trimmed yet).
--
-- Trimming never takes the append lock (1936028017): appends serialise on it,
-- and a trim that held it would stall them. It needs no such lock either:
-- offsets are never reused, appends only add offsets above every trimmed one,
-- and an append's upsert of its streams row sets version and last_event_at
-- only, so it and a trim's update of first_offset, whichever waits for the
-- other's row lock, both land. A trimmer of one stream at a time holds its own
-- try-lock (1936028020), so several instances never trim one stream together.

ALTER TABLE {p}streams
    ADD COLUMN trimmed_through bigint,
    ADD COLUMN trimmed_at      timestamptz;

ALTER TABLE {p}queues
    ADD COLUMN expired_through              timestamptz,
    ADD COLUMN expired_at                   timestamptz,
    ADD COLUMN dead_letters_deleted_through timestamptz,
    ADD COLUMN dead_letters_deleted_at      timestamptz;

-- has_policy tells a stream's own policy (whose NULLs mean "no limit") from none
-- (the service's defaults apply); columns are only added, at the end.
CREATE OR REPLACE VIEW {p}stream_metadata AS
SELECT s.name AS stream,
       s.version,
       s.version + 1 - s.first_offset AS length,
       CASE WHEN s.version >= s.first_offset THEN s.first_offset END AS first_offset,
       CASE WHEN s.version >= s.first_offset THEN s.version END AS last_offset,
       s.created_at,
       s.last_event_at,
       s.state,
       r.max_age_seconds,
       r.max_count,
       r.stream IS NOT NULL AS has_policy,
       s.trimmed_through,
       s.trimmed_at
FROM {p}streams s
LEFT JOIN {p}retention_policies r ON r.stream = s.name;

-- The dead-letter retention's scan, oldest first.
CREATE INDEX {p}dead_letter_queue_failed_idx ON {p}dead_letter_queue (failed_at);

-- Streams after p_after (by name) that have events to trim, up to p_limit. A
-- stream's own policy replaces the defaults whole. One index probe per stream
-- for its oldest retained event.
CREATE FUNCTION {p}retention_candidates(p_default_age bigint, p_default_count bigint, p_after text, p_limit int)
RETURNS TABLE (stream text)
LANGUAGE sql STABLE
AS $$
    SELECT s.name
      FROM {p}streams s
      LEFT JOIN {p}retention_policies r ON r.stream = s.name
     WHERE s.name > coalesce(p_after, '')
       AND s.version >= s.first_offset
       AND (r.stream IS NOT NULL OR p_default_age IS NOT NULL OR p_default_count IS NOT NULL)
       AND ((CASE WHEN r.stream IS NULL THEN p_default_count ELSE r.max_count END) < s.version + 1 - s.first_offset
            OR (SELECT e.created_at FROM {p}events e
                 WHERE e.stream = s.name AND e.stream_offset >= s.first_offset
                 ORDER BY e.stream_offset LIMIT 1)
               < now() - make_interval(secs => CASE WHEN r.stream IS NULL THEN p_default_age
                                                    ELSE r.max_age_seconds END))
     ORDER BY s.name
     LIMIT p_limit
$$;

-- Deletes up to p_limit of the stream's oldest events that retention no longer
-- keeps: the leading run of its retained events that are beyond the newest
-- max_count or older than max_age_seconds, so what stays is always one range of
-- offsets. first_offset moves past them (version stays). One statement, so one
-- short transaction. Returns how many went (0 too when another trimmer holds the
-- stream) and the stream's first offset after.
CREATE FUNCTION {p}trim_stream(p_stream text, p_default_age bigint, p_default_count bigint, p_limit int,
                               OUT trimmed bigint, OUT first_offset bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    v_first   bigint;
    v_version bigint;
    v_age     bigint;
    v_count   bigint;
    v_through bigint;
BEGIN
    trimmed := 0;
    IF NOT pg_try_advisory_xact_lock(1936028020, hashtext(current_schema() || '.' || p_stream)) THEN
        RETURN;
    END IF;
    SELECT s.first_offset, s.version,
           CASE WHEN r.stream IS NULL THEN p_default_age ELSE r.max_age_seconds END,
           CASE WHEN r.stream IS NULL THEN p_default_count ELSE r.max_count END
      INTO v_first, v_version, v_age, v_count
      FROM {p}streams s
      LEFT JOIN {p}retention_policies r ON r.stream = s.name
     WHERE s.name = p_stream;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    first_offset := v_first;
    IF v_age IS NULL AND v_count IS NULL THEN
        RETURN;
    END IF;

    WITH cand AS MATERIALIZED (
        SELECT e.stream_offset,
               (v_count IS NOT NULL AND e.stream_offset <= v_version - v_count)
               OR (v_age IS NOT NULL AND e.created_at < now() - make_interval(secs => v_age)) AS expired
          FROM {p}events e
         WHERE e.stream = p_stream AND e.stream_offset >= v_first
         ORDER BY e.stream_offset
         LIMIT p_limit
    ), run AS (
        SELECT c.stream_offset FROM cand c
         WHERE c.stream_offset < coalesce((SELECT min(k.stream_offset) FROM cand k WHERE NOT k.expired),
                                          v_version + 1)
    ), gone AS (
        DELETE FROM {p}events e USING run
         WHERE e.stream = p_stream AND e.stream_offset = run.stream_offset
        RETURNING e.stream_offset
    )
    SELECT count(*), max(g.stream_offset) INTO trimmed, v_through FROM gone g;

    IF trimmed > 0 THEN
        UPDATE {p}streams s
           SET first_offset = greatest(s.first_offset, v_through + 1),
               trimmed_through = greatest(coalesce(s.trimmed_through, -1), v_through),
               trimmed_at = now()
         WHERE s.name = p_stream
        RETURNING s.first_offset INTO first_offset;
    END IF;
END;
$$;

-- Deletes up to p_limit dead letters that failed more than p_max_age seconds
-- ago, oldest first, skipping rows another statement holds (a redrive, another
-- instance), and notes on each queue what went. Returns how many went.
CREATE FUNCTION {p}delete_old_dead_letters(p_max_age bigint, p_limit int)
RETURNS bigint
LANGUAGE sql
AS $$
    WITH old AS (
        SELECT d.queue, d.message_id FROM {p}dead_letter_queue d
         WHERE d.failed_at < now() - make_interval(secs => p_max_age)
         ORDER BY d.failed_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM {p}dead_letter_queue d USING old
         WHERE d.queue = old.queue AND d.message_id = old.message_id
        RETURNING d.queue, d.failed_at
    ), noted AS (
        UPDATE {p}queues q
           SET dead_letters_deleted_through = greatest(q.dead_letters_deleted_through, x.through),
               dead_letters_deleted_at = now()
          FROM (SELECT g.queue, max(g.failed_at) AS through FROM gone g GROUP BY g.queue) x
         WHERE q.name = x.queue
    )
    SELECT count(*) FROM gone
$$;

-- The sweeper's step as in version 5, but a message pending past its queue's
-- retention moves to the dead letters with reason retention_expired instead of
-- being deleted, and its queue notes it. A message whose lease is held stays
-- with its consumer; it goes, if still there, once the lease ends. `expired`
-- counts the messages dead-lettered so.
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
           AND NOT (m.receipt IS NOT NULL AND m.visible_at > now())
           AND NOT EXISTS (SELECT 1 FROM due WHERE due.queue = m.queue AND due.message_id = m.message_id)
         LIMIT p_limit
           FOR UPDATE OF m SKIP LOCKED
    ), gone AS (
        DELETE FROM {p}queue_events m USING old WHERE m.queue = old.queue AND m.message_id = old.message_id
        RETURNING m.*
    ), expired_letters AS (
        INSERT INTO {p}dead_letter_queue (queue, message_id, message_type, data, metadata, enqueued_at,
                                          delivery_count, reason)
        SELECT queue, message_id, message_type, data, metadata, enqueued_at, delivery_count, 'retention_expired'
          FROM gone ORDER BY seq
        ON CONFLICT (queue, message_id) DO NOTHING
    ), noted AS (
        UPDATE {p}queues q
           SET expired_through = greatest(q.expired_through, x.through), expired_at = now()
          FROM (SELECT g.queue, max(g.enqueued_at) AS through FROM gone g GROUP BY g.queue) x
         WHERE q.name = x.queue
    )
    SELECT (SELECT count(*) FROM released), (SELECT count(*) FROM dead), (SELECT count(*) FROM gone)
$$;
