//! Everything a request needs, built once at start-up and shared.
use std::sync::Arc;

use crate::clock::Clock;
use crate::image::Intake;
use crate::projector::Projector;
use crate::settlement::Settlement;
use crate::store::Store;
use crate::subscriber::Subscriber;
use crate::vision::VisionProvider;

#[derive(Clone)]
pub struct App {
    pub store: Arc<Store>,
    pub projector: Arc<Projector>,
    pub settlement: Arc<Settlement>,
    pub intake: Arc<Intake>,
    pub vision: Arc<dyn VisionProvider>,
    pub clock: Arc<dyn Clock>,
}

impl App {
    /// Tells the background subscribers that new events were committed.
    pub fn events_committed(&self) {
        self.projector.wake();
        self.settlement.wake();
    }
}
