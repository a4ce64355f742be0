//! Image URLs: redirects are followed, non-public addresses refused unless allowed.
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{error_of, files, spawn, spawn_with, Backend, Options};

on_both_backends!(
    redirects_are_followed_and_format_comes_from_the_bytes,
    private_addresses_are_refused
);

async fn redirects_are_followed_and_format_comes_from_the_bytes(backend: Backend) {
    let app = spawn(backend).await;
    let images = files::serve_images().await;
    let body: Value = app
        .post_generate(&json!({ "image_url": format!("{images}/redirect/sample.tiff") }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["meta"]["credits_used"], 2,
        "a TIFF served as text/plain: {body}"
    );
}

async fn private_addresses_are_refused(backend: Backend) {
    let app = spawn_with(
        backend,
        Options {
            allow_private_networks: false,
            ..Options::default()
        },
    )
    .await;
    let images = files::serve_images().await;
    let port = images.rsplit(':').next().unwrap();
    for url in [
        format!("{images}/img/sample.jpg"),
        format!("http://localhost:{port}/img/sample.jpg"),
        format!("http://[::1]:{port}/img/sample.jpg"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.0.0.1/a.jpg".to_string(),
    ] {
        let message = error_of(app.post_generate(&json!({ "image_url": url })).await, 400).await;
        assert!(message.contains("private or reserved"), "{url}: {message}");
    }
    assert_eq!(
        app.event_types()
            .await
            .iter()
            .filter(|t| *t == "CreditsReserved")
            .count(),
        0
    );
}
