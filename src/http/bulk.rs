//! POST /api/v1/generate/bulk
use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use altframe_domain::batch::MAX_BATCH_ITEMS;
use altframe_domain::generation::{
    bounded, limits, parse_keywords, Fields, GenerationOptions, Invalid, Language, MaxLength, Mode,
    Product,
};

use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use crate::app::App;
use crate::image::ImageSource;
use crate::service::bulk::{submit, BulkInput, BulkItemInput};

#[derive(Debug, Default, Deserialize)]
pub struct BulkRequest {
    pub images: Option<Vec<BulkImage>>,
    pub mode: Option<String>,
    pub language: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub fields: Option<Vec<String>>,
    pub webhook_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct BulkImage {
    pub image_url: Option<String>,
    pub image_base64: Option<String>,
    pub page_url: Option<String>,
    pub page_context: Option<String>,
    pub product_name: Option<String>,
    pub product_sku: Option<String>,
    pub product_attributes: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Serialize)]
pub struct BulkResponse {
    pub batch_id: String,
    pub total_images: usize,
    pub credits_reserved: u32,
    pub estimated_seconds: u64,
    pub status_url: String,
}

fn present(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl BulkImage {
    fn parse(self, index: usize) -> Result<BulkItemInput, Invalid> {
        let named = |e: Invalid| Invalid(format!("images[{index}]: {}", e.0));
        let source = match (present(self.image_url), present(self.image_base64)) {
            (Some(url), _) => {
                bounded("image_url", &url, limits::URL_CHARS).map_err(named)?;
                ImageSource::Url(url)
            }
            (None, Some(data)) => ImageSource::Base64(data),
            (None, None) => {
                return Err(named(Invalid(
                    "Either image_url or image_base64 is required.".into(),
                )))
            }
        };
        let page_url = present(self.page_url);
        if let Some(u) = &page_url {
            bounded("page_url", u, limits::URL_CHARS).map_err(named)?;
        }
        let page_context = present(self.page_context);
        if let Some(c) = &page_context {
            bounded("page_context", c, limits::CONTEXT_CHARS).map_err(named)?;
        }
        let product = Product::parse(
            present(self.product_name),
            present(self.product_sku),
            self.product_attributes.unwrap_or_default(),
        )
        .map_err(named)?;
        Ok(BulkItemInput {
            source,
            page_url,
            page_context,
            product,
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
        let mode = self
            .mode
            .as_deref()
            .map(Mode::parse)
            .transpose()?
            .unwrap_or_default();
        let language = self.language.as_deref().map(Language::parse).transpose()?;
        let keywords = parse_keywords(&self.keywords.unwrap_or_default())?;
        let fields = self
            .fields
            .map(|f| Fields::parse(&f))
            .transpose()?
            .unwrap_or_else(Fields::all);
        let webhook_url = present(self.webhook_url);
        if let Some(u) = &webhook_url {
            bounded("webhook_url", u, limits::URL_CHARS)?;
        }
        let items = images
            .into_iter()
            .enumerate()
            .map(|(i, image)| image.parse(i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BulkInput {
            items,
            language: language.clone(),
            options: GenerationOptions {
                mode,
                language: language.unwrap_or_else(Language::english),
                keywords,
                max_length: MaxLength::DEFAULT,
                fields,
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
