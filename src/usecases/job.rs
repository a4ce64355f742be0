//! One job, from its request to its outcome: the one path a synchronous generation and every
//! bulk item take. The credits are already reserved; this records the job, calls the model
//! and records what came of it. Settling the reservation is the caller's (a sync request
//! settles at once) or the process manager's (it reacts to the outcome).
use std::time::Instant;

use altframe_domain::generation::{finish_all, GenerationOptions};
use altframe_domain::job::{Generation, JobCommand, JobError, Source};
use altframe_domain::{AccountId, BatchId, Credits, JobId, ReservationId};

use super::{App, Failure};
use crate::adapters::image::PreparedImage;
use crate::adapters::store::CommandError;
use crate::adapters::vision::{VisionError, VisionRequest};

/// A job to run, its credits reserved.
#[derive(Debug, Clone)]
pub(super) struct Job {
    pub id: JobId,
    pub account_id: AccountId,
    pub source: Source,
    pub batch_id: Option<BatchId>,
    pub reservation_id: ReservationId,
    pub credits: Credits,
    /// Everything the model is told, the item's own context included.
    pub options: GenerationOptions,
    /// Whether the job is already requested (a bulk item tried before) or new.
    pub state: Requested,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Requested {
    /// An id made for this request: nothing to load before recording it.
    NewId,
    /// An id given in advance (a bulk item's), never requested yet.
    NotYet,
    /// `GenerateImage` is recorded: a bulk item taken over after a crash, or retried.
    Already,
}

/// What a model failure that may pass (a timeout, a 429, a 5xx) does to the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OnTransientFailure {
    /// The job fails now.
    Fail,
    /// The job stays requested, for another try later.
    Defer,
}

#[derive(Debug)]
pub(super) enum Outcome {
    /// The job completed; its generation is recorded.
    Completed(Box<Generation>),
    /// The model failed; the job is recorded as failed.
    Failed(VisionError),
    /// The model failed in a way that may pass; the job waits for another try.
    Deferred(VisionError),
    /// Another worker recorded the job's outcome first (it had taken over the item).
    RecordedElsewhere,
}

/// Why a job could not run to a recorded outcome.
#[derive(Debug, thiserror::Error)]
pub(super) enum RunError {
    /// The job could not be recorded: it does not exist, and its credits can go back.
    #[error("the job could not be recorded")]
    NotRequested(#[source] Failure),
    /// The model failed, and so did recording it: the job stays requested (the reaper fails
    /// it later), but nothing was made, so a request's credits can go back now.
    #[error("the model failed ({model}), and the failure could not be recorded")]
    FailureNotRecorded {
        model: VisionError,
        #[source]
        source: Failure,
    },
    /// The job exists but its outcome could not be recorded: whether it completed is not
    /// known here, so its credits stay reserved until the reaper settles them.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// Runs `job` on `image`, timed from `started`.
#[tracing::instrument(skip_all, fields(job_id = %job.id))]
pub(super) async fn run(
    app: &App,
    job: Job,
    image: &PreparedImage,
    started: Instant,
    on_transient: OnTransientFailure,
) -> Result<Outcome, RunError> {
    if job.state != Requested::Already {
        request(app, &job, image)
            .await
            .map_err(RunError::NotRequested)?;
    }
    let described = app
        .vision
        .describe(VisionRequest {
            image,
            options: &job.options,
        })
        .await;
    let output = match described {
        Ok(output) => output,
        Err(e @ VisionError::Unavailable(_)) if on_transient == OnTransientFailure::Defer => {
            return Ok(Outcome::Deferred(e));
        }
        Err(e) => {
            let fail = JobCommand::FailJob {
                error: e.to_string(),
                at: app.clock.now(),
            };
            return match record(app, &job.id, fail).await {
                Ok(true) => Ok(Outcome::Failed(e)),
                Ok(false) => Ok(Outcome::RecordedElsewhere),
                Err(source) => Err(RunError::FailureNotRecorded { model: e, source }),
            };
        }
    };
    let finished = finish_all(&output.text, &output.translations, &job.options);
    let generation = Generation {
        results: finished.results,
        translations: finished.translations,
        failed_languages: finished.failed_languages,
        model: output.model,
        tokens: output.tokens,
        processing_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        cost: output.cost,
        judgement: job
            .options
            .judge_alt_text
            .as_ref()
            .and(output.judgement.as_ref())
            .map(|j| j.finish(&job.options)),
    };
    let complete = JobCommand::CompleteJob {
        generation: generation.clone(),
        at: app.clock.now(),
    };
    Ok(match record(app, &job.id, complete).await? {
        true => Outcome::Completed(Box::new(generation)),
        false => Outcome::RecordedElsewhere,
    })
}

/// Records `GenerateImage`: the job exists from here on, with its image and options, and the
/// key under which the generation cache may find its result.
async fn request(app: &App, job: &Job, image: &PreparedImage) -> Result<(), Failure> {
    let command = JobCommand::GenerateImage {
        account_id: job.account_id.clone(),
        source: job.source,
        batch_id: job.batch_id.clone(),
        image: image.reference.clone(),
        options: Box::new(job.options.clone()),
        reservation_id: job.reservation_id.clone(),
        credits: job.credits,
        cache_key: super::cache::key(app, &job.account_id, &image.reference, &job.options),
        at: app.clock.now(),
    };
    match job.state {
        Requested::NewId => app.store.jobs.execute_new(&job.id, command).await?,
        _ => app.store.jobs.execute(&job.id, command).await?,
    };
    Ok(())
}

/// Records the job's outcome. Returns false when the job already had one: another worker took
/// the item over and finished it first.
pub(super) async fn record(
    app: &App,
    job_id: &JobId,
    outcome: JobCommand,
) -> Result<bool, Failure> {
    match app.store.jobs.execute(job_id, outcome).await {
        Ok(_) => Ok(true),
        Err(CommandError::Rejected(JobError::AlreadyFinished)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
