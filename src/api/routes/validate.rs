//! POST /api/v1/validate: our addition. What is wrong with an image's alt text, a score, and
//! on request a model's judgement and a suggested replacement.
use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use altframe_domain::generation::{bounded, limits, Fields, GeneratedText, Invalid};
use altframe_domain::validation::{Finding, Judgement};

use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::layers::auth::Caller;
use crate::api::openapi::schemas;
use crate::api::routes::generate::GenerateRequest;
use crate::api::ApiState;
use crate::usecases::validate::{validate, ValidateInput, ValidateOutcome};

/// An image (`image_url` or `image_base64`), the alt text its page gives it, and the same
/// context a generate request takes.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(transform = schemas::needs_an_image)]
pub struct ValidateRequest {
    /// The alt text as the page has it: absent or null when the `<img>` has no `alt`
    /// attribute, `""` when it is empty.
    #[schemars(schema_with = "schemas::alt_text")]
    pub alt_text: Option<String>,
    /// Write a replacement: one generation, charged like a generate of the image.
    pub suggest: Option<bool>,
    /// Ask the vision model whether the text matches the image (needs a model, not the
    /// builtin describer); with `suggest`, the same single generation.
    pub check_match: Option<bool>,
    #[schemars(schema_with = "schemas::image_url")]
    pub image_url: Option<String>,
    #[schemars(schema_with = "schemas::image_base64")]
    pub image_base64: Option<String>,
    #[schemars(schema_with = "schemas::mode")]
    pub mode: Option<String>,
    /// The page's language (ISO 639-1): a text in another language is a finding, and a
    /// suggestion is written in it. Defaults to the account's language.
    #[schemars(schema_with = "schemas::language")]
    pub language: Option<String>,
    #[schemars(schema_with = "schemas::keywords")]
    pub keywords: Option<Vec<String>>,
    #[schemars(schema_with = "schemas::negative_keywords")]
    pub negative_keywords: Option<Vec<String>>,
    /// The longest alt text that reads well; longer is a finding.
    #[schemars(schema_with = "schemas::max_length")]
    pub max_length: Option<i64>,
    #[schemars(schema_with = "schemas::url")]
    pub page_url: Option<String>,
    #[schemars(schema_with = "schemas::context")]
    pub page_context: Option<String>,
    #[schemars(schema_with = "schemas::product_text")]
    pub product_name: Option<String>,
    #[schemars(schema_with = "schemas::product_text")]
    pub product_sku: Option<String>,
    #[schemars(schema_with = "schemas::product_attributes")]
    pub product_attributes: Option<BTreeMap<String, String>>,
    /// The fields a suggestion writes. Defaults to `alt_text` only.
    #[schemars(schema_with = "schemas::fields")]
    pub fields: Option<Vec<String>>,
    #[schemars(schema_with = "schemas::context")]
    pub custom_prompt: Option<String>,
    #[schemars(schema_with = "schemas::role")]
    pub role: Option<String>,
    #[schemars(schema_with = "schemas::link_url")]
    pub link_url: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ValidateResponse {
    /// 100 when nothing is wrong; each finding costs points, down to 0.
    pub score: u8,
    /// What is wrong, in a fixed order; empty when nothing is.
    pub findings: Vec<Finding>,
    /// Whether the image is decorative (then its alt text should be `""`): the request's
    /// `decorative` mode, the model's verdict in `auto` mode when a model was asked, else the
    /// pixels and the role.
    pub decorative: bool,
    pub decorative_reason: String,
    /// With `suggest`: the replacement, in the fields asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<GeneratedText>,
    /// With `check_match`: the model's verdict on the text and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judgement: Option<Judgement>,
    pub meta: ValidateMeta,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ValidateMeta {
    /// The language the text was checked against.
    pub language: String,
    /// 0 unless a model was asked.
    pub credits_used: u32,
    pub credits_remaining: u32,
    /// The job that ran the model, as in history; absent when none ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The model asked; absent when none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl From<ValidateOutcome> for ValidateResponse {
    fn from(o: ValidateOutcome) -> Self {
        let run = o.model_run;
        ValidateResponse {
            score: o.score,
            findings: o.findings,
            decorative: o.decorative,
            decorative_reason: o.decorative_reason,
            suggestion: run.as_ref().and_then(|r| r.suggestion.clone()),
            judgement: run.as_ref().and_then(|r| r.judgement.clone()),
            meta: ValidateMeta {
                language: o.language.as_str().to_string(),
                credits_used: run.as_ref().map_or(0, |r| r.credits_used),
                credits_remaining: o.credits_remaining,
                job_id: run.as_ref().map(|r| r.job_id.to_string()),
                model: run.map(|r| r.model),
            },
        }
    }
}

impl ValidateRequest {
    /// Checks every field, the context through generate's own parsing so that both take and
    /// refuse the same values.
    pub fn parse(self) -> Result<ValidateInput, Invalid> {
        if let Some(alt) = &self.alt_text {
            bounded("alt_text", alt, limits::CONTEXT_CHARS)?;
        }
        let explicit_fields = self.fields.is_some();
        let context = GenerateRequest {
            image_url: self.image_url,
            image_base64: self.image_base64,
            mode: self.mode,
            language: self.language,
            languages: None,
            keywords: self.keywords,
            negative_keywords: self.negative_keywords,
            max_length: self.max_length,
            page_url: self.page_url,
            page_context: self.page_context,
            product_name: self.product_name,
            product_sku: self.product_sku,
            product_attributes: self.product_attributes,
            fields: self.fields,
            custom_prompt: self.custom_prompt,
            role: self.role,
            link_url: self.link_url,
            regenerate: None,
        }
        .parse()?;
        let mut options = context.options;
        if !explicit_fields {
            options.fields = Fields::alt_text_only();
        }
        Ok(ValidateInput {
            source: context.source,
            alt_text: self.alt_text,
            language: context.language,
            options,
            suggest: self.suggest.unwrap_or(false),
            check_match: self.check_match.unwrap_or(false),
        })
    }
}

#[tracing::instrument(skip_all, fields(account_id = %caller.account_id))]
pub async fn post_validate(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(request): ApiJson<ValidateRequest>,
) -> Result<Json<ValidateResponse>, ApiError> {
    let input = request.parse()?;
    let outcome = validate(&state.app, &caller.requester, input).await?;
    Ok(Json(outcome.into()))
}
