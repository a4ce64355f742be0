//! The account's plan, balance and billing period: GET /api/v1/usage. A read: the period
//! shown is the one the last command or the billing tick started (see `billing`).
use altframe_domain::AccountId;
use altframe_projections::usage;

pub use altframe_projections::usage::UsageRow;

use super::{App, Failure};

pub async fn usage(app: &App, account_id: &AccountId) -> Result<UsageRow, Failure> {
    app.read_your_writes().await;
    usage::find(&app.store.db, account_id.as_str())
        .await?
        .ok_or_else(|| Failure::Inconsistent(format!("account {account_id} has no usage row")))
}
