//! What a web address tells a reader: where a link goes ("Annual plans, example.com") and
//! whose site it is ("acme-tools.com" is Acme Tools). The addresses are the caller's free
//! text, so anything odd gives `None`, never a panic.
use altframe_domain::generation::Role;
use url::{ParseError, Url};

use super::capitalise;

/// The host a relative link is resolved against when the page's address is unknown; it is
/// never shown.
const UNKNOWN_HOST: &str = "unknown-host.invalid";

/// Path segments that name no page of their own.
const UNNAMED_SEGMENTS: [&str; 5] = ["index", "default", "home", "main", "www"];

/// Endings of a file name rather than of a domain, for a link written without its scheme.
const FILE_ENDINGS: [&str; 8] = ["html", "htm", "php", "asp", "aspx", "jsp", "cgi", "pdf"];

/// Where a link goes, in words: "Annual plans, example.com", "Link to example.com" (a button:
/// "Go to example.com"), "Email sales@example.com"; `None` when the address says nothing.
/// A relative link is read against `page`, the address of the page holding it.
pub(super) fn destination(link: &str, page: Option<&str>, role: Role) -> Option<String> {
    let url = resolve(link, page)?;
    match url.scheme() {
        "mailto" => contact("Email", &url),
        "tel" => contact("Call", &url),
        _ => web_destination(&url, role),
    }
}

/// The organisation a web address names, from its domain: `https://www.acme-tools.com/about`
/// gives "Acme Tools"; `None` for an IP address or an address without a domain.
pub(super) fn organisation_name(address: &str) -> Option<String> {
    let url = resolve(address, None)?;
    let domain = url.domain().filter(|d| *d != UNKNOWN_HOST)?;
    let label = name_label(domain).filter(|l| !l.starts_with("xn--"))?;
    let words: Vec<String> = label
        .split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(capitalise)
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The address as an absolute URL: as given, with `https://` when it starts with a domain,
/// or relative to the page (else to an unknown host).
fn resolve(address: &str, page: Option<&str>) -> Option<Url> {
    let address = address.trim();
    match Url::parse(address) {
        Ok(url) => Some(url),
        Err(ParseError::RelativeUrlWithoutBase) if starts_with_domain(address) => {
            Url::parse(&format!("https://{address}")).ok()
        }
        Err(ParseError::RelativeUrlWithoutBase) => {
            let base = page
                .and_then(|p| Url::parse(p.trim()).ok())
                .or_else(|| Url::parse(&format!("https://{UNKNOWN_HOST}/")).ok())?;
            base.join(address).ok()
        }
        Err(_) => None,
    }
}

/// Whether a scheme-less address begins with a domain ("example.com/pricing"), not a path
/// ("pricing.html", "/pricing", "../pricing").
fn starts_with_domain(address: &str) -> bool {
    let first = address.split(['/', '?', '#']).next().unwrap_or_default();
    match first.rsplit_once('.') {
        Some((name, ending)) => {
            !name.is_empty()
                && !name.starts_with('.')
                && (2..=24).contains(&ending.len())
                && ending.chars().all(|c| c.is_ascii_alphabetic())
                && !FILE_ENDINGS.contains(&ending.to_ascii_lowercase().as_str())
        }
        None => false,
    }
}

/// "Email sales@example.com", "Call +1 555 0100": what a `mailto:` or `tel:` link does.
fn contact(verb: &str, url: &Url) -> Option<String> {
    let decoded = percent_decode(url.path());
    let to = decoded.trim();
    (!to.is_empty()).then(|| format!("{verb} {to}"))
}

fn web_destination(url: &Url, role: Role) -> Option<String> {
    match (page_name(url), shown_host(url)) {
        (Some(page), Some(host)) => Some(format!("{page}, {host}")),
        (Some(page), None) => Some(page),
        (None, Some(host)) if role == Role::Button => Some(format!("Go to {host}")),
        (None, Some(host)) => Some(format!("Link to {host}")),
        (None, None) => None,
    }
}

/// The host as a reader knows it, without `www.`; `None` for a relative link on an unknown
/// page.
fn shown_host(url: &Url) -> Option<String> {
    let host = url
        .host_str()
        .filter(|h| *h != UNKNOWN_HOST && !h.is_empty())?;
    Some(host.strip_prefix("www.").unwrap_or(host).to_string())
}

/// The last path segment that names a page, in words: "annual-plans" gives "Annual plans".
/// Ids, language codes and "index" name nothing and are passed over.
fn page_name(url: &Url) -> Option<String> {
    url.path_segments()?
        .rev()
        .map(segment_words)
        .find(|words| names_a_page(words))
        .map(|words| capitalise(&words))
}

/// A path segment decoded, without its file ending, its separators turned into spaces.
fn segment_words(segment: &str) -> String {
    let decoded = percent_decode(segment);
    without_file_ending(&decoded)
        .split(|c: char| c == '-' || c == '_' || c == '+' || c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn without_file_ending(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, ending))
            if !stem.is_empty()
                && (1..=5).contains(&ending.len())
                && ending.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            stem
        }
        _ => name,
    }
}

/// Whether words from a path name a page: more letters than digits, at least two of them,
/// and not a language code or a name like "index".
fn names_a_page(words: &str) -> bool {
    let letters = words.chars().filter(|c| c.is_alphabetic()).count();
    let digits = words.chars().filter(char::is_ascii_digit).count();
    letters >= 2
        && letters > digits
        && !is_language_code(words)
        && !UNNAMED_SEGMENTS
            .iter()
            .any(|u| words.eq_ignore_ascii_case(u))
}

/// "en", "fr", "en us" (from "en-US"): a segment that only picks the page's language.
fn is_language_code(words: &str) -> bool {
    let parts: Vec<&str> = words.split(' ').collect();
    parts.len() <= 2
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_alphabetic()))
}

/// The label of a domain that names its owner: "acme" in "www.acme.com" and "shop.acme.co.uk".
fn name_label(domain: &str) -> Option<&str> {
    let labels: Vec<&str> = domain
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
        .collect();
    match labels.as_slice() {
        [] => None,
        [only] => Some(*only),
        [.., name, second, country] if is_country_second_level(second, country) => Some(*name),
        [.., name, _] => Some(*name),
    }
}

/// "co.uk", "com.au": a country's second level, under which the owner's label is one further.
fn is_country_second_level(second: &str, country: &str) -> bool {
    country.len() == 2
        && matches!(
            second,
            "co" | "com" | "org" | "net" | "ac" | "gov" | "edu" | "ne" | "or"
        )
}

/// Decodes `%XX` escapes (a bad escape stays as it is, bad UTF-8 becomes U+FFFD) and drops
/// control characters, which an address can hide in escapes (`%0A`) and text must not hold.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests;
