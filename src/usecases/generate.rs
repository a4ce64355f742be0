//! One synchronous generation: reserve, run the job, then capture, or release when the model
//! failed. Credits are charged only for a completed job.
//!
//! A generation does not wake the projector or the process manager. Its request has already
//! settled the credits, reads of history and usage catch up themselves, and the once-a-second
//! poll applies the rest in one round; waking them cost a round of each for every few requests.
//! See docs/decisions/0009-sync-generations-do-not-wake-subscribers.md for what it measured.
use std::collections::BTreeMap;
use std::time::Instant;

use altframe_domain::account::{AccountCommand, AccountError, AccountEvent};
use altframe_domain::credits::{Charge, CreditCost};
use altframe_domain::generation::{GeneratedText, GenerationOptions, Language};
use altframe_domain::job::{Source, Tokens};
use altframe_domain::plan::Plan;
use altframe_domain::validation::Judgement;
use altframe_domain::{AccountId, Credits, JobId, ReservationId};

use super::accounts::Requester;
use super::cache;
use super::job::{self, Job, OnTransientFailure, Outcome, Requested, RunError};
use super::{App, Failure};
use crate::adapters::ids;
use crate::adapters::image::{ImageSource, IntakeError, PreparedImage};
use crate::adapters::store::CommandError;
use crate::adapters::vision::VisionError;

/// A generation request, already validated except for what needs the account.
#[derive(Debug, Clone)]
pub struct GenerateInput {
    pub source: ImageSource<'static>,
    /// `None` when the request named no language: the account's default is used.
    pub language: Option<Language>,
    /// Everything else, `extra_languages` included; its `language` is replaced by the one
    /// resolved here.
    pub options: GenerationOptions,
    /// Generate anew even when the cache holds a result (`regenerate: true`).
    pub regenerate: bool,
}

#[derive(Debug, Clone)]
pub struct GenerateOutcome {
    pub job_id: JobId,
    pub results: GeneratedText,
    pub translations: BTreeMap<Language, GeneratedText>,
    pub failed_languages: Vec<Language>,
    pub language: Language,
    pub model: String,
    pub tokens: Tokens,
    pub processing_ms: u64,
    pub credits_used: Credits,
    pub credits_remaining: Credits,
    /// The model's verdict on the page's alt text, when the options asked for one.
    pub judgement: Option<Judgement>,
    /// For an answer from the generation cache: the job whose result it is.
    pub cached_from: Option<JobId>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("custom_prompt requires the {needed} plan or higher; this account is on {current}")]
    PlanTooLow { needed: Plan, current: Plan },
    #[error(transparent)]
    Image(IntakeError),
    #[error("insufficient credits: this image needs {needed} and {remaining} remain")]
    InsufficientCredits { needed: Credits, remaining: Credits },
    #[error(transparent)]
    Vision(VisionError),
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl From<IntakeError> for GenerateError {
    /// The image's fault is the caller's; a decoding task cut short is ours.
    fn from(e: IntakeError) -> Self {
        if e.is_ours() {
            GenerateError::Failure(Failure::Intake(e))
        } else {
            GenerateError::Image(e)
        }
    }
}

/// The plan tier that may send `custom_prompt`.
pub const CUSTOM_PROMPT_TIER: u8 = 2;

/// Runs one generation for `requester`; `source` says which door it came through (history
/// shows it).
#[tracing::instrument(skip_all, fields(account_id = %requester.account_id))]
pub async fn generate(
    app: &App,
    requester: &Requester,
    source: Source,
    input: GenerateInput,
) -> Result<GenerateOutcome, GenerateError> {
    let started = Instant::now();
    let options = checked_options(app, requester, input.language, input.options)?;
    let image = app.intake.prepare(&input.source).await?;
    if input.regenerate {
        return generate_uncached(app, requester, source, &image, options, started).await;
    }
    generate_prepared(app, requester, source, &image, options, started).await
}

/// The options a generation runs with: what the account's plan allows, its languages
/// resolved against the account's default and the provider's.
pub(super) fn checked_options(
    app: &App,
    requester: &Requester,
    language: Option<Language>,
    mut options: GenerationOptions,
) -> Result<GenerationOptions, GenerateError> {
    let plan = requester.plan;
    if options.custom_prompt.is_some() && plan.tier() < CUSTOM_PROMPT_TIER {
        return Err(GenerateError::PlanTooLow {
            needed: Plan::lowest_with_tier(CUSTOM_PROMPT_TIER),
            current: plan,
        });
    }
    resolve_languages(app, &mut options, language, &requester.default_language);
    Ok(options)
}

/// One generation of an image already taken in, with options already checked
/// ([`checked_options`]); timed from `started`. Answered from the generation cache when it
/// holds the result, else generated.
pub(super) async fn generate_prepared(
    app: &App,
    requester: &Requester,
    source: Source,
    image: &PreparedImage,
    options: GenerationOptions,
    started: Instant,
) -> Result<GenerateOutcome, GenerateError> {
    if let Some(answer) = cache::answer(app, requester, source, image, &options, started).await? {
        return Ok(answer);
    }
    generate_uncached(app, requester, source, image, options, started).await
}

/// Reserves, runs and settles one generation, without looking in the cache.
async fn generate_uncached(
    app: &App,
    requester: &Requester,
    source: Source,
    image: &PreparedImage,
    options: GenerationOptions,
    started: Instant,
) -> Result<GenerateOutcome, GenerateError> {
    let account_id = &requester.account_id;
    let cost = CreditCost::of(image.reference.format, options.extra_languages.len());

    let job = Job {
        id: ids::job_id(),
        account_id: account_id.clone(),
        source,
        batch_id: None,
        reservation_id: ids::reservation_id(),
        credits: cost.total(),
        options,
        state: Requested::NewId,
    };
    reserve(app, &job).await?;
    let reservation_id = job.reservation_id.clone();
    let (job_id, language) = (job.id.clone(), job.options.language.clone());
    let outcome = match job::run(app, job, image, started, OnTransientFailure::Fail).await {
        Ok(outcome) => outcome,
        Err(RunError::NotRequested(e)) => {
            release(
                app,
                account_id,
                &reservation_id,
                "the job could not be recorded",
            )
            .await;
            return Err(e.into());
        }
        Err(RunError::FailureNotRecorded { model, source }) => {
            tracing::error!(%job_id, error = %super::error_chain(&source), "could not record a failed job");
            release(app, account_id, &reservation_id, &model.to_string()).await;
            return Err(GenerateError::Vision(model));
        }
        // Whether the job completed is not known here: its reservation stays open, and the
        // reaper settles it from the job's state.
        Err(RunError::Failure(e)) => return Err(e.into()),
    };
    let generation = match outcome {
        Outcome::Completed(generation) => generation,
        Outcome::Failed(e) => {
            release(app, account_id, &reservation_id, &e.to_string()).await;
            return Err(GenerateError::Vision(e));
        }
        Outcome::Deferred(_) | Outcome::RecordedElsewhere => {
            return Err(Failure::Inconsistent(format!(
                "job {job_id} ended without the outcome its request records"
            ))
            .into())
        }
    };
    let charge = Charge::for_delivery(cost.language, generation.failed_languages.len());
    let credits_remaining = capture(app, account_id, &reservation_id, charge).await?;
    Ok(GenerateOutcome {
        job_id,
        results: generation.results,
        translations: generation.translations,
        failed_languages: generation.failed_languages,
        language,
        model: generation.model,
        tokens: generation.tokens,
        processing_ms: generation.processing_ms,
        credits_used: cost.total() - charge.unused,
        credits_remaining,
        judgement: generation.judgement,
        cached_from: None,
    })
}

/// Sets the job's primary language: the one requested (`language`, or the first of
/// `languages`), else the account's default. A provider that writes one language only (the
/// builtin) writes that one; in a request for several languages, the primary it replaced
/// joins the others, so that it is listed among the failed ones (and given back). An extra
/// language equal to the primary is dropped, neither reserved nor charged; the others stay,
/// one credit each.
pub(super) fn resolve_languages(
    app: &App,
    options: &mut GenerationOptions,
    requested: Option<Language>,
    default: &Language,
) {
    let requested = requested.unwrap_or_else(|| default.clone());
    let primary = app.vision.fixed_language().unwrap_or(requested.clone());
    if requested != primary && !options.extra_languages.is_empty() {
        options.extra_languages.insert(0, requested);
    }
    options.extra_languages.retain(|l| *l != primary);
    options.language = primary;
}

async fn reserve(app: &App, job: &Job) -> Result<(), GenerateError> {
    let command = AccountCommand::ReserveCredits {
        reservation_id: job.reservation_id.clone(),
        purpose: job.id.to_string(),
        credits: job.credits,
        at: app.clock.now(),
    };
    match app.store.accounts.execute(&job.account_id, command).await {
        Ok(_) => Ok(()),
        Err(CommandError::Rejected(AccountError::InsufficientCredits { needed, remaining })) => {
            Err(GenerateError::InsufficientCredits { needed, remaining })
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// Captures the job's credits (less those of languages not delivered) and returns the balance
/// after.
async fn capture(
    app: &App,
    account_id: &AccountId,
    reservation_id: &ReservationId,
    charge: Charge,
) -> Result<Credits, Failure> {
    let command = AccountCommand::CaptureCredits {
        reservation_id: reservation_id.clone(),
        charge,
        at: app.clock.now(),
    };
    let events = match app.store.accounts.execute(account_id, command).await {
        Ok(events) => events,
        // The process manager got there first (it reacts to JobCompleted too): the charge stands.
        Err(CommandError::Rejected(AccountError::ReservationNotOpen(_))) => {
            return app.credits_remaining(account_id).await;
        }
        Err(e) => return Err(e.into()),
    };
    app.settled_here.record(reservation_id);
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            AccountEvent::CreditsCaptured { remaining, .. } => Some(*remaining),
            _ => None,
        })
        .ok_or_else(|| Failure::Inconsistent("a capture recorded no CreditsCaptured".into()))
}

/// Gives the credits back. An error here is logged, not returned: the caller already has the
/// error that matters, and an open reservation is settled later by the reaper.
async fn release(app: &App, account_id: &AccountId, reservation_id: &ReservationId, reason: &str) {
    let command = AccountCommand::ReleaseCredits {
        reservation_id: reservation_id.clone(),
        reason: reason.to_string(),
        at: app.clock.now(),
    };
    match app.store.accounts.execute(account_id, command).await {
        Ok(_) => app.settled_here.record(reservation_id),
        Err(e) => {
            tracing::error!(%reservation_id, error = %super::error_chain(&e), "could not release a reservation")
        }
    }
}
