//! Submitting a batch, in two steps. `stage` validates every item and holds each inline image
//! as it goes (decoded, checked, stored, then dropped: one image in memory at a time); a bad
//! item refuses the batch and lets go of the images held so far. `submit` reserves all credits
//! at once and records the batch. The process manager does the rest.
use altframe_domain::account::{AccountCommand, AccountError, ReservationRequest};
use altframe_domain::batch::{BatchCommand, BatchItem};
use altframe_domain::credits::CreditCost;
use altframe_domain::generation::{GenerationOptions, Language, Product, Role};
use altframe_domain::image::ImageRef;
use altframe_domain::{AccountId, BatchId, Credits, JobId};
use altframe_projections::jobs;
use chrono::{DateTime, Utc};

use super::generate::resolve_languages;
use super::{App, Failure};
use crate::adapters::ids;
use crate::adapters::image::{decode_base64, inspect_bytes, ImageSource, IntakeError};
use crate::adapters::outbound::FetchError;
use crate::adapters::queue::Queue;
use crate::adapters::store::CommandError;

/// One image of a bulk request, validated. Its base64 may borrow from the request body.
#[derive(Debug, Clone)]
pub struct BulkItemInput<'a> {
    pub source: ImageSource<'a>,
    pub page_url: Option<String>,
    pub page_context: Option<String>,
    pub product: Product,
    pub role: Option<Role>,
    pub link_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct BulkInput<'a> {
    pub items: Vec<BulkItemInput<'a>>,
    pub language: Option<Language>,
    /// Batch-wide options; per-item context lives in the items.
    pub options: GenerationOptions,
    pub webhook_url: Option<String>,
    /// Generate every item anew, none answered from the generation cache.
    pub regenerate: bool,
}

/// A batch whose items are valid and whose inline images are held; nothing is charged yet.
#[derive(Debug)]
pub struct StagedBatch {
    account_id: AccountId,
    items: Vec<BatchItem>,
    options: GenerationOptions,
    webhook_url: Option<String>,
    regenerate: bool,
    /// The account has no webhook secret yet and the batch has a webhook.
    needs_webhook_secret: bool,
    held: HeldImages,
    at: DateTime<Utc>,
}

/// The inline images stored for a batch that is not recorded yet. A refused batch deletes them;
/// so does dropping them, when the request is abandoned midway (the client hung up), so that no
/// image is left without a batch to delete it.
#[derive(Debug)]
struct HeldImages {
    queue: Queue,
    job_ids: Vec<JobId>,
}

impl HeldImages {
    async fn forget(mut self) {
        let job_ids = std::mem::take(&mut self.job_ids);
        drop_images(&self.queue, &job_ids).await;
    }

    /// Stops guarding the images (the batch is being recorded) and gives their jobs.
    fn hand_over(mut self) -> Vec<JobId> {
        std::mem::take(&mut self.job_ids)
    }
}

impl Drop for HeldImages {
    fn drop(&mut self) {
        if self.job_ids.is_empty() {
            return;
        }
        let (queue, job_ids) = (self.queue.clone(), std::mem::take(&mut self.job_ids));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { drop_images(&queue, &job_ids).await });
        }
    }
}

/// Deletes the images of a batch that will not be recorded; what fails here is swept later.
async fn drop_images(queue: &Queue, job_ids: &[JobId]) {
    if let Err(e) = queue.drop_images(job_ids).await {
        tracing::error!(error = %super::error_chain(&e), "could not delete the images of a refused batch");
    }
}

#[derive(Debug, Clone)]
pub struct BulkAccepted {
    pub batch_id: BatchId,
    pub total_images: usize,
    pub credits_reserved: Credits,
    pub estimated_seconds: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error("images[{index}]: {source}")]
    Image { index: usize, source: IntakeError },
    #[error("webhook_url: {0}")]
    WebhookUrl(FetchError),
    #[error("insufficient credits: this batch needs {needed} and {remaining} remain")]
    InsufficientCredits { needed: Credits, remaining: Credits },
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// How long one item takes when nothing has been measured yet.
const DEFAULT_ITEM_MS: f64 = 2_000.0;

/// Validates the batch, item by item in order, holding each inline image once it is checked.
/// The first bad item refuses the batch (naming its index) and the images held so far are
/// deleted.
#[tracing::instrument(skip(app, input), fields(account_id = %account_id, images = input.items.len()))]
pub async fn stage(
    app: &App,
    account_id: &AccountId,
    input: BulkInput<'_>,
) -> Result<StagedBatch, BulkError> {
    let Some(account) = app.account(account_id).await? else {
        return Err(Failure::Inconsistent(format!("account {account_id} does not exist")).into());
    };
    let default_language = account
        .language()
        .cloned()
        .unwrap_or_else(Language::english);
    let mut options = input.options;
    resolve_languages(app, &mut options, input.language, &default_language);
    let language_credits = CreditCost::languages(options.extra_languages.len());
    if let Some(url) = &input.webhook_url {
        app.intake
            .outbound()
            .check_url(url)
            .map_err(BulkError::WebhookUrl)?;
    }

    let mut staged = StagedBatch {
        account_id: account_id.clone(),
        items: Vec::with_capacity(input.items.len()),
        options,
        needs_webhook_secret: input.webhook_url.is_some() && account.webhook_secret().is_none(),
        webhook_url: input.webhook_url,
        regenerate: input.regenerate,
        held: HeldImages {
            queue: app.queue.clone(),
            job_ids: Vec::new(),
        },
        at: app.clock.now(),
    };
    for (index, item) in input.items.into_iter().enumerate() {
        let job_id = ids::job_id();
        let image = match stage_image(app, &job_id, item.source, staged.at).await {
            Ok(image) => image,
            Err(source) => {
                staged.held.forget().await;
                return Err(match source {
                    Staging::Refused(source) => BulkError::Image { index, source },
                    Staging::Failed(failure) => BulkError::Failure(failure),
                });
            }
        };
        if image.inline.is_some() {
            staged.held.job_ids.push(job_id.clone());
        }
        // A URL's format is known only once fetched: 1 credit now, topped up if needed.
        let format_cost = image.inline.as_ref().map_or(1, |i| i.format.credit_cost());
        let cost = CreditCost {
            format: format_cost,
            language: language_credits,
        };
        staged.items.push(BatchItem {
            job_id,
            reservation_id: ids::reservation_id(),
            credits: cost.total(),
            image_url: image.url,
            inline_image: image.inline,
            page_url: item.page_url,
            page_context: item.page_context,
            product: item.product,
            role: item.role,
            link_url: item.link_url,
        });
    }
    Ok(staged)
}

/// An item's image once staged: a URL (checked, fetched later) or an inline image held.
struct StagedImage {
    url: Option<String>,
    inline: Option<ImageRef>,
}

enum Staging {
    /// The item's own fault.
    Refused(IntakeError),
    /// Ours.
    Failed(Failure),
}

impl From<IntakeError> for Staging {
    fn from(e: IntakeError) -> Staging {
        if e.is_ours() {
            Staging::Failed(Failure::Intake(e))
        } else {
            Staging::Refused(e)
        }
    }
}

/// Checks a URL, or decodes, inspects and stores an inline image; its bytes are dropped here.
async fn stage_image(
    app: &App,
    job_id: &JobId,
    source: ImageSource<'_>,
    at: DateTime<Utc>,
) -> Result<StagedImage, Staging> {
    let data = match source {
        ImageSource::Url(url) => {
            app.intake
                .outbound()
                .check_url(&url)
                .map_err(|e| Staging::Refused(IntakeError::Fetch(e)))?;
            return Ok(StagedImage {
                url: Some(url),
                inline: None,
            });
        }
        ImageSource::Base64(data) => data,
    };
    let config = app.intake.config().clone();
    let bytes = decode_base64(&data, config.max_bytes)?;
    drop(data);
    let (bytes, image) = tokio::task::spawn_blocking(move || {
        let image = inspect_bytes(None, &bytes, &config);
        (bytes, image)
    })
    .await
    .map_err(|e| Staging::from(IntakeError::from_decoder_task(e, None)))?;
    let image = image?;
    app.queue
        .hold_image(job_id, &bytes, at)
        .await
        .map_err(|e| Staging::Failed(e.into()))?;
    Ok(StagedImage {
        url: None,
        inline: Some(image),
    })
}

/// Reserves the credits of every item at once and records the batch. A refusal (402, or a
/// failure of ours) deletes the held images.
#[tracing::instrument(skip_all, fields(account_id = %staged.account_id, images = staged.items.len()))]
pub async fn submit(app: &App, staged: StagedBatch) -> Result<BulkAccepted, BulkError> {
    let StagedBatch {
        account_id,
        items,
        options,
        webhook_url,
        regenerate,
        needs_webhook_secret,
        held,
        at: now,
    } = staged;
    if needs_webhook_secret {
        let secret = AccountCommand::RotateWebhookSecret {
            secret: ids::webhook_secret(),
            at: now,
        };
        if let Err(e) = app.store.accounts.execute(&account_id, secret).await {
            held.forget().await;
            return Err(Failure::from(e).into());
        }
    }

    let reservations = items
        .iter()
        .map(|i| ReservationRequest {
            reservation_id: i.reservation_id.clone(),
            purpose: i.job_id.to_string(),
            credits: i.credits,
        })
        .collect();
    let reserve = AccountCommand::ReserveBatchCredits {
        reservations,
        at: now,
    };
    match app.store.accounts.execute(&account_id, reserve).await {
        Ok(_) => {}
        Err(CommandError::Rejected(AccountError::InsufficientCredits { needed, remaining })) => {
            held.forget().await;
            return Err(BulkError::InsufficientCredits { needed, remaining });
        }
        Err(e) => {
            held.forget().await;
            return Err(Failure::from(e).into());
        }
    }

    let batch_id = ids::batch_id();
    let total_images = items.len();
    let credits_reserved = items.iter().map(|i| i.credits).sum();
    let submit = BatchCommand::SubmitBatch {
        batch_id: batch_id.clone(),
        account_id,
        items,
        options: Box::new(options),
        webhook_url,
        regenerate,
        at: now,
    };
    // Recording the batch hands its images over: were this request abandoned while the batch
    // is being recorded, they must stay for it.
    let job_ids = held.hand_over();
    if let Err(e) = app.store.batches.execute(&batch_id, submit).await {
        // The reservations are released by the timeout for reservations nothing settles.
        drop_images(&app.queue, &job_ids).await;
        return Err(Failure::from(e).into());
    }
    app.events_committed();
    // The status URL answers at once: bring the read models up to this batch.
    app.read_your_writes().await;

    Ok(BulkAccepted {
        estimated_seconds: estimate_seconds(app, total_images).await,
        batch_id,
        total_images,
        credits_reserved,
    })
}

/// Recent real processing times × the rounds of work at the workers' concurrency.
async fn estimate_seconds(app: &App, items: usize) -> u64 {
    let mean_ms = jobs::recent_mean_processing_ms(&app.store.db, 50)
        .await
        .ok()
        .flatten()
        .unwrap_or(DEFAULT_ITEM_MS);
    let concurrency = app.bulk_concurrency.max(1);
    let rounds = items.div_ceil(concurrency) as f64;
    ((rounds * mean_ms) / 1000.0).ceil().max(1.0) as u64
}
