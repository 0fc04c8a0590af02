-- streamq schema, version 7: POST /transactions remembers, for a while, the
-- answer of each transaction a client named with a transaction_id, so that a
-- retry after a lost answer gets the original answer instead of applying the
-- operations again (an ack retried after it committed would be refused). The
-- row is written in the transaction it describes: it exists exactly when the
-- transaction committed. The retention worker deletes rows past their age.
-- No existing table changes.

CREATE TABLE {p}transactions (
    id           uuid PRIMARY KEY,
    -- sha256 of the operations as jsonb text: a retry must send the same ones.
    request_hash bytea NOT NULL,
    response     text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX {p}transactions_created_idx ON {p}transactions (created_at);
