//! One image's generation: requested with its credits already reserved, then completed or
//! failed exactly once. The model call happens outside, between the two commands. A job may
//! instead be answered at once, free, from an earlier job's result (the generation cache).
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::credits::{Charge, CreditCost};
use crate::generation::{GeneratedText, GenerationOptions, Language};
use crate::ids::{AccountId, BatchId, JobId, ReservationId};
use crate::image::ImageRef;
use crate::validation::Judgement;
use crate::{Credits, Micros};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Api,
    Bulk,
    Dashboard,
    /// A tool call through the MCP server (`altframe mcp`, or `/mcp` on `serve`).
    Mcp,
    /// A suggestion or a model's judgement asked of `POST /api/v1/validate`.
    Validate,
}

impl Source {
    pub const ALL: [Source; 5] = [
        Source::Api,
        Source::Bulk,
        Source::Dashboard,
        Source::Mcp,
        Source::Validate,
    ];

    /// The name history shows (and events store).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Bulk => "bulk",
            Source::Dashboard => "dashboard",
            Source::Mcp => "mcp",
            Source::Validate => "validate",
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Tokens {
    pub input: u32,
    pub output: u32,
}

/// What the model did for a completed job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    pub results: GeneratedText,
    /// The text in each other requested language that was delivered.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<Language, GeneratedText>,
    /// Requested languages the provider did not deliver; they are not charged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_languages: Vec<Language>,
    pub model: String,
    pub tokens: Tokens,
    pub processing_ms: u64,
    pub cost: Micros,
    /// The model's verdict on the page's alt text, when the job asked for one (`validate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judgement: Option<Judgement>,
}

/// The bulk item a job answered from the cache stands for: its batch, and the reservation
/// the batch made for it at submission (released, since the answer is free).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkItemRef {
    pub batch_id: BatchId,
    pub reservation_id: ReservationId,
}

/// Why a bulk item's reservation is released when the cache answered it.
pub const ANSWERED_FROM_CACHE: &str = "answered from the generation cache, at no charge";

#[derive(Debug, Clone, PartialEq)]
pub enum JobCommand {
    GenerateImage {
        account_id: AccountId,
        source: Source,
        batch_id: Option<BatchId>,
        image: ImageRef,
        options: Box<GenerationOptions>,
        reservation_id: ReservationId,
        credits: Credits,
        /// What the generation cache finds this job's result under, when it may be reused.
        cache_key: Option<String>,
        at: DateTime<Utc>,
    },
    /// Answers a new job with an earlier job's result: no model call, no charge. A bulk
    /// item names its batch and the reservation its batch made for it, which is released.
    AnswerFromCache {
        account_id: AccountId,
        source: Source,
        bulk_item: Option<BulkItemRef>,
        image: ImageRef,
        options: Box<GenerationOptions>,
        /// The completed job whose result this is.
        cached_from: JobId,
        generation: Generation,
        at: DateTime<Utc>,
    },
    CompleteJob {
        generation: Generation,
        at: DateTime<Utc>,
    },
    FailJob {
        error: String,
        at: DateTime<Utc>,
    },
    /// Fails a job that never started: a bulk item whose image could not be fetched or paid
    /// for. It still names the reservation, so its credits are released.
    AbandonJob {
        account_id: AccountId,
        batch_id: Option<BatchId>,
        reservation_id: ReservationId,
        error: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum JobEvent {
    JobRequested {
        account_id: AccountId,
        source: Source,
        batch_id: Option<BatchId>,
        image: ImageRef,
        options: Box<GenerationOptions>,
        reservation_id: ReservationId,
        credits: Credits,
        /// The generation cache's key of this job's image, options, model and account (see
        /// the use case that computes it); absent when the result may not be reused, and
        /// from jobs requested before the cache existed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_key: Option<String>,
        at: DateTime<Utc>,
    },
    /// A job answered, complete, with the result of `cached_from`: charged nothing. Its
    /// generation has the earlier job's text and model, no tokens, no cost, and this
    /// request's own processing time. A synchronous request reserved nothing; a bulk item
    /// names its batch, and the reservation made for it at submission, to be released.
    JobAnsweredFromCache {
        account_id: AccountId,
        source: Source,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bulk_item: Option<BulkItemRef>,
        image: ImageRef,
        options: Box<GenerationOptions>,
        cached_from: JobId,
        generation: Box<Generation>,
        at: DateTime<Utc>,
    },
    JobCompleted {
        account_id: AccountId,
        batch_id: Option<BatchId>,
        reservation_id: ReservationId,
        generation: Box<Generation>,
        /// What the reservation is charged: less the languages not delivered. Jobs completed
        /// before languages were charged this way were charged whole.
        #[serde(default)]
        charge: Charge,
        at: DateTime<Utc>,
    },
    JobFailed {
        account_id: AccountId,
        batch_id: Option<BatchId>,
        reservation_id: ReservationId,
        error: String,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for JobEvent {
    fn event_type(&self) -> String {
        match self {
            JobEvent::JobRequested { .. } => "JobRequested",
            JobEvent::JobAnsweredFromCache { .. } => "JobAnsweredFromCache",
            JobEvent::JobCompleted { .. } => "JobCompleted",
            JobEvent::JobFailed { .. } => "JobFailed",
        }
        .to_string()
    }

    /// 1.1: outcomes name their batch (`batch_id`); see the upcasters in `src/store`.
    fn event_version(&self) -> String {
        match self {
            JobEvent::JobRequested { .. } | JobEvent::JobAnsweredFromCache { .. } => "1.0",
            JobEvent::JobCompleted { .. } | JobEvent::JobFailed { .. } => "1.1",
        }
        .to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("job already requested")]
    AlreadyRequested,
    #[error("job was never requested")]
    NotRequested,
    #[error("job already finished")]
    AlreadyFinished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum JobState {
    #[default]
    New,
    Requested,
    Completed,
    Failed,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Job {
    state: JobState,
    account_id: AccountId,
    batch_id: Option<BatchId>,
    reservation_id: ReservationId,
    /// Credits reserved for languages beyond the first.
    language_credits: Credits,
    /// A completed job's charge.
    charge: Charge,
    /// Completed with an earlier job's result, at no charge.
    #[serde(default)]
    answered_from_cache: bool,
}

impl Job {
    pub fn state(&self) -> JobState {
        self.state
    }

    /// What a completed job's reservation is charged (nothing, and the reservation is
    /// released, when it was [answered from the cache](Self::answered_from_cache)).
    pub fn charge(&self) -> Charge {
        self.charge
    }

    /// Completed with an earlier job's result: a reservation it names (a bulk item's) is
    /// released, never captured.
    pub fn answered_from_cache(&self) -> bool {
        self.answered_from_cache
    }

    fn ensure_new(&self) -> Result<(), JobError> {
        match self.state {
            JobState::New => Ok(()),
            _ => Err(JobError::AlreadyRequested),
        }
    }

    fn ensure_running(&self) -> Result<(), JobError> {
        match self.state {
            JobState::New => Err(JobError::NotRequested),
            JobState::Requested => Ok(()),
            JobState::Completed | JobState::Failed => Err(JobError::AlreadyFinished),
        }
    }
}

impl Aggregate for Job {
    const TYPE: &'static str = "Job";
    type Command = JobCommand;
    type Event = JobEvent;
    type Error = JobError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            JobCommand::GenerateImage {
                account_id,
                source,
                batch_id,
                image,
                options,
                reservation_id,
                credits,
                cache_key,
                at,
            } => {
                self.ensure_new()?;
                JobEvent::JobRequested {
                    account_id,
                    source,
                    batch_id,
                    image,
                    options,
                    reservation_id,
                    credits,
                    cache_key,
                    at,
                }
            }
            JobCommand::AnswerFromCache {
                account_id,
                source,
                bulk_item,
                image,
                options,
                cached_from,
                generation,
                at,
            } => {
                self.ensure_new()?;
                JobEvent::JobAnsweredFromCache {
                    account_id,
                    source,
                    bulk_item,
                    image,
                    options,
                    cached_from,
                    generation: Box::new(generation),
                    at,
                }
            }
            JobCommand::CompleteJob { generation, at } => {
                self.ensure_running()?;
                let charge =
                    Charge::for_delivery(self.language_credits, generation.failed_languages.len());
                JobEvent::JobCompleted {
                    account_id: self.account_id.clone(),
                    batch_id: self.batch_id.clone(),
                    reservation_id: self.reservation_id.clone(),
                    generation: Box::new(generation),
                    charge,
                    at,
                }
            }
            JobCommand::AbandonJob {
                account_id,
                batch_id,
                reservation_id,
                error,
                at,
            } => {
                self.ensure_new()?;
                JobEvent::JobFailed {
                    account_id,
                    batch_id,
                    reservation_id,
                    error,
                    at,
                }
            }
            JobCommand::FailJob { error, at } => {
                self.ensure_running()?;
                JobEvent::JobFailed {
                    account_id: self.account_id.clone(),
                    batch_id: self.batch_id.clone(),
                    reservation_id: self.reservation_id.clone(),
                    error,
                    at,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            JobEvent::JobRequested {
                account_id,
                batch_id,
                reservation_id,
                options,
                ..
            } => {
                self.state = JobState::Requested;
                self.account_id = account_id;
                self.batch_id = batch_id;
                self.reservation_id = reservation_id;
                self.language_credits = CreditCost::languages(options.extra_languages.len());
            }
            JobEvent::JobAnsweredFromCache {
                account_id,
                bulk_item,
                ..
            } => {
                self.state = JobState::Completed;
                self.account_id = account_id;
                self.answered_from_cache = true;
                if let Some(item) = bulk_item {
                    self.batch_id = Some(item.batch_id);
                    self.reservation_id = item.reservation_id;
                }
            }
            JobEvent::JobCompleted { charge, .. } => {
                self.state = JobState::Completed;
                self.charge = charge;
            }
            JobEvent::JobFailed { .. } => self.state = JobState::Failed,
        }
    }
}

#[cfg(test)]
mod tests;
