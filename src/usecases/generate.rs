//! One synchronous generation: reserve, request the job, call the model, then complete and
//! capture, or fail and release. Credits are charged only for a completed job.
//!
//! A generation does not wake the projector or the process manager. Its request has already
//! settled the credits, reads of history and usage catch up themselves, and the once-a-second
//! poll applies the rest in one round. Waking them cost a round of each, with a commit, for
//! every few requests: at one client, 10–15% of the throughput.
use std::time::Instant;

use altframe_domain::account::{AccountCommand, AccountError, AccountEvent};
use altframe_domain::credits::CreditCost;
use altframe_domain::generation::{GeneratedText, GenerationOptions, Language};
use altframe_domain::job::{Generation, JobCommand, Source, Tokens};
use altframe_domain::plan::Plan;
use altframe_domain::Credits;

use crate::adapters::ids;
use crate::adapters::image::{ImageSource, IntakeError};
use crate::adapters::store::CommandError;
use crate::adapters::vision::{VisionError, VisionRequest};
use crate::usecases::app::App;

/// A generation request, already validated except for what needs the account.
#[derive(Debug, Clone)]
pub struct GenerateInput {
    pub source: ImageSource<'static>,
    /// `None` when the request named no language: the account's default is used.
    pub language: Option<Language>,
    /// Everything else; its `language` is replaced by the one resolved here.
    pub options: GenerationOptions,
}

#[derive(Debug, Clone)]
pub struct GenerateOutcome {
    pub job_id: String,
    pub results: GeneratedText,
    pub language: Language,
    pub model: String,
    pub tokens: Tokens,
    pub processing_ms: u64,
    pub credits_used: Credits,
    pub credits_remaining: Credits,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("account {0} does not exist")]
    NoAccount(String),
    #[error("custom_prompt requires the {needed} plan or higher; this account is on {current}")]
    PlanTooLow { needed: Plan, current: Plan },
    #[error(transparent)]
    Image(#[from] IntakeError),
    #[error("insufficient credits: this image needs {needed} and {remaining} remain")]
    InsufficientCredits { needed: Credits, remaining: Credits },
    #[error(transparent)]
    Vision(#[from] VisionError),
    #[error("{0}")]
    Internal(String),
}

fn internal<E: std::error::Error>(e: CommandError<E>) -> GenerateError {
    GenerateError::Internal(e.to_string())
}

/// The plan tier that may send `custom_prompt`.
const CUSTOM_PROMPT_TIER: u8 = 2;

#[tracing::instrument(skip(app, input), fields(account_id = %account_id))]
pub async fn generate(
    app: &App,
    account_id: &str,
    input: GenerateInput,
) -> Result<GenerateOutcome, GenerateError> {
    let started = Instant::now();
    // Both are set when the account opens and never change.
    let settled = app
        .store
        .accounts
        .read_settled(account_id, |a| Some((a.plan()?, a.language().cloned()?)))
        .await
        .map_err(internal)?;
    let Some((plan, default_language)) = settled else {
        return Err(GenerateError::NoAccount(account_id.to_string()));
    };
    let mut options = input.options;
    if options.custom_prompt.is_some() && plan.tier() < CUSTOM_PROMPT_TIER {
        return Err(GenerateError::PlanTooLow {
            needed: Plan::lowest_with_tier(CUSTOM_PROMPT_TIER),
            current: plan,
        });
    }
    let (language, additional_language) = resolve_language(app, input.language, &default_language);
    options.language = language;

    let image = app.intake.prepare(&input.source).await?;
    let cost = CreditCost::of(image.reference.format, additional_language);

    let job_id = ids::job_id();
    let reservation_id = ids::reservation_id();
    reserve(app, account_id, &reservation_id, &job_id, cost.total()).await?;

    let request = JobCommand::GenerateImage {
        account_id: account_id.to_string(),
        source: Source::Api,
        batch_id: None,
        image: image.reference.clone(),
        options: Box::new(options.clone()),
        reservation_id: reservation_id.clone(),
        credits: cost.total(),
        at: app.clock.now(),
    };
    if let Err(e) = app.store.jobs.execute_new(&job_id, request).await {
        release(
            app,
            account_id,
            &reservation_id,
            "the job could not be recorded",
        )
        .await;
        return Err(internal(e));
    }

    let described = app
        .vision
        .describe(VisionRequest {
            image: &image,
            options: &options,
        })
        .await;
    let output = match described {
        Ok(output) => output,
        Err(e) => {
            fail(app, account_id, &job_id, &reservation_id, &e.to_string()).await;
            return Err(e.into());
        }
    };

    let results = output.text.finish(&options);
    let processing_ms = started.elapsed().as_millis() as u64;
    let generation = Generation {
        results: results.clone(),
        model: output.model.clone(),
        tokens: output.tokens,
        processing_ms,
        cost: output.cost,
    };
    let complete = JobCommand::CompleteJob {
        generation,
        at: app.clock.now(),
    };
    app.store
        .jobs
        .execute(&job_id, complete)
        .await
        .map_err(internal)?;
    let credits_remaining = capture(app, account_id, &reservation_id).await?;

    Ok(GenerateOutcome {
        job_id,
        results,
        language: options.language,
        model: output.model,
        tokens: output.tokens,
        processing_ms,
        credits_used: cost.total(),
        credits_remaining,
    })
}

/// The language a job is written in, and whether it is an "additional language" (one other
/// than the account's default, charged one credit more). A provider that writes one language
/// only (the builtin) writes that one, and no surcharge applies.
pub(crate) fn resolve_language(
    app: &App,
    requested: Option<Language>,
    default: &Language,
) -> (Language, bool) {
    let requested = requested.unwrap_or_else(|| default.clone());
    match app.vision.fixed_language() {
        Some(fixed) => (fixed, false),
        None => {
            let additional = &requested != default;
            (requested, additional)
        }
    }
}

async fn reserve(
    app: &App,
    account_id: &str,
    reservation_id: &str,
    job_id: &str,
    credits: Credits,
) -> Result<(), GenerateError> {
    let command = AccountCommand::ReserveCredits {
        reservation_id: reservation_id.to_string(),
        purpose: job_id.to_string(),
        credits,
        at: app.clock.now(),
    };
    match app.store.accounts.execute(account_id, command).await {
        Ok(_) => Ok(()),
        Err(CommandError::Rejected(AccountError::InsufficientCredits { needed, remaining })) => {
            Err(GenerateError::InsufficientCredits { needed, remaining })
        }
        Err(e) => Err(internal(e)),
    }
}

async fn capture(
    app: &App,
    account_id: &str,
    reservation_id: &str,
) -> Result<Credits, GenerateError> {
    let command = AccountCommand::CaptureCredits {
        reservation_id: reservation_id.to_string(),
        at: app.clock.now(),
    };
    let events = match app.store.accounts.execute(account_id, command).await {
        Ok(events) => events,
        // The process manager got there first (it reacts to JobCompleted too): the charge stands.
        Err(CommandError::Rejected(AccountError::ReservationNotOpen(_))) => {
            let account = app
                .store
                .accounts
                .load(account_id)
                .await
                .map_err(internal)?;
            return Ok(account.remaining());
        }
        Err(e) => return Err(internal(e)),
    };
    app.process_manager.settled_by_request(reservation_id);
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            AccountEvent::CreditsCaptured { remaining, .. } => Some(*remaining),
            _ => None,
        })
        .ok_or_else(|| GenerateError::Internal("capture recorded no event".into()))
}

/// Records the failure and gives the credits back. Errors here are logged, not returned: the
/// caller already has the error that matters, and an open reservation is released later by
/// the process manager's timeout.
async fn fail(app: &App, account_id: &str, job_id: &str, reservation_id: &str, error: &str) {
    let command = JobCommand::FailJob {
        error: error.to_string(),
        at: app.clock.now(),
    };
    if let Err(e) = app.store.jobs.execute(job_id, command).await {
        tracing::error!(job_id, error = %e, "could not record a failed job");
    }
    release(app, account_id, reservation_id, error).await;
}

async fn release(app: &App, account_id: &str, reservation_id: &str, reason: &str) {
    let command = AccountCommand::ReleaseCredits {
        reservation_id: reservation_id.to_string(),
        reason: reason.to_string(),
        at: app.clock.now(),
    };
    match app.store.accounts.execute(account_id, command).await {
        Ok(_) => app.process_manager.settled_by_request(reservation_id),
        Err(e) => tracing::error!(reservation_id, error = %e, "could not release a reservation"),
    }
}
