//! GET /api/v1/batches/{batch_id}, and its webhook deliveries.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

use altframe_domain::batch::{BatchCommand, BatchError, BatchStatus};
use altframe_projections::batches::{self, BatchRow};
use altframe_projections::jobs;

use crate::adapters::store::CommandError;
use crate::adapters::webhooks::payload::{outcomes, BatchReport};
use crate::api::error::ApiError;
use crate::api::layers::auth::Caller;
use crate::usecases::app::App;

#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookDeliveries {
    pub batch_id: String,
    pub webhook_url: Option<String>,
    pub webhook_id: Option<String>,
    pub attempts: Vec<DeliveryAttempt>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeliveryAttempt {
    pub attempt: i64,
    pub at: String,
    pub status: Option<i64>,
    pub error: Option<String>,
    pub delivered: bool,
    pub next_attempt_at: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RedeliveryAccepted {
    pub batch_id: String,
    pub webhook_id: Option<String>,
    pub status: &'static str,
}

fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Batch not found")
}

/// The caller's batch, or 404 whether it is missing or another account's.
async fn own_batch(app: &App, caller: &Caller, batch_id: &str) -> Result<BatchRow, ApiError> {
    if uuid::Uuid::parse_str(batch_id).is_err() {
        return Err(not_found());
    }
    let batch = batches::find(&app.store.db, batch_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    if batch.account_id != caller.account_id {
        return Err(not_found());
    }
    Ok(batch)
}

pub async fn get_batch(
    State(app): State<App>,
    caller: Caller,
    Path(batch_id): Path<String>,
) -> Result<Json<BatchReport>, ApiError> {
    let batch = own_batch(&app, &caller, &batch_id).await?;
    let items = jobs::for_batch(&app.store.db, &batch_id)
        .await
        .map_err(ApiError::internal)?;
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
    Ok(Json(BatchReport {
        batch_id: batch.id,
        status: status.as_str().to_string(),
        total: batch.total,
        completed,
        failed,
        results,
        errors,
    }))
}

pub async fn get_webhook(
    State(app): State<App>,
    caller: Caller,
    Path(batch_id): Path<String>,
) -> Result<Json<WebhookDeliveries>, ApiError> {
    let batch = own_batch(&app, &caller, &batch_id).await?;
    let attempts = batches::webhook_attempts(&app.store.db, &batch_id)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|a| DeliveryAttempt {
            attempt: a.attempt,
            at: a.at,
            status: a.status,
            error: a.error,
            delivered: a.delivered != 0,
            next_attempt_at: a.next_attempt_at,
        })
        .collect();
    Ok(Json(WebhookDeliveries {
        batch_id: batch.id,
        webhook_url: batch.webhook_url,
        webhook_id: batch.webhook_id,
        attempts,
    }))
}

pub async fn post_redeliver(
    State(app): State<App>,
    caller: Caller,
    Path(batch_id): Path<String>,
) -> Result<(StatusCode, Json<RedeliveryAccepted>), ApiError> {
    let batch = own_batch(&app, &caller, &batch_id).await?;
    let command = BatchCommand::RequestRedelivery {
        at: app.clock.now(),
    };
    match app.store.batches.execute(&batch_id, command).await {
        Ok(_) => {}
        Err(CommandError::Rejected(BatchError::NoWebhook)) => {
            return Err(ApiError::bad_request("This batch has no webhook_url"))
        }
        Err(CommandError::Rejected(BatchError::NotFinished)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "The batch is still processing; its webhook is sent when it finishes",
            ))
        }
        Err(CommandError::Rejected(BatchError::DeliveryPending)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "The webhook is still being delivered; see its attempts",
            ))
        }
        Err(e) => return Err(ApiError::internal(e)),
    }
    app.events_committed();
    Ok((
        StatusCode::ACCEPTED,
        Json(RedeliveryAccepted {
            batch_id: batch.id,
            webhook_id: batch.webhook_id,
            status: "queued",
        }),
    ))
}
