-- One queue cycle with batches of 1, in PGMQ's style (see bench/README.md):
-- the statements of pgmq.send(queue, msg), pgmq.read(queue, vt => 30, qty => 1)
-- and pgmq.delete(queue, msg_id), each its own transaction (autocommit) as three
-- function calls would be, run as prepared statements (pgbench -M prepared).
-- :msg (one message, jsonb text) comes from pgbench -D.

-- send
INSERT INTO pgmq.q_bench (vt, message, headers) VALUES (clock_timestamp(), :msg::jsonb, NULL)
RETURNING msg_id;

-- read: the oldest visible message, leased for 30 s; the row goes to the client.
-- The LEFT JOIN keeps exactly one row (NULLs when the queue had nothing visible)
-- so that \gset always has a row to store.
WITH cte AS (
    SELECT msg_id FROM pgmq.q_bench
     WHERE vt <= clock_timestamp()
     ORDER BY msg_id ASC
     LIMIT 1
     FOR UPDATE SKIP LOCKED
), upd AS (
    UPDATE pgmq.q_bench m
       SET vt = clock_timestamp() + interval '30 seconds', read_ct = read_ct + 1
      FROM cte
     WHERE m.msg_id = cte.msg_id
    RETURNING m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message, m.headers
)
SELECT u.msg_id AS id, u.read_ct AS r_read_ct, u.enqueued_at AS r_enqueued_at, u.vt AS r_vt,
       u.message AS r_message, u.headers AS r_headers
  FROM (SELECT 1) one LEFT JOIN upd u ON true
\gset

-- delete (ack): the message read, if any
DELETE FROM pgmq.q_bench WHERE msg_id = nullif(:id, '')::bigint
RETURNING msg_id;
