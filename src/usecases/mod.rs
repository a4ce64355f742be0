//! Use cases: what users and operators do. Each runs the commands of one action against the
//! aggregates, in an order that leaves a consistent state at every step, and keeps outside
//! effects (a model call, a webhook) out of `handle()`, so that a command can be decided again
//! after a write conflict.
//!
//! This is the only layer that issues commands. The API, the command line and the background
//! tasks are doors onto these functions; the queries that answer reads are here too, so that
//! every door shows the same read models.
//!
//! [`App`] is what they share. Its parts are private to this module, so the API edge, which
//! holds an `App`, can only call a use case. Only `run/` holds the adapters themselves (it
//! builds them); `tests/api/layers.rs` checks that it issues no command.
pub mod accounts;
pub mod audit;
pub mod batch_report;
pub mod batches;
pub mod billing;
pub mod bulk;
pub mod bulk_item;
mod cache;
mod failure;
pub mod generate;
pub mod history;
mod job;
pub mod keys;
pub mod logins;
pub mod read_models;
pub mod reservations;
pub mod scan;
mod settled_here;
pub mod settlement;
pub mod status;
pub mod usage;
pub mod validate;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use altframe_domain::account::Account;
use altframe_domain::{AccountId, Credits};
use tokio::sync::Notify;

use crate::adapters::clock::Clock;
use crate::adapters::image::Intake;
use crate::adapters::key_usage::KeyUsage;
use crate::adapters::page::Pages;
use crate::adapters::queue::Queue;
use crate::adapters::read_models::Projector;
use crate::adapters::store::Store;
use crate::adapters::subscriber::Subscriber;
use crate::adapters::vision::VisionProvider;

pub use failure::{error_chain, Failure};
use settled_here::SettledHere;

/// How long a request waits for read models to show what was committed before it.
const READ_YOUR_WRITES: Duration = Duration::from_secs(2);

/// What every use case may use. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Arc<Store>,
    read_models: Arc<Projector>,
    queue: Queue,
    intake: Arc<Intake>,
    /// Pages to scan for images, fetched with intake's checked client.
    pages: Arc<Pages>,
    vision: Arc<dyn VisionProvider>,
    clock: Arc<dyn Clock>,
    settled_here: Arc<SettledHere>,
    /// Wakes the process manager, which settles credits from job outcomes.
    wake_process_manager: Arc<Notify>,
    /// Bulk items one process runs at once, for a batch's time estimate.
    bulk_concurrency: usize,
    key_usage: Arc<KeyUsage>,
    /// Days a generation's result answers the same request again; 0: never.
    cache_days: u32,
}

/// The adapters an [`App`] is made of, assembled at start-up (`run::startup`).
pub struct AppParts {
    pub store: Arc<Store>,
    pub read_models: Arc<Projector>,
    pub queue: Queue,
    pub intake: Arc<Intake>,
    pub pages: Arc<Pages>,
    pub vision: Arc<dyn VisionProvider>,
    pub clock: Arc<dyn Clock>,
    pub wake_process_manager: Arc<Notify>,
    pub bulk_concurrency: usize,
    /// `ALTFRAME_CACHE_DAYS`.
    pub cache_days: u32,
}

impl App {
    pub fn new(parts: AppParts) -> App {
        let key_usage = Arc::new(KeyUsage::new(parts.store.db.clone()));
        App {
            store: parts.store,
            read_models: parts.read_models,
            queue: parts.queue,
            intake: parts.intake,
            pages: parts.pages,
            vision: parts.vision,
            clock: parts.clock,
            settled_here: Arc::new(SettledHere::default()),
            wake_process_manager: parts.wake_process_manager,
            bulk_concurrency: parts.bulk_concurrency,
            key_usage,
            cache_days: parts.cache_days,
        }
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The vision model's name, as `meta.model` reports it.
    pub fn model(&self) -> &str {
        self.vision.model()
    }

    /// Days a generation's result answers the same request again; 0 when the cache is off.
    pub fn cache_days(&self) -> u32 {
        self.cache_days
    }

    /// Tells the background subscribers that new events were committed, so they apply them
    /// now rather than at their next poll.
    fn events_committed(&self) {
        self.read_models.wake();
        self.wake_process_manager.notify_one();
    }

    /// The account as its events leave it now, or `None` when no account has that id.
    async fn account(&self, id: &AccountId) -> Result<Option<Account>, Failure> {
        let account = self.store.accounts.load(id).await?;
        Ok(account.plan().is_some().then_some(account))
    }

    /// The account's balance as its events leave it now.
    async fn credits_remaining(&self, id: &AccountId) -> Result<Credits, Failure> {
        Ok(self.store.accounts.load(id).await?.remaining())
    }

    /// Brings the read models up to what was committed before the call; a read model that
    /// stays behind is logged and read as it is.
    async fn read_your_writes(&self) {
        if let Err(e) = self.read_models.catch_up_fully(READ_YOUR_WRITES).await {
            tracing::warn!(error = %error_chain(&e), "read models are behind");
        }
    }
}
