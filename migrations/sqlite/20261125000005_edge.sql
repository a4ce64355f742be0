-- Idempotency records (see the Postgres migration). Rate limits on SQLite are counted in the
-- one process's memory, so there is no counter table here.
CREATE TABLE idempotency_keys
(
    account_id      text    NOT NULL,
    idempotency_key text    NOT NULL,
    fingerprint     text    NOT NULL,
    created_at      integer NOT NULL,
    locked_until    integer NOT NULL,
    response_status integer,
    response_body   text,
    PRIMARY KEY (account_id, idempotency_key)
);

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
