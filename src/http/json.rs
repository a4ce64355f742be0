//! A JSON body extractor whose rejections are the contract's `{"error"}` 400s, keeping serde's
//! message (it names the field and what is wrong). It also refuses deeply nested JSON before
//! parsing it: no request of ours nests more than four levels.
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Deepest nesting of arrays and objects accepted in a request body.
pub const MAX_JSON_DEPTH: usize = 32;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::bad_request(
                "Expected a JSON body with the header Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "The request body is too large",
                )
            } else {
                ApiError::bad_request(rejection.body_text())
            }
        })?;
        let scan = scan(&bytes, MAX_JSON_DEPTH);
        if scan.too_deep {
            return Err(ApiError::bad_request(format!(
                "The body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep"
            )));
        }
        if scan.nul_in_string {
            return Err(ApiError::bad_request(
                "Text in the body must not contain NUL characters (\\u0000)",
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(reject(rejection)),
        }
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(mime) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
    else {
        return false;
    };
    let mime = mime.trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// What a quick pass over the raw body finds, before serde parses it.
#[derive(Debug, Default, PartialEq)]
struct Scan {
    /// Arrays and objects nest deeper than the limit.
    too_deep: bool,
    /// A string holds `\u0000`, which Postgres cannot store in text or JSON.
    nul_in_string: bool,
}

/// Counts nesting outside strings (brackets inside strings do not count) and looks for
/// escaped NUL characters inside them. Stops at the first finding.
fn scan(bytes: &[u8], max_depth: usize) -> Scan {
    let (mut depth, mut in_string) = (0usize, false);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => {
                    if bytes[i + 1..].starts_with(b"u0000") {
                        return Scan {
                            nul_in_string: true,
                            ..Scan::default()
                        };
                    }
                    i += 1;
                }
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > max_depth {
                        return Scan {
                            too_deep: true,
                            ..Scan::default()
                        };
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        i += 1;
    }
    Scan::default()
}

/// axum's rejection of a body that parsed badly, in our words (keeping serde's, which name the
/// field and what is wrong).
fn reject(rejection: JsonRejection) -> ApiError {
    let message = match &rejection {
        JsonRejection::JsonSyntaxError(_) => {
            format!("The body is not valid JSON: {}", detail(&rejection))
        }
        JsonRejection::JsonDataError(_) => format!("Invalid request body: {}", detail(&rejection)),
        _ => rejection.body_text(),
    };
    ApiError::bad_request(message)
}

/// serde's own words, without axum's generic preamble.
fn detail(rejection: &JsonRejection) -> String {
    let text = rejection.body_text();
    match text.split_once(": ") {
        Some((_, rest)) => rest.to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn too_deep(bytes: &[u8], max: usize) -> bool {
        scan(bytes, max).too_deep
    }

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert!(!too_deep(br#"{"a":[{"b":{}}]}"#, 4));
        assert!(too_deep(br#"{"a":[{"b":{"c":[]}}]}"#, 4));
        assert!(!too_deep(br#"{"a":"[[[[[[{{{{{"}"#, 2));
        assert!(!too_deep(br#"{"a":"\"[[[[[[","b":1}"#, 1));
        let deep = "[".repeat(10_000);
        assert!(too_deep(deep.as_bytes(), MAX_JSON_DEPTH));
    }

    #[test]
    fn an_escaped_nul_is_found_but_an_escaped_backslash_before_u0000_is_text() {
        assert!(scan(br#"{"a":"x\u0000y"}"#, 4).nul_in_string);
        assert!(!scan(br#"{"a":"x\\u0000y"}"#, 4).nul_in_string);
        assert!(!scan(br#"{"a":"x\u0001y"}"#, 4).nul_in_string);
    }
}
