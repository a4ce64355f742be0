//! Submitting a batch: validate every item, hold inline images, reserve all credits at once,
//! record the batch. The process manager does the rest.
use altframe_domain::account::{AccountCommand, AccountError, ReservationRequest};
use altframe_domain::batch::{BatchCommand, BatchItem};
use altframe_domain::credits::CreditCost;
use altframe_domain::generation::{GenerationOptions, Language, Product};
use altframe_domain::image::ImageRef;
use altframe_domain::Credits;
use altframe_projections::{jobs, work};

use crate::app::App;
use crate::ids;
use crate::image::{decode_base64, inspect_bytes, ImageSource, IntakeError};
use crate::outbound::FetchError;
use crate::service::generate::resolve_language;
use crate::store::CommandError;
use crate::subscriber::Subscriber;

/// One image of a bulk request, validated.
#[derive(Debug, Clone)]
pub struct BulkItemInput {
    pub source: ImageSource,
    pub page_url: Option<String>,
    pub page_context: Option<String>,
    pub product: Product,
}

#[derive(Debug, Clone)]
pub struct BulkInput {
    pub items: Vec<BulkItemInput>,
    pub language: Option<Language>,
    /// Batch-wide options; per-item context lives in the items.
    pub options: GenerationOptions,
    pub webhook_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct BulkAccepted {
    pub batch_id: String,
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
    #[error("{0}")]
    Internal(String),
}

fn internal(e: impl std::fmt::Display) -> BulkError {
    BulkError::Internal(e.to_string())
}

/// How long a submission waits for read models to show its batch.
const READ_YOUR_WRITES: std::time::Duration = std::time::Duration::from_secs(2);

/// How long one item takes when nothing has been measured yet.
const DEFAULT_ITEM_MS: f64 = 2_000.0;

#[tracing::instrument(skip(app, input), fields(account_id = %account_id, images = input.items.len()))]
pub async fn submit(
    app: &App,
    account_id: &str,
    input: BulkInput,
) -> Result<BulkAccepted, BulkError> {
    let account = app
        .store
        .accounts
        .load(account_id)
        .await
        .map_err(internal)?;
    let Some(default_language) = account.language().cloned() else {
        return Err(internal(format!("account {account_id} does not exist")));
    };
    let (language, additional) = resolve_language(app, input.language, &default_language);
    let mut options = input.options;
    options.language = language;
    if let Some(url) = &input.webhook_url {
        app.intake
            .outbound()
            .check_url(url)
            .map_err(BulkError::WebhookUrl)?;
    }

    // Validate every item before anything is written.
    let mut inline: Vec<Option<Vec<u8>>> = Vec::with_capacity(input.items.len());
    let mut refs: Vec<Option<ImageRef>> = Vec::with_capacity(input.items.len());
    for (index, item) in input.items.iter().enumerate() {
        let err = |source| BulkError::Image { index, source };
        match &item.source {
            ImageSource::Url(url) => {
                app.intake
                    .outbound()
                    .check_url(url)
                    .map_err(|e| err(IntakeError::Fetch(e)))?;
                inline.push(None);
                refs.push(None);
            }
            ImageSource::Base64(data) => {
                let config = app.intake.config().clone();
                let bytes = decode_base64(data, config.max_bytes).map_err(err)?;
                let (bytes, image) = tokio::task::spawn_blocking(move || {
                    let image = inspect_bytes(None, &bytes, &config);
                    (bytes, image)
                })
                .await
                .map_err(internal)?;
                refs.push(Some(image.map_err(err)?));
                inline.push(Some(bytes));
            }
        }
    }

    let batch_id = uuid::Uuid::new_v4().to_string();
    let items: Vec<BatchItem> = input
        .items
        .into_iter()
        .zip(refs)
        .map(|(item, image)| {
            // A URL's format is known only once fetched: 1 credit now, topped up if needed.
            let format_cost = image.as_ref().map_or(1, |i| i.format.credit_cost());
            let cost = CreditCost {
                format: format_cost,
                language: u32::from(additional),
            };
            let image_url = match item.source {
                ImageSource::Url(url) => Some(url),
                ImageSource::Base64(_) => None,
            };
            BatchItem {
                job_id: ids::job_id(),
                reservation_id: ids::reservation_id(),
                credits: cost.total(),
                image_url,
                inline_image: image,
                page_url: item.page_url,
                page_context: item.page_context,
                product: item.product,
            }
        })
        .collect();

    let now = app.clock.now();
    let held: Vec<String> = items
        .iter()
        .zip(&inline)
        .filter_map(|(item, bytes)| bytes.as_ref().map(|_| item.job_id.clone()))
        .collect();
    for (item, bytes) in items.iter().zip(&inline) {
        if let Some(bytes) = bytes {
            work::store_image(&app.store.db, &item.job_id, bytes, now)
                .await
                .map_err(internal)?;
        }
    }
    let forget_images = || async {
        if let Err(e) = work::delete_images(&app.store.db, &held).await {
            tracing::error!(error = %e, "could not delete the images of a refused batch");
        }
    };

    if input.webhook_url.is_some() && account.webhook_secret().is_none() {
        let secret = AccountCommand::RotateWebhookSecret {
            secret: ids::webhook_secret(),
            at: now,
        };
        if let Err(e) = app.store.accounts.execute(account_id, secret).await {
            forget_images().await;
            return Err(internal(e));
        }
    }

    let reservations = items
        .iter()
        .map(|i| ReservationRequest {
            reservation_id: i.reservation_id.clone(),
            purpose: i.job_id.clone(),
            credits: i.credits,
        })
        .collect();
    let reserve = AccountCommand::ReserveBatchCredits {
        reservations,
        at: now,
    };
    match app.store.accounts.execute(account_id, reserve).await {
        Ok(_) => {}
        Err(CommandError::Rejected(AccountError::InsufficientCredits { needed, remaining })) => {
            forget_images().await;
            return Err(BulkError::InsufficientCredits { needed, remaining });
        }
        Err(e) => {
            forget_images().await;
            return Err(internal(e));
        }
    }

    let total_images = items.len();
    let credits_reserved = items.iter().map(|i| i.credits).sum();
    let submit = BatchCommand::SubmitBatch {
        batch_id: batch_id.clone(),
        account_id: account_id.to_string(),
        items,
        options: Box::new(options),
        webhook_url: input.webhook_url,
        at: now,
    };
    if let Err(e) = app.store.batches.execute(&batch_id, submit).await {
        // The reservations are released by the timeout for reservations nothing settles.
        forget_images().await;
        return Err(internal(e));
    }
    app.events_committed();
    // The status URL answers at once: bring the read models up to this batch.
    if let Err(e) = app.projector.catch_up_fully(READ_YOUR_WRITES).await {
        tracing::warn!(error = %e, "read models are behind");
    }

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
