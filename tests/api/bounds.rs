//! Every bound a request can cross answers its own 4xx with `{"error"}`: body size per
//! endpoint, JSON nesting, header size, the request deadline. (Image bytes and dimensions,
//! decompression bombs included, are in `intake`; string and array lengths in `errors`.)
use std::time::Duration;

use serde_json::json;

use altframe::api::HttpConfig;

use crate::on_both_backends;
use crate::support::fake_openai::{Behaviour, FakeOpenAi};
use crate::support::{base64_of, error_of, spawn_with, spawn_with_model, Backend, Options};

on_both_backends!(
    each_endpoint_has_its_own_body_limit,
    a_body_in_chunks_without_a_length_has_the_same_limit,
    deeply_nested_json_is_refused_before_parsing,
    a_nul_character_in_text_is_refused,
    oversized_headers_are_refused,
    a_request_past_its_deadline_is_abandoned,
);

async fn each_endpoint_has_its_own_body_limit(backend: Backend) {
    let app = spawn_with(
        backend,
        Options {
            http: HttpConfig {
                max_generate_body: 2_000,
                max_bulk_body: 8_000,
                ..HttpConfig::default()
            },
            ..Options::default()
        },
    )
    .await;
    let padding = "x".repeat(3_000);
    let big = json!({ "image_base64": base64_of("tiny-1x1.png"), "page_context": padding });
    let message = error_of(app.post_generate(&big).await, 413).await;
    assert!(message.contains("too large"), "{message}");
    // The same body is within the bulk endpoint's limit (and is then judged on its content).
    let batch = json!({ "images": [{ "image_base64": base64_of("tiny-1x1.png"), "page_context": "x".repeat(1_000) }] });
    assert_eq!(app.post_bulk(&batch).await.status(), 202);
    let huge = json!({ "images": [{ "image_base64": base64_of("tiny-1x1.png") }], "pad": "x".repeat(9_000) });
    error_of(app.post_bulk(&huge).await, 413).await;
    // With an Idempotency-Key the body is read by another path: the same limit holds.
    let keyed = app
        .http
        .post(format!("{}/api/v1/generate", app.base))
        .header("x-api-key", &app.key)
        .header("idempotency-key", "big-1")
        .json(&big)
        .send()
        .await
        .unwrap();
    error_of(keyed, 413).await;
}

/// A body sent with `Transfer-Encoding: chunked` (no Content-Length) is read like any other,
/// and refused with the same 413 once it passes the endpoint's limit.
async fn a_body_in_chunks_without_a_length_has_the_same_limit(backend: Backend) {
    let app = spawn_with(
        backend,
        Options {
            http: HttpConfig {
                max_bulk_body: 8_000,
                ..HttpConfig::default()
            },
            ..Options::default()
        },
    )
    .await;
    let send = |body: serde_json::Value| {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body
            .to_string()
            .into_bytes()
            .chunks(700)
            .map(|c| Ok(c.to_vec()))
            .collect();
        app.http
            .post(format!("{}/api/v1/generate/bulk", app.base))
            .header("x-api-key", &app.key)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
            .send()
    };
    let batch = json!({ "images": [{ "image_base64": base64_of("tiny-1x1.png"), "page_context": "x".repeat(1_000) }] });
    assert_eq!(send(batch).await.unwrap().status(), 202);
    let huge = json!({ "images": [{ "image_base64": base64_of("tiny-1x1.png") }], "pad": "x".repeat(9_000) });
    let message = error_of(send(huge).await.unwrap(), 413).await;
    assert_eq!(message, "The request body is too large");
}

async fn deeply_nested_json_is_refused_before_parsing(backend: Backend) {
    let app = spawn_with(backend, Options::default()).await;
    let mut nested = json!(1);
    for _ in 0..40 {
        nested = json!([nested]);
    }
    let body = json!({ "image_base64": base64_of("tiny-1x1.png"), "keywords": nested });
    let message = error_of(app.post_generate(&body).await, 400).await;
    assert!(message.contains("32 levels"), "{message}");
    // Far deeper than serde's own recursion limit: still a 400, never a crash.
    let abyss = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let response = app
        .http
        .post(format!("{}/api/v1/generate/bulk", app.base))
        .header("x-api-key", &app.key)
        .header("content-type", "application/json")
        .body(abyss)
        .send()
        .await
        .unwrap();
    error_of(response, 400).await;
}

/// Found by the fuzz test: Postgres cannot store U+0000, so a NUL in any text was a 500.
async fn a_nul_character_in_text_is_refused(backend: Backend) {
    let app = spawn_with(backend, Options::default()).await;
    let body = json!({ "image_base64": base64_of("tiny-1x1.png"), "page_context": "a\u{0}b" });
    let message = error_of(app.post_generate(&body).await, 400).await;
    assert!(message.contains("NUL"), "{message}");
    let batch = json!({ "images": [{ "image_base64": base64_of("tiny-1x1.png"), "product_name": "\u{0}" }] });
    error_of(app.post_bulk(&batch).await, 400).await;
}

async fn oversized_headers_are_refused(backend: Backend) {
    let app = spawn_with(backend, Options::default()).await;
    let response = app
        .http
        .get(format!("{}/api/v1/usage", app.base))
        .header("x-api-key", &app.key)
        .header("x-padding", "p".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    let message = error_of(response, 431).await;
    assert!(message.contains("headers are too large"), "{message}");
}

async fn a_request_past_its_deadline_is_abandoned(backend: Backend) {
    // A model that never answers; the request deadline is one second.
    let fake = FakeOpenAi::start_gated(
        Behaviour::Answer {
            alt_text: "never sent".into(),
        },
        0,
    )
    .await;
    let options = Options {
        http: HttpConfig {
            request_timeout: Duration::from_secs(1),
            ..HttpConfig::default()
        },
        ..Options::default()
    };
    let app = spawn_with_model(backend, &fake, options).await;
    let body = json!({ "image_base64": base64_of("tiny-1x1.png") });
    let message = error_of(app.post_generate(&body).await, 504).await;
    assert!(message.contains("took too long"), "{message}");
    let completed = app
        .events()
        .await
        .iter()
        .filter(|(_, t, _)| t == "JobCompleted" || t == "CreditsCaptured")
        .count();
    assert_eq!(completed, 0, "nothing completed, nothing charged");
}
