//! Reading a model's answer. Many OpenAI-compatible servers and models ignore
//! `response_format`: they wrap the JSON in a Markdown code fence, or put prose around it, or
//! answer in plain text. This finds the JSON object wherever it is; the provider decides what
//! to do when there is none (ask again, or take plain text as the alt text).
use altframe_domain::generation::GeneratedText;
use serde_json::{Map, Value};

/// The answer's fields, from the first JSON object in `content` that reads as one: the whole
/// text, a code fence's body, or an object between other text.
pub fn find_json(content: &str) -> Option<GeneratedText> {
    let content = content.trim();
    if let Some(text) = read(content) {
        return Some(text);
    }
    if let Some(text) = fenced(content).and_then(read) {
        return Some(text);
    }
    objects(content).find_map(read)
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

/// The object's string fields as our text; an object with none of our fields is not one.
fn read(candidate: &str) -> Option<GeneratedText> {
    let object: Map<String, Value> = serde_json::from_str(candidate).ok()?;
    let field = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_string);
    let text = GeneratedText {
        alt_text: field("alt_text"),
        title: field("title"),
        caption: field("caption"),
        og_description: field("og_description"),
        ..GeneratedText::default()
    };
    let any = text.alt_text.is_some()
        || text.title.is_some()
        || text.caption.is_some()
        || text.og_description.is_some();
    any.then_some(text)
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

/// Each balanced `{...}` in `content`, in order, braces inside JSON strings ignored.
fn objects(content: &str) -> impl Iterator<Item = &str> {
    content
        .char_indices()
        .filter(|(_, c)| *c == '{')
        .filter_map(move |(start, _)| {
            balanced_end(&content[start..]).map(|end| &content[start..start + end])
        })
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
    use super::*;

    fn alt(content: &str) -> Option<String> {
        find_json(content).and_then(|t| t.alt_text)
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
            find_json(r#"{"alt_text": "A", "caption": "Say \"hi\" {x}"}"#).and_then(|t| t.caption),
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
