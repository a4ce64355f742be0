//! The OpenAI-compatible provider fitted to a request: every language in one model call, the
//! image's role (a chart's long description, a link's address), and `auto` mode's decorative
//! verdict: the provider alone against the fake server, the request it sent read back. The
//! same through the API, with its credits, is in `fitted.rs`.
use std::sync::atomic::Ordering;

use altframe::adapters::image::{prepare_bytes, IntakeConfig};
use altframe::adapters::vision::{VisionOutput, VisionRequest};
use altframe_domain::generation::{finish_all, Fields, GenerationOptions, Language, Mode, Role};
use serde_json::{json, Value};

use crate::support::fake_openai::{Behaviour, FakeOpenAi, Shape};
use crate::support::files::fixture;

fn language(code: &str) -> Language {
    Language::parse(code).expect("a language code")
}

/// English, with `fields`, and `extra` languages beyond it.
fn options(fields: &[&str], extra: &[&str]) -> GenerationOptions {
    let mut o = GenerationOptions::defaults(Language::english());
    o.fields =
        Fields::parse(&fields.iter().map(|f| f.to_string()).collect::<Vec<_>>()).expect("fields");
    o.extra_languages = extra.iter().map(|c| language(c)).collect();
    o
}

async fn describe(fake: &FakeOpenAi, options: &GenerationOptions) -> VisionOutput {
    let image = prepare_bytes(None, fixture("tiny-1x1.png"), &IntakeConfig::default())
        .expect("a test image");
    fake.provider(0)
        .describe(VisionRequest {
            image: &image,
            options,
        })
        .await
        .expect("a description")
}

fn calls(fake: &FakeOpenAi) -> usize {
    fake.calls.load(Ordering::SeqCst)
}

fn codes(output: &VisionOutput) -> Vec<&str> {
    output.translations.keys().map(Language::as_str).collect()
}

/// The schema sent with the last request.
fn schema_sent(fake: &FakeOpenAi) -> Value {
    fake.last_request()["response_format"]["json_schema"]["schema"].clone()
}

/// An object schema's property names and its required ones, each sorted.
fn keys_and_required(object: &Value) -> (Vec<String>, Vec<String>) {
    let mut keys: Vec<String> = object["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let mut required: Vec<String> = object["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    required.sort();
    (keys, required)
}

fn sorted(names: &[&str]) -> (Vec<String>, Vec<String>) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    (names.clone(), names)
}

#[tokio::test]
async fn three_languages_take_one_call_and_give_two_translations() {
    let fake = FakeOpenAi::start(Behaviour::Answer {
        alt_text: "A red bicycle".into(),
    })
    .await;
    let o = options(&["alt_text", "title"], &["fr", "de"]);
    let output = describe(&fake, &o).await;
    assert_eq!(calls(&fake), 1, "one call for every language");
    assert_eq!(output.text.alt_text.as_deref(), Some("A red bicycle"));
    assert_eq!(codes(&output), vec!["de", "fr"]);
    let fr = &output.translations[&language("fr")];
    assert_eq!(fr.alt_text.as_deref(), Some("A red bicycle (fr)"));
    assert_eq!(fr.title.as_deref(), Some("Test Title (fr)"));
    assert_eq!((output.tokens.input, output.tokens.output), (1180, 142));
    let system = fake.last_request()["messages"][0]["content"].to_string();
    assert!(system.contains(r#"under \"translations\""#), "{system}");
    let done = finish_all(&output.text, &output.translations, &o);
    assert_eq!(done.translations.len(), 2);
    assert!(done.failed_languages.is_empty());
}

#[tokio::test]
async fn a_missing_or_malformed_translation_is_absent() {
    let answer = json!({
        "alt_text": "A red bicycle",
        "translations": {
            "fr": { "alt_text": "Un vélo rouge" },
            "de": "Ein rotes Fahrrad",
            "es": { "alt_text": 5 },
            "pt": { "alt_text": "Uma bicicleta vermelha" },
            "klingon": { "alt_text": "?" }
        }
    });
    let fake = FakeOpenAi::start(Behaviour::Reply(answer.to_string())).await;
    let o = options(&["alt_text"], &["fr", "de", "es", "it"]);
    let output = describe(&fake, &o).await;
    assert_eq!(
        calls(&fake),
        1,
        "a bad translation is no reason to ask again"
    );
    assert_eq!(output.text.alt_text.as_deref(), Some("A red bicycle"));
    assert_eq!(codes(&output), vec!["fr"], "pt was not asked for");
    let done = finish_all(&output.text, &output.translations, &o);
    assert_eq!(
        done.failed_languages,
        vec![language("de"), language("es"), language("it")]
    );

    let not_an_object = json!({ "alt_text": "A red bicycle", "translations": "n/a" });
    let fake = FakeOpenAi::start(Behaviour::Reply(not_an_object.to_string())).await;
    let output = describe(&fake, &o).await;
    assert_eq!(output.text.alt_text.as_deref(), Some("A red bicycle"));
    assert!(output.translations.is_empty());
}

#[tokio::test]
async fn a_fenced_answer_with_translations_is_read() {
    for shape in [Shape::Fenced, Shape::Prose] {
        let fake = FakeOpenAi::start(Behaviour::Shaped(shape)).await;
        let output = describe(&fake, &options(&["alt_text", "caption"], &["fr"])).await;
        assert_eq!(calls(&fake), 1);
        assert_eq!(output.text.alt_text.as_deref(), Some("A test image"));
        assert_eq!(
            output.translations[&language("fr")].caption.as_deref(),
            Some("A caption written by the fake model. (fr)")
        );
    }
}

#[tokio::test]
async fn an_answer_asked_for_again_keeps_its_translations_and_plain_text_has_none() {
    let fake = FakeOpenAi::start(Behaviour::Shaped(Shape::JsonWhenAskedAgain)).await;
    let output = describe(&fake, &options(&["alt_text", "caption"], &["fr", "de"])).await;
    assert_eq!(calls(&fake), 2);
    assert_eq!(codes(&output), vec!["de", "fr"]);
    let again = fake.last_request();
    let reminder = again["messages"][3]["content"].as_str().unwrap_or_default();
    assert!(reminder.contains("alt_text, caption"), "{reminder}");
    assert!(reminder.contains("translations"), "{reminder}");
    assert!(reminder.contains("fr, de"), "{reminder}");

    let fake = FakeOpenAi::start(Behaviour::Shaped(Shape::Plain("A brown dog on a rug"))).await;
    let output = describe(&fake, &options(&["alt_text"], &["fr"])).await;
    assert_eq!(calls(&fake), 2);
    assert_eq!(
        output.text.alt_text.as_deref(),
        Some("A brown dog on a rug")
    );
    assert!(output.translations.is_empty());
}

#[tokio::test]
async fn the_schema_sent_asks_for_translations_a_charts_long_description_and_the_verdict() {
    let fake = FakeOpenAi::start(Behaviour::Answer {
        alt_text: "Line chart of sales in 2024".into(),
    })
    .await;
    let mut o = options(&["alt_text"], &["fr", "de"]);
    o.role = Some(Role::Chart);
    o.mode = Mode::Auto;
    let output = describe(&fake, &o).await;
    let schema = schema_sent(&fake);
    assert_eq!(
        keys_and_required(&schema),
        sorted(&[
            "alt_text",
            "decorative",
            "decorative_reason",
            "long_description",
            "translations"
        ]),
        "{schema}"
    );
    assert_eq!(schema["properties"]["decorative"]["type"], "boolean");
    let translations = &schema["properties"]["translations"];
    assert_eq!(keys_and_required(translations), sorted(&["de", "fr"]));
    assert_eq!(
        keys_and_required(&translations["properties"]["fr"]),
        sorted(&["alt_text", "long_description"])
    );
    assert_eq!(fake.last_request()["max_tokens"], 4500);
    let system = fake.last_request()["messages"][0]["content"].to_string();
    assert!(system.contains("chart or graph"), "{system}");
    assert!(system.contains("purely decorative"), "{system}");
    assert_eq!(
        output.text.long_description.as_deref(),
        Some("Sales rose from 10 in January to 40 in June.")
    );
    assert_eq!(output.text.decorative, Some(false));
    assert!(output.translations[&language("de")]
        .long_description
        .is_some());

    // A plain request asks for its fields alone, as before.
    let plain = options(&["alt_text"], &[]);
    describe(&fake, &plain).await;
    assert_eq!(
        keys_and_required(&schema_sent(&fake)),
        sorted(&["alt_text"])
    );
    assert_eq!(fake.last_request()["max_tokens"], 1000);
}

#[tokio::test]
async fn a_link_image_is_described_by_where_it_goes() {
    let fake = FakeOpenAi::start(Behaviour::Answer {
        alt_text: "Pricing".into(),
    })
    .await;
    let mut o = options(&["alt_text"], &[]);
    o.role = Some(Role::Link);
    o.link_url = Some("https://example.com/pricing".into());
    describe(&fake, &o).await;
    let sent = fake.last_request();
    let system = sent["messages"][0]["content"].as_str().unwrap_or_default();
    assert!(system.contains("where the link goes"), "{system}");
    let user = sent["messages"][1]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        user.contains(r#"The image links to: "https://example.com/pricing""#),
        "{user}"
    );
}

#[tokio::test]
async fn the_decorative_verdict_is_read_as_a_boolean_or_a_string() {
    let mut o = options(&["alt_text"], &[]);
    o.mode = Mode::Auto;
    for (verdict, read, finished) in [
        (json!(true), Some(true), true),
        (json!("true"), Some(true), true),
        (json!("False"), Some(false), false),
        (json!("perhaps"), None, false),
    ] {
        let answer = json!({
            "alt_text": "A thin gold line",
            "decorative": verdict,
            "decorative_reason": "A divider that adds no information."
        });
        let fake = FakeOpenAi::start(Behaviour::Reply(answer.to_string())).await;
        let output = describe(&fake, &o).await;
        assert_eq!(output.text.decorative, read, "{answer}");
        assert_eq!(
            output.text.decorative_reason.as_deref(),
            Some("A divider that adds no information.")
        );
        let done = finish_all(&output.text, &output.translations, &o);
        assert_eq!(done.results.decorative, Some(finished), "{answer}");
        assert_eq!(done.results.alt_text.as_deref() == Some(""), finished);
    }
}
