//! Webhooks: an account's signing secret, a delivery of `batch.completed`, and a redelivery
//! asked for by the batch's owner.
//!
//! A delivery POSTs the signed payload to the batch's webhook URL and records the attempt as
//! an event on the batch, whatever came of it; the next attempt follows the Standard Webhooks
//! schedule, with the same message id. The webhook task (`run::tasks::webhooks`) takes due
//! deliveries from the queue and calls [`deliver`].
use std::time::Duration;

use altframe_domain::account::AccountCommand;
use altframe_domain::batch::{BatchCommand, BatchError, WebhookAttempt};
use altframe_domain::{AccountId, BatchId};
use altframe_projections::{batches, jobs};

use super::accounts::AccountsError;
use super::batch_report;
use super::batches::{own_batch, BatchesError};
use super::{App, Failure};
use crate::adapters::ids;
use crate::adapters::outbound::FetchError;
use crate::adapters::queue::DueWebhook;
use crate::adapters::store::CommandError;
use crate::adapters::webhooks::{schedule, signature};

/// A receiver has this long to answer.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The account's webhook secret, made when it has none or when `rotate` asks for a new one.
/// Returns the secret and whether this call set it.
pub async fn secret(
    app: &App,
    account_id: &AccountId,
    rotate: bool,
) -> Result<(String, bool), AccountsError> {
    let Some(account) = app.account(account_id).await? else {
        return Err(AccountsError::NoSuchAccount(account_id.clone()));
    };
    if let (Some(secret), false) = (account.webhook_secret(), rotate) {
        return Ok((secret.to_string(), false));
    }
    let secret = ids::webhook_secret();
    let command = AccountCommand::RotateWebhookSecret {
        secret: secret.clone(),
        at: app.clock.now(),
    };
    app.store
        .accounts
        .execute(account_id, command)
        .await
        .map_err(Failure::from)?;
    Ok((secret, true))
}

/// Why a delivery attempt did not reach the receiver.
#[derive(Debug, thiserror::Error)]
enum NotSent {
    #[error("the batch is not in the read model yet")]
    NotProjected,
    #[error("the account has no webhook secret")]
    NoSecret,
    #[error(transparent)]
    BadSecret(#[from] signature::BadSecret),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// Makes one delivery attempt of a due webhook and records it. `schedule_scale` multiplies the
/// retry schedule's delays (1 in service; tests shrink it).
#[tracing::instrument(skip(app, due), fields(batch_id = %due.batch_id, attempt = due.attempts + 1))]
pub async fn deliver(app: &App, due: &DueWebhook, schedule_scale: f64) -> Result<(), Failure> {
    let attempt = due.attempts + 1;
    let (status, error, retry_after) = match post(app, due).await {
        Ok((status, retry_after)) => (Some(status), None, retry_after),
        // A failure of ours is an attempt that failed like any other, but it is logged as
        // ours: the receiver did nothing wrong.
        Err(NotSent::Failure(e)) => {
            tracing::error!(error = %super::error_chain(&e), "could not make a webhook attempt");
            (
                None,
                Some("the delivery could not be made".to_string()),
                None,
            )
        }
        Err(e) => (None, Some(e.to_string()), None),
    };
    let delivered = status.is_some_and(|s| (200..300).contains(&s));
    let gone = status == Some(410);
    let next_attempt_at = if delivered || gone {
        None
    } else {
        schedule::next_delay(attempt, retry_after).map(|d| {
            let d = d.mul_f64(schedule_scale);
            chrono::Utc::now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero())
        })
    };
    let error = error.or_else(|| match status {
        Some(s) if !delivered => Some(format!("the receiver answered HTTP {s}")),
        _ => None,
    });
    if delivered {
        tracing::info!("webhook delivered");
    } else {
        tracing::warn!(
            status,
            error = error.as_deref().unwrap_or(""),
            "webhook not delivered"
        );
    }
    let record = BatchCommand::RecordWebhookAttempt {
        attempt: WebhookAttempt {
            attempt,
            status,
            error,
            delivered,
            next_attempt_at,
        },
        at: app.clock.now(),
    };
    app.store.batches.execute(&due.batch_id, record).await?;
    app.events_committed();
    Ok(())
}

/// Signs and POSTs the payload once. Returns the receiver's status and any `Retry-After`.
async fn post(app: &App, due: &DueWebhook) -> Result<(u16, Option<u64>), NotSent> {
    // The payload comes from the read models: they must hold every item's outcome.
    app.read_your_writes().await;
    let db = &app.store.db;
    let batch = batches::find(db, due.batch_id.as_str())
        .await
        .map_err(Failure::from)?
        .ok_or(NotSent::NotProjected)?;
    let items = jobs::for_batch(db, due.batch_id.as_str())
        .await
        .map_err(Failure::from)?;
    let body = serde_json::to_vec(&batch_report::batch_completed(&batch, &items))
        .map_err(Failure::from)?;
    let account = app
        .store
        .accounts
        .load(&due.account_id)
        .await
        .map_err(Failure::from)?;
    let secret = account.webhook_secret().ok_or(NotSent::NoSecret)?;
    let timestamp = chrono::Utc::now().timestamp();
    let signature = signature::sign(secret, &due.webhook_id, timestamp, &body)?;
    let headers = [
        ("webhook-id", due.webhook_id.clone()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature),
    ];
    Ok(app
        .intake
        .outbound()
        .post_json(&due.url, &headers, body, DELIVERY_TIMEOUT)
        .await?)
}

/// A redelivery, accepted.
#[derive(Debug, Clone)]
pub struct Redelivery {
    pub batch_id: BatchId,
    pub webhook_id: Option<String>,
}

/// Sends a finished batch's webhook again, for its owner.
pub async fn redeliver(
    app: &App,
    account_id: &AccountId,
    batch_id: &str,
) -> Result<Redelivery, BatchesError> {
    let batch = own_batch(app, account_id, batch_id).await?;
    let batch_id = BatchId::new(batch.id);
    let command = BatchCommand::RequestRedelivery {
        at: app.clock.now(),
    };
    match app.store.batches.execute(&batch_id, command).await {
        Ok(_) => {}
        Err(CommandError::Rejected(BatchError::NoWebhook)) => return Err(BatchesError::NoWebhook),
        Err(CommandError::Rejected(BatchError::NotFinished)) => {
            return Err(BatchesError::StillProcessing)
        }
        Err(CommandError::Rejected(BatchError::DeliveryPending)) => {
            return Err(BatchesError::DeliveryPending)
        }
        Err(e) => return Err(Failure::from(e).into()),
    }
    app.events_committed();
    Ok(Redelivery {
        batch_id,
        webhook_id: batch.webhook_id,
    })
}
