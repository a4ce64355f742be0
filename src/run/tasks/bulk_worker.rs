//! Runs bulk items: claims them from the shared queue with a lease, runs each as a Job through
//! the vision model, and records the outcome. The process manager settles credits and
//! finishes batches from those outcomes.
//!
//! Crash safety: a worker that dies stops renewing its leases; the items become claimable
//! again and the next worker resumes from the Job's state. A model call may then run twice,
//! but a job completes once and its credits are captured once.
use std::sync::Arc;
use std::time::Duration;

use altframe_domain::account::{AccountCommand, AccountError};
use altframe_domain::job::{Generation, JobCommand, JobState, Source};
use altframe_projections::work::{self, ClaimedItem, QueuedItem};
use rand::Rng;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::adapters::image::{ImageSource, PreparedImage};
use crate::adapters::store::CommandError;
use crate::adapters::vision::{VisionError, VisionRequest};
use crate::usecases::app::App;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub concurrency: usize,
    pub lease: Duration,
    pub max_attempts: u32,
    /// How often to look for work when nothing wakes the worker.
    pub poll: Duration,
}

pub struct BulkWorker {
    app: App,
    config: WorkerConfig,
    /// This process's name on the leases it holds.
    id: String,
    /// Set when the process stops: take no more items.
    stopping: tokio::sync::watch::Sender<bool>,
    /// The items this worker is running, so that stopping can wait for them or end them.
    running: tokio::sync::Mutex<JoinSet<()>>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl BulkWorker {
    pub fn new(app: App, config: WorkerConfig) -> Arc<BulkWorker> {
        Arc::new(BulkWorker {
            app,
            config,
            id: format!("worker-{}", uuid::Uuid::new_v4()),
            stopping: tokio::sync::watch::Sender::new(false),
            running: tokio::sync::Mutex::new(JoinSet::new()),
        })
    }

    /// Stops taking items and waits, at most `grace`, for the running ones to finish; ends
    /// those still running after that. Returns whether they all finished. Afterwards nothing
    /// of this worker runs, so the caller can hand back every item it still holds.
    pub async fn drain(&self, grace: Duration) -> bool {
        self.stopping.send_replace(true);
        // The run loop checks `stopping` under this lock before starting an item, so no item
        // starts after this point.
        let mut running = self.running.lock().await;
        let finished = tokio::time::timeout(grace, async {
            while running.join_next().await.is_some() {}
        })
        .await
        .is_ok();
        if !finished {
            running.abort_all();
            while running.join_next().await.is_some() {}
        }
        finished
    }

    /// Hands back every item this worker holds (its tasks must have stopped).
    pub async fn release_leases(&self, app: &App) -> Result<u64, sqlx::Error> {
        work::release_items(&app.store.db, &self.id).await
    }

    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move { this.run().await })
    }

    async fn run(self: Arc<Self>) {
        let slots = Arc::new(Semaphore::new(self.config.concurrency.max(1)));
        let mut stopping = self.stopping.subscribe();
        loop {
            // Wait for a free slot, then take as many items as there are free slots.
            let first = tokio::select! {
                slot = Arc::clone(&slots).acquire_owned() => slot,
                _ = stopping.wait_for(|stop| *stop) => return,
            };
            let Ok(first) = first else {
                return;
            };
            if *stopping.borrow() {
                return;
            }
            // Listening before looking: a notification sent while claiming is not lost.
            let notified = self.app.work_available.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let free = slots.available_permits() + 1;
            let lease_until = now_ms() + self.config.lease.as_millis() as i64;
            let claimed = match work::claim_items(
                &self.app.store.db,
                &self.id,
                now_ms(),
                lease_until,
                free as i64,
            )
            .await
            {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "claiming bulk items failed");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                drop(first);
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep(self.config.poll) => {}
                    _ = stopping.wait_for(|stop| *stop) => return,
                }
                continue;
            }
            let mut permit = Some(first);
            for item in claimed {
                let slot = match permit.take() {
                    Some(p) => p,
                    None => tokio::select! {
                        slot = Arc::clone(&slots).acquire_owned() => match slot {
                            Ok(p) => p,
                            Err(_) => return,
                        },
                        _ = stopping.wait_for(|stop| *stop) => return,
                    },
                };
                let mut running = self.running.lock().await;
                if *stopping.borrow() {
                    // Stopping: the items claimed but not started are handed back.
                    return;
                }
                while running.try_join_next().is_some() {}
                let this = Arc::clone(&self);
                running.spawn(async move {
                    this.run_with_lease(item).await;
                    drop(slot);
                });
            }
        }
    }

    /// Runs one item while renewing its lease; stops if the lease is lost.
    async fn run_with_lease(&self, claimed: ClaimedItem) {
        let job_id = claimed.job_id.clone();
        let work = self.process(claimed);
        tokio::pin!(work);
        let mut renew = tokio::time::interval(self.config.lease / 3);
        renew.tick().await;
        loop {
            tokio::select! {
                () = &mut work => return,
                _ = renew.tick() => {
                    let until = now_ms() + self.config.lease.as_millis() as i64;
                    match work::renew_item(&self.app.store.db, &job_id, &self.id, until).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!(job_id, "lost the lease on a bulk item; leaving it to its new holder");
                            return;
                        }
                        Err(e) => tracing::error!(job_id, error = %e, "renewing a lease failed"),
                    }
                }
            }
        }
    }

    #[tracing::instrument(skip(self, claimed), fields(job_id = %claimed.job_id, attempt = claimed.attempts))]
    async fn process(&self, claimed: ClaimedItem) {
        if let Err(e) = self.try_process(&claimed).await {
            tracing::error!(error = %e, "bulk item interrupted; it will be retried when its lease ends");
        }
    }

    async fn try_process(&self, claimed: &ClaimedItem) -> Result<(), String> {
        let app = &self.app;
        let spec: QueuedItem = serde_json::from_str(&claimed.spec).map_err(|e| e.to_string())?;
        let job_id = claimed.job_id.as_str();
        let job = app
            .store
            .jobs
            .load(job_id)
            .await
            .map_err(|e| e.to_string())?;
        let started = match job.state() {
            // Its outcome is recorded; the queue row goes when the projection sees it.
            JobState::Completed | JobState::Failed => return Ok(()),
            JobState::Requested => true,
            JobState::New => false,
        };
        let begun = std::time::Instant::now();

        let image = match self.image(&spec).await {
            Ok(image) => image,
            Err(message) => return self.fail(&spec, started, message).await,
        };
        let format_cost = image.reference.format.credit_cost();
        let mut credits = spec.item.credits;
        if !started && spec.item.image_url.is_some() && format_cost > 1 {
            match self.top_up(&spec, format_cost - 1).await? {
                Some(total) => credits = total,
                None => {
                    let message = format!(
                        "The image is {}, which costs {format_cost} credits; the balance cannot cover the {} more it needs",
                        image.reference.format.as_str().to_uppercase(),
                        format_cost - 1
                    );
                    return self.fail(&spec, false, message).await;
                }
            }
        }
        // Batch-wide options with this item's own context.
        let mut options = spec.options.clone();
        options.page_url = spec.item.page_url.clone();
        options.page_context = spec.item.page_context.clone();
        options.product = spec.item.product.clone();
        if !started {
            let request = JobCommand::GenerateImage {
                account_id: spec.account_id.clone(),
                source: Source::Bulk,
                batch_id: Some(spec.batch_id.clone()),
                image: image.reference.clone(),
                options: Box::new(options.clone()),
                reservation_id: spec.item.reservation_id.clone(),
                credits,
                at: app.clock.now(),
            };
            app.store
                .jobs
                .execute(job_id, request)
                .await
                .map_err(|e| e.to_string())?;
            app.events_committed();
        }

        let described = app
            .vision
            .describe(VisionRequest {
                image: &image,
                options: &options,
            })
            .await;
        let outcome = match described {
            Ok(output) => JobCommand::CompleteJob {
                generation: Generation {
                    results: output.text.finish(&options),
                    model: output.model,
                    tokens: output.tokens,
                    processing_ms: begun.elapsed().as_millis() as u64,
                    cost: output.cost,
                },
                at: app.clock.now(),
            },
            Err(VisionError::Unavailable(message))
                if (claimed.attempts as u32) < self.config.max_attempts =>
            {
                let retry_at = now_ms() + backoff_ms(claimed.attempts as u32);
                tracing::warn!(error = %message, "model unavailable; the item will be retried");
                work::retry_item_later(&app.store.db, job_id, &self.id, retry_at)
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok(());
            }
            Err(e) => JobCommand::FailJob {
                error: e.to_string(),
                at: app.clock.now(),
            },
        };
        record(app, job_id, outcome).await
    }

    async fn image(&self, spec: &QueuedItem) -> Result<PreparedImage, String> {
        let intake = &self.app.intake;
        match &spec.item.image_url {
            Some(url) => intake
                .prepare(&ImageSource::Url(url.clone()))
                .await
                .map_err(|e| e.to_string()),
            None => {
                let bytes = work::load_image(&self.app.store.db, &spec.item.job_id)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or("the submitted image is no longer held")?;
                intake
                    .prepare_bytes(None, bytes)
                    .await
                    .map_err(|e| format!("image_base64: {e}"))
            }
        }
    }

    /// Grows the item's reservation to cover an advanced format. Returns the reservation's
    /// new total, or `None` when the balance cannot cover it. Safe to repeat after a crash:
    /// a reservation already grown is left alone.
    async fn top_up(&self, spec: &QueuedItem, extra: u32) -> Result<Option<u32>, String> {
        let app = &self.app;
        let needed = spec.item.credits + extra;
        let account = app
            .store
            .accounts
            .load(&spec.account_id)
            .await
            .map_err(|e| e.to_string())?;
        let held = account
            .reservation(&spec.item.reservation_id)
            .map(|r| r.credits)
            .ok_or("the item's reservation is no longer open")?;
        if held >= needed {
            return Ok(Some(held));
        }
        let increase = AccountCommand::IncreaseReservation {
            reservation_id: spec.item.reservation_id.clone(),
            credits: needed - held,
            at: app.clock.now(),
        };
        match app.store.accounts.execute(&spec.account_id, increase).await {
            Ok(_) => Ok(Some(needed)),
            Err(CommandError::Rejected(AccountError::InsufficientCredits { .. })) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Fails the item: a job that never started is abandoned, a started one failed.
    async fn fail(&self, spec: &QueuedItem, started: bool, error: String) -> Result<(), String> {
        let at = self.app.clock.now();
        let command = if started {
            JobCommand::FailJob { error, at }
        } else {
            JobCommand::AbandonJob {
                account_id: spec.account_id.clone(),
                batch_id: Some(spec.batch_id.clone()),
                reservation_id: spec.item.reservation_id.clone(),
                error,
                at,
            }
        };
        record(&self.app, &spec.item.job_id, command).await
    }
}

async fn record(app: &App, job_id: &str, command: JobCommand) -> Result<(), String> {
    match app.store.jobs.execute(job_id, command).await {
        // Another worker recorded it first (its lease had been taken over).
        Ok(_) | Err(CommandError::Rejected(_)) => {
            app.events_committed();
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// 2, 4, 8... seconds, capped at a minute, with jitter.
fn backoff_ms(attempt: u32) -> i64 {
    let base = 2_000i64.saturating_mul(1 << attempt.min(5)).min(60_000);
    base / 2 + rand::thread_rng().gen_range(0..=base / 2)
}
