//! Real model servers: many ignore `response_format`, wrapping the JSON in a code fence or in
//! prose, or answering in plain text. The provider finds the JSON, asks once more when there
//! is none, takes plain text as the alt text when that is all that was asked, and only then
//! fails (charging nothing). The image's `detail` is sent when configured.
use altframe::adapters::vision::ImageDetail;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::fake_openai::{Behaviour, FakeOpenAi, Shape};
use crate::support::{base64_of, spawn_with, Backend, Options, TestApp};

async fn app_answering(backend: Backend, shape: Shape) -> (TestApp, FakeOpenAi) {
    let fake = FakeOpenAi::start(Behaviour::Shaped(shape)).await;
    let app = spawn_with(
        backend,
        Options {
            vision: fake.provider(0),
            ..Options::default()
        },
    )
    .await;
    (app, fake)
}

fn request(fields: &[&str]) -> Value {
    json!({ "image_base64": base64_of("tiny-1x1.png"), "fields": fields })
}

on_both_backends!(
    json_in_a_code_fence_or_in_prose_is_read,
    an_answer_without_json_is_asked_for_again_and_both_calls_are_counted,
    plain_text_is_the_alt_text_when_only_alt_text_was_asked,
    no_json_for_several_fields_fails_and_charges_nothing,
);

async fn json_in_a_code_fence_or_in_prose_is_read(backend: Backend) {
    for shape in [Shape::Fenced, Shape::Prose] {
        let (app, fake) = app_answering(backend, shape).await;
        let response = app.post_generate(&request(&["alt_text", "title"])).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["results"]["alt_text"], "A test image", "{body}");
        assert_eq!(body["results"]["title"], "Test Title", "{body}");
        assert_eq!(fake.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}

async fn an_answer_without_json_is_asked_for_again_and_both_calls_are_counted(backend: Backend) {
    let (app, fake) = app_answering(backend, Shape::JsonWhenAskedAgain).await;
    let response = app.post_generate(&request(&["alt_text", "caption"])).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["results"]["alt_text"], "A test image", "{body}");
    assert_eq!(fake.calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    // The second request carries the first answer back, and a reminder of the fields.
    let again = fake.last_request();
    let messages = again["messages"].as_array().unwrap();
    assert_eq!(messages[messages.len() - 2]["role"], "assistant");
    let reminder = messages[messages.len() - 1]["content"].as_str().unwrap();
    assert!(reminder.contains("alt_text, caption"), "{reminder}");
    // Both calls' tokens are the job's (the fake reports 1180 in, 142 out per call).
    assert_eq!(body["meta"]["tokens"]["input"], 2360, "{body}");
    assert_eq!(body["meta"]["tokens"]["output"], 284, "{body}");
    assert_eq!(body["meta"]["credits_used"], 1);
}

async fn plain_text_is_the_alt_text_when_only_alt_text_was_asked(backend: Backend) {
    let (app, fake) = app_answering(backend, Shape::Plain("\"A brown dog asleep on a rug\"")).await;
    let response = app.post_generate(&request(&["alt_text"])).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["results"]["alt_text"], "A brown dog asleep on a rug",
        "{body}"
    );
    assert_eq!(
        fake.calls.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "asked once more first"
    );
}

async fn no_json_for_several_fields_fails_and_charges_nothing(backend: Backend) {
    let (app, fake) = app_answering(backend, Shape::Plain("A brown dog asleep on a rug")).await;
    let before = app.remaining().await;
    let response = app.post_generate(&request(&["alt_text", "title"])).await;
    assert_eq!(response.status(), 502);
    let message = crate::support::error_of(response, 502).await;
    assert!(message.contains("no JSON"), "{message}");
    assert!(message.contains("No credits were charged"), "{message}");
    assert_eq!(fake.calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(app.remaining().await, before);
}

/// `ALTFRAME_MODEL_IMAGE_DETAIL` goes to the image part as `detail`; unset, none is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_detail_is_sent_when_configured() {
    let fake = FakeOpenAi::start(Behaviour::Answer {
        alt_text: "A test image".into(),
    })
    .await;
    let mut config = fake.config(0);
    config.image_detail = Some(ImageDetail::Low);
    let app = spawn_with(
        Backend::Sqlite,
        Options {
            vision: fake.provider_from(config),
            ..Options::default()
        },
    )
    .await;
    assert_eq!(
        app.post_generate(&request(&["alt_text"])).await.status(),
        200
    );
    let sent = fake.last_request();
    assert_eq!(
        sent["messages"][1]["content"][1]["image_url"]["detail"], "low",
        "{sent}"
    );

    let plain = FakeOpenAi::start(Behaviour::Answer {
        alt_text: "A test image".into(),
    })
    .await;
    let app = spawn_with(
        Backend::Sqlite,
        Options {
            vision: plain.provider(0),
            ..Options::default()
        },
    )
    .await;
    assert_eq!(
        app.post_generate(&request(&["alt_text"])).await.status(),
        200
    );
    let sent = plain.last_request();
    assert!(
        sent["messages"][1]["content"][1]["image_url"]
            .get("detail")
            .is_none(),
        "{sent}"
    );
}

#[test]
fn the_image_detail_setting_takes_low_high_or_auto() {
    assert_eq!(ImageDetail::parse("low"), Ok(ImageDetail::Low));
    assert_eq!(ImageDetail::parse("auto"), Ok(ImageDetail::Auto));
    assert!(ImageDetail::parse("medium")
        .unwrap_err()
        .contains("low, high or auto"));
}

/// `negative_keywords` (our addition) go to the model as words to avoid, and whatever the model
/// writes anyway is taken out; too many is a 400 naming the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_keywords_never_appear_in_the_text() {
    let fake = FakeOpenAi::start(Behaviour::Answer {
        alt_text: "A cheap red kettle by Acme".into(),
    })
    .await;
    let app = spawn_with(
        Backend::Sqlite,
        Options {
            vision: fake.provider(0),
            ..Options::default()
        },
    )
    .await;
    let response = app
        .post_generate(&json!({
            "image_base64": base64_of("tiny-1x1.png"),
            "fields": ["alt_text"],
            "negative_keywords": ["cheap", "acme"],
        }))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["results"]["alt_text"], "A red kettle",
        "no word left dangling: {body}"
    );
    let request = fake.last_request();
    let prompt = request["messages"][1]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        prompt.contains(r#"Never use these words: "cheap", "acme""#),
        "{prompt}"
    );

    let too_many: Vec<String> = (0..21).map(|i| format!("w{i}")).collect();
    let refused = app
        .post_generate(&json!({
            "image_base64": base64_of("tiny-1x1.png"),
            "negative_keywords": too_many,
        }))
        .await;
    let message = crate::support::error_of(refused, 400).await;
    assert!(message.contains("negative_keywords"), "{message}");
}
