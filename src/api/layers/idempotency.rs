//! `Idempotency-Key` on the two POST endpoints: a retry gets the first answer, byte for byte,
//! and runs nothing; the same key with another body is refused; a retry while the first
//! request still runs is told to wait (409), so a request never runs twice.
//!
//! Every answer is kept, except those that prove nothing was charged (a refused or invalid
//! request, or a model failure whose credits were released): then the key is let go and a
//! retry with it runs again.
use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::adapters::idempotency::{Claim, IdempotencyStore, StoredResponse};
use crate::api::error::{ApiError, Miswired};
use crate::api::json::collect;
use crate::api::layers::auth::Caller;
use crate::api::ApiState;

pub const HEADER: &str = "idempotency-key";
/// Marks an answer that is the replay of an earlier one.
pub const REPLAYED: &str = "idempotent-replayed";
const MAX_KEY_CHARS: usize = 255;
/// Our own answers are small JSON documents; this only bounds a surprise.
const MAX_STORED_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

pub async fn idempotent(
    State((state, body_limit)): State<(ApiState, usize)>,
    request: Request,
    next: Next,
) -> Response {
    let Some(key) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match valid_key(key) {
        Ok(key) => key,
        Err(e) => return e.into_response(),
    };
    let Some(caller) = request.extensions().get::<Caller>().cloned() else {
        return ApiError::internal(Miswired("idempotency applied before authentication"))
            .into_response();
    };
    let (parts, body) = request.into_parts();
    let limited = Body::new(http_body_util::Limited::new(body, body_limit));
    let bytes = match collect(limited).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large",
            )
            .into_response()
        }
    };
    let fingerprint = fingerprint(&parts.method, parts.uri.path(), &bytes);
    let claim = state
        .idempotency
        .claim(
            caller.account_id.as_str(),
            &key,
            &fingerprint,
            state.app.clock().now(),
        )
        .await;
    match claim {
        Err(e) => ApiError::internal(e).into_response(),
        Ok(Claim::Mismatch) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "This Idempotency-Key was already used with a different request. Use a new key for a new request.",
        )
        .into_response(),
        Ok(Claim::InProgress) => {
            let mut response = ApiError::new(
                StatusCode::CONFLICT,
                "A request with this Idempotency-Key is still being processed. Retry in a moment to get its answer.",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Ok(Claim::Replay(stored)) => replay(stored),
        Ok(Claim::Fresh) => {
            let guard = ClaimGuard {
                store: state.idempotency.clone(),
                account_id: caller.account_id.to_string(),
                key: key.clone(),
                armed: true,
            };
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            finish(guard, response).await
        }
    }
}

/// Statuses our handlers answer only before anything was committed (a refused or invalid
/// request), or after the work failed and its credits were released (502). A retry with the
/// same key may run again: it cannot charge twice.
fn nothing_was_charged(status: StatusCode) -> bool {
    matches!(
        status.as_u16(),
        400 | 401 | 402 | 403 | 404 | 413 | 422 | 429 | 502
    )
}

/// Keeps the answer for retries, unless it proves nothing was charged: then lets the key go.
/// Any other answer is kept, errors too (a 500 may come after a charge was committed), so a
/// key never runs its request twice.
async fn finish(mut guard: ClaimGuard, response: Response) -> Response {
    if nothing_was_charged(response.status()) {
        guard.armed = false;
        if let Err(e) = guard.store.release(&guard.account_id, &guard.key).await {
            tracing::error!(error = %e, "could not release an idempotency key");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_STORED_RESPONSE_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let stored = StoredResponse {
        status: parts.status.as_u16(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    // Kept by a task of its own, so that a client hanging up now cannot stop it halfway; the
    // answer waits for it, so that a retry sent after the answer finds it kept.
    guard.armed = false;
    if let Some(keeping) = keep_answer(
        guard.store.clone(),
        guard.account_id.clone(),
        guard.key.clone(),
        stored,
    ) {
        let _ = keeping.await;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Stores an answer for a claimed key, trying a few times: until it is stored, retries of the
/// key get 409, and after the hold expires one of them would run the request again.
fn keep_answer(
    store: IdempotencyStore,
    account_id: String,
    key: String,
    answer: StoredResponse,
) -> Option<tokio::task::JoinHandle<()>> {
    let runtime = tokio::runtime::Handle::try_current().ok()?;
    Some(runtime.spawn(async move {
        for attempt in 1..=3u32 {
            match store.complete(&account_id, &key, &answer).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::error!(error = %e, attempt, "could not keep an idempotent answer");
                    tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt)))
                        .await;
                }
            }
        }
    }))
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

fn valid_key(value: &HeaderValue) -> Result<String, ApiError> {
    let key = value.to_str().unwrap_or_default().trim();
    let printable = key.bytes().all(|b| b.is_ascii_graphic());
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !printable {
        return Err(ApiError::bad_request(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters (a UUID is a good choice)"
        )));
    }
    Ok(key.to_string())
}

/// What makes two requests "the same": endpoint and JSON content. Key order and whitespace do
/// not count (the body is re-serialised with sorted keys); a body that is not JSON counts as
/// its bytes.
fn fingerprint(method: &Method, path: &str, body: &Bytes) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str());
    hasher.update(b" ");
    hasher.update(path);
    hasher.update(b"\n");
    match serde_json::from_slice::<serde_json::Value>(body) {
        // Written straight into the hash: the same bytes as `value.to_string()`, without a
        // second copy of a body that may be hundreds of megabytes.
        Ok(value) => {
            // Cannot fail: a JSON value always serialises, and a hash takes every write.
            let _ = serde_json::to_writer(Hashing(&mut hasher), &value);
        }
        Err(_) => hasher.update(body),
    }
    hex::encode(hasher.finalize())
}

/// Feeds what is written to it into a hash.
struct Hashing<'a>(&'a mut Sha256);

impl std::io::Write for Hashing<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Answers for the key if its request is abandoned midway (the client hung up, or the request
/// timed out): whether the work was committed is unknown, so the key must not run it again.
/// Its retries get a 500 saying so; the client checks history and uses a new key.
struct ClaimGuard {
    store: IdempotencyStore,
    account_id: String,
    key: String,
    armed: bool,
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let answer = StoredResponse {
            status: StatusCode::INTERNAL_SERVER_ERROR.as_u16(),
            body: serde_json::json!({
                "error": "The first request with this Idempotency-Key was interrupted before it answered, so its outcome is unknown. Check GET /api/v1/history, then retry with a new key if it did not complete."
            })
            .to_string(),
        };
        keep_answer(
            self.store.clone(),
            std::mem::take(&mut self.account_id),
            std::mem::take(&mut self.key),
            answer,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_and_whitespace_do_not_change_the_fingerprint() {
        let a = fingerprint(&Method::POST, "/x", &Bytes::from(r#"{"a":1,"b":[1,2]}"#));
        let b = fingerprint(
            &Method::POST,
            "/x",
            &Bytes::from("{ \"b\": [1, 2], \"a\": 1 }"),
        );
        assert_eq!(a, b);
        let other = fingerprint(&Method::POST, "/x", &Bytes::from(r#"{"a":2,"b":[1,2]}"#));
        assert_ne!(a, other);
        let elsewhere = fingerprint(&Method::POST, "/y", &Bytes::from(r#"{"a":1,"b":[1,2]}"#));
        assert_ne!(a, elsewhere);
    }

    #[test]
    fn the_fingerprint_is_the_hash_of_the_canonical_json_as_before() {
        // Fingerprints are stored: their definition must not change across versions.
        let body = Bytes::from(r#"{ "b": ["x\/y", 2.5], "a": {"d": null, "c": true} }"#);
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let mut hasher = Sha256::new();
        hasher.update("POST /x\n");
        hasher.update(value.to_string());
        assert_eq!(
            fingerprint(&Method::POST, "/x", &body),
            hex::encode(hasher.finalize())
        );
    }

    #[test]
    fn a_key_must_be_short_printable_ascii() {
        assert!(valid_key(&HeaderValue::from_static("7f0c2a0e-order-42")).is_ok());
        assert!(valid_key(&HeaderValue::from_static("")).is_err());
        assert!(valid_key(&HeaderValue::from_static("has space")).is_err());
        let long = "k".repeat(256);
        assert!(valid_key(&HeaderValue::from_str(&long).unwrap()).is_err());
    }
}
