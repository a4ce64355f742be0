//! Releases reservations that nothing will settle: their request died between reserving and
//! recording an outcome. Bulk items still queued are left to their lease; everything else
//! open past the timeout is settled from its job's state, as an event. It also sweeps the
//! request edge's expired records (rate-limit windows, idempotency keys).
use std::sync::Arc;
use std::time::Duration;

use altframe_domain::account::{AccountCommand, AccountError};
use altframe_domain::job::{JobCommand, JobState};
use altframe_projections::work::{self, OpenReservation};

use crate::adapters::store::CommandError;
use crate::usecases::app::App;

pub struct Reaper {
    app: App,
    timeout: Duration,
}

impl Reaper {
    pub fn new(app: App, timeout: Duration) -> Arc<Reaper> {
        Arc::new(Reaper { app, timeout })
    }

    pub fn spawn(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = this.reap().await {
                    tracing::error!(error = %e, "releasing stale reservations failed");
                }
                if let Err(e) = this.forget_expired_edge_state().await {
                    tracing::error!(error = %e, "deleting expired rate-limit and idempotency records failed");
                }
            }
        })
    }

    /// Deletes rate-limit counts of ended windows and idempotency records past their 24 hours.
    pub async fn forget_expired_edge_state(&self) -> Result<(), sqlx::Error> {
        let now = self.app.clock.now();
        self.app.rate_limiter.forget_ended_windows(now).await?;
        self.app.idempotency.forget_expired(now).await?;
        Ok(())
    }

    /// Settles every reservation older than the timeout. Returns how many it handled.
    pub async fn reap(&self) -> Result<usize, String> {
        let before = self.app.clock.now()
            - chrono::Duration::from_std(self.timeout).unwrap_or(chrono::Duration::zero());
        let stale = work::stale_reservations(&self.app.store.db, before, 100)
            .await
            .map_err(|e| e.to_string())?;
        for reservation in &stale {
            self.settle(reservation).await?;
        }
        if !stale.is_empty() {
            self.app.events_committed();
        }
        Ok(stale.len())
    }

    #[tracing::instrument(skip(self, r), fields(reservation_id = %r.reservation_id, purpose = %r.purpose))]
    async fn settle(&self, r: &OpenReservation) -> Result<(), String> {
        let app = &self.app;
        let at = app.clock.now();
        let state = if r.purpose.starts_with("job_") {
            Some(
                app.store
                    .jobs
                    .load(&r.purpose)
                    .await
                    .map_err(|e| e.to_string())?
                    .state(),
            )
        } else {
            None
        };
        let command = match state {
            Some(JobState::Requested) => {
                // The job's request died mid-call: fail the job; the process manager then
                // releases its credits.
                tracing::warn!("failing a job whose request never finished");
                let fail = JobCommand::FailJob {
                    error: "The request did not finish; no credits were charged.".into(),
                    at,
                };
                return match app.store.jobs.execute(&r.purpose, fail).await {
                    Ok(_) | Err(CommandError::Rejected(_)) => Ok(()),
                    Err(e) => Err(e.to_string()),
                };
            }
            Some(JobState::Completed) => AccountCommand::CaptureCredits {
                reservation_id: r.reservation_id.clone(),
                at,
            },
            Some(JobState::New) | Some(JobState::Failed) | None => {
                tracing::warn!("releasing a reservation nothing settled");
                AccountCommand::ReleaseCredits {
                    reservation_id: r.reservation_id.clone(),
                    reason: "expired: the request that reserved these credits did not finish"
                        .into(),
                    at,
                }
            }
        };
        match app.store.accounts.execute(&r.account_id, command).await {
            Ok(_) | Err(CommandError::Rejected(AccountError::ReservationNotOpen(_))) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}
