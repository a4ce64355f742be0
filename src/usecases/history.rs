//! The account's jobs, newest first: GET /api/v1/history.
use altframe_domain::AccountId;
use altframe_projections::jobs;

pub use altframe_projections::jobs::JobRow;

use super::{App, Failure};

/// The job statuses history can filter on.
pub const STATUSES: [&str; 4] = ["completed", "failed", "pending", "processing"];

/// One page of history, and how many jobs match in all.
#[derive(Debug, Clone)]
pub struct Page {
    pub jobs: Vec<JobRow>,
    pub total: i64,
}

/// A page of the account's jobs with `status` (one of [`STATUSES`], or any), after catching
/// the read models up with what the caller has just done.
pub async fn page(
    app: &App,
    account_id: &AccountId,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Page, Failure> {
    app.read_your_writes().await;
    let (jobs, total) =
        jobs::page(&app.store.db, account_id.as_str(), status, limit, offset).await?;
    Ok(Page { jobs, total })
}
