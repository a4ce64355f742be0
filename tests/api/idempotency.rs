//! `Idempotency-Key`: a retry gets the first answer and charges nothing; the same key with
//! another body is refused; concurrent duplicates run once.
use std::sync::atomic::Ordering;
use std::sync::Arc;

use altframe::adapters::clock::ManualClock;
use chrono::{DateTime, Utc};
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::fake_openai::{Behaviour, FakeOpenAi};
use crate::support::{
    base64_of, error_of, spawn_with, spawn_with_model, tiny_image, Backend, Options, TestApp,
};

on_both_backends!(
    a_retry_gets_the_first_answer_and_charges_nothing,
    a_retried_batch_is_the_same_batch,
    the_same_key_with_another_body_is_refused,
    concurrent_duplicates_run_once,
    a_failed_request_lets_its_key_go,
    a_key_is_kept_for_a_day,
    an_interrupted_request_never_runs_again,
);

async fn post(app: &TestApp, path: &str, key: &str, body: &Value) -> reqwest::Response {
    app.http
        .post(format!("{}{path}", app.base))
        .header("x-api-key", &app.key)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("request")
}

async fn count_events(app: &TestApp, event_type: &str) -> usize {
    app.events()
        .await
        .iter()
        .filter(|(_, t, _)| t == event_type)
        .count()
}

async fn a_retry_gets_the_first_answer_and_charges_nothing(backend: Backend) {
    let app = spawn_with(backend, Options::default()).await;
    let first = post(&app, "/api/v1/generate", "order-42", &tiny_image()).await;
    assert_eq!(first.status(), 200);
    assert!(!first.headers().contains_key("idempotent-replayed"));
    let first: Value = first.json().await.unwrap();
    let balance = app.remaining().await;

    // Key order and whitespace are not part of the request's identity.
    let reordered = format!(
        r#"{{ "image_base64": "{}",  "fields" : ["alt_text"] }}"#,
        base64_of("tiny-1x1.png")
    );
    let retry = app
        .http
        .post(format!("{}/api/v1/generate", app.base))
        .header("x-api-key", &app.key)
        .header("idempotency-key", "order-42")
        .header("content-type", "application/json")
        .body(reordered)
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert!(retry.headers().contains_key("x-ratelimit-remaining"));
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry, first, "the same job, status and body");
    assert_eq!(app.remaining().await, balance, "no second charge");
    assert_eq!(count_events(&app, "JobRequested").await, 1);

    // Another key is another request.
    let other = post(&app, "/api/v1/generate", "order-43", &tiny_image()).await;
    let other: Value = other.json().await.unwrap();
    assert_ne!(other["id"], first["id"]);
}

async fn a_retried_batch_is_the_same_batch(backend: Backend) {
    let app = spawn_with(backend, Options::default()).await;
    let body = json!({ "images": [tiny_image(), tiny_image()] });
    let first = post(&app, "/api/v1/generate/bulk", "nightly-7", &body).await;
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let retry = post(&app, "/api/v1/generate/bulk", "nightly-7", &body).await;
    assert_eq!(retry.status(), 202);
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry, first);
    assert_eq!(count_events(&app, "BatchSubmitted").await, 1);
}

async fn the_same_key_with_another_body_is_refused(backend: Backend) {
    let app = spawn_with(backend, Options::default()).await;
    let first = post(&app, "/api/v1/generate", "k1", &tiny_image()).await;
    assert_eq!(first.status(), 200);
    let other_body = json!({ "image_base64": base64_of("tiny-1x1.png"), "fields": ["caption"] });
    let message = error_of(post(&app, "/api/v1/generate", "k1", &other_body).await, 422).await;
    assert!(message.contains("Idempotency-Key"), "{message}");
    // The same key on the other endpoint is another request too.
    let bulk = json!({ "images": [tiny_image()] });
    error_of(post(&app, "/api/v1/generate/bulk", "k1", &bulk).await, 422).await;
    assert_eq!(count_events(&app, "JobRequested").await, 1);
}

async fn concurrent_duplicates_run_once(backend: Backend) {
    let fake = FakeOpenAi::start_gated(
        Behaviour::Answer {
            alt_text: "A red bicycle against a brick wall".into(),
        },
        0,
    )
    .await;
    let app = spawn_with_model(backend, &fake, Options::default()).await;
    let body = tiny_image();
    let mut requests: FuturesUnordered<_> = (0..8)
        .map(|_| post(&app, "/api/v1/generate", "dup", &body))
        .collect();
    // The model holds every answer, so the one request that runs cannot finish: the other
    // seven must have been answered without running.
    for _ in 0..7 {
        let response = requests.next().await.expect("a response");
        let message = error_of(response, 409).await;
        assert!(message.contains("still being processed"), "{message}");
    }
    fake.gate.add_permits(1);
    let winner = requests.next().await.expect("the running request");
    assert_eq!(winner.status(), 200);
    let winner: Value = winner.json().await.unwrap();

    let retry: Value = post(&app, "/api/v1/generate", "dup", &tiny_image())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(retry, winner);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1, "one model call");
    assert_eq!(count_events(&app, "JobRequested").await, 1);
    assert_eq!(count_events(&app, "CreditsCaptured").await, 1);
}

async fn a_failed_request_lets_its_key_go(backend: Backend) {
    let app = spawn_with(backend, Options::default()).await;
    let broken = json!({ "image_base64": "not an image" });
    error_of(post(&app, "/api/v1/generate", "k2", &broken).await, 400).await;
    // Nothing ran, nothing was charged: the key may be used for the corrected request.
    let fixed = post(&app, "/api/v1/generate", "k2", &tiny_image()).await;
    assert_eq!(fixed.status(), 200);
    let message = error_of(
        app.http
            .post(format!("{}/api/v1/generate", app.base))
            .header("x-api-key", &app.key)
            .header("idempotency-key", "has spaces in it")
            .json(&tiny_image())
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert!(message.contains("Idempotency-Key"), "{message}");
}

async fn a_key_is_kept_for_a_day(backend: Backend) {
    let start: DateTime<Utc> = "2026-11-02T12:00:00Z".parse().unwrap();
    let clock = ManualClock::at(start);
    let app = spawn_with(
        backend,
        Options {
            clock: Arc::new(clock.clone()),
            ..Options::default()
        },
    )
    .await;
    let first: Value = post(&app, "/api/v1/generate", "daily", &tiny_image())
        .await
        .json()
        .await
        .unwrap();
    clock.set(start + chrono::Duration::hours(23));
    let within: Value = post(&app, "/api/v1/generate", "daily", &tiny_image())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(within["id"], first["id"]);
    clock.set(start + chrono::Duration::hours(24) + chrono::Duration::seconds(1));
    assert_eq!(kept_records(&app).await, 1);
    sweep(&app).await;
    assert_eq!(
        kept_records(&app).await,
        0,
        "the sweep deletes expired records"
    );
    // `regenerate`: the generation cache would answer the same image without a new request.
    let mut again = tiny_image();
    again["regenerate"] = json!(true);
    let after: Value = post(&app, "/api/v1/generate", "daily", &again)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(
        after["id"], first["id"],
        "after 24 hours the key is new again"
    );
    assert_eq!(count_events(&app, "JobRequested").await, 2);
}

/// One round of the sweeper, as the running service makes every few minutes.
async fn sweep(app: &TestApp) {
    use altframe::run::tasks::sweeper::Sweeper;
    use altframe::run::tasks::Task;
    let services = &app.services;
    let sweeper = Sweeper {
        clock: Arc::clone(&services.clock),
        rate_limiter: Arc::clone(&services.rate_limiter),
        idempotency: services.idempotency.clone(),
        queue: services.queue.clone(),
        db: services.store.db.clone(),
        every: std::time::Duration::from_secs(60),
    };
    sweeper.round().await.expect("sweep");
}

async fn kept_records(app: &TestApp) -> i64 {
    let sql = "SELECT COUNT(*) FROM idempotency_keys";
    altframe_projections::on_db!(&app.services.store.db, pool => sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(pool)
        .await
        .unwrap())
}

/// A request cut off by its deadline may or may not have been charged: its key must not run
/// it again. Retries say so instead of running.
async fn an_interrupted_request_never_runs_again(backend: Backend) {
    let fake = FakeOpenAi::start_gated(
        Behaviour::Answer {
            alt_text: "never sent in time".into(),
        },
        0,
    )
    .await;
    let options = Options {
        http: altframe::api::HttpConfig {
            request_timeout: std::time::Duration::from_secs(1),
            ..altframe::api::HttpConfig::default()
        },
        ..Options::default()
    };
    let app = spawn_with_model(backend, &fake, options).await;
    error_of(
        post(&app, "/api/v1/generate", "cut-off", &tiny_image()).await,
        504,
    )
    .await;
    fake.gate.add_permits(100);
    // The interrupted request's answer is being kept; until it is, retries hear 409.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let retry = loop {
        let retry = post(&app, "/api/v1/generate", "cut-off", &tiny_image()).await;
        if retry.status() != 409 {
            break retry;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the key stayed in progress"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let message = error_of(retry, 500).await;
    assert!(message.contains("interrupted"), "{message}");
    assert_eq!(
        fake.calls.load(Ordering::SeqCst),
        1,
        "the model was called once"
    );
}
