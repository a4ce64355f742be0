//! Reading a model's answer. Many OpenAI-compatible servers and models ignore
//! `response_format`: they wrap the JSON in a Markdown code fence, or put prose around it, or
//! answer in plain text. This finds the JSON object wherever it is; the provider decides what
//! to do when there is none (ask again, or take plain text as the alt text). The answer is
//! untrusted text: anything that does not read as ours is left out, never a panic.
mod object;

use serde_json::Value;

use object::read;
pub use object::Answer;

/// The first JSON object in `content` that reads as an answer: the whole text, a code
/// fence's body, or an object between other text. An object nested in one that is not ours
/// is taken (some models wrap the answer), but never one inside `translations`.
pub fn find_json(content: &str) -> Option<Answer> {
    let content = content.trim();
    if let Some(answer) = parse(content) {
        return Some(answer);
    }
    if let Some(answer) = fenced(content).and_then(parse) {
        return Some(answer);
    }
    scan(content)
}

/// A plain-text answer as alt text: trimmed, without the quotes or label a model may add.
/// `None` when nothing is left, or when it looks like a broken attempt at JSON.
pub fn plain_text(content: &str) -> Option<String> {
    let mut text = content.trim();
    if text.starts_with('{') || text.starts_with("```") {
        return None;
    }
    for label in ["alt text:", "alt_text:", "alt:"] {
        if text
            .get(..label.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(label))
        {
            text = text[label.len()..].trim_start();
        }
    }
    let text = text
        .trim_matches(|c| matches!(c, '"' | '\'' | '“' | '”' | '‘' | '’'))
        .trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn parse(candidate: &str) -> Option<Answer> {
    serde_json::from_str::<Value>(candidate)
        .ok()
        .and_then(|value| find_in(&value))
}

/// The first object in `value`, itself or nested, that holds our text; a `translations`
/// object is another language's text, so it is never searched.
fn find_in(value: &Value) -> Option<Answer> {
    match value {
        Value::Object(object) => read(object).or_else(|| {
            object
                .iter()
                .filter(|(key, _)| key.as_str() != "translations")
                .find_map(|(_, v)| find_in(v))
        }),
        Value::Array(items) => items.iter().find_map(find_in),
        _ => None,
    }
}

/// The body of the first Markdown code fence (```json ... ``` or ``` ... ```).
fn fenced(content: &str) -> Option<&str> {
    let start = content.find("```")?;
    let after = &content[start + 3..];
    // The info string (`json`) runs to the end of the opening line.
    let body_start = after.find('\n').map_or(0, |i| i + 1);
    let body = &after[body_start..];
    let end = body.find("```")?;
    Some(body[..end].trim())
}

/// The first answer among the balanced `{...}` in `content`, braces inside JSON strings
/// ignored. A JSON object is searched whole and its parts never again on their own (they may
/// be translations). The scan stops at a `{` that never closes, as in an answer cut short:
/// its parts are no whole answer, and the provider asks again.
fn scan(content: &str) -> Option<Answer> {
    let mut from = 0;
    while let Some(offset) = content.get(from..).and_then(|rest| rest.find('{')) {
        let start = from + offset;
        let end = start + balanced_end(content.get(start..)?)?;
        match serde_json::from_str::<Value>(content.get(start..end)?) {
            Ok(value) => match find_in(&value) {
                Some(answer) => return Some(answer),
                None => from = end,
            },
            // Not JSON (prose in braces, say): an object may still start inside it.
            Err(_) => from = start + 1,
        }
    }
    None
}

/// The length of the balanced object that `s` starts with.
fn balanced_end(s: &str) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, c) in s.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use altframe_domain::generation::Language;

    use super::*;

    fn alt(content: &str) -> Option<String> {
        find_json(content).and_then(|t| t.text.alt_text)
    }

    #[test]
    fn json_is_found_bare_fenced_or_among_prose() {
        let want = Some("A red bicycle".to_string());
        assert_eq!(alt(r#"{"alt_text": "A red bicycle"}"#), want);
        assert_eq!(alt("```json\n{\"alt_text\": \"A red bicycle\"}\n```"), want);
        assert_eq!(alt("```\n{\"alt_text\": \"A red bicycle\"}\n```"), want);
        assert_eq!(
            alt("Sure! Here is the JSON you asked for:\n{\"alt_text\": \"A red bicycle\"}\nHope it helps."),
            want
        );
        assert_eq!(
            alt(r#"Note {not json}. {"alt_text": "A red bicycle", "title": "Bike {1}"}"#),
            want
        );
        assert_eq!(
            find_json(r#"{"alt_text": "A", "caption": "Say \"hi\" {x}"}"#)
                .and_then(|t| t.text.caption),
            Some("Say \"hi\" {x}".into())
        );
    }

    #[test]
    fn no_json_is_none() {
        assert_eq!(find_json("A red bicycle leaning on a wall."), None);
        assert_eq!(find_json("{\"alt_text\": \"unterminated"), None);
        assert_eq!(find_json(r#"{"other": "field"}"#), None);
        assert_eq!(find_json(""), None);
    }

    #[test]
    fn translations_are_read_bare_fenced_or_among_prose() {
        let json = r#"{"alt_text": "A red bicycle", "translations": {"fr": {"alt_text": "Un vélo rouge"}}}"#;
        for content in [
            json.to_string(),
            format!("```json\n{json}\n```"),
            format!("Here you go:\n{json}\nEnjoy {{and more}}."),
            format!(r#"{{"result": {json}}}"#),
        ] {
            let answer = find_json(&content).expect("an answer");
            assert_eq!(answer.text.alt_text.as_deref(), Some("A red bicycle"));
            let fr = Language::parse("fr").expect("fr");
            assert_eq!(
                answer.translations[&fr].alt_text.as_deref(),
                Some("Un vélo rouge"),
                "{content}"
            );
        }
    }

    #[test]
    fn a_translation_is_never_taken_for_the_primary_text() {
        // Cut short: the only whole objects left are translations.
        let cut = r#"{"alt_text": "A red bicycle", "translations": {"fr": {"alt_text": "Un vélo"}, "de": {"alt_t"#;
        assert_eq!(find_json(cut), None);
        assert_eq!(find_json(&format!("Sure: {cut}")), None);
        // No primary text at all, only translations.
        let only = r#"{"translations": {"fr": {"alt_text": "Un vélo"}}}"#;
        assert_eq!(find_json(only), None);
        assert_eq!(find_json(&format!("Sure: {only} Bye.")), None);
    }

    #[test]
    fn plain_text_loses_quotes_and_labels() {
        assert_eq!(
            plain_text("  \"A red bicycle\"\n"),
            Some("A red bicycle".into())
        );
        assert_eq!(
            plain_text("Alt text: A red bicycle"),
            Some("A red bicycle".into())
        );
        assert_eq!(plain_text("“A red bicycle”"), Some("A red bicycle".into()));
        assert_eq!(plain_text("   "), None);
        assert_eq!(
            plain_text("é—"),
            Some("é—".into()),
            "no cut inside a character"
        );
        assert_eq!(plain_text("{\"alt_text\": \"broken"), None);
    }
}
