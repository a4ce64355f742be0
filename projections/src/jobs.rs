//! Job history: every job of an account, bulk items from their submission on.
use altframe_domain::batch::BatchEvent;
use altframe_domain::generation::GenerationOptions;
use altframe_domain::job::{Generation, JobEvent, Source};
use altframe_domain::AccountId;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::staged::StagedRow;
use crate::{on_db, timestamp, Arg, Db, Round, Tx};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub account_id: String,
    pub status: String,
    pub image_url: Option<String>,
    /// The generated text as JSON, with only the requested fields.
    pub results: Option<String>,
    pub mode: String,
    pub language: String,
    pub model: Option<String>,
    pub tokens_input: Option<i64>,
    pub tokens_output: Option<i64>,
    pub processing_ms: Option<i64>,
    pub cost_micros: Option<i64>,
    /// Credits reserved, and from completion those charged.
    pub credits: i64,
    /// The part of `credits` charged for languages beyond the first.
    pub language_credits: i64,
    /// The text in each other language delivered, as JSON keyed by language.
    pub translations: Option<String>,
    /// The languages not delivered, as a JSON array.
    pub failed_languages: Option<String>,
    pub source: String,
    pub batch_id: Option<String>,
    pub batch_index: Option<i64>,
    pub error: Option<String>,
    pub created_at: String,
    pub completed_at: Option<String>,
    /// The generation cache's key of a job whose result may be reused.
    pub cache_key: Option<String>,
    /// For a job answered from the generation cache: the job whose result it is.
    pub cached_from: Option<String>,
}

impl StagedRow for JobRow {
    const TABLE: &'static str = "jobs";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "account_id",
        "status",
        "image_url",
        "results",
        "mode",
        "language",
        "model",
        "tokens_input",
        "tokens_output",
        "processing_ms",
        "cost_micros",
        "credits",
        "language_credits",
        "translations",
        "failed_languages",
        "source",
        "batch_id",
        "batch_index",
        "error",
        "created_at",
        "completed_at",
        "cache_key",
        "cached_from",
    ];
    const TYPES: &'static [&'static str] = &[
        "text", "text", "text", "text", "text", "text", "text", "text", "bigint", "bigint",
        "bigint", "bigint", "bigint", "bigint", "text", "text", "text", "text", "bigint", "text",
        "text", "text", "text", "text",
    ];

    fn key(&self) -> &str {
        &self.id
    }

    fn values(&self) -> Vec<Arg> {
        vec![
            self.id.clone().into(),
            self.account_id.clone().into(),
            self.status.clone().into(),
            self.image_url.clone().into(),
            self.results.clone().into(),
            self.mode.clone().into(),
            self.language.clone().into(),
            self.model.clone().into(),
            Arg::OptInt(self.tokens_input),
            Arg::OptInt(self.tokens_output),
            Arg::OptInt(self.processing_ms),
            Arg::OptInt(self.cost_micros),
            self.credits.into(),
            self.language_credits.into(),
            self.translations.clone().into(),
            self.failed_languages.clone().into(),
            self.source.clone().into(),
            self.batch_id.clone().into(),
            Arg::OptInt(self.batch_index),
            self.error.clone().into(),
            self.created_at.clone().into(),
            self.completed_at.clone().into(),
            self.cache_key.clone().into(),
            self.cached_from.clone().into(),
        ]
    }
}

/// Whether the event makes the job's row: a synchronous job's request or answer from the
/// cache, its aggregate's first event. (A bulk item's row is made by its batch's submission,
/// before its request.)
pub(crate) fn creates_row(event: &JobEvent) -> bool {
    matches!(
        event,
        JobEvent::JobRequested { batch_id: None, .. }
            | JobEvent::JobAnsweredFromCache {
                bulk_item: None,
                ..
            }
    )
}

pub(crate) async fn apply_job(
    tx: &mut Tx,
    round: &mut Round,
    id: &str,
    event: &JobEvent,
) -> Result<(), sqlx::Error> {
    match event {
        JobEvent::JobRequested {
            account_id,
            source,
            batch_id,
            image,
            options,
            credits,
            cache_key,
            at,
            ..
        } => {
            let language = options.language.as_str().to_string();
            // A bulk item already has its row (pending since submission): it starts now.
            let started = !creates_row(event)
                && round
                    .jobs
                    .update(tx, id, |row| {
                        row.status = "processing".into();
                        row.credits = i64::from(*credits);
                        row.language = language.clone();
                        row.cache_key = cache_key.clone();
                    })
                    .await?;
            if !started {
                round.jobs.create(JobRow {
                    credits: i64::from(*credits),
                    batch_id: batch_id.as_ref().map(ToString::to_string),
                    cache_key: cache_key.clone(),
                    ..JobRow::requested(id, account_id, *source, image.url.clone(), options, *at)
                });
            }
        }
        JobEvent::JobAnsweredFromCache {
            account_id,
            source,
            bulk_item,
            image,
            options,
            cached_from,
            generation,
            at,
            ..
        } => {
            let answered = |row: &mut JobRow| {
                complete(row, generation, *at);
                row.credits = 0;
                row.cached_from = Some(cached_from.to_string());
            };
            // A bulk item already has its row, pending since its batch's submission (earlier
            // in the same feed, as for `JobCompleted`): it is answered.
            if bulk_item.is_some() {
                round.jobs.update(tx, id, answered).await?;
                return Ok(());
            }
            let mut row =
                JobRow::requested(id, account_id, *source, image.url.clone(), options, *at);
            answered(&mut row);
            round.jobs.create(row);
        }
        JobEvent::JobCompleted {
            generation,
            charge,
            at,
            ..
        } => {
            round
                .jobs
                .update(tx, id, |row| {
                    complete(row, generation, *at);
                    row.credits -= i64::from(charge.unused);
                    row.language_credits = i64::from(charge.language_credits);
                })
                .await?;
        }
        JobEvent::JobFailed { error, at, .. } => {
            round
                .jobs
                .update(tx, id, |row| {
                    row.status = "failed".into();
                    row.error = Some(error.clone());
                    row.completed_at = Some(timestamp(*at));
                })
                .await?;
        }
    }
    Ok(())
}

impl JobRow {
    /// A job's row as its request makes it: processing, nothing generated or charged yet.
    fn requested(
        id: &str,
        account_id: &AccountId,
        source: Source,
        image_url: Option<String>,
        options: &GenerationOptions,
        at: DateTime<Utc>,
    ) -> JobRow {
        JobRow {
            id: id.to_string(),
            account_id: account_id.to_string(),
            status: "processing".into(),
            image_url,
            results: None,
            mode: options.mode.as_str().to_string(),
            language: options.language.as_str().to_string(),
            model: None,
            tokens_input: None,
            tokens_output: None,
            processing_ms: None,
            cost_micros: None,
            credits: 0,
            language_credits: 0,
            translations: None,
            failed_languages: None,
            source: source.as_str().to_string(),
            batch_id: None,
            batch_index: None,
            error: None,
            created_at: timestamp(at),
            completed_at: None,
            cache_key: None,
            cached_from: None,
        }
    }
}

/// Marks the row completed with `generation`'s text and figures; its credits are the caller's.
fn complete(row: &mut JobRow, generation: &Generation, at: DateTime<Utc>) {
    fn json(value: &impl Serialize) -> String {
        serde_json::to_string(value).unwrap_or_default()
    }
    row.status = "completed".into();
    row.results = Some(json(&generation.results));
    row.translations =
        (!generation.translations.is_empty()).then(|| json(&generation.translations));
    row.failed_languages =
        (!generation.failed_languages.is_empty()).then(|| json(&generation.failed_languages));
    row.model = Some(generation.model.clone());
    row.tokens_input = Some(i64::from(generation.tokens.input));
    row.tokens_output = Some(i64::from(generation.tokens.output));
    row.processing_ms = Some(i64::try_from(generation.processing_ms).unwrap_or(i64::MAX));
    row.cost_micros = Some(generation.cost.0);
    row.completed_at = Some(timestamp(at));
}

pub(crate) fn apply_batch(round: &mut Round, event: &BatchEvent) {
    if let BatchEvent::BatchSubmitted {
        batch_id,
        account_id,
        items,
        options,
        at,
        ..
    } = event
    {
        for (index, item) in items.iter().enumerate() {
            let row = JobRow::requested(
                item.job_id.as_str(),
                account_id,
                Source::Bulk,
                item.image_url.clone(),
                options,
                *at,
            );
            round.jobs.put(JobRow {
                status: "pending".into(),
                credits: i64::from(item.credits),
                batch_id: Some(batch_id.to_string()),
                batch_index: Some(index as i64),
                ..row
            });
        }
    }
}

const COLUMNS: &str =
    "id, account_id, status, image_url, results, mode, language, model, tokens_input, \
    tokens_output, processing_ms, cost_micros, credits, language_credits, translations, \
    failed_languages, source, batch_id, batch_index, error, created_at, completed_at, cache_key, \
    cached_from";

/// A batch's items in submission order.
pub async fn for_batch(db: &Db, batch_id: &str) -> Result<Vec<JobRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE batch_id = $1 ORDER BY batch_index");
    on_db!(db, pool => sqlx::query_as::<_, JobRow>(&sql).bind(batch_id).fetch_all(pool).await)
}

pub async fn find(db: &Db, id: &str) -> Result<Option<JobRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
    on_db!(db, pool => sqlx::query_as::<_, JobRow>(&sql).bind(id).fetch_optional(pool).await)
}

/// The generation cache's entry: the account's newest job completed under `cache_key` since
/// `since`, with every requested language delivered. A job answered from the cache is never
/// an entry itself (it has no key); the job it reused is.
pub async fn cached(
    db: &Db,
    account_id: &str,
    cache_key: &str,
    since: &str,
) -> Result<Option<JobRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM jobs
          WHERE account_id = $1 AND cache_key = $2 AND completed_at >= $3
            AND status = 'completed' AND failed_languages IS NULL
          ORDER BY completed_at DESC, id DESC LIMIT 1"
    );
    on_db!(db, pool => sqlx::query_as::<_, JobRow>(&sql)
        .bind(account_id)
        .bind(cache_key)
        .bind(since)
        .fetch_optional(pool)
        .await)
}

/// Mean processing time of the most recent completed jobs, for batch estimates.
pub async fn recent_mean_processing_ms(db: &Db, sample: i64) -> Result<Option<f64>, sqlx::Error> {
    let sql =
        "SELECT CAST(AVG(processing_ms) AS DOUBLE PRECISION) FROM (SELECT processing_ms FROM jobs
                WHERE status = 'completed' AND processing_ms IS NOT NULL
                ORDER BY completed_at DESC LIMIT $1) AS recent";
    on_db!(db, pool => sqlx::query_scalar::<_, Option<f64>>(sql).bind(sample).fetch_one(pool).await)
}

/// One page of an account's history, newest first, and how many jobs match in all.
pub async fn page(
    db: &Db,
    account_id: &str,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<JobRow>, i64), sqlx::Error> {
    // An empty status means every status.
    let filter = "AND ($2 = '' OR status = $2)";
    let status = status.unwrap_or("");
    let rows_sql = format!(
        "SELECT {COLUMNS} FROM jobs WHERE account_id = $1 {filter}
          ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    );
    let count_sql = format!("SELECT COUNT(*) FROM jobs WHERE account_id = $1 {filter}");
    on_db!(db, pool => {
        let rows = sqlx::query_as::<_, JobRow>(&rows_sql)
            .bind(account_id)
            .bind(status)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total: i64 = sqlx::query_scalar(&count_sql)
            .bind(account_id)
            .bind(status)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    })
}

/// Credits of the account's completed jobs per day (UTC, `YYYY-MM-DD`) from `since`, oldest
/// day first; days without any are left out.
pub async fn credits_per_day(
    db: &Db,
    account_id: &str,
    since: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let sql = "SELECT substr(completed_at, 1, 10) AS day, CAST(SUM(credits) AS BIGINT)
                 FROM jobs
                WHERE account_id = $1 AND status = 'completed' AND completed_at >= $2
                GROUP BY substr(completed_at, 1, 10) ORDER BY day";
    on_db!(db, pool => sqlx::query_as::<_, (String, i64)>(sql)
        .bind(account_id)
        .bind(since)
        .fetch_all(pool)
        .await)
}

/// What the account's completed jobs since `since` hold beyond their total: the credits
/// validation's judgements and suggestions used, and how many answers the generation cache
/// gave at no charge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct PeriodCounts {
    pub validate_credits: i64,
    pub cached_answers: i64,
}

pub async fn period_counts(
    db: &Db,
    account_id: &str,
    since: &str,
) -> Result<PeriodCounts, sqlx::Error> {
    let sql = "SELECT CAST(COALESCE(SUM(CASE WHEN source = 'validate' THEN credits ELSE 0 END), 0)
                          AS BIGINT) AS validate_credits,
                      CAST(COALESCE(SUM(CASE WHEN cached_from IS NOT NULL THEN 1 ELSE 0 END), 0)
                          AS BIGINT) AS cached_answers
                 FROM jobs
                WHERE account_id = $1 AND status = 'completed' AND completed_at >= $2";
    on_db!(db, pool => sqlx::query_as::<_, PeriodCounts>(sql)
        .bind(account_id)
        .bind(since)
        .fetch_one(pool)
        .await)
}
