//! Every bad input gets the contract's status and a `{"error"}` naming what is wrong, and
//! costs nothing.
use altframe::adapters::image::IntakeConfig;
use base64::Engine;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{base64_of, error_of, files, spawn, spawn_with, Backend, Options};

on_both_backends!(
    bad_requests_are_400_with_a_message_and_charge_nothing,
    oversized_images_are_refused
);

async fn bad_requests_are_400_with_a_message_and_charge_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let images = files::serve_images().await;
    let before = app.remaining().await;
    let tiny = base64_of("tiny-1x1.png");
    let jpeg = files::fixture("sample.jpg");
    let truncated_jpeg = base64::engine::general_purpose::STANDARD.encode(&jpeg[..jpeg.len() / 2]);
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "Either image_url or image_base64 is required"),
        (
            json!({ "image_url": "", "image_base64": "  " }),
            "Either image_url or image_base64",
        ),
        (json!({ "image_base64": tiny, "mode": "funny" }), "mode"),
        (
            json!({ "image_base64": tiny, "fields": ["alt_text", "summary"] }),
            "summary",
        ),
        (json!({ "image_base64": tiny, "fields": [] }), "fields"),
        (
            json!({ "image_base64": tiny, "max_length": 9 }),
            "max_length",
        ),
        (
            json!({ "image_base64": tiny, "max_length": 1001 }),
            "max_length",
        ),
        (
            json!({ "image_base64": tiny, "max_length": "long" }),
            "max_length",
        ),
        (
            json!({ "image_base64": tiny, "keywords": "tomato" }),
            "keywords",
        ),
        (
            json!({ "image_base64": tiny, "keywords": vec!["k"; 21] }),
            "keywords",
        ),
        (
            json!({ "image_base64": tiny, "language": "klingon" }),
            "language",
        ),
        (
            json!({ "image_base64": tiny, "page_context": "x".repeat(2001) }),
            "page_context",
        ),
        (
            json!({ "image_base64": tiny, "product_attributes": { "color": 3 } }),
            "product_attributes",
        ),
        (json!({ "image_base64": "%%% not base64 %%%" }), "base64"),
        (
            json!({ "image_base64": base64_of("../../Cargo.toml") }),
            "not an image",
        ),
        (
            json!({ "image_base64": truncated_jpeg }),
            "the jpeg image could not be decoded: Premature end of JPEG file",
        ),
        (
            json!({ "image_url": "ftp://example.com/a.jpg" }),
            "not a valid http(s) URL",
        ),
        (
            json!({ "image_url": format!("{images}/text") }),
            "not an image",
        ),
        (json!({ "image_url": format!("{images}/missing") }), "404"),
        (
            json!({ "image_url": format!("{images}/loop") }),
            "redirected more than",
        ),
        (
            json!({ "image_url": "http://127.0.0.1:1/nothing.jpg" }),
            "could not fetch",
        ),
    ];
    for (body, expected) in cases {
        let message = error_of(app.post_generate(&body).await, 400).await;
        assert!(
            message.contains(expected),
            "for {}: \"{message}\" should mention \"{expected}\"",
            &body.to_string()[..body.to_string().len().min(120)]
        );
    }

    let raw = |body: &'static str, content_type: &'static str| {
        app.http
            .post(format!("{}/api/v1/generate", app.base))
            .header("x-api-key", &app.key)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let message = error_of(raw("{not json", "application/json").await.unwrap(), 400).await;
    assert!(message.contains("not valid JSON"), "{message}");
    let message = error_of(raw("[]", "application/json").await.unwrap(), 400).await;
    assert!(message.contains("Invalid request body"), "{message}");
    let message = error_of(raw("{}", "text/plain").await.unwrap(), 400).await;
    assert!(message.contains("Content-Type"), "{message}");

    assert_eq!(
        app.remaining().await,
        before,
        "failed requests cost nothing"
    );
    assert!(app
        .event_types()
        .await
        .iter()
        .all(|t| t != "CreditsReserved"));
}

async fn oversized_images_are_refused(backend: Backend) {
    let app = spawn_with(
        backend,
        Options {
            intake: IntakeConfig {
                max_bytes: 40_000,
                ..IntakeConfig::default()
            },
            ..Options::default()
        },
    )
    .await;
    let images = files::serve_images().await;
    let message = error_of(
        app.post_generate(&json!({ "image_base64": base64_of("sample.gif") }))
            .await,
        400,
    )
    .await;
    assert!(message.contains("limit is 40000 bytes"), "{message}");
    let message = error_of(
        app.post_generate(&json!({ "image_url": format!("{images}/huge") }))
            .await,
        400,
    )
    .await;
    assert!(message.contains("larger than 40000 bytes"), "{message}");
    assert!(app
        .event_types()
        .await
        .iter()
        .all(|t| t != "CreditsReserved"));

    let app = spawn(backend).await;
    let message = error_of(
        app.post_generate(&json!({ "image_base64": base64_of("bomb-50000x50000.png") }))
            .await,
        400,
    )
    .await;
    assert!(
        message.contains("50000x50000"),
        "the bomb is refused from its header: {message}"
    );
    assert!(app
        .event_types()
        .await
        .iter()
        .all(|t| t != "CreditsReserved"));
}
