//! The OpenAI-compatible provider against a fake of the real API.
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use altframe::adapters::image::IntakeConfig;
use altframe::adapters::vision::{OpenAiConfig, OpenAiProvider, PriceTable};
use altframe_domain::plan::Plan;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::fake_openai::{Behaviour, FakeOpenAi, API_KEY};
use crate::support::{base64_of, error_of, spawn_with, Backend, Options, TestApp};

on_both_backends!(
    sends_a_well_formed_request_and_reports_tokens,
    an_overlong_alt_text_is_cut_at_a_word_boundary,
    a_failing_model_answers_502_and_charges_nothing,
    rate_limits_and_server_errors_are_retried,
    one_language_costs_nothing_extra_and_the_default_language_applies,
    the_model_sees_a_downscaled_copy,
);

async fn app_with(backend: Backend, behaviour: Behaviour, plan: Plan) -> (TestApp, FakeOpenAi) {
    app_in(backend, behaviour, plan, "en").await
}

async fn app_in(
    backend: Backend,
    behaviour: Behaviour,
    plan: Plan,
    language: &'static str,
) -> (TestApp, FakeOpenAi) {
    let options = Options {
        plan,
        language,
        ..Options::default()
    };
    app_configured(backend, behaviour, options).await
}

async fn app_configured(
    backend: Backend,
    behaviour: Behaviour,
    options: Options,
) -> (TestApp, FakeOpenAi) {
    let fake = FakeOpenAi::start(behaviour).await;
    let provider = OpenAiProvider::new(OpenAiConfig {
        base_url: fake.base_url.clone(),
        api_key: Some(API_KEY.into()),
        model: "gpt-4.1-nano".into(),
        timeout: Duration::from_secs(10),
        max_retries: 2,
        retry_base: Duration::from_millis(1),
        prices: PriceTable::default(),
        image_detail: None,
    })
    .unwrap();
    let app = spawn_with(
        backend,
        Options {
            vision: Arc::new(provider),
            ..options
        },
    )
    .await;
    (app, fake)
}

fn answer(alt: &str) -> Behaviour {
    Behaviour::Answer {
        alt_text: alt.into(),
    }
}

async fn sends_a_well_formed_request_and_reports_tokens(backend: Backend) {
    let (app, fake) = app_with(backend, answer("Hands planting tomato seeds"), Plan::Pro).await;
    let response = app
        .post_generate(&json!({
            "image_base64": base64_of("sample.png"),
            "mode": "ecommerce",
            "language": "es",
            "keywords": ["organic gardening"],
            "page_url": "https://shop.example/tomatoes",
            "page_context": "Heirloom tomato seeds",
            "product_name": "Tomato Seeds",
            "product_sku": "SKU-TOM-001",
            "product_attributes": { "variety": "Brandywine" },
            "fields": ["alt_text", "title"],
            "custom_prompt": "Mention that they are organic."
        }))
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["results"],
        json!({ "alt_text": "Hands planting tomato seeds", "title": "Test Title" })
    );
    assert_eq!(body["meta"]["model"], "gpt-4.1-nano");
    assert_eq!(
        body["meta"]["tokens"],
        json!({ "input": 1180, "output": 142 })
    );
    assert_eq!(
        body["meta"]["credits_used"], 1,
        "one language costs nothing extra, the account's default or not"
    );

    let request = fake.last_request();
    assert_eq!(request["model"], "gpt-4.1-nano");
    let schema = &request["response_format"]["json_schema"]["schema"];
    assert_eq!(schema["required"], json!(["alt_text", "title"]));
    let everything = request.to_string();
    for expected in [
        "\\\"es\\\"",
        "organic gardening",
        "https://shop.example/tomatoes",
        "Heirloom tomato seeds",
        "Tomato Seeds",
        "SKU-TOM-001",
        "Brandywine",
        "Mention that they are organic.",
        "product image",
    ] {
        let needle = expected.replace("\\\"", "\"");
        assert!(
            everything.contains(expected) || everything.contains(&needle),
            "the prompt should carry {expected}"
        );
    }
    let completed = app
        .events()
        .await
        .into_iter()
        .find(|(_, t, _)| t == "JobCompleted")
        .unwrap()
        .2;
    assert_eq!(
        completed["JobCompleted"]["generation"]["cost"], 175,
        "gpt-4.1-nano list price in micro-dollars"
    );
}

async fn an_overlong_alt_text_is_cut_at_a_word_boundary(backend: Backend) {
    let long = "A gardener in a straw hat carefully plants organic heirloom tomato seeds into dark, nutrient-rich soil in a raised wooden garden bed on a sunny morning";
    let (app, _fake) = app_with(backend, answer(long), Plan::Free).await;
    let body: Value = app
        .post_generate(&json!({ "image_base64": base64_of("sample.jpg"), "max_length": 40, "fields": ["alt_text"] }))
        .await
        .json()
        .await
        .unwrap();
    let alt = body["results"]["alt_text"].as_str().unwrap();
    assert_eq!(alt, "A gardener in a straw hat carefully");
    assert!(alt.chars().count() <= 40);
}

async fn a_failing_model_answers_502_and_charges_nothing(backend: Backend) {
    let (app, fake) = app_with(backend, Behaviour::Fail(500), Plan::Free).await;
    let before = app.remaining().await;
    let message = error_of(
        app.post_generate(&json!({ "image_base64": base64_of("sample.jpg") }))
            .await,
        502,
    )
    .await;
    assert!(message.contains("No credits were charged"), "{message}");
    assert_eq!(
        fake.calls.load(Ordering::SeqCst),
        3,
        "one call and two retries"
    );
    assert_eq!(app.remaining().await, before);
    let types = app.event_types().await;
    assert!(
        types.contains(&"JobFailed".to_string()) && types.contains(&"CreditsReleased".to_string()),
        "{types:?}"
    );
    assert!(!types.contains(&"CreditsCaptured".to_string()));

    let (app, _fake) = app_with(backend, Behaviour::Fail(400), Plan::Free).await;
    error_of(
        app.post_generate(&json!({ "image_base64": base64_of("sample.jpg") }))
            .await,
        502,
    )
    .await;
    assert_eq!(app.remaining().await, before);
}

async fn rate_limits_and_server_errors_are_retried(backend: Backend) {
    let (app, fake) = app_with(
        backend,
        Behaviour::FailFirst {
            times: 2,
            status: 429,
        },
        Plan::Free,
    )
    .await;
    let response = app
        .post_generate(&json!({ "image_base64": base64_of("sample.jpg") }))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 3);
}

async fn one_language_costs_nothing_extra_and_the_default_language_applies(backend: Backend) {
    let (app, fake) = app_in(backend, answer("Ein Bild"), Plan::Free, "de").await;
    let tiny = base64_of("tiny-1x1.png");
    let body: Value = app
        .post_generate(&json!({ "image_base64": tiny }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["meta"]["language"], "de", "the account's default");
    assert_eq!(body["meta"]["credits_used"], 1);
    assert!(
        fake.last_request().to_string().contains("\\\"de\\\""),
        "the prompt asks for German"
    );
    // The same request as the first, to the cache: `regenerate` to have it charged again.
    let body: Value = app
        .post_generate(&json!({ "image_base64": tiny, "language": "de", "regenerate": true }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["meta"]["credits_used"], 1,
        "the default language named explicitly"
    );
    let body: Value = app
        .post_generate(&json!({ "image_base64": tiny, "language": "fr" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["meta"]["language"], "fr");
    assert_eq!(
        body["meta"]["credits_used"], 1,
        "a language other than the default is not an additional one"
    );
}

async fn the_model_sees_a_downscaled_copy(backend: Backend) {
    let options = Options {
        intake: IntakeConfig {
            model_max_side: 256,
            ..IntakeConfig::default()
        },
        ..Options::default()
    };
    let (app, fake) = app_configured(backend, answer("A picture"), options).await;
    for file in ["sample.jpg", "sample.heic", "transparent.png"] {
        let response = app
            .post_generate(&json!({ "image_base64": base64_of(file) }))
            .await;
        assert_eq!(response.status(), 200, "{file}");
    }
    let sizes = fake.image_sizes.lock().unwrap().clone();
    assert_eq!(sizes, vec![(256, 192), (256, 192), (256, 171)]);
    let last = fake.last_request().to_string();
    assert!(
        last.contains("data:image/png;base64,"),
        "transparency is kept as PNG"
    );
}
