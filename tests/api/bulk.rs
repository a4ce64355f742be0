//! Bulk generation end to end: submission, the process manager, batch status, webhooks.
use std::collections::HashMap;
use std::time::Duration;

use altframe::adapters::subscriber::Subscriber;
use altframe_domain::plan::Plan;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::fake_openai::{Behaviour, FakeOpenAi};
use crate::support::receiver::{verify, Receiver};
use crate::support::{base64_of, error_of, files, spawn, spawn_with, Backend, Options, TestApp};

on_both_backends!(
    a_hundred_mixed_images_finish_with_a_signed_webhook_and_exact_credits,
    a_bad_item_rejects_the_whole_batch_naming_its_index,
    a_batch_beyond_the_balance_reserves_nothing,
    batches_of_other_accounts_are_not_found,
    an_advanced_format_behind_a_url_is_topped_up_or_fails_cleanly,
    webhooks_are_retried_with_the_same_id_and_can_be_redelivered,
    base64_with_escaped_slashes_is_read,
);

async fn with_fake_model(backend: Backend, plan: Plan) -> (TestApp, FakeOpenAi) {
    let fake = FakeOpenAi::start(Behaviour::AnswerUnless { marker: "FAIL-SKU" }).await;
    let options = Options {
        plan,
        vision: fake.provider(1),
        ..Options::default()
    };
    (spawn_with(backend, options).await, fake)
}

/// Polls the batch until it has finished (bounded: two minutes).
pub async fn finished_batch(app: &TestApp, batch_id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let body: Value = app
            .get(&format!("/api/v1/batches/{batch_id}"))
            .await
            .json()
            .await
            .unwrap();
        if body["status"] != "processing" {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the batch did not finish: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// For every reservation in the events: what was reserved (with top-ups, less what a capture
/// gave back) equals what was captured or released, and it was settled exactly once. Returns
/// the credits captured, and those released or given back.
pub fn assert_reservations_balance(events: &[(String, String, Value)]) -> (u64, u64) {
    let mut given_back = 0;
    let mut reserved: HashMap<String, u64> = HashMap::new();
    let mut settled: HashMap<String, Vec<(String, u64)>> = HashMap::new();
    for (_, kind, payload) in events {
        let body = &payload[kind.as_str()];
        let id = body["reservation_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let credits = body["credits"].as_u64().unwrap_or(0);
        match kind.as_str() {
            "CreditsReserved" | "ReservationIncreased" => {
                *reserved.entry(id).or_default() += credits
            }
            "ReservationReduced" => {
                let held = reserved.entry(id).or_default();
                *held = held
                    .checked_sub(credits)
                    .expect("a reduction within its reservation");
                given_back += credits;
            }
            "CreditsCaptured" | "CreditsReleased" => {
                settled.entry(id).or_default().push((kind.clone(), credits))
            }
            _ => {}
        }
    }
    let (mut captured, mut released) = (0, given_back);
    for (id, credits) in &reserved {
        let s = settled.get(id).unwrap_or_else(|| {
            let purpose = events
                .iter()
                .find(|(_, k, p)| {
                    k == "CreditsReserved" && p[k.as_str()]["reservation_id"] == id.as_str()
                })
                .map(|(_, _, p)| {
                    p["CreditsReserved"]["purpose"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
                .unwrap_or_default();
            let related: Vec<_> = events
                .iter()
                .filter(|(_, _, p)| {
                    p.to_string().contains(id.as_str()) || p.to_string().contains(&purpose)
                })
                .map(|(_, k, _)| k.clone())
                .collect();
            panic!("reservation {id} ({purpose}) was never settled; its events: {related:?}")
        });
        assert_eq!(s.len(), 1, "reservation {id} settled {} times", s.len());
        assert_eq!(
            s[0].1, *credits,
            "reservation {id}: reserved {credits}, settled {}",
            s[0].1
        );
        if s[0].0 == "CreditsCaptured" {
            captured += credits;
        } else {
            released += credits;
        }
    }
    (captured, released)
}

async fn a_hundred_mixed_images_finish_with_a_signed_webhook_and_exact_credits(backend: Backend) {
    let (app, fake) = with_fake_model(backend, Plan::Pro).await;
    let images = files::serve_images().await;
    let receiver = Receiver::start(0).await;
    let (png, heic, jpg) = (
        base64_of("sample.png"),
        base64_of("sample.heic"),
        base64_of("sample.jpg"),
    );
    let mut items = Vec::new();
    items.extend(
        (0..40).map(|i| json!({ "image_base64": png, "product_name": format!("Poster {i}") })),
    );
    items.extend((0..10).map(|_| json!({ "image_base64": heic })));
    items.extend((0..20).map(|i| json!({ "image_url": format!("{images}/img/sample.jpg"), "product_sku": format!("SKU-{i}") })));
    items.extend((0..5).map(|_| json!({ "image_url": format!("{images}/img/sample.tiff") })));
    items.extend((0..10).map(|_| json!({ "image_url": format!("{images}/missing") })));
    items.extend((0..5).map(|_| json!({ "image_url": format!("{images}/text") })));
    items.extend((0..10).map(|_| json!({ "image_base64": jpg, "product_name": "FAIL-SKU" })));
    assert_eq!(items.len(), 100);

    let response = app
        .post_bulk(&json!({
            "images": items,
            "mode": "ecommerce",
            "language": "en",
            "keywords": ["gardening"],
            "fields": ["alt_text", "title"],
            "webhook_url": receiver.url,
            // Many items share their bytes: each is generated and charged, not answered
            // from the cache by another that finished first.
            "regenerate": true,
        }))
        .await;
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    let batch_id = accepted["batch_id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&batch_id).is_ok());
    assert_eq!(accepted["total_images"], 100);
    assert_eq!(
        accepted["credits_reserved"], 110,
        "HEIC at 2, URLs at 1 until fetched"
    );
    assert!(accepted["estimated_seconds"].as_u64().unwrap() >= 1);
    assert_eq!(
        accepted["status_url"],
        format!("/api/v1/batches/{batch_id}")
    );

    let delivery = receiver.wait_for(1).await.remove(0);
    let (secret, _) =
        altframe::usecases::webhooks::secret(&app.services.app, &app.account_id, false)
            .await
            .unwrap();
    assert!(secret.starts_with("whsec_"));
    assert!(verify(&secret, &delivery), "the webhook signature verifies");
    assert_eq!(delivery.id, format!("msg_{}", batch_id.replace('-', "")));
    let payload: Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(payload["event"], "batch.completed");
    assert_eq!(payload["batch_id"], batch_id.as_str());
    assert_eq!(payload["status"], "partial");
    assert_eq!(
        (
            payload["total"].as_u64(),
            payload["completed"].as_u64(),
            payload["failed"].as_u64()
        ),
        (Some(100), Some(75), Some(25))
    );
    assert_eq!(payload["results"].as_array().unwrap().len(), 75);
    assert_eq!(payload["errors"].as_array().unwrap().len(), 25);

    let status = finished_batch(&app, &batch_id).await;
    assert_eq!(status["status"], "partial");
    assert_eq!(status["completed"], 75);
    assert_eq!(status["failed"], 25);
    let first = &status["results"][0];
    assert_eq!(
        first["results"],
        json!({ "alt_text": "A product photo", "title": "Test Title" })
    );
    assert_eq!(first["meta"]["model"], "gpt-4.1-nano");
    assert_eq!(
        first["meta"]["tokens"],
        json!({ "input": 1180, "output": 142 })
    );
    let errors = status["errors"].as_array().unwrap();
    assert!(errors
        .iter()
        .any(|e| e["error"].as_str().unwrap().contains("404")));
    assert!(errors
        .iter()
        .any(|e| e["error"].as_str().unwrap().contains("not an image")));
    assert!(errors
        .iter()
        .any(|e| e["error"].as_str().unwrap().contains("vision model failed")));
    assert_eq!(
        fake.calls.load(std::sync::atomic::Ordering::SeqCst),
        85,
        "every fetched image once"
    );

    // History holds the same results, source bulk, batch id set.
    let rows = altframe_projections::jobs::for_batch(&app.services.store.db, &batch_id)
        .await
        .unwrap();
    assert_eq!(rows.len(), 100);
    for row in &rows {
        assert_eq!(row.source, "bulk");
        assert_eq!(row.batch_id.as_deref(), Some(batch_id.as_str()));
        if let Some(result) = status["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == row.id.as_str())
        {
            let stored: Value = serde_json::from_str(row.results.as_deref().unwrap()).unwrap();
            assert_eq!(stored, result["results"]);
        }
    }

    app.services
        .process_manager
        .catch_up_fully(Duration::from_secs(10))
        .await
        .unwrap();
    let (captured, released) = assert_reservations_balance(&app.events().await);
    assert_eq!(
        captured,
        40 + 20 + 20 + 10,
        "PNG, HEIC, JPEG and topped-up TIFF"
    );
    assert_eq!(released, 10 + 5 + 10);
    assert_eq!(app.remaining().await, 5000 - 90);
    // A worker lets go of an item's image just after recording its outcome, which may be
    // after the batch is seen finished: the count is read until it is 0 (bounded).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let held: i64 = match &app.services.store.db {
            altframe_projections::Db::Postgres(p) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM bulk_images")
                    .fetch_one(p)
                    .await
                    .unwrap()
            }
            altframe_projections::Db::Sqlite(p) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM bulk_images")
                    .fetch_one(p)
                    .await
                    .unwrap()
            }
        };
        if held == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "inline images are deleted once processed: {held} held"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_bad_item_rejects_the_whole_batch_naming_its_index(backend: Backend) {
    // More bad batches than the contract's 10 a minute.
    let options = Options {
        rate_limits: "bulk=100".parse().unwrap(),
        ..Options::default()
    };
    let app = spawn_with(backend, options).await;
    let good = json!({ "image_base64": base64_of("tiny-1x1.png") });
    let cases = [
        (json!({ "images": [good, good, good, {}] }), "images[3]"),
        (
            json!({ "images": [good, { "image_base64": "%%%" }] }),
            "images[1]",
        ),
        (
            json!({ "images": [good, { "image_base64": base64_of("../../Cargo.toml") }] }),
            "images[1]: the data is not an image",
        ),
        (
            json!({ "images": [{ "image_base64": base64_of("bomb-50000x50000.png") }] }),
            "50000x50000",
        ),
        (
            json!({ "images": [good, { "image_url": "ftp://x/y.jpg" }] }),
            "images[1]",
        ),
        (
            json!({ "images": [good, { "image_url": "https://example.com/a.jpg", "product_attributes": { "a": 1 } }] }),
            "images[1]",
        ),
        (json!({ "images": [] }), "1 to 100"),
        (json!({ "images": vec![good.clone(); 101] }), "got 101"),
        (json!({}), "images is required"),
        (json!({ "images": [good], "fields": ["nope"] }), "nope"),
        (json!({ "images": [good], "mode": "x" }), "mode"),
        (
            json!({ "images": [good], "webhook_url": "mailto:ops@example.com" }),
            "webhook_url",
        ),
    ];
    for (body, expected) in cases {
        let message = error_of(app.post_bulk(&body).await, 400).await;
        assert!(
            message.contains(expected),
            "\"{message}\" should mention \"{expected}\""
        );
    }
    assert!(app
        .event_types()
        .await
        .iter()
        .all(|t| t != "CreditsReserved" && t != "BatchSubmitted"));
}

async fn a_batch_beyond_the_balance_reserves_nothing(backend: Backend) {
    let app = spawn(backend).await;
    app.spend_down_to(2).await;
    let tiny = json!({ "image_base64": base64_of("tiny-1x1.png") });
    let message = error_of(
        app.post_bulk(&json!({ "images": [tiny, tiny, tiny] }))
            .await,
        402,
    )
    .await;
    assert!(
        message.contains("needs 3") && message.contains("2 remain"),
        "{message}"
    );
    assert_eq!(app.remaining().await, 2);
    assert_eq!(
        app.event_types()
            .await
            .iter()
            .filter(|t| *t == "CreditsReserved")
            .count(),
        1,
        "only the setup"
    );
}

async fn batches_of_other_accounts_are_not_found(backend: Backend) {
    let app = spawn(backend).await;
    let tiny = json!({ "image_base64": base64_of("tiny-1x1.png") });
    let accepted: Value = app
        .post_bulk(&json!({ "images": [tiny] }))
        .await
        .json()
        .await
        .unwrap();
    let batch_id = accepted["batch_id"].as_str().unwrap();
    assert_eq!(finished_batch(&app, batch_id).await["status"], "completed");

    let other = altframe::usecases::keys::issue_key(
        &app.services.app,
        &{
            let id = altframe::adapters::ids::account_id();
            altframe::usecases::accounts::open_account(
                &app.services.app,
                &id,
                "Other",
                Plan::Free,
                altframe_domain::generation::Language::english(),
            )
            .await
            .unwrap();
            id
        },
        "other",
    )
    .await
    .unwrap();
    app.services
        .projector
        .catch_up_fully(Duration::from_secs(10))
        .await
        .unwrap();
    for (key, path) in [
        (other.key.as_str(), format!("/api/v1/batches/{batch_id}")),
        (
            app.key.as_str(),
            format!("/api/v1/batches/{}", uuid::Uuid::new_v4()),
        ),
        (app.key.as_str(), "/api/v1/batches/not-a-uuid".to_string()),
        (
            other.key.as_str(),
            format!("/api/v1/batches/{batch_id}/webhook"),
        ),
    ] {
        let r = app
            .http
            .get(format!("{}{path}", app.base))
            .header("x-api-key", key)
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(r, 404).await, "Batch not found");
    }
}

async fn an_advanced_format_behind_a_url_is_topped_up_or_fails_cleanly(backend: Backend) {
    let app = spawn(backend).await;
    let images = files::serve_images().await;
    app.spend_down_to(1).await;
    let url = json!({ "image_url": format!("{images}/img/sample.avif") });
    let accepted: Value = app
        .post_bulk(&json!({ "images": [url] }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accepted["credits_reserved"], 1);
    let status = finished_batch(&app, accepted["batch_id"].as_str().unwrap()).await;
    // The URL reserved 1 credit, the balance is then 0: the AVIF cannot be topped up to 2.
    assert_eq!(status["status"], "failed", "{status}");
    let error = status["errors"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("AVIF") && error.contains("2 credits"),
        "{error}"
    );
    app.services
        .process_manager
        .catch_up_fully(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(app.remaining().await, 1, "released");

    let app = spawn(backend).await;
    let accepted: Value = app
        .post_bulk(&json!({ "images": [url] }))
        .await
        .json()
        .await
        .unwrap();
    let status = finished_batch(&app, accepted["batch_id"].as_str().unwrap()).await;
    assert_eq!(status["status"], "completed");
    app.services
        .process_manager
        .catch_up_fully(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(app.remaining().await, 48, "topped up to 2 and captured");
}

async fn webhooks_are_retried_with_the_same_id_and_can_be_redelivered(backend: Backend) {
    let app = spawn(backend).await;
    let receiver = Receiver::start(2).await;
    let tiny = json!({ "image_base64": base64_of("tiny-1x1.png") });
    let accepted: Value = app
        .post_bulk(&json!({ "images": [tiny], "webhook_url": receiver.url }))
        .await
        .json()
        .await
        .unwrap();
    let batch_id = accepted["batch_id"].as_str().unwrap().to_string();
    let deliveries = receiver.wait_for(3).await;
    assert!(
        deliveries.iter().all(|d| d.id == deliveries[0].id),
        "one webhook-id for every attempt"
    );

    let attempts_path = format!("/api/v1/batches/{batch_id}/webhook");
    let listing = wait_for_attempts(&app, &attempts_path, 3).await;
    let attempts = listing["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["status"], 500);
    assert_eq!(attempts[0]["delivered"], false);
    assert!(attempts[0]["next_attempt_at"].is_string());
    assert_eq!(attempts[2]["delivered"], true);
    assert_eq!(listing["webhook_url"], receiver.url.as_str());

    let redeliver = app
        .http
        .post(format!("{}{attempts_path}/redeliver", app.base))
        .header("x-api-key", &app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(redeliver.status(), 202);
    let fourth = receiver.wait_for(4).await.remove(3);
    assert_eq!(fourth.id, deliveries[0].id);
    assert_eq!(
        wait_for_attempts(&app, &attempts_path, 4).await["attempts"][3]["delivered"],
        true
    );
}

async fn wait_for_attempts(app: &TestApp, path: &str, n: usize) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let body: Value = app.get(path).await.json().await.unwrap();
        if body["attempts"].as_array().map_or(0, |a| a.len()) >= n {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "attempts: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// JSON may escape `/` as `\/`: such base64 cannot be borrowed from the body as it is, and is
/// unescaped into a copy.
async fn base64_with_escaped_slashes_is_read(backend: Backend) {
    let app = spawn(backend).await;
    let plain = base64_of("sample.png");
    assert!(
        plain.contains('/'),
        "the fixture's base64 must hold a slash"
    );
    let escaped = plain.replace('/', "\\/");
    let body = format!(
        r#"{{"images": [{{"image_base64": "{escaped}"}}, {{"image_base64": "{plain}"}}]}}"#
    );
    let response = app
        .http
        .post(format!("{}/api/v1/generate/bulk", app.base))
        .header("x-api-key", &app.key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    let batch = finished_batch(&app, accepted["batch_id"].as_str().unwrap()).await;
    assert_eq!(batch["completed"], 2, "{batch}");
    let captions: Vec<&Value> = batch["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["results"]["caption"])
        .collect();
    assert_eq!(captions[0], captions[1], "the same image either way");
}
