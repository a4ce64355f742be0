//! Request fields that `generate` and `generate/bulk` share, parsed the same way for both.
use std::borrow::Cow;

use altframe_domain::generation::{
    bounded, limits, parse_keywords, parse_negative_keywords, Fields, GenerationOptions, Invalid,
    Language, Mode, Role,
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
/// `negative_keywords` and `languages`.
pub struct CommonOptions {
    pub mode: Mode,
    /// The primary language, when the request named one (`language`, or `languages`' first).
    pub language: Option<Language>,
    /// `languages` after the first.
    pub extra_languages: Vec<Language>,
    pub keywords: Vec<String>,
    pub negative_keywords: Vec<String>,
    pub fields: Fields,
}

impl CommonOptions {
    /// The options these fields make, every other one at the contract's default; the
    /// language stays `English` until the use case resolves it (`language` is kept for that).
    pub fn options(self) -> GenerationOptions {
        GenerationOptions {
            mode: self.mode,
            keywords: self.keywords,
            negative_keywords: self.negative_keywords,
            fields: self.fields,
            extra_languages: self.extra_languages,
            ..GenerationOptions::defaults(self.language.unwrap_or_else(Language::english))
        }
    }
}

/// The options `generate` and `bulk` share, as their requests send them.
pub struct CommonFields {
    pub mode: Option<String>,
    pub language: Option<String>,
    pub languages: Option<Vec<String>>,
    pub keywords: Option<Vec<String>>,
    pub negative_keywords: Option<Vec<String>>,
    pub fields: Option<Vec<String>>,
}

/// `language` and `languages` together: the primary language and the others. When both are
/// sent, `language` must be `languages`' first.
fn parse_languages(
    language: Option<String>,
    languages: Option<Vec<String>>,
) -> Result<(Option<Language>, Vec<Language>), Invalid> {
    let language = language.as_deref().map(Language::parse).transpose()?;
    let Some(codes) = languages else {
        return Ok((language, Vec::new()));
    };
    let mut all = Language::parse_list(&codes)?;
    let primary = all.remove(0);
    if let Some(single) = language.filter(|l| *l != primary) {
        return Err(Invalid(format!(
            "language \"{}\" differs from the first of languages, \"{}\"; send one of them, or \
             make them agree",
            single.as_str(),
            primary.as_str()
        )));
    }
    Ok((Some(primary), all))
}

/// The image's place on its page: `role` and the `link_url` of a link or button.
pub fn parse_placement(
    role: Option<String>,
    link_url: Option<String>,
) -> Result<(Option<Role>, Option<String>), Invalid> {
    let role = present(role).as_deref().map(Role::parse).transpose()?;
    let link_url = bounded_text("link_url", link_url, limits::URL_CHARS)?;
    if let Some(link) = &link_url {
        check_link(link)?;
    }
    Ok((role, link_url))
}

/// A link as a page holds it: an absolute `http`, `https`, `mailto` or `tel` URL, or a
/// relative one (`/pricing`), with no spaces or control characters.
fn check_link(link: &str) -> Result<(), Invalid> {
    let refused = |why: &str| {
        Err(Invalid(format!(
            "link_url must be an http, https, mailto or tel URL, or a relative one such as \
             \"/pricing\"; {why}"
        )))
    };
    if link.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return refused("it holds a space or a control character");
    }
    match url::Url::parse(link) {
        Ok(url) if matches!(url.scheme(), "http" | "https" | "mailto" | "tel") => Ok(()),
        Ok(url) => refused(&format!("got the scheme \"{}\"", url.scheme())),
        Err(url::ParseError::RelativeUrlWithoutBase) => Ok(()),
        Err(e) => refused(&e.to_string()),
    }
}

pub fn common_options(sent: CommonFields) -> Result<CommonOptions, Invalid> {
    let CommonFields {
        mode,
        language,
        languages,
        keywords,
        negative_keywords,
        fields,
    } = sent;
    let (language, extra_languages) = parse_languages(language, languages)?;
    Ok(CommonOptions {
        mode: mode
            .as_deref()
            .map(Mode::parse)
            .transpose()?
            .unwrap_or_default(),
        language,
        extra_languages,
        keywords: parse_keywords(&keywords.unwrap_or_default())?,
        negative_keywords: parse_negative_keywords(&negative_keywords.unwrap_or_default())?,
        fields: fields
            .map(|f| Fields::parse(&f))
            .transpose()?
            .unwrap_or_else(Fields::all),
    })
}
