//! The generation cache: the same image bytes with the same options, for the same account and
//! model, within the cache's window (`ALTFRAME_CACHE_DAYS`), are answered with the stored
//! result, as a new job charged nothing. See docs/decisions/0015-generation-cache.md.
//!
//! The cache is the jobs read model: a job that may be reused records its key in its
//! `JobRequested`, and the projector copies it into its row; the lookup finds the account's
//! newest completed job under the key. Being a read model, it is shared by every process on
//! one database, and rebuilt from the events like the rest.
use std::collections::BTreeMap;
use std::time::Instant;

use altframe_domain::generation::{GeneratedText, GenerationOptions, Language};
use altframe_domain::image::ImageRef;
use altframe_domain::job::{BulkItemRef, Generation, JobCommand, Source, Tokens};
use altframe_domain::{AccountId, JobId, Micros};
use altframe_projections::jobs::{self, JobRow};
use altframe_projections::timestamp;
use altframe_projections::work::QueuedItem;
use sha2::{Digest, Sha256};

use super::accounts::Requester;
use super::generate::GenerateOutcome;
use super::{App, Failure};
use crate::adapters::ids;
use crate::adapters::image::PreparedImage;
use crate::adapters::store::CommandError;

/// Bumped when what goes into a key changes, so that no old key matches a new request.
const KEY_VERSION: &str = "altframe-cache-1";

/// The key a generation's result is kept under: the account, the image's SHA-256, the model
/// and every option (the context included), hashed. `None` when the result may not be reused:
/// a judgement of the page's alt text (`validate`'s `check_match`) is not kept in history, so
/// it could not be answered again.
pub(super) fn key(
    app: &App,
    account_id: &AccountId,
    image: &ImageRef,
    options: &GenerationOptions,
) -> Option<String> {
    if options.judge_alt_text.is_some() {
        return None;
    }
    // The options' JSON is their canonical form: fields in declaration order, maps sorted,
    // additions left out while unused (so a new option does not change the keys of requests
    // that do not use it).
    let options = serde_json::to_string(options).ok()?;
    let mut hash = Sha256::new();
    for part in [
        KEY_VERSION,
        account_id.as_str(),
        &image.sha256,
        app.model(),
        &options,
    ] {
        hash.update(part.len().to_be_bytes());
        hash.update(part.as_bytes());
    }
    Some(hex::encode(hash.finalize()))
}

/// How fresh the read model must be for a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freshness {
    /// Catch the read models up first, so that a result completed a moment ago (by this
    /// process or another) is found: a client that repeats a request expects its answer.
    ReadYourWrites,
    /// As projected now. A bulk worker's catch-up would wait on every other worker's writes;
    /// an entry seconds old that it misses costs one generation.
    AsProjected,
}

/// One generation offered to the cache: the account's, of this image, with these options.
struct Offer<'a> {
    account_id: &'a AccountId,
    image: &'a PreparedImage,
    options: &'a GenerationOptions,
}

impl Offer<'_> {
    /// The stored result: the account's newest completed job under the offer's key within
    /// the window. `None` when the cache is off, the result may not be reused, or there is
    /// none.
    async fn lookup(&self, app: &App, freshness: Freshness) -> Result<Option<Entry>, Failure> {
        if app.cache_days == 0 {
            return Ok(None);
        }
        let Some(key) = key(app, self.account_id, &self.image.reference, self.options) else {
            return Ok(None);
        };
        if freshness == Freshness::ReadYourWrites {
            app.read_your_writes().await;
        }
        let since = app.clock.now() - chrono::Duration::days(i64::from(app.cache_days));
        let account = self.account_id.as_str();
        let found = jobs::cached(&app.store.db, account, &key, &timestamp(since)).await?;
        Ok(found.and_then(|row| Entry::read(row, self.options)))
    }

    /// The command that answers a job with `entry`'s result, as `generation`.
    fn answer(
        &self,
        app: &App,
        source: Source,
        bulk_item: Option<BulkItemRef>,
        entry: &Entry,
        generation: Generation,
    ) -> JobCommand {
        JobCommand::AnswerFromCache {
            account_id: self.account_id.clone(),
            source,
            bulk_item,
            image: self.image.reference.clone(),
            options: Box::new(self.options.clone()),
            cached_from: entry.job_id.clone(),
            generation,
            at: app.clock.now(),
        }
    }
}

/// Answers the generation from the cache when an earlier job of the account's completed it
/// within the window: records a new job with that job's result, charged nothing, and returns
/// it. `None` when the cache is off or has no entry; the caller then generates.
pub(super) async fn answer(
    app: &App,
    requester: &Requester,
    source: Source,
    image: &PreparedImage,
    options: &GenerationOptions,
    started: Instant,
) -> Result<Option<GenerateOutcome>, Failure> {
    let account_id = &requester.account_id;
    let offer = Offer {
        account_id,
        image,
        options,
    };
    let Some(entry) = offer.lookup(app, Freshness::ReadYourWrites).await? else {
        return Ok(None);
    };
    let job_id = ids::job_id();
    let generation = entry.generation(started);
    let command = offer.answer(app, source, None, &entry, generation.clone());
    app.store.jobs.execute_new(&job_id, command).await?;
    let credits_remaining = app.credits_remaining(account_id).await?;
    tracing::debug!(%job_id, cached_from = %entry.job_id, "answered from the cache");
    Ok(Some(GenerateOutcome {
        job_id,
        results: generation.results,
        translations: generation.translations,
        failed_languages: Vec::new(),
        language: options.language.clone(),
        model: generation.model,
        tokens: generation.tokens,
        processing_ms: generation.processing_ms,
        credits_used: 0,
        credits_remaining,
        judgement: None,
        cached_from: Some(entry.job_id),
    }))
}

/// What became of a bulk item offered to the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ItemAnswer {
    /// Answered: its job is complete, and its reservation is released by the process manager.
    Answered,
    /// No entry: the item is generated.
    Miss,
    /// Another worker requested or finished the job first.
    TakenOver,
}

/// Answers a bulk item that has not started from the cache, when an entry exists: its job
/// (the id its batch gave it) completes with the entry's result, naming its batch and its
/// reservation so that the item is recorded on the batch and its credits released.
pub(super) async fn answer_item(
    app: &App,
    job_id: &JobId,
    item: &QueuedItem,
    image: &PreparedImage,
    options: &GenerationOptions,
    started: Instant,
) -> Result<ItemAnswer, Failure> {
    let offer = Offer {
        account_id: &item.account_id,
        image,
        options,
    };
    let Some(entry) = offer.lookup(app, Freshness::AsProjected).await? else {
        return Ok(ItemAnswer::Miss);
    };
    let bulk_item = BulkItemRef {
        batch_id: item.batch_id.clone(),
        reservation_id: item.item.reservation_id.clone(),
    };
    let generation = entry.generation(started);
    let command = offer.answer(app, Source::Bulk, Some(bulk_item), &entry, generation);
    match app.store.jobs.execute(job_id, command).await {
        Ok(_) => {
            tracing::debug!(%job_id, cached_from = %entry.job_id, "bulk item answered from the cache");
            Ok(ItemAnswer::Answered)
        }
        Err(CommandError::Rejected(_)) => Ok(ItemAnswer::TakenOver),
        Err(e) => Err(e.into()),
    }
}

/// A cached result, as read back from its job's row.
struct Entry {
    job_id: JobId,
    results: GeneratedText,
    translations: BTreeMap<Language, GeneratedText>,
    model: String,
}

impl Entry {
    /// `None` (a miss) when the row cannot be read back whole; the request then generates.
    fn read(row: JobRow, options: &GenerationOptions) -> Option<Entry> {
        let results = serde_json::from_str(row.results.as_deref()?).ok()?;
        let translations: BTreeMap<Language, GeneratedText> = match row.translations.as_deref() {
            Some(json) => serde_json::from_str(json).ok()?,
            None => BTreeMap::new(),
        };
        // Every requested language was delivered (the lookup asks for it); a row that says
        // otherwise is not used.
        if translations.len() != options.extra_languages.len() {
            tracing::warn!(job_id = %row.id, "a cached result lacks translations; not used");
            return None;
        }
        Some(Entry {
            job_id: JobId::new(row.id),
            results,
            translations,
            model: row.model?,
        })
    }

    /// The entry as a new job's generation: its text and model; no tokens, no cost, and the
    /// new request's own processing time.
    fn generation(&self, started: Instant) -> Generation {
        Generation {
            results: self.results.clone(),
            translations: self.translations.clone(),
            failed_languages: Vec::new(),
            model: self.model.clone(),
            tokens: Tokens::default(),
            processing_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            cost: Micros::ZERO,
            judgement: None,
        }
    }
}
