//! Web pages to scan for their images: fetched through the same checked client as image URLs
//! (public addresses only, after DNS and on every redirect; the same timeout), read up to a
//! size cap, and only when they are HTML; then decoded to text (`charset`) and read for their
//! images (`markup`).
mod charset;
mod css;
pub mod markup;
mod srcset;

use url::Url;

use crate::adapters::outbound::{FetchError, Outbound};

pub use markup::{read, Markup, MAX_IMAGES};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageConfig {
    /// Largest page read, in bytes of HTML as served.
    pub max_bytes: usize,
}

/// 5 MiB: ten times a heavy page's HTML, well under what parsing may take at once.
pub const DEFAULT_MAX_PAGE_BYTES: usize = 5 * 1024 * 1024;

impl Default for PageConfig {
    fn default() -> Self {
        PageConfig {
            max_bytes: DEFAULT_MAX_PAGE_BYTES,
        }
    }
}

/// A page's HTML as text, and the URL it was served from after redirects (what its relative
/// addresses resolve against, unless it has a `<base href>`).
#[derive(Debug, Clone)]
pub struct Page {
    pub url: Url,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("page_url: {0}")]
    Fetch(#[from] FetchError),
    #[error("page_url: {url} is not an HTML page (it answered with Content-Type {content_type})")]
    NotHtml { url: String, content_type: String },
    /// The parser failed on the page: a bug the page found, so the page is refused.
    #[error("page_url: the markup of {0} could not be read")]
    Unreadable(String),
}

pub struct Pages {
    config: PageConfig,
    outbound: Outbound,
}

impl Pages {
    pub fn new(config: PageConfig, outbound: Outbound) -> Pages {
        Pages { config, outbound }
    }

    pub fn config(&self) -> &PageConfig {
        &self.config
    }

    /// Fetches the page and decodes it, refusing anything that is not HTML.
    pub async fn fetch(&self, url: &str) -> Result<Page, PageError> {
        let fetched = self.outbound.get(url, self.config.max_bytes).await?;
        let content_type = fetched.content_type.as_deref();
        if !is_html(content_type, &fetched.body) {
            return Err(PageError::NotHtml {
                url: fetched.url.to_string(),
                content_type: content_type.unwrap_or("(none)").to_string(),
            });
        }
        let html = charset::decode(&fetched.body, content_type);
        Ok(Page {
            url: fetched.url,
            html,
        })
    }
}

/// `text/html` or XHTML; a page served without a type passes when it starts like markup.
fn is_html(content_type: Option<&str>, body: &[u8]) -> bool {
    match content_type {
        Some(value) => {
            let essence = value.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("text/html")
                || essence.eq_ignore_ascii_case("application/xhtml+xml")
        }
        None => {
            body.strip_prefix(b"\xef\xbb\xbf")
                .unwrap_or(body)
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                == Some(&b'<')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_told_by_its_content_type_or_by_its_first_byte_without_one() {
        assert!(is_html(Some("text/html; charset=utf-8"), b""));
        assert!(is_html(Some("TEXT/HTML"), b""));
        assert!(is_html(Some("application/xhtml+xml"), b""));
        assert!(!is_html(Some("image/png"), b"<html>"));
        assert!(!is_html(Some("application/json"), b"{}"));
        assert!(!is_html(Some("text/plain"), b"<html>"));
        assert!(is_html(None, b"\xef\xbb\xbf\n  <!doctype html>"));
        assert!(!is_html(None, b"\x89PNG"));
    }
}
