//! POST /api/v1/scan with `generate: true`: the images that need alt text go in one batch
//! under bulk's rules (credits reserved up front, 402 and no batch when short, the webhook
//! honoured), each item with the markup's hints; each address once, at most 100.
use std::time::Duration;

use altframe::adapters::subscriber::Subscriber;
use altframe_domain::plan::Plan;
use serde_json::{json, Value};

use crate::bulk::finished_batch;
use crate::on_both_backends;
use crate::scan::{scan_ok, scanning_app};
use crate::support::fake_openai::{Behaviour, FakeOpenAi};
use crate::support::receiver::Receiver;
use crate::support::site::serve_site;
use crate::support::{error_of, Backend, Options, TestApp};

on_both_backends!(
    the_images_that_need_alt_text_are_submitted_with_their_hints,
    a_batch_beyond_the_balance_is_refused_and_nothing_is_reserved,
    each_address_goes_once_and_at_most_a_hundred,
    a_pages_batch_is_written_in_its_language_unless_the_request_names_one,
    a_retry_with_its_idempotency_key_submits_one_batch,
);

/// The items of every batch submitted, keyed by image URL.
async fn submitted_items(app: &TestApp) -> Vec<Value> {
    app.events()
        .await
        .into_iter()
        .filter(|(_, kind, _)| kind == "BatchSubmitted")
        .flat_map(|(_, _, payload)| {
            payload["BatchSubmitted"]["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

fn item<'a>(items: &'a [Value], url: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["image_url"] == url)
        .unwrap_or_else(|| panic!("no item for {url}: {items:?}"))
}

async fn the_images_that_need_alt_text_are_submitted_with_their_hints(backend: Backend) {
    let site = serve_site().await;
    let receiver = Receiver::start(0).await;
    let app = scanning_app(backend, Plan::Free, Options::default()).await;
    let page = site.url("/shop/boots/index.html");
    let report = scan_ok(
        &app,
        json!({ "page_url": page, "generate": true, "fields": ["alt_text", "title"],
                "keywords": ["winter boots"], "webhook_url": receiver.url }),
    )
    .await;

    let batch = &report["batch"];
    let batch_id = batch["batch_id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&batch_id).is_ok());
    assert_eq!(batch["total_images"], 4);
    assert_eq!(batch["credits_reserved"], 4);
    assert_eq!(batch["status_url"], format!("/api/v1/batches/{batch_id}"));
    assert!(batch.get("left_out").is_none());
    let generation: Vec<&str> = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["generation"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(
        generation,
        [
            "-",
            "-",
            "submitted",
            "submitted",
            "-",
            "submitted",
            "-",
            "-",
            "-",
            "submitted",
            "-"
        ]
    );
    // Reserved up front.
    assert_eq!(app.remaining().await, 50 - 4);

    // Each item carries what the markup says of its image.
    let items = submitted_items(&app).await;
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|i| i["page_url"] == page.as_str()));
    let alpine = item(&items, &site.url("/img/sample.jpg?alpine"));
    assert_eq!(
        (
            &alpine["role"],
            &alpine["link_url"],
            &alpine["page_context"]
        ),
        (
            &json!("link"),
            &json!(site.url("/shop/boots/alpine.html")),
            &json!("Alpine boot")
        )
    );
    let search = item(&items, &site.url("/img/sample.png?search"));
    assert_eq!(
        (&search["role"], &search["page_context"]),
        (&json!("button"), &json!("Search"))
    );
    assert!(search.get("link_url").is_none());
    let map = item(&items, &site.url("/img/sample.png?map"));
    assert_eq!(
        (&map["role"], &map["page_context"]),
        (&json!("background"), &json!("Sale"))
    );
    let file_name = item(&items, &site.url("/img/sample.png?x2"));
    assert!(file_name.get("role").is_none());
    assert_eq!(file_name["page_context"], "Winter boots");

    // The batch runs like any other, and its webhook is delivered.
    let delivery = receiver.wait_for(1).await.remove(0);
    let payload: Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(payload["batch_id"], batch_id.as_str());
    assert_eq!(
        (&payload["status"], &payload["completed"]),
        (&json!("completed"), &json!(4))
    );
    let status = finished_batch(&app, &batch_id).await;
    assert_eq!(status["completed"], 4);
    let link = status["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["image_url"] == site.url("/img/sample.jpg?alpine"))
        .unwrap();
    // The builtin model names a link's purpose from the link's text.
    assert_eq!(link["results"]["alt_text"], "Alpine boot");
    app.services
        .process_manager
        .catch_up_fully(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(app.remaining().await, 50 - 4);
}

async fn a_batch_beyond_the_balance_is_refused_and_nothing_is_reserved(backend: Backend) {
    let site = serve_site().await;
    let app = scanning_app(backend, Plan::Free, Options::default()).await;
    app.spend_down_to(3).await;
    let page = site.url("/shop/boots/index.html");
    let message = error_of(
        app.post_scan(&json!({ "page_url": page, "generate": true }))
            .await,
        402,
    )
    .await;
    assert!(message.contains("needs 4 and 3 remain"), "{message}");
    // A webhook that could never be delivered refuses the scan before the page is fetched.
    let hook = error_of(
        app.post_scan(&json!({ "page_url": page, "generate": true,
                               "webhook_url": "http://10.0.0.1/hooks" }))
            .await,
        400,
    )
    .await;
    assert!(
        hook.starts_with("webhook_url: ") && hook.contains("private or reserved"),
        "{hook}"
    );
    assert!(submitted_items(&app).await.is_empty());
    assert_eq!(app.remaining().await, 3);
}

/// The language of each submitted batch's text, sorted.
async fn batch_languages(app: &TestApp) -> Vec<String> {
    let mut languages: Vec<String> = app
        .events()
        .await
        .into_iter()
        .filter(|(_, kind, _)| kind == "BatchSubmitted")
        .map(|(_, _, payload)| payload["BatchSubmitted"]["options"]["language"].to_string())
        .collect();
    languages.sort();
    languages
}

async fn a_pages_batch_is_written_in_its_language_unless_the_request_names_one(backend: Backend) {
    let site = serve_site().await;
    // The builtin model writes English only: a model that writes any language is needed.
    let fake = FakeOpenAi::start(Behaviour::Answer {
        alt_text: "Un vélo rouge".into(),
    })
    .await;
    let options = Options {
        vision: fake.provider(0),
        ..Options::default()
    };
    let app = scanning_app(backend, Plan::Free, options).await;
    let page = site.url("/shop/fr.html");
    let report = scan_ok(&app, json!({ "page_url": page, "generate": true })).await;
    // Only the image with no alt text needs it; the English text is a finding, not a miss.
    assert_eq!(report["batch"]["total_images"], 1, "{report}");
    let asked = scan_ok(
        &app,
        json!({ "page_url": page, "generate": true, "language": "de" }),
    )
    .await;
    assert_eq!(asked["batch"]["total_images"], 1);
    assert_eq!(batch_languages(&app).await, [r#""de""#, r#""fr""#]);
}

async fn each_address_goes_once_and_at_most_a_hundred(backend: Backend) {
    let site = serve_site().await;
    let app = scanning_app(backend, Plan::Pro, Options::default()).await;

    let over = scan_ok(
        &app,
        // `regenerate`: the page's images share their bytes; answered from the cache, their
        // credits would come back while the balance is being compared below.
        json!({ "page_url": site.url("/many.html?n=103"), "generate": true, "fields": ["alt_text"],
                "regenerate": true }),
    )
    .await;
    assert_eq!(over["batch"]["total_images"], 100);
    assert_eq!(over["batch"]["left_out"], 3);
    let images = over["images"].as_array().unwrap();
    assert!(images[..100].iter().all(|i| i["generation"] == "submitted"));
    assert!(images[100..].iter().all(|i| i["generation"] == "left_out"));

    // Three images at one address are one item, and all three are in the batch.
    let same = scan_ok(
        &app,
        json!({ "page_url": site.url("/many.html?n=3&same=true"), "generate": true,
                "regenerate": true }),
    )
    .await;
    assert_eq!(same["batch"]["total_images"], 1);
    assert!(same["images"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["generation"] == "submitted"));

    // Nothing that needs alt text: no batch, nothing reserved.
    let remaining = app.remaining().await;
    let nothing = scan_ok(
        &app,
        json!({ "page_url": site.url("/shop/based.html"), "generate": true }),
    )
    .await;
    assert!(nothing.get("batch").is_none(), "{nothing}");
    assert_eq!(app.remaining().await, remaining);
    assert_eq!(submitted_items(&app).await.len(), 101);
}

async fn a_retry_with_its_idempotency_key_submits_one_batch(backend: Backend) {
    let site = serve_site().await;
    let app = scanning_app(backend, Plan::Free, Options::default()).await;
    let body = json!({ "page_url": site.url("/shop/boots/index.html"), "generate": true });
    let send = || {
        app.http
            .post(format!("{}/api/v1/scan", app.base))
            .header("x-api-key", &app.key)
            .header("Idempotency-Key", "scan-boots-1")
            .json(&body)
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    assert_eq!(submitted_items(&app).await.len(), 4);
    assert_eq!(app.remaining().await, 50 - 4);
}
