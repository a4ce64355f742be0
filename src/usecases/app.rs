//! Everything a request needs, built once at start-up and shared.
use std::sync::Arc;

use crate::adapters::clock::Clock;
use crate::adapters::idempotency::IdempotencyStore;
use crate::adapters::image::Intake;
use crate::adapters::metrics::Metrics;
use crate::adapters::rate_limits::RateLimiter;
use crate::adapters::read_models::Projector;
use crate::adapters::store::Store;
use crate::adapters::subscriber::Subscriber;
use crate::adapters::vision::VisionProvider;
use crate::run::tasks::process_manager::ProcessManager;

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
