//! The image's place: its role shapes the builtin's text, and `auto` mode decides whether it
//! is decorative and says why.
use serde_json::{json, Value};

use super::{generate, keys};
use crate::on_both_backends;
use crate::support::{base64_of, spawn, Backend};

on_both_backends!(
    auto_mode_decides_from_the_pixels_and_the_role_and_says_why,
    each_role_shapes_the_builtins_text,
);

async fn auto_mode_decides_from_the_pixels_and_the_role_and_says_why(backend: Backend) {
    let app = spawn(backend).await;
    let fields = json!(["alt_text", "title"]);
    let spacer = generate(
        &app,
        json!({ "image_base64": base64_of("tiny-1x1.png"), "mode": "auto", "fields": fields }),
    )
    .await;
    assert_eq!(spacer["results"]["decorative"], true, "{spacer}");
    assert_eq!(spacer["results"]["alt_text"], "", "WCAG's alt=\"\"");
    assert!(
        !spacer["results"]["title"].as_str().unwrap().is_empty(),
        "{spacer}"
    );
    let reason = spacer["results"]["decorative_reason"].as_str().unwrap();
    assert!(reason.contains("spacer"), "{reason}");

    let photo = generate(
        &app,
        json!({ "image_base64": base64_of("large-4000x3000.jpg"), "mode": "auto", "fields": fields }),
    )
    .await;
    assert_eq!(photo["results"]["decorative"], false, "{photo}");
    assert!(!photo["results"]["alt_text"].as_str().unwrap().is_empty());
    assert!(photo["results"]["decorative_reason"].is_string());

    let linked = generate(
        &app,
        json!({ "image_base64": base64_of("tiny-1x1.png"), "mode": "auto", "role": "link",
                "link_url": "https://example.com/pricing", "fields": fields }),
    )
    .await;
    assert_eq!(
        linked["results"]["decorative"], false,
        "a link is functional: {linked}"
    );
    assert!(linked["results"]["alt_text"]
        .as_str()
        .unwrap()
        .contains("example.com"));

    let background = generate(
        &app,
        json!({ "image_base64": base64_of("large-4000x3000.jpg"), "mode": "auto",
                "role": "background", "fields": fields }),
    )
    .await;
    assert_eq!(background["results"]["decorative"], true, "{background}");

    let standard = generate(
        &app,
        json!({ "image_base64": base64_of("tiny-1x1.png"), "fields": fields }),
    )
    .await;
    assert!(
        standard["results"].get("decorative").is_none(),
        "{standard}"
    );
    assert!(standard["results"].get("decorative_reason").is_none());

    let history: Value = app
        .get("/api/v1/history?limit=5")
        .await
        .json()
        .await
        .unwrap();
    let spacer_job = history["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == spacer["id"])
        .expect("the spacer's job");
    assert_eq!(spacer_job["mode"], "auto");
    assert_eq!(spacer_job["results"]["decorative"], true);
    assert_eq!(spacer_job["results"]["decorative_reason"], reason);
}

async fn each_role_shapes_the_builtins_text(backend: Backend) {
    let app = spawn(backend).await;
    let image = base64_of("sample.png");
    let with = |extra: Value| {
        let mut body = json!({ "image_base64": image, "fields": ["alt_text"] });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let alt = |body: &Value| body["results"]["alt_text"].as_str().unwrap().to_string();

    let link = generate(
        &app,
        with(json!({ "role": "link", "link_url": "https://www.example.com/pricing/annual-plans" })),
    )
    .await;
    assert_eq!(alt(&link), "Annual plans, example.com", "{link}");
    let button = generate(
        &app,
        with(json!({ "role": "button", "page_context": "Add to cart" })),
    )
    .await;
    assert_eq!(alt(&button), "Add to cart", "{button}");
    let logo = generate(
        &app,
        with(json!({ "role": "logo", "page_url": "https://acme-tools.com/about" })),
    )
    .await;
    assert_eq!(alt(&logo), "Acme Tools logo", "{logo}");
    let chart = generate(
        &app,
        with(json!({ "role": "chart", "page_context": "Monthly sales, 2026" })),
    )
    .await;
    assert!(alt(&chart).starts_with("Chart"), "{chart}");
    let long = chart["results"]["long_description"].as_str().unwrap();
    assert!(
        long.contains("cannot be read"),
        "honest about the data: {long}"
    );
    for plain in [
        generate(&app, with(json!({ "role": "content" }))).await,
        generate(&app, with(json!({}))).await,
    ] {
        assert!(
            plain["results"].get("long_description").is_none(),
            "{plain}"
        );
        assert_eq!(keys(&plain["results"]), ["alt_text"]);
    }
}
