//! Scanning a page for its images (issue 21): the page is fetched under the rules of image
//! URLs, read for every image it shows, and each image's alt text is checked by the domain's
//! rules (`altframe_domain::validation`). Free: nothing is reserved or charged.
//!
//! With a batch asked for, the images that need alt text are submitted as one bulk batch
//! through `bulk::stage` and `bulk::submit`, so bulk's rules hold (credits reserved up front,
//! all or none; the webhook checked and honoured), each item with what the markup says of
//! it: the page, its role, where its link goes and the text near it.
use std::collections::HashSet;

use altframe_domain::batch::MAX_BATCH_ITEMS;
use altframe_domain::generation::{limits, GenerationOptions, Language, MaxLength, Product, Role};
use altframe_domain::validation::{check, score, AltTextInput, Finding};
use altframe_domain::AccountId;
use url::Url;

use super::bulk::{self, BulkAccepted, BulkError, BulkInput, BulkItemInput};
use super::{App, Failure};
use crate::adapters::image::ImageSource;
use crate::adapters::page::markup::{self, FoundImage, Source};
use crate::adapters::page::PageError;

/// An image whose alt text scores below this needs new text: no text at all (0), a file name
/// or a single generic word (30), or several lesser faults together. One that only opens
/// with "Image of" (85) or runs long (80) is better edited than replaced.
pub const NEEDS_TEXT_BELOW: u8 = 50;

#[derive(Debug, Clone)]
pub struct ScanInput {
    pub page_url: String,
    /// The keywords the page targets, for the keyword-stuffing rule (and the batch's text).
    pub keywords: Vec<String>,
    /// `Some` to submit the images that need alt text as a batch.
    pub batch: Option<BatchRequest>,
}

/// The batch's options, as a bulk request would give them.
#[derive(Debug, Clone)]
pub struct BatchRequest {
    pub language: Option<Language>,
    pub options: GenerationOptions,
    pub webhook_url: Option<String>,
    /// Every image generated anew, none answered from the generation cache.
    pub regenerate: bool,
}

#[derive(Debug, Clone)]
pub struct ScanReport {
    /// The URL the page was served from, after redirects.
    pub page_url: String,
    /// The language its `<html lang>` declares, when that names an ISO 639-1 language.
    pub language: Option<Language>,
    pub images: Vec<ScannedImage>,
    /// Images the page has, listed or not (at most [`markup::MAX_IMAGES`] are listed).
    pub found: usize,
    /// The batch, when one was asked for and at least one image could be submitted.
    pub batch: Option<ScanBatch>,
}

#[derive(Debug, Clone)]
pub struct ScanBatch {
    pub accepted: BulkAccepted,
    /// Images that needed alt text but were beyond the batch's [`MAX_BATCH_ITEMS`] addresses.
    pub left_out: usize,
}

#[derive(Debug, Clone)]
pub struct ScannedImage {
    pub image: FoundImage,
    pub findings: Vec<Finding>,
    pub score: u8,
    pub needs_alt_text: bool,
    /// Why its picture cannot be sent to the model, when it cannot.
    pub unusable: Option<String>,
    /// What became of it, when a batch was asked for and it needs alt text.
    pub generation: Option<Generation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// In the batch (an image at an address already in it shares that item).
    Submitted,
    /// The batch was full.
    LeftOut,
    /// Its address cannot be fetched (see `unusable`).
    Unusable,
}

impl Generation {
    pub const ALL: [Generation; 3] = [
        Generation::Submitted,
        Generation::LeftOut,
        Generation::Unusable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Generation::Submitted => "submitted",
            Generation::LeftOut => "left_out",
            Generation::Unusable => "unusable",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Page(PageError),
    #[error(transparent)]
    Batch(BulkError),
    #[error(transparent)]
    Failure(#[from] Failure),
}

#[tracing::instrument(skip(app, input), fields(account_id = %account_id, batch = input.batch.is_some()))]
pub async fn scan(
    app: &App,
    account_id: &AccountId,
    input: ScanInput,
) -> Result<ScanReport, ScanError> {
    // A webhook that could never be delivered refuses the request before the page is fetched.
    if let Some(url) = input.batch.as_ref().and_then(|b| b.webhook_url.as_deref()) {
        app.intake
            .outbound()
            .check_url(url)
            .map_err(|e| ScanError::Batch(BulkError::WebhookUrl(e)))?;
    }
    let page = app
        .pages
        .fetch(&input.page_url)
        .await
        .map_err(ScanError::Page)?;
    let page_url = page.url.clone();
    // Parsing a few megabytes of HTML is work for a blocking thread.
    let markup = tokio::task::spawn_blocking(move || markup::read(&page.html, &page.url))
        .await
        .map_err(|source| {
            // The parser failing on a page is a bug the page found: the page is refused.
            if source.is_panic() {
                ScanError::Page(PageError::Unreadable(page_url.to_string()))
            } else {
                ScanError::Failure(Failure::Stopped {
                    what: "reading a page's markup",
                    source,
                })
            }
        })?;

    let language = markup.lang.as_deref().and_then(page_language);
    let mut images: Vec<ScannedImage> = markup
        .images
        .into_iter()
        .map(|image| assess(app, image, &input.keywords, language.as_ref()))
        .collect();
    let batch = match input.batch {
        Some(mut request) => {
            // Text for a page is written in the page's language unless the request said.
            request.language = request.language.or_else(|| language.clone());
            submit(app, account_id, &page_url, &mut images, request).await?
        }
        None => None,
    };
    Ok(ScanReport {
        page_url: page_url.to_string(),
        language,
        images,
        found: markup.found,
        batch,
    })
}

/// The language a BCP 47 tag such as `pt-BR` names, by its primary subtag; `None` when that
/// is not an ISO 639-1 code (`x-klingon`, `fil`).
fn page_language(lang: &str) -> Option<Language> {
    let primary = lang.split(['-', '_']).next().unwrap_or(lang);
    Language::parse(primary).ok()
}

/// The rules' findings and score, and whether the image needs new alt text.
fn assess(
    app: &App,
    image: FoundImage,
    keywords: &[String],
    language: Option<&Language>,
) -> ScannedImage {
    let decorative = image.decorative.is_some();
    let findings = check(&AltTextInput {
        alt_text: image.alt.as_deref(),
        keywords,
        max_length: usize::from(MaxLength::DEFAULT.get()),
        decorative: Some(decorative),
        language,
        ..AltTextInput::default()
    });
    let score = score(&findings);
    let unusable = match &image.source {
        Source::Url(url) if url.as_str().chars().count() > limits::URL_CHARS => Some(format!(
            "its URL is longer than {} characters",
            limits::URL_CHARS
        )),
        Source::Url(url) => app
            .intake
            .outbound()
            .check_url(url.as_str())
            .err()
            .map(|e| e.to_string()),
        Source::Data => Some("a data: URI; the picture is inside the page".into()),
        Source::Invalid(written) => Some(format!("{} is not an http(s) URL", shortened(written))),
        Source::Missing => Some("no src, srcset or url() gives its address".into()),
    };
    ScannedImage {
        needs_alt_text: !decorative && score < NEEDS_TEXT_BELOW,
        image,
        findings,
        score,
        unusable,
        generation: None,
    }
}

/// An address as the page wrote it, cut to a length a report can quote.
fn shortened(written: &str) -> String {
    const QUOTED_CHARS: usize = 100;
    match written.char_indices().nth(QUOTED_CHARS) {
        Some((end, _)) => format!("{}…", &written[..end]),
        None => written.to_string(),
    }
}

/// Submits the images that need alt text, each address once and at most [`MAX_BATCH_ITEMS`]
/// of them in page order; notes on each image what became of it.
async fn submit(
    app: &App,
    account_id: &AccountId,
    page_url: &Url,
    images: &mut [ScannedImage],
    request: BatchRequest,
) -> Result<Option<ScanBatch>, ScanError> {
    let mut items = Vec::new();
    let mut chosen: HashSet<String> = HashSet::new();
    let mut left_out = 0;
    for scanned in images.iter_mut().filter(|i| i.needs_alt_text) {
        let url = match (&scanned.image.source, &scanned.unusable) {
            (Source::Url(url), None) => url.as_str(),
            _ => {
                scanned.generation = Some(Generation::Unusable);
                continue;
            }
        };
        if chosen.contains(url) {
            scanned.generation = Some(Generation::Submitted);
        } else if chosen.len() < MAX_BATCH_ITEMS {
            chosen.insert(url.to_string());
            items.push(item(page_url, url, scanned));
            scanned.generation = Some(Generation::Submitted);
        } else {
            scanned.generation = Some(Generation::LeftOut);
            left_out += 1;
        }
    }
    if items.is_empty() {
        return Ok(None);
    }
    let input = BulkInput {
        items,
        language: request.language,
        options: request.options,
        webhook_url: request.webhook_url,
        regenerate: request.regenerate,
    };
    let staged = bulk::stage(app, account_id, input)
        .await
        .map_err(ScanError::Batch)?;
    let accepted = bulk::submit(app, staged).await.map_err(ScanError::Batch)?;
    Ok(Some(ScanBatch { accepted, left_out }))
}

/// A batch item for the image at `url`, with the markup's hints as its context.
fn item(page_url: &Url, url: &str, scanned: &ScannedImage) -> BulkItemInput<'static> {
    let hints = &scanned.image.hints;
    let role = match hints.role {
        markup::Role::Link => Some(Role::Link),
        markup::Role::Button => Some(Role::Button),
        markup::Role::Background => Some(Role::Background),
        markup::Role::Content => None,
    };
    // A link's or button's text says what it does; any other image is told by its caption,
    // its title, or the heading above it.
    let context = match hints.role {
        markup::Role::Link | markup::Role::Button => {
            hints.link_text.clone().or_else(|| hints.title.clone())
        }
        markup::Role::Content | markup::Role::Background => hints
            .caption
            .clone()
            .or_else(|| hints.title.clone())
            .or_else(|| hints.heading.clone()),
    };
    BulkItemInput {
        source: ImageSource::Url(url.to_string()),
        page_url: Some(page_url.to_string()).filter(|u| u.chars().count() <= limits::URL_CHARS),
        page_context: context.map(|c| c.chars().take(limits::CONTEXT_CHARS).collect()),
        product: Product::default(),
        role,
        link_url: hints
            .link_url
            .clone()
            .filter(|l| is_followable(l) && l.chars().count() <= limits::URL_CHARS),
    }
}

/// A link the model may be told of: http(s), mailto or tel (never `javascript:`).
fn is_followable(link: &str) -> bool {
    Url::parse(link).is_ok_and(|u| matches!(u.scheme(), "http" | "https" | "mailto" | "tel"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pages_language_is_its_tags_primary_subtag() {
        let code = |tag: &str| page_language(tag).map(|l| l.as_str().to_string());
        assert_eq!(code("pt-BR").as_deref(), Some("pt"));
        assert_eq!(code("DE").as_deref(), Some("de"));
        assert_eq!(code("en_GB").as_deref(), Some("en"));
        assert_eq!(code("x-klingon"), None);
        assert_eq!(code("fil"), None);
    }

    #[test]
    fn a_long_address_is_quoted_cut() {
        assert_eq!(shortened("javascript:void(0)"), "javascript:void(0)");
        let long = format!("javascript:{}", "é".repeat(500));
        let quoted = shortened(&long);
        assert_eq!(quoted.chars().count(), 101);
        assert!(quoted.starts_with("javascript:é") && quoted.ends_with('…'));
    }
}
