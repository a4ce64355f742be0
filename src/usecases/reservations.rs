//! Reservations that nothing will settle: their request died between reserving and recording
//! an outcome. Bulk items still queued are left to their lease; everything else open past the
//! timeout is settled from its job's state, as an event.
use std::time::Duration;

use altframe_domain::account::{AccountCommand, AccountError};
use altframe_domain::job::{Job, JobCommand, JobState, ANSWERED_FROM_CACHE};
use altframe_domain::{AccountId, JobId, ReservationId};
use altframe_projections::work::{self, OpenReservation};

use super::{error_chain, App, Failure};
use crate::adapters::store::CommandError;

/// Reservations settled in one call, at most.
const ROUND: i64 = 100;

/// Settles every reservation made more than `timeout` ago and still open. Returns how many it
/// settled; one that cannot be settled is logged and left for the next call.
pub async fn settle_stale(app: &App, timeout: Duration) -> Result<usize, Failure> {
    let before =
        app.clock.now() - chrono::Duration::from_std(timeout).unwrap_or(chrono::Duration::zero());
    let stale = work::stale_reservations(&app.store.db, before, ROUND).await?;
    let mut settled = 0;
    for reservation in &stale {
        match settle(app, reservation).await {
            Ok(()) => settled += 1,
            Err(e) => tracing::error!(
                reservation_id = %reservation.reservation_id,
                error = %error_chain(&e),
                "could not settle a stale reservation"
            ),
        }
    }
    if settled > 0 {
        app.events_committed();
    }
    Ok(settled)
}

#[tracing::instrument(skip(app, r), fields(reservation_id = %r.reservation_id, purpose = %r.purpose))]
async fn settle(app: &App, r: &OpenReservation) -> Result<(), Failure> {
    let at = app.clock.now();
    let job_id = r
        .purpose
        .starts_with("job_")
        .then(|| JobId::new(&r.purpose));
    let job = match &job_id {
        Some(job_id) => Some(app.store.jobs.load(job_id).await?),
        None => None,
    };
    let state = job.as_ref().map(|j| j.state());
    let reservation_id = ReservationId::new(&r.reservation_id);
    let command = match (state, job_id) {
        (Some(JobState::Requested), Some(job_id)) => {
            // The job's request died mid-call: fail the job; the process manager then
            // releases its credits.
            tracing::warn!("failing a job whose request never finished");
            let fail = JobCommand::FailJob {
                error: "The request did not finish; no credits were charged.".into(),
                at,
            };
            return match app.store.jobs.execute(&job_id, fail).await {
                Ok(_) | Err(CommandError::Rejected(_)) => Ok(()),
                Err(e) => Err(e.into()),
            };
        }
        // A bulk item answered from the cache owes nothing, as the process manager would
        // have settled it.
        (Some(JobState::Completed), _) if job.as_ref().is_some_and(Job::answered_from_cache) => {
            AccountCommand::ReleaseCredits {
                reservation_id,
                reason: ANSWERED_FROM_CACHE.into(),
                at,
            }
        }
        (Some(JobState::Completed), _) => AccountCommand::CaptureCredits {
            reservation_id,
            charge: job.map(|j| j.charge()).unwrap_or_default(),
            at,
        },
        _ => {
            tracing::warn!("releasing a reservation nothing settled");
            AccountCommand::ReleaseCredits {
                reservation_id,
                reason: "expired: the request that reserved these credits did not finish".into(),
                at,
            }
        }
    };
    match app
        .store
        .accounts
        .execute(&AccountId::new(&r.account_id), command)
        .await
    {
        Ok(_) | Err(CommandError::Rejected(AccountError::ReservationNotOpen(_))) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
