//! What every HTML page we serve shares: its content type, and a Content-Security-Policy
//! that lets in only our own stylesheet and scripts from `/assets` (no inline script or
//! style, nothing from elsewhere). Pages escape everything they show; the policy makes sure
//! that text which slipped through still could not run.
use askama::Template;
use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::api::error::ApiError;

/// Our own origin only; forms post to it and scripts fetch from it (the docs' try-it).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

/// An HTML page, with the headers every page carries.
pub fn page(body: impl Into<Body>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body.into(),
    )
        .into_response()
}

/// A template as a page; a template that cannot render is a failure of ours (a 500).
pub fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => page(html),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page as the dashboard's will be: the layout, its three blocks filled.
    #[derive(Template)]
    #[template(
        ext = "html",
        source = r#"{% extends "layout.html" %}
{% block title %}Keys · AltFrame{% endblock %}
{% block nav %}<li><a href="/dashboard/keys" aria-current="page">Keys</a></li>{% endblock %}
{% block content %}<h1>Keys</h1><p>{{ label }}</p>{% endblock %}"#
    )]
    struct Sample {
        label: String,
    }

    #[test]
    fn the_layout_has_landmarks_a_skip_link_and_escapes_what_pages_put_in_it() {
        let html = Sample {
            label: "<script>alert(1)</script>".into(),
        }
        .render()
        .unwrap();
        for part in [
            "<html lang=\"en\">",
            "<title>Keys · AltFrame</title>",
            "<a class=\"skip-link\" href=\"#main\">",
            "<a class=\"brand\" href=\"/dashboard\">AltFrame</a>",
            "<nav class=\"site-nav\" aria-label=\"Main\">",
            "<li><a href=\"/dashboard/keys\" aria-current=\"page\">Keys</a></li>",
            "<main id=\"main\"",
            "<h1>Keys</h1>",
            "<footer",
            "aria-live=\"polite\"",
            "&#60;script&#62;alert(1)&#60;/script&#62;",
        ] {
            assert!(html.contains(part), "no {part} in:\n{html}");
        }
        assert!(html.contains("href=\"/assets/site.css?v="));
        assert!(html.contains("<script src=\"/assets/site.js?v="));
        assert!(!html.contains("<script>alert"));
        // The skip link comes before the header; the nav sits inside it.
        let skip = html.find("skip-link").unwrap_or(usize::MAX);
        let header = html.find("<header").unwrap_or(0);
        assert!(skip < header);
    }
}
