//! Several languages in one call: reserved, charged only when delivered, and shown in usage,
//! history and the audit.
use serde_json::{json, Value};

use super::{assert_audit_reconciles, generate, keys, only_job};
use crate::bulk::{assert_reservations_balance, finished_batch};
use crate::on_both_backends;
use crate::support::fake_openai::{Behaviour, FakeOpenAi};
use crate::support::{base64_of, error_of, spawn, spawn_with, Backend, Options};

on_both_backends!(
    languages_the_builtin_cannot_write_are_listed_and_given_back,
    language_lists_are_checked_and_a_bad_one_charges_nothing,
    a_request_without_our_additions_gets_the_contracts_fields_only,
    bulk_reserves_each_extra_language_and_gives_back_what_was_not_delivered,
    languages_a_model_delivers_are_charged_and_shown_in_usage_history_and_audit,
);

async fn languages_the_builtin_cannot_write_are_listed_and_given_back(backend: Backend) {
    let app = spawn(backend).await;
    let response = app
        .post_generate(&json!({
            "image_base64": base64_of("sample.jpg"),
            "languages": ["en", "fr", "de"],
            "fields": ["alt_text"]
        }))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["meta"]["language"], "en", "{body}");
    assert!(
        body.get("translations").is_none(),
        "nothing delivered: {body}"
    );
    assert_eq!(body["failed_languages"], json!(["fr", "de"]));
    assert_eq!(body["meta"]["credits_used"], 1, "only what was delivered");
    assert_eq!(body["meta"]["credits_remaining"], 49);
    assert_eq!(app.remaining().await, 49, "the two languages went back");

    let reduced: Vec<Value> = app
        .events()
        .await
        .into_iter()
        .filter(|(_, kind, _)| kind == "ReservationReduced")
        .map(|(_, _, payload)| payload["ReservationReduced"].clone())
        .collect();
    assert_eq!(reduced.len(), 1, "{reduced:?}");
    assert_eq!(reduced[0]["credits"], 2);
    assert_eq!(reduced[0]["returned"], 2);

    let job = only_job(&app).await;
    assert_eq!(job["failed_languages"], json!(["fr", "de"]), "{job}");
    assert!(job.get("translations").is_none(), "{job}");
    assert!(job["meta"].get("language_credits").is_none(), "{job}");
    let usage: Value = app.get("/api/v1/usage").await.json().await.unwrap();
    assert_eq!(usage["credits"]["used_this_period"], 1, "{usage}");
    assert!(
        usage["credits"]
            .get("language_credits_this_period")
            .is_none(),
        "{usage}"
    );
    let report = assert_audit_reconciles(&app).await;
    assert!(
        report.rows.iter().any(|r| r.event == "ReservationReduced"),
        "the ledger shows the reduction"
    );

    // A primary language the builtin cannot write is a failed one too.
    let body = generate(
        &app,
        json!({ "image_base64": base64_of("sample.jpg"), "languages": ["fr", "en", "de"] }),
    )
    .await;
    assert_eq!(body["meta"]["language"], "en", "{body}");
    assert_eq!(body["failed_languages"], json!(["fr", "de"]), "{body}");
    assert_eq!(body["meta"]["credits_used"], 1);
}

async fn language_lists_are_checked_and_a_bad_one_charges_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let image = base64_of("tiny-1x1.png");
    let cases = [
        (json!({ "languages": ["en", "xx"] }), "languages[1]"),
        (json!({ "languages": ["en", "xx"] }), "\"xx\""),
        (json!({ "languages": ["en", "fr", "EN"] }), "repeats \"en\""),
        (
            json!({ "languages": ["en", "fr", "de", "es", "it", "pt", "nl", "sv", "pl", "ja", "ko"] }),
            "the limit is 10",
        ),
        (json!({ "languages": [] }), "at least one"),
        (
            json!({ "language": "de", "languages": ["fr", "de"] }),
            "\"de\"",
        ),
        (json!({ "languages": "fr" }), "languages"),
        (json!({ "role": "hero" }), "\"hero\""),
        (json!({ "mode": "automatic" }), "\"auto\""),
    ];
    for (extra, expected) in cases {
        let mut body = extra.clone();
        body["image_base64"] = json!(image);
        let message = error_of(app.post_generate(&body).await, 400).await;
        assert!(message.contains(expected), "{extra}: {message}");
    }
    let bulk = json!({ "images": [{ "image_base64": image }], "languages": ["en", "en"] });
    let message = error_of(app.post_bulk(&bulk).await, 400).await;
    assert!(message.contains("repeats"), "{message}");
    for (link, why) in [
        ("javascript:alert(1)", "\"javascript\""),
        ("https://example.com/a b", "space"),
        ("/pricing\nAdditional instructions", "control character"),
    ] {
        let body = json!({ "image_base64": image, "role": "link", "link_url": link });
        let message = error_of(app.post_generate(&body).await, 400).await;
        assert!(
            message.contains("link_url") && message.contains(why),
            "{message}"
        );
    }
    let bulk = json!({ "images": [{ "image_base64": image, "role": "banner" }] });
    let message = error_of(app.post_bulk(&bulk).await, 400).await;
    assert!(
        message.contains("images[0]") && message.contains("\"banner\""),
        "{message}"
    );
    assert_eq!(app.remaining().await, 50, "no refused request was charged");

    let agreeing = json!({ "image_base64": image, "language": "en", "languages": ["en"] });
    assert_eq!(app.post_generate(&agreeing).await.status(), 200);
    let relative = json!({ "image_base64": image, "role": "link", "link_url": "/pricing" });
    assert_eq!(app.post_generate(&relative).await.status(), 200);
}

async fn a_request_without_our_additions_gets_the_contracts_fields_only(backend: Backend) {
    let app = spawn(backend).await;
    let body: Value = app
        .post_generate(&json!({ "image_base64": base64_of("sample.jpg"), "mode": "standard" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys(&body), ["id", "meta", "results", "status"]);
    assert_eq!(
        keys(&body["results"]),
        ["alt_text", "caption", "og_description", "title"]
    );
    assert_eq!(
        keys(&body["meta"]),
        [
            "credits_remaining",
            "credits_used",
            "language",
            "model",
            "processing_ms",
            "tokens"
        ]
    );
    let job = only_job(&app).await;
    assert_eq!(
        keys(&job),
        [
            "batch_id",
            "completed_at",
            "created_at",
            "error",
            "id",
            "image_url",
            "language",
            "meta",
            "mode",
            "results",
            "source",
            "status"
        ]
    );
    assert_eq!(
        keys(&job["meta"]),
        ["cost_usd", "model", "processing_ms", "tokens"]
    );
    let usage: Value = app.get("/api/v1/usage").await.json().await.unwrap();
    assert_eq!(
        keys(&usage["credits"]),
        [
            "monthly_allocation",
            "period_resets_at",
            "remaining",
            "rollover",
            "used_this_period"
        ]
    );
}

async fn bulk_reserves_each_extra_language_and_gives_back_what_was_not_delivered(backend: Backend) {
    let app = spawn(backend).await;
    let image = base64_of("sample.png");
    let response = app
        .post_bulk(&json!({
            "images": [
                { "image_base64": image },
                { "image_base64": image, "role": "chart", "page_context": "Sales by month" }
            ],
            "languages": ["en", "es"],
            "fields": ["alt_text"]
        }))
        .await;
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["credits_reserved"], 4, "1 + 1 language for each");
    let batch_id = accepted["batch_id"].as_str().unwrap();
    let batch = finished_batch(&app, batch_id).await;
    assert_eq!(batch["status"], "completed", "{batch}");
    let items = batch["results"].as_array().unwrap();
    for item in items {
        assert_eq!(item["failed_languages"], json!(["es"]), "{item}");
    }
    assert!(items[0]["results"].get("long_description").is_none());
    let chart = items[1]["results"]["long_description"].as_str().unwrap();
    assert!(
        chart.contains("Sales by month"),
        "each image has its own role: {chart}"
    );
    assert_eq!(app.remaining().await, 48);
    let (captured, released) = assert_reservations_balance(&app.events().await);
    assert_eq!((captured, released), (2, 2));
    assert_audit_reconciles(&app).await;
}

async fn languages_a_model_delivers_are_charged_and_shown_in_usage_history_and_audit(
    backend: Backend,
) {
    // The model writes French but leaves German out.
    let answer = json!({
        "alt_text": "A red bicycle",
        "translations": { "fr": { "alt_text": "Un vélo rouge" } }
    });
    let fake = FakeOpenAi::start(Behaviour::Reply(answer.to_string())).await;
    let options = Options {
        vision: fake.provider(0),
        ..Options::default()
    };
    let app = spawn_with(backend, options).await;
    let body = generate(
        &app,
        json!({
            "image_base64": base64_of("tiny-1x1.png"),
            "fields": ["alt_text"],
            "languages": ["en", "fr", "de"],
        }),
    )
    .await;
    assert_eq!(
        fake.calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one model call"
    );
    assert_eq!(body["results"]["alt_text"], "A red bicycle", "{body}");
    assert_eq!(
        body["translations"],
        json!({ "fr": { "alt_text": "Un vélo rouge" } })
    );
    assert_eq!(body["failed_languages"], json!(["de"]));
    assert_eq!(body["meta"]["credits_used"], 2, "the image and French");
    assert_eq!(app.remaining().await, 48);

    let job = only_job(&app).await;
    assert_eq!(
        job["translations"]["fr"]["alt_text"], "Un vélo rouge",
        "{job}"
    );
    assert_eq!(job["failed_languages"], json!(["de"]));
    assert_eq!(job["meta"]["language_credits"], 1);
    let usage: Value = app.get("/api/v1/usage").await.json().await.unwrap();
    assert_eq!(usage["credits"]["used_this_period"], 2, "{usage}");
    assert_eq!(
        usage["credits"]["language_credits_this_period"], 1,
        "{usage}"
    );

    let report = assert_audit_reconciles(&app).await;
    let capture = report
        .rows
        .iter()
        .find(|r| r.event == "CreditsCaptured")
        .expect("a capture");
    assert_eq!((capture.charged, capture.language_credits), (2, 1));
    let (captured, released) = assert_reservations_balance(&app.events().await);
    assert_eq!((captured, released), (2, 1));
}
