//! GET /api/v1/history and GET /api/v1/usage.
use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use altframe_domain::account::AccountCommand;
use altframe_projections::jobs::{self, JobRow};
use altframe_projections::usage;

use crate::adapters::subscriber::Subscriber;
use crate::api::error::ApiError;
use crate::api::layers::auth::Caller;
use crate::usecases::app::App;

/// How long a read waits for read models to show what the caller has just done.
const READ_YOUR_WRITES: Duration = Duration::from_secs(2);

/// The job statuses history can filter on.
pub const STATUSES: [&str; 4] = ["completed", "failed", "pending", "processing"];

#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryResponse {
    pub jobs: Vec<HistoryJob>,
    pub pagination: Pagination,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Pagination {
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    pub has_more: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryJob {
    pub id: String,
    #[schemars(schema_with = "crate::api::openapi::schemas::job_status")]
    pub status: String,
    pub image_url: Option<String>,
    #[schemars(with = "altframe_domain::generation::GeneratedText")]
    pub results: Value,
    #[schemars(
        schema_with = "crate::api::openapi::schemas::mode",
        transform = crate::api::openapi::schemas::no_default
    )]
    pub mode: String,
    pub language: String,
    pub meta: HistoryMeta,
    #[schemars(schema_with = "crate::api::openapi::schemas::source")]
    pub source: String,
    pub batch_id: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub completed_at: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryMeta {
    pub model: Option<String>,
    pub tokens: Tokens,
    pub processing_ms: Option<i64>,
    pub cost_usd: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "HistoryTokens")]
pub struct Tokens {
    pub input: i64,
    pub output: i64,
}

impl From<JobRow> for HistoryJob {
    fn from(j: JobRow) -> Self {
        HistoryJob {
            results: j
                .results
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok())
                .unwrap_or_else(|| Value::Object(Default::default())),
            meta: HistoryMeta {
                model: j.model,
                tokens: Tokens {
                    input: j.tokens_input.unwrap_or(0),
                    output: j.tokens_output.unwrap_or(0),
                },
                processing_ms: j.processing_ms,
                cost_usd: altframe_domain::Micros(j.cost_micros.unwrap_or(0)).as_dollars(),
            },
            id: j.id,
            status: j.status,
            image_url: j.image_url,
            mode: j.mode,
            language: j.language,
            source: j.source,
            batch_id: j.batch_id,
            error: j.error,
            created_at: j.created_at,
            completed_at: j.completed_at,
        }
    }
}

fn integer(
    params: &HashMap<String, String>,
    name: &str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ApiError> {
    let Some(raw) = params.get(name) else {
        return Ok(default);
    };
    match raw.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ if max == i64::MAX => Err(ApiError::bad_request(format!(
            "{name} must be a whole number of at least {min}; got \"{raw}\""
        ))),
        _ => Err(ApiError::bad_request(format!(
            "{name} must be a whole number from {min} to {max}; got \"{raw}\""
        ))),
    }
}

/// Brings read models up to what was committed before this request.
async fn up_to_date(app: &App) {
    if let Err(e) = app.projector.catch_up_fully(READ_YOUR_WRITES).await {
        tracing::warn!(error = %e, "read models are behind");
    }
}

pub async fn get_history(
    State(app): State<App>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<HistoryResponse>, ApiError> {
    let limit = integer(&params, "limit", 50, 1, 100)?;
    let offset = integer(&params, "offset", 0, 0, i64::MAX)?;
    let status = match params.get("status").map(|s| s.trim()) {
        None => None,
        Some(s) if STATUSES.contains(&s) => Some(s),
        Some(s) => {
            return Err(ApiError::bad_request(format!(
                "status must be one of \"completed\", \"failed\", \"pending\", \"processing\"; got \"{s}\""
            )))
        }
    };
    up_to_date(&app).await;
    let (rows, total) = jobs::page(&app.store.db, &caller.account_id, status, limit, offset)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(HistoryResponse {
        pagination: Pagination {
            total,
            limit,
            offset,
            has_more: offset.saturating_add(rows.len() as i64) < total,
        },
        jobs: rows.into_iter().map(HistoryJob::from).collect(),
    }))
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UsageResponse {
    pub plan: String,
    pub credits: UsageCredits,
    pub overage: UsageOverage,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UsageCredits {
    pub monthly_allocation: i64,
    pub remaining: i64,
    pub rollover: i64,
    pub used_this_period: i64,
    pub period_resets_at: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UsageOverage {
    pub enabled: bool,
    pub rate: f64,
}

pub async fn get_usage(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<UsageResponse>, ApiError> {
    // A new month begins at the first command after midnight on the 1st; a read may be it.
    let start = AccountCommand::StartDuePeriods {
        at: app.clock.now(),
    };
    app.store
        .accounts
        .execute(&caller.account_id, start)
        .await
        .map_err(ApiError::internal)?;
    up_to_date(&app).await;
    let row = usage::find(&app.store.db, &caller.account_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal("the account has no usage row"))?;
    Ok(Json(UsageResponse {
        plan: row.plan,
        credits: UsageCredits {
            monthly_allocation: row.monthly_allocation,
            remaining: row.remaining,
            rollover: row.rollover,
            used_this_period: row.used_this_period,
            period_resets_at: row.period_end,
        },
        overage: UsageOverage {
            enabled: row.overage_enabled,
            rate: altframe_domain::Micros(row.overage_rate_micros).as_dollars(),
        },
    }))
}
