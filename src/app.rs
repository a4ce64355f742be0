//! Everything a request needs, built once at start-up and shared.
use std::sync::Arc;

use crate::clock::Clock;
use crate::idempotency::IdempotencyStore;
use crate::image::Intake;
use crate::metrics::Metrics;
use crate::process_manager::ProcessManager;
use crate::projector::Projector;
use crate::rate_limit::RateLimiter;
use crate::store::Store;
use crate::subscriber::Subscriber;
use crate::vision::VisionProvider;

#[derive(Clone)]
pub struct App {
    pub store: Arc<Store>,
    pub projector: Arc<Projector>,
    pub process_manager: Arc<ProcessManager>,
    pub intake: Arc<Intake>,
    pub vision: Arc<dyn VisionProvider>,
    pub clock: Arc<dyn Clock>,
    /// How many bulk items this process runs at once.
    pub bulk_concurrency: usize,
    /// Woken when new bulk work or webhooks may be due.
    pub work_available: Arc<tokio::sync::Notify>,
    pub rate_limiter: Arc<RateLimiter>,
    pub metrics: Arc<Metrics>,
    pub idempotency: IdempotencyStore,
}

impl App {
    /// Tells the background subscribers that new events were committed.
    pub fn events_committed(&self) {
        self.projector.wake();
        self.process_manager.wake();
    }
}
