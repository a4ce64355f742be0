//! Enforces the per-key rate limits and tells the client where it stands, in the
//! `X-RateLimit-*` headers of every authenticated response.
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::adapters::rate_limits::{Decision, Endpoint};
use crate::api::error::{ApiError, Miswired};
use crate::api::layers::auth::Caller;
use crate::api::ApiState;

const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// Counts the request against its key's limit for `endpoint`; over it, answers 429 without
/// running anything.
pub async fn enforce(
    State((state, endpoint)): State<(ApiState, Endpoint)>,
    request: Request,
    next: Next,
) -> Response {
    let Some(caller) = request.extensions().get::<Caller>().cloned() else {
        return ApiError::internal(Miswired("rate limit applied before authentication"))
            .into_response();
    };
    let decision = match count(&state, &caller, endpoint).await {
        Ok(decision) => decision,
        Err(e) => return e.into_response(),
    };
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        let retry_after = decision.retry_after(state.app.clock().now());
        let mut response = exceeded(&state, endpoint, &decision).into_response();
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            HeaderValue::from(retry_after),
        );
        response
    };
    add_headers(response.headers_mut(), &decision);
    response
}

/// Counts one request of `caller` to `endpoint`: this layer's count, and an MCP tool call's
/// against the endpoint it mirrors.
pub async fn count(
    state: &ApiState,
    caller: &Caller,
    endpoint: Endpoint,
) -> Result<Decision, ApiError> {
    let now = state.app.clock().now();
    state
        .rate_limiter
        .hit(caller.key_id.as_str(), caller.plan, endpoint, now)
        .await
        .map_err(ApiError::internal)
}

/// The 429 for a request the count refused, saying when to try again.
pub fn exceeded(state: &ApiState, endpoint: Endpoint, decision: &Decision) -> ApiError {
    tracing::info!(
        endpoint = endpoint.as_str(),
        limit = decision.limit,
        "rate limited"
    );
    let retry_after = decision.retry_after(state.app.clock().now());
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "Rate limit exceeded: {} requests per minute to this endpoint. Retry after {retry_after} seconds.",
            decision.limit
        ),
    )
}

fn add_headers(headers: &mut HeaderMap, decision: &Decision) {
    headers.insert(LIMIT, HeaderValue::from(decision.limit));
    headers.insert(REMAINING, HeaderValue::from(decision.remaining));
    headers.insert(RESET, HeaderValue::from(decision.reset_at));
}
