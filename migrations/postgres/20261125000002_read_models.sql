-- Read models: derived from events alone, dropped and rebuilt by `altframe projections rebuild`.
-- Each projection remembers the last event it applied, in the same transaction as its writes.
CREATE TABLE projection_checkpoints
(
    name           text    NOT NULL PRIMARY KEY,
    transaction_id text    NOT NULL,
    position       bigint NOT NULL
);

CREATE TABLE accounts
(
    id              text    NOT NULL PRIMARY KEY,
    name            text    NOT NULL,
    plan            text    NOT NULL,
    language        text    NOT NULL,
    overage_enabled boolean NOT NULL,
    created_at      text    NOT NULL
);

CREATE TABLE api_keys
(
    id         text NOT NULL PRIMARY KEY,
    account_id text NOT NULL,
    name       text NOT NULL,
    key_hash   text NOT NULL UNIQUE,
    key_prefix text NOT NULL,
    created_at text NOT NULL,
    revoked_at text
);

CREATE INDEX api_keys_by_account ON api_keys (account_id, created_at);
