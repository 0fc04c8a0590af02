-- streamq schema, version 3: webhooks (push delivery of stream events).
-- One row per webhook: where it delivers, what it follows (one stream, or every
-- stream whose name starts with a prefix, in global order), how far it got, and
-- the state of the batch in flight, so that a retry resends the same batch under
-- the same webhook-id. Which instance delivers a webhook is decided by a
-- session advisory lock (see db/webhooks.c), not by a column: it ends with the
-- instance's connection.

CREATE TABLE {p}webhooks (
    name                 text COLLATE "C" PRIMARY KEY,
    url                  text NOT NULL,
    stream               text,
    stream_prefix        text,
    types                text[],
    -- stream webhooks: the next offset to deliver; prefix webhooks: the global
    -- position after the last delivered event (the global read's from_position).
    position             bigint NOT NULL CHECK (position >= 0),
    max_batch            int NOT NULL DEFAULT 100 CHECK (max_batch BETWEEN 1 AND 1000),
    secret               text NOT NULL,
    paused               boolean NOT NULL DEFAULT false,
    consecutive_failures int NOT NULL DEFAULT 0,
    last_delivery_at     timestamptz,
    last_error           text,
    next_attempt_at      timestamptz NOT NULL DEFAULT now(),
    -- The batch in flight: its webhook-id and the position delivery moves to on a 2xx.
    delivery_id          uuid,
    delivery_end         bigint,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((stream IS NULL) <> (stream_prefix IS NULL))
);
CREATE INDEX {p}webhooks_due_idx ON {p}webhooks (next_attempt_at) WHERE NOT paused;
