//! The generation cache: the same image with the same options and context is answered again
//! free, as a job of its own, within `ALTFRAME_CACHE_DAYS`; anything else is generated.
use std::sync::atomic::Ordering;
use std::sync::Arc;

use altframe::adapters::clock::ManualClock;
use altframe::adapters::subscriber::Subscriber;
use altframe::run::startup::{Application, Overrides};
use altframe::usecases::{accounts, audit, keys};
use altframe_domain::generation::Language;
use altframe_domain::plan::Plan;
use serde_json::{json, Value};

use crate::bulk::{assert_reservations_balance, finished_batch};
use crate::on_both_backends;
use crate::support::fake_openai::{Behaviour, FakeOpenAi};
use crate::support::{
    base64_of, settings_for, spawn, spawn_with, spawn_with_model, tiny_image, Backend, Options,
    TestApp,
};

on_both_backends!(
    the_same_request_is_answered_again_free_as_a_job_of_its_own,
    another_context_option_or_language_is_generated,
    regenerate_is_charged_and_becomes_the_entry,
    entries_last_the_window_and_the_cache_can_be_off,
    another_account_never_gets_this_ones_result,
    a_failed_job_is_never_reused,
    a_batch_answers_the_images_it_has_seen_free_unless_asked_to_regenerate,
);

fn request(extra: Value) -> Value {
    let mut body = tiny_image();
    body["page_context"] = json!("A shop's page of red bicycles");
    for (k, v) in extra.as_object().expect("an object") {
        body[k] = v.clone();
    }
    body
}

async fn generated(app: &TestApp, body: &Value) -> Value {
    let response = app.post_generate(body).await;
    let status = response.status();
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(status, 200, "{answer}");
    answer
}

/// Asserts that `answer` was generated and charged: no `cached` key at all.
fn assert_charged(answer: &Value) {
    assert!(
        answer["meta"].get("cached").is_none(),
        "no cached key: {answer}"
    );
    assert_eq!(answer["meta"]["credits_used"], 1, "{answer}");
}

fn assert_cached(answer: &Value) {
    assert_eq!(answer["meta"]["cached"], true, "{answer}");
    assert_eq!(answer["meta"]["credits_used"], 0, "{answer}");
}

async fn history(app: &TestApp) -> Vec<Value> {
    let body: Value = app.get("/api/v1/history").await.json().await.unwrap();
    body["jobs"].as_array().expect("jobs").clone()
}

async fn assert_audit_reconciles(app: &TestApp) {
    let report = audit::audit(&app.services.app, &app.account_id, None, None)
        .await
        .expect("audit");
    let failed: Vec<_> = report.checks.iter().filter(|c| !c.ok).collect();
    assert!(report.ok, "audit mismatches: {failed:?}");
    assert!(report
        .checks
        .iter()
        .any(|c| c.name == "history: credits of jobs answered from the cache"));
}

async fn the_same_request_is_answered_again_free_as_a_job_of_its_own(backend: Backend) {
    let fake = FakeOpenAi::start(Behaviour::Answer {
        alt_text: "Red bicycles on a shop's page".into(),
    })
    .await;
    let app = spawn_with_model(backend, &fake, Options::default()).await;
    let body = request(json!({}));

    let first = generated(&app, &body).await;
    assert_charged(&first);
    let balance = app.remaining().await;
    assert_eq!(first["meta"]["credits_remaining"], balance);

    let second = generated(&app, &body).await;
    assert_cached(&second);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1, "no second model call");
    assert_eq!(app.remaining().await, balance, "nothing charged");
    assert_eq!(second["meta"]["credits_remaining"], balance);
    assert_ne!(second["id"], first["id"], "a job of its own");
    assert_eq!(second["results"], first["results"]);
    assert_eq!(second["meta"]["model"], first["meta"]["model"]);
    assert_eq!(second["meta"]["language"], first["meta"]["language"]);
    assert_eq!(second["meta"]["tokens"], json!({"input": 0, "output": 0}));
    assert_ne!(first["meta"]["tokens"], json!({"input": 0, "output": 0}));

    let jobs = history(&app).await;
    assert_eq!(jobs.len(), 2);
    let (newest, oldest) = (&jobs[0], &jobs[1]);
    assert_eq!(newest["id"], second["id"]);
    assert_eq!(newest["status"], "completed");
    assert_eq!(newest["results"], first["results"]);
    assert_eq!(newest["meta"]["cached"], true);
    assert_eq!(newest["meta"]["cached_from"], first["id"]);
    assert_eq!(newest["meta"]["cost_usd"], 0.0);
    assert!(oldest["meta"].get("cached").is_none(), "{oldest}");
    assert!(oldest["meta"].get("cached_from").is_none(), "{oldest}");

    let usage: Value = app.get("/api/v1/usage").await.json().await.unwrap();
    assert_eq!(usage["credits"]["used_this_period"], 1, "{usage}");
    assert_eq!(usage["credits"]["cached_answers_this_period"], 1, "{usage}");
    assert!(app
        .event_types()
        .await
        .contains(&"JobAnsweredFromCache".to_string()));
    assert_audit_reconciles(&app).await;
}

async fn another_context_option_or_language_is_generated(backend: Backend) {
    // A model that writes any language (the builtin writes English whatever is asked, so a
    // request for French is, to it, the same request).
    let fake = FakeOpenAi::start(Behaviour::Answer {
        alt_text: "Red bicycles".into(),
    })
    .await;
    let app = spawn_with_model(backend, &fake, Options::default()).await;
    let first = generated(&app, &request(json!({}))).await;
    assert_charged(&first);
    for other in [
        json!({"page_context": "A museum's page on bicycles"}),
        json!({"keywords": ["bicycle"]}),
        json!({"language": "fr"}),
        json!({"max_length": 80}),
        json!({"fields": ["alt_text", "title"]}),
        json!({"mode": "ecommerce"}),
        json!({"page_url": "https://example.com/bikes"}),
    ] {
        let answer = generated(&app, &request(other.clone())).await;
        assert!(
            answer["meta"].get("cached").is_none(),
            "{other} is another request: {answer}"
        );
    }
    // And each of those is cached in its own right.
    assert_cached(&generated(&app, &request(json!({"keywords": ["bicycle"]}))).await);
    assert_audit_reconciles(&app).await;
}

async fn regenerate_is_charged_and_becomes_the_entry(backend: Backend) {
    let fake = FakeOpenAi::start(Behaviour::Answer {
        alt_text: "Red bicycles".into(),
    })
    .await;
    let app = spawn_with_model(backend, &fake, Options::default()).await;
    let first = generated(&app, &request(json!({}))).await;
    let again = generated(&app, &request(json!({"regenerate": true}))).await;
    assert_charged(&again);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
    assert_ne!(again["id"], first["id"]);

    let cached = generated(&app, &request(json!({"regenerate": false}))).await;
    assert_cached(&cached);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
    let jobs = history(&app).await;
    assert_eq!(
        jobs[0]["meta"]["cached_from"], again["id"],
        "the newest result"
    );
    assert_audit_reconciles(&app).await;
}

async fn entries_last_the_window_and_the_cache_can_be_off(backend: Backend) {
    let start = "2026-03-01T09:00:00Z".parse().unwrap();
    let clock = ManualClock::at(start);
    let app = spawn_with(
        backend,
        Options {
            clock: Arc::new(clock.clone()),
            ..Options::default()
        },
    )
    .await;
    let body = request(json!({}));
    assert_charged(&generated(&app, &body).await);
    clock.set(start + chrono::Duration::days(29));
    assert_cached(&generated(&app, &body).await);
    // The window counts from the result's generation, not from its last answer.
    clock.set(start + chrono::Duration::days(30) + chrono::Duration::seconds(1));
    assert_charged(&generated(&app, &body).await);
    assert_cached(&generated(&app, &body).await);
    assert_audit_reconciles(&app).await;

    let off = spawn_with(
        backend,
        Options {
            settings: Arc::new(|s| s.cache_days = 0),
            ..Options::default()
        },
    )
    .await;
    assert_charged(&generated(&off, &body).await);
    assert_charged(&generated(&off, &body).await);
}

async fn another_account_never_gets_this_ones_result(backend: Backend) {
    let app = spawn_with(backend, Options::default()).await;
    let body = request(json!({}));
    assert_charged(&generated(&app, &body).await);

    let other = altframe::adapters::ids::account_id();
    let services = &app.services.app;
    accounts::open_account(
        services,
        &other,
        "Other shop",
        Plan::Free,
        Language::english(),
    )
    .await
    .unwrap();
    let key = keys::issue_key(services, &other, "other")
        .await
        .unwrap()
        .key;
    let response = app
        .http
        .post(format!("{}/api/v1/generate", app.base))
        .header("x-api-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_charged(&response.json().await.unwrap());
}

async fn a_failed_job_is_never_reused(backend: Backend) {
    let fake = FakeOpenAi::start(Behaviour::FailFirst {
        times: 1,
        status: 500,
    })
    .await;
    let app = spawn_with_model(backend, &fake, Options::default()).await;
    let body = request(json!({}));
    let failed = app.post_generate(&body).await;
    assert!(!failed.status().is_success(), "{}", failed.status());
    assert_charged(&generated(&app, &body).await);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
    assert_cached(&generated(&app, &body).await);
}

/// Two `serve` processes on one Postgres database: the second answers from the first's
/// result, committed a moment before and not yet projected by either.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_process_answers_from_the_firsts_result() {
    let app = spawn_with(Backend::Postgres, Options::default()).await;
    let settings = settings_for(&app.db, &Options::default());
    let second = Application::build(settings, Overrides::default())
        .await
        .expect("build the second process");
    let second_base = format!("http://{}", second.address());
    tokio::spawn(second.run_until_stopped(std::future::pending()));

    let body = request(json!({}));
    let first = generated(&app, &body).await;
    assert_charged(&first);
    let response = app
        .http
        .post(format!("{second_base}/api/v1/generate"))
        .header("x-api-key", &app.key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_cached(&answer);
    assert_eq!(answer["results"], first["results"]);
    assert_audit_reconciles(&app).await;
}

/// Submits a batch of the tiny image and the sample PNG, each with its own context, and waits
/// for it to finish; answers its status and the balance once its credits are settled.
async fn run_batch(app: &TestApp, extra: Value) -> (Value, u32) {
    // A bulk worker reads the cache as projected (it does not wait for the read models):
    // what came before is projected first.
    app.services
        .projector
        .catch_up_fully(std::time::Duration::from_secs(60))
        .await
        .expect("projected");
    let mut body = json!({
        "images": [
            { "image_base64": base64_of("tiny-1x1.png"),
              "page_context": "A shop's page of red bicycles" },
            { "image_base64": base64_of("sample.png"), "page_context": "Our team at work" },
        ],
        "fields": ["alt_text"],
    });
    for (k, v) in extra.as_object().expect("an object") {
        body[k] = v.clone();
    }
    let response = app.post_bulk(&body).await;
    let accepted: Value = response.json().await.expect("JSON");
    let batch_id = accepted["batch_id"]
        .as_str()
        .expect("a batch id")
        .to_string();
    assert_eq!(accepted["credits_reserved"], 2, "{accepted}");
    let status = finished_batch(app, &batch_id).await;
    assert_eq!(status["completed"], 2, "{status}");
    app.services
        .process_manager
        .catch_up_fully(std::time::Duration::from_secs(10))
        .await
        .expect("settled");
    (status, app.remaining().await)
}

/// Which of a batch's results say `cached`, in submission order.
fn cached_items(status: &Value) -> Vec<bool> {
    status["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| match r.get("cached") {
            None => false,
            Some(cached) => {
                assert_eq!(cached, true, "{r}");
                true
            }
        })
        .collect()
}

async fn a_batch_answers_the_images_it_has_seen_free_unless_asked_to_regenerate(backend: Backend) {
    let app = spawn(backend).await;
    // A synchronous request's result answers the batch item with the same image and context.
    let first = generated(&app, &request(json!({}))).await;
    assert_charged(&first);
    assert_eq!(app.remaining().await, 49);

    let (status, balance) = run_batch(&app, json!({})).await;
    assert_eq!(cached_items(&status), [true, false]);
    assert_eq!(
        status["results"][0]["results"], first["results"],
        "the first request's text"
    );
    assert_eq!(balance, 48, "only the new image is charged");

    // Again: both are known now, and nothing is charged.
    let (status, balance) = run_batch(&app, json!({})).await;
    assert_eq!(cached_items(&status), [true, true]);
    assert_eq!(balance, 48);

    // regenerate: both generated and charged.
    let (status, balance) = run_batch(&app, json!({ "regenerate": true })).await;
    assert_eq!(cached_items(&status), [false, false]);
    assert_eq!(balance, 46);

    // History shows each answered item as a bulk job of 0 credits, with the job it reused.
    let jobs = history(&app).await;
    let cached: Vec<&Value> = jobs
        .iter()
        .filter(|j| j["meta"].get("cached").is_some())
        .collect();
    assert_eq!(cached.len(), 3, "{jobs:?}");
    assert!(cached.iter().all(|j| j["source"] == "bulk"
        && j["meta"]["cost_usd"] == 0.0
        && j["batch_id"].is_string()));
    let usage: Value = app.get("/api/v1/usage").await.json().await.unwrap();
    assert_eq!(usage["credits"]["cached_answers_this_period"], 3, "{usage}");
    assert_eq!(usage["credits"]["used_this_period"], 1 + 1 + 2, "{usage}");

    // Every reservation was settled once: the cached items' released whole.
    let (captured, given_back) = assert_reservations_balance(&app.events().await);
    assert_eq!((captured, given_back), (4, 3));
    assert_audit_reconciles(&app).await;
}
