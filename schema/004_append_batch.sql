-- streamq schema, version 4: appends are written set-based. The appends a
-- request group combines (db/append_group.c), or a single append, are one call
-- of append_batch() with typed arrays: every stream lock first, in one order;
-- every outcome decided from one query over the group; then one INSERT of all
-- the group's events and one upsert of its streams. No per-append statement and
-- no subtransaction (each would take an xid of its own, and over 64 of them
-- overflow PostgreSQL's subtransaction cache and slow every session's snapshots).
-- No table changes: every event, stream and setting stays as it is.

DROP FUNCTION {p}append_batch(jsonb);
DROP FUNCTION {p}append_events(text, text, jsonb, boolean);

-- p_streams, p_expected ('any', 'no_stream', 'exists' or a version), p_check_ids
-- (some event id came from the client: look for retries and duplicates) and
-- p_bodies (each request body, {"events": [{id?, type, data, metadata?}…]}) are
-- parallel arrays, one element per append. Appends to one stream are decided in
-- array order, each seeing the versions the earlier ones wrote. Returns, per
-- append (`request`, 1-based): one row per event when it was written
-- ('created') or is a retry of an earlier append ('idempotent'), or one row
-- with the outcome ('version_conflict', 'duplicate', 'archived') and the
-- stream's current version. `current_version` of a written append is the
-- version after it. A unique violation (two appends of the group carrying the
-- same new id) fails the whole call: the caller then writes each alone.
CREATE FUNCTION {p}append_batch(p_streams text[], p_expected text[], p_check_ids boolean[], p_bodies jsonb[])
RETURNS TABLE (request int, outcome text, current_version bigint, event_id uuid, stream_offset bigint,
               global_position bigint)
LANGUAGE plpgsql
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
    r          record;
BEGIN
    -- Serialise with every other append to these streams before the first write:
    -- the xid, and with it the global position, is assigned only after the locks,
    -- so a later append to a stream always gets a larger position. One order for
    -- every group: groups cannot deadlock on each other.
    PERFORM pg_advisory_xact_lock(1936028017, l.h)
       FROM (SELECT DISTINCT hashtext(s) AS h FROM unnest(p_streams) AS s ORDER BY 1) l;

    -- Same ids, same order, one earlier append to this stream: a retry. Same
    -- order means offset - index is one constant; one append means one xid.
    -- Looked up only when some append of the group carries ids.
    IF true = ANY (p_check_ids) THEN
        SELECT array_agg(k.found ORDER BY a.i), array_agg(k.same ORDER BY a.i), array_agg(k.shapes ORDER BY a.i)
          INTO v_found, v_same, v_shapes
          FROM unnest(p_streams, p_check_ids, p_bodies) WITH ORDINALITY AS a(s, c, b, i)
          LEFT JOIN LATERAL (
              SELECT count(*) AS found, count(*) FILTER (WHERE e.stream = a.s) AS same,
                     count(DISTINCT e.stream_offset - x.n) + count(DISTINCT e.global_position >> 12) AS shapes
                FROM jsonb_array_elements(a.b -> 'events') WITH ORDINALITY AS x(ev, n)
                JOIN {p}events e ON e.event_id = (x.ev ->> 'id')::uuid
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
        -- Positions hold 4096 events per transaction; appends combined in one
        -- transaction continue the index where the previous call stopped.
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
            INSERT INTO {p}events (global_position, stream, stream_offset, event_id, event_type, data, metadata)
            SELECT src.pos, src.s, src.off, src.id, src.ev ->> 'type', src.ev -> 'data',
                   nullif(src.ev -> 'metadata', 'null'::jsonb)
              FROM src
        )
        SELECT src.i, 'created'::text, v_version[src.i], src.id, src.off, src.pos FROM src ORDER BY src.i, src.off;

        INSERT INTO {p}streams AS s (name, version, last_event_at)
        SELECT w.name, w.version, now() FROM unnest(v_written, v_versions) AS w(name, version)
        ON CONFLICT (name) DO UPDATE SET version = excluded.version, last_event_at = excluded.last_event_at;
    END IF;

    -- Only when some append was not written: each statement costs its
    -- executor start-up even when it returns nothing.
    IF v_refused THEN
        RETURN QUERY
        SELECT a.i::int, 'idempotent'::text, v_version[a.i::int], e.event_id, e.stream_offset, e.global_position
          FROM unnest(p_bodies) WITH ORDINALITY AS a(b, i),
               jsonb_array_elements(a.b -> 'events') WITH ORDINALITY AS x(ev, n)
          JOIN {p}events e ON e.event_id = (x.ev ->> 'id')::uuid
         WHERE v_outcome[a.i::int] = 'idempotent'
         ORDER BY a.i, x.n;

        RETURN QUERY
        SELECT o.i::int, o.word, v_version[o.i::int], NULL::uuid, NULL::bigint, NULL::bigint
          FROM unnest(v_outcome) WITH ORDINALITY AS o(word, i)
         WHERE o.word NOT IN ('created', 'idempotent');
    END IF;
END;
$$;

-- The group's statements take arrays whose sizes the planner cannot see; a
-- custom plan per call costs more than it could save (measured: 0.58 ms per
-- one-event call with custom plans, less with generic ones).
ALTER FUNCTION {p}append_batch(text[], text[], boolean[], jsonb[]) SET plan_cache_mode = force_generic_plan;
