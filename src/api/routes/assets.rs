//! GET /assets/{name}: the stylesheet and scripts our HTML pages share (the docs page and
//! the dashboard), compiled into the binary so that a server without internet access serves
//! complete pages. Like /docs they need no key and are not rate limited.
//!
//! Pages link to an asset by [`url`], which carries a fingerprint of its bytes: an answer to
//! that URL may be cached for a year, since a changed file gets a new URL. Any other request
//! (an old fingerprint, or none) must be revalidated, cheaply, by its ETag.
use std::sync::OnceLock;

use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::api::error::ApiError;

struct Asset {
    name: &'static str,
    bytes: &'static [u8],
}

/// Every file under `assets/` (a test checks that none is missing).
const ASSETS: &[Asset] = &[
    Asset {
        name: "site.css",
        bytes: include_bytes!("../../../assets/site.css"),
    },
    Asset {
        name: "site.js",
        bytes: include_bytes!("../../../assets/site.js"),
    },
    Asset {
        name: "dashboard.css",
        bytes: include_bytes!("../../../assets/dashboard.css"),
    },
    Asset {
        name: "dashboard.js",
        bytes: include_bytes!("../../../assets/dashboard.js"),
    },
    Asset {
        name: "docs.js",
        bytes: include_bytes!("../../../assets/docs.js"),
    },
    Asset {
        name: "favicon.svg",
        bytes: include_bytes!("../../../assets/favicon.svg"),
    },
];

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The content type of a file, by its extension; none for a kind we do not serve.
fn content_type(name: &str) -> Option<&'static str> {
    Some(match name.rsplit_once('.')?.1 {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

/// The first 16 hex digits of each asset's SHA-256, in the order of [`ASSETS`].
fn fingerprints() -> &'static [String] {
    static PRINTS: OnceLock<Vec<String>> = OnceLock::new();
    PRINTS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| hex::encode(&Sha256::digest(a.bytes)[..8]))
            .collect()
    })
}

fn find(name: &str) -> Option<(&'static Asset, &'static str)> {
    let index = ASSETS.iter().position(|a| a.name == name)?;
    Some((&ASSETS[index], fingerprints()[index].as_str()))
}

/// Where a page links to an asset: `/assets/site.css?v=<fingerprint>`. For templates:
/// `{{ crate::api::routes::assets::url("site.css") }}`. An unknown name gets a plain URL
/// (which answers 404), so a typo shows in the browser rather than failing the page.
pub fn url(name: &str) -> String {
    match find(name) {
        Some((asset, print)) => format!("/assets/{}?v={print}", asset.name),
        None => format!("/assets/{name}"),
    }
}

/// Whether `If-None-Match` names this ETag (or `*`).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

pub async fn get_asset(
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(((asset, print), content_type)) = find(&name).zip(content_type(&name)) else {
        return ApiError::new(StatusCode::NOT_FOUND, format!("No asset named {name}"))
            .into_response();
    };
    let current = query.is_some_and(|q| q.split('&').any(|pair| pair == format!("v={print}")));
    let cache = if current { IMMUTABLE } else { REVALIDATE };
    let etag = format!("\"{print}\"");
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    let common = [
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        (header::ETAG, etag_value),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    if not_modified(&headers, &etag) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        asset.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_under_assets_is_served_with_a_content_type() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("read assets/")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        on_disk.sort();
        let mut served: Vec<String> = ASSETS.iter().map(|a| a.name.to_string()).collect();
        served.sort();
        assert_eq!(on_disk, served, "assets/ and ASSETS differ");
        for asset in ASSETS {
            assert!(content_type(asset.name).is_some(), "{}", asset.name);
        }
    }

    #[test]
    fn urls_carry_the_fingerprint_of_the_bytes() {
        let url = url("site.css");
        let print = url.strip_prefix("/assets/site.css?v=").unwrap_or_default();
        assert_eq!(print.len(), 16, "{url}");
        assert_eq!(super::url("nope.css"), "/assets/nope.css");
    }

    #[test]
    fn if_none_match_is_read_as_a_list() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"old\", W/\"abc\""),
        );
        assert!(not_modified(&headers, "\"abc\""));
        assert!(!not_modified(&headers, "\"new\""));
        assert!(!not_modified(&HeaderMap::new(), "\"abc\""));
    }
}
