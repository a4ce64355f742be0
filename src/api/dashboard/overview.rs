//! The overview: how the account is doing this period, in numbers first, then a chart of
//! credits used per day (an SVG drawn here, with a table for those who cannot see it), the
//! overage switch and the plan's rate limits.
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::format;
use super::page::{self, Chrome, PageError};
use super::session::Owner;
use crate::adapters::rate_limits::Endpoint;
use crate::api::ApiState;
use crate::usecases::accounts::{self, AccountsError};
use crate::usecases::usage::{self, DayUsage, UsageRow};

/// The chart's drawing area, in SVG units.
const CHART_WIDTH: f64 = 640.0;
const CHART_HEIGHT: f64 = 160.0;
const CHART_LEFT: f64 = 44.0;
const CHART_BOTTOM: f64 = 24.0;

pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    pub day: String,
    pub credits: String,
}

pub struct Chart {
    pub bars: Vec<Bar>,
    pub days: Vec<(String, String)>,
    pub max_label: String,
    pub first_day: String,
    pub last_day: String,
    pub total: String,
}

fn chart(days: &[DayUsage]) -> Chart {
    let max = days.iter().map(|d| d.credits).max().unwrap_or(0).max(1);
    let plot_width = CHART_WIDTH - CHART_LEFT;
    let plot_height = CHART_HEIGHT - CHART_BOTTOM;
    let slot = plot_width / days.len().max(1) as f64;
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let height = plot_height * d.credits as f64 / max as f64;
            Bar {
                x: format!("{:.1}", CHART_LEFT + slot * i as f64 + slot * 0.15),
                y: format!("{:.1}", plot_height - height),
                width: format!("{:.1}", slot * 0.7),
                height: format!("{height:.1}"),
                day: format::day(d.day),
                credits: format::credits(d.credits),
            }
        })
        .collect();
    Chart {
        bars,
        days: days
            .iter()
            .map(|d| (format::day(d.day), format::thousands(d.credits)))
            .collect(),
        max_label: format::thousands(max),
        first_day: days.first().map(|d| format::day(d.day)).unwrap_or_default(),
        last_day: days.last().map(|d| format::day(d.day)).unwrap_or_default(),
        total: format::credits(days.iter().map(|d| d.credits).sum()),
    }
}

pub struct Limit {
    pub endpoint: &'static str,
    pub per_minute: String,
}

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    plan: String,
    allocation: String,
    remaining: String,
    used: String,
    rollover: String,
    resets: String,
    resets_at: String,
    pending: Option<(String, String)>,
    overage_available: bool,
    overage_enabled: bool,
    overage_rate: String,
    overage_used: String,
    overage_cost: String,
    chart: Chart,
    limits: Vec<Limit>,
    notice: Option<String>,
}

async fn overview(
    state: &ApiState,
    owner: &Owner,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let app = &state.app;
    let account_id = &owner.session.requester.account_id;
    let row: UsageRow = usage::usage_row(app, account_id).await?;
    let days = usage::daily(app, &row).await?;
    let plan = owner.session.requester.plan;
    let now = app.clock().now();
    let table = state.rate_limiter.table();
    let page = OverviewPage {
        chrome: Chrome::new(owner, "overview"),
        plan: crate::api::text::capitalised(plan.as_str()),
        allocation: format::credits(row.monthly_allocation),
        remaining: format::thousands(row.remaining),
        used: format::thousands(row.used_this_period),
        rollover: format::thousands(row.rollover),
        resets: format::day_with_distance(&row.period_end, now),
        resets_at: row.period_end.clone(),
        // A downgrade whose time has come is the plan already (see `Requester`).
        pending: row
            .pending_plan
            .clone()
            .zip(
                row.pending_plan_at
                    .as_deref()
                    .filter(|at| format::parse(at).is_some_and(|at| at > now)),
            )
            .map(|(plan, at)| (plan, format::day_with_distance(at, now))),
        overage_available: plan.overage_rate().is_some(),
        overage_enabled: row.overage_enabled,
        overage_rate: format::dollars(row.overage_rate_micros),
        overage_used: format::credits(row.overage_credits),
        overage_cost: format::dollars(row.overage_cost_micros),
        chart: chart(&days),
        limits: Endpoint::ALL
            .into_iter()
            .map(|e| Limit {
                endpoint: e.as_str(),
                per_minute: format::thousands(i64::from(table.limit(plan, e))),
            })
            .collect(),
        notice,
    };
    Ok(page::ok(&page))
}

pub async fn get_overview(
    State(state): State<ApiState>,
    owner: Owner,
) -> Result<Response, PageError> {
    overview(&state, &owner, None).await
}

#[derive(Deserialize)]
pub struct OverageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    enabled: String,
}

/// The overage switch: on or off, then back to the overview, which shows the new state.
pub async fn post_overage(
    State(state): State<ApiState>,
    owner: Owner,
    Form(form): Form<OverageForm>,
) -> Result<Response, PageError> {
    owner.check_csrf(&form.csrf)?;
    let enabled = form.enabled == "true";
    let account_id = &owner.session.requester.account_id;
    match accounts::set_overage(&state.app, account_id, enabled).await {
        Ok(_) => Ok(Redirect::to("/dashboard").into_response()),
        Err(AccountsError::NoOverageOnPlan(plan)) => {
            let notice = format!(
                "The {plan} plan has no overage billing. Ask your operator to move you to Pro or Business."
            );
            overview(&state, &owner, Some(notice)).await
        }
        Err(e) => Err(e.into()),
    }
}
