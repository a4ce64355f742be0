//! Job history: every job of an account, bulk items from their submission on.
use altframe_domain::batch::BatchEvent;
use altframe_domain::job::{JobEvent, Source};
use serde::Serialize;

use crate::{on_db, timestamp, Arg, Db, Tx};

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
    pub credits: i64,
    pub source: String,
    pub batch_id: Option<String>,
    pub batch_index: Option<i64>,
    pub error: Option<String>,
    pub created_at: String,
    pub completed_at: Option<String>,
}

pub fn source_name(s: Source) -> &'static str {
    match s {
        Source::Api => "api",
        Source::Bulk => "bulk",
        Source::Dashboard => "dashboard",
    }
}

pub(crate) async fn apply_job(tx: &mut Tx, id: &str, event: &JobEvent) -> Result<(), sqlx::Error> {
    match event {
        JobEvent::JobRequested {
            account_id,
            source,
            batch_id,
            image,
            options,
            credits,
            at,
            ..
        } => {
            // A bulk item already has its row (pending since submission): it starts now.
            let updated = tx
                .execute(
                    "UPDATE jobs SET status = 'processing', credits = $1, language = $2 WHERE id = $3",
                    vec![Arg::Int(i64::from(*credits)), options.language.as_str().into(), id.into()],
                )
                .await?;
            if updated == 0 {
                tx.execute(
                    "INSERT INTO jobs (id, account_id, status, image_url, mode, language, credits,
                                       source, batch_id, created_at)
                     VALUES ($1, $2, 'processing', $3, $4, $5, $6, $7, $8, $9)",
                    vec![
                        id.into(),
                        account_id.clone().into(),
                        image.url.clone().into(),
                        options.mode.as_str().into(),
                        options.language.as_str().into(),
                        Arg::Int(i64::from(*credits)),
                        source_name(*source).into(),
                        batch_id.clone().into(),
                        timestamp(*at).into(),
                    ],
                )
                .await?;
            }
        }
        JobEvent::JobCompleted { generation, at, .. } => {
            let results = serde_json::to_string(&generation.results).unwrap_or_default();
            tx.execute(
                "UPDATE jobs SET status = 'completed', results = $1, model = $2, tokens_input = $3,
                        tokens_output = $4, processing_ms = $5, cost_micros = $6, completed_at = $7
                  WHERE id = $8",
                vec![
                    results.into(),
                    generation.model.clone().into(),
                    Arg::Int(i64::from(generation.tokens.input)),
                    Arg::Int(i64::from(generation.tokens.output)),
                    Arg::Int(i64::try_from(generation.processing_ms).unwrap_or(i64::MAX)),
                    Arg::Int(generation.cost.0),
                    timestamp(*at).into(),
                    id.into(),
                ],
            )
            .await?;
        }
        JobEvent::JobFailed { error, at, .. } => {
            tx.execute(
                "UPDATE jobs SET status = 'failed', error = $1, completed_at = $2 WHERE id = $3",
                vec![error.clone().into(), timestamp(*at).into(), id.into()],
            )
            .await?;
        }
    }
    Ok(())
}

pub(crate) async fn apply_batch(tx: &mut Tx, event: &BatchEvent) -> Result<(), sqlx::Error> {
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
            tx.execute(
                "INSERT INTO jobs (id, account_id, status, image_url, mode, language, credits, source,
                                   batch_id, batch_index, created_at)
                 VALUES ($1, $2, 'pending', $3, $4, $5, $6, 'bulk', $7, $8, $9)",
                vec![
                    item.job_id.clone().into(),
                    account_id.clone().into(),
                    item.image_url.clone().into(),
                    options.mode.as_str().into(),
                    options.language.as_str().into(),
                    Arg::Int(i64::from(item.credits)),
                    batch_id.clone().into(),
                    Arg::Int(index as i64),
                    timestamp(*at).into(),
                ],
            )
            .await?;
        }
    }
    Ok(())
}

const COLUMNS: &str = "id, account_id, status, image_url, results, mode, language, model, tokens_input, \
    tokens_output, processing_ms, cost_micros, credits, source, batch_id, batch_index, error, created_at, completed_at";

/// A batch's items in submission order.
pub async fn for_batch(db: &Db, batch_id: &str) -> Result<Vec<JobRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE batch_id = $1 ORDER BY batch_index");
    on_db!(db, pool => sqlx::query_as::<_, JobRow>(&sql).bind(batch_id).fetch_all(pool).await)
}

pub async fn find(db: &Db, id: &str) -> Result<Option<JobRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
    on_db!(db, pool => sqlx::query_as::<_, JobRow>(&sql).bind(id).fetch_optional(pool).await)
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
