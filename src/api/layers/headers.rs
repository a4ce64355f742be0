//! Bounds the request headers. hyper refuses a head larger than its read buffer with a bare
//! 431; below that, this check gives the contract's `{"error"}` body.
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::error::ApiError;

/// Largest total of header names and values we accept.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// hyper's read buffer for a request head (its hard limit; above `MAX_HEADER_BYTES`).
pub const MAX_HEAD_BUFFER_BYTES: usize = 64 * 1024;
/// Most headers in one request (hyper's own limit, answered with a bare 431).
pub const MAX_HEADERS: usize = 100;

pub async fn bound_headers(request: Request, next: Next) -> Response {
    let size: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("The request headers are too large: {size} bytes, at most {MAX_HEADER_BYTES}"),
        )
        .into_response();
    }
    next.run(request).await
}
