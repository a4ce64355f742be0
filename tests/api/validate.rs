//! POST /api/v1/validate: the rule-based findings and the language check are free; a
//! suggestion or a model's judgement is one generation, a job in history, charged only when it
//! completes.
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::fake_openai::{Behaviour, FakeOpenAi};
use crate::support::{base64_of, error_of, spawn, spawn_with, Backend, Options, TestApp};

on_both_backends!(
    the_rules_are_free_and_score_the_text,
    a_decorative_image_and_another_language_are_findings,
    a_suggestion_is_a_charged_job_in_history,
    the_builtin_cannot_judge_and_bad_input_is_refused,
    a_models_judgement_is_a_finding_charged_once,
    a_model_that_gives_no_verdict_charges_nothing,
);

async fn validate(app: &TestApp, body: Value) -> Value {
    let response = app.post("/api/v1/validate", &body).await;
    assert_eq!(response.status(), 200, "{body}");
    response.json().await.expect("JSON")
}

fn codes(answer: &Value) -> Vec<&str> {
    answer["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("a code"))
        .collect()
}

async fn history(app: &TestApp) -> Value {
    app.get("/api/v1/history").await.json().await.expect("JSON")
}

async fn the_rules_are_free_and_score_the_text(backend: Backend) {
    let app = spawn(backend).await;
    let before = app.remaining().await;
    let photo = base64_of("sample.jpg");

    let file_name = validate(
        &app,
        json!({ "image_base64": photo, "alt_text": "IMG_2043.jpg" }),
    )
    .await;
    assert_eq!(codes(&file_name), ["file_name"], "{file_name}");
    assert_eq!(file_name["score"], 30);
    assert!(file_name["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("IMG_2043.jpg"));
    assert_eq!(file_name["decorative"], false);
    assert_eq!(file_name["meta"]["credits_used"], 0);
    assert_eq!(file_name["meta"]["credits_remaining"], before);
    assert_eq!(file_name["meta"]["language"], "en");
    for absent in ["suggestion", "judgement"] {
        assert!(file_name.get(absent).is_none(), "{file_name}");
    }
    assert!(file_name["meta"].get("job_id").is_none());
    assert!(file_name["meta"].get("model").is_none());

    let missing = validate(&app, json!({ "image_base64": photo })).await;
    assert_eq!(codes(&missing), ["missing"]);
    assert_eq!(missing["score"], 0);
    let stuffed = validate(
        &app,
        json!({
            "image_base64": photo,
            "alt_text": "Image of boots, hiking boots, waterproof boots, cheap boots",
            "keywords": ["hiking boots", "waterproof"],
            "max_length": 40
        }),
    )
    .await;
    assert_eq!(
        codes(&stuffed),
        ["too_long", "redundant_prefix", "keyword_stuffing"],
        "{stuffed}"
    );
    assert_eq!(stuffed["score"], 100 - 20 - 15 - 40);
    let good = validate(
        &app,
        json!({ "image_base64": photo, "alt_text": "Hands pressing seeds into a raised bed" }),
    )
    .await;
    assert_eq!(codes(&good), Vec::<&str>::new());
    assert_eq!(good["score"], 100);

    assert_eq!(app.remaining().await, before, "the rules cost nothing");
    assert_eq!(history(&app).await["jobs"], json!([]), "and make no job");
}

async fn a_decorative_image_and_another_language_are_findings(backend: Backend) {
    let app = spawn(backend).await;
    // A 1×1 image is a spacer: the builtin's pixel verdict, free whatever the model.
    let spacer = base64_of("tiny-1x1.png");
    let labelled = validate(
        &app,
        json!({ "image_base64": spacer, "alt_text": "Blue swirl divider" }),
    )
    .await;
    assert_eq!(labelled["decorative"], true, "{labelled}");
    assert!(labelled["decorative_reason"]
        .as_str()
        .unwrap()
        .contains("spacer"));
    assert_eq!(codes(&labelled), ["decorative_with_text"]);
    let empty = validate(&app, json!({ "image_base64": spacer, "alt_text": "" })).await;
    assert_eq!(codes(&empty), Vec::<&str>::new(), "alt=\"\" is right here");
    // A role with a purpose is never decorative.
    let button = validate(
        &app,
        json!({ "image_base64": spacer, "alt_text": "", "role": "button" }),
    )
    .await;
    assert_eq!(button["decorative"], false);
    assert_eq!(codes(&button), ["missing"]);

    let german = "Ein rotes Fahrrad lehnt an einer alten Mauer aus Backstein in der Sonne";
    let photo = base64_of("sample.jpg");
    let on_english_page = validate(
        &app,
        json!({ "image_base64": photo, "alt_text": german, "language": "en", "max_length": 200 }),
    )
    .await;
    assert_eq!(codes(&on_english_page), ["language"], "{on_english_page}");
    assert!(on_english_page["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("German (de)"));
    let on_german_page = validate(
        &app,
        json!({ "image_base64": photo, "alt_text": german, "language": "de", "max_length": 200 }),
    )
    .await;
    assert_eq!(codes(&on_german_page), Vec::<&str>::new());
    assert_eq!(on_german_page["meta"]["language"], "de");
}

async fn a_suggestion_is_a_charged_job_in_history(backend: Backend) {
    let app = spawn(backend).await;
    let before = app.remaining().await;
    let answer = validate(
        &app,
        json!({ "image_base64": base64_of("sample.png"), "alt_text": "image", "suggest": true }),
    )
    .await;
    assert_eq!(codes(&answer), ["generic"]);
    let suggestion = answer["suggestion"].as_object().expect("a suggestion");
    assert_eq!(
        suggestion.keys().collect::<Vec<_>>(),
        ["alt_text"],
        "alt text only unless fields says more"
    );
    assert!(!suggestion["alt_text"].as_str().unwrap().is_empty());
    assert_eq!(answer["meta"]["credits_used"], 1);
    assert_eq!(answer["meta"]["credits_remaining"], before - 1);
    assert_eq!(answer["meta"]["model"], "builtin");
    assert_eq!(app.remaining().await, before - 1);

    let jobs = history(&app).await["jobs"].clone();
    assert_eq!(jobs.as_array().map(Vec::len), Some(1), "{jobs}");
    assert_eq!(jobs[0]["id"], answer["meta"]["job_id"]);
    assert_eq!(jobs[0]["source"], "validate");
    assert_eq!(jobs[0]["status"], "completed");
    let usage: Value = app.get("/api/v1/usage").await.json().await.unwrap();
    assert_eq!(usage["credits"]["used_this_period"], 1, "{usage}");
    assert_eq!(
        usage["credits"]["validate_credits_this_period"], 1,
        "{usage}"
    );
    assert!(usage["credits"].get("cached_answers_this_period").is_none());

    // Out of credits: the suggestion is refused whole, the rules alone still answer.
    app.spend_down_to(0).await;
    let refused = app
        .post(
            "/api/v1/validate",
            // Another image: the same one again would be answered from the cache, free.
            &json!({ "image_base64": base64_of("sample.gif"), "alt_text": "image", "suggest": true }),
        )
        .await;
    let message = error_of(refused, 402).await;
    assert!(message.contains("Insufficient credits"), "{message}");
    let free = validate(
        &app,
        json!({ "image_base64": base64_of("sample.png"), "alt_text": "image" }),
    )
    .await;
    assert_eq!(free["meta"]["credits_remaining"], 0);
}

async fn the_builtin_cannot_judge_and_bad_input_is_refused(backend: Backend) {
    let app = spawn(backend).await;
    let before = app.remaining().await;
    let photo = base64_of("sample.jpg");
    let post = |body: Value| {
        let app = &app;
        async move { app.post("/api/v1/validate", &body).await }
    };
    let message = error_of(
        post(json!({ "image_base64": photo, "alt_text": "A dog", "check_match": true })).await,
        400,
    )
    .await;
    assert!(
        message.contains("check_match needs a vision model"),
        "{message}"
    );
    let message = error_of(post(json!({ "alt_text": "A dog" })).await, 400).await;
    assert!(message.contains("image_url"), "{message}");
    let message = error_of(
        post(json!({ "image_base64": photo, "alt_text": "x".repeat(5000) })).await,
        400,
    )
    .await;
    assert!(message.contains("alt_text"), "{message}");
    let message = error_of(
        post(json!({ "image_base64": photo, "max_length": 5 })).await,
        400,
    )
    .await;
    assert!(message.contains("max_length"), "{message}");
    let message = error_of(
        post(json!({ "image_base64": photo, "language": "zz" })).await,
        400,
    )
    .await;
    assert!(message.contains("language"), "{message}");
    let unauthenticated = reqwest::Client::new()
        .post(format!("{}/api/v1/validate", app.base))
        .json(&json!({ "image_base64": photo }))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    assert_eq!(app.remaining().await, before);
}

async fn a_models_judgement_is_a_finding_charged_once(backend: Backend) {
    let answer = json!({
        "alt_text": "A tabby cat asleep on a green sofa",
        "current_alt_matches": false,
        "current_alt_reason": "The image shows a cat, not a dog."
    });
    let fake = FakeOpenAi::start(Behaviour::Reply(answer.to_string())).await;
    let app = spawn_with(
        backend,
        Options {
            vision: fake.provider(0),
            ..Options::default()
        },
    )
    .await;
    let before = app.remaining().await;
    let body = json!({
        "image_base64": base64_of("sample.png"),
        "alt_text": "A dog on a sofa",
        "check_match": true,
        "suggest": true
    });
    let judged = validate(&app, body).await;
    assert_eq!(codes(&judged), ["mismatch"], "{judged}");
    assert_eq!(judged["score"], 40);
    assert_eq!(judged["judgement"]["matches"], false);
    // Tidied like every text a model writes: the medium opening goes.
    assert_eq!(judged["judgement"]["reason"], "A cat, not a dog.");
    assert_eq!(
        judged["suggestion"]["alt_text"],
        "A tabby cat asleep on a green sofa"
    );
    assert_eq!(judged["meta"]["credits_used"], 1, "one generation for both");
    assert_eq!(app.remaining().await, before - 1);
    assert_eq!(fake.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    let prompt = fake.last_request().to_string();
    assert!(
        prompt.contains(r#"The page's current alt text, to judge: \"A dog on a sofa\""#),
        "{prompt}"
    );

    // check_match alone: the verdict, no suggestion, the same one credit.
    let judged_only = validate(
        &app,
        json!({ "image_base64": base64_of("sample.png"), "alt_text": "A dog", "check_match": true }),
    )
    .await;
    assert!(judged_only.get("suggestion").is_none(), "{judged_only}");
    assert_eq!(judged_only["judgement"]["matches"], false);
    assert_eq!(judged_only["meta"]["credits_used"], 1);
    assert_eq!(app.remaining().await, before - 2);
}

async fn a_model_that_gives_no_verdict_charges_nothing(backend: Backend) {
    let fake = FakeOpenAi::start(Behaviour::Reply(
        json!({ "alt_text": "A tabby cat" }).to_string(),
    ))
    .await;
    let app = spawn_with(
        backend,
        Options {
            vision: fake.provider(0),
            ..Options::default()
        },
    )
    .await;
    let before = app.remaining().await;
    let response = app
        .post(
            "/api/v1/validate",
            &json!({ "image_base64": base64_of("sample.png"), "alt_text": "A dog", "check_match": true }),
        )
        .await;
    let message = error_of(response, 502).await;
    assert!(message.contains("no verdict"), "{message}");
    assert!(message.contains("No credits were charged"), "{message}");
    assert_eq!(app.remaining().await, before);
}
