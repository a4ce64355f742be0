//! Keeps the read models up to date: applies new events when this process commits (it is
//! woken) and at every poll (other processes' commits). Stopping brings them up to the last
//! event, so a restart finds nothing left to apply.
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::{Round, Task, TaskError};
use crate::adapters::read_models::Projector;
use crate::adapters::subscriber::Subscriber;

/// How long a woken subscriber waits for more commits before catching up: under load, a round
/// per request would cost more than the requests. Reads do not wait for this: they catch up
/// themselves.
pub const GATHER: Duration = Duration::from_millis(20);

/// How long stopping waits for the last events to be applied.
pub const SETTLE_PATIENCE: Duration = Duration::from_secs(5);

pub struct ReadModels {
    projector: Arc<Projector>,
    poll: Duration,
}

impl ReadModels {
    pub fn new(projector: Arc<Projector>, poll: Duration) -> ReadModels {
        ReadModels { projector, poll }
    }
}

#[async_trait::async_trait]
impl Task for ReadModels {
    fn name(&self) -> &'static str {
        "read_models"
    }

    fn poll(&self) -> Duration {
        self.poll
    }

    fn wakers(&self) -> Vec<Arc<Notify>> {
        vec![self.projector.wake_signal()]
    }

    fn gather(&self) -> Duration {
        GATHER
    }

    async fn round(&self) -> Result<Round, TaskError> {
        self.projector.catch_up().await?;
        Ok(Round::Idle)
    }

    async fn stop(&self, _grace: Duration) -> Result<(), TaskError> {
        self.projector.catch_up_fully(SETTLE_PATIENCE).await?;
        Ok(())
    }
}
