-- The work queue's own state, apart from the read models: how often each bulk item was tried
-- and who holds it, and who is delivering a webhook. No event records a worker taking an item,
-- so these cannot come from events: `projections rebuild` leaves them as they are, and an item
-- that failed twice keeps its two attempts and its backoff. The `work` projection only says
-- what is queued (bulk_queue, webhook_queue).
CREATE TABLE bulk_leases
(
    job_id      text   NOT NULL PRIMARY KEY,
    attempts    bigint NOT NULL DEFAULT 0,
    lease_until bigint NOT NULL DEFAULT 0,
    leased_by   text
);

INSERT INTO bulk_leases (job_id, attempts, lease_until, leased_by)
SELECT job_id, attempts, lease_until, leased_by FROM bulk_queue
 WHERE attempts > 0 OR lease_until > 0;

DROP INDEX bulk_queue_due;
ALTER TABLE bulk_queue DROP COLUMN lease_until, DROP COLUMN leased_by, DROP COLUMN attempts;
CREATE INDEX bulk_queue_in_order ON bulk_queue (enqueued_at, batch_index);

-- A delivery under way: `due_at` is the webhook_queue.next_attempt_at it was taken for, so a
-- new schedule (an attempt recorded, a redelivery asked for) is never held up by an old lease.
CREATE TABLE webhook_leases
(
    batch_id    text   NOT NULL PRIMARY KEY,
    due_at      bigint NOT NULL,
    lease_until bigint NOT NULL
);

ALTER TABLE webhook_queue DROP COLUMN lease_until;

-- For the background tick that starts due billing periods.
CREATE INDEX usage_by_period_end ON usage (period_end);
