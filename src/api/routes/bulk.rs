//! POST /api/v1/generate/bulk
use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use altframe_domain::batch::MAX_BATCH_ITEMS;
use altframe_domain::generation::{limits, Invalid, Product};

use crate::api::error::ApiError;
use crate::api::fields::{
    bounded_text, common_options, image_source, parse_placement, present, CommonFields,
};
use crate::api::json::{JsonBody, JsonStr};
use crate::api::layers::auth::Caller;
use crate::api::openapi::schemas;
use crate::api::ApiState;
use crate::usecases::bulk::{stage, submit, BulkAccepted, BulkInput, BulkItemInput};
use crate::usecases::App;

// The request borrows each `image_base64` from the body (unless it holds escapes), so that a
// batch of inline images is in memory once.
/// Up to 100 images, described with the same options.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(transform = schemas::needs_images)]
pub struct BulkRequest<'a> {
    /// The images, 1 to 100; each needs `image_url` or `image_base64`.
    #[schemars(with = "Vec<BulkImage>", length(min = 1, max = MAX_BATCH_ITEMS))]
    #[serde(borrow)]
    pub images: Option<Vec<BulkImage<'a>>>,
    #[schemars(schema_with = "schemas::mode")]
    pub mode: Option<String>,
    #[schemars(schema_with = "schemas::language")]
    pub language: Option<String>,
    /// Our addition: several languages in one call, for every image.
    #[schemars(schema_with = "schemas::languages")]
    pub languages: Option<Vec<String>>,
    #[schemars(schema_with = "schemas::keywords")]
    pub keywords: Option<Vec<String>>,
    /// Our addition: words the text must never hold.
    #[schemars(schema_with = "schemas::negative_keywords")]
    pub negative_keywords: Option<Vec<String>>,
    #[schemars(schema_with = "schemas::fields")]
    pub fields: Option<Vec<String>>,
    /// Where to POST the signed `batch.completed` event when the batch finishes.
    #[schemars(schema_with = "schemas::url")]
    pub webhook_url: Option<String>,
    /// Our addition: generate every image anew, charged, even those answered within the
    /// cache's window. Without it an image answered before is free (`cached` in its result).
    pub regenerate: Option<bool>,
}

/// One image of a batch (`image_url` or `image_base64`) and its context.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(transform = schemas::needs_an_image)]
pub struct BulkImage<'a> {
    #[schemars(schema_with = "schemas::image_url")]
    pub image_url: Option<String>,
    #[schemars(schema_with = "schemas::image_base64")]
    #[serde(borrow)]
    pub image_base64: Option<JsonStr<'a>>,
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
    /// Our addition: where the image stands on its page.
    #[schemars(schema_with = "schemas::role")]
    pub role: Option<String>,
    /// Our addition: where a link or button image leads.
    #[schemars(schema_with = "schemas::link_url")]
    pub link_url: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BulkResponse {
    pub batch_id: String,
    pub total_images: usize,
    pub credits_reserved: u32,
    pub estimated_seconds: u64,
    pub status_url: String,
}

impl From<BulkAccepted> for BulkResponse {
    fn from(accepted: BulkAccepted) -> Self {
        BulkResponse {
            status_url: format!("/api/v1/batches/{}", accepted.batch_id),
            batch_id: accepted.batch_id.into_string(),
            total_images: accepted.total_images,
            credits_reserved: accepted.credits_reserved,
            estimated_seconds: accepted.estimated_seconds,
        }
    }
}

impl<'a> BulkImage<'a> {
    fn parse(self, index: usize) -> Result<BulkItemInput<'a>, Invalid> {
        let named = |e: Invalid| Invalid(format!("images[{index}]: {}", e.0));
        let base64 = self.image_base64.map(|s| s.0);
        let (role, link_url) = parse_placement(self.role, self.link_url).map_err(named)?;
        Ok(BulkItemInput {
            source: image_source(self.image_url, base64).map_err(named)?,
            page_url: bounded_text("page_url", self.page_url, limits::URL_CHARS).map_err(named)?,
            page_context: bounded_text("page_context", self.page_context, limits::CONTEXT_CHARS)
                .map_err(named)?,
            product: Product::parse(
                present(self.product_name),
                present(self.product_sku),
                self.product_attributes.unwrap_or_default(),
            )
            .map_err(named)?,
            role,
            link_url,
        })
    }
}

impl<'a> BulkRequest<'a> {
    pub fn parse(self) -> Result<BulkInput<'a>, Invalid> {
        let images = self.images.ok_or_else(|| {
            Invalid("images is required: an array of 1 to 100 image objects".into())
        })?;
        if images.is_empty() || images.len() > MAX_BATCH_ITEMS {
            return Err(Invalid(format!(
                "images must hold 1 to {MAX_BATCH_ITEMS} image objects; got {}",
                images.len()
            )));
        }
        let common = common_options(CommonFields {
            mode: self.mode,
            language: self.language,
            languages: self.languages,
            keywords: self.keywords,
            negative_keywords: self.negative_keywords,
            fields: self.fields,
        })?;
        let webhook_url = bounded_text("webhook_url", self.webhook_url, limits::URL_CHARS)?;
        let items = images
            .into_iter()
            .enumerate()
            .map(|(i, image)| image.parse(i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BulkInput {
            items,
            language: common.language.clone(),
            options: common.options(),
            webhook_url,
            regenerate: self.regenerate.unwrap_or(false),
        })
    }
}

#[tracing::instrument(skip_all, fields(account_id = %caller.account_id))]
pub async fn post_bulk(
    State(state): State<ApiState>,
    caller: Caller,
    body: JsonBody,
) -> Result<(StatusCode, Json<BulkResponse>), ApiError> {
    let accepted = submit_body(&state.app, &caller, body).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// Parses a bulk body, stages its items and submits the batch: what POST /generate/bulk does
/// once its caller is known, and the MCP tool `bulk` with its arguments.
pub async fn submit_body(
    app: &App,
    caller: &Caller,
    body: JsonBody,
) -> Result<BulkResponse, ApiError> {
    let staged = {
        let request: BulkRequest = body.parse()?;
        stage(app, &caller.account_id, request.parse()?).await?
    };
    // The images are held: the body goes before the batch is submitted and the workers start
    // decoding its items.
    drop(body);
    Ok(submit(app, staged).await?.into())
}
