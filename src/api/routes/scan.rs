//! POST /api/v1/scan (our addition): a page's images, each with its alt text checked, and with
//! `generate` a batch of those that need alt text.
use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use altframe_domain::generation::{limits, Invalid};
use altframe_domain::validation::Finding;

use crate::api::error::ApiError;
use crate::api::fields::{bounded_text, common_options, CommonFields};
use crate::api::json::ApiJson;
use crate::api::layers::auth::Caller;
use crate::api::openapi::schemas;
use crate::api::routes::bulk::BulkResponse;
use crate::api::ApiState;
use crate::usecases::scan::{scan, BatchRequest, ScanInput, ScanReport, ScannedImage};

/// A page to scan for its images; with `generate`, the batch of those that need alt text.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(transform = schemas::needs_page_url)]
pub struct ScanRequest {
    #[schemars(schema_with = "schemas::page_url")]
    pub page_url: Option<String>,
    #[schemars(schema_with = "schemas::generate_flag")]
    pub generate: Option<bool>,
    /// With `generate`: as for a bulk request, for every image.
    #[schemars(schema_with = "schemas::mode")]
    pub mode: Option<String>,
    /// With `generate`: as for a bulk request.
    #[schemars(schema_with = "schemas::language")]
    pub language: Option<String>,
    /// With `generate`: as for a bulk request.
    #[schemars(schema_with = "schemas::languages")]
    pub languages: Option<Vec<String>>,
    /// The keywords the page targets: the keyword-stuffing rule looks for them, and with
    /// `generate` the text works them in.
    #[schemars(schema_with = "schemas::keywords")]
    pub keywords: Option<Vec<String>>,
    /// With `generate`: words the text must never hold.
    #[schemars(schema_with = "schemas::negative_keywords")]
    pub negative_keywords: Option<Vec<String>>,
    /// With `generate`: as for a bulk request.
    #[schemars(schema_with = "schemas::fields")]
    pub fields: Option<Vec<String>>,
    /// With `generate` only: where to POST the batch's signed `batch.completed` event.
    #[schemars(schema_with = "schemas::url")]
    pub webhook_url: Option<String>,
    /// With `generate` only: as for a bulk request, every image generated anew, charged.
    pub regenerate: Option<bool>,
}

/// The page's images, with what the rules found in their alt text.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ScanResponse {
    /// The URL the page was served from, after redirects.
    pub page_url: String,
    /// The ISO 639-1 language its `<html lang>` declares (`pt` for `pt-BR`). Alt text in
    /// another language is a `language` finding, and with `generate` and no `language` the
    /// batch is written in it. Absent when the page declares none this API knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub summary: ScanSummary,
    /// The images in page order, at most 1,000.
    pub images: Vec<ScanImage>,
    /// `true` when the page has more images than are listed (`summary.found` counts them
    /// all). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
    /// With `generate`: the batch of the images that need alt text, as
    /// `POST /api/v1/generate/bulk` answers it. Absent when no image could be submitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<ScanBatch>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ScanSummary {
    /// Images on the page.
    pub found: usize,
    /// Images listed.
    pub listed: usize,
    /// Listed images without an `alt` attribute that are not marked decorative.
    pub missing_alt: usize,
    /// Listed images the markup marks decorative.
    pub decorative: usize,
    /// Listed images with at least one finding.
    pub with_findings: usize,
    /// Listed images that need alt text: not decorative, and scored below 50.
    pub need_alt_text: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ScanBatch {
    #[serde(flatten)]
    pub accepted: BulkResponse,
    /// Images that needed alt text beyond the batch's 100 addresses: scan again once the
    /// batch has run, or submit them in a batch of their own. Absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_out: Option<usize>,
}

/// One image, as the markup gives it and as the rules judge its alt text.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ScanImage {
    #[schemars(schema_with = "schemas::scan_element")]
    pub element: &'static str,
    /// Its picture's address, resolved against the page (or its `<base href>`): `src`, else
    /// the largest `srcset` candidate, else the largest of the picture's first `<source>`.
    /// Absent when it has no http(s) address (see `unusable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Every `srcset` candidate of the image and of its picture's `<source>`s, resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub srcset: Option<Vec<String>>,
    /// The `alt` attribute as written: `null` when the image has none, which is not the same
    /// as `""`. A background's is its element's `aria-label` when it is `role="img"`.
    /// Always present.
    #[schemars(schema_with = "schemas::text_or_null")]
    pub alt: Option<String>,
    #[schemars(schema_with = "schemas::scan_role")]
    pub role: &'static str,
    /// Where the link around it leads, resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_url: Option<String>,
    /// The text of the link or button around it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_text: Option<String>,
    /// Its `title` attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The `<figcaption>` of the `<figure>` around it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// The nearest heading before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    // `default` tells the schema it may be absent, which it cannot see through `schema_with`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::decorative_reason")]
    pub decorative: Option<&'static str>,
    #[schemars(schema_with = "schemas::findings")]
    pub findings: Vec<Finding>,
    /// 100 with no finding; each finding costs its weight, down to 0.
    pub score: u8,
    /// Not decorative and scored below 50: no alt text, a file name, a generic word, or
    /// several lesser faults.
    pub needs_alt_text: bool,
    /// Why its picture cannot be sent to the model (a `data:` URI, an address that is not
    /// http(s), or one refused as private). Absent when it can.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unusable: Option<String>,
    // `default` tells the schema it may be absent, which it cannot see through `schema_with`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::generation")]
    pub generation: Option<&'static str>,
}

impl ScanRequest {
    pub fn parse(self) -> Result<ScanInput, Invalid> {
        let page_url =
            bounded_text("page_url", self.page_url, limits::URL_CHARS)?.ok_or_else(|| {
                Invalid("page_url is required: the http(s) URL of the page to scan".into())
            })?;
        let common = common_options(CommonFields {
            mode: self.mode,
            language: self.language,
            languages: self.languages,
            keywords: self.keywords,
            negative_keywords: self.negative_keywords,
            fields: self.fields,
        })?;
        let webhook_url = bounded_text("webhook_url", self.webhook_url, limits::URL_CHARS)?;
        let generate = self.generate.unwrap_or(false);
        if webhook_url.is_some() && !generate {
            return Err(Invalid(
                "webhook_url is used only with generate: true; without it no batch is submitted"
                    .into(),
            ));
        }
        if self.regenerate == Some(true) && !generate {
            return Err(Invalid(
                "regenerate is used only with generate: true; a scan alone generates nothing"
                    .into(),
            ));
        }
        let keywords = common.keywords.clone();
        let batch = generate.then(|| BatchRequest {
            language: common.language.clone(),
            options: common.options(),
            webhook_url,
            regenerate: self.regenerate.unwrap_or(false),
        });
        Ok(ScanInput {
            page_url,
            keywords,
            batch,
        })
    }
}

impl From<ScanReport> for ScanResponse {
    fn from(report: ScanReport) -> Self {
        let images: Vec<ScanImage> = report.images.into_iter().map(ScanImage::from).collect();
        let count = |f: fn(&ScanImage) -> bool| images.iter().filter(|i| f(i)).count();
        let summary = ScanSummary {
            found: report.found,
            listed: images.len(),
            missing_alt: count(|i| i.alt.is_none() && i.decorative.is_none()),
            decorative: count(|i| i.decorative.is_some()),
            with_findings: count(|i| !i.findings.is_empty()),
            need_alt_text: count(|i| i.needs_alt_text),
        };
        ScanResponse {
            page_url: report.page_url,
            language: report.language.map(|l| l.as_str().to_string()),
            truncated: (report.found > images.len()).then_some(true),
            summary,
            images,
            batch: report.batch.map(|b| ScanBatch {
                accepted: BulkResponse::from(b.accepted),
                left_out: (b.left_out > 0).then_some(b.left_out),
            }),
        }
    }
}

impl From<ScannedImage> for ScanImage {
    fn from(scanned: ScannedImage) -> Self {
        use crate::adapters::page::markup::Source;
        let image = scanned.image;
        let hints = image.hints;
        ScanImage {
            element: image.element.as_str(),
            url: match image.source {
                Source::Url(url) => Some(url.into()),
                Source::Data | Source::Invalid(_) | Source::Missing => None,
            },
            srcset: (!image.candidates.is_empty()).then_some(image.candidates),
            alt: image.alt,
            role: hints.role.as_str(),
            link_url: hints.link_url,
            link_text: hints.link_text,
            title: hints.title,
            caption: hints.caption,
            heading: hints.heading,
            decorative: image.decorative.map(|d| d.as_str()),
            findings: scanned.findings,
            score: scanned.score,
            needs_alt_text: scanned.needs_alt_text,
            unusable: scanned.unusable,
            generation: scanned.generation.map(|g| g.as_str()),
        }
    }
}

#[tracing::instrument(skip_all, fields(account_id = %caller.account_id))]
pub async fn post_scan(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(request): ApiJson<ScanRequest>,
) -> Result<Json<ScanResponse>, ApiError> {
    let input = request.parse()?;
    let report = scan(&state.app, &caller.account_id, input).await?;
    Ok(Json(report.into()))
}
