//! History: the same read model as GET /api/v1/history, with its status filter and pages.
//! Each job shows its text fields (each with a copy button), its meta, and a thumbnail when
//! the image came by URL.
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::format;
use super::page::{self, Chrome, PageError};
use super::session::Owner;
use crate::api::ApiState;
use crate::usecases::history::{self, JobRow, STATUSES};

const PAGE_SIZE: i64 = 20;

pub struct JobView {
    pub id: String,
    pub status: String,
    pub source: String,
    pub created: String,
    pub created_at: String,
    /// Only `https` URLs are shown as images; others are listed as text.
    pub thumbnail: Option<String>,
    pub image_url: Option<String>,
    pub fields: Vec<(String, String)>,
    pub meta: Vec<(&'static str, String)>,
    pub error: Option<String>,
    pub batch_id: Option<String>,
}

/// The generated text, field by field, as stored (model output: shown as text only).
fn fields_of(results: Option<&str>) -> Vec<(String, String)> {
    let Some(map) = results
        .and_then(|r| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(r).ok())
    else {
        return Vec::new();
    };
    map.into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, text)
        })
        .collect()
}

/// Each other language's fields, named `fr:alt_text` (one word, so it can be part of an id).
fn translated_fields(translations: Option<&str>) -> Vec<(String, String)> {
    let Some(languages) = translations
        .and_then(|t| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(t).ok())
    else {
        return Vec::new();
    };
    languages
        .into_iter()
        .flat_map(|(language, text)| {
            fields_of(Some(&text.to_string()))
                .into_iter()
                .map(move |(field, value)| (format!("{language}:{field}"), value))
        })
        .collect()
}

impl From<JobRow> for JobView {
    fn from(job: JobRow) -> Self {
        let mut meta = vec![
            ("Credits", format::thousands(job.credits)),
            ("Language", job.language.clone()),
            ("Mode", job.mode.clone()),
        ];
        if job.language_credits > 0 {
            meta.push(("For languages", format::thousands(job.language_credits)));
        }
        if let Some(earlier) = &job.cached_from {
            meta.push(("From the cache of", earlier.clone()));
        }
        let failed: Option<Vec<String>> = job
            .failed_languages
            .as_deref()
            .and_then(|f| serde_json::from_str(f).ok());
        if let Some(failed) = failed.filter(|f| !f.is_empty()) {
            meta.push(("Not written", failed.join(", ")));
        }
        if let Some(model) = &job.model {
            meta.push(("Model", model.clone()));
        }
        if let (Some(input), Some(output)) = (job.tokens_input, job.tokens_output) {
            meta.push((
                "Tokens",
                format!(
                    "{} in, {} out",
                    format::thousands(input),
                    format::thousands(output)
                ),
            ));
        }
        if let Some(ms) = job.processing_ms {
            meta.push(("Processing", format!("{} ms", format::thousands(ms))));
        }
        if let Some(cost) = job.cost_micros {
            meta.push(("Model cost", format::dollars(cost)));
        }
        let thumbnail = job.image_url.clone().filter(|u| u.starts_with("https://"));
        JobView {
            fields: fields_of(job.results.as_deref())
                .into_iter()
                .chain(translated_fields(job.translations.as_deref()))
                .collect(),
            created: format::moment(&job.created_at),
            created_at: job.created_at,
            status: job.status,
            source: job.source,
            thumbnail,
            image_url: job.image_url,
            meta,
            error: job.error,
            batch_id: job.batch_id,
            id: job.id,
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/history.html")]
struct HistoryPage {
    chrome: Chrome,
    jobs: Vec<JobView>,
    statuses: &'static [&'static str],
    status: String,
    page: i64,
    pages: i64,
    showing: String,
    previous: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct HistoryQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: Option<String>,
}

fn link(status: &str, page: i64) -> String {
    if status.is_empty() {
        format!("/dashboard/history?page={page}")
    } else {
        format!("/dashboard/history?status={status}&page={page}")
    }
}

pub async fn get_history(
    State(state): State<ApiState>,
    owner: Owner,
    Query(query): Query<HistoryQuery>,
) -> Result<Response, PageError> {
    // An unknown status or page is read as none and the first: this is a page, not an API.
    let status = STATUSES
        .iter()
        .find(|s| **s == query.status)
        .map_or("", |s| *s);
    let page = query
        .page
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1);
    let account_id = &owner.session.requester.account_id;
    let status_filter = (!status.is_empty()).then_some(status);
    let found = history::page(
        &state.app,
        account_id,
        status_filter,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
    )
    .await?;
    let pages = ((found.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let first = (page - 1) * PAGE_SIZE + 1;
    let last = first + found.jobs.len() as i64 - 1;
    let showing = if found.jobs.is_empty() {
        "No jobs".to_string()
    } else {
        format!(
            "Showing {}–{} of {}",
            format::thousands(first),
            format::thousands(last),
            format::thousands(found.total)
        )
    };
    let page_view = HistoryPage {
        chrome: Chrome::new(&owner, "history"),
        jobs: found.jobs.into_iter().map(JobView::from).collect(),
        statuses: &STATUSES,
        status: status.to_string(),
        page,
        pages,
        showing,
        previous: (page > 1).then(|| link(status, page - 1)),
        next: (page < pages).then(|| link(status, page + 1)),
    };
    Ok(page::ok(&page_view))
}
