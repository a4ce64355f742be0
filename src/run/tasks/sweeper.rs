//! Deletes what expires: rate-limit counts of ended windows, idempotency records past their
//! 24 hours, what the work queue kept for work that left it without a worker saying so, and
//! dashboard sessions past their end with the sign-in failures of ended windows.
use std::sync::Arc;
use std::time::Duration;

use super::{Round, Task, TaskError};
use crate::adapters::clock::Clock;
use crate::adapters::idempotency::IdempotencyStore;
use crate::adapters::queue::Queue;
use crate::adapters::rate_limits::RateLimiter;
use crate::adapters::{sessions, sign_in_limits};
use altframe_projections::Db;

/// An inline image held this long without a queued item is left over from a batch that was
/// never recorded; a request never takes this long.
const IMAGE_LEFTOVER_AFTER: chrono::Duration = chrono::Duration::hours(24);

pub struct Sweeper {
    pub clock: Arc<dyn Clock>,
    pub rate_limiter: Arc<RateLimiter>,
    pub idempotency: IdempotencyStore,
    pub queue: Queue,
    pub db: Db,
    pub every: Duration,
}

#[async_trait::async_trait]
impl Task for Sweeper {
    fn name(&self) -> &'static str {
        "sweeper"
    }

    fn poll(&self) -> Duration {
        self.every
    }

    async fn round(&self) -> Result<Round, TaskError> {
        let now = self.clock.now();
        self.rate_limiter.forget_ended_windows(now).await?;
        self.idempotency.forget_expired(now).await?;
        sessions::delete_expired(&self.db, now).await?;
        sign_in_limits::forget_ended(&self.db, now).await?;
        let swept = self.queue.sweep(now, now - IMAGE_LEFTOVER_AFTER).await?;
        if swept.bulk_leases + swept.images > 0 {
            tracing::info!(
                bulk_leases = swept.bulk_leases,
                images = swept.images,
                "swept the work queue"
            );
        }
        Ok(Round::Idle)
    }
}
