//! The work queue: bulk items and webhook deliveries taken by workers in every `serve`
//! process, with a lease each.
//!
//! What is queued comes from events (the `work` read model: `bulk_queue`, `webhook_queue`).
//! Everything a worker adds is kept here, in tables the queue owns and a rebuild of the read
//! models leaves alone: an item's attempts and lease (`bulk_leases`), a delivery's lease
//! (`webhook_leases`), and the inline images of bulk items (`bulk_images`, never in events).
//!
//! On Postgres, claims lock rows with `FOR UPDATE SKIP LOCKED`, so several processes claim at
//! once without waiting on each other or taking the same row; on SQLite one process writes at
//! a time. A lease that is not renewed (its holder died) ends, and the row is claimed again.
use std::time::Duration;

use altframe_domain::{AccountId, BatchId, JobId};
use altframe_projections::work::QueuedItem;
use altframe_projections::{on_db, timestamp, Arg, Db};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("work queue: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the queued item {job_id} cannot be read")]
    Spec {
        job_id: String,
        #[source]
        source: serde_json::Error,
    },
}

/// A bulk item a worker now holds.
#[derive(Debug, Clone)]
pub struct ClaimedItem {
    pub job_id: JobId,
    pub item: QueuedItem,
    /// Tries so far, this one included.
    pub attempts: u32,
}

/// A webhook due for delivery, leased to the caller.
#[derive(Debug, Clone)]
pub struct DueWebhook {
    pub batch_id: BatchId,
    pub account_id: AccountId,
    pub webhook_id: String,
    pub url: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// How much work waits, for GET /metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueDepths {
    /// Bulk items a worker may take now.
    pub bulk_waiting: i64,
    /// Bulk items a worker holds.
    pub bulk_running: i64,
    /// Bulk items waiting out a retry delay after a transient failure.
    pub bulk_retry_wait: i64,
    /// Webhooks scheduled for a first try or a retry (a delivered or abandoned one has no
    /// next attempt).
    pub webhooks_pending: i64,
}

/// What [`Queue::sweep`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub bulk_leases: u64,
    pub images: u64,
}

#[derive(Debug, Clone)]
pub struct Queue {
    db: Db,
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn later(at: DateTime<Utc>, by: Duration) -> i64 {
    millis(at).saturating_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX))
}

/// `FOR UPDATE ... SKIP LOCKED` where the backend has it (Postgres), nothing on SQLite.
fn skip_locked(db: &Db, of: &str) -> String {
    if db.is_postgres() {
        format!("FOR UPDATE OF {of} SKIP LOCKED")
    } else {
        String::new()
    }
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Queue {
    pub fn new(db: Db) -> Queue {
        Queue { db }
    }

    /// Claims up to `limit` items whose lease has ended, oldest batch first, leasing them to
    /// `worker` for `lease` from `now`; each claim counts as an attempt.
    pub async fn claim_items(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<ClaimedItem>, QueueError> {
        // Every queued item gets its lease row first, so that the claim below locks and
        // changes that row: a claimer that read it before another's claim committed sees the
        // new lease when it takes the lock, and skips the item. In key order, so that two
        // processes inserting at once wait for each other rather than deadlock.
        self.db
            .execute(
                "INSERT INTO bulk_leases (job_id)
                 SELECT q.job_id FROM bulk_queue q
                  WHERE NOT EXISTS (SELECT 1 FROM bulk_leases l WHERE l.job_id = q.job_id)
                  ORDER BY q.job_id
                 ON CONFLICT (job_id) DO NOTHING",
                vec![],
            )
            .await?;
        let sql = format!(
            "UPDATE bulk_leases SET lease_until = $1, leased_by = $2, attempts = attempts + 1
              WHERE job_id IN (SELECT l.job_id FROM bulk_leases l
                                 JOIN bulk_queue q ON q.job_id = l.job_id
                                WHERE l.lease_until < $3
                                ORDER BY q.enqueued_at, q.batch_index LIMIT $4 {})
              RETURNING job_id, attempts",
            skip_locked(&self.db, "l")
        );
        let claimed: Vec<(String, i64)> = on_db!(&self.db, pool => sqlx::query_as(&sql)
            .bind(later(now, lease))
            .bind(worker)
            .bind(millis(now))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await)?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let job_ids: Vec<&str> = claimed.iter().map(|(job_id, _)| job_id.as_str()).collect();
        let specs: Vec<(String, String)> = self
            .rows_of(
                "SELECT job_id, spec FROM bulk_queue WHERE job_id IN ({ids})",
                &job_ids,
            )
            .await?;
        let mut items = Vec::with_capacity(claimed.len());
        for (job_id, attempts) in claimed {
            // An item whose outcome was recorded meanwhile has left the queue: nothing to do.
            let Some((_, spec)) = specs.iter().find(|(id, _)| *id == job_id) else {
                continue;
            };
            let item = serde_json::from_str(spec).map_err(|source| QueueError::Spec {
                job_id: job_id.clone(),
                source,
            })?;
            items.push(ClaimedItem {
                job_id: JobId::new(job_id),
                item,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            });
        }
        Ok(items)
    }

    /// The rows `sql` selects for `ids`, which it names as `{ids}` (one placeholder each).
    async fn rows_of<T>(&self, sql: &str, ids: &[&str]) -> Result<Vec<T>, sqlx::Error>
    where
        T: Send + Unpin + for<'r> sqlx::FromRow<'r, PgRow> + for<'r> sqlx::FromRow<'r, SqliteRow>,
    {
        let sql = sql.replace("{ids}", &placeholders(1, ids.len()));
        on_db!(&self.db, pool => {
            let mut query = sqlx::query_as(&sql);
            for id in ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })
    }

    /// Extends a lease this worker still holds. Returns false when it was lost.
    pub async fn renew_item(
        &self,
        job_id: &JobId,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, QueueError> {
        let n = self
            .db
            .execute(
                "UPDATE bulk_leases SET lease_until = $1 WHERE job_id = $2 AND leased_by = $3",
                vec![Arg::Int(later(now, lease)), job_id.into(), worker.into()],
            )
            .await?;
        Ok(n == 1)
    }

    /// Hands an item back, to be claimed again from `retry_at` (a transient failure). Its
    /// attempts stay counted.
    pub async fn retry_item_later(
        &self,
        job_id: &JobId,
        worker: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), QueueError> {
        self.db
            .execute(
                "UPDATE bulk_leases SET lease_until = $1, leased_by = NULL
                  WHERE job_id = $2 AND leased_by = $3",
                vec![Arg::Int(millis(retry_at)), job_id.into(), worker.into()],
            )
            .await?;
        Ok(())
    }

    /// Hands every item this worker holds back at once (a graceful shutdown).
    pub async fn release_items(&self, worker: &str) -> Result<u64, QueueError> {
        Ok(self
            .db
            .execute(
                "UPDATE bulk_leases SET lease_until = 0, leased_by = NULL WHERE leased_by = $1",
                vec![worker.into()],
            )
            .await?)
    }

    /// Lets go of the inline image of an item whose outcome is recorded. Its lease stays
    /// until it ends: the item leaves `bulk_queue` only when the read models apply the
    /// outcome, and until then the lease keeps other workers from taking it again. The
    /// sweep deletes leases of items no longer queued.
    pub async fn finish_item(&self, job_id: &JobId) -> Result<(), QueueError> {
        self.db
            .execute(
                "DELETE FROM bulk_images WHERE job_id = $1",
                vec![job_id.into()],
            )
            .await?;
        Ok(())
    }

    /// Keeps an item's inline image until the item has an outcome.
    pub async fn hold_image(
        &self,
        job_id: &JobId,
        bytes: &[u8],
        at: DateTime<Utc>,
    ) -> Result<(), QueueError> {
        let sql = "INSERT INTO bulk_images (job_id, bytes, created_at) VALUES ($1, $2, $3)";
        on_db!(&self.db, pool => sqlx::query(sql)
            .bind(job_id.as_str())
            .bind(bytes)
            .bind(timestamp(at))
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub async fn held_image(&self, job_id: &JobId) -> Result<Option<Vec<u8>>, QueueError> {
        let sql = "SELECT bytes FROM bulk_images WHERE job_id = $1";
        Ok(
            on_db!(&self.db, pool => sqlx::query_scalar::<_, Vec<u8>>(sql)
            .bind(job_id.as_str())
            .fetch_optional(pool)
            .await)?,
        )
    }

    pub async fn drop_images(&self, job_ids: &[JobId]) -> Result<(), QueueError> {
        if job_ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "DELETE FROM bulk_images WHERE job_id IN ({})",
            placeholders(1, job_ids.len())
        );
        self.db
            .execute(&sql, job_ids.iter().map(Arg::from).collect())
            .await?;
        Ok(())
    }

    /// Claims up to `limit` webhooks due at `now`, for `lease`.
    pub async fn claim_webhooks(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<DueWebhook>, QueueError> {
        // A lease holds the delivery it was taken for (`due_at`): once an attempt is recorded
        // or a redelivery asked for, the webhook has a new `next_attempt_at` and is due again.
        // Of two processes inserting the same lease, the second waits for the first and then
        // finds the lease held, so it takes nothing.
        let sql = "INSERT INTO webhook_leases (batch_id, due_at, lease_until)
                   SELECT q.batch_id, q.next_attempt_at, $1 FROM webhook_queue q
                    WHERE q.next_attempt_at IS NOT NULL AND q.next_attempt_at <= $2
                      AND q.webhook_id IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM webhook_leases l
                                       WHERE l.batch_id = q.batch_id
                                         AND l.due_at = q.next_attempt_at
                                         AND l.lease_until >= $2)
                    ORDER BY q.next_attempt_at LIMIT $3
                   ON CONFLICT (batch_id) DO UPDATE
                      SET due_at = excluded.due_at, lease_until = excluded.lease_until
                    WHERE webhook_leases.due_at <> excluded.due_at
                       OR webhook_leases.lease_until < $2
                   RETURNING batch_id";
        let claimed: Vec<String> = on_db!(&self.db, pool => sqlx::query_scalar(sql)
            .bind(later(now, lease))
            .bind(millis(now))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await)?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let batch_ids: Vec<&str> = claimed.iter().map(String::as_str).collect();
        let rows: Vec<(String, String, Option<String>, String, i64)> = self
            .rows_of(
                "SELECT batch_id, account_id, webhook_id, url, attempts FROM webhook_queue
                  WHERE batch_id IN ({ids}) ORDER BY next_attempt_at",
                &batch_ids,
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(batch_id, account_id, webhook_id, url, attempts)| {
                Some(DueWebhook {
                    batch_id: BatchId::new(batch_id),
                    account_id: AccountId::new(account_id),
                    webhook_id: webhook_id?,
                    url,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                })
            })
            .collect())
    }

    /// Deletes what the queue kept for work that has left it: leases of items no longer
    /// queued (their outcome is recorded), ended webhook leases, and images held since before
    /// `images_before` whose item is not queued (a batch that was refused or never recorded,
    /// or a process that died before it let go of a finished item's image).
    pub async fn sweep(
        &self,
        now: DateTime<Utc>,
        images_before: DateTime<Utc>,
    ) -> Result<Swept, QueueError> {
        let leases = self
            .db
            .execute(
                "DELETE FROM bulk_leases
                  WHERE NOT EXISTS (SELECT 1 FROM bulk_queue q WHERE q.job_id = bulk_leases.job_id)",
                vec![],
            )
            .await?;
        self.db
            .execute(
                "DELETE FROM webhook_leases WHERE lease_until < $1",
                vec![Arg::Int(millis(now))],
            )
            .await?;
        let images = self
            .db
            .execute(
                "DELETE FROM bulk_images
                  WHERE created_at < $1
                    AND NOT EXISTS (SELECT 1 FROM bulk_queue q WHERE q.job_id = bulk_images.job_id)",
                vec![timestamp(images_before).into()],
            )
            .await?;
        Ok(Swept {
            bulk_leases: leases,
            images,
        })
    }

    pub async fn depths(&self, now: DateTime<Utc>) -> Result<QueueDepths, QueueError> {
        let sql = "SELECT
              (SELECT COUNT(*) FROM bulk_queue q LEFT JOIN bulk_leases l ON l.job_id = q.job_id
                WHERE COALESCE(l.lease_until, 0) <= $1) AS bulk_waiting,
              (SELECT COUNT(*) FROM bulk_queue q JOIN bulk_leases l ON l.job_id = q.job_id
                WHERE l.lease_until > $1 AND l.leased_by IS NOT NULL) AS bulk_running,
              (SELECT COUNT(*) FROM bulk_queue q JOIN bulk_leases l ON l.job_id = q.job_id
                WHERE l.lease_until > $1 AND l.leased_by IS NULL) AS bulk_retry_wait,
              (SELECT COUNT(*) FROM webhook_queue WHERE next_attempt_at IS NOT NULL)
                AS webhooks_pending";
        Ok(
            on_db!(&self.db, pool => sqlx::query_as::<_, QueueDepths>(sql)
            .bind(millis(now))
            .fetch_one(pool)
            .await)?,
        )
    }

    /// An item's attempts and when its lease (or its retry delay) ends, in epoch
    /// milliseconds; `None` when no worker ever took it.
    pub async fn item_state(&self, job_id: &JobId) -> Result<Option<(u32, i64)>, QueueError> {
        let sql = "SELECT attempts, lease_until FROM bulk_leases WHERE job_id = $1";
        let row: Option<(i64, i64)> = on_db!(&self.db, pool => sqlx::query_as(sql)
            .bind(job_id.as_str())
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(|(attempts, until)| (u32::try_from(attempts).unwrap_or(u32::MAX), until)))
    }
}
