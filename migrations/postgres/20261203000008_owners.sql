-- The account owner's side: a plan change waiting for the next period (read model), when each
-- key was last used, and sign-in (logins, sessions, failed attempts). The last four are not
-- read models: no event records them, and `projections rebuild` leaves them as they are.
ALTER TABLE usage ADD COLUMN pending_plan text;
ALTER TABLE usage ADD COLUMN pending_plan_at text;
-- The dashboard lists an account's latest batches.
CREATE INDEX batches_by_account ON batches (account_id, created_at);

-- Written at most once a minute per key, by the process that saw the request.
CREATE TABLE api_key_last_used
(
    key_id       text NOT NULL PRIMARY KEY,
    last_used_at text NOT NULL
);

-- One login per e-mail (kept lower-case); the password as an argon2id PHC string.
CREATE TABLE logins
(
    email               text NOT NULL PRIMARY KEY,
    account_id          text NOT NULL,
    password_hash       text NOT NULL,
    created_at          text NOT NULL,
    password_changed_at text NOT NULL
);

CREATE INDEX logins_by_account ON logins (account_id);

-- A signed-in browser. The cookie holds the session's secret; only its SHA-256 is kept here.
CREATE TABLE sessions
(
    id_hash    text    NOT NULL PRIMARY KEY,
    email      text    NOT NULL,
    account_id text    NOT NULL,
    csrf_token text    NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);

CREATE INDEX sessions_by_email ON sessions (email);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Failed sign-ins per e-mail and per client address, counted in fixed windows.
CREATE TABLE sign_in_failures
(
    subject      text    NOT NULL,
    window_start bigint NOT NULL,
    failures     integer NOT NULL,
    PRIMARY KEY (subject, window_start)
);
