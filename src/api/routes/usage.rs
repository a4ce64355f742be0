//! GET /api/v1/usage.
use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

use crate::api::error::ApiError;
use crate::api::layers::auth::Caller;
use crate::api::ApiState;
use crate::usecases::usage::{self, Usage};

#[derive(Debug, Serialize, JsonSchema)]
pub struct UsageResponse {
    pub plan: String,
    pub credits: UsageCredits,
    pub overage: UsageOverage,
    /// Our addition: a downgrade that applies when the next period starts. Absent when none is
    /// scheduled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_plan_change: Option<PendingPlanChange>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PendingPlanChange {
    /// The plan the account moves to.
    pub plan: String,
    /// When it does: the start of the next billing period.
    pub effective_at: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UsageCredits {
    pub monthly_allocation: i64,
    pub remaining: i64,
    pub rollover: i64,
    pub used_this_period: i64,
    /// Our addition: the part of `used_this_period` that paid for languages beyond the first
    /// in one call. Absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_credits_this_period: Option<i64>,
    /// Our addition: the part of `used_this_period` that paid for `POST /api/v1/validate`'s
    /// suggestions and model judgements. Absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validate_credits_this_period: Option<i64>,
    /// Our addition: generations this period answered from the cache, at no charge (the
    /// same image, options and context within `ALTFRAME_CACHE_DAYS`). Absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_answers_this_period: Option<i64>,
    pub period_resets_at: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UsageOverage {
    pub enabled: bool,
    pub rate: f64,
}

pub async fn get_usage(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<UsageResponse>, ApiError> {
    Ok(Json(
        usage::usage(&state.app, &caller.account_id).await?.into(),
    ))
}

impl From<Usage> for UsageResponse {
    fn from(Usage { row, this_period }: Usage) -> Self {
        let when_any = |n: i64| (n > 0).then_some(n);
        UsageResponse {
            plan: row.plan,
            credits: UsageCredits {
                monthly_allocation: row.monthly_allocation,
                remaining: row.remaining,
                rollover: row.rollover,
                used_this_period: row.used_this_period,
                language_credits_this_period: when_any(row.language_credits),
                validate_credits_this_period: when_any(this_period.validate_credits),
                cached_answers_this_period: when_any(this_period.cached_answers),
                period_resets_at: row.period_end,
            },
            overage: UsageOverage {
                enabled: row.overage_enabled,
                rate: altframe_domain::Micros(row.overage_rate_micros).as_dollars(),
            },
            pending_plan_change: row
                .pending_plan
                .zip(row.pending_plan_at)
                .map(|(plan, effective_at)| PendingPlanChange { plan, effective_at }),
        }
    }
}
