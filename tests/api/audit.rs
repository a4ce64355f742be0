//! `altframe audit`: the ledger replayed from events reconciles with the read models, and a
//! tampered read model is caught and named.
use std::process::{Command, Output};
use std::sync::Arc;

use altframe::adapters::clock::ManualClock;
use altframe_domain::plan::Plan;
use serde_json::{json, Value};

use crate::bulk::finished_batch;
use crate::on_both_backends;
use crate::support::{base64_of, files, spawn_with, Backend, Options, TestApp};

on_both_backends!(the_ledger_reconciles_and_tampering_is_named);

async fn run_audit(app: &TestApp, args: &[&str]) -> Output {
    let url = app.db.env_url.clone();
    let mut all = vec![
        "audit".to_string(),
        "--account".into(),
        app.account_id.to_string(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_altframe"))
            .args(&all)
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

async fn tamper(app: &TestApp, sql: &str) {
    app.services.store.db.execute(sql, vec![]).await.unwrap();
}

async fn the_ledger_reconciles_and_tampering_is_named(backend: Backend) {
    let clock = ManualClock::at("2025-07-31T22:00:00Z".parse().unwrap());
    let app = spawn_with(
        backend,
        Options {
            plan: Plan::Pro,
            clock: Arc::new(clock.clone()),
            ..Options::default()
        },
    )
    .await;
    let images = files::serve_images().await;
    let tiny = base64_of("tiny-1x1.png");
    assert_eq!(
        app.post_generate(&json!({ "image_base64": tiny }))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post_generate(&json!({ "image_base64": base64_of("sample.tiff") }))
            .await
            .status(),
        200
    );
    clock.set("2025-08-01T08:00:00Z".parse().unwrap());
    let batch: Value = app
        .post_bulk(&json!({ "images": [{ "image_base64": tiny }, { "image_url": format!("{images}/missing") }] }))
        .await
        .json()
        .await
        .unwrap();
    finished_batch(&app, batch["batch_id"].as_str().unwrap()).await;
    app.spend_down_to(0).await;
    // The same image again: `regenerate`, or the cache would answer it free.
    assert_eq!(
        app.post_generate(&json!({ "image_base64": tiny, "regenerate": true }))
            .await
            .status(),
        200,
        "overage"
    );

    let out = run_audit(&app, &["--format", "json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    let events: Vec<&str> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    for expected in [
        "AccountOpened",
        "CreditsReserved",
        "CreditsCaptured",
        "CreditsReleased",
        "BillingPeriodStarted",
    ] {
        assert!(events.contains(&expected), "{expected} in {events:?}");
    }
    let overage = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["overage_credits"] == 1)
        .expect("an overage row");
    assert_eq!(overage["overage_cost_usd"], 0.03);

    let text = run_audit(&app, &[]).await;
    assert!(String::from_utf8_lossy(&text.stdout).contains("The ledger reconciles."));
    let csv = run_audit(&app, &["--format", "csv", "--from", "2025-08-01"]).await;
    let csv = String::from_utf8_lossy(&csv.stdout).to_string();
    assert!(csv.starts_with(
        "sequence,time,event,reference,credits,balance,charged,overage_credits,overage_cost_usd,\
         language_credits\n"
    ));
    assert!(!csv.contains("2025-07-31"), "--from filters the rows");

    tamper(&app, "UPDATE usage SET remaining = remaining + 5").await;
    let out = run_audit(&app, &[]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("usage.remaining"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("MISMATCH"));

    tamper(&app, "UPDATE usage SET remaining = remaining - 5").await;
    tamper(
        &app,
        "UPDATE jobs SET credits = credits + 1 WHERE status = 'completed' AND source = 'api'",
    )
    .await;
    let out = run_audit(&app, &[]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("history: credits of completed jobs"));

    tamper(
        &app,
        "UPDATE jobs SET credits = credits - 1 WHERE status = 'completed' AND source = 'api'",
    )
    .await;
    tamper(
        &app,
        "UPDATE usage SET language_credits = language_credits + 1",
    )
    .await;
    let out = run_audit(&app, &[]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage.language_credits"));
}
