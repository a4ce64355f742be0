//! Alt text fitted to its place, through the API on both backends: several languages in one
//! call (each beyond the first reserved, and charged only when delivered), the image's role,
//! and decorative detection in `auto` mode. The builtin writes English only, so every other
//! language it is asked for is listed in `failed_languages` and given back.
use altframe::usecases::audit;
use serde_json::{json, Value};

use crate::bulk::{assert_reservations_balance, finished_batch};
use crate::on_both_backends;
use crate::support::{base64_of, error_of, spawn, Backend, TestApp};

on_both_backends!(
    languages_the_builtin_cannot_write_are_listed_and_given_back,
    language_lists_are_checked_and_a_bad_one_charges_nothing,
    a_request_without_our_additions_gets_the_contracts_fields_only,
    bulk_reserves_each_extra_language_and_gives_back_what_was_not_delivered,
);

pub fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

/// The account's only job in history.
pub async fn only_job(app: &TestApp) -> Value {
    let history: Value = app.get("/api/v1/history").await.json().await.unwrap();
    assert_eq!(
        history["jobs"].as_array().map(Vec::len),
        Some(1),
        "{history}"
    );
    history["jobs"][0].clone()
}

/// Runs the audit and asserts every check passed.
pub async fn assert_audit_reconciles(app: &TestApp) -> audit::AuditReport {
    let report = audit::audit(&app.services.app, &app.account_id, None, None)
        .await
        .expect("audit");
    let failed: Vec<_> = report.checks.iter().filter(|c| !c.ok).collect();
    assert!(failed.is_empty(), "audit mismatches: {failed:?}");
    report
}

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
    let bulk = json!({ "images": [{ "image_base64": image, "role": "banner" }] });
    let message = error_of(app.post_bulk(&bulk).await, 400).await;
    assert!(
        message.contains("images[0]") && message.contains("\"banner\""),
        "{message}"
    );
    assert_eq!(app.remaining().await, 50);

    let agreeing = json!({ "image_base64": image, "language": "en", "languages": ["en"] });
    assert_eq!(app.post_generate(&agreeing).await.status(), 200);
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
            "images": [{ "image_base64": image }, { "image_base64": image }],
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
    for item in batch["results"].as_array().unwrap() {
        assert_eq!(item["failed_languages"], json!(["es"]), "{item}");
    }
    assert_eq!(app.remaining().await, 48);
    let (captured, released) = assert_reservations_balance(&app.events().await);
    assert_eq!((captured, released), (2, 2));
    assert_audit_reconciles(&app).await;
}
