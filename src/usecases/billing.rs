//! Billing periods. A new period starts at 00:00 UTC on the 1st. Every command on an account
//! starts the periods due before it decides (inside the aggregate), so a charge is always
//! taken from the right balance; accounts that see no command are moved on by a background
//! tick (`run::tasks::billing`), which calls [`start_due_periods`]. Reads never issue a
//! command: usage shows the new period once either has happened.
use altframe_domain::account::AccountCommand;
use altframe_domain::AccountId;
use altframe_projections::usage;

use super::{error_chain, App, Failure};

/// Accounts looked at in one call, at most; the tick calls again while it starts periods.
pub const ROUND: usize = 500;

/// What one call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuePeriods {
    /// Accounts whose period had ended, as the usage read model shows them.
    pub due: usize,
    /// Accounts whose new period this call started (another process may have started the
    /// others, or the read model was behind).
    pub started: usize,
}

/// Starts the billing period of every account whose period has ended. An account that
/// cannot be moved on is logged and left for the next call; the others go on.
pub async fn start_due_periods(app: &App) -> Result<DuePeriods, Failure> {
    let now = app.clock.now();
    let due = usage::due_for_new_period(&app.store.db, now, ROUND as i64).await?;
    let mut started = 0;
    for account_id in &due {
        let start = AccountCommand::StartDuePeriods { at: now };
        match app
            .store
            .accounts
            .execute(&AccountId::new(account_id), start)
            .await
        {
            Ok(events) if !events.is_empty() => started += 1,
            Ok(_) => {}
            Err(e) => tracing::error!(
                %account_id,
                error = %error_chain(&e),
                "could not start a billing period"
            ),
        }
    }
    if started > 0 {
        app.events_committed();
        app.read_your_writes().await;
    }
    Ok(DuePeriods {
        due: due.len(),
        started,
    })
}
