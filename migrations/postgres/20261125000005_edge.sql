-- Request-edge state that every `serve` process must share: rate-limit counters and
-- idempotency records. Neither is part of the event log; both expire.

-- One row per key, endpoint and one-minute window. UNLOGGED: counters need no crash safety
-- (a crash forgets at most one window), and skipping the WAL keeps the per-request write cheap.
CREATE UNLOGGED TABLE rate_limit_windows
(
    key_id       text    NOT NULL,
    endpoint     text    NOT NULL,
    window_start bigint  NOT NULL,
    hits         integer NOT NULL,
    PRIMARY KEY (key_id, endpoint, window_start)
);

CREATE TABLE idempotency_keys
(
    account_id      text   NOT NULL,
    idempotency_key text   NOT NULL,
    fingerprint     text   NOT NULL,
    created_at      bigint NOT NULL,
    locked_until    bigint NOT NULL,
    response_status integer,
    response_body   text,
    PRIMARY KEY (account_id, idempotency_key)
);

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
