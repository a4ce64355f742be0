//! The work queue's own state (attempts, leases, backoff) belongs to the queue, not to the
//! read models, and an item that keeps failing to reach an outcome ends as a dead letter.
use std::sync::Arc;

use altframe::adapters::clock::ManualClock;
use altframe::adapters::subscriber::Subscriber;
use altframe_domain::JobId;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::rebuild::rebuilt;
use crate::support::fake_openai::{Behaviour, FakeOpenAi};
use crate::support::{base64_of, spawn_with, Backend, Options, TestApp};

on_both_backends!(
    a_bulk_item_keeps_its_attempts_and_backoff_across_a_rebuild,
    an_item_tried_too_often_without_an_outcome_fails_as_a_dead_letter,
);

/// A service whose model is down (503 on every call), on a manual clock, with `max_attempts`.
async fn with_model_down(
    backend: Backend,
    clock: &ManualClock,
    max_attempts: u32,
) -> (TestApp, FakeOpenAi) {
    let fake = FakeOpenAi::start(Behaviour::Fail(503)).await;
    let app = spawn_with(
        backend,
        Options {
            vision: fake.provider(0),
            clock: Arc::new(clock.clone()),
            settings: Arc::new(move |s| s.tasks.bulk.max_attempts = max_attempts),
            ..Options::default()
        },
    )
    .await;
    (app, fake)
}

/// Submits a batch of one inline image and returns its job.
async fn one_item(app: &TestApp) -> JobId {
    let accepted: Value = app
        .post_bulk(&json!({ "images": [{ "image_base64": base64_of("tiny-1x1.png") }] }))
        .await
        .json()
        .await
        .unwrap();
    assert!(accepted["batch_id"].is_string(), "{accepted}");
    let history: Value = app.get("/api/v1/history").await.json().await.unwrap();
    JobId::new(history["jobs"][0]["id"].as_str().unwrap())
}

/// Waits (at most a minute) until the queue says the item was tried `attempts` times and
/// waits out its backoff, no worker holding it; returns when the backoff ends (epoch
/// milliseconds).
async fn backing_off_after(app: &TestApp, job_id: &JobId, attempts: u32) -> i64 {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        // The state, read twice around the depths: unchanged, and with nothing held between,
        // its time is the backoff's and not a worker's lease (a worker that took or let go of
        // the item between two reads would have moved it).
        let state = app.services.queue.item_state(job_id).await.unwrap();
        let depths = app
            .services
            .queue
            .depths(app.services.clock.now())
            .await
            .unwrap();
        let again = app.services.queue.item_state(job_id).await.unwrap();
        if let Some((tried, until)) = state {
            let settled = state == again && depths.bulk_running == 0;
            if settled && tried == attempts && depths.bulk_retry_wait == 1 {
                return until;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the item did not back off after try {attempts}: {state:?}, {depths:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The queue's own state is not a read model: a rebuild re-enqueues an item from its events
/// and leaves its attempts and its backoff as they were, so it neither starts its tries over
/// nor comes back early.
async fn a_bulk_item_keeps_its_attempts_and_backoff_across_a_rebuild(backend: Backend) {
    let clock = ManualClock::at("2026-03-02T10:00:00Z".parse().unwrap());
    let (app, fake) = with_model_down(backend, &clock, 5).await;
    let job_id = one_item(&app).await;

    // The model is down: the first try backs off; once the (manual) clock passes the backoff,
    // the worker tries again, and backs off again.
    let first_backoff_ends = backing_off_after(&app, &job_id, 1).await;
    clock.set(chrono::DateTime::from_timestamp_millis(first_backoff_ends + 1).unwrap());
    let backoff_ends = backing_off_after(&app, &job_id, 2).await;
    assert!(backoff_ends > clock.now_utc().timestamp_millis());
    assert_eq!(fake.calls.load(std::sync::atomic::Ordering::SeqCst), 2);

    rebuilt(&app).await;

    assert_eq!(
        app.services.queue.item_state(&job_id).await.unwrap(),
        Some((2, backoff_ends)),
        "two attempts and the same backoff after the rebuild"
    );
    let depths = app.services.queue.depths(clock.now_utc()).await.unwrap();
    assert_eq!(
        (depths.bulk_waiting, depths.bulk_retry_wait),
        (0, 1),
        "queued again from the events, still waiting out its backoff"
    );
    assert_eq!(fake.calls.load(std::sync::atomic::Ordering::SeqCst), 2);
}

/// An item taken more times than `max_attempts` without reaching an outcome (its workers died,
/// or a failure of ours interrupted each try) is failed for good, its credits released, so
/// that it cannot hold its batch open for ever.
async fn an_item_tried_too_often_without_an_outcome_fails_as_a_dead_letter(backend: Backend) {
    let clock = ManualClock::at("2026-03-02T10:00:00Z".parse().unwrap());
    let (app, fake) = with_model_down(backend, &clock, 2).await;
    let job_id = one_item(&app).await;
    let backoff_ends = backing_off_after(&app, &job_id, 1).await;
    // A second try that died before it recorded anything, as a killed worker's would.
    app.services
        .store
        .db
        .execute(
            "UPDATE bulk_leases SET attempts = 2 WHERE job_id = $1",
            vec![job_id.as_str().into()],
        )
        .await
        .unwrap();
    clock.set(chrono::DateTime::from_timestamp_millis(backoff_ends + 1).unwrap());

    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let history = loop {
        let history: Value = app.get("/api/v1/history").await.json().await.unwrap();
        if history["jobs"][0]["status"] == "failed" {
            break history;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the item did not fail: {history}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        history["jobs"][0]["error"],
        "The image could not be processed after 2 tries; no credits were charged"
    );
    assert_eq!(
        fake.calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the third claim gave up without calling the model"
    );
    app.services
        .process_manager
        .catch_up_fully(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(app.remaining().await, 50, "its credit released");
}
