//! GET /api/v1/history and GET /api/v1/usage, from the read models.
use std::sync::Arc;

use altframe::adapters::clock::ManualClock;
use altframe_domain::plan::Plan;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{base64_of, error_of, spawn, spawn_with, Backend, Options};

on_both_backends!(
    history_lists_jobs_newest_first_with_filters_and_pages,
    history_refuses_bad_parameters,
    usage_follows_the_balance_and_rolls_over_at_the_month,
);

async fn history_lists_jobs_newest_first_with_filters_and_pages(backend: Backend) {
    let app = spawn(backend).await;
    let tiny = base64_of("tiny-1x1.png");
    let mut ids = Vec::new();
    for _ in 0..3 {
        let body: Value = app
            .post_generate(&json!({ "image_base64": tiny, "fields": ["title"] }))
            .await
            .json()
            .await
            .unwrap();
        ids.push(body["id"].as_str().unwrap().to_string());
    }
    let failed = app
        .post_generate(&json!({ "image_url": "http://127.0.0.1:1/x.jpg" }))
        .await;
    assert_eq!(failed.status(), 400, "a refused request is not a job");

    let page: Value = app
        .get("/api/v1/history?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["pagination"],
        json!({ "total": 3, "limit": 2, "offset": 0, "has_more": true })
    );
    let jobs = page["jobs"].as_array().unwrap();
    assert_eq!(jobs[0]["id"], ids[2].as_str(), "newest first");
    let job = &jobs[0];
    assert_eq!(job["status"], "completed");
    assert_eq!(job["image_url"], Value::Null, "base64 images have no URL");
    assert!(job["results"]["title"].is_string());
    assert!(
        job["results"].get("alt_text").is_none(),
        "only the requested fields"
    );
    assert_eq!(job["mode"], "standard");
    assert_eq!(job["language"], "en");
    assert_eq!(job["meta"]["model"], "builtin");
    assert_eq!(job["meta"]["tokens"], json!({ "input": 0, "output": 0 }));
    assert_eq!(job["meta"]["cost_usd"], 0.0);
    assert_eq!(job["source"], "api");
    assert_eq!(job["batch_id"], Value::Null);
    assert_eq!(job["error"], Value::Null);
    assert!(job["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(job["completed_at"].is_string());

    let rest: Value = app
        .get("/api/v1/history?limit=2&offset=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(rest["pagination"]["has_more"], false);
    let none: Value = app
        .get("/api/v1/history?status=failed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["pagination"]["total"], 0);
    let done: Value = app
        .get("/api/v1/history?status=completed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["pagination"]["total"], 3);
}

async fn history_refuses_bad_parameters(backend: Backend) {
    let app = spawn(backend).await;
    for (query, expected) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("status=done", "status"),
    ] {
        let message = error_of(app.get(&format!("/api/v1/history?{query}")).await, 400).await;
        assert!(message.contains(expected), "{query}: {message}");
    }
}

async fn usage_follows_the_balance_and_rolls_over_at_the_month(backend: Backend) {
    let start = "2025-07-30T12:00:00Z".parse().unwrap();
    let clock = ManualClock::at(start);
    let app = spawn_with(
        backend,
        Options {
            plan: Plan::Pro,
            clock: Arc::new(clock.clone()),
            // The service's own billing tick stays out of the way: this test runs it by hand.
            settings: Arc::new(|s| {
                s.tasks.maintenance_every = std::time::Duration::from_secs(3600)
            }),
            ..Options::default()
        },
    )
    .await;
    let usage: Value = app.get("/api/v1/usage").await.json().await.unwrap();
    assert_eq!(
        usage,
        json!({
            "plan": "pro",
            "credits": { "monthly_allocation": 5000, "remaining": 5000, "rollover": 0, "used_this_period": 0,
                         "period_resets_at": "2025-08-01T00:00:00.000Z" },
            "overage": { "enabled": true, "rate": 0.03 }
        })
    );
    let heic = json!({ "image_base64": base64_of("sample.heic") });
    assert_eq!(app.post_generate(&heic).await.status(), 200);
    let usage: Value = app.get("/api/v1/usage").await.json().await.unwrap();
    assert_eq!(usage["credits"]["remaining"], 4998);
    assert_eq!(usage["credits"]["used_this_period"], 2);

    clock.set("2025-08-01T00:00:00Z".parse().unwrap());
    // A read issues no command: the period moves on when the next command or the billing
    // tick starts it.
    let before_tick: Value = app.get("/api/v1/usage").await.json().await.unwrap();
    assert_eq!(
        before_tick["credits"]["period_resets_at"],
        "2025-08-01T00:00:00.000Z"
    );
    assert!(!app
        .event_types()
        .await
        .contains(&"BillingPeriodStarted".to_string()));
    let ticked = altframe::usecases::billing::start_due_periods(&app.services.app)
        .await
        .unwrap();
    assert_eq!(
        (ticked.due, ticked.started),
        (1, 1),
        "the tick finds the account whose period ended and starts its new one"
    );
    let usage: Value = app.get("/api/v1/usage").await.json().await.unwrap();
    assert_eq!(
        usage["credits"],
        json!({ "monthly_allocation": 5000, "remaining": 9998, "rollover": 4998, "used_this_period": 0,
                "period_resets_at": "2025-09-01T00:00:00.000Z" }),
        "unused credits roll over, capped at one allocation"
    );
    assert!(app
        .event_types()
        .await
        .contains(&"BillingPeriodStarted".to_string()));

    let free = spawn_with(
        backend,
        Options {
            clock: Arc::new(ManualClock::at(start)),
            ..Options::default()
        },
    )
    .await;
    let usage: Value = free.get("/api/v1/usage").await.json().await.unwrap();
    assert_eq!(usage["overage"], json!({ "enabled": false, "rate": 0.0 }));
}
