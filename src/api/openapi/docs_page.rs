//! GET /docs: the spec as a self-contained HTML page (no scripts, nothing fetched), so that a
//! server without internet access still documents itself.
use serde_json::Value;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn pretty(v: &Value) -> String {
    escape(&serde_json::to_string_pretty(v).unwrap_or_default())
}

/// Follows a `$ref` inside the document, once.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or(v),
        None => v,
    }
}

fn operation_html(doc: &Value, method: &str, path: &str, op: &Value) -> String {
    let text = |k: &str| escape(op[k].as_str().unwrap_or_default());
    let mut html = format!(
        "<section id=\"{id}\"><h3><span class=\"method {method}\">{upper}</span> <code>{path}</code></h3>\
         <p><strong>{summary}</strong></p><p>{description}</p>",
        id = text("operationId"),
        upper = method.to_uppercase(),
        path = escape(path),
        summary = text("summary"),
        description = text("description"),
    );
    if let Some(params) = op["parameters"].as_array() {
        html.push_str("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>schema</th><th>description</th></tr>");
        for p in params.iter().map(|p| resolve(doc, p)) {
            html.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                escape(p["name"].as_str().unwrap_or_default()),
                escape(p["in"].as_str().unwrap_or_default()),
                escape(&p["schema"].to_string()),
                escape(p["description"].as_str().unwrap_or_default()),
            ));
        }
        html.push_str("</table>");
    }
    if let Some(content) = op.pointer("/requestBody/content/application~1json") {
        html.push_str("<h4>Request body</h4>");
        html.push_str(&format!(
            "<pre>{}</pre>",
            pretty(resolve(doc, &content["schema"]))
        ));
        if let Some(example) = content.get("example") {
            html.push_str(&format!("<p>Example</p><pre>{}</pre>", pretty(example)));
        }
    }
    html.push_str("<h4>Responses</h4><table><tr><th>status</th><th>meaning</th></tr>");
    if let Some(responses) = op["responses"].as_object() {
        for (status, response) in responses {
            let response = resolve(doc, response);
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td></tr>",
                escape(status),
                escape(response["description"].as_str().unwrap_or_default())
            ));
        }
    }
    html.push_str("</table>");
    let example = op["responses"]
        .as_object()
        .and_then(|r| r.values().next())
        .and_then(|r| r.pointer("/content/application~1json/example"));
    if let Some(example) = example {
        html.push_str(&format!(
            "<p>Example answer</p><pre>{}</pre>",
            pretty(example)
        ));
    }
    html.push_str("</section>");
    html
}

pub fn render(doc: &Value) -> String {
    let title = escape(doc["info"]["title"].as_str().unwrap_or("API"));
    let mut body = String::new();
    let mut index = String::from("<ul>");
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                index.push_str(&format!(
                    "<li><a href=\"#{}\">{} {}</a></li>",
                    escape(op["operationId"].as_str().unwrap_or_default()),
                    method.to_uppercase(),
                    escape(path)
                ));
                body.push_str(&operation_html(doc, method, path, op));
            }
        }
    }
    index.push_str("</ul>");
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}}\
         pre{{background:#f4f4f4;padding:.75rem;overflow:auto}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}}\
         .method{{font-family:monospace;padding:.1rem .4rem;border-radius:3px;background:#ddd}}</style></head>\
         <body><h1>{title}</h1><p>{description}</p><p>The machine-readable spec: <a href=\"/openapi.yaml\">/openapi.yaml</a>.</p>\
         <h2>Operations</h2>{index}{body}</body></html>",
        description = escape(doc["info"]["description"].as_str().unwrap_or_default()),
    )
}
