//! Request fields that `generate` and `generate/bulk` share, parsed the same way for both.
use std::borrow::Cow;

use altframe_domain::generation::{
    bounded, limits, parse_keywords, parse_negative_keywords, Fields, Invalid, Language, Mode,
};

use crate::adapters::image::ImageSource;

/// A string the caller actually gave: trimmed, and `None` when empty.
pub fn present(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A present string within `max_chars`.
pub fn bounded_text(
    field: &str,
    s: Option<String>,
    max_chars: usize,
) -> Result<Option<String>, Invalid> {
    let s = present(s);
    if let Some(v) = &s {
        bounded(field, v, max_chars)?;
    }
    Ok(s)
}

/// [`present`] for text that may be borrowed from the body: trimmed without a copy.
fn present_cow(s: Option<Cow<'_, str>>) -> Option<Cow<'_, str>> {
    let s = match s? {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) if s.trim().len() == s.len() => Cow::Owned(s),
        Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
    };
    Some(s).filter(|s| !s.is_empty())
}

/// The image to process: `image_url` wins over `image_base64` when both are given.
pub fn image_source(
    url: Option<String>,
    base64: Option<Cow<'_, str>>,
) -> Result<ImageSource<'_>, Invalid> {
    match (
        bounded_text("image_url", url, limits::URL_CHARS)?,
        present_cow(base64),
    ) {
        (Some(url), _) => Ok(ImageSource::Url(url)),
        (None, Some(data)) => Ok(ImageSource::Base64(data)),
        (None, None) => Err(Invalid(
            "Either image_url or image_base64 is required.".into(),
        )),
    }
}

/// Mode, language, keywords and fields, with the contract's defaults, and our
/// `negative_keywords`.
pub struct CommonOptions {
    pub mode: Mode,
    pub language: Option<Language>,
    pub keywords: Vec<String>,
    pub negative_keywords: Vec<String>,
    pub fields: Fields,
}

/// The options `generate` and `bulk` share, as their requests send them.
pub struct CommonFields {
    pub mode: Option<String>,
    pub language: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub negative_keywords: Option<Vec<String>>,
    pub fields: Option<Vec<String>>,
}

pub fn common_options(sent: CommonFields) -> Result<CommonOptions, Invalid> {
    let CommonFields {
        mode,
        language,
        keywords,
        negative_keywords,
        fields,
    } = sent;
    Ok(CommonOptions {
        mode: mode
            .as_deref()
            .map(Mode::parse)
            .transpose()?
            .unwrap_or_default(),
        language: language.as_deref().map(Language::parse).transpose()?,
        keywords: parse_keywords(&keywords.unwrap_or_default())?,
        negative_keywords: parse_negative_keywords(&negative_keywords.unwrap_or_default())?,
        fields: fields
            .map(|f| Fields::parse(&f))
            .transpose()?
            .unwrap_or_else(Fields::all),
    })
}
