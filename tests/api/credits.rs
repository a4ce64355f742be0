use altframe_domain::plan::Plan;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{base64_of, error_of, spawn, spawn_with, Backend, Options};

on_both_backends!(
    concurrent_requests_never_overspend,
    an_empty_balance_answers_402,
    custom_prompt_needs_tier_two,
    the_builtin_writes_english_and_charges_no_language_surcharge,
    overage_lets_paid_plans_go_on_past_the_balance,
);

/// Many requests at once on an account with few credits: exactly that many succeed, the rest
/// get 402, and the ledger adds up.
async fn concurrent_requests_never_overspend(backend: Backend) {
    const CREDITS: u32 = 5;
    const REQUESTS: usize = 24;
    let app = spawn(backend).await;
    app.spend_down_to(CREDITS).await;
    // The same image every time: `regenerate`, or the cache would answer those that come
    // after a first one completed.
    let body = json!({ "image_base64": base64_of("tiny-1x1.png"), "fields": ["alt_text"], "regenerate": true });
    let responses =
        futures::future::join_all((0..REQUESTS).map(|_| app.post_generate(&body))).await;
    let mut ok = 0;
    let mut payment_required = 0;
    for r in responses {
        match r.status().as_u16() {
            200 => ok += 1,
            402 => payment_required += 1,
            other => panic!("unexpected status {other}: {}", r.text().await.unwrap()),
        }
    }
    assert_eq!(ok, CREDITS as usize);
    assert_eq!(payment_required, REQUESTS - CREDITS as usize);
    assert_eq!(app.remaining().await, 0);
    let types = app.event_types().await;
    let count = |t: &str| types.iter().filter(|x| *x == t).count();
    assert_eq!(count("CreditsCaptured"), CREDITS as usize);
    assert_eq!(count("JobCompleted"), CREDITS as usize);
    assert_eq!(
        count("CreditsReserved"),
        CREDITS as usize + 1,
        "the setup reservation and one per success"
    );
}

async fn an_empty_balance_answers_402(backend: Backend) {
    let app = spawn(backend).await;
    app.spend_down_to(1).await;
    let heic = json!({ "image_base64": base64_of("sample.heic") });
    let message = error_of(app.post_generate(&heic).await, 402).await;
    assert!(
        message.contains("needs 2") && message.contains("1 remain"),
        "{message}"
    );
    assert_eq!(app.remaining().await, 1, "nothing was taken");
    let jpeg = json!({ "image_base64": base64_of("sample.jpg") });
    assert_eq!(app.post_generate(&jpeg).await.status(), 200);
}

async fn custom_prompt_needs_tier_two(backend: Backend) {
    let body =
        json!({ "image_base64": base64_of("tiny-1x1.png"), "custom_prompt": "Mention the brand." });
    for plan in [Plan::Free, Plan::Starter] {
        let app = spawn_with(
            backend,
            Options {
                plan,
                ..Options::default()
            },
        )
        .await;
        let message = error_of(app.post_generate(&body).await, 403).await;
        assert!(message.contains("pro plan"), "{message}");
    }
    let app = spawn_with(
        backend,
        Options {
            plan: Plan::Pro,
            ..Options::default()
        },
    )
    .await;
    assert_eq!(app.post_generate(&body).await.status(), 200);
}

async fn the_builtin_writes_english_and_charges_no_language_surcharge(backend: Backend) {
    let app = spawn_with(
        backend,
        Options {
            language: "de",
            ..Options::default()
        },
    )
    .await;
    let body: Value = app
        .post_generate(&json!({ "image_base64": base64_of("tiny-1x1.png"), "language": "fr" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["meta"]["language"], "en",
        "meta.language says what was written"
    );
    assert_eq!(body["meta"]["credits_used"], 1);
}

async fn overage_lets_paid_plans_go_on_past_the_balance(backend: Backend) {
    let app = spawn_with(
        backend,
        Options {
            plan: Plan::Pro,
            ..Options::default()
        },
    )
    .await;
    app.spend_down_to(0).await;
    let response = app
        .post_generate(&json!({ "image_base64": base64_of("tiny-1x1.png") }))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["meta"]["credits_remaining"], 0);
    let captured = app
        .events()
        .await
        .into_iter()
        .find(|(_, t, _)| t == "CreditsCaptured")
        .unwrap()
        .2;
    assert_eq!(captured["CreditsCaptured"]["overage"], 1);
    assert_eq!(
        captured["CreditsCaptured"]["overage_cost"], 30_000,
        "$0.03 in micro-dollars"
    );
}
