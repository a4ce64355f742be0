//! The HTTP API: routes, and the layers every request passes through.
mod auth;
mod batches;
mod bulk;
mod error;
mod fields;
mod generate;
mod health;
mod history;
mod json;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::app::App;

pub use error::ApiError;
pub use generate::GenerateRequest;

/// Largest request body: a 20 MiB image as base64 is about 27 MiB, plus the other fields.
pub const MAX_BODY_BYTES: usize = 30 * 1024 * 1024;

pub fn router(app: App, request_timeout: Duration) -> Router {
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let request_id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        path = %req.uri().path(),
                        request_id,
                        account_id = tracing::field::Empty,
                        key_id = tracing::field::Empty,
                    )
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(axum::middleware::map_response(json_errors))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            request_timeout,
        ));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/generate", post(generate::post_generate))
        .route("/api/v1/generate/bulk", post(bulk::post_bulk))
        .route("/api/v1/batches/{batch_id}", get(batches::get_batch))
        .route("/api/v1/history", get(history::get_history))
        .route("/api/v1/usage", get(history::get_usage))
        .route(
            "/api/v1/batches/{batch_id}/webhook",
            get(batches::get_webhook),
        )
        .route(
            "/api/v1/batches/{batch_id}/webhook/redeliver",
            post(batches::post_redeliver),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(layers)
        .with_state(app)
}

/// Gives the contract's `{"error"}` body to error responses made by layers rather than by
/// our handlers (a request timeout, say), so that every error a client sees has the same shape.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let message = match status {
        StatusCode::GATEWAY_TIMEOUT => "The request took too long and was abandoned",
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = ApiError::new(status, message).into_response();
    let (fresh, body) = body.into_parts();
    parts.headers.extend(fresh.headers);
    Response::from_parts(parts, body)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Not found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn errors_from_layers_get_the_json_shape_and_keep_their_headers() {
        let response = Response::builder()
            .status(StatusCode::GATEWAY_TIMEOUT)
            .header("x-request-id", "abc")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = json_errors(response).await;
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(response.headers()["x-request-id"], "abc");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let bytes = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"], "The request took too long and was abandoned");
    }
}
