-- Job history: one row per job, from JobRequested (or BatchSubmitted for bulk items, which
-- start as pending) to JobCompleted or JobFailed.
CREATE TABLE jobs
(
    id            text NOT NULL PRIMARY KEY,
    account_id    text NOT NULL,
    status        text NOT NULL,
    image_url     text,
    results       text,
    mode          text NOT NULL,
    language      text NOT NULL,
    model         text,
    tokens_input  bigint,
    tokens_output bigint,
    processing_ms bigint,
    cost_micros   bigint,
    credits       bigint NOT NULL,
    source        text NOT NULL,
    batch_id      text,
    batch_index   bigint,
    error         text,
    created_at    text NOT NULL,
    completed_at  text
);

CREATE INDEX jobs_by_account ON jobs (account_id, created_at, id);
CREATE INDEX jobs_by_batch ON jobs (batch_id, batch_index);
CREATE INDEX jobs_by_completion ON jobs (completed_at);

-- Batch status.
CREATE TABLE batches
(
    id           text NOT NULL PRIMARY KEY,
    account_id   text NOT NULL,
    status       text NOT NULL,
    total        bigint NOT NULL,
    completed    bigint NOT NULL,
    failed       bigint NOT NULL,
    credits      bigint NOT NULL,
    webhook_url  text,
    webhook_id   text,
    created_at   text NOT NULL,
    finished_at  text
);

-- The process manager's work queue: one row per bulk item without an outcome. A worker
-- claims a row by setting its lease; a lease that expires (its holder died) is claimed again.
CREATE TABLE bulk_queue
(
    job_id      text NOT NULL PRIMARY KEY,
    batch_id    text NOT NULL,
    account_id  text NOT NULL,
    batch_index bigint NOT NULL,
    spec        text NOT NULL,
    enqueued_at text NOT NULL,
    lease_until bigint NOT NULL DEFAULT 0,
    leased_by   text,
    attempts    bigint NOT NULL DEFAULT 0
);

CREATE INDEX bulk_queue_due ON bulk_queue (lease_until, enqueued_at, batch_index);

-- Base64 images of bulk items, held until their item has an outcome. Never in events.
CREATE TABLE bulk_images
(
    job_id     text NOT NULL PRIMARY KEY,
    bytes      bytea NOT NULL,
    created_at text NOT NULL
);

-- Webhooks of batches: due when next_attempt_at (epoch ms) is set and past; idle (NULL)
-- before the batch finishes and after a delivery ends, until a redelivery is asked for.
CREATE TABLE webhook_queue
(
    batch_id        text NOT NULL PRIMARY KEY,
    account_id      text NOT NULL,
    webhook_id      text,
    url             text NOT NULL,
    attempts        bigint NOT NULL DEFAULT 0,
    next_attempt_at bigint,
    lease_until     bigint NOT NULL DEFAULT 0
);

-- Every webhook delivery attempt, for GET /api/v1/batches/{id}/webhook.
CREATE TABLE webhook_attempts
(
    batch_id        text NOT NULL,
    attempt         bigint NOT NULL,
    webhook_id      text NOT NULL,
    status          bigint,
    error           text,
    delivered       bigint NOT NULL,
    next_attempt_at text,
    at              text NOT NULL,
    PRIMARY KEY (batch_id, attempt)
);

-- Reservations not yet captured or released, for the timeout that releases forgotten ones.
CREATE TABLE open_reservations
(
    reservation_id text NOT NULL PRIMARY KEY,
    account_id     text NOT NULL,
    purpose        text NOT NULL,
    credits        bigint NOT NULL,
    reserved_at    text NOT NULL
);

CREATE INDEX open_reservations_by_age ON open_reservations (reserved_at);
