-- The reference queue of bench/queues.sh: one table shaped like a PGMQ queue
-- (pgmq.create(), non-partitioned: pgmq.q_<name> with msg_id identity primary
-- key, read_ct, enqueued_at, vt, message, headers, and an index on vt), dropped
-- and made anew before each configuration. psql runs it (it is not a pgbench script).
CREATE SCHEMA IF NOT EXISTS pgmq;
DROP TABLE IF EXISTS pgmq.q_bench;
CREATE TABLE pgmq.q_bench (
    msg_id      bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    read_ct     int DEFAULT 0 NOT NULL,
    enqueued_at timestamptz DEFAULT now() NOT NULL,
    vt          timestamptz NOT NULL,
    message     jsonb,
    headers     jsonb
);
CREATE INDEX q_bench_vt_idx ON pgmq.q_bench (vt ASC);
