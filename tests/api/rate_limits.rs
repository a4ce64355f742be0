//! Rate limits per API key and endpoint: the contract's headers on every authenticated answer,
//! 429 with Retry-After past the limit, nothing run or charged for a refused request, and one
//! limit shared by several `serve` processes on one Postgres.
use std::collections::BTreeMap;
use std::sync::Arc;

use altframe::adapters::clock::ManualClock;
use altframe_domain::plan::Plan;
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::on_both_backends;
use crate::support::process::serve;
use crate::support::{error_of, spawn_with, tiny_image, Backend, Options, TestDb};

/// 12:00:10 UTC: ten seconds into a one-minute window.
fn ten_seconds_into_a_window() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-02T12:00:10Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn header(response: &reqwest::Response, name: &str) -> i64 {
    response.headers()[name]
        .to_str()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{name} is a number"))
}

on_both_backends!(
    every_authenticated_answer_says_where_the_key_stands,
    past_the_limit_a_request_is_refused_and_costs_nothing,
    limits_are_set_per_plan,
);

async fn every_authenticated_answer_says_where_the_key_stands(backend: Backend) {
    let clock = ManualClock::at(ten_seconds_into_a_window());
    let app = spawn_with(
        backend,
        Options {
            clock: Arc::new(clock.clone()),
            ..Options::default()
        },
    )
    .await;
    let reset = ten_seconds_into_a_window().timestamp() + 50;

    let generated = app.post_generate(&tiny_image()).await;
    assert_eq!(generated.status(), 200);
    assert_eq!(header(&generated, "x-ratelimit-limit"), 60);
    assert_eq!(header(&generated, "x-ratelimit-remaining"), 59);
    assert_eq!(header(&generated, "x-ratelimit-reset"), reset);

    // Each endpoint counts on its own.
    for (path, limit) in [("/api/v1/history", 120), ("/api/v1/usage", 120)] {
        let read = app.get(path).await;
        assert_eq!(read.status(), 200);
        assert_eq!(header(&read, "x-ratelimit-limit"), limit);
        assert_eq!(header(&read, "x-ratelimit-remaining"), limit - 1);
    }
    // An error answer to an authenticated request carries them too.
    let missing = app
        .get("/api/v1/batches/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(header(&missing, "x-ratelimit-limit"), 120);
    error_of(missing, 404).await;
    let bad = app.post_generate(&json!({})).await;
    assert_eq!(header(&bad, "x-ratelimit-remaining"), 58);
    error_of(bad, 400).await;

    // Without a valid key there is nothing to count against.
    let anonymous = app
        .http
        .get(format!("{}/api/v1/usage", app.base))
        .send()
        .await
        .unwrap();
    assert!(!anonymous.headers().contains_key("x-ratelimit-limit"));
    error_of(anonymous, 401).await;
}

async fn past_the_limit_a_request_is_refused_and_costs_nothing(backend: Backend) {
    let clock = ManualClock::at(ten_seconds_into_a_window());
    let app = spawn_with(
        backend,
        Options {
            clock: Arc::new(clock.clone()),
            rate_limits: "generate=3".parse().unwrap(),
            ..Options::default()
        },
    )
    .await;
    for remaining in [2, 1, 0] {
        let ok = app.post_generate(&tiny_image()).await;
        assert_eq!(ok.status(), 200);
        assert_eq!(header(&ok, "x-ratelimit-remaining"), remaining);
    }
    let events_before = app.events().await.len();
    let balance_before = app.remaining().await;

    let refused = app.post_generate(&tiny_image()).await;
    assert_eq!(header(&refused, "x-ratelimit-limit"), 3);
    assert_eq!(header(&refused, "x-ratelimit-remaining"), 0);
    assert_eq!(
        header(&refused, "x-ratelimit-reset"),
        ten_seconds_into_a_window().timestamp() + 50
    );
    assert_eq!(header(&refused, "retry-after"), 50);
    let message = error_of(refused, 429).await;
    assert!(message.contains("Rate limit"), "{message}");
    assert_eq!(app.events().await.len(), events_before, "no event written");
    assert_eq!(app.remaining().await, balance_before, "nothing charged");

    // Other endpoints are not affected; the next window starts afresh.
    assert_eq!(app.get("/api/v1/usage").await.status(), 200);
    clock.set(ten_seconds_into_a_window() + chrono::Duration::seconds(50));
    let next = app.post_generate(&tiny_image()).await;
    assert_eq!(next.status(), 200);
    assert_eq!(header(&next, "x-ratelimit-remaining"), 2);
}

async fn limits_are_set_per_plan(backend: Backend) {
    let table = "generate=1,pro.generate=4";
    let free = spawn_with(
        backend,
        Options {
            rate_limits: table.parse().unwrap(),
            ..Options::default()
        },
    )
    .await;
    let first = free.post_generate(&tiny_image()).await;
    assert_eq!(header(&first, "x-ratelimit-limit"), 1);
    let pro = spawn_with(
        backend,
        Options {
            plan: Plan::Pro,
            rate_limits: table.parse().unwrap(),
            ..Options::default()
        },
    )
    .await;
    let first = pro.post_generate(&tiny_image()).await;
    assert_eq!(header(&first, "x-ratelimit-limit"), 4);
    assert_eq!(header(&first, "x-ratelimit-remaining"), 3);
}

/// Two `serve` processes on one Postgres, one key, requests to both at once: in every window,
/// the two together accept no more than the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_share_one_limit() {
    const LIMIT: usize = 5;
    let db = TestDb::new(Backend::Postgres).await;
    let env = vec![
        ("ALTFRAME_VISION", "builtin".to_string()),
        ("ALTFRAME_RATE_LIMITS", format!("generate={LIMIT}")),
    ];
    let first = serve(&db.env_url, &env, true);
    let key = first.key.clone().expect("key");
    let second = serve(&db.env_url, &env, false);

    let http = reqwest::Client::new();
    let requests = (0..40).map(|i| {
        let base = if i % 2 == 0 {
            &first.base
        } else {
            &second.base
        };
        http.post(format!("{base}/api/v1/generate"))
            .header("x-api-key", &key)
            .json(&tiny_image())
            .send()
    });
    let responses = futures::future::join_all(requests).await;

    // Requests may straddle a minute boundary, so count per window (its reset time).
    let mut accepted_per_window: BTreeMap<i64, usize> = BTreeMap::new();
    let mut refused = 0;
    for response in responses {
        let response = response.expect("request");
        let window = header(&response, "x-ratelimit-reset");
        match response.status().as_u16() {
            200 => *accepted_per_window.entry(window).or_default() += 1,
            429 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    for (window, accepted) in &accepted_per_window {
        assert!(
            *accepted <= LIMIT,
            "{accepted} accepted in the window ending {window}"
        );
    }
    assert!(refused >= 40 - 2 * LIMIT, "{refused} refused");
}
