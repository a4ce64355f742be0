//! The process manager: follows the event feed from its own checkpoint and hands every job
//! outcome to the settlement use case (capture or release the credits, record a bulk item's
//! outcome on its batch).
//!
//! The request that ran a sync job settles straight away; this is what makes a crash between
//! a job's outcome and what follows harmless. It is at-least-once: every reaction is refused
//! the second time, which counts as done, so no lock is held while commands run.
use std::sync::Arc;
use std::time::Duration;

use altframe_domain::JobId;
use altframe_projections::checkpoint::{self, Checkpoint};
use altframe_projections::{Db, DecodedEvent};
use tokio::sync::{Mutex, Notify};

use super::read_models::{GATHER, SETTLE_PATIENCE};
use super::{Round, Task, TaskError};
use crate::adapters::read_models::Projector;
use crate::adapters::store::feed;
use crate::adapters::subscriber::Subscriber;
use crate::usecases::settlement::{self, CHECKPOINT};
use crate::usecases::{App, Failure};

/// Events read per round.
const BATCH: i64 = 200;

pub struct ProcessManager {
    app: App,
    db: Db,
    /// Woken after reactions: they commit events (a batch's last outcome finishes it, which
    /// schedules its webhook) that read models should show without waiting for a poll.
    projector: Arc<Projector>,
    wake: Arc<Notify>,
    poll: Duration,
    running: Mutex<()>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessManagerError {
    #[error("reading the event feed")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Decode(#[from] altframe_projections::ProjectionError),
    #[error("reacting to an event of job {job_id}")]
    Reaction {
        job_id: String,
        #[source]
        source: Failure,
    },
}

impl ProcessManager {
    /// `wake` is what the use cases notify when they commit an outcome.
    pub fn new(
        app: App,
        db: Db,
        projector: Arc<Projector>,
        wake: Arc<Notify>,
        poll: Duration,
    ) -> ProcessManager {
        ProcessManager {
            app,
            db,
            projector,
            wake,
            poll,
            running: Mutex::new(()),
        }
    }
}

#[async_trait::async_trait]
impl Subscriber for ProcessManager {
    type Error = ProcessManagerError;

    /// Reacts to every job outcome committed before the call. Returns how many events it read.
    async fn catch_up(&self) -> Result<usize, ProcessManagerError> {
        let _one_at_a_time = self.running.lock().await;
        let mut read = 0;
        loop {
            let from = checkpoint::read(&self.db, CHECKPOINT).await?;
            let mut tx = self.db.begin().await?;
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
                let DecodedEvent::Job(job_event) = event.decode()? else {
                    continue;
                };
                let job_id = JobId::new(&event.aggregate_id);
                settlement::on_job_event(&self.app, &job_id, job_event)
                    .await
                    .map_err(|source| ProcessManagerError::Reaction {
                        job_id: event.aggregate_id.clone(),
                        source,
                    })?;
            }
            checkpoint::advance(&self.db, CHECKPOINT, &from, &to).await?;
            self.projector.wake();
            read += events.len();
            if (events.len() as i64) < BATCH {
                return Ok(read);
            }
        }
    }

    async fn has_pending(&self) -> Result<bool, ProcessManagerError> {
        Ok(feed::has_events_after(&self.db, CHECKPOINT).await?)
    }
}

#[async_trait::async_trait]
impl Task for ProcessManager {
    fn name(&self) -> &'static str {
        CHECKPOINT
    }

    fn poll(&self) -> Duration {
        self.poll
    }

    fn wakers(&self) -> Vec<Arc<Notify>> {
        vec![Arc::clone(&self.wake)]
    }

    fn gather(&self) -> Duration {
        GATHER
    }

    async fn round(&self) -> Result<Round, TaskError> {
        self.catch_up().await?;
        Ok(Round::Idle)
    }

    /// Settles credits and finishes batches for the items that just completed, now rather
    /// than at the next start.
    async fn stop(&self, _grace: Duration) -> Result<(), TaskError> {
        self.catch_up_fully(SETTLE_PATIENCE).await?;
        Ok(())
    }
}
