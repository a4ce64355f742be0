//! The shape of the answer asked of a model: the strict JSON schema sent as `response_format`,
//! the same shape written out for the prompt (many servers ignore `response_format`), and the
//! room the answer needs. All three follow the request's options: the requested fields, a
//! chart's `long_description`, the `auto` mode's verdict, the verdict on the page's alt text
//! (`validate`) and one object per extra language.
use altframe_domain::generation::{Field, GenerationOptions, Mode};
use serde_json::{json, Map, Value};

/// The keys the model writes in every language: the requested fields, then a chart's
/// `long_description`.
pub fn text_keys(o: &GenerationOptions) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = o.fields.iter().map(Field::as_str).collect();
    if o.wants_long_description() {
        keys.push("long_description");
    }
    keys
}

/// A strict JSON schema: the text keys in the primary language, the verdict in `auto` mode,
/// and `translations` holding the text keys for each extra language. Strict mode needs every
/// property required, so a key not asked for is not in the schema at all.
pub fn response_schema(o: &GenerationOptions) -> Value {
    let mut properties = text_properties(o);
    if o.mode == Mode::Auto {
        properties.insert("decorative".into(), json!({ "type": "boolean" }));
        properties.insert("decorative_reason".into(), json!({ "type": "string" }));
    }
    if o.judge_alt_text.is_some() {
        properties.insert("current_alt_matches".into(), json!({ "type": "boolean" }));
        properties.insert("current_alt_reason".into(), json!({ "type": "string" }));
    }
    if !o.extra_languages.is_empty() {
        let languages: Map<String, Value> = o
            .extra_languages
            .iter()
            .map(|l| (l.as_str().to_string(), strict_object(text_properties(o))))
            .collect();
        properties.insert("translations".into(), strict_object(languages));
    }
    strict_object(properties)
}

fn text_properties(o: &GenerationOptions) -> Map<String, Value> {
    text_keys(o)
        .into_iter()
        .map(|k| (k.to_string(), json!({ "type": "string" })))
        .collect()
}

/// An object that must hold exactly `properties`, as strict mode wants every object.
fn strict_object(properties: Map<String, Value>) -> Value {
    let required: Vec<&String> = properties.keys().collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

/// The answer's shape as the prompt shows it, such as
/// `{"alt_text": "…", "decorative": true or false, "translations": {"fr": {"alt_text": "…"}}}`.
/// The first translation is written out; the others are `{…}`, the same keys again.
pub fn answer_shape(o: &GenerationOptions) -> String {
    let text = |keys: &[&str]| -> Vec<String> {
        keys.iter().map(|k| format!("\"{k}\": \"…\"")).collect()
    };
    let keys = text_keys(o);
    let mut parts = text(&keys);
    if o.mode == Mode::Auto {
        parts.push("\"decorative\": true or false".into());
        parts.push("\"decorative_reason\": \"…\"".into());
    }
    if o.judge_alt_text.is_some() {
        parts.push("\"current_alt_matches\": true or false".into());
        parts.push("\"current_alt_reason\": \"…\"".into());
    }
    if !o.extra_languages.is_empty() {
        let first = format!("{{{}}}", text(&keys).join(", "));
        let languages: Vec<String> = o
            .extra_languages
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let object = if i == 0 { first.as_str() } else { "{…}" };
                format!("\"{}\": {object}", l.as_str())
            })
            .collect();
        parts.push(format!("\"translations\": {{{}}}", languages.join(", ")));
    }
    format!("{{{}}}", parts.join(", "))
}

/// The most tokens the answer may take: 1000 for each language, half again for a chart's
/// long description. Only what is written is paid for; too few would cut the JSON short.
pub fn max_tokens(o: &GenerationOptions) -> u32 {
    let per_language: u32 = if o.wants_long_description() {
        1500
    } else {
        1000
    };
    let languages = u32::try_from(o.extra_languages.len())
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    per_language.saturating_mul(languages)
}

#[cfg(test)]
mod tests {
    use altframe_domain::generation::Role;

    use super::super::fixtures::{languages, options};
    use super::*;

    /// An object's property names, sorted.
    fn keys(object: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = object["properties"]
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        keys
    }

    /// Strict mode: every object closed, every property required.
    fn assert_strict(object: &Value) {
        assert_eq!(object["type"], "object", "{object}");
        assert_eq!(object["additionalProperties"], false, "{object}");
        let mut required: Vec<&str> = object["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        required.sort_unstable();
        assert_eq!(required, keys(object), "{object}");
        for property in object["properties"].as_object().into_iter().flatten() {
            if property.1["type"] == "object" {
                assert_strict(property.1);
            }
        }
    }

    #[test]
    fn a_plain_request_asks_for_exactly_its_fields() {
        let schema = response_schema(&options(&["alt_text", "title"]));
        assert_strict(&schema);
        assert_eq!(keys(&schema), vec!["alt_text", "title"]);
        assert_eq!(max_tokens(&options(&["alt_text"])), 1000);
    }

    #[test]
    fn each_extra_language_is_a_required_object_under_translations() {
        let mut o = options(&["alt_text", "caption"]);
        o.extra_languages = languages(&["fr", "de"]);
        let schema = response_schema(&o);
        assert_strict(&schema);
        assert_eq!(keys(&schema), vec!["alt_text", "caption", "translations"]);
        let translations = &schema["properties"]["translations"];
        assert_eq!(keys(translations), vec!["de", "fr"]);
        assert_eq!(
            keys(&translations["properties"]["fr"]),
            vec!["alt_text", "caption"]
        );
        assert_eq!(max_tokens(&o), 3000);
    }

    #[test]
    fn a_chart_gets_a_long_description_in_every_language() {
        let mut o = options(&["alt_text"]);
        o.extra_languages = languages(&["es"]);
        o.role = Some(Role::Chart);
        let schema = response_schema(&o);
        assert_strict(&schema);
        assert_eq!(
            keys(&schema),
            vec!["alt_text", "long_description", "translations"]
        );
        assert_eq!(
            keys(&schema["properties"]["translations"]["properties"]["es"]),
            vec!["alt_text", "long_description"]
        );
        assert_eq!(max_tokens(&o), 3000);
        o.role = Some(Role::Logo);
        assert!(!keys(&response_schema(&o)).contains(&"long_description"));
    }

    #[test]
    fn auto_mode_asks_for_the_verdict_at_the_top_only() {
        let mut o = options(&["alt_text"]);
        o.mode = Mode::Auto;
        o.extra_languages = languages(&["fr"]);
        let schema = response_schema(&o);
        assert_strict(&schema);
        assert_eq!(schema["properties"]["decorative"]["type"], "boolean");
        assert_eq!(schema["properties"]["decorative_reason"]["type"], "string");
        assert_eq!(
            keys(&schema["properties"]["translations"]["properties"]["fr"]),
            vec!["alt_text"]
        );
        o.mode = Mode::Standard;
        assert!(!keys(&response_schema(&o)).contains(&"decorative"));
    }

    #[test]
    fn the_shape_shows_the_verdict_and_the_first_translation() {
        let mut o = options(&["alt_text", "title"]);
        assert_eq!(answer_shape(&o), r#"{"alt_text": "…", "title": "…"}"#);
        o.mode = Mode::Auto;
        o.extra_languages = languages(&["fr", "de"]);
        assert_eq!(
            answer_shape(&o),
            r#"{"alt_text": "…", "title": "…", "decorative": true or false, "decorative_reason": "…", "translations": {"fr": {"alt_text": "…", "title": "…"}, "de": {…}}}"#
        );
    }
}
