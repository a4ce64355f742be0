//! Webhook delivery: when a batch finishes, POST the signed `batch.completed` payload to its
//! webhook URL; retry on the Standard Webhooks schedule with the same message id; record every
//! attempt as an event on the batch.

use std::sync::Arc;
use std::time::Duration;

use altframe_domain::batch::{BatchCommand, WebhookAttempt};
use altframe_projections::work::{self, DueWebhook};
use altframe_projections::{batches, jobs};

use crate::adapters::subscriber::Subscriber;
use crate::adapters::webhooks::{payload, schedule, signature};
use crate::usecases::app::App;

/// A receiver has this long to answer.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
const LEASE: Duration = Duration::from_secs(60);

pub struct WebhookDispatcher {
    app: App,
    poll: Duration,
    /// Multiplies the retry schedule's delays: 1.0 in service, tiny in tests.
    schedule_scale: f64,
}

impl WebhookDispatcher {
    pub fn new(app: App, poll: Duration) -> Arc<WebhookDispatcher> {
        Self::with_schedule_scale(app, poll, 1.0)
    }

    pub fn with_schedule_scale(
        app: App,
        poll: Duration,
        schedule_scale: f64,
    ) -> Arc<WebhookDispatcher> {
        Arc::new(WebhookDispatcher {
            app,
            poll,
            schedule_scale,
        })
    }

    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                // Listening before looking: a notification sent while looking is not lost.
                let notified = this.app.work_available.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                match this.deliver_due().await {
                    Ok(0) | Err(_) => {
                        tokio::select! {
                            _ = notified => {}
                            _ = tokio::time::sleep(this.poll) => {}
                        }
                    }
                    Ok(_) => {}
                }
            }
        })
    }

    /// Delivers every webhook that is due now. Returns how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize, String> {
        let now = chrono::Utc::now().timestamp_millis();
        let due = work::claim_webhooks(&self.app.store.db, now, now + LEASE.as_millis() as i64, 16)
            .await
            .map_err(|e| e.to_string())?;
        if due.is_empty() {
            return Ok(0);
        }
        // The payload is read from read models: make sure they have every item's outcome.
        let _ = self
            .app
            .projector
            .catch_up_fully(Duration::from_secs(2))
            .await;
        let count = due.len();
        let deliveries = due.into_iter().map(|d| self.deliver(d));
        futures_util::future::join_all(deliveries).await;
        Ok(count)
    }

    #[tracing::instrument(skip(self, due), fields(batch_id = %due.batch_id, attempt = due.attempts + 1))]
    async fn deliver(&self, due: DueWebhook) {
        let attempt = due.attempts as u32 + 1;
        let result = self.post(&due).await;
        let (status, error, retry_after) = match result {
            Ok((status, retry_after)) => (Some(status), None, retry_after),
            Err(e) => (None, Some(e), None),
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        let gone = status == Some(410);
        let next_attempt_at = if delivered || gone {
            None
        } else {
            schedule::next_delay(attempt, retry_after).map(|d| {
                let d = d.mul_f64(self.schedule_scale);
                chrono::Utc::now()
                    + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero())
            })
        };
        let error = error.or_else(|| match status {
            Some(s) if !delivered => Some(format!("the receiver answered HTTP {s}")),
            _ => None,
        });
        if delivered {
            tracing::info!("webhook delivered");
        } else {
            tracing::warn!(
                status,
                error = error.as_deref().unwrap_or(""),
                "webhook not delivered"
            );
        }
        let record = BatchCommand::RecordWebhookAttempt {
            attempt: WebhookAttempt {
                attempt,
                status,
                error,
                delivered,
                next_attempt_at,
            },
            at: self.app.clock.now(),
        };
        match self.app.store.batches.execute(&due.batch_id, record).await {
            Ok(_) => self.app.events_committed(),
            Err(e) => tracing::error!(error = %e, "could not record a webhook attempt"),
        }
    }

    async fn post(&self, due: &DueWebhook) -> Result<(u16, Option<u64>), String> {
        let db = &self.app.store.db;
        let batch = batches::find(db, &due.batch_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the batch is not in the read model yet")?;
        let items = jobs::for_batch(db, &due.batch_id)
            .await
            .map_err(|e| e.to_string())?;
        let body = serde_json::to_vec(&payload::batch_completed(&batch, &items))
            .map_err(|e| e.to_string())?;
        let account = self
            .app
            .store
            .accounts
            .load(&due.account_id)
            .await
            .map_err(|e| e.to_string())?;
        let secret = account
            .webhook_secret()
            .ok_or("the account has no webhook secret")?;
        let timestamp = chrono::Utc::now().timestamp();
        let signature = signature::sign(secret, &due.webhook_id, timestamp, &body)
            .map_err(|e| e.to_string())?;
        let headers = [
            ("webhook-id", due.webhook_id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        self.app
            .intake
            .outbound()
            .post_json(&due.url, &headers, body, DELIVERY_TIMEOUT)
            .await
            .map_err(|e| e.to_string())
    }
}
