//! Billing periods. A new period starts at 00:00 UTC on the 1st. Every command on an account
//! starts the periods due before it decides (inside the aggregate), so a charge is always
//! taken from the right balance; accounts that see no command are moved on by a background
//! tick (`run::tasks::billing`), which calls [`start_due_periods`]. Reads never issue a
//! command: usage shows the new period once either has happened.
use altframe_domain::account::AccountCommand;
use altframe_domain::AccountId;
use altframe_projections::usage;

use super::{App, Failure};

/// Accounts moved on in one call, at most; the tick calls again while there are more.
pub const ROUND: usize = 500;

/// Starts the billing period of every account whose period has ended. Returns how many
/// accounts it looked at (a period already started by another process counts too).
pub async fn start_due_periods(app: &App) -> Result<usize, Failure> {
    let now = app.clock.now();
    let due = usage::due_for_new_period(&app.store.db, now, ROUND as i64).await?;
    for account_id in &due {
        let start = AccountCommand::StartDuePeriods { at: now };
        app.store
            .accounts
            .execute(&AccountId::new(account_id), start)
            .await?;
    }
    if !due.is_empty() {
        app.events_committed();
        app.read_your_writes().await;
    }
    Ok(due.len())
}
