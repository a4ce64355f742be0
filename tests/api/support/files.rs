//! Test images, and a small HTTP server that serves them, as an image host would.
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Serves `/img/NAME` (a fixture, with a misleading extension-free path), `/redirect/NAME`
/// (302 to the image), `/loop` (redirects forever), `/text` (not an image), `/missing` (404)
/// and `/huge` (a body of 30 MiB). Returns its base URL.
pub async fn serve_images() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let router = Router::new()
        .route("/img/{name}", get(image))
        .route("/redirect/{name}", get(redirect))
        .route(
            "/loop",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]) }),
        )
        .route("/text", get(|| async { "<html>hello</html>" }))
        .route(
            "/huge",
            get(|| async { Body::from(vec![0u8; 30 * 1024 * 1024]) }),
        )
        .with_state(base.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

async fn image(Path(name): Path<String>) -> Response {
    // The Content-Type lies on purpose: the format must come from the bytes.
    ([(header::CONTENT_TYPE, "text/plain")], fixture(&name)).into_response()
}

async fn redirect(State(base): State<String>, Path(name): Path<String>) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("{base}/img/{name}"))],
    )
        .into_response()
}
