//! GET /docs: the API reference, rendered by us from the OpenAPI document into
//! `templates/docs/page.html`, so that a server without internet access documents itself and
//! the page shares the dashboard's layout (decision record 0012). It is a complete reference
//! without JavaScript; `assets/docs.js` adds a try-it form to each operation. Text from the
//! spec reaches the page only through the template, which escapes it, and never a script.
mod operation;
mod prose;
mod schema;

use askama::Template;
use serde_json::Value;

use operation::OperationView;
use prose::Prose;

/// The operations of one tag.
struct Group {
    name: String,
    anchor: String,
    operations: Vec<OperationView>,
}

/// A way to send the API key: the `x-api-key` header, say.
struct Scheme {
    /// What to send, shown as code: `x-api-key`, `Authorization: Bearer <key>`.
    code: String,
    /// Where, after the code: "header".
    place: String,
    description: Prose,
}

struct Server {
    url: String,
    description: Prose,
}

#[derive(Template)]
#[template(path = "docs/page.html")]
struct DocsPage {
    title: String,
    version: String,
    description: Prose,
    servers: Vec<Server>,
    schemes: Vec<Scheme>,
    /// The shell lines that set the variables the curl examples use.
    example_setup: String,
    groups: Vec<Group>,
    webhooks: Vec<OperationView>,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// "Generation" -> "tag-generation".
fn tag_anchor(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("tag-{slug}")
}

/// The operations grouped by their first tag, in the order the document lists its tags;
/// untagged ones last, under "Other".
fn groups(doc: &Value) -> Vec<Group> {
    let mut names: Vec<String> = doc
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| text(t, "name"))
        .filter(|n| !n.is_empty())
        .collect();
    let mut tagged: Vec<(String, OperationView)> = Vec::new();
    for (path, item) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (method, op) in item.as_object().into_iter().flatten() {
            if !op.is_object() {
                continue;
            }
            let tag = op
                .pointer("/tags/0")
                .and_then(Value::as_str)
                .unwrap_or("Other")
                .to_string();
            if !names.contains(&tag) {
                names.push(tag.clone());
            }
            tagged.push((tag, operation::view(doc, method, path, op, false)));
        }
    }
    names
        .into_iter()
        .map(|name| {
            let operations: Vec<OperationView> = tagged
                .iter()
                .filter(|(tag, _)| *tag == name)
                .map(|(_, op)| op.clone())
                .collect();
            Group {
                anchor: tag_anchor(&name),
                name,
                operations,
            }
        })
        .filter(|g| !g.operations.is_empty())
        .collect()
}

fn webhooks(doc: &Value) -> Vec<OperationView> {
    let mut found = Vec::new();
    for (name, item) in doc
        .get("webhooks")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (method, op) in item.as_object().into_iter().flatten() {
            if op.is_object() {
                found.push(operation::view(doc, method, name, op, true));
            }
        }
    }
    found
}

fn schemes(doc: &Value) -> Vec<Scheme> {
    doc.pointer("/components/securitySchemes")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, s)| {
            let (code, place) = match (text(s, "type").as_str(), text(s, "in")) {
                ("apiKey", location) => (text(s, "name"), location),
                ("http", _) => (
                    format!(
                        "Authorization: {} <key>",
                        crate::api::text::capitalised(&text(s, "scheme"))
                    ),
                    "header".to_string(),
                ),
                (other, _) => (name.clone(), other.to_string()),
            };
            Scheme {
                code,
                place,
                description: Prose::new(&text(s, "description")),
            }
        })
        .collect()
}

/// The shell lines for the curl examples, with the document's local server (a loopback
/// one) as the address; `assets/docs.js` puts the page's own origin in its place.
fn example_setup(servers: &[Server]) -> String {
    let local = servers
        .iter()
        .map(|s| s.url.as_str())
        .find(|url| url.starts_with("http://127.0.0.1") || url.starts_with("http://localhost"))
        .unwrap_or("http://127.0.0.1:8080");
    format!("export ALTFRAME_URL={local}\nexport ALTFRAME_KEY=af_live_your_key_here")
}

fn servers(doc: &Value) -> Vec<Server> {
    doc.get("servers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| Server {
            url: text(s, "url"),
            description: Prose::new(&text(s, "description")),
        })
        .collect()
}

/// The page for `doc`.
pub fn render(doc: &Value) -> Result<String, askama::Error> {
    let info = doc.get("info").unwrap_or(&Value::Null);
    let title = match text(info, "title") {
        t if t.is_empty() => "API".to_string(),
        t => t,
    };
    let servers = servers(doc);
    DocsPage {
        title,
        version: text(info, "version"),
        description: Prose::new(&text(info, "description")),
        example_setup: example_setup(&servers),
        servers,
        schemes: schemes(doc),
        groups: groups(doc),
        webhooks: webhooks(doc),
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_become_anchors() {
        assert_eq!(tag_anchor("Generation"), "tag-generation");
        assert_eq!(tag_anchor("Two words"), "tag-two-words");
    }

    #[test]
    fn the_real_spec_renders_with_its_text_escaped() {
        let page = render(&crate::api::openapi::document()).unwrap_or_default();
        assert!(
            page.starts_with("<!doctype html>"),
            "{}",
            &page[..page.len().min(200)]
        );
        // The /docs operation's example answer is HTML: shown as text, not as markup.
        assert_eq!(page.matches("<!doctype html>").count(), 1);
        assert!(page.contains("&#60;!doctype html&#62;"));
    }
}
