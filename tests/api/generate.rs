use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{base64_of, files, spawn, Backend};

on_both_backends!(
    generates_all_four_fields_for_a_jpeg_url_and_charges_one_credit,
    every_accepted_format_decodes_and_costs_its_credits,
    only_requested_fields_are_returned,
    decorative_mode_returns_empty_alt_text,
    image_url_takes_precedence_over_base64,
    data_url_prefix_is_accepted,
);

async fn generates_all_four_fields_for_a_jpeg_url_and_charges_one_credit(backend: Backend) {
    let app = spawn(backend).await;
    let images = files::serve_images().await;
    let before = app.remaining().await;
    let response = app
        .post_generate(&json!({
            "image_url": format!("{images}/img/sample.jpg"),
            "mode": "standard",
            "language": "en",
            "keywords": ["organic gardening", "tomato seeds"],
            "max_length": 125,
            "fields": ["alt_text", "title", "caption", "og_description"]
        }))
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert!(body["id"].as_str().unwrap().starts_with("job_"));
    assert_eq!(body["status"], "completed");
    for field in ["alt_text", "title", "caption", "og_description"] {
        let text = body["results"][field].as_str().unwrap_or_default();
        assert!(!text.is_empty(), "{field} is missing: {body}");
    }
    assert!(
        body["results"]["alt_text"]
            .as_str()
            .unwrap()
            .chars()
            .count()
            <= 125
    );
    let meta = &body["meta"];
    assert_eq!(meta["language"], "en");
    assert_eq!(meta["model"], "builtin");
    assert_eq!(meta["tokens"], json!({ "input": 0, "output": 0 }));
    assert!(meta["processing_ms"].is_u64());
    assert_eq!(meta["credits_used"], 1);
    assert_eq!(meta["credits_remaining"], before - 1);
    assert_eq!(app.remaining().await, before - 1);

    let types = app.event_types().await;
    for expected in [
        "CreditsReserved",
        "JobRequested",
        "JobCompleted",
        "CreditsCaptured",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} in {types:?}"
        );
    }
    let requested = app
        .events()
        .await
        .into_iter()
        .find(|(_, t, _)| t == "JobRequested")
        .unwrap()
        .2;
    let image = &requested["JobRequested"]["image"];
    assert_eq!(image["format"], "jpeg");
    assert_eq!(image["width"], 800);
    assert_eq!(image["sha256"].as_str().unwrap().len(), 64);
    assert!(
        !requested
            .to_string()
            .contains(&base64_of("sample.jpg")[..200]),
        "events never hold image bytes"
    );
}

async fn every_accepted_format_decodes_and_costs_its_credits(backend: Backend) {
    let app = spawn(backend).await;
    let mut expected_remaining = app.remaining().await;
    for (file, cost) in [
        ("sample.jpg", 1),
        ("sample.png", 1),
        ("sample.webp", 1),
        ("sample.gif", 1),
        ("sample.tiff", 2),
        ("sample.avif", 2),
        ("sample.heic", 2),
    ] {
        let response = app
            .post_generate(&json!({ "image_base64": base64_of(file), "fields": ["alt_text"] }))
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{file}: {body}");
        expected_remaining -= cost;
        assert_eq!(body["meta"]["credits_used"], cost, "{file}");
        assert_eq!(
            body["meta"]["credits_remaining"], expected_remaining,
            "{file}"
        );
        let alt = body["results"]["alt_text"].as_str().unwrap();
        assert!(
            alt.contains("landscape") || alt.contains("graphic") || alt.contains("photo"),
            "{file}: {alt}"
        );
    }
}

async fn only_requested_fields_are_returned(backend: Backend) {
    let app = spawn(backend).await;
    let response = app
        .post_generate(
            &json!({ "image_base64": base64_of("tiny-1x1.png"), "fields": ["title", "caption"] }),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    let results = body["results"].as_object().unwrap();
    let mut keys: Vec<&String> = results.keys().collect();
    keys.sort();
    assert_eq!(keys, vec!["caption", "title"]);
}

async fn decorative_mode_returns_empty_alt_text(backend: Backend) {
    let app = spawn(backend).await;
    let response = app
        .post_generate(&json!({ "image_base64": base64_of("sample.png"), "mode": "decorative" }))
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["results"]["alt_text"], "");
    assert!(!body["results"]["title"].as_str().unwrap().is_empty());
}

async fn image_url_takes_precedence_over_base64(backend: Backend) {
    let app = spawn(backend).await;
    let images = files::serve_images().await;
    let response = app
        .post_generate(&json!({
            "image_url": format!("{images}/img/sample.heic"),
            "image_base64": base64_of("tiny-1x1.png"),
        }))
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["meta"]["credits_used"], 2,
        "the HEIC URL was used: {body}"
    );
}

async fn data_url_prefix_is_accepted(backend: Backend) {
    let app = spawn(backend).await;
    let response = app
        .post_generate(&json!({
            "image_base64": format!("data:image/png;base64,{}", base64_of("transparent.png")),
        }))
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "completed", "{body}");
    assert!(
        body["results"]["alt_text"]
            .as_str()
            .unwrap()
            .contains("transparent"),
        "{body}"
    );
}
