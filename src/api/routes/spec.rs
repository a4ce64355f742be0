//! GET /openapi.yaml and GET /docs: the spec this build was made with, and a page of it.
use std::sync::OnceLock;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::api::openapi;

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

pub async fn get_docs() -> Response {
    static PAGE: OnceLock<String> = OnceLock::new();
    with_type(
        "text/html; charset=utf-8",
        PAGE.get_or_init(|| openapi::docs_page(&openapi::document())),
    )
}
