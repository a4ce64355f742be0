//! Settles credit reservations from job outcomes: a completed job's reservation is captured,
//! a failed job's released.
//!
//! The request that ran the job settles straight away; this subscriber is what makes a crash
//! between a job's outcome and its settlement harmless. It reads the global event order from
//! its own checkpoint and is at-least-once: settling twice is refused by the account
//! (`ReservationNotOpen`), which counts as done, so no lock is held while commands run.
use std::sync::Arc;

use altframe_domain::account::{AccountCommand, AccountError};
use altframe_domain::job::JobEvent;
use altframe_projections::checkpoint::{self, Checkpoint};
use altframe_projections::{DecodedEvent, StoredEvent};
use tokio::sync::{Mutex, Notify};

use crate::clock::Clock;
use crate::store::{feed, CommandError, Store};
use crate::subscriber::Subscriber;

const NAME: &str = "settlement";
const BATCH: i64 = 200;

pub struct Settlement {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    running: Mutex<()>,
    wake: Notify,
}

#[derive(Debug, thiserror::Error)]
pub enum SettlementError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Decode(#[from] altframe_projections::ProjectionError),
    #[error("settling reservation {reservation_id}: {message}")]
    Command {
        reservation_id: String,
        message: String,
    },
}

impl Settlement {
    pub fn new(store: Arc<Store>, clock: Arc<dyn Clock>) -> Arc<Settlement> {
        Arc::new(Settlement {
            store,
            clock,
            running: Mutex::new(()),
            wake: Notify::new(),
        })
    }

    async fn settle(&self, event: &StoredEvent) -> Result<(), SettlementError> {
        let DecodedEvent::Job(job_event) = event.decode()? else {
            return Ok(());
        };
        let (account_id, command, reservation_id) = match job_event {
            JobEvent::JobCompleted {
                account_id,
                reservation_id,
                ..
            } => (
                account_id,
                AccountCommand::CaptureCredits {
                    reservation_id: reservation_id.clone(),
                    at: self.clock.now(),
                },
                reservation_id,
            ),
            JobEvent::JobFailed {
                account_id,
                reservation_id,
                error,
                ..
            } => (
                account_id,
                AccountCommand::ReleaseCredits {
                    reservation_id: reservation_id.clone(),
                    reason: error,
                    at: self.clock.now(),
                },
                reservation_id,
            ),
            JobEvent::JobRequested { .. } => return Ok(()),
        };
        match self.store.accounts.execute(&account_id, command).await {
            Ok(_) | Err(CommandError::Rejected(AccountError::ReservationNotOpen(_))) => Ok(()),
            Err(e) => Err(SettlementError::Command {
                reservation_id,
                message: e.to_string(),
            }),
        }
    }
}

#[async_trait::async_trait]
impl Subscriber for Settlement {
    type Error = SettlementError;

    fn name(&self) -> &'static str {
        NAME
    }

    fn wake_signal(&self) -> &Notify {
        &self.wake
    }

    /// Settles every job outcome committed before the call. Returns how many events it read.
    async fn catch_up(&self) -> Result<usize, SettlementError> {
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
                self.settle(event).await?;
            }
            checkpoint::advance(&self.store.db, NAME, &from, &to).await?;
            read += events.len();
            if (events.len() as i64) < BATCH {
                return Ok(read);
            }
        }
    }

    async fn has_pending(&self) -> Result<bool, SettlementError> {
        Ok(feed::has_events_after(&self.store.db, NAME).await?)
    }
}
