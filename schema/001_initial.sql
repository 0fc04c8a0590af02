-- streamq schema, version 1. Runs inside the migration transaction with
-- search_path set to the configured schema; {p} is the configured table prefix.

-- RFC 3339 UTC with microseconds, the only timestamp format the API speaks.
CREATE FUNCTION {p}ts(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

------------------------------------------------------------------------------
-- Streams
------------------------------------------------------------------------------

-- One row per stream that has been written and not deleted. `version` is the
-- offset of the last event ever written (offsets are never reused), and
-- `first_offset` the first one still retained, so length = version + 1 - first_offset.
CREATE TABLE {p}streams (
    name          text COLLATE "C" PRIMARY KEY,
    version       bigint NOT NULL DEFAULT -1,
    first_offset  bigint NOT NULL DEFAULT 0,
    state         text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'archived')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_event_at timestamptz
);

-- The append-only log. global_position = (xid of the appending transaction << 12)
-- + index in its batch: see append_events() and the global read in db/events.c.
CREATE TABLE {p}events (
    global_position bigint PRIMARY KEY,
    stream          text NOT NULL,
    stream_offset   bigint NOT NULL,
    event_id        uuid NOT NULL,
    event_type      text NOT NULL,
    data            jsonb NOT NULL,
    metadata        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT {p}events_stream_offset_key UNIQUE (stream, stream_offset)
);
CREATE UNIQUE INDEX {p}events_event_id_key ON {p}events (event_id);

CREATE TABLE {p}retention_policies (
    stream          text PRIMARY KEY REFERENCES {p}streams (name) ON DELETE CASCADE,
    max_age_seconds bigint CHECK (max_age_seconds > 0),
    max_count       bigint CHECK (max_count > 0),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Consumer group checkpoints: `offset` is the next offset the group will read.
CREATE TABLE {p}consumer_offsets (
    stream     text NOT NULL REFERENCES {p}streams (name) ON DELETE CASCADE,
    group_name text NOT NULL,
    "offset"   bigint NOT NULL CHECK ("offset" >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream, group_name)
);

CREATE FUNCTION {p}get_next_offset(p_stream text) RETURNS bigint
LANGUAGE sql STABLE
AS $$ SELECT coalesce((SELECT version + 1 FROM {p}streams WHERE name = p_stream), 0) $$;

CREATE VIEW {p}stream_metadata AS
SELECT s.name AS stream,
       s.version,
       s.version + 1 - s.first_offset AS length,
       CASE WHEN s.version >= s.first_offset THEN s.first_offset END AS first_offset,
       CASE WHEN s.version >= s.first_offset THEN s.version END AS last_offset,
       s.created_at,
       s.last_event_at,
       s.state,
       r.max_age_seconds,
       r.max_count
FROM {p}streams s
LEFT JOIN {p}retention_policies r ON r.stream = s.name;

-- Appends a batch atomically. p_events is a JSON array of {id, type, data, metadata};
-- events without an id get a new random one. Returns one row per event on success, or one row with
-- the outcome and the stream's current version when nothing was written.
-- Outcomes: created, idempotent, version_conflict, duplicate, archived.
CREATE FUNCTION {p}append_events(p_stream text, p_expected text, p_events jsonb, p_check_ids boolean)
RETURNS TABLE (outcome text, current_version bigint, event_id uuid, stream_offset bigint,
               global_position bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    v_version bigint;
    v_state   text;
    v_n       int := jsonb_array_length(p_events);
    v_found   int;
    v_same    int;
    v_shapes  int;
    v_first   int;
    v_base    bigint;
BEGIN
    -- Serialise appends to this stream *before* the first write: the transaction
    -- id, and with it the global position, is assigned only after the lock, so a
    -- later append to the stream always gets a larger position.
    PERFORM pg_advisory_xact_lock(1936028017, hashtext(p_stream));

    SELECT s.version, s.state INTO v_version, v_state FROM {p}streams s WHERE s.name = p_stream;
    IF NOT FOUND THEN
        v_version := -1;
    END IF;

    IF p_check_ids THEN
        -- Same ids, same order, one earlier append to this stream: a retry. Same
        -- order means offset - index is one constant; one append means one xid.
        SELECT count(*),
               count(*) FILTER (WHERE e.stream = p_stream),
               count(DISTINCT e.stream_offset - x.i) + count(DISTINCT e.global_position >> 12)
          INTO v_found, v_same, v_shapes
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(ev, i)
          JOIN {p}events e ON e.event_id = (x.ev ->> 'id')::uuid;
        IF v_found = v_n AND v_same = v_n AND v_shapes = 2 THEN
            RETURN QUERY
                SELECT 'idempotent'::text, v_version, e.event_id, e.stream_offset, e.global_position
                  FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(ev, i)
                  JOIN {p}events e ON e.event_id = (x.ev ->> 'id')::uuid
                 ORDER BY x.i;
            RETURN;
        ELSIF v_found > 0 THEN
            RETURN QUERY SELECT 'duplicate'::text, v_version, NULL::uuid, NULL::bigint, NULL::bigint;
            RETURN;
        END IF;
    END IF;

    IF v_state = 'archived' THEN
        RETURN QUERY SELECT 'archived'::text, v_version, NULL::uuid, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;

    IF NOT (p_expected = 'any'
            OR (p_expected = 'no_stream' AND v_version = -1)
            OR (p_expected = 'exists' AND v_version >= 0)
            OR (p_expected ~ '^-?[0-9]+$' AND p_expected::bigint = v_version)) THEN
        RETURN QUERY SELECT 'version_conflict'::text, v_version, NULL::uuid, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;

    -- Appends combined into one transaction (append_batch) share its xid, so each
    -- continues the batch index where the previous one stopped.
    v_first := coalesce(nullif(current_setting('streamq.next_index', true), ''), '0')::int;
    IF v_first + v_n > 4096 THEN
        RAISE EXCEPTION 'more than 4096 events in one transaction' USING ERRCODE = 'program_limit_exceeded';
    END IF;
    v_base := (pg_current_xact_id()::text::bigint << 12) + v_first;
    PERFORM set_config('streamq.next_index', (v_first + v_n)::text, true);

    RETURN QUERY
    WITH inserted AS (
        INSERT INTO {p}events (global_position, stream, stream_offset, event_id, event_type, data, metadata)
        SELECT v_base + x.i - 1, p_stream, v_version + x.i,
               coalesce((x.ev ->> 'id')::uuid, gen_random_uuid()), x.ev ->> 'type',
               x.ev -> 'data', nullif(x.ev -> 'metadata', 'null'::jsonb)
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(ev, i)
        RETURNING {p}events.event_id, {p}events.stream_offset, {p}events.global_position
    )
    SELECT 'created'::text, v_version + v_n, i.event_id, i.stream_offset, i.global_position
      FROM inserted i
     ORDER BY i.stream_offset;

    INSERT INTO {p}streams AS s (name, version, last_event_at)
    VALUES (p_stream, v_version + v_n, now())
    ON CONFLICT (name) DO UPDATE SET version = excluded.version, last_event_at = excluded.last_event_at;
END;
$$;

-- Runs several appends (to any streams) in one transaction, so that concurrent
-- requests share one commit. p_appends is a JSON array of {s: stream, x: expected,
-- c: check ids, b: request body}. Every stream lock is taken first, in one order:
-- groups cannot deadlock on each other, and the xid is assigned only after all of
-- them, which keeps each stream's positions increasing. An append that fails on a
-- unique or data error is rolled back alone. Rows as append_events, with the
-- 1-based index of the append they answer.
CREATE FUNCTION {p}append_batch(p_appends jsonb)
RETURNS TABLE (request int, outcome text, current_version bigint, event_id uuid, stream_offset bigint,
               global_position bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    r record;
BEGIN
    PERFORM pg_advisory_xact_lock(1936028017, l.h)
       FROM (SELECT DISTINCT hashtext(a ->> 's') AS h FROM jsonb_array_elements(p_appends) AS a ORDER BY 1) l;
    FOR r IN SELECT x.a, x.i FROM jsonb_array_elements(p_appends) WITH ORDINALITY AS x(a, i) ORDER BY x.i LOOP
        BEGIN
            RETURN QUERY
                SELECT r.i::int, e.outcome, e.current_version, e.event_id, e.stream_offset, e.global_position
                  FROM {p}append_events(r.a ->> 's', r.a ->> 'x', r.a -> 'b' -> 'events', (r.a ->> 'c')::boolean) e;
        EXCEPTION
            WHEN unique_violation THEN
                RETURN QUERY SELECT r.i::int, 'duplicate'::text, NULL::bigint, NULL::uuid, NULL::bigint, NULL::bigint;
            WHEN data_exception THEN
                RETURN QUERY SELECT r.i::int, 'invalid'::text, NULL::bigint, NULL::uuid, NULL::bigint, NULL::bigint;
        END;
    END LOOP;
END;
$$;

-- Deletes a stream with its events, retention and checkpoints, serialised with
-- appends by the same lock. Returns false when there was no such stream.
CREATE FUNCTION {p}delete_stream(p_stream text) RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1936028017, hashtext(p_stream));
    DELETE FROM {p}events WHERE stream = p_stream;
    DELETE FROM {p}streams WHERE name = p_stream;
    RETURN FOUND;
END;
$$;

CREATE FUNCTION {p}stream_json(m {p}stream_metadata) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT row_to_json(r)::text
      FROM (SELECT m.stream AS stream, m.version AS version, m.length AS length,
                   m.first_offset AS first_offset, m.last_offset AS last_offset,
                   {p}ts(m.created_at) AS created_at, {p}ts(m.last_event_at) AS last_event_at,
                   m.state AS state,
                   (SELECT row_to_json(k) FROM (SELECT m.max_age_seconds AS max_age_seconds,
                                                       m.max_count AS max_count) k) AS retention) r
$$;

------------------------------------------------------------------------------
-- Queues
------------------------------------------------------------------------------

-- A queue exists once it is first written or configured. NULL settings follow
-- the service's defaults (visibility-timeout, max-delivery-attempts).
CREATE TABLE {p}queues (
    name                  text COLLATE "C" PRIMARY KEY,
    visibility_timeout    int CHECK (visibility_timeout BETWEEN 0 AND 43200),
    max_delivery_attempts int CHECK (max_delivery_attempts BETWEEN 1 AND 1000),
    retention_seconds     int NOT NULL DEFAULT 1209600 CHECK (retention_seconds >= 60),
    max_depth             bigint CHECK (max_depth > 0),
    created_at            timestamptz NOT NULL DEFAULT now()
);

-- Messages not yet acked or dead-lettered. While leased, visible_at is the end
-- of the lease, so "visible_at <= now()" is the whole test for deliverable.
CREATE TABLE {p}queue_events (
    queue          text NOT NULL,
    message_id     uuid NOT NULL,
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    message_type   text NOT NULL,
    data           jsonb NOT NULL,
    metadata       jsonb,
    enqueued_at    timestamptz NOT NULL DEFAULT now(),
    visible_at     timestamptz NOT NULL DEFAULT now(),
    delivery_count int NOT NULL DEFAULT 0,
    CONSTRAINT {p}queue_events_pkey PRIMARY KEY (queue, message_id)
);
CREATE INDEX {p}queue_events_fifo_idx ON {p}queue_events (queue, seq);
CREATE INDEX {p}queue_events_enqueued_idx ON {p}queue_events (enqueued_at);

-- One lease per message: the receipt of its latest delivery. A dequeue that finds
-- an expired lease replaces it, which is what makes old receipts stale.
CREATE TABLE {p}in_flight_events (
    queue          text NOT NULL,
    message_id     uuid NOT NULL,
    receipt        text NOT NULL,
    consumer       text,
    leased_at      timestamptz NOT NULL DEFAULT now(),
    visible_until  timestamptz NOT NULL,
    delivery_count int NOT NULL,
    PRIMARY KEY (queue, message_id)
);
CREATE INDEX {p}in_flight_events_expiry_idx ON {p}in_flight_events (visible_until);

CREATE TABLE {p}dead_letter_queue (
    queue          text NOT NULL,
    message_id     uuid NOT NULL,
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    message_type   text NOT NULL,
    data           jsonb NOT NULL,
    metadata       jsonb,
    enqueued_at    timestamptz NOT NULL,
    failed_at      timestamptz NOT NULL DEFAULT now(),
    delivery_count int NOT NULL,
    reason         text NOT NULL,
    PRIMARY KEY (queue, message_id)
);
CREATE INDEX {p}dead_letter_queue_seq_idx ON {p}dead_letter_queue (queue, seq);

-- Moves one message (locked by the caller's statement) to the dead letters.
CREATE FUNCTION {p}dead_letter(p_queue text, p_id uuid, p_reason text) RETURNS boolean
LANGUAGE sql
AS $$
    WITH gone AS (
        DELETE FROM {p}queue_events q WHERE q.queue = p_queue AND q.message_id = p_id
        RETURNING q.*
    ), lease AS (
        DELETE FROM {p}in_flight_events f WHERE f.queue = p_queue AND f.message_id = p_id
    )
    INSERT INTO {p}dead_letter_queue (queue, message_id, message_type, data, metadata, enqueued_at,
                                      delivery_count, reason)
    SELECT queue, message_id, message_type, data, metadata, enqueued_at, delivery_count, p_reason
      FROM gone
    ON CONFLICT (queue, message_id) DO NOTHING
    RETURNING true
$$;

-- JSON renderings of queue rows, built where the data lives.
CREATE FUNCTION {p}queue_json(q {p}queues, p_default_vt int, p_default_attempts int) RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT row_to_json(r)::text
      FROM (SELECT q.name AS queue,
                   c.pending, c.in_flight, c.total - c.pending - c.in_flight AS delayed,
                   (SELECT count(*) FROM {p}dead_letter_queue d WHERE d.queue = q.name) AS dead_letters,
                   coalesce(round(extract(epoch FROM now() - c.oldest)::numeric, 3), 0) AS oldest_pending_age_seconds,
                   (SELECT row_to_json(k) FROM (SELECT coalesce(q.visibility_timeout, p_default_vt) AS visibility_timeout,
                                                       coalesce(q.max_delivery_attempts, p_default_attempts)
                                                           AS max_delivery_attempts,
                                                       q.retention_seconds AS retention_seconds,
                                                       q.max_depth AS max_depth) k) AS config
              FROM (SELECT count(*) AS total,
                           count(*) FILTER (WHERE m.visible_at <= now()) AS pending,
                           min(m.enqueued_at) FILTER (WHERE m.visible_at <= now()) AS oldest,
                           (SELECT count(*) FROM {p}in_flight_events f
                             WHERE f.queue = q.name AND f.visible_until > now()) AS in_flight
                      FROM {p}queue_events m WHERE m.queue = q.name) c) r
$$;

-- Enqueues a batch. p_messages is a JSON array of {id?, type, data, metadata?,
-- delay_seconds?}. An id already in the queue (or its dead letters) is not
-- enqueued again and comes back with duplicate = true. Outcome 'full' (no rows
-- written) when the queue's max_depth would be passed.
CREATE FUNCTION {p}enqueue_messages(p_queue text, p_messages jsonb)
RETURNS TABLE (outcome text, message_id uuid, enqueued_at text, visible_at text, duplicate boolean)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_max_depth bigint;
    v_depth     bigint;
    v_ids       uuid[];
    v_new       uuid[];
BEGIN
    INSERT INTO {p}queues (name) VALUES (p_queue) ON CONFLICT (name) DO NOTHING;
    SELECT q.max_depth INTO v_max_depth FROM {p}queues q WHERE q.name = p_queue;
    IF v_max_depth IS NOT NULL THEN
        -- Depth checks of one queue take turns, so two batches cannot both fit.
        PERFORM pg_advisory_xact_lock(1936028018, hashtext(p_queue));
        SELECT count(*) INTO v_depth FROM {p}queue_events m WHERE m.queue = p_queue;
        -- Only messages not already there count: a retried batch adds nothing.
        SELECT v_depth + count(*) INTO v_depth
          FROM jsonb_array_elements(p_messages) AS x(m)
         WHERE (x.m ->> 'id') IS NULL
            OR NOT EXISTS (SELECT 1 FROM {p}queue_events e WHERE e.queue = p_queue AND e.message_id = (x.m ->> 'id')::uuid)
           AND NOT EXISTS (SELECT 1 FROM {p}dead_letter_queue d WHERE d.queue = p_queue AND d.message_id = (x.m ->> 'id')::uuid);
        IF v_depth > v_max_depth THEN
            RETURN QUERY SELECT 'full'::text, NULL::uuid, NULL::text, NULL::text, NULL::boolean;
            RETURN;
        END IF;
    END IF;

    v_ids := ARRAY(SELECT coalesce((x.m ->> 'id')::uuid, gen_random_uuid())
                     FROM jsonb_array_elements(p_messages) WITH ORDINALITY AS x(m, i) ORDER BY x.i);

    WITH input AS (
        SELECT u.id, x.m, x.i
          FROM jsonb_array_elements(p_messages) WITH ORDINALITY AS x(m, i)
          JOIN unnest(v_ids) WITH ORDINALITY AS u(id, i) ON u.i = x.i
    ), ins AS (
        INSERT INTO {p}queue_events AS q (queue, message_id, message_type, data, metadata, visible_at)
        SELECT p_queue, input.id, input.m ->> 'type', input.m -> 'data', nullif(input.m -> 'metadata', 'null'::jsonb),
               now() + make_interval(secs => coalesce((input.m ->> 'delay_seconds')::numeric::int, 0))
          FROM input
         WHERE NOT EXISTS (SELECT 1 FROM {p}dead_letter_queue d WHERE d.queue = p_queue AND d.message_id = input.id)
         ORDER BY input.i
        ON CONFLICT ON CONSTRAINT {p}queue_events_pkey DO NOTHING
        RETURNING q.message_id
    )
    SELECT ARRAY(SELECT ins.message_id FROM ins) INTO v_new;

    -- A new statement, so a duplicate that a concurrent enqueue committed is seen.
    -- Scalar subqueries keep every lookup on the primary keys.
    RETURN QUERY
    SELECT 'ok'::text, u.id,
           coalesce((SELECT {p}ts(q.enqueued_at) FROM {p}queue_events q WHERE q.queue = p_queue AND q.message_id = u.id),
                    (SELECT {p}ts(d.enqueued_at) FROM {p}dead_letter_queue d WHERE d.queue = p_queue AND d.message_id = u.id)),
           coalesce((SELECT {p}ts(q.visible_at) FROM {p}queue_events q WHERE q.queue = p_queue AND q.message_id = u.id),
                    (SELECT {p}ts(d.failed_at) FROM {p}dead_letter_queue d WHERE d.queue = p_queue AND d.message_id = u.id)),
           NOT (u.id = ANY (v_new))
      FROM unnest(v_ids) WITH ORDINALITY AS u(id, i)
     ORDER BY u.i;
END;
$$;

-- Settles one delivery: 'acked', 'not_found' (no lease) or 'stale' (another receipt).
CREATE FUNCTION {p}ack_message(p_queue text, p_id uuid, p_receipt text) RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_receipt text;
BEGIN
    SELECT f.receipt INTO v_receipt FROM {p}in_flight_events f
     WHERE f.queue = p_queue AND f.message_id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'not_found';
    ELSIF v_receipt <> p_receipt THEN
        RETURN 'stale';
    END IF;
    DELETE FROM {p}in_flight_events f WHERE f.queue = p_queue AND f.message_id = p_id;
    DELETE FROM {p}queue_events m WHERE m.queue = p_queue AND m.message_id = p_id;
    RETURN 'acked';
END;
$$;

-- Gives a delivery back: requeued after p_delay seconds, or to the dead letters
-- when p_requeue is false or the message has used its deliveries.
-- Returns 'requeued', 'dead_lettered', 'not_found' or 'stale'.
CREATE FUNCTION {p}nack_message(p_queue text, p_id uuid, p_receipt text, p_requeue boolean, p_delay int,
                                p_reason text, p_default_attempts int) RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_receipt  text;
    v_count    int;
    v_attempts int;
BEGIN
    SELECT f.receipt, f.delivery_count INTO v_receipt, v_count FROM {p}in_flight_events f
     WHERE f.queue = p_queue AND f.message_id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'not_found';
    ELSIF v_receipt <> p_receipt THEN
        RETURN 'stale';
    END IF;
    SELECT coalesce(max(q.max_delivery_attempts), p_default_attempts) INTO v_attempts
      FROM {p}queues q WHERE q.name = p_queue;
    IF NOT p_requeue THEN
        PERFORM {p}dead_letter(p_queue, p_id, coalesce(p_reason, 'nack'));
        RETURN 'dead_lettered';
    ELSIF v_count >= v_attempts THEN
        PERFORM {p}dead_letter(p_queue, p_id, coalesce(p_reason, 'max_delivery_attempts'));
        RETURN 'dead_lettered';
    END IF;
    DELETE FROM {p}in_flight_events f WHERE f.queue = p_queue AND f.message_id = p_id;
    UPDATE {p}queue_events m SET visible_at = now() + make_interval(secs => p_delay)
     WHERE m.queue = p_queue AND m.message_id = p_id;
    RETURN 'requeued';
END;
$$;

-- Moves a lease's end: outcome 'ok' with the new end, 'not_found' or 'stale'.
CREATE FUNCTION {p}set_visibility(p_queue text, p_id uuid, p_receipt text, p_timeout int,
                                  OUT outcome text, OUT visible_until text)
LANGUAGE plpgsql
AS $$
DECLARE
    v_receipt text;
    v_until   timestamptz := now() + make_interval(secs => p_timeout);
BEGIN
    SELECT f.receipt INTO v_receipt FROM {p}in_flight_events f
     WHERE f.queue = p_queue AND f.message_id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    ELSIF v_receipt <> p_receipt THEN
        outcome := 'stale';
        RETURN;
    END IF;
    UPDATE {p}in_flight_events f SET visible_until = v_until WHERE f.queue = p_queue AND f.message_id = p_id;
    UPDATE {p}queue_events m SET visible_at = v_until WHERE m.queue = p_queue AND m.message_id = p_id;
    outcome := 'ok';
    visible_until := {p}ts(v_until);
END;
$$;

-- The sweeper's step, safe to run from several instances at once: expired leases
-- are dropped (the message is visible again already, since visible_at is the
-- lease's end) or, when the message has used its deliveries, it moves to the dead
-- letters. Messages older than their queue's retention are deleted. Returns what it did.
CREATE FUNCTION {p}cleanup_expired_in_flight(p_default_attempts int, p_limit int)
RETURNS TABLE (requeued bigint, dead_lettered bigint, expired bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    v_requeued bigint := 0;
    v_dead     bigint := 0;
    v_expired  bigint := 0;
    r          record;
BEGIN
    FOR r IN
        SELECT f.queue, f.message_id, f.delivery_count,
               coalesce(c.max_delivery_attempts, p_default_attempts) AS max_attempts
          FROM {p}in_flight_events f
          LEFT JOIN {p}queues c ON c.name = f.queue
         WHERE f.visible_until <= now()
         ORDER BY f.visible_until
         LIMIT p_limit
           FOR UPDATE OF f SKIP LOCKED
    LOOP
        IF r.delivery_count >= r.max_attempts THEN
            PERFORM {p}dead_letter(r.queue, r.message_id, 'max_delivery_attempts');
            v_dead := v_dead + 1;
        ELSE
            DELETE FROM {p}in_flight_events f WHERE f.queue = r.queue AND f.message_id = r.message_id;
            v_requeued := v_requeued + 1;
        END IF;
    END LOOP;

    WITH old AS (
        SELECT m.queue, m.message_id FROM {p}queue_events m JOIN {p}queues c ON c.name = m.queue
         WHERE m.enqueued_at < now() - make_interval(secs => c.retention_seconds)
         LIMIT p_limit
           FOR UPDATE OF m SKIP LOCKED
    ), gone AS (
        DELETE FROM {p}queue_events m USING old WHERE m.queue = old.queue AND m.message_id = old.message_id
        RETURNING m.queue, m.message_id
    ), leases AS (
        DELETE FROM {p}in_flight_events f USING gone WHERE f.queue = gone.queue AND f.message_id = gone.message_id
    )
    SELECT count(*) INTO v_expired FROM gone;

    RETURN QUERY SELECT v_requeued, v_dead, v_expired;
END;
$$;
