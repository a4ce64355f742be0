//! `altframe projections rebuild`: read models dropped and rebuilt from events alone give the
//! API's answers back byte for byte.
use std::process::Command;
use std::sync::Arc;

use altframe::clock::ManualClock;
use altframe_domain::plan::Plan;
use serde_json::{json, Value};

use crate::bulk::finished_batch;
use crate::on_both_backends;
use crate::support::{base64_of, files, spawn_with, Backend, Options, TestApp};

on_both_backends!(a_rebuild_gives_byte_identical_answers);

async fn answers(app: &TestApp, batch_id: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in [
        "/api/v1/history?limit=100".to_string(),
        "/api/v1/history?limit=3&offset=2&status=completed".to_string(),
        "/api/v1/history?status=failed".to_string(),
        "/api/v1/usage".to_string(),
        format!("/api/v1/batches/{batch_id}"),
        format!("/api/v1/batches/{batch_id}/webhook"),
    ] {
        let body = app.get(&path).await.text().await.unwrap();
        out.push((path, body));
    }
    out
}

async fn a_rebuild_gives_byte_identical_answers(backend: Backend) {
    let clock = ManualClock::at("2025-07-31T23:00:00Z".parse().unwrap());
    let app = spawn_with(
        backend,
        Options {
            plan: Plan::Starter,
            clock: Arc::new(clock.clone()),
            ..Options::default()
        },
    )
    .await;
    let images = files::serve_images().await;
    let tiny = base64_of("tiny-1x1.png");
    for _ in 0..3 {
        assert_eq!(
            app.post_generate(&json!({ "image_base64": tiny }))
                .await
                .status(),
            200
        );
    }
    clock.set("2025-08-02T09:00:00Z".parse().unwrap());
    assert_eq!(
        app.post_generate(&json!({ "image_base64": base64_of("sample.heic") }))
            .await
            .status(),
        200
    );
    let batch: Value = app
        .post_bulk(&json!({ "images": [
            { "image_base64": tiny },
            { "image_url": format!("{images}/missing") },
            { "image_url": format!("{images}/img/sample.jpg") },
        ] }))
        .await
        .json()
        .await
        .unwrap();
    let batch_id = batch["batch_id"].as_str().unwrap().to_string();
    assert_eq!(finished_batch(&app, &batch_id).await["status"], "partial");
    let before = answers(&app, &batch_id).await;
    assert!(
        before[0].1.contains("\"failed\""),
        "the store has a failure"
    );

    let url = app.db.env_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_altframe"))
            .args(["projections", "rebuild", "--json"])
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["events_applied"].as_u64().unwrap() > 20);

    let after = answers(&app, &batch_id).await;
    for ((path, b), (_, a)) in before.iter().zip(&after) {
        assert_eq!(b, a, "{path} changed across the rebuild");
    }
}
