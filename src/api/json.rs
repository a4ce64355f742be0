//! A JSON body extractor whose rejections are the contract's `{"error"}` 400s, keeping serde's
//! message (it names the field and what is wrong). It also refuses deeply nested JSON before
//! parsing it: no request of ours nests more than four levels.
//!
//! The body is read into one buffer, sized from Content-Length when there is one, and request
//! types may borrow their long strings from it ([`JsonStr`]): a bulk request of inline images
//! is then held in memory once, not three times (chunks, their concatenation, parsed strings).
use std::borrow::Cow;
use std::fmt;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::RequestExt;
use futures_util::StreamExt;
use serde::de::{DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer};

use super::error::ApiError;

/// Deepest nesting of arrays and objects accepted in a request body.
pub const MAX_JSON_DEPTH: usize = 32;

/// A request body parsed into an owned `T`.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = JsonBody::from_request(req, state).await?;
        body.parse().map(ApiJson)
    }
}

/// A JSON request body, read whole and checked (depth, NUL characters) but not yet parsed: for
/// request types that borrow from it.
pub struct JsonBody(Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::bad_request(
                "Expected a JSON body with the header Content-Type: application/json",
            ));
        }
        // Within the route's limit (`DefaultBodyLimit`).
        let bytes = collect(req.into_limited_body()).await.map_err(unreadable)?;
        JsonBody::checked(bytes)
    }
}

impl JsonBody {
    /// A JSON value that came some other way than an HTTP body (an MCP tool's arguments),
    /// held to the same rules as a body: the endpoint's size limit, the depth and NUL checks,
    /// and then the same parser, so that it gets the same answers.
    pub fn from_value(value: &serde_json::Value, limit: usize) -> Result<JsonBody, ApiError> {
        let bytes = serde_json::to_vec(value).map_err(ApiError::internal)?;
        if bytes.len() > limit {
            return Err(too_large());
        }
        JsonBody::checked(bytes.into())
    }

    fn checked(bytes: Bytes) -> Result<JsonBody, ApiError> {
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
        Ok(JsonBody(bytes))
    }

    /// Parses the body, with serde's message (and the path of the field at fault) in the 400.
    pub fn parse<'a, T: Deserialize<'a>>(&'a self) -> Result<T, ApiError> {
        parse(&self.0)
    }
}

/// Reads a whole body into one buffer, reserved once from the body's size hint (Content-Length,
/// capped by a limit wrapped around the body). A body already in one piece, as the idempotency
/// layer hands on, is taken as it is.
pub(super) async fn collect(body: Body) -> Result<Bytes, axum::Error> {
    let expected = usize::try_from(body.size_hint().lower()).unwrap_or(0);
    let mut chunks = body.into_data_stream();
    let Some(first) = chunks.next().await.transpose()? else {
        return Ok(Bytes::new());
    };
    let Some(second) = chunks.next().await.transpose()? else {
        return Ok(first);
    };
    let mut buffer = Vec::with_capacity(expected.max(first.len() + second.len()));
    buffer.extend_from_slice(&first);
    buffer.extend_from_slice(&second);
    drop((first, second));
    while let Some(chunk) = chunks.next().await {
        buffer.extend_from_slice(&chunk?);
    }
    Ok(buffer.into())
}

/// A body that could not be read: over the limit (413), or broken off (400).
fn unreadable(error: axum::Error) -> ApiError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = cause {
        if e.is::<http_body_util::LengthLimitError>() {
            return too_large();
        }
        cause = e.source();
    }
    ApiError::bad_request(format!("Failed to buffer the request body: {error}"))
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "The request body is too large",
    )
}

/// Parses a whole body as `T`. The messages are those axum's `Json` gave (serde's, with the
/// path of the field at fault), in our words.
fn parse<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        match e.inner().classify() {
            serde_json::error::Category::Data => invalid(e),
            _ => not_json(e),
        }
    })?;
    deserializer.end().map_err(not_json)?;
    Ok(value)
}

fn not_json(e: impl fmt::Display) -> ApiError {
    ApiError::bad_request(format!("The body is not valid JSON: {e}"))
}

fn invalid(e: impl fmt::Display) -> ApiError {
    ApiError::bad_request(format!("Invalid request body: {e}"))
}

/// A JSON string that borrows from the body unless it holds escapes (then it is unescaped into
/// a copy). Its errors are `String`'s ("expected a string").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonStr<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for JsonStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = Cow<'de, str>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }

            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }

            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        deserializer.deserialize_string(Text).map(JsonStr)
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

/// The parser against axum's `Json`, which this module used before it parsed bodies itself:
/// every message must be the same, and strings without escapes must be borrowed.
#[cfg(test)]
mod same_as_axum {
    use std::collections::BTreeMap;

    use axum::extract::rejection::JsonRejection;

    use super::*;

    // Read only by serde: their fields are the shapes being parsed.
    #[allow(dead_code)]
    mod owned {
        #[derive(Debug, serde::Deserialize)]
        pub struct Request {
            pub images: Option<Vec<Image>>,
            pub mode: Option<String>,
        }
        #[derive(Debug, serde::Deserialize)]
        pub struct Image {
            pub image_base64: Option<String>,
            pub product_attributes: Option<super::BTreeMap<String, String>>,
        }
    }

    #[allow(dead_code)]
    mod borrowed {
        use super::JsonStr;

        #[derive(Debug, serde::Deserialize)]
        pub struct Request<'a> {
            #[serde(borrow)]
            pub images: Option<Vec<Image<'a>>>,
            pub mode: Option<String>,
        }
        #[derive(Debug, serde::Deserialize)]
        pub struct Image<'a> {
            #[serde(borrow)]
            pub image_base64: Option<JsonStr<'a>>,
            pub product_attributes: Option<super::BTreeMap<String, String>>,
        }
    }

    /// How the rejections of axum's `Json` were worded.
    fn axum_message(rejection: JsonRejection) -> String {
        let text = rejection.body_text();
        let detail = text
            .split_once(": ")
            .map_or(text.clone(), |(_, d)| d.into());
        match rejection {
            JsonRejection::JsonSyntaxError(_) => format!("The body is not valid JSON: {detail}"),
            JsonRejection::JsonDataError(_) => format!("Invalid request body: {detail}"),
            _ => text,
        }
    }

    #[test]
    fn every_refusal_has_the_words_axum_gave() {
        let bodies = [
            "",
            "{",
            "[]",
            "\"x\"",
            "{} x",
            "{}{}",
            r#"{"images": 5}"#,
            r#"{"images": [5]}"#,
            r#"{"images": [{"image_base64": 5}]}"#,
            r#"{"images": [{}, {"image_base64": ["a"]}]}"#,
            r#"{"images": [{"image_base64": "ab\q"}]}"#,
            r#"{"images": [{"image_base64": "ab"#,
            r#"{"images": [{"product_attributes": {"a": 1}}]}"#,
            r#"{"mode": 1}"#,
            r#"{"mode": "x", "mode": "y"}"#,
            "{\"mode\": \"\u{1}\"}",
            "{\"images\": [{\"image_base64\": \"\\ud800\"}]}",
        ];
        for body in bodies {
            let expected = match axum::Json::<owned::Request>::from_bytes(body.as_bytes()) {
                Ok(_) => panic!("{body} should be refused"),
                Err(rejection) => axum_message(rejection),
            };
            let ours = parse::<borrowed::Request>(body.as_bytes()).expect_err(body);
            assert_eq!(ours.status, StatusCode::BAD_REQUEST);
            assert_eq!(ours.message, expected, "for {body}");
        }
    }

    #[test]
    fn strings_are_borrowed_unless_they_hold_escapes() {
        let body = br#"{"images": [{"image_base64": "aGk="}, {"image_base64": "a\/b\u0041"}, {}],
                        "mode": "x"}"#;
        let request: borrowed::Request = parse(body).unwrap();
        let texts: Vec<_> = request
            .images
            .unwrap()
            .into_iter()
            .map(|i| i.image_base64.map(|s| s.0))
            .collect();
        assert!(matches!(&texts[0], Some(Cow::Borrowed("aGk="))));
        assert!(matches!(&texts[1], Some(Cow::Owned(s)) if s == "a/bA"));
        assert_eq!(texts[2], None);
        assert_eq!(request.mode.as_deref(), Some("x"));
    }
}
