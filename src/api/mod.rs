//! The API edge: the HTTP routes, the layers every request passes through, the one place
//! where errors become statuses, and the OpenAPI document; `/mcp` is mounted here too, behind
//! the same authentication (the MCP server itself is `crate::mcp`). Handlers parse what a client sent,
//! call a use case and shape its answer; they never reach the event store or the work queue
//! (a test, `tests/api/layers.rs`, keeps it so).
pub mod dashboard;
pub mod error;
pub mod fields;
pub mod html;
pub mod json;
pub mod layers;
pub mod openapi;
pub mod routes;
pub mod text;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, Request, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use secrecy::SecretString;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::adapters::idempotency::IdempotencyStore;
use crate::adapters::metrics::Metrics;
use crate::adapters::rate_limits::{Endpoint, RateLimiter};
use crate::usecases::App;

use layers::{auth, headers, https, idempotency, observe, rate_limit};
use routes::{assets, batches, bulk, generate, health, history, scan, spec, usage, validate};

pub use crate::usecases::history::STATUSES as JOB_STATUSES;
pub use error::{ApiError, ErrorBody};
pub use layers::headers::{MAX_HEADERS, MAX_HEADER_BYTES, MAX_HEAD_BUFFER_BYTES};
pub use layers::https::HttpsPolicy;
pub use layers::idempotency::REPLAYED as IDEMPOTENT_REPLAYED;
pub use routes::batches::{RedeliveryAccepted, WebhookDeliveries};
pub use routes::bulk::{BulkRequest, BulkResponse};
pub use routes::generate::{GenerateRequest, GenerateResponse};
pub use routes::history::HistoryResponse;
pub use routes::scan::{ScanRequest, ScanResponse};
pub use routes::usage::UsageResponse;
pub use routes::validate::{ValidateRequest, ValidateResponse};

/// What every handler and layer may use: the use cases, and the request edge's own records
/// (rate-limit counts, idempotency keys) and metrics.
#[derive(Clone)]
pub struct ApiState {
    pub app: App,
    pub rate_limiter: Arc<RateLimiter>,
    pub idempotency: IdempotencyStore,
    pub metrics: Arc<Metrics>,
}

/// What the HTTP layer needs to know beyond the app itself.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub request_timeout: Duration,
    /// Largest body of POST /generate.
    pub max_generate_body: usize,
    /// Largest body of POST /generate/bulk.
    pub max_bulk_body: usize,
    pub https: HttpsPolicy,
    /// When set, GET /metrics needs `Authorization: Bearer <token>`.
    pub metrics_token: Option<SecretString>,
    /// Whether visitors may open a free account from the sign-in page.
    pub signup: dashboard::Signup,
}

/// Largest body of POST /generate: a 20 MiB image as base64 is about 27 MiB, plus the fields.
pub const DEFAULT_GENERATE_BODY_BYTES: usize = 30 * 1024 * 1024;
/// Largest body of POST /generate/bulk: a hundred items, some of them inline images.
pub const DEFAULT_BULK_BODY_BYTES: usize = 100 * 1024 * 1024;
/// A request's deadline unless `ALTFRAME_REQUEST_TIMEOUT_SECS` says otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Largest body of every other request (a scan's is a URL and a few options).
const SMALL_BODY_BYTES: usize = 64 * 1024;

impl HttpConfig {
    /// The largest body a request to `endpoint` may send; an MCP tool's arguments count as
    /// the body of the endpoint it mirrors.
    pub fn body_limit(&self, endpoint: Endpoint) -> usize {
        match endpoint {
            Endpoint::Generate | Endpoint::Validate => self.max_generate_body,
            Endpoint::Bulk => self.max_bulk_body,
            Endpoint::Batches | Endpoint::History | Endpoint::Usage | Endpoint::Scan => {
                SMALL_BODY_BYTES
            }
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_generate_body: DEFAULT_GENERATE_BODY_BYTES,
            max_bulk_body: DEFAULT_BULK_BODY_BYTES,
            https: HttpsPolicy::default(),
            metrics_token: None,
            signup: dashboard::Signup::Closed,
        }
    }
}

pub fn router(state: ApiState, config: &HttpConfig) -> Router {
    let request_timeout = config.request_timeout;
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
    let limited = |route: MethodRouter<ApiState>, endpoint: Endpoint| -> MethodRouter<ApiState> {
        route.layer::<_, Infallible>(from_fn_with_state(
            (state.clone(), endpoint),
            rate_limit::enforce,
        ))
    };
    let idempotent = |route: MethodRouter<ApiState>, body_limit: usize| -> MethodRouter<ApiState> {
        route
            .layer::<_, Infallible>(from_fn_with_state(
                (state.clone(), body_limit),
                idempotency::idempotent,
            ))
            .layer(DefaultBodyLimit::max(body_limit))
    };
    let api = Router::new()
        .route(
            "/api/v1/generate",
            limited(
                idempotent(post(generate::post_generate), config.max_generate_body),
                Endpoint::Generate,
            ),
        )
        .route(
            "/api/v1/generate/bulk",
            limited(
                idempotent(post(bulk::post_bulk), config.max_bulk_body),
                Endpoint::Bulk,
            ),
        )
        .route(
            "/api/v1/batches/{batch_id}",
            limited(get(batches::get_batch), Endpoint::Batches),
        )
        .route(
            "/api/v1/batches/{batch_id}/webhook",
            limited(get(batches::get_webhook), Endpoint::Batches),
        )
        .route(
            "/api/v1/batches/{batch_id}/webhook/redeliver",
            limited(post(batches::post_redeliver), Endpoint::Batches),
        )
        .route(
            "/api/v1/validate",
            limited(
                idempotent(post(validate::post_validate), config.max_generate_body),
                Endpoint::Validate,
            ),
        )
        .route(
            "/api/v1/history",
            limited(get(history::get_history), Endpoint::History),
        )
        .route(
            "/api/v1/usage",
            limited(get(usage::get_usage), Endpoint::Usage),
        )
        // A scan with `generate` submits a batch: a retry with its Idempotency-Key must not
        // submit a second one.
        .route(
            "/api/v1/scan",
            limited(
                idempotent(post(scan::post_scan), SMALL_BODY_BYTES),
                Endpoint::Scan,
            ),
        )
        // The MCP server: each tool call counts against the rate limit of the endpoint it
        // mirrors, and its arguments are held to that endpoint's body limit.
        .route("/mcp", crate::mcp::http::route(state.clone(), config))
        .route_layer(from_fn_with_state(state.clone(), auth::authenticate));
    let metrics_token = config.metrics_token.clone().map(Arc::new);
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/metrics",
            get(observe::get_metrics).with_state((state.clone(), metrics_token)),
        )
        .route("/openapi.yaml", get(spec::get_openapi))
        .route("/docs", get(spec::get_docs))
        .route("/assets/{name}", get(assets::get_asset))
        .merge(api)
        .merge(dashboard::router(config.signup, config.max_generate_body))
        .route_layer(axum::middleware::from_fn(observe::name_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(SMALL_BODY_BYTES))
        .layer(axum::middleware::from_fn(headers::bound_headers))
        .layer(from_fn_with_state(
            std::sync::Arc::new(config.https.clone()),
            https::require_https,
        ))
        .layer(layers)
        .layer(from_fn_with_state(state.clone(), observe::track))
        .with_state(state)
}

/// Gives the contract's `{"error"}` body to error responses made by layers rather than by
/// our handlers or pages (a request timeout, say), so that every error a client sees has the same shape.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    // Our JSON errors and the dashboard's HTML error pages already say what happened.
    let ours = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || ours {
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

/// A 404: the dashboard's page for a browser under its paths, the contract's JSON elsewhere.
async fn not_found(uri: axum::http::Uri) -> Response {
    if dashboard::owns(uri.path()) {
        return dashboard::not_found();
    }
    ApiError::new(StatusCode::NOT_FOUND, "Not found").into_response()
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
