//! GET /openapi.yaml and GET /docs: the spec this build was made with, and a page of it.
use std::sync::OnceLock;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::api::error::ApiError;
use crate::api::{html, openapi};

fn with_type(content_type: &'static str, body: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

pub async fn get_openapi() -> Response {
    static YAML: OnceLock<String> = OnceLock::new();
    with_type("application/yaml", YAML.get_or_init(openapi::yaml))
}

/// Rendered once: the document is the same for the life of the process.
pub async fn get_docs() -> Response {
    static PAGE: OnceLock<Result<String, askama::Error>> = OnceLock::new();
    match PAGE.get_or_init(|| openapi::docs_page(&openapi::document())) {
        Ok(page) => html::page(page.as_str()),
        Err(e) => ApiError::internal(e).into_response(),
    }
}
