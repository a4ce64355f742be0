//! One bulk item, taken from the queue by a worker: its image fetched or read back, answered
//! from the generation cache when it can be, else its reservation topped up for an advanced
//! format and run as a job like a sync generation.
//! The process manager settles its credits and records its outcome on the batch.
//!
//! Safe to run again after a crash: the job's state says how far the last try got, and a job
//! completes once and is charged once, however often its model call ran.
use std::time::Instant;

use altframe_domain::account::{AccountCommand, AccountError};
use altframe_domain::job::{JobCommand, JobState, Source};
use altframe_domain::{Credits, JobId};
use altframe_projections::work::QueuedItem;

use super::cache::{self, ItemAnswer};
use super::job::{self, Job, OnTransientFailure, Outcome, Requested, RunError};
use super::{App, Failure};
use crate::adapters::image::{ImageSource, IntakeError, PreparedImage};
use crate::adapters::store::CommandError;

/// How a try of an item ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemOutcome {
    /// The item's job has its outcome: the queue may forget the item.
    Finished,
    /// The model failed in a way that may pass: the item waits for another try.
    Deferred,
    /// Another worker took the item over and recorded its outcome; it does the rest.
    TakenOver,
}

/// Runs the item once. `may_defer`: a model failure that may pass leaves the item for another
/// try instead of failing it (the caller counts the tries).
#[tracing::instrument(skip(app, item), fields(%job_id, batch_id = %item.batch_id))]
pub async fn run_item(
    app: &App,
    job_id: &JobId,
    item: &QueuedItem,
    may_defer: bool,
) -> Result<ItemOutcome, Failure> {
    let started = Instant::now();
    let state = match app.store.jobs.load(job_id).await?.state() {
        // Its outcome is recorded; the queue row goes when the projection sees it.
        JobState::Completed | JobState::Failed => return Ok(ItemOutcome::Finished),
        JobState::Requested => Requested::Already,
        JobState::New => Requested::NotYet,
    };
    let image = match image(app, item).await? {
        Ok(image) => image,
        Err(unusable) => return fail(app, job_id, item, state, unusable.to_string()).await,
    };
    // Batch-wide options with this item's own context.
    let mut options = item.options.clone();
    options.page_url = item.item.page_url.clone();
    options.page_context = item.item.page_context.clone();
    options.product = item.item.product.clone();
    options.role = item.item.role;
    options.link_url = item.item.link_url.clone();
    // Not started yet: the same image with the same options may have been answered before
    // (unless the batch asked for new text).
    if state == Requested::NotYet && !item.regenerate {
        match cache::answer_item(app, job_id, item, &image, &options, started).await? {
            ItemAnswer::Answered => {
                app.events_committed();
                return Ok(ItemOutcome::Finished);
            }
            ItemAnswer::TakenOver => return Ok(ItemOutcome::TakenOver),
            ItemAnswer::Miss => {}
        }
    }
    let mut credits = item.item.credits;
    let format_cost = image.reference.format.credit_cost();
    if state == Requested::NotYet && item.item.image_url.is_some() && format_cost > 1 {
        match top_up(app, item, format_cost - 1).await? {
            TopUp::Held(total) => credits = total,
            TopUp::Short => {
                let message = format!(
                    "The image is {}, which costs {format_cost} credits; the balance cannot cover the {} more it needs",
                    image.reference.format.as_str().to_uppercase(),
                    format_cost - 1
                );
                return fail(app, job_id, item, state, message).await;
            }
            TopUp::NotOpen => {
                let message = "The item's reservation is no longer open".to_string();
                return fail(app, job_id, item, state, message).await;
            }
        }
    }
    let job = Job {
        id: job_id.clone(),
        account_id: item.account_id.clone(),
        source: Source::Bulk,
        batch_id: Some(item.batch_id.clone()),
        reservation_id: item.item.reservation_id.clone(),
        credits,
        options,
        state,
    };
    let on_transient = if may_defer {
        OnTransientFailure::Defer
    } else {
        OnTransientFailure::Fail
    };
    // A failure to record leaves the item to its lease: it is taken again when the lease ends.
    let outcome = match job::run(app, job, &image, started, on_transient).await {
        Ok(outcome) => outcome,
        Err(
            RunError::NotRequested(e)
            | RunError::Failure(e)
            | RunError::FailureNotRecorded { source: e, .. },
        ) => return Err(e),
    };
    Ok(match outcome {
        Outcome::Completed(_) | Outcome::Failed(_) => {
            app.events_committed();
            ItemOutcome::Finished
        }
        Outcome::Deferred(e) => {
            tracing::warn!(error = %e, "model unavailable; the item will be tried again");
            ItemOutcome::Deferred
        }
        Outcome::RecordedElsewhere => ItemOutcome::TakenOver,
    })
}

/// Why an item's image cannot be used; the item fails with this message.
#[derive(Debug, thiserror::Error)]
enum Unusable {
    #[error("the submitted image is no longer held")]
    NoLongerHeld,
    #[error("{0}")]
    Url(#[source] IntakeError),
    #[error("image_base64: {0}")]
    Inline(#[source] IntakeError),
}

/// Fails an item that was taken `attempts` times without an outcome (its worker died, or a
/// failure of ours interrupted it each time): a dead letter, so that it cannot hold its batch
/// and its credits for ever.
#[tracing::instrument(skip(app, item), fields(%job_id, batch_id = %item.batch_id))]
pub async fn give_up(
    app: &App,
    job_id: &JobId,
    item: &QueuedItem,
    attempts: u32,
) -> Result<ItemOutcome, Failure> {
    let state = match app.store.jobs.load(job_id).await?.state() {
        JobState::Completed | JobState::Failed => return Ok(ItemOutcome::Finished),
        JobState::Requested => Requested::Already,
        JobState::New => Requested::NotYet,
    };
    tracing::warn!(attempts, "giving up on a bulk item");
    let message =
        format!("The image could not be processed after {attempts} tries; no credits were charged");
    fail(app, job_id, item, state, message).await
}

/// The item's image, ready for the model; `Ok(Err(..))` when the image itself is unusable
/// (the item fails), `Err` when we failed to read it.
async fn image(app: &App, item: &QueuedItem) -> Result<Result<PreparedImage, Unusable>, Failure> {
    let prepared = match &item.item.image_url {
        Some(url) => app
            .intake
            .prepare(&ImageSource::Url(url.clone()))
            .await
            .map_err(Unusable::Url),
        None => {
            let Some(bytes) = app.queue.held_image(&item.item.job_id).await? else {
                return Ok(Err(Unusable::NoLongerHeld));
            };
            app.intake
                .prepare_bytes(None, bytes)
                .await
                .map_err(Unusable::Inline)
        }
    };
    match prepared {
        Err(Unusable::Url(e) | Unusable::Inline(e)) if e.is_ours() => Err(Failure::Intake(e)),
        prepared => Ok(prepared),
    }
}

enum TopUp {
    /// The reservation now holds this many credits.
    Held(Credits),
    /// The balance cannot cover the difference.
    Short,
    NotOpen,
}

/// Grows the item's reservation by `extra` credits to cover an advanced format. Safe to repeat
/// after a crash: a reservation already grown is left alone.
async fn top_up(app: &App, item: &QueuedItem, extra: Credits) -> Result<TopUp, Failure> {
    let reservation_id = &item.item.reservation_id;
    let needed = item.item.credits + extra;
    let account = app.store.accounts.load(&item.account_id).await?;
    let Some(held) = account.reservation(reservation_id).map(|r| r.credits) else {
        return Ok(TopUp::NotOpen);
    };
    if held >= needed {
        return Ok(TopUp::Held(held));
    }
    let increase = AccountCommand::IncreaseReservation {
        reservation_id: reservation_id.clone(),
        credits: needed - held,
        at: app.clock.now(),
    };
    match app.store.accounts.execute(&item.account_id, increase).await {
        Ok(_) => Ok(TopUp::Held(needed)),
        Err(CommandError::Rejected(AccountError::InsufficientCredits { .. })) => Ok(TopUp::Short),
        Err(CommandError::Rejected(AccountError::ReservationNotOpen(_))) => Ok(TopUp::NotOpen),
        Err(e) => Err(e.into()),
    }
}

/// Fails the item: a job that never started is abandoned (which still names its reservation,
/// so its credits are released), a started one failed.
async fn fail(
    app: &App,
    job_id: &JobId,
    item: &QueuedItem,
    state: Requested,
    error: String,
) -> Result<ItemOutcome, Failure> {
    let at = app.clock.now();
    let command = if state == Requested::Already {
        JobCommand::FailJob { error, at }
    } else {
        JobCommand::AbandonJob {
            account_id: item.account_id.clone(),
            batch_id: Some(item.batch_id.clone()),
            reservation_id: item.item.reservation_id.clone(),
            error,
            at,
        }
    };
    match app.store.jobs.execute(job_id, command).await {
        Ok(_) => {
            app.events_committed();
            Ok(ItemOutcome::Finished)
        }
        // Another worker requested or finished the job first (it took the item over).
        Err(CommandError::Rejected(_)) => Ok(ItemOutcome::TakenOver),
        Err(e) => Err(e.into()),
    }
}
