//! GET /api/v1/batches/{batch_id}, its webhook deliveries, and a redelivery.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

use crate::api::error::ApiError;
use crate::api::layers::auth::Caller;
use crate::api::ApiState;
use crate::usecases::batch_report::BatchReport;
use crate::usecases::{batches, webhooks};

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

pub async fn get_batch(
    State(state): State<ApiState>,
    caller: Caller,
    Path(batch_id): Path<String>,
) -> Result<Json<BatchReport>, ApiError> {
    Ok(Json(
        batches::status(&state.app, &caller.account_id, &batch_id).await?,
    ))
}

pub async fn get_webhook(
    State(state): State<ApiState>,
    caller: Caller,
    Path(batch_id): Path<String>,
) -> Result<Json<WebhookDeliveries>, ApiError> {
    let deliveries = batches::webhook_deliveries(&state.app, &caller.account_id, &batch_id).await?;
    let attempts = deliveries
        .attempts
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
    let batch = deliveries.batch;
    Ok(Json(WebhookDeliveries {
        batch_id: batch.id,
        webhook_url: batch.webhook_url,
        webhook_id: batch.webhook_id,
        attempts,
    }))
}

pub async fn post_redeliver(
    State(state): State<ApiState>,
    caller: Caller,
    Path(batch_id): Path<String>,
) -> Result<(StatusCode, Json<RedeliveryAccepted>), ApiError> {
    let accepted = webhooks::redeliver(&state.app, &caller.account_id, &batch_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RedeliveryAccepted {
            batch_id: accepted.batch_id.into_string(),
            webhook_id: accepted.webhook_id,
            status: "queued",
        }),
    ))
}
