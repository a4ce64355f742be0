//! Batches: the account's latest, then one batch's status, counts, each item's result or
//! error, its webhook's delivery attempts and a button to send the webhook again.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::format;
use super::page::{self, Chrome, PageError};
use super::session::Owner;
use super::sign_in::CsrfForm;
use crate::api::ApiState;
use crate::usecases::batches::{self, BatchesError};
use crate::usecases::webhooks;

/// Batches the list shows.
const RECENT: i64 = 50;

pub struct BatchLine {
    pub id: String,
    pub status: String,
    pub total: String,
    pub completed: String,
    pub failed: String,
    pub created: String,
    pub created_at: String,
}

#[derive(Template)]
#[template(path = "dashboard/batches.html")]
struct BatchesPage {
    chrome: Chrome,
    batches: Vec<BatchLine>,
}

pub async fn get_batches(
    State(state): State<ApiState>,
    owner: Owner,
) -> Result<Response, PageError> {
    let rows = batches::recent(&state.app, &owner.session.requester.account_id, RECENT).await?;
    let lines = rows
        .into_iter()
        .map(|b| BatchLine {
            status: b.status,
            total: format::thousands(b.total),
            completed: format::thousands(b.completed),
            failed: format::thousands(b.failed),
            created: format::moment(&b.created_at),
            created_at: b.created_at,
            id: b.id,
        })
        .collect();
    Ok(page::ok(&BatchesPage {
        chrome: Chrome::new(&owner, "batches"),
        batches: lines,
    }))
}

pub struct ItemLine {
    pub id: String,
    pub image_url: Option<String>,
    pub fields: Vec<(String, String)>,
    pub error: Option<String>,
}

pub struct AttemptLine {
    pub attempt: i64,
    pub outcome: String,
    pub delivered: bool,
    pub at: String,
    pub at_shown: String,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/batch.html")]
struct BatchPage {
    chrome: Chrome,
    id: String,
    status: String,
    total: String,
    completed: String,
    failed: String,
    items: Vec<ItemLine>,
    webhook_url: Option<String>,
    attempts: Vec<AttemptLine>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct BatchQuery {
    redelivery: Option<String>,
}

async fn batch_page(
    state: &ApiState,
    owner: &Owner,
    batch_id: &str,
    notice: Option<String>,
    error: Option<String>,
) -> Result<BatchPage, PageError> {
    let account_id = &owner.session.requester.account_id;
    let report = batches::status(&state.app, account_id, batch_id).await?;
    let deliveries = batches::webhook_deliveries(&state.app, account_id, batch_id).await?;
    let mut items: Vec<ItemLine> = Vec::new();
    for r in report.results {
        let fields = r
            .results
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_string),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        items.push(ItemLine {
            id: r.id,
            image_url: r.image_url,
            fields,
            error: None,
        });
    }
    for e in report.errors {
        items.push(ItemLine {
            id: e.id,
            image_url: e.image_url,
            fields: Vec::new(),
            error: Some(e.error),
        });
    }
    let attempts = deliveries
        .attempts
        .into_iter()
        .map(|a| AttemptLine {
            attempt: a.attempt,
            outcome: match (a.status, &a.error) {
                (Some(status), _) => format!("HTTP {status}"),
                (None, Some(error)) => error.clone(),
                (None, None) => "no answer".into(),
            },
            delivered: a.delivered != 0,
            at_shown: format::moment(&a.at),
            at: a.at,
            next: a.next_attempt_at.map(|n| format::moment(&n)),
        })
        .collect();
    Ok(BatchPage {
        chrome: Chrome::new(owner, "batches"),
        id: report.batch_id,
        status: report.status,
        total: format::thousands(report.total),
        completed: format::thousands(report.completed),
        failed: format::thousands(report.failed),
        items,
        webhook_url: deliveries.batch.webhook_url,
        attempts,
        notice,
        error,
    })
}

pub async fn get_batch(
    State(state): State<ApiState>,
    owner: Owner,
    Path(batch_id): Path<String>,
    Query(query): Query<BatchQuery>,
) -> Result<Response, PageError> {
    let notice = query.redelivery.map(|_| {
        "The webhook will be sent again in a moment; its attempt appears below.".to_string()
    });
    let page = batch_page(&state, &owner, &batch_id, notice, None).await?;
    Ok(page::ok(&page))
}

/// Asks for the webhook again; refusals (still processing, no webhook, a delivery under way)
/// are shown on the batch's page in the API's words.
pub async fn post_redeliver(
    State(state): State<ApiState>,
    owner: Owner,
    Path(batch_id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    owner.check_csrf(&form.csrf)?;
    let account_id = &owner.session.requester.account_id;
    match webhooks::redeliver(&state.app, account_id, &batch_id).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/dashboard/batches/{batch_id}?redelivery=requested"
        ))
        .into_response()),
        Err(
            e @ (BatchesError::NoWebhook
            | BatchesError::StillProcessing
            | BatchesError::DeliveryPending),
        ) => {
            let message = e.to_string();
            let page = batch_page(&state, &owner, &batch_id, None, Some(message)).await?;
            Ok(page::render(StatusCode::CONFLICT, &page))
        }
        Err(e) => Err(e.into()),
    }
}
