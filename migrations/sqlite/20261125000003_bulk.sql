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
    tokens_input  integer,
    tokens_output integer,
    processing_ms integer,
    cost_micros   integer,
    credits       integer NOT NULL,
    source        text NOT NULL,
    batch_id      text,
    batch_index   integer,
    error         text,
    created_at    text NOT NULL,
    completed_at  text
) STRICT;

CREATE INDEX jobs_by_account ON jobs (account_id, created_at, id);
CREATE INDEX jobs_by_batch ON jobs (batch_id, batch_index);
CREATE INDEX jobs_by_completion ON jobs (completed_at);

-- Batch status.
CREATE TABLE batches
(
    id           text NOT NULL PRIMARY KEY,
    account_id   text NOT NULL,
    status       text NOT NULL,
    total        integer NOT NULL,
    completed    integer NOT NULL,
    failed       integer NOT NULL,
    credits      integer NOT NULL,
    webhook_url  text,
    webhook_id   text,
    created_at   text NOT NULL,
    finished_at  text
) STRICT;

-- The process manager's work queue: one row per bulk item without an outcome. A worker
-- claims a row by setting its lease; a lease that expires (its holder died) is claimed again.
CREATE TABLE bulk_queue
(
    job_id      text NOT NULL PRIMARY KEY,
    batch_id    text NOT NULL,
    account_id  text NOT NULL,
    batch_index integer NOT NULL,
    spec        text NOT NULL,
    enqueued_at text NOT NULL,
    lease_until integer NOT NULL DEFAULT 0,
    leased_by   text,
    attempts    integer NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX bulk_queue_due ON bulk_queue (lease_until, enqueued_at, batch_index);

-- Base64 images of bulk items, held until their item has an outcome. Never in events.
CREATE TABLE bulk_images
(
    job_id     text NOT NULL PRIMARY KEY,
    bytes      blob NOT NULL,
    created_at text NOT NULL
) STRICT;

-- Webhooks of batches: due when next_attempt_at (epoch ms) is set and past; idle (NULL)
-- before the batch finishes and after a delivery ends, until a redelivery is asked for.
CREATE TABLE webhook_queue
(
    batch_id        text NOT NULL PRIMARY KEY,
    account_id      text NOT NULL,
    webhook_id      text,
    url             text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at integer,
    lease_until     integer NOT NULL DEFAULT 0
) STRICT;

-- Every webhook delivery attempt, for GET /api/v1/batches/{id}/webhook.
CREATE TABLE webhook_attempts
(
    batch_id        text NOT NULL,
    attempt         integer NOT NULL,
    webhook_id      text NOT NULL,
    status          integer,
    error           text,
    delivered       integer NOT NULL,
    next_attempt_at text,
    at              text NOT NULL,
    PRIMARY KEY (batch_id, attempt)
) STRICT;

-- Reservations not yet captured or released, for the timeout that releases forgotten ones.
CREATE TABLE open_reservations
(
    reservation_id text NOT NULL PRIMARY KEY,
    account_id     text NOT NULL,
    purpose        text NOT NULL,
    credits        integer NOT NULL,
    reserved_at    text NOT NULL
) STRICT;

CREATE INDEX open_reservations_by_age ON open_reservations (reserved_at);
