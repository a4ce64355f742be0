use std::collections::BTreeSet;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use crate::ids::{AccountId, BatchId, JobId};

use super::{webhook_id, BatchCommand, BatchError, BatchEvent, BatchStatus, MAX_BATCH_ITEMS};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Batch {
    batch_id: BatchId,
    account_id: Option<AccountId>,
    items: BTreeSet<JobId>,
    /// Items still waiting for an outcome.
    pending: BTreeSet<JobId>,
    completed: u32,
    failed: u32,
    finished: bool,
    webhook_url: Option<String>,
    /// True while a webhook delivery is under way (first try or retries).
    delivering: bool,
}

impl Batch {
    pub fn account_id(&self) -> Option<&AccountId> {
        self.account_id.as_ref()
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    pub fn webhook_url(&self) -> Option<&str> {
        self.webhook_url.as_deref()
    }

    fn submitted(&self) -> Result<&AccountId, BatchError> {
        self.account_id.as_ref().ok_or(BatchError::NotSubmitted)
    }

    /// Checks that the batch finished with a webhook to deliver, and returns its message id.
    fn deliverable(&self) -> Result<String, BatchError> {
        self.submitted()?;
        if !self.finished {
            return Err(BatchError::NotFinished);
        }
        if self.webhook_url.is_none() {
            return Err(BatchError::NoWebhook);
        }
        Ok(webhook_id(&self.batch_id))
    }
}

impl Aggregate for Batch {
    const TYPE: &'static str = "Batch";
    type Command = BatchCommand;
    type Event = BatchEvent;
    type Error = BatchError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {
            BatchCommand::SubmitBatch {
                batch_id,
                account_id,
                items,
                options,
                webhook_url,
                regenerate,
                at,
            } => {
                if self.account_id.is_some() {
                    return Err(BatchError::AlreadySubmitted);
                }
                if items.is_empty() || items.len() > MAX_BATCH_ITEMS {
                    return Err(BatchError::BadSize);
                }
                let credits_reserved = items.iter().map(|i| i.credits).sum();
                let event = BatchEvent::BatchSubmitted {
                    batch_id,
                    account_id,
                    items,
                    options,
                    webhook_url,
                    credits_reserved,
                    regenerate,
                    at,
                };
                sink.write(event, self).await;
            }
            BatchCommand::RecordItemOutcome {
                job_id,
                succeeded,
                at,
            } => {
                let account_id = self.submitted()?.clone();
                if !self.pending.contains(&job_id) {
                    return Err(if self.items.contains(&job_id) {
                        BatchError::OutcomeKnown(job_id)
                    } else {
                        BatchError::UnknownItem(job_id)
                    });
                }
                let event = if succeeded {
                    BatchEvent::BatchItemCompleted {
                        account_id: account_id.clone(),
                        job_id,
                        at,
                    }
                } else {
                    BatchEvent::BatchItemFailed {
                        account_id: account_id.clone(),
                        job_id,
                        at,
                    }
                };
                sink.write(event, self).await;
                if self.pending.is_empty() {
                    let finished = BatchEvent::BatchFinished {
                        account_id,
                        status: BatchStatus::of_outcomes(self.completed, self.failed),
                        completed: self.completed,
                        failed: self.failed,
                        webhook_id: self
                            .webhook_url
                            .as_ref()
                            .map(|_| webhook_id(&self.batch_id)),
                        at,
                    };
                    sink.write(finished, self).await;
                }
            }
            BatchCommand::RecordWebhookAttempt { attempt, at } => {
                let webhook_id = self.deliverable()?;
                let account_id = self.submitted()?.clone();
                let event = BatchEvent::WebhookAttempted {
                    account_id,
                    webhook_id,
                    attempt,
                    at,
                };
                sink.write(event, self).await;
            }
            BatchCommand::RequestRedelivery { at } => {
                let webhook_id = self.deliverable()?;
                let account_id = self.submitted()?.clone();
                if self.delivering {
                    return Err(BatchError::DeliveryPending);
                }
                let event = BatchEvent::WebhookRedeliveryRequested {
                    account_id,
                    webhook_id,
                    at,
                };
                sink.write(event, self).await;
            }
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            BatchEvent::BatchSubmitted {
                batch_id,
                account_id,
                items,
                webhook_url,
                ..
            } => {
                self.batch_id = batch_id;
                self.account_id = Some(account_id);
                self.items = items.into_iter().map(|i| i.job_id).collect();
                self.pending = self.items.clone();
                self.webhook_url = webhook_url;
            }
            BatchEvent::BatchItemCompleted { job_id, .. } => {
                self.pending.remove(&job_id);
                self.completed += 1;
            }
            BatchEvent::BatchItemFailed { job_id, .. } => {
                self.pending.remove(&job_id);
                self.failed += 1;
            }
            BatchEvent::BatchFinished { .. } => {
                self.finished = true;
                self.delivering = self.webhook_url.is_some();
            }
            BatchEvent::WebhookAttempted { attempt, .. } => {
                self.delivering = attempt.next_attempt_at.is_some();
            }
            BatchEvent::WebhookRedeliveryRequested { .. } => self.delivering = true,
        }
    }
}
