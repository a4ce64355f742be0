//! Checking an image's existing alt text: the rule-based findings and the language check, free;
//! and, when asked, a model's judgement of whether the text matches the picture and a
//! suggested replacement. Either of those runs one generation (a job in history, charged like
//! a generate of the image only when it completes), never two.
use std::time::Instant;

use altframe_domain::generation::{GeneratedText, GenerationOptions, Language, Mode};
use altframe_domain::job::Source;
use altframe_domain::validation::{self, AltTextInput, Finding, Judgement};
use altframe_domain::{Credits, JobId};

use super::accounts::Requester;
use super::generate::{checked_options, generate_prepared, GenerateError};
use super::{App, Failure};
use crate::adapters::image::{ImageSource, PreparedImage};
use crate::adapters::vision::decorative_verdict;

/// A validation request, already checked field by field.
#[derive(Debug, Clone)]
pub struct ValidateInput {
    pub source: ImageSource<'static>,
    /// The alt text as the page has it; `None` when the image has no `alt` attribute.
    pub alt_text: Option<String>,
    /// The page's language; `None` means the account's default.
    pub language: Option<Language>,
    /// The context, the keywords, the length and the role, as a generate request gives them;
    /// the fields a suggestion writes.
    pub options: GenerationOptions,
    /// Write a replacement (one generation).
    pub suggest: bool,
    /// Ask the model whether the text matches the image (the same generation).
    pub check_match: bool,
}

#[derive(Debug, Clone)]
pub struct ValidateOutcome {
    pub findings: Vec<Finding>,
    pub score: u8,
    pub decorative: bool,
    pub decorative_reason: String,
    /// The language the text was checked against.
    pub language: Language,
    /// What the model did, when it was asked.
    pub model_run: Option<ModelRun>,
    pub credits_remaining: Credits,
}

/// The generation a validation ran for a suggestion or a judgement.
#[derive(Debug, Clone)]
pub struct ModelRun {
    pub job_id: JobId,
    pub model: String,
    /// The suggested text, when `suggest` asked for it.
    pub suggestion: Option<GeneratedText>,
    /// The verdict on the page's text, when `check_match` asked for it.
    pub judgement: Option<Judgement>,
    pub credits_used: Credits,
}

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error(
        "check_match needs a vision model, and this server describes images with the builtin \
         describer, which cannot judge a text against a picture"
    )]
    CannotJudge,
    #[error(transparent)]
    Generate(#[from] GenerateError),
}

impl From<Failure> for ValidateError {
    fn from(e: Failure) -> Self {
        ValidateError::Generate(e.into())
    }
}

/// Validates `input.alt_text` for `requester`.
#[tracing::instrument(skip_all, fields(account_id = %requester.account_id))]
pub async fn validate(
    app: &App,
    requester: &Requester,
    input: ValidateInput,
) -> Result<ValidateOutcome, ValidateError> {
    let started = Instant::now();
    if input.check_match && !app.vision.judges_alt_text() {
        return Err(ValidateError::CannotJudge);
    }
    let language = input
        .language
        .clone()
        .unwrap_or_else(|| requester.default_language.clone());
    let image = app
        .intake
        .prepare(&input.source)
        .await
        .map_err(GenerateError::from)?;
    let model_run = if input.suggest || input.check_match {
        Some(ask_the_model(app, requester, &input, &image, started).await?)
    } else {
        None
    };
    let (decorative, decorative_reason) = verdict(&image, &input.options, model_run.as_ref());
    let findings = validation::check(&AltTextInput {
        alt_text: input.alt_text.as_deref(),
        keywords: &input.options.keywords,
        max_length: usize::from(input.options.max_length.get()),
        decorative: Some(decorative),
        language: Some(&language),
        judgement: model_run
            .as_ref()
            .and_then(|ran| ran.run.judgement.as_ref()),
    });
    let credits_remaining = match &model_run {
        Some(ran) => ran.credits_remaining,
        None => app.credits_remaining(&requester.account_id).await?,
    };
    Ok(ValidateOutcome {
        score: validation::score(&findings),
        findings,
        decorative,
        decorative_reason,
        language,
        model_run: model_run.map(|ran| ran.run),
        credits_remaining,
    })
}

/// A model run, with what the validation reads of it beyond the answer.
struct Ran {
    run: ModelRun,
    /// The text the model wrote, suggested or not (its `auto` verdict is read from it).
    results: GeneratedText,
    credits_remaining: Credits,
}

/// One generation, with the page's text to judge when `check_match` asked; in `auto` mode its
/// decorative verdict is the model's.
async fn ask_the_model(
    app: &App,
    requester: &Requester,
    input: &ValidateInput,
    image: &PreparedImage,
    started: Instant,
) -> Result<Ran, ValidateError> {
    let mut options = input.options.clone();
    if input.check_match {
        options.judge_alt_text = Some(input.alt_text.clone().unwrap_or_default());
    }
    let options = checked_options(app, requester, input.language.clone(), options)?;
    let outcome =
        generate_prepared(app, requester, Source::Validate, image, options, started).await?;
    Ok(Ran {
        credits_remaining: outcome.credits_remaining,
        results: outcome.results.clone(),
        run: ModelRun {
            job_id: outcome.job_id,
            model: outcome.model,
            suggestion: input.suggest.then_some(outcome.results),
            judgement: outcome.judgement,
            credits_used: outcome.credits_used,
        },
    })
}

/// Whether the image is decorative: the caller's `decorative` mode says so; in `auto` mode
/// a model that was asked gives its verdict; otherwise the pixels and the role decide.
fn verdict(
    image: &PreparedImage,
    options: &GenerationOptions,
    run: Option<&Ran>,
) -> (bool, String) {
    if options.mode == Mode::Decorative {
        return (
            true,
            "The request marks the image as decorative.".to_string(),
        );
    }
    let from_model = run
        .map(|ran| &ran.results)
        .filter(|_| options.mode == Mode::Auto)
        .and_then(|text| Some((text.decorative?, text.decorative_reason.clone()?)));
    from_model.unwrap_or_else(|| decorative_verdict(image, options))
}
