//! A batch as its owner sees it: its status with each item's result or error, and its
//! webhook's delivery attempts. Another account's batch is not found, as a missing one.
use altframe_domain::batch::BatchStatus;
use altframe_domain::AccountId;
use altframe_projections::batches::{self, BatchRow, WebhookAttemptRow};
use altframe_projections::jobs;

use super::batch_report::{outcomes, BatchReport};
use super::{App, Failure};

#[derive(Debug, thiserror::Error)]
pub enum BatchesError {
    #[error("batch not found")]
    NotFound,
    #[error("the batch has no webhook_url")]
    NoWebhook,
    #[error("the batch is still processing; its webhook is sent when it finishes")]
    StillProcessing,
    #[error("the webhook is still being delivered")]
    DeliveryPending,
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl From<sqlx::Error> for BatchesError {
    fn from(e: sqlx::Error) -> Self {
        BatchesError::Failure(e.into())
    }
}

/// The owner's batch, or `NotFound` whether it is missing or another account's. The id is
/// the caller's text: anything but a UUID is not found.
pub(super) async fn own_batch(
    app: &App,
    account_id: &AccountId,
    batch_id: &str,
) -> Result<BatchRow, BatchesError> {
    if uuid::Uuid::parse_str(batch_id).is_err() {
        return Err(BatchesError::NotFound);
    }
    let batch = batches::find(&app.store.db, batch_id)
        .await?
        .ok_or(BatchesError::NotFound)?;
    if batch.account_id != account_id.as_str() {
        return Err(BatchesError::NotFound);
    }
    Ok(batch)
}

/// The batch's status and every item's result or error, in submission order.
pub async fn status(
    app: &App,
    account_id: &AccountId,
    batch_id: &str,
) -> Result<BatchReport, BatchesError> {
    let batch = own_batch(app, account_id, batch_id).await?;
    let items = jobs::for_batch(&app.store.db, &batch.id).await?;
    let (results, errors) = outcomes(&items, true);
    // Counts come from the same rows as the lists, so the body always agrees with itself; the
    // batch reads as finished once it is (BatchFinished: every item settled) and every item's
    // result is in.
    let (completed, failed) = (results.len() as i64, errors.len() as i64);
    let all_in = completed + failed == batch.total;
    let status = match BatchStatus::parse(&batch.status) {
        Some(finished) if all_in && finished != BatchStatus::Processing => finished,
        _ => BatchStatus::Processing,
    };
    Ok(BatchReport {
        batch_id: batch.id,
        status: status.as_str().to_string(),
        total: batch.total,
        completed,
        failed,
        results,
        errors,
    })
}

/// The account's latest batches, newest first, for the dashboard's list.
pub async fn recent(
    app: &App,
    account_id: &AccountId,
    limit: i64,
) -> Result<Vec<BatchRow>, BatchesError> {
    app.read_your_writes().await;
    Ok(batches::recent_for_account(&app.store.db, account_id.as_str(), limit).await?)
}

/// A batch's webhook and every attempt to deliver it.
#[derive(Debug, Clone)]
pub struct Deliveries {
    pub batch: BatchRow,
    pub attempts: Vec<WebhookAttemptRow>,
}

pub async fn webhook_deliveries(
    app: &App,
    account_id: &AccountId,
    batch_id: &str,
) -> Result<Deliveries, BatchesError> {
    let batch = own_batch(app, account_id, batch_id).await?;
    let attempts = batches::webhook_attempts(&app.store.db, &batch.id).await?;
    Ok(Deliveries { batch, attempts })
}
