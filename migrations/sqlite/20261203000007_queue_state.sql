-- The work queue's own state, apart from the read models (see the Postgres migration).
CREATE TABLE bulk_leases
(
    job_id      text    NOT NULL PRIMARY KEY,
    attempts    integer NOT NULL DEFAULT 0,
    lease_until integer NOT NULL DEFAULT 0,
    leased_by   text
) STRICT;

INSERT INTO bulk_leases (job_id, attempts, lease_until, leased_by)
SELECT job_id, attempts, lease_until, leased_by FROM bulk_queue
 WHERE attempts > 0 OR lease_until > 0;

DROP INDEX bulk_queue_due;
ALTER TABLE bulk_queue DROP COLUMN lease_until;
ALTER TABLE bulk_queue DROP COLUMN leased_by;
ALTER TABLE bulk_queue DROP COLUMN attempts;
CREATE INDEX bulk_queue_in_order ON bulk_queue (enqueued_at, batch_index);

CREATE TABLE webhook_leases
(
    batch_id    text    NOT NULL PRIMARY KEY,
    due_at      integer NOT NULL,
    lease_until integer NOT NULL
) STRICT;

ALTER TABLE webhook_queue DROP COLUMN lease_until;

-- For the background tick that starts due billing periods.
CREATE INDEX usage_by_period_end ON usage (period_end);
