//! POST /api/v1/generate
use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use altframe_domain::generation::{
    bounded, limits, parse_keywords, Fields, GeneratedText, GenerationOptions, Invalid, Language,
    MaxLength, Mode, Product,
};
use altframe_domain::job::Tokens;

use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use crate::app::App;
use crate::image::ImageSource;
use crate::service::generate::{generate, GenerateInput, GenerateOutcome};

/// The request body, as the contract documents it. Every field is optional at this level so
/// that a missing one gets our own message, not serde's.
#[derive(Debug, Default, Deserialize)]
pub struct GenerateRequest {
    pub image_url: Option<String>,
    pub image_base64: Option<String>,
    pub mode: Option<String>,
    pub language: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub max_length: Option<i64>,
    pub page_url: Option<String>,
    pub page_context: Option<String>,
    pub product_name: Option<String>,
    pub product_sku: Option<String>,
    pub product_attributes: Option<BTreeMap<String, String>>,
    pub fields: Option<Vec<String>>,
    pub custom_prompt: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct GenerateResponse {
    pub id: String,
    pub status: &'static str,
    pub results: GeneratedText,
    pub meta: GenerateMeta,
}

#[derive(Debug, Serialize)]
pub struct GenerateMeta {
    pub language: String,
    pub model: String,
    pub tokens: Tokens,
    pub processing_ms: u64,
    pub credits_used: u32,
    pub credits_remaining: u32,
}

impl From<GenerateOutcome> for GenerateResponse {
    fn from(o: GenerateOutcome) -> Self {
        GenerateResponse {
            id: o.job_id,
            status: "completed",
            results: o.results,
            meta: GenerateMeta {
                language: o.language.as_str().to_string(),
                model: o.model,
                tokens: o.tokens,
                processing_ms: o.processing_ms,
                credits_used: o.credits_used,
                credits_remaining: o.credits_remaining,
            },
        }
    }
}

fn present(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl GenerateRequest {
    /// Checks every field and builds the service's input. The language stays `None` when the
    /// request names none, so the account's default can apply.
    pub fn parse(self) -> Result<GenerateInput, Invalid> {
        let source = match (present(self.image_url), present(self.image_base64)) {
            (Some(url), _) => {
                bounded("image_url", &url, limits::URL_CHARS)?;
                ImageSource::Url(url)
            }
            (None, Some(data)) => ImageSource::Base64(data),
            (None, None) => {
                return Err(Invalid(
                    "Either image_url or image_base64 is required.".into(),
                ))
            }
        };
        let mode = self
            .mode
            .as_deref()
            .map(Mode::parse)
            .transpose()?
            .unwrap_or_default();
        let language = self.language.as_deref().map(Language::parse).transpose()?;
        let keywords = parse_keywords(&self.keywords.unwrap_or_default())?;
        let max_length = self
            .max_length
            .map(MaxLength::new)
            .transpose()?
            .unwrap_or(MaxLength::DEFAULT);
        let fields = self
            .fields
            .map(|f| Fields::parse(&f))
            .transpose()?
            .unwrap_or_else(Fields::all);
        let page_url = present(self.page_url);
        if let Some(u) = &page_url {
            bounded("page_url", u, limits::URL_CHARS)?;
        }
        let page_context = present(self.page_context);
        if let Some(c) = &page_context {
            bounded("page_context", c, limits::CONTEXT_CHARS)?;
        }
        let custom_prompt = present(self.custom_prompt);
        if let Some(c) = &custom_prompt {
            bounded("custom_prompt", c, limits::CONTEXT_CHARS)?;
        }
        let product = Product::parse(
            present(self.product_name),
            present(self.product_sku),
            self.product_attributes.unwrap_or_default(),
        )?;
        Ok(GenerateInput {
            source,
            language: language.clone(),
            options: GenerationOptions {
                mode,
                language: language.unwrap_or_else(Language::english),
                keywords,
                max_length,
                fields,
                page_url,
                page_context,
                product,
                custom_prompt,
            },
        })
    }
}

#[tracing::instrument(skip_all, fields(account_id = %caller.account_id))]
pub async fn post_generate(
    State(app): State<App>,
    caller: Caller,
    ApiJson(request): ApiJson<GenerateRequest>,
) -> Result<Json<GenerateResponse>, ApiError> {
    let input = request.parse()?;
    let outcome = generate(&app, &caller.account_id, input).await?;
    Ok(Json(outcome.into()))
}
