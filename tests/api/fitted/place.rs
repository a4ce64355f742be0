//! The image's place: its role shapes the builtin's text, and `auto` mode decides whether it
//! is decorative and says why.
use serde_json::{json, Value};

use super::{generate, keys};
use crate::on_both_backends;
use crate::support::fake_openai::{Behaviour, FakeOpenAi};
use crate::support::{base64_of, spawn, spawn_with, Backend, Options};

on_both_backends!(
    auto_mode_decides_from_the_pixels_and_the_role_and_says_why,
    each_role_shapes_the_builtins_text,
    a_models_role_text_and_verdict_reach_the_response,
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

async fn a_models_role_text_and_verdict_reach_the_response(backend: Backend) {
    let answer = json!({
        "alt_text": "Monthly seed sales",
        "long_description": "Sales rose from 120 packets in January to 410 in June.",
        "decorative": true,
        "decorative_reason": "It is only an arrow."
    });
    let fake = FakeOpenAi::start(Behaviour::Reply(answer.to_string())).await;
    let options = Options {
        vision: fake.provider(0),
        ..Options::default()
    };
    let app = spawn_with(backend, options).await;
    let request = |extra: Value| {
        let mut body = json!({ "image_base64": base64_of("sample.png"), "fields": ["alt_text"] });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };

    // A chart informs: never decorative, whatever the model says, and its data comes along.
    let chart = generate(&app, request(json!({ "role": "chart", "mode": "auto" }))).await;
    let results = &chart["results"];
    assert_eq!(results["alt_text"], "Monthly seed sales", "{chart}");
    assert_eq!(
        results["long_description"],
        "Sales rose from 120 packets in January to 410 in June."
    );
    assert_eq!(results["decorative"], false, "{chart}");
    let sent = fake.last_request();
    let schema = &sent["response_format"]["json_schema"]["schema"];
    assert!(
        schema["properties"]["long_description"].is_object(),
        "{schema}"
    );
    assert!(schema["properties"]["decorative"].is_object(), "{schema}");

    // A background the model judges decorative gets alt="" and the model's reason.
    let background = generate(
        &app,
        request(json!({ "role": "background", "mode": "auto" })),
    )
    .await;
    assert_eq!(background["results"]["alt_text"], "", "{background}");
    assert_eq!(background["results"]["decorative"], true);
    assert_eq!(
        background["results"]["decorative_reason"],
        "It is only an arrow."
    );
    assert!(background["results"].get("long_description").is_none());

    // A link's address is in what the model is told.
    let link = json!({ "role": "link", "link_url": "https://example.com/pricing" });
    generate(&app, request(link)).await;
    let prompt = fake.last_request()["messages"][1]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(prompt.contains("https://example.com/pricing"), "{prompt}");
}
