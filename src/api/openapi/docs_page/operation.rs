//! One operation of the spec as the page shows it: what it takes, what it answers, examples
//! and a curl line, and the fields of its try-it form. Everything here is plain text for the
//! template to escape.
use serde_json::Value;

use super::prose::Prose;
use super::schema::{self, resolve, Limit, SchemaTable};

#[derive(Debug, Clone)]
pub struct OperationView {
    /// The anchor of its section: the spec's operationId.
    pub id: String,
    /// Lower case, as in the spec and the CSS class: `post`.
    pub method: String,
    pub method_upper: String,
    pub path: String,
    pub summary: String,
    pub description: Prose,
    /// Needs an API key.
    pub keyed: bool,
    /// A webhook: a request AltFrame sends, documented but not for calling.
    pub sent_by_us: bool,
    pub parameters: Vec<ParameterView>,
    pub request: Option<Body>,
    pub responses: Vec<ResponseView>,
    /// The distinct bodies of the responses, each with the statuses that answer with it.
    pub bodies: Vec<ResponseBody>,
    /// Every header any of its responses carries, described once.
    pub headers: Vec<HeaderView>,
    /// The request as a shell command; none for what we send (a webhook).
    pub curl: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ParameterView {
    pub name: String,
    /// `path`, `query` or `header`.
    pub location: String,
    pub kind: String,
    pub required: bool,
    pub description: Prose,
    pub limits: Vec<Limit>,
    /// The try-it field: an `<input>` of this type, or a `<select>` of `choices`.
    pub input_type: &'static str,
    pub choices: Vec<String>,
    pub min: Option<String>,
    pub max: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Body {
    pub content_type: String,
    pub table: SchemaTable,
    /// Pretty JSON, or the text itself for a body that is not JSON.
    pub example: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ResponseView {
    pub status: String,
    /// A 2xx.
    pub success: bool,
    pub description: Prose,
    /// The anchor of its body's table, when it has a body.
    pub body_anchor: Option<String>,
    pub body_kind: String,
    pub headers: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ResponseBody {
    pub anchor: String,
    /// "200", or "400, 401 and 500".
    pub statuses: String,
    pub success: bool,
    pub body: Body,
}

#[derive(Debug, Clone)]
pub struct HeaderView {
    pub name: String,
    pub kind: String,
    pub description: Prose,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// An example as the page prints it: JSON pretty, text as it is.
fn example_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}

/// "400", "400 and 401", "400, 401 and 500".
fn joined(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn parameter(doc: &Value, p: &Value) -> ParameterView {
    let p = resolve(doc, p);
    let schema = p.get("schema").cloned().unwrap_or(Value::Null);
    let target = resolve(doc, &schema);
    let choices: Vec<String> = target
        .get("enum")
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let is_integer = target.get("type").and_then(Value::as_str) == Some("integer");
    let number = |key: &str| {
        target
            .get(key)
            .filter(|v| v.is_number())
            .map(Value::to_string)
    };
    ParameterView {
        name: text(p, "name"),
        location: text(p, "in"),
        kind: schema::kind(doc, &schema),
        required: p.get("required").and_then(Value::as_bool) == Some(true),
        description: Prose::new(&text(p, "description")),
        limits: schema::limits(doc, &schema),
        input_type: if is_integer { "number" } else { "text" },
        choices,
        min: if is_integer { number("minimum") } else { None },
        max: if is_integer { number("maximum") } else { None },
    }
}

/// The first content of a request or response, as (content type, its object).
fn content(v: &Value) -> Option<(&String, &Value)> {
    v.get("content").and_then(Value::as_object)?.iter().next()
}

fn body(doc: &Value, content_type: &str, content: &Value) -> Body {
    let schema = content.get("schema").cloned().unwrap_or(Value::Null);
    Body {
        content_type: content_type.to_string(),
        table: schema::table(doc, &schema),
        example: content.get("example").map(example_text),
    }
}

fn header(doc: &Value, name: &str, h: &Value) -> HeaderView {
    let h = resolve(doc, h);
    let schema = h.get("schema").cloned().unwrap_or(Value::Null);
    HeaderView {
        name: name.to_string(),
        kind: schema::kind(doc, &schema),
        description: Prose::new(&text(h, "description")),
    }
}

/// The responses, their distinct bodies (success first, then the errors that share one), and
/// the headers they carry.
fn responses(
    doc: &Value,
    id: &str,
    op: &Value,
) -> (Vec<ResponseView>, Vec<ResponseBody>, Vec<HeaderView>) {
    let mut views = Vec::new();
    let mut bodies: Vec<(String, Vec<String>, ResponseBody)> = Vec::new();
    let mut headers: Vec<HeaderView> = Vec::new();
    let Some(responses) = op.get("responses").and_then(Value::as_object) else {
        return (views, Vec::new(), headers);
    };
    for (status, response) in responses {
        let response = resolve(doc, response);
        let mut names = Vec::new();
        for (name, h) in response
            .get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            names.push(name.clone());
            if !headers.iter().any(|known| known.name == *name) {
                headers.push(header(doc, name, h));
            }
        }
        let success = status.starts_with('2');
        let mut view = ResponseView {
            status: status.clone(),
            success,
            description: Prose::new(&text(response, "description")),
            body_anchor: None,
            body_kind: String::new(),
            headers: names,
        };
        if let Some((content_type, content)) = content(response) {
            // Errors share a body when they share a schema; each success has its own, since
            // its example is its own.
            let key = format!(
                "{content_type} {} {success}",
                content.get("schema").unwrap_or(&Value::Null)
            );
            let position = bodies.iter().position(|(k, _, _)| !success && *k == key);
            let index = match position {
                Some(index) => index,
                None => {
                    let anchor = format!("{id}-response-{}", status.to_ascii_lowercase());
                    bodies.push((
                        key,
                        Vec::new(),
                        ResponseBody {
                            anchor,
                            statuses: String::new(),
                            success,
                            body: body(doc, content_type, content),
                        },
                    ));
                    bodies.len() - 1
                }
            };
            let (_, statuses, shared) = &mut bodies[index];
            statuses.push(status.clone());
            view.body_anchor = Some(shared.anchor.clone());
            view.body_kind = shared.body.table.kind.clone();
        }
        views.push(view);
    }
    let bodies = bodies
        .into_iter()
        .map(|(_, statuses, mut body)| {
            body.statuses = joined(&statuses);
            body
        })
        .collect();
    (views, bodies, headers)
}

/// Quotes a string for a POSIX shell, inside single quotes.
fn shell_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The request as curl, against `$ALTFRAME_URL` with the key in `$ALTFRAME_KEY`: required
/// parameters only, the path's placeholders left for the reader, the example as the body.
fn curl(
    method: &str,
    path: &str,
    keyed: bool,
    parameters: &[ParameterView],
    request: Option<&Body>,
) -> String {
    let query: Vec<String> = parameters
        .iter()
        .filter(|p| p.location == "query" && p.required)
        .map(|p| format!("{}=…", p.name))
        .collect();
    let url = if query.is_empty() {
        format!("$ALTFRAME_URL{path}")
    } else {
        format!("$ALTFRAME_URL{path}?{}", query.join("&"))
    };
    let mut lines = vec![if method == "get" {
        format!("curl \"{url}\"")
    } else {
        format!("curl -X {} \"{url}\"", method.to_uppercase())
    }];
    if keyed {
        lines.push("-H \"x-api-key: $ALTFRAME_KEY\"".into());
    }
    if let Some(body) = request {
        lines.push(format!("-H \"Content-Type: {}\"", body.content_type));
        if let Some(example) = &body.example {
            lines.push(format!("-d {}", shell_quoted(example)));
        }
    }
    lines.join(" \\\n  ")
}

/// The view of `op`, at `method` `path`. `sent_by_us` marks a webhook: documented, but not
/// something to call.
pub fn view(doc: &Value, method: &str, path: &str, op: &Value, sent_by_us: bool) -> OperationView {
    let id = match text(op, "operationId") {
        id if !id.is_empty() => id,
        _ => format!("{method}-{path}")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect(),
    };
    let keyed = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    let parameters: Vec<ParameterView> = op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| parameter(doc, p))
        .collect();
    let request = op
        .get("requestBody")
        .map(|r| resolve(doc, r))
        .and_then(content)
        .map(|(content_type, c)| body(doc, content_type, c));
    let (responses, bodies, headers) = responses(doc, &id, op);
    let curl = (!sent_by_us).then(|| curl(method, path, keyed, &parameters, request.as_ref()));
    OperationView {
        method: method.to_string(),
        method_upper: method.to_uppercase(),
        path: path.to_string(),
        summary: text(op, "summary"),
        description: Prose::new(&text(op, "description")),
        keyed,
        sent_by_us,
        parameters,
        request,
        responses,
        bodies,
        headers,
        curl,
        id,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn errors_with_one_schema_share_one_body() {
        let doc = json!({ "components": { "responses": {
            "400": { "description": "Bad.", "content": { "application/json": { "schema": { "type": "object", "properties": { "error": { "type": "string" } } } } } },
            "401": { "description": "No key.", "content": { "application/json": { "schema": { "type": "object", "properties": { "error": { "type": "string" } } } } } },
        } } });
        let op = json!({
            "operationId": "things",
            "security": [{ "ApiKeyHeader": [] }],
            "responses": {
                "200": { "description": "Fine.", "headers": { "x-request-id": { "description": "The id.", "schema": { "type": "string" } } }, "content": { "application/json": { "schema": { "type": "string" }, "example": "ok" } } },
                "400": { "$ref": "#/components/responses/400" },
                "401": { "$ref": "#/components/responses/401" },
            },
        });
        let view = view(&doc, "get", "/things", &op, false);
        assert_eq!(view.responses.len(), 3);
        assert_eq!(view.bodies.len(), 2);
        assert_eq!(view.bodies[0].statuses, "200");
        assert_eq!(view.bodies[0].body.example.as_deref(), Some("ok"));
        assert_eq!(view.bodies[1].statuses, "400 and 401");
        assert_eq!(
            view.responses[2].body_anchor.as_deref(),
            Some("things-response-400")
        );
        assert_eq!(view.headers.len(), 1);
        assert_eq!(
            view.curl.as_deref(),
            Some("curl \"$ALTFRAME_URL/things\" \\\n  -H \"x-api-key: $ALTFRAME_KEY\"")
        );
    }

    #[test]
    fn curl_quotes_the_body_for_the_shell() {
        let op = json!({
            "requestBody": { "content": { "application/json": { "schema": { "type": "object" }, "example": { "text": "it's" } } } },
            "responses": {},
        });
        let view = view(&json!({}), "post", "/say", &op, false);
        assert_eq!(view.id, "post--say");
        let curl = view.curl.unwrap_or_default();
        assert!(
            curl.starts_with("curl -X POST \"$ALTFRAME_URL/say\""),
            "{curl}"
        );
        assert!(curl.contains(r#""text": "it'\''s""#), "{curl}");
        assert!(!curl.contains("x-api-key"));
    }
}
