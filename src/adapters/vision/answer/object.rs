//! One JSON object of a model's answer read as our text: the primary language's fields and
//! verdict, and each translation. Every value is checked for its type; what does not read is
//! left out.
use std::collections::BTreeMap;

use altframe_domain::generation::{GeneratedText, Language};
use altframe_domain::validation::Judgement;
use serde_json::{Map, Value};

/// The text keys of one language's object.
const TEXT_KEYS: [&str; 5] = [
    "alt_text",
    "title",
    "caption",
    "og_description",
    "long_description",
];

/// What a model answered: the text in the primary language (with the verdict in `auto`
/// mode), and each translation that reads as one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answer {
    pub text: GeneratedText,
    pub translations: BTreeMap<Language, GeneratedText>,
    /// The verdict on the page's alt text, when the answer holds one.
    pub judgement: Option<Judgement>,
}

/// The object's text, verdict and translations; an object with none of our keys (read as
/// their types) is not an answer.
pub fn read(object: &Map<String, Value>) -> Option<Answer> {
    let mut text = text_of(object);
    text.decorative = object.get("decorative").and_then(verdict);
    text.decorative_reason = string(object, "decorative_reason");
    let judgement = object
        .get("current_alt_matches")
        .and_then(verdict)
        .map(|matches| Judgement {
            matches,
            reason: string(object, "current_alt_reason").unwrap_or_default(),
        });
    let any = TEXT_KEYS.iter().any(|k| string(object, k).is_some())
        || text.decorative.is_some()
        || text.decorative_reason.is_some()
        || judgement.is_some();
    let translations = object
        .get("translations")
        .and_then(Value::as_object)
        .map(translations)
        .unwrap_or_default();
    any.then_some(Answer {
        text,
        translations,
        judgement,
    })
}

/// Each entry keyed by a known language code whose value is an object of strings; any other
/// entry is left out (that language then counts as not delivered), the rest still read.
fn translations(object: &Map<String, Value>) -> BTreeMap<Language, GeneratedText> {
    let mut out = BTreeMap::new();
    for (code, value) in object {
        let Ok(language) = Language::parse(code) else {
            continue;
        };
        if let Some(text) = value.as_object().and_then(translation) {
            out.entry(language).or_insert(text);
        }
    }
    out
}

/// One language's text: our keys, each a string, at least one of them.
fn translation(object: &Map<String, Value>) -> Option<GeneratedText> {
    let all_strings = TEXT_KEYS
        .iter()
        .all(|k| object.get(*k).is_none_or(Value::is_string));
    let any = TEXT_KEYS.iter().any(|k| object.contains_key(*k));
    (all_strings && any).then(|| text_of(object))
}

fn text_of(object: &Map<String, Value>) -> GeneratedText {
    GeneratedText {
        alt_text: string(object, "alt_text"),
        title: string(object, "title"),
        caption: string(object, "caption"),
        og_description: string(object, "og_description"),
        long_description: string(object, "long_description"),
        ..GeneratedText::default()
    }
}

fn string(object: &Map<String, Value>, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(str::to_string)
}

/// A verdict (`decorative`, `current_alt_matches`) as a JSON boolean, or the strings "true" and "false" that some models write;
/// anything else is no verdict.
fn verdict(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn answer(value: Value) -> Option<Answer> {
        value.as_object().and_then(read)
    }

    fn language(code: &str) -> Language {
        Language::parse(code).expect("code")
    }

    #[test]
    fn translations_are_read_by_language_code() {
        let read = answer(json!({
            "alt_text": "A red bicycle",
            "translations": {
                "fr": { "alt_text": "Un vélo rouge", "long_description": "Les ventes montent." },
                "DE": { "alt_text": "Ein rotes Fahrrad" }
            }
        }))
        .expect("an answer");
        assert_eq!(read.text.alt_text.as_deref(), Some("A red bicycle"));
        assert_eq!(
            read.translations.keys().collect::<Vec<_>>(),
            vec![&language("de"), &language("fr")]
        );
        let fr = &read.translations[&language("fr")];
        assert_eq!(fr.alt_text.as_deref(), Some("Un vélo rouge"));
        assert_eq!(fr.long_description.as_deref(), Some("Les ventes montent."));
    }

    #[test]
    fn a_bad_translation_is_left_out_and_the_rest_still_read() {
        let read = answer(json!({
            "alt_text": "A red bicycle",
            "translations": {
                "fr": { "alt_text": "Un vélo rouge", "mood": 3 },
                "de": "Ein rotes Fahrrad",
                "es": { "alt_text": ["Una bicicleta"] },
                "it": { "alt_text": "Una bici", "title": null },
                "pt": {},
                "xx": { "alt_text": "?" },
                "french": { "alt_text": "Un vélo" }
            }
        }))
        .expect("an answer");
        assert_eq!(
            read.translations.keys().collect::<Vec<_>>(),
            vec![&language("fr")],
            "unknown keys in a translation are ignored, wrong types are not"
        );
        for translations in [json!("none"), json!(["fr"]), json!(null)] {
            let read = answer(json!({ "alt_text": "A", "translations": translations }))
                .expect("the primary text stands");
            assert!(read.translations.is_empty());
        }
    }

    #[test]
    fn the_verdict_is_a_boolean_or_its_string() {
        let verdict_of = |v: Value| {
            answer(json!({ "alt_text": "", "decorative": v, "decorative_reason": "A divider" }))
                .map(|a| a.text.decorative)
        };
        assert_eq!(verdict_of(json!(true)), Some(Some(true)));
        assert_eq!(verdict_of(json!(false)), Some(Some(false)));
        assert_eq!(verdict_of(json!(" TRUE ")), Some(Some(true)));
        assert_eq!(verdict_of(json!("false")), Some(Some(false)));
        for unclear in [json!("yes"), json!(1), json!(null), json!({})] {
            assert_eq!(verdict_of(unclear), Some(None));
        }
        let only_verdict = answer(json!({ "decorative": "true", "decorative_reason": "A spacer" }))
            .expect("a verdict alone is an answer");
        assert_eq!(only_verdict.text.decorative, Some(true));
        assert_eq!(
            only_verdict.text.decorative_reason.as_deref(),
            Some("A spacer")
        );
        assert_eq!(answer(json!({ "decorative": "maybe" })), None);
        assert_eq!(answer(json!({ "alt_text": 5 })), None);
    }

    #[test]
    fn the_verdict_on_the_pages_alt_text_reads_with_its_reason() {
        let read = answer(json!({
            "alt_text": "A cat on a sofa",
            "current_alt_matches": "false",
            "current_alt_reason": "It shows a cat, not a dog."
        }))
        .expect("an answer");
        assert_eq!(
            read.judgement,
            Some(Judgement {
                matches: false,
                reason: "It shows a cat, not a dog.".into()
            })
        );
        let unclear = answer(json!({ "alt_text": "A", "current_alt_matches": "perhaps" }))
            .expect("the text stands");
        assert_eq!(unclear.judgement, None, "no verdict rather than a guess");
    }
}
