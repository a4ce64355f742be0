//! Runs bulk items: claims them from the shared queue with a lease, runs each through the
//! bulk-item use case while renewing its lease, and tells the queue how it went (done, or to
//! be tried again after a backoff).
//!
//! Crash safety: a worker that dies stops renewing its leases; the items become claimable
//! again and the next worker resumes from the job's state. A model call may then run twice,
//! but a job completes once and its credits are captured once.
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Mutex, Notify, Semaphore};
use tokio::task::JoinSet;

use super::{Round, Task, TaskError};
use crate::adapters::clock::Clock;
use crate::adapters::queue::{ClaimedItem, Queue};
use crate::run::settings::BulkSettings;
use crate::usecases::bulk_item::{self, ItemOutcome};
use crate::usecases::{error_chain, App};

/// The longest wait before an item whose model call failed is tried again.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

pub struct BulkWorker {
    app: App,
    queue: Queue,
    clock: Arc<dyn Clock>,
    settings: BulkSettings,
    /// This process's name on the leases it holds.
    id: String,
    /// One permit per item that may run at once.
    slots: Arc<Semaphore>,
    /// The items this worker is running, so that stopping can wait for them or end them.
    running: Mutex<JoinSet<()>>,
    /// Notified when an item ends and its slot is free.
    slot_freed: Arc<Notify>,
    /// Notified when new items may be queued.
    queued: Arc<Notify>,
}

impl BulkWorker {
    /// `queued`: what the read models notify when a batch's items were enqueued.
    pub fn new(
        app: App,
        queue: Queue,
        clock: Arc<dyn Clock>,
        settings: BulkSettings,
        queued: Arc<Notify>,
    ) -> BulkWorker {
        BulkWorker {
            slots: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            app,
            queue,
            clock,
            settings,
            id: format!("worker-{}", uuid::Uuid::new_v4()),
            running: Mutex::new(JoinSet::new()),
            slot_freed: Arc::new(Notify::new()),
            queued,
        }
    }

    fn item_runner(&self) -> ItemRunner {
        ItemRunner {
            app: self.app.clone(),
            queue: self.queue.clone(),
            clock: Arc::clone(&self.clock),
            settings: self.settings.clone(),
            worker: self.id.clone(),
        }
    }
}

#[async_trait::async_trait]
impl Task for BulkWorker {
    fn name(&self) -> &'static str {
        "bulk_worker"
    }

    fn poll(&self) -> Duration {
        self.settings.poll
    }

    fn wakers(&self) -> Vec<Arc<Notify>> {
        vec![Arc::clone(&self.queued), Arc::clone(&self.slot_freed)]
    }

    /// Takes as many items as there are free slots, and starts each.
    async fn round(&self) -> Result<Round, TaskError> {
        let free = self.slots.available_permits();
        if free == 0 {
            return Ok(Round::Idle);
        }
        let claimed = self
            .queue
            .claim_items(&self.id, self.clock.now(), self.settings.lease, free)
            .await?;
        let mut running = self.running.lock().await;
        while running.try_join_next().is_some() {}
        for item in claimed {
            // Only this loop takes permits, and no more items than there were free permits.
            let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() else {
                break;
            };
            let (runner, freed) = (self.item_runner(), Arc::clone(&self.slot_freed));
            running.spawn(async move {
                runner.run_with_lease(item).await;
                drop(slot);
                freed.notify_one();
            });
        }
        Ok(Round::Idle)
    }

    /// Waits, at most `grace`, for the running items to finish, and ends those still running
    /// after that; then hands back every item this worker holds, so that another process (or
    /// the next start) takes them at once.
    async fn stop(&self, grace: Duration) -> Result<(), TaskError> {
        let mut running = self.running.lock().await;
        let finished = tokio::time::timeout(grace, async {
            while running.join_next().await.is_some() {}
        })
        .await
        .is_ok();
        if !finished {
            tracing::warn!("bulk items still running at the end of the grace period");
            running.abort_all();
            while running.join_next().await.is_some() {}
        }
        let handed_back = self.queue.release_items(&self.id).await?;
        if handed_back > 0 {
            tracing::info!(items = handed_back, "handed bulk items back to the queue");
        }
        Ok(())
    }
}

/// What one running item needs, apart from the worker.
struct ItemRunner {
    app: App,
    queue: Queue,
    clock: Arc<dyn Clock>,
    settings: BulkSettings,
    worker: String,
}

impl ItemRunner {
    /// Runs one item while renewing its lease; stops if the lease is lost.
    async fn run_with_lease(&self, claimed: ClaimedItem) {
        let job_id = claimed.job_id.clone();
        let work = self.run(claimed);
        tokio::pin!(work);
        let mut renew = tokio::time::interval(self.settings.lease / 3);
        renew.tick().await;
        loop {
            tokio::select! {
                () = &mut work => return,
                _ = renew.tick() => {
                    let renewed = self
                        .queue
                        .renew_item(&job_id, &self.worker, self.clock.now(), self.settings.lease)
                        .await;
                    match renewed {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!(%job_id, "lost the lease on a bulk item; leaving it to its new holder");
                            return;
                        }
                        Err(e) => tracing::error!(%job_id, error = %error_chain(&e), "renewing a lease failed"),
                    }
                }
            }
        }
    }

    #[tracing::instrument(skip(self, claimed), fields(job_id = %claimed.job_id, attempt = claimed.attempts))]
    async fn run(&self, claimed: ClaimedItem) {
        let max = self.settings.max_attempts;
        let ran = if claimed.attempts > max {
            // Every try so far ended without an outcome: a dead letter.
            bulk_item::give_up(
                &self.app,
                &claimed.job_id,
                &claimed.item,
                claimed.attempts - 1,
            )
            .await
        } else {
            let may_defer = claimed.attempts < max;
            bulk_item::run_item(&self.app, &claimed.job_id, &claimed.item, may_defer).await
        };
        let told = match ran {
            Ok(ItemOutcome::Finished) => self.queue.finish_item(&claimed.job_id).await,
            Ok(ItemOutcome::Deferred) => {
                let retry_at = self.clock.now() + self.backoff(claimed.attempts);
                self.queue
                    .retry_item_later(&claimed.job_id, &self.worker, retry_at)
                    .await
            }
            Ok(ItemOutcome::TakenOver) => Ok(()),
            Err(e) => {
                tracing::error!(error = %error_chain(&e), "bulk item interrupted; it will be retried when its lease ends");
                return;
            }
        };
        if let Err(e) = told {
            tracing::error!(error = %error_chain(&e), "could not tell the queue how a bulk item went");
        }
    }

    /// The base delay doubled for each try so far (at most a minute), then half of it
    /// jittered, so that failed items do not all come back at once.
    fn backoff(&self, attempt: u32) -> chrono::Duration {
        let base = self
            .settings
            .retry_base
            .saturating_mul(1 << attempt.min(5))
            .min(MAX_BACKOFF);
        let half = base / 2;
        let jitter = rand::thread_rng().gen_range(Duration::ZERO..=half);
        chrono::Duration::from_std(half + jitter).unwrap_or(chrono::Duration::zero())
    }
}
