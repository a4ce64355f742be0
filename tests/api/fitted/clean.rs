//! Clean output from both providers: an answer that breaks every rule comes out clean.
use serde_json::json;

use super::generate;
use crate::on_both_backends;
use crate::support::fake_openai::{Behaviour, FakeOpenAi};
use crate::support::{base64_of, spawn, spawn_with, Backend, Options};

on_both_backends!(answers_that_break_the_rules_are_cleaned_on_both_providers,);

/// Checks the clean-output rules on one field: no wrapping quotes, no opening that names the
/// medium, each keyword at most once, none of `never`, within `max` characters and cut
/// between words of `whole`.
fn assert_clean(field: &str, text: &str, keywords: &[&str], never: &[&str], max: usize) {
    let lower = text.to_lowercase();
    assert!(
        !text.starts_with('"') && !text.ends_with('"'),
        "{field}: {text}"
    );
    for opening in ["image of", "photo of", "picture of", "this image shows"] {
        assert!(!lower.starts_with(opening), "{field}: {text}");
    }
    for keyword in keywords {
        assert!(
            lower.matches(keyword).count() <= 1,
            "{field}: {keyword} twice in {text}"
        );
    }
    for word in never {
        assert!(
            !lower.contains(&word.to_lowercase()),
            "{field}: {word} in {text}"
        );
    }
    assert!(text.chars().count() <= max, "{field}: over {max}: {text}");
}

async fn answers_that_break_the_rules_are_cleaned_on_both_providers(backend: Backend) {
    let keywords = [
        "tomato seeds",
        "organic gardening",
        "raised beds",
        "compost",
    ];
    let never = ["CompetitorCo", "graphic"];
    let request = |max_length: u32| {
        json!({
            "image_base64": base64_of("sample.png"),
            "keywords": keywords,
            "negative_keywords": never,
            "max_length": max_length,
        })
    };
    // A model that breaks every rule at once.
    let answer = json!({
        "alt_text": "\"Image of tomato seeds, organic gardening, raised beds and compost from CompetitorCo.\"",
        "title": "Photo of tomato seeds and tomato seeds",
        "caption": "This image shows hands sowing tomato seeds in raised beds. The tomato seeds are small.",
        "og_description": "Tomato seeds; organic gardening; raised beds; compost"
    });
    let fake = FakeOpenAi::start(Behaviour::Reply(answer.to_string())).await;
    let model = spawn_with(
        backend,
        Options {
            vision: fake.provider(0),
            ..Options::default()
        },
    )
    .await;
    let body = generate(&model, request(125)).await;
    let results = &body["results"];
    assert_eq!(
        results["alt_text"], "Tomato seeds",
        "the list keeps its first: {body}"
    );
    assert_eq!(results["title"], "Tomato seeds", "{body}");
    assert_eq!(
        results["caption"], "Hands sowing tomato seeds in raised beds.",
        "{body}"
    );
    assert_eq!(results["og_description"], "Tomato seeds", "{body}");

    let builtin = spawn(backend).await;
    for max_length in [125, 24] {
        let body = generate(&builtin, request(max_length)).await;
        for field in ["alt_text", "title", "caption", "og_description"] {
            let text = body["results"][field].as_str().unwrap();
            let max = if field == "alt_text" {
                max_length as usize
            } else {
                300
            };
            assert_clean(field, text, &keywords, &never, max);
        }
        let alt = body["results"]["alt_text"].as_str().unwrap();
        assert!(!alt.ends_with('.'), "one sentence, no period: {alt}");
        assert!(
            !alt.ends_with([',', ' ']),
            "cut at a word boundary, no dangling punctuation: {alt}"
        );
    }
}
