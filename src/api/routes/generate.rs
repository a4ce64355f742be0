//! POST /api/v1/generate
use std::borrow::Cow;
use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use altframe_domain::generation::{
    limits, GeneratedText, GenerationOptions, Invalid, MaxLength, Product,
};
use altframe_domain::job::{Source, Tokens};

use crate::api::error::ApiError;
use crate::api::fields::{
    bounded_text, common_options, image_source, parse_placement, present, CommonFields,
};
use crate::api::json::ApiJson;
use crate::api::layers::auth::Caller;
use crate::api::openapi::schemas;
use crate::api::ApiState;
use crate::usecases::generate::{generate, GenerateInput, GenerateOutcome};

// Every field is optional at this level so that a missing one gets our own message, not
// serde's.
/// One image (`image_url` or `image_base64`) and how to describe it.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(transform = schemas::needs_an_image)]
pub struct GenerateRequest {
    #[schemars(schema_with = "schemas::image_url")]
    pub image_url: Option<String>,
    #[schemars(schema_with = "schemas::image_base64")]
    pub image_base64: Option<String>,
    #[schemars(schema_with = "schemas::mode")]
    pub mode: Option<String>,
    #[schemars(schema_with = "schemas::language")]
    pub language: Option<String>,
    /// Our addition: several languages in one call.
    #[schemars(schema_with = "schemas::languages")]
    pub languages: Option<Vec<String>>,
    #[schemars(schema_with = "schemas::keywords")]
    pub keywords: Option<Vec<String>>,
    /// Our addition: words the text must never hold.
    #[schemars(schema_with = "schemas::negative_keywords")]
    pub negative_keywords: Option<Vec<String>>,
    #[schemars(schema_with = "schemas::max_length")]
    pub max_length: Option<i64>,
    /// URL of the page where the image appears.
    #[schemars(schema_with = "schemas::url")]
    pub page_url: Option<String>,
    /// Text around the image on its page.
    #[schemars(schema_with = "schemas::context")]
    pub page_context: Option<String>,
    #[schemars(schema_with = "schemas::product_text")]
    pub product_name: Option<String>,
    #[schemars(schema_with = "schemas::product_text")]
    pub product_sku: Option<String>,
    #[schemars(schema_with = "schemas::product_attributes")]
    pub product_attributes: Option<BTreeMap<String, String>>,
    #[schemars(schema_with = "schemas::fields")]
    pub fields: Option<Vec<String>>,
    /// Extra instructions for the model (plans of tier 2 and above).
    #[schemars(schema_with = "schemas::context")]
    pub custom_prompt: Option<String>,
    /// Our addition: where the image stands on its page.
    #[schemars(schema_with = "schemas::role")]
    pub role: Option<String>,
    /// Our addition: where a link or button image leads.
    #[schemars(schema_with = "schemas::link_url")]
    pub link_url: Option<String>,
    /// Our addition: generate anew, charged, even when the same image with the same options
    /// was answered within the cache's window. The new result is the one later requests get.
    pub regenerate: Option<bool>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GenerateResponse {
    /// The job's id, as in history.
    pub id: String,
    #[schemars(schema_with = "crate::api::openapi::schemas::completed")]
    pub status: &'static str,
    pub results: GeneratedText,
    /// Our addition, with `languages`: the same fields in each other language delivered.
    /// Absent when none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translations: Option<BTreeMap<String, GeneratedText>>,
    /// Our addition, with `languages`: languages the model did not deliver; not charged.
    /// Absent when every one was delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_languages: Option<Vec<String>>,
    pub meta: GenerateMeta,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GenerateMeta {
    pub language: String,
    pub model: String,
    pub tokens: Tokens,
    pub processing_ms: u64,
    pub credits_used: u32,
    pub credits_remaining: u32,
    /// Our addition: `true` when the result is one generated earlier for the same image,
    /// options and context, answered again at no charge. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached: Option<bool>,
}

impl From<GenerateOutcome> for GenerateResponse {
    fn from(o: GenerateOutcome) -> Self {
        GenerateResponse {
            id: o.job_id.into_string(),
            status: "completed",
            results: o.results,
            translations: (!o.translations.is_empty()).then(|| {
                o.translations
                    .into_iter()
                    .map(|(language, text)| (language.as_str().to_string(), text))
                    .collect()
            }),
            failed_languages: (!o.failed_languages.is_empty()).then(|| {
                o.failed_languages
                    .iter()
                    .map(|l| l.as_str().to_string())
                    .collect()
            }),
            meta: GenerateMeta {
                language: o.language.as_str().to_string(),
                model: o.model,
                tokens: o.tokens,
                processing_ms: o.processing_ms,
                credits_used: o.credits_used,
                credits_remaining: o.credits_remaining,
                cached: o.cached_from.is_some().then_some(true),
            },
        }
    }
}

impl GenerateRequest {
    /// Checks every field and builds the service's input. The language stays `None` when the
    /// request names none, so the account's default can apply.
    pub fn parse(self) -> Result<GenerateInput, Invalid> {
        let source = image_source(self.image_url, self.image_base64.map(Cow::Owned))?;
        let common = common_options(CommonFields {
            mode: self.mode,
            language: self.language,
            languages: self.languages,
            keywords: self.keywords,
            negative_keywords: self.negative_keywords,
            fields: self.fields,
        })?;
        let max_length = self
            .max_length
            .map(MaxLength::new)
            .transpose()?
            .unwrap_or(MaxLength::DEFAULT);
        let product = Product::parse(
            present(self.product_name),
            present(self.product_sku),
            self.product_attributes.unwrap_or_default(),
        )?;
        let (role, link_url) = parse_placement(self.role, self.link_url)?;
        Ok(GenerateInput {
            source,
            language: common.language.clone(),
            options: GenerationOptions {
                max_length,
                page_url: bounded_text("page_url", self.page_url, limits::URL_CHARS)?,
                page_context: bounded_text(
                    "page_context",
                    self.page_context,
                    limits::CONTEXT_CHARS,
                )?,
                product,
                custom_prompt: bounded_text(
                    "custom_prompt",
                    self.custom_prompt,
                    limits::CONTEXT_CHARS,
                )?,
                role,
                link_url,
                ..common.options()
            },
            regenerate: self.regenerate.unwrap_or(false),
        })
    }
}

#[tracing::instrument(skip_all, fields(account_id = %caller.account_id))]
pub async fn post_generate(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(request): ApiJson<GenerateRequest>,
) -> Result<Json<GenerateResponse>, ApiError> {
    let input = request.parse()?;
    let outcome = generate(&state.app, &caller.requester, Source::Api, input).await?;
    Ok(Json(outcome.into()))
}
