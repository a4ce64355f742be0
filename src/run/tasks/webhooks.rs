//! Webhook delivery: takes due webhooks from the queue (a batch finished, a retry came due, a
//! redelivery was asked for) and has the webhooks use case deliver each. Deliveries run on
//! the wall clock, like the receivers they call.
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::{Round, Task, TaskError};
use crate::adapters::queue::Queue;
use crate::run::settings::WebhookSettings;
use crate::usecases::{error_chain, webhooks, App};

/// Deliveries made at once, at most.
const AT_ONCE: usize = 16;

pub struct WebhookSender {
    app: App,
    queue: Queue,
    settings: WebhookSettings,
    /// Notified when the webhook queue may have changed.
    queued: Arc<Notify>,
}

impl WebhookSender {
    pub fn new(
        app: App,
        queue: Queue,
        settings: WebhookSettings,
        queued: Arc<Notify>,
    ) -> WebhookSender {
        WebhookSender {
            app,
            queue,
            settings,
            queued,
        }
    }
}

#[async_trait::async_trait]
impl Task for WebhookSender {
    fn name(&self) -> &'static str {
        "webhooks"
    }

    fn poll(&self) -> Duration {
        self.settings.poll
    }

    fn wakers(&self) -> Vec<Arc<Notify>> {
        vec![Arc::clone(&self.queued)]
    }

    async fn round(&self) -> Result<Round, TaskError> {
        let due = self
            .queue
            .claim_webhooks(chrono::Utc::now(), self.settings.lease, AT_ONCE)
            .await?;
        if due.is_empty() {
            return Ok(Round::Idle);
        }
        let deliveries = due
            .iter()
            .map(|d| webhooks::deliver(&self.app, d, self.settings.retry_scale));
        for (due, delivered) in due
            .iter()
            .zip(futures_util::future::join_all(deliveries).await)
        {
            if let Err(e) = delivered {
                tracing::error!(batch_id = %due.batch_id, error = %error_chain(&e), "could not record a webhook attempt");
            }
        }
        Ok(Round::Busy)
    }
}
