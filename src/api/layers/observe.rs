//! Request metrics: every answer counted by method, route template and status, and timed.
//! The route is learnt where routing happens (an inner layer) and read where the answer leaves
//! (the outer one), so that answers made by outer layers (a timeout, a refused plain-HTTP
//! request) are counted under their route too.
use std::sync::{Arc, OnceLock};

use secrecy::{ExposeSecret, SecretString};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::error::ApiError;
use crate::api::ApiState;
use crate::usecases::status;

/// Filled in with the route template once the router has matched the request.
#[derive(Clone, Default)]
struct RouteSlot(Arc<OnceLock<MatchedPath>>);

/// Outer layer: times the request and counts its answer.
pub async fn track(State(state): State<ApiState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let slot = RouteSlot::default();
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    let route = slot.0.get().map_or("unmatched", MatchedPath::as_str);
    state
        .metrics
        .observe_request(method, route, response.status().as_u16(), started.elapsed());
    response
}

/// The method as a label: the standard ones by name, anything else as `OTHER`, so that a
/// client inventing methods cannot create series without end.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Inner layer (on matched routes only): names the route.
pub async fn name_route(matched: MatchedPath, request: Request, next: Next) -> Response {
    if let Some(slot) = request.extensions().get::<RouteSlot>() {
        let _ = slot.0.set(matched);
    }
    next.run(request).await
}

/// GET /metrics, in Prometheus' text format. With a token configured, only for
/// `Authorization: Bearer <token>`.
pub async fn get_metrics(
    State((state, token)): State<(ApiState, Option<Arc<SecretString>>)>,
    request: Request,
) -> Response {
    if let Some(token) = token {
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if presented.map(str::trim) != Some(token.expose_secret()) {
            return ApiError::unauthorized(
                "GET /metrics needs Authorization: Bearer <metrics token>",
            )
            .into_response();
        }
    }
    let rendered = match status::store_figures(&state.app).await {
        Ok(figures) => state.metrics.render(&figures).map_err(ApiError::internal),
        Err(e) => Err(ApiError::from(e)),
    };
    match rendered {
        Ok(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
