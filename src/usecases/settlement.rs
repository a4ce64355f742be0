//! What follows a job's outcome: a completed job's reservation is captured, a failed job's
//! (or a bulk item's answered from the cache) released, and a bulk item's outcome is
//! recorded on its batch (the last one finishes it).
//!
//! The process manager calls this for every job outcome in the event feed, at least once. A
//! reaction that was already made is refused (`ReservationNotOpen`, `OutcomeKnown`), which
//! counts as done. A reservation this process's own request has settled is skipped without
//! asking the account (see `settled_here`).
use altframe_domain::account::{AccountCommand, AccountError};
use altframe_domain::batch::{BatchCommand, BatchError};
use altframe_domain::job::{BulkItemRef, JobEvent, ANSWERED_FROM_CACHE};
use altframe_domain::JobId;

use super::{App, Failure};
use crate::adapters::store::CommandError;

/// The name under which the process manager keeps its place in the event feed.
pub const CHECKPOINT: &str = "process_manager";

/// Reacts to one of `job_id`'s events; only outcomes call for anything.
#[tracing::instrument(skip(app, event), fields(%job_id))]
pub async fn on_job_event(app: &App, job_id: &JobId, event: JobEvent) -> Result<(), Failure> {
    let at = app.clock.now();
    let (account_id, batch_id, reservation_id, settle, succeeded) = match event {
        JobEvent::JobCompleted {
            account_id,
            batch_id,
            reservation_id,
            charge,
            ..
        } => (
            account_id,
            batch_id,
            reservation_id.clone(),
            AccountCommand::CaptureCredits {
                reservation_id,
                charge,
                at,
            },
            true,
        ),
        JobEvent::JobFailed {
            account_id,
            batch_id,
            reservation_id,
            error,
            ..
        } => (
            account_id,
            batch_id,
            reservation_id.clone(),
            AccountCommand::ReleaseCredits {
                reservation_id,
                reason: error,
                at,
            },
            false,
        ),
        // A bulk item answered from the cache: free, so what its batch reserved is released.
        JobEvent::JobAnsweredFromCache {
            account_id,
            bulk_item:
                Some(BulkItemRef {
                    batch_id,
                    reservation_id,
                }),
            ..
        } => (
            account_id,
            Some(batch_id),
            reservation_id.clone(),
            AccountCommand::ReleaseCredits {
                reservation_id,
                reason: ANSWERED_FROM_CACHE.into(),
                at,
            },
            true,
        ),
        // A synchronous request answered from the cache reserved nothing.
        JobEvent::JobRequested { .. } | JobEvent::JobAnsweredFromCache { .. } => return Ok(()),
    };
    if !app.settled_here.take(&reservation_id) {
        match app.store.accounts.execute(&account_id, settle).await {
            Ok(_) | Err(CommandError::Rejected(AccountError::ReservationNotOpen(_))) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(batch_id) = batch_id {
        let outcome = BatchCommand::RecordItemOutcome {
            job_id: job_id.clone(),
            succeeded,
            at,
        };
        match app.store.batches.execute(&batch_id, outcome).await {
            Ok(_) | Err(CommandError::Rejected(BatchError::OutcomeKnown(_))) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
