//! Settles reservations that nothing will settle (their request died), through the
//! reservations use case, every few minutes' poll.
use std::time::Duration;

use super::{Round, Task, TaskError};
use crate::usecases::{reservations, App};

pub struct Reaper {
    app: App,
    /// A reservation open longer than this is settled.
    timeout: Duration,
    every: Duration,
}

impl Reaper {
    pub fn new(app: App, timeout: Duration, every: Duration) -> Reaper {
        Reaper {
            app,
            timeout,
            every,
        }
    }
}

#[async_trait::async_trait]
impl Task for Reaper {
    fn name(&self) -> &'static str {
        "reaper"
    }

    fn poll(&self) -> Duration {
        self.every
    }

    async fn round(&self) -> Result<Round, TaskError> {
        reservations::settle_stale(&self.app, self.timeout).await?;
        Ok(Round::Idle)
    }
}
