-- One queue cycle with batches of :batch, in PGMQ's style (see bench/README.md):
-- the statements of pgmq.send_batch(queue, msgs), pgmq.read(queue, vt => 30,
-- qty => :batch) and pgmq.delete(queue, msg_ids), each its own transaction
-- (autocommit) as three function calls would be, run as prepared statements
-- (pgbench -M prepared). :msgs (a jsonb[] literal of :batch messages) and :batch
-- come from pgbench -D.

-- send_batch
INSERT INTO pgmq.q_bench (vt, message)
SELECT clock_timestamp(), unnest(:msgs::jsonb[])
RETURNING msg_id;

-- read: up to :batch visible messages, oldest first, leased for 30 s. Every
-- column of every row goes to the client, as arrays in one row (pgbench's \gset
-- stores one row; the ids are what the delete needs).
WITH cte AS (
    SELECT msg_id FROM pgmq.q_bench
     WHERE vt <= clock_timestamp()
     ORDER BY msg_id ASC
     LIMIT :batch
     FOR UPDATE SKIP LOCKED
), upd AS (
    UPDATE pgmq.q_bench m
       SET vt = clock_timestamp() + interval '30 seconds', read_ct = read_ct + 1
      FROM cte
     WHERE m.msg_id = cte.msg_id
    RETURNING m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message, m.headers
)
SELECT coalesce(array_agg(msg_id), '{}') AS ids, array_agg(read_ct) AS r_read_ct,
       array_agg(enqueued_at) AS r_enqueued_at, array_agg(vt) AS r_vt,
       array_agg(message) AS r_message, array_agg(headers) AS r_headers
  FROM upd
\gset

-- delete (ack) of the messages read
DELETE FROM pgmq.q_bench WHERE msg_id = ANY (:ids::bigint[])
RETURNING msg_id;
