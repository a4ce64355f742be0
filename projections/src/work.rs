//! What there is to do, derived from events: bulk items without an outcome, webhooks to
//! deliver, reservations still open. This projection only says what is queued; who works on
//! an item, how often it was tried and the inline images are the work queue's own tables
//! (`src/adapters/queue.rs`), which a rebuild leaves alone.
use altframe_domain::account::AccountEvent;
use altframe_domain::batch::{BatchEvent, BatchItem};
use altframe_domain::generation::GenerationOptions;
use altframe_domain::job::JobEvent;
use altframe_domain::{AccountId, BatchId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::staged::StagedRow;
use crate::{on_db, timestamp, Arg, Db, Round, Tx};

/// What a worker needs to run one bulk item, stored with its queue row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedItem {
    pub batch_id: BatchId,
    pub account_id: AccountId,
    pub item: BatchItem,
    pub options: GenerationOptions,
    /// The batch asked for new text: the item is not answered from the generation cache.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub regenerate: bool,
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) async fn apply_batch(
    tx: &mut Tx,
    id: &str,
    event: &BatchEvent,
) -> Result<(), sqlx::Error> {
    match event {
        BatchEvent::BatchSubmitted {
            account_id,
            items,
            options,
            webhook_url,
            regenerate,
            at,
            ..
        } => {
            for (index, item) in items.iter().enumerate() {
                let spec = QueuedItem {
                    batch_id: BatchId::new(id),
                    account_id: account_id.clone(),
                    item: item.clone(),
                    options: (**options).clone(),
                    regenerate: *regenerate,
                };
                tx.execute(
                    "INSERT INTO bulk_queue (job_id, batch_id, account_id, batch_index, spec, enqueued_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    vec![
                        item.job_id.clone().into(),
                        id.into(),
                        account_id.clone().into(),
                        Arg::Int(index as i64),
                        serde_json::to_string(&spec).unwrap_or_default().into(),
                        timestamp(*at).into(),
                    ],
                )
                .await?;
            }
            if let Some(url) = webhook_url {
                tx.execute(
                    "INSERT INTO webhook_queue (batch_id, account_id, url) VALUES ($1, $2, $3)",
                    vec![id.into(), account_id.clone().into(), url.clone().into()],
                )
                .await?;
            }
        }
        BatchEvent::BatchFinished {
            webhook_id: Some(webhook_id),
            at,
            ..
        } => {
            tx.execute(
                "UPDATE webhook_queue SET webhook_id = $1, next_attempt_at = $2 WHERE batch_id = $3",
                vec![webhook_id.clone().into(), Arg::Int(millis(*at)), id.into()],
            )
            .await?;
        }
        BatchEvent::WebhookAttempted { attempt, .. } => {
            tx.execute(
                "UPDATE webhook_queue SET attempts = $1, next_attempt_at = $2 WHERE batch_id = $3",
                vec![
                    Arg::Int(i64::from(attempt.attempt)),
                    Arg::OptInt(attempt.next_attempt_at.map(millis)),
                    id.into(),
                ],
            )
            .await?;
        }
        BatchEvent::WebhookRedeliveryRequested { at, .. } => {
            tx.execute(
                "UPDATE webhook_queue SET next_attempt_at = $1 WHERE batch_id = $2",
                vec![Arg::Int(millis(*at)), id.into()],
            )
            .await?;
        }
        BatchEvent::BatchFinished { .. }
        | BatchEvent::BatchItemCompleted { .. }
        | BatchEvent::BatchItemFailed { .. } => {}
    }
    Ok(())
}

pub(crate) async fn apply_job(tx: &mut Tx, id: &str, event: &JobEvent) -> Result<(), sqlx::Error> {
    let has_outcome = matches!(
        event,
        JobEvent::JobCompleted {
            batch_id: Some(_),
            ..
        } | JobEvent::JobFailed {
            batch_id: Some(_),
            ..
        } | JobEvent::JobAnsweredFromCache {
            bulk_item: Some(_),
            ..
        }
    );
    if has_outcome {
        tx.execute("DELETE FROM bulk_queue WHERE job_id = $1", vec![id.into()])
            .await?;
    }
    Ok(())
}

/// A reservation not yet captured or released, as the table holds it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct ReservationRow {
    reservation_id: String,
    account_id: String,
    purpose: String,
    credits: i64,
    reserved_at: String,
}

impl StagedRow for ReservationRow {
    const TABLE: &'static str = "open_reservations";
    const COLUMNS: &'static [&'static str] = &[
        "reservation_id",
        "account_id",
        "purpose",
        "credits",
        "reserved_at",
    ];
    const TYPES: &'static [&'static str] = &["text", "text", "text", "bigint", "text"];

    fn key(&self) -> &str {
        &self.reservation_id
    }

    fn values(&self) -> Vec<Arg> {
        vec![
            self.reservation_id.clone().into(),
            self.account_id.clone().into(),
            self.purpose.clone().into(),
            self.credits.into(),
            self.reserved_at.clone().into(),
        ]
    }
}

pub(crate) async fn apply_account(
    tx: &mut Tx,
    round: &mut Round,
    account_id: &str,
    event: &AccountEvent,
) -> Result<(), sqlx::Error> {
    match event {
        AccountEvent::CreditsReserved {
            reservation_id,
            purpose,
            credits,
            at,
            ..
        } => round.reservations.create(ReservationRow {
            reservation_id: reservation_id.to_string(),
            account_id: account_id.to_string(),
            purpose: purpose.clone(),
            credits: i64::from(*credits),
            reserved_at: timestamp(*at),
        }),
        AccountEvent::ReservationIncreased {
            reservation_id,
            credits,
            ..
        } => {
            round
                .reservations
                .update(tx, reservation_id.as_str(), |r| {
                    r.credits += i64::from(*credits)
                })
                .await?;
        }
        AccountEvent::ReservationReduced {
            reservation_id,
            credits,
            ..
        } => {
            round
                .reservations
                .update(tx, reservation_id.as_str(), |r| {
                    r.credits -= i64::from(*credits)
                })
                .await?;
        }
        AccountEvent::CreditsCaptured { reservation_id, .. }
        | AccountEvent::CreditsReleased { reservation_id, .. } => {
            round.reservations.delete(reservation_id.as_str())
        }
        _ => {}
    }
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenReservation {
    pub reservation_id: String,
    pub account_id: String,
    pub purpose: String,
}

/// Reservations made before `before` and still open, skipping bulk items still queued (their
/// lease, not this timeout, says whether their worker is alive).
pub async fn stale_reservations(
    db: &Db,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<OpenReservation>, sqlx::Error> {
    let sql = "SELECT reservation_id, account_id, purpose FROM open_reservations r
                WHERE reserved_at < $1
                  AND NOT EXISTS (SELECT 1 FROM bulk_queue q WHERE q.job_id = r.purpose)
                ORDER BY reserved_at LIMIT $2";
    on_db!(db, pool => sqlx::query_as::<_, OpenReservation>(sql)
        .bind(timestamp(before))
        .bind(limit)
        .fetch_all(pool)
        .await)
}
