//! `altframe projections rebuild`: read models dropped and rebuilt from events alone give the
//! API's answers back byte for byte.
use std::process::Command;
use std::sync::Arc;

use altframe::adapters::clock::ManualClock;
use altframe_domain::plan::Plan;
use serde_json::{json, Value};

use crate::bulk::finished_batch;
use crate::on_both_backends;
use crate::support::{base64_of, files, spawn_with, Backend, Options, TestApp};

on_both_backends!(a_rebuild_gives_byte_identical_answers);
on_both_backends!(a_rebuild_that_fails_leaves_the_read_models_as_they_were);

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

fn rebuild(url: String) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_altframe"))
        .args(["projections", "rebuild", "--json"])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Runs `altframe projections rebuild --json` off the runtime, as an operator would beside the
/// running service, checks that it succeeded and returns its report.
pub async fn rebuilt(app: &TestApp) -> Value {
    let url = app.db.env_url.clone();
    let out = tokio::task::spawn_blocking(move || rebuild(url))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
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

    let report = rebuilt(&app).await;
    assert!(report["events_applied"].as_u64().unwrap() > 20);

    let after = answers(&app, &batch_id).await;
    for ((path, b), (_, a)) in before.iter().zip(&after) {
        assert_eq!(b, a, "{path} changed across the rebuild");
    }
}

/// The jobs rows and the indexes of `jobs`, as the store holds them.
async fn jobs_and_indexes(app: &TestApp) -> (Vec<(String, String)>, i64) {
    let jobs = "SELECT id, status FROM jobs ORDER BY id";
    let indexes: &str = if app.services.store.db.is_postgres() {
        "SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'jobs'"
    } else {
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs'"
    };
    altframe_projections::on_db!(&app.services.store.db, pool => (
        sqlx::query_as(jobs).fetch_all(pool).await.unwrap(),
        sqlx::query_scalar(indexes).fetch_one(pool).await.unwrap(),
    ))
}

/// A rebuild runs in one transaction: one that fails on an event it cannot read leaves every
/// row and every index as it found them.
async fn a_rebuild_that_fails_leaves_the_read_models_as_they_were(backend: Backend) {
    let app = spawn_with(backend, Options::default()).await;
    let tiny = base64_of("tiny-1x1.png");
    for _ in 0..2 {
        let generated = app.post_generate(&json!({ "image_base64": tiny })).await;
        assert_eq!(generated.status(), 200);
    }
    assert_eq!(app.get("/api/v1/history").await.status(), 200);
    let before = jobs_and_indexes(&app).await;
    assert_eq!(before.0.len(), 2);
    assert!(before.1 >= 5, "jobs has its key and four indexes");
    app.services
        .store
        .db
        .execute(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                 event_version, payload, metadata)
             VALUES ('Job', 'job_unreadable', 1, 'JobRequested', '1.0', '{\"JobRequested\": 7}', '{}')",
            vec![],
        )
        .await
        .unwrap();

    let url = app.db.env_url.clone();
    let out = tokio::task::spawn_blocking(move || rebuild(url))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("cannot be read"), "{stderr}");
    assert_eq!(jobs_and_indexes(&app).await, before);
}
