//! `/mcp` on `serve`: the MCP server over streamable HTTP, behind the API's authentication.
//!
//! Stateless (docs/decisions/0014-mcp-over-stateless-http.md): every POST is answered on its
//! own, with a JSON body, and nothing is kept between requests, so any `serve` process behind
//! a balancer can take any request. The caller comes from the request: the API's auth layer
//! checks the key before rmcp sees the request and leaves its `Caller` in the request's
//! extensions, which rmcp hands to the tool call with the rest of the request's parts.
use std::sync::Arc;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{any_service, MethodRouter};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};

use super::McpServer;
use crate::api::{ApiError, ApiState, HttpConfig};

/// Longest error text of rmcp's we keep when giving it the API's error shape.
const ERROR_TEXT_BYTES: usize = 4 * 1024;

/// The route of `/mcp`. The API's router mounts it among the routes that need a key.
pub fn route(state: ApiState, config: &HttpConfig) -> MethodRouter<ApiState> {
    let server = McpServer::over_http(state, config.clone());
    let settings = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        // rmcp refuses Host headers other than loopback by default, against DNS rebinding of
        // a local server that trusts whoever reaches it. Every call here needs an API key,
        // and a public server answers to its own host names.
        .disable_allowed_hosts()
        // Tool arguments are held to their endpoint's limit once the tool is known.
        .with_max_request_body_bytes(config.max_generate_body.max(config.max_bulk_body));
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        settings,
    );
    any_service(service).layer(axum::middleware::map_response(in_our_shape))
}

/// Gives rmcp's own refusals (a missing Accept header, a body that is not JSON-RPC, a GET on
/// this stateless endpoint), which are plain text, the API's `{"error"}` body, keeping their
/// words. JSON-RPC answers, errors included, are left as they are.
async fn in_our_shape(response: Response) -> Response {
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, ERROR_TEXT_BYTES)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_string()
    } else {
        text
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    let (fresh, body) = ApiError::new(status, message).into_response().into_parts();
    parts.headers.extend(fresh.headers);
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;

    use super::*;

    #[tokio::test]
    async fn rmcp_refusals_keep_their_words_in_our_shape() {
        let response = Response::builder()
            .status(StatusCode::NOT_ACCEPTABLE)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Body::from(
                "Not Acceptable: Client must accept application/json",
            ))
            .unwrap();
        let response = in_our_shape(response).await;
        assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
        let bytes = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            body["error"],
            "Not Acceptable: Client must accept application/json"
        );
    }
}
