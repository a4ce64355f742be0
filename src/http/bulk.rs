//! POST /api/v1/generate/bulk
use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use altframe_domain::batch::MAX_BATCH_ITEMS;
use altframe_domain::generation::{
    limits, GenerationOptions, Invalid, Language, MaxLength, Product,
};

use super::auth::Caller;
use super::error::ApiError;
use super::fields::{bounded_text, common_options, image_source, present};
use super::json::ApiJson;
use crate::app::App;
use crate::openapi::schemas;
use crate::service::bulk::{submit, BulkInput, BulkItemInput};

/// Up to 100 images, described with the same options.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(transform = schemas::needs_images)]
pub struct BulkRequest {
    /// The images, 1 to 100; each needs `image_url` or `image_base64`.
    #[schemars(with = "Vec<BulkImage>", length(min = 1, max = MAX_BATCH_ITEMS))]
    pub images: Option<Vec<BulkImage>>,
    #[schemars(schema_with = "schemas::mode")]
    pub mode: Option<String>,
    #[schemars(schema_with = "schemas::language")]
    pub language: Option<String>,
    #[schemars(schema_with = "schemas::keywords")]
    pub keywords: Option<Vec<String>>,
    #[schemars(schema_with = "schemas::fields")]
    pub fields: Option<Vec<String>>,
    /// Where to POST the signed `batch.completed` event when the batch finishes.
    #[schemars(schema_with = "schemas::url")]
    pub webhook_url: Option<String>,
}

/// One image of a batch (`image_url` or `image_base64`) and its context.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(transform = schemas::needs_an_image)]
pub struct BulkImage {
    #[schemars(schema_with = "schemas::image_url")]
    pub image_url: Option<String>,
    #[schemars(schema_with = "schemas::image_base64")]
    pub image_base64: Option<String>,
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
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BulkResponse {
    pub batch_id: String,
    pub total_images: usize,
    pub credits_reserved: u32,
    pub estimated_seconds: u64,
    pub status_url: String,
}

impl BulkImage {
    fn parse(self, index: usize) -> Result<BulkItemInput, Invalid> {
        let named = |e: Invalid| Invalid(format!("images[{index}]: {}", e.0));
        Ok(BulkItemInput {
            source: image_source(self.image_url, self.image_base64).map_err(named)?,
            page_url: bounded_text("page_url", self.page_url, limits::URL_CHARS).map_err(named)?,
            page_context: bounded_text("page_context", self.page_context, limits::CONTEXT_CHARS)
                .map_err(named)?,
            product: Product::parse(
                present(self.product_name),
                present(self.product_sku),
                self.product_attributes.unwrap_or_default(),
            )
            .map_err(named)?,
        })
    }
}

impl BulkRequest {
    pub fn parse(self) -> Result<BulkInput, Invalid> {
        let images = self.images.ok_or_else(|| {
            Invalid("images is required: an array of 1 to 100 image objects".into())
        })?;
        if images.is_empty() || images.len() > MAX_BATCH_ITEMS {
            return Err(Invalid(format!(
                "images must hold 1 to {MAX_BATCH_ITEMS} image objects; got {}",
                images.len()
            )));
        }
        let common = common_options(self.mode, self.language, self.keywords, self.fields)?;
        let webhook_url = bounded_text("webhook_url", self.webhook_url, limits::URL_CHARS)?;
        let items = images
            .into_iter()
            .enumerate()
            .map(|(i, image)| image.parse(i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BulkInput {
            items,
            language: common.language.clone(),
            options: GenerationOptions {
                mode: common.mode,
                language: common.language.unwrap_or_else(Language::english),
                keywords: common.keywords,
                max_length: MaxLength::DEFAULT,
                fields: common.fields,
                page_url: None,
                page_context: None,
                product: Product::default(),
                custom_prompt: None,
            },
            webhook_url,
        })
    }
}

#[tracing::instrument(skip_all, fields(account_id = %caller.account_id))]
pub async fn post_bulk(
    State(app): State<App>,
    caller: Caller,
    ApiJson(request): ApiJson<BulkRequest>,
) -> Result<(StatusCode, Json<BulkResponse>), ApiError> {
    let input = request.parse()?;
    let accepted = submit(&app, &caller.account_id, input).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(BulkResponse {
            status_url: format!("/api/v1/batches/{}", accepted.batch_id),
            batch_id: accepted.batch_id,
            total_images: accepted.total_images,
            credits_reserved: accepted.credits_reserved,
            estimated_seconds: accepted.estimated_seconds,
        }),
    ))
}
