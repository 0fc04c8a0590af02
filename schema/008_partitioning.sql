-- streamq schema, version 8: optional time partitioning of events.
--
-- The choice (--partitioning none|time, and --partition-width) is made when
-- this migration runs and is then fixed: it is recorded in {p}settings, and a
-- later start asking for something else is refused (db/migrate.c). The runner
-- passes the options in the settings streamq.partitioning and
-- streamq.partition_width of the migration transaction.
--
-- none: nothing changes; every event, stream and setting stays as it is.
-- time: only while events is still empty (a new schema, or one never written),
-- events is replaced by a table range-partitioned by created_at, one partition
-- per width aligned on the Unix epoch, named {p}events_p<first second>, plus a
-- DEFAULT partition that takes what no range covers, so an append never fails
-- for want of a partition. A schema that already holds events stays
-- non-partitioned (recorded as none).
--
-- Unique event ids across partitions: a unique index of a partitioned table must
-- contain the partition key, so it cannot make event_id unique. Partitioned, the
-- ids live in a table of their own, {p}event_ids (event_id primary key, and
-- (stream, stream_offset) unique as version 1's constraint), written by a
-- statement trigger of every insert into events (a repeated id fails the append
-- with unique_violation, as before) and cleared by one of every delete (a
-- trimmed or deleted stream's ids are free again, as before). append_batch
-- looks ids up, for idempotent retries and duplicates, in the view
-- {p}event_keys: events itself when not partitioned, event_ids when partitioned,
-- so the lookup is one primary-key probe whatever the number of partitions.
-- Dropping a partition fires no trigger: the ids of its events are deleted
-- after it, in bounded batches (forget_dropped_event_ids), those older than
-- the oldest remaining range partition, except the DEFAULT partition's. Until
-- then a retry of a dropped batch is answered idempotent with its old offsets.
--
-- Each stream's events are in created_at order: append_batch now stamps them
-- with the time after the stream locks (clock_timestamp()), not the start of the
-- transaction, so a later append to a stream never has an earlier created_at.
-- Dropping the oldest partitions therefore removes a leading run of each
-- stream's offsets, which is what first_offset describes.

CREATE TABLE {p}settings (
    name  text PRIMARY KEY,
    value text NOT NULL
);

CREATE VIEW {p}event_keys AS
SELECT event_id, stream, stream_offset, global_position FROM {p}events;

-- append_batch as in version 4 but for the lookups in event_keys and the created_at.
CREATE OR REPLACE FUNCTION {p}append_batch(p_streams text[], p_expected text[], p_check_ids boolean[],
                                           p_bodies jsonb[])
RETURNS TABLE (request int, outcome text, current_version bigint, event_id uuid, stream_offset bigint,
               global_position bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_n        int := cardinality(p_streams);
    v_outcome  text[] := array_fill(NULL::text, ARRAY[v_n]);
    v_version  bigint[] := array_fill(NULL::bigint, ARRAY[v_n]);
    v_offset   bigint[] := array_fill(NULL::bigint, ARRAY[v_n]);
    v_index    int[] := array_fill(NULL::int, ARRAY[v_n]);
    v_written  text[] := '{}';
    v_versions bigint[] := '{}';
    v_first    int := coalesce(nullif(current_setting('streamq.next_index', true), ''), '0')::int;
    v_next     int := v_first;
    v_stream   text;
    v_cur      bigint;
    v_changed  boolean := false;
    v_base     bigint;
    v_found    bigint[];
    v_same     bigint[];
    v_shapes   bigint[];
    v_refused  boolean := false; -- some append was not written (retry, conflict...)
    v_now      timestamptz;
    r          record;
BEGIN
    PERFORM pg_advisory_xact_lock(1936028017, l.h)
       FROM (SELECT DISTINCT hashtext(s) AS h FROM unnest(p_streams) AS s ORDER BY 1) l;
    -- Taken under the locks: per stream, created_at never goes back.
    v_now := clock_timestamp();

    IF true = ANY (p_check_ids) THEN
        SELECT array_agg(k.found ORDER BY a.i), array_agg(k.same ORDER BY a.i), array_agg(k.shapes ORDER BY a.i)
          INTO v_found, v_same, v_shapes
          FROM unnest(p_streams, p_check_ids, p_bodies) WITH ORDINALITY AS a(s, c, b, i)
          LEFT JOIN LATERAL (
              SELECT count(*) AS found, count(*) FILTER (WHERE e.stream = a.s) AS same,
                     count(DISTINCT e.stream_offset - x.n) + count(DISTINCT e.global_position >> 12) AS shapes
                FROM jsonb_array_elements(a.b -> 'events') WITH ORDINALITY AS x(ev, n)
                JOIN {p}event_keys e ON e.event_id = (x.ev ->> 'id')::uuid
               WHERE a.c) k ON true;
    END IF;

    FOR r IN
        SELECT a.i::int AS i, a.s, a.x, jsonb_array_length(a.b -> 'events') AS n, st.version, st.state
          FROM unnest(p_streams, p_expected, p_bodies) WITH ORDINALITY AS a(s, x, b, i)
          LEFT JOIN {p}streams st ON st.name = a.s
         ORDER BY a.s, a.i
    LOOP
        IF v_stream IS DISTINCT FROM r.s THEN
            IF v_changed THEN
                v_written := v_written || v_stream;
                v_versions := v_versions || v_cur;
            END IF;
            v_stream := r.s;
            v_cur := coalesce(r.version, -1);
            v_changed := false;
        END IF;
        IF coalesce(v_found[r.i], 0) > 0 THEN
            v_outcome[r.i] := CASE WHEN v_found[r.i] = r.n AND v_same[r.i] = r.n AND v_shapes[r.i] = 2
                                   THEN 'idempotent' ELSE 'duplicate' END;
            v_refused := true;
        ELSIF r.state = 'archived' THEN
            v_outcome[r.i] := 'archived';
            v_refused := true;
        ELSIF NOT (r.x = 'any'
                   OR (r.x = 'no_stream' AND v_cur = -1)
                   OR (r.x = 'exists' AND v_cur >= 0)
                   OR (r.x ~ '^-?[0-9]+$' AND r.x::bigint = v_cur)) THEN
            v_outcome[r.i] := 'version_conflict';
            v_refused := true;
        ELSE
            v_outcome[r.i] := 'created';
            v_offset[r.i] := v_cur + 1;
            v_index[r.i] := v_next;
            v_next := v_next + r.n;
            v_cur := v_cur + r.n;
            v_changed := true;
        END IF;
        v_version[r.i] := v_cur;
    END LOOP;
    IF v_changed THEN
        v_written := v_written || v_stream;
        v_versions := v_versions || v_cur;
    END IF;

    IF v_next > v_first THEN
        IF v_next > 4096 THEN
            RAISE EXCEPTION 'more than 4096 events in one transaction' USING ERRCODE = 'program_limit_exceeded';
        END IF;
        PERFORM set_config('streamq.next_index', v_next::text, true);
        v_base := pg_current_xact_id()::text::bigint << 12;

        RETURN QUERY
        WITH src AS MATERIALIZED (
            SELECT a.i::int AS i, v_base + v_index[a.i::int] + x.n - 1 AS pos, a.s, v_offset[a.i::int] + x.n - 1 AS off,
                   coalesce((x.ev ->> 'id')::uuid, gen_random_uuid()) AS id, x.ev
              FROM unnest(p_streams, p_bodies) WITH ORDINALITY AS a(s, b, i),
                   jsonb_array_elements(a.b -> 'events') WITH ORDINALITY AS x(ev, n)
             WHERE v_outcome[a.i::int] = 'created'
        ), ins AS (
            INSERT INTO {p}events (global_position, stream, stream_offset, event_id, event_type, data, metadata,
                                   created_at)
            SELECT src.pos, src.s, src.off, src.id, src.ev ->> 'type', src.ev -> 'data',
                   nullif(src.ev -> 'metadata', 'null'::jsonb), v_now
              FROM src
        )
        SELECT src.i, 'created'::text, v_version[src.i], src.id, src.off, src.pos FROM src ORDER BY src.i, src.off;

        INSERT INTO {p}streams AS s (name, version, last_event_at)
        SELECT w.name, w.version, v_now FROM unnest(v_written, v_versions) AS w(name, version)
        ON CONFLICT (name) DO UPDATE SET version = excluded.version, last_event_at = excluded.last_event_at;
    END IF;

    IF v_refused THEN
        RETURN QUERY
        SELECT a.i::int, 'idempotent'::text, v_version[a.i::int], e.event_id, e.stream_offset, e.global_position
          FROM unnest(p_bodies) WITH ORDINALITY AS a(b, i),
               jsonb_array_elements(a.b -> 'events') WITH ORDINALITY AS x(ev, n)
          JOIN {p}event_keys e ON e.event_id = (x.ev ->> 'id')::uuid
         WHERE v_outcome[a.i::int] = 'idempotent'
         ORDER BY a.i, x.n;

        RETURN QUERY
        SELECT o.i::int, o.word, v_version[o.i::int], NULL::uuid, NULL::bigint, NULL::bigint
          FROM unnest(v_outcome) WITH ORDINALITY AS o(word, i)
         WHERE o.word NOT IN ('created', 'idempotent');
    END IF;
END;
$$;

------------------------------------------------------------------------------
-- Partitioned events
------------------------------------------------------------------------------

CREATE FUNCTION {p}event_partition_width() RETURNS bigint
LANGUAGE sql STABLE
AS $$ SELECT value::bigint FROM {p}settings WHERE name = 'partition_width' $$;

-- The range partitions, oldest first, with their bounds (from their names).
CREATE FUNCTION {p}event_partitions()
RETURNS TABLE (name text, lower_bound timestamptz, upper_bound timestamptz)
LANGUAGE sql STABLE
AS $$
    SELECT c.relname::text, to_timestamp(substr(c.relname, length('{p}events_p') + 1)::bigint),
           to_timestamp(substr(c.relname, length('{p}events_p') + 1)::bigint + {p}event_partition_width())
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = '{p}events'::regclass
       AND c.relname ~ ('^{p}events_p[0-9]+$')
     ORDER BY 2
$$;

-- Creates the range partitions from the current one through p_ahead widths
-- later that do not exist yet. ATTACH takes only a SHARE UPDATE EXCLUSIVE lock
-- of events (CREATE ... PARTITION OF would take an ACCESS EXCLUSIVE one), and
-- every lock is waited for at most 100 ms, so appends are not held up. A range
-- whose events already went to the DEFAULT partition cannot get a partition
-- (they stay there, trimmed row by row); later ones still do. Several instances:
-- one works, the others find the try-lock taken. Returns how many it created.
CREATE FUNCTION {p}add_event_partitions(p_ahead int) RETURNS int
LANGUAGE plpgsql
AS $$
DECLARE
    v_width   bigint := {p}event_partition_width();
    v_first   bigint;
    v_lower   bigint;
    v_name    text;
    v_created int := 0;
BEGIN
    IF v_width IS NULL
       OR NOT pg_try_advisory_xact_lock(1936028021, hashtext(current_schema() || '.{p}events')) THEN
        RETURN 0;
    END IF;
    PERFORM set_config('lock_timeout', '100ms', true);
    v_first := floor(extract(epoch FROM clock_timestamp()) / v_width)::bigint * v_width;
    FOR k IN 0 .. p_ahead LOOP
        v_lower := v_first + k * v_width;
        v_name := '{p}events_p' || v_lower;
        CONTINUE WHEN to_regclass(quote_ident(v_name)) IS NOT NULL;
        BEGIN
            EXECUTE format('CREATE TABLE %I (LIKE {p}events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
            EXECUTE format('ALTER TABLE {p}events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', v_name,
                           to_timestamp(v_lower), to_timestamp(v_lower + v_width));
            v_created := v_created + 1;
        EXCEPTION
            WHEN check_violation THEN
                NULL; -- the DEFAULT partition holds events of this range
            WHEN lock_not_available THEN
                RETURN v_created; -- busy: the next run goes on
        END;
    END LOOP;
    RETURN v_created;
END;
$$;

-- Drops the oldest range partition when every event in it is past retention:
-- for each stream with events there, its policy (or, without one, the defaults)
-- expires them all by age (the partition's end is older than max_age_seconds)
-- or by count (its last offset there is beyond the newest max_count). Only a
-- partition that ended at least one width ago: no append can still be writing
-- to it. A SHARE lock of the partition (appends go to newer ones; reads go on)
-- keeps it still while it is examined; DROP then takes ACCESS EXCLUSIVE of
-- events, waited for at most 100 ms, and the streams' first_offset moves past
-- it in the same short transaction. Returns how many events went (0 when none
-- was due, busy or kept) and the partition's name.
CREATE FUNCTION {p}drop_event_partition(p_default_age bigint, p_default_count bigint,
                                        OUT dropped bigint, OUT partition text)
LANGUAGE plpgsql
AS $$
DECLARE
    v_part    record;
    v_kept    boolean;
    v_streams text[];
    v_through bigint[];
BEGIN
    dropped := 0;
    IF NOT pg_try_advisory_xact_lock(1936028021, hashtext(current_schema() || '.{p}events')) THEN
        RETURN;
    END IF;
    SELECT p.* INTO v_part FROM {p}event_partitions() p ORDER BY p.lower_bound LIMIT 1;
    IF NOT FOUND OR v_part.upper_bound > now() - make_interval(secs => {p}event_partition_width()) THEN
        RETURN;
    END IF;
    PERFORM set_config('lock_timeout', '100ms', true);
    BEGIN
        EXECUTE format('LOCK TABLE %I IN SHARE MODE', v_part.name);
        -- Per stream: the first and last offset it has in the partition, and
        -- whether retention keeps any of them. One index probe each way.
        EXECUTE format($q$
            SELECT coalesce(bool_or(k.kept), false), array_agg(k.name), array_agg(k.last_offset),
                   coalesce(sum(k.last_offset - k.first_offset + 1), 0)
              FROM (SELECT s.name, x.first_offset, x.last_offset,
                           NOT (coalesce(CASE WHEN r.stream IS NULL THEN $1 ELSE r.max_age_seconds END
                                             <= extract(epoch FROM now() - $3), false)
                                OR coalesce(x.last_offset <= s.version
                                                - CASE WHEN r.stream IS NULL THEN $2 ELSE r.max_count END, false))
                               AS kept
                      FROM {p}streams s
                      LEFT JOIN {p}retention_policies r ON r.stream = s.name
                     CROSS JOIN LATERAL (
                         SELECT (SELECT e.stream_offset FROM %1$I e WHERE e.stream = (s.name COLLATE "default")
                                  ORDER BY e.stream_offset LIMIT 1) AS first_offset,
                                (SELECT e.stream_offset FROM %1$I e WHERE e.stream = (s.name COLLATE "default")
                                  ORDER BY e.stream_offset DESC LIMIT 1) AS last_offset) x
                     WHERE x.last_offset IS NOT NULL) k
            $q$, v_part.name)
            INTO v_kept, v_streams, v_through, dropped
            USING p_default_age, p_default_count, v_part.upper_bound;
        IF v_kept THEN
            dropped := 0;
            RETURN;
        END IF;
        EXECUTE format('DROP TABLE %I', v_part.name);
        UPDATE {p}streams s
           SET first_offset = greatest(s.first_offset, g.through + 1),
               trimmed_through = greatest(coalesce(s.trimmed_through, -1), g.through),
               trimmed_at = now()
          FROM unnest(v_streams, v_through) AS g(name, through)
         WHERE s.name = g.name AND g.through >= s.first_offset;
        partition := v_part.name;
    EXCEPTION
        WHEN lock_not_available THEN
            dropped := 0; -- busy: the next run tries again
    END;
END;
$$;

-- Deletes up to p_limit ids of events whose partition was dropped: those older
-- than the oldest range partition that are not the DEFAULT partition's. Returns
-- how many went.
CREATE FUNCTION {p}forget_dropped_event_ids(p_limit int) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_floor timestamptz := (SELECT min(p.lower_bound) FROM {p}event_partitions() p);
    v_gone  bigint;
BEGIN
    IF v_floor IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM {p}event_ids i
     WHERE i.ctid = ANY (ARRAY(
               SELECT x.ctid FROM {p}event_ids x
                WHERE x.created_at < v_floor
                  AND NOT EXISTS (SELECT 1 FROM {p}events_default d
                                   WHERE d.global_position = x.global_position AND d.created_at = x.created_at)
                LIMIT p_limit));
    GET DIAGNOSTICS v_gone = ROW_COUNT;
    RETURN v_gone;
END;
$$;

CREATE FUNCTION {p}event_ids_added() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO {p}event_ids (event_id, stream, stream_offset, global_position, created_at)
    SELECT n.event_id, n.stream, n.stream_offset, n.global_position, n.created_at FROM new_events n;
    RETURN NULL;
END;
$$;

CREATE FUNCTION {p}event_ids_removed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM {p}event_ids i USING old_events o WHERE i.event_id = o.event_id;
    RETURN NULL;
END;
$$;

-- Replaces the empty events table by the partitioned one (see the top).
CREATE FUNCTION {p}partition_events(p_width bigint) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM {p}events) THEN
        RAISE EXCEPTION 'events is not empty: it cannot become partitioned';
    END IF;
    DROP VIEW {p}event_keys;
    DROP TABLE {p}events;

    CREATE TABLE {p}events (
        global_position bigint NOT NULL,
        stream          text NOT NULL,
        stream_offset   bigint NOT NULL,
        event_id        uuid NOT NULL,
        event_type      text NOT NULL,
        data            jsonb NOT NULL,
        metadata        jsonb,
        created_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT {p}events_pkey PRIMARY KEY (global_position, created_at)
    ) PARTITION BY RANGE (created_at);
    CREATE INDEX {p}events_stream_offset_idx ON {p}events (stream, stream_offset);
    CREATE TABLE {p}events_default PARTITION OF {p}events DEFAULT;

    CREATE TABLE {p}event_ids (
        event_id        uuid PRIMARY KEY,
        stream          text NOT NULL,
        stream_offset   bigint NOT NULL,
        global_position bigint NOT NULL,
        created_at      timestamptz NOT NULL,
        CONSTRAINT {p}event_ids_stream_offset_key UNIQUE (stream, stream_offset)
    );
    -- Rows arrive in about created_at order: a BRIN index finds a dropped range
    -- cheaply, summarised as each range of pages fills (not only at vacuum).
    CREATE INDEX {p}event_ids_created_idx ON {p}event_ids USING brin (created_at) WITH (autosummarize = on);

    CREATE VIEW {p}event_keys AS
    SELECT event_id, stream, stream_offset, global_position FROM {p}event_ids;

    CREATE TRIGGER {p}events_notify AFTER INSERT ON {p}events
        REFERENCING NEW TABLE AS new_events
        FOR EACH STATEMENT EXECUTE FUNCTION {p}notify_events();
    CREATE TRIGGER {p}events_ids_added AFTER INSERT ON {p}events
        REFERENCING NEW TABLE AS new_events
        FOR EACH STATEMENT EXECUTE FUNCTION {p}event_ids_added();
    CREATE TRIGGER {p}events_ids_removed AFTER DELETE ON {p}events
        REFERENCING OLD TABLE AS old_events
        FOR EACH STATEMENT EXECUTE FUNCTION {p}event_ids_removed();

    INSERT INTO {p}settings (name, value) VALUES ('partitioning', 'time'), ('partition_width', p_width::text);
    PERFORM {p}add_event_partitions(2);
    RESET lock_timeout; -- add_event_partitions' limit is not for the rest of the migration
END;
$$;

DO $$
BEGIN
    IF current_setting('streamq.partitioning', true) = 'time' AND NOT EXISTS (SELECT 1 FROM {p}events) THEN
        PERFORM {p}partition_events(current_setting('streamq.partition_width')::bigint);
    ELSE
        INSERT INTO {p}settings (name, value) VALUES ('partitioning', 'none');
    END IF;
END;
$$;

------------------------------------------------------------------------------
-- Row trimming next to partition drops
------------------------------------------------------------------------------

-- retention_candidates and trim_stream as in version 6, with p_age_grace
-- (and a candidate's oldest event found through the index: streams.name is
-- COLLATE "C", events.stream is not, and the comparison of the two could not
-- use the index, a scan of events per stream):
-- events are trimmed by age only once p_age_grace seconds past their
-- max_age_seconds. Partitioned, the worker passes a few widths, so that
-- events expiring by age go with their whole partition rather than row by row
-- (those of a partition that cannot go, e.g. shared with a stream kept for
-- ever, or of the DEFAULT partition, still go, that much later).
DROP FUNCTION {p}retention_candidates(bigint, bigint, text, int);
DROP FUNCTION {p}trim_stream(text, bigint, bigint, int);

CREATE FUNCTION {p}retention_candidates(p_default_age bigint, p_default_count bigint, p_age_grace bigint,
                                        p_after text, p_limit int)
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
                 WHERE e.stream = (s.name COLLATE "default") AND e.stream_offset >= s.first_offset
                 ORDER BY e.stream_offset LIMIT 1)
               < now() - make_interval(secs => p_age_grace + CASE WHEN r.stream IS NULL THEN p_default_age
                                                                  ELSE r.max_age_seconds END))
     ORDER BY s.name
     LIMIT p_limit
$$;

CREATE FUNCTION {p}trim_stream(p_stream text, p_default_age bigint, p_default_count bigint, p_age_grace bigint,
                               p_limit int, OUT trimmed bigint, OUT first_offset bigint)
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
               OR (v_age IS NOT NULL AND e.created_at < now() - make_interval(secs => v_age + p_age_grace)) AS expired
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
