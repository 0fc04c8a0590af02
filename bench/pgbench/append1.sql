-- The statement streamq runs for an append (db/statements.c, STMT_EVENTS_APPEND),
-- here for one append alone: a one-event transaction, with the request body passed
-- as a parameter as the service passes it, so PostgreSQL parses the JSON on every
-- call on both sides. :body, :expected and :check come from pgbench -D; n picks one
-- of 1000 streams.
\set n random(1, 1000)
SELECT request, outcome, current_version, event_id, stream_offset, global_position
  FROM event_streaming.append_batch(ARRAY['bench-' || :n], ARRAY[:expected], ARRAY[:check::boolean],
                                    ARRAY[:body::jsonb]);
