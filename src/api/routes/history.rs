//! GET /api/v1/history.
use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::api::error::ApiError;
use crate::api::layers::auth::Caller;
use crate::api::ApiState;
use crate::usecases::batch_report::LanguageParts;
use crate::usecases::history::{self, JobRow, STATUSES};

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
    #[serde(flatten)]
    pub languages: LanguageParts,
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
    /// Our addition: the credits this job was charged for languages beyond the first.
    /// Absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_credits: Option<i64>,
    /// Our addition: `true` for a job answered from the generation cache, charged nothing.
    /// Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached: Option<bool>,
    /// Our addition, with `cached`: the job whose result it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_from: Option<String>,
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
            languages: LanguageParts::of(&j),
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
                language_credits: (j.language_credits > 0).then_some(j.language_credits),
                cached: j.cached_from.is_some().then_some(true),
                cached_from: j.cached_from,
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

pub async fn get_history(
    State(state): State<ApiState>,
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
    let page = history::page(&state.app, &caller.account_id, status, limit, offset).await?;
    Ok(Json(HistoryResponse {
        pagination: Pagination {
            total: page.total,
            limit,
            offset,
            has_more: offset.saturating_add(page.jobs.len() as i64) < page.total,
        },
        jobs: page.jobs.into_iter().map(HistoryJob::from).collect(),
    }))
}
