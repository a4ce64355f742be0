//! What a batch looks like to its owner: the body of GET /api/v1/batches/{id}, and the
//! `batch.completed` webhook that shares its shape.
use std::collections::BTreeMap;

use altframe_domain::batch::BatchStatus;
use altframe_domain::generation::GeneratedText;
use altframe_projections::batches::BatchRow;
use altframe_projections::jobs::JobRow;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde_json::Value;

/// A job's text beyond the contract's `results`: there only when its request used
/// `languages` (our addition).
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct LanguageParts {
    /// The same fields in each other language delivered, keyed by language.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<BTreeMap<String, GeneratedText>>")]
    pub translations: Option<Value>,
    /// Languages the model did not deliver; they were not charged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_languages: Option<Vec<String>>,
}

impl LanguageParts {
    pub fn of(job: &JobRow) -> LanguageParts {
        LanguageParts {
            translations: job
                .translations
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok()),
            failed_languages: job
                .failed_languages
                .as_deref()
                .and_then(|f| serde_json::from_str(f).ok()),
        }
    }
}

/// One completed item, as in the contract's batch status and webhook.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ItemResult {
    pub id: String,
    pub image_url: Option<String>,
    #[schemars(with = "altframe_domain::generation::GeneratedText")]
    pub results: Value,
    #[serde(flatten)]
    pub languages: LanguageParts,
    /// Our addition: `true` when the item was answered from the generation cache, at no
    /// charge (its credits were released). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<ItemMeta>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ItemMeta {
    pub model: Option<String>,
    pub tokens: Tokens,
    pub processing_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "ItemTokens")]
pub struct Tokens {
    pub input: i64,
    pub output: i64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ItemError {
    pub id: String,
    pub image_url: Option<String>,
    pub error: String,
}

/// Splits a batch's items into results and errors, in submission order.
pub fn outcomes(items: &[JobRow], with_meta: bool) -> (Vec<ItemResult>, Vec<ItemError>) {
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for job in items {
        match job.status.as_str() {
            "completed" => results.push(ItemResult {
                id: job.id.clone(),
                image_url: job.image_url.clone(),
                results: job
                    .results
                    .as_deref()
                    .and_then(|r| serde_json::from_str(r).ok())
                    .unwrap_or(Value::Object(Default::default())),
                languages: LanguageParts::of(job),
                cached: job.cached_from.is_some().then_some(true),
                meta: with_meta.then(|| ItemMeta {
                    model: job.model.clone(),
                    tokens: Tokens {
                        input: job.tokens_input.unwrap_or(0),
                        output: job.tokens_output.unwrap_or(0),
                    },
                    processing_ms: job.processing_ms,
                }),
            }),
            "failed" => errors.push(ItemError {
                id: job.id.clone(),
                image_url: job.image_url.clone(),
                error: job.error.clone().unwrap_or_default(),
            }),
            _ => {}
        }
    }
    (results, errors)
}

/// A batch and its items' outcomes: the body of GET /api/v1/batches/{id}, and of the webhook
/// after its `event` field.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "BatchStatusResponse")]
pub struct BatchReport {
    pub batch_id: String,
    #[schemars(schema_with = "batch_status_schema")]
    pub status: String,
    pub total: i64,
    pub completed: i64,
    pub failed: i64,
    pub results: Vec<ItemResult>,
    pub errors: Vec<ItemError>,
}

/// The body of the `batch.completed` webhook.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BatchCompleted {
    #[schemars(schema_with = "batch_completed_schema")]
    pub event: &'static str,
    #[serde(flatten)]
    pub batch: BatchReport,
}

pub fn batch_completed(batch: &BatchRow, items: &[JobRow]) -> BatchCompleted {
    let (results, errors) = outcomes(items, false);
    BatchCompleted {
        event: "batch.completed",
        batch: BatchReport {
            batch_id: batch.id.clone(),
            status: batch.status.clone(),
            total: batch.total,
            completed: batch.completed,
            failed: batch.failed,
            results,
            errors,
        },
    }
}

fn batch_status_schema(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = BatchStatus::ALL.iter().map(|s| s.as_str()).collect();
    json_schema!({ "type": "string", "enum": names })
}

fn batch_completed_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "const": "batch.completed" })
}
