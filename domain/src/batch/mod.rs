//! A bulk submission: its items, each item's outcome, and the webhook that reports the end.
//!
//! The batch does not run anything: the process manager works its items as Jobs and reports
//! each outcome here. When the last outcome arrives the batch finishes, exactly once.
mod aggregate;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::generation::{GenerationOptions, Product, Role};
use crate::ids::{AccountId, BatchId, JobId, ReservationId};
use crate::image::ImageRef;
use crate::Credits;

pub use aggregate::Batch;

/// One image of a batch, as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchItem {
    pub job_id: JobId,
    pub reservation_id: ReservationId,
    /// Credits reserved at submission: the real cost for inline images, 1 for URLs.
    pub credits: Credits,
    /// Where to fetch the image when the item is processed.
    pub image_url: Option<String>,
    /// What an inline (base64) image is; its bytes are held outside the events.
    pub inline_image: Option<ImageRef>,
    pub page_url: Option<String>,
    pub page_context: Option<String>,
    pub product: Product,
    /// Where the image stands on its page; absent from batches submitted before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchStatus {
    Processing,
    Completed,
    Partial,
    Failed,
}

impl BatchStatus {
    pub const ALL: [BatchStatus; 4] = [
        BatchStatus::Processing,
        BatchStatus::Completed,
        BatchStatus::Partial,
        BatchStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Processing => "processing",
            BatchStatus::Completed => "completed",
            BatchStatus::Partial => "partial",
            BatchStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<BatchStatus> {
        [
            BatchStatus::Processing,
            BatchStatus::Completed,
            BatchStatus::Partial,
            BatchStatus::Failed,
        ]
        .into_iter()
        .find(|b| b.as_str() == s)
    }

    /// The final status once every item has an outcome.
    pub fn of_outcomes(completed: u32, failed: u32) -> BatchStatus {
        match (completed, failed) {
            (_, 0) => BatchStatus::Completed,
            (0, _) => BatchStatus::Failed,
            _ => BatchStatus::Partial,
        }
    }
}

/// How one webhook delivery attempt went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAttempt {
    pub attempt: u32,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub delivered: bool,
    /// When the next attempt is due; `None` when delivered or given up.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BatchCommand {
    SubmitBatch {
        batch_id: BatchId,
        account_id: AccountId,
        items: Vec<BatchItem>,
        options: Box<GenerationOptions>,
        webhook_url: Option<String>,
        /// Every item is generated anew, none answered from the generation cache.
        regenerate: bool,
        at: DateTime<Utc>,
    },
    RecordItemOutcome {
        job_id: JobId,
        succeeded: bool,
        at: DateTime<Utc>,
    },
    RecordWebhookAttempt {
        attempt: WebhookAttempt,
        at: DateTime<Utc>,
    },
    RequestRedelivery {
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BatchEvent {
    BatchSubmitted {
        batch_id: BatchId,
        account_id: AccountId,
        items: Vec<BatchItem>,
        options: Box<GenerationOptions>,
        webhook_url: Option<String>,
        credits_reserved: Credits,
        /// Every item is generated anew, none answered from the generation cache. Absent
        /// (false) from batches submitted before the cache existed, and when not asked for.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        regenerate: bool,
        at: DateTime<Utc>,
    },
    BatchItemCompleted {
        account_id: AccountId,
        job_id: JobId,
        at: DateTime<Utc>,
    },
    BatchItemFailed {
        account_id: AccountId,
        job_id: JobId,
        at: DateTime<Utc>,
    },
    BatchFinished {
        account_id: AccountId,
        status: BatchStatus,
        completed: u32,
        failed: u32,
        /// The Standard Webhooks message id, the same for every attempt; `None` without a URL.
        webhook_id: Option<String>,
        at: DateTime<Utc>,
    },
    WebhookAttempted {
        account_id: AccountId,
        webhook_id: String,
        attempt: WebhookAttempt,
        at: DateTime<Utc>,
    },
    WebhookRedeliveryRequested {
        account_id: AccountId,
        webhook_id: String,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for BatchEvent {
    fn event_type(&self) -> String {
        match self {
            BatchEvent::BatchSubmitted { .. } => "BatchSubmitted",
            BatchEvent::BatchItemCompleted { .. } => "BatchItemCompleted",
            BatchEvent::BatchItemFailed { .. } => "BatchItemFailed",
            BatchEvent::BatchFinished { .. } => "BatchFinished",
            BatchEvent::WebhookAttempted { .. } => "WebhookAttempted",
            BatchEvent::WebhookRedeliveryRequested { .. } => "WebhookRedeliveryRequested",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("batch already submitted")]
    AlreadySubmitted,
    #[error("batch does not exist")]
    NotSubmitted,
    #[error("a batch needs between 1 and {max} images", max = MAX_BATCH_ITEMS)]
    BadSize,
    #[error("job {0} is not an item of this batch")]
    UnknownItem(JobId),
    #[error("job {0} already has an outcome")]
    OutcomeKnown(JobId),
    #[error("the batch has no webhook to deliver")]
    NoWebhook,
    #[error("the batch has not finished")]
    NotFinished,
    #[error("the webhook is still being delivered")]
    DeliveryPending,
}

pub const MAX_BATCH_ITEMS: usize = 100;

/// The webhook message id of a batch: stable, so every retry and redelivery carries it.
pub fn webhook_id(batch_id: &BatchId) -> String {
    format!("msg_{}", batch_id.as_str().replace('-', ""))
}
