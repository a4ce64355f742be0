//! The process manager: reacts to job outcomes. A completed job's reservation is captured, a
//! failed job's released, and a bulk item's outcome is recorded on its batch (the last one
//! finishes the batch).
//!
//! The request that ran a sync job settles straight away; this subscriber is what makes a
//! crash between a job's outcome and what follows harmless. It reads the global event order
//! from its own checkpoint and is at-least-once: every reaction is refused the second time
//! (`ReservationNotOpen`, `OutcomeKnown`), which counts as done, so no lock is held while
//! commands run. A reservation this process's request has already settled is skipped without
//! asking the account (see [`SettledHere`]).
use std::sync::Arc;

use altframe_domain::account::{AccountCommand, AccountError};
use altframe_domain::batch::{BatchCommand, BatchError};
use altframe_domain::job::JobEvent;
use altframe_projections::checkpoint::{self, Checkpoint};
use altframe_projections::{DecodedEvent, StoredEvent};
use tokio::sync::{Mutex, Notify};

use crate::adapters::clock::Clock;
use crate::adapters::read_models::Projector;
use crate::adapters::store::{feed, CommandError, Store};
use crate::adapters::subscriber::Subscriber;
use crate::usecases::settled_here::SettledHere;

pub const NAME: &str = "process_manager";
const BATCH: i64 = 200;

pub struct ProcessManager {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    /// Woken after reactions: they commit events (a batch's last outcome finishes it, which
    /// schedules its webhook) that read models should show without waiting for a poll.
    projector: Arc<Projector>,
    settled_here: SettledHere,
    running: Mutex<()>,
    wake: Notify,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessManagerError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Decode(#[from] altframe_projections::ProjectionError),
    #[error("reacting to job {job_id}: {message}")]
    Command { job_id: String, message: String },
}

impl ProcessManager {
    pub fn new(
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
        projector: Arc<Projector>,
    ) -> Arc<ProcessManager> {
        Arc::new(ProcessManager {
            store,
            clock,
            projector,
            settled_here: SettledHere::default(),
            running: Mutex::new(()),
            wake: Notify::new(),
        })
    }

    /// Called by a request of this process once its own commit settled `reservation_id`.
    pub fn settled_by_request(&self, reservation_id: &str) {
        self.settled_here.record(reservation_id);
    }

    async fn react(&self, event: &StoredEvent) -> Result<(), ProcessManagerError> {
        let DecodedEvent::Job(job_event) = event.decode()? else {
            return Ok(());
        };
        let job_id = event.aggregate_id.as_str();
        let (account_id, batch_id, reservation_id, settle, succeeded) = match job_event {
            JobEvent::JobCompleted {
                account_id,
                batch_id,
                reservation_id,
                ..
            } => (
                account_id,
                batch_id,
                reservation_id.clone(),
                AccountCommand::CaptureCredits {
                    reservation_id,
                    at: self.clock.now(),
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
                    at: self.clock.now(),
                },
                false,
            ),
            JobEvent::JobRequested { .. } => return Ok(()),
        };
        let failed = |message: String| ProcessManagerError::Command {
            job_id: job_id.to_string(),
            message,
        };
        if !self.settled_here.take(&reservation_id) {
            match self.store.accounts.execute(&account_id, settle).await {
                Ok(_) | Err(CommandError::Rejected(AccountError::ReservationNotOpen(_))) => {}
                Err(e) => return Err(failed(e.to_string())),
            }
        }
        if let Some(batch_id) = batch_id {
            let outcome = BatchCommand::RecordItemOutcome {
                job_id: job_id.to_string(),
                succeeded,
                at: self.clock.now(),
            };
            match self.store.batches.execute(&batch_id, outcome).await {
                Ok(_) | Err(CommandError::Rejected(BatchError::OutcomeKnown(_))) => {}
                Err(e) => return Err(failed(e.to_string())),
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Subscriber for ProcessManager {
    type Error = ProcessManagerError;

    fn name(&self) -> &'static str {
        NAME
    }

    fn wake_signal(&self) -> &Notify {
        &self.wake
    }

    /// Reacts to every job outcome committed before the call. Returns how many events it read.
    async fn catch_up(&self) -> Result<usize, ProcessManagerError> {
        let _one_at_a_time = self.running.lock().await;
        let mut read = 0;
        loop {
            let from = checkpoint::read(&self.store.db, NAME).await?;
            let mut tx = self.store.db.begin().await?;
            let events = feed::after(&mut tx, &from, BATCH).await?;
            tx.commit().await?;
            let Some(last) = events.last() else {
                return Ok(read);
            };
            let to = Checkpoint {
                transaction_id: last.transaction_id.clone(),
                position: last.position,
            };
            for event in &events {
                self.react(event).await?;
            }
            checkpoint::advance(&self.store.db, NAME, &from, &to).await?;
            self.projector.wake();
            read += events.len();
            if (events.len() as i64) < BATCH {
                return Ok(read);
            }
        }
    }

    async fn has_pending(&self) -> Result<bool, ProcessManagerError> {
        Ok(feed::has_events_after(&self.store.db, NAME).await?)
    }
}
