-- The statement streamq runs for a one-event append (db/statements.c,
-- STMT_EVENTS_APPEND), with the request body passed as a parameter exactly as the
-- service passes it, so PostgreSQL parses the JSON on every call on both sides.
-- :body, :expected and :check come from pgbench -D; n picks one of 1000 streams.
\set n random(1, 1000)
SELECT outcome, current_version, event_id, stream_offset, global_position
  FROM event_streaming.append_events('bench-' || :n, :expected, :body::jsonb -> 'events', :check::boolean);
