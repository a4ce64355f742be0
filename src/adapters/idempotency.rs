//! Idempotency records: the first answer to a request sent with an `Idempotency-Key`, kept for
//! 24 hours so that a retry gets that answer instead of a second run (and a second charge).
//!
//! A record is claimed before the request runs, in the shared database, so two processes
//! receiving the same key at once cannot both run it: exactly one insert wins. The winner holds
//! the record for `hold`; if its process dies, the record can be claimed again after that.
use std::time::Duration;

use altframe_projections::{on_db, Arg, Db};
use chrono::{DateTime, Utc};

/// How long an answer is kept and replayed.
pub const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// The first answer, as it was sent.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// Nobody has run this key (or its last run failed): the caller runs the request.
    Fresh,
    /// The key's first request has finished: here is its answer.
    Replay(StoredResponse),
    /// The key's first request is still running.
    InProgress,
    /// The key was used with a different request.
    Mismatch,
}

#[derive(Debug, sqlx::FromRow)]
struct Record {
    fingerprint: String,
    created_at: i64,
    locked_until: i64,
    response_status: Option<i32>,
    response_body: Option<String>,
}

#[derive(Clone)]
pub struct IdempotencyStore {
    db: Db,
    hold: Duration,
}

impl IdempotencyStore {
    /// `hold` must outlast the longest request, so that a live request is never claimed again.
    pub fn new(db: Db, hold: Duration) -> IdempotencyStore {
        IdempotencyStore { db, hold }
    }

    /// Claims `key` of `account_id` for a request whose content hashes to `fingerprint`.
    pub async fn claim(
        &self,
        account_id: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<Claim, sqlx::Error> {
        let now_s = now.timestamp();
        let hold_until = now_s + self.hold.as_secs() as i64;
        // Three rounds cover a record that expires or is released between our statements.
        for _ in 0..3 {
            let inserted = self
                .db
                .execute(
                    "INSERT INTO idempotency_keys
                         (account_id, idempotency_key, fingerprint, created_at, locked_until)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (account_id, idempotency_key) DO NOTHING",
                    vec![
                        account_id.into(),
                        key.into(),
                        fingerprint.into(),
                        now_s.into(),
                        hold_until.into(),
                    ],
                )
                .await?;
            if inserted == 1 {
                return Ok(Claim::Fresh);
            }
            let Some(record) = self.find(account_id, key).await? else {
                continue;
            };
            if record.created_at <= now_s - RETENTION.as_secs() as i64 {
                self.db
                    .execute(
                        "DELETE FROM idempotency_keys
                         WHERE account_id = $1 AND idempotency_key = $2 AND created_at = $3",
                        vec![account_id.into(), key.into(), record.created_at.into()],
                    )
                    .await?;
                continue;
            }
            if record.fingerprint != fingerprint {
                return Ok(Claim::Mismatch);
            }
            if let (Some(status), Some(body)) = (record.response_status, record.response_body) {
                return Ok(Claim::Replay(StoredResponse {
                    status: u16::try_from(status).unwrap_or(500),
                    body,
                }));
            }
            if record.locked_until >= now_s {
                return Ok(Claim::InProgress);
            }
            // Its holder died without answering: take it over, unless someone else just did.
            let taken = self
                .db
                .execute(
                    "UPDATE idempotency_keys SET locked_until = $1
                     WHERE account_id = $2 AND idempotency_key = $3
                       AND locked_until = $4 AND response_status IS NULL",
                    vec![
                        hold_until.into(),
                        account_id.into(),
                        key.into(),
                        record.locked_until.into(),
                    ],
                )
                .await?;
            if taken == 1 {
                return Ok(Claim::Fresh);
            }
        }
        Ok(Claim::InProgress)
    }

    /// Keeps the answer to a claimed key, to be replayed until the record expires.
    pub async fn complete(
        &self,
        account_id: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), sqlx::Error> {
        self.db
            .execute(
                "UPDATE idempotency_keys SET response_status = $1, response_body = $2
                 WHERE account_id = $3 AND idempotency_key = $4",
                vec![
                    Arg::Int(i64::from(response.status)),
                    response.body.clone().into(),
                    account_id.into(),
                    key.into(),
                ],
            )
            .await?;
        Ok(())
    }

    /// Lets go of a claimed key whose request did not succeed (nothing was charged), so that a
    /// retry with the same key runs again.
    pub async fn release(&self, account_id: &str, key: &str) -> Result<(), sqlx::Error> {
        self.db
            .execute(
                "DELETE FROM idempotency_keys
                 WHERE account_id = $1 AND idempotency_key = $2 AND response_status IS NULL",
                vec![account_id.into(), key.into()],
            )
            .await?;
        Ok(())
    }

    /// Deletes records older than the retention. Returns how many went.
    pub async fn forget_expired(&self, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
        let before = now.timestamp() - RETENTION.as_secs() as i64;
        self.db
            .execute(
                "DELETE FROM idempotency_keys WHERE created_at <= $1",
                vec![before.into()],
            )
            .await
    }

    async fn find(&self, account_id: &str, key: &str) -> Result<Option<Record>, sqlx::Error> {
        let sql = "SELECT fingerprint, created_at, locked_until, response_status, response_body
                   FROM idempotency_keys WHERE account_id = $1 AND idempotency_key = $2";
        on_db!(&self.db, pool => sqlx::query_as::<_, Record>(sql)
            .bind(account_id)
            .bind(key)
            .fetch_optional(pool)
            .await)
    }
}
