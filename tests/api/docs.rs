//! GET /docs, the API reference, and GET /assets/{name}, the files our pages share: every
//! operation of the spec is on the page with its fields, nothing from the spec is put into a
//! script, and the assets come with their content type and caching, with no key and no rate
//! limit. The page does not depend on the store, so these run on SQLite only.
use serde_json::Value;

use crate::support::{spawn, Backend, TestApp};

async fn docs_page(app: &TestApp) -> (reqwest::header::HeaderMap, String) {
    let response = app
        .http
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    (headers, response.text().await.unwrap())
}

/// The part of the page from the section with this id to the next operation's.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("<section class=\"operation\" id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no section {id}"));
    let rest = &page[start..];
    let end = rest[1..]
        .find("<section class=\"operation\"")
        .map_or(rest.len(), |n| n + 1);
    &rest[..end]
}

/// Every `(operationId, method, path)` of the document, its webhooks included.
fn operations(doc: &Value) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for group in ["paths", "webhooks"] {
        for (path, item) in doc[group].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap().to_string();
                found.push((id, method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_lists_every_operation_of_the_spec() {
    let app = spawn(Backend::Sqlite).await;
    let (_, page) = docs_page(&app).await;
    let doc = altframe::api::openapi::document();
    let operations = operations(&doc);
    assert!(operations.len() >= 13, "{operations:?}");
    for (id, method, path) in operations {
        // In the index, linking to its section, and the section itself with its heading.
        assert!(
            page.contains(&format!("<a href=\"#{id}\">")),
            "{id}: not in the index"
        );
        let section = section(&page, &id);
        assert!(
            section.contains(&format!(
                "{method}</span> <code class=\"path\">{path}</code>"
            )),
            "{id}: no heading {method} {path}"
        );
        assert!(section.contains("<h4 id=\""), "{id}: no subsections");
    }
    // The intro names how to authenticate and links to the machine-readable spec.
    assert!(page.contains("<code>x-api-key</code> header"));
    assert!(page.contains("href=\"/openapi.yaml\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_shows_the_generate_request_as_a_table_of_fields() {
    let app = spawn(Backend::Sqlite).await;
    let (_, page) = docs_page(&app).await;
    let generate = section(&page, "generate");
    assert!(generate.contains("<table class=\"fields\">"));
    let doc = altframe::api::openapi::document();
    let fields = doc["components"]["schemas"]["GenerateRequest"]["properties"]
        .as_object()
        .unwrap();
    assert!(fields.len() >= 10);
    for name in fields.keys() {
        assert!(
            generate.contains(&format!("<th scope=\"row\"><code>{name}</code></th>")),
            "no row for {name}"
        );
    }
    // Limits in words, enums as code, and the example prefilled in the try-it form.
    for limit in [
        "10 to 1,000",
        "at most 2,048 characters",
        "one of <code>standard</code>, <code>ecommerce</code>, <code>decorative</code>",
        "each one of <code>alt_text</code>",
        "at most 20 items",
    ] {
        assert!(generate.contains(limit), "no limit {limit}");
    }
    assert!(generate.contains("<textarea id=\"generate-body\""));
    assert!(generate.contains("curl -X POST &#34;$ALTFRAME_URL/api/v1/generate&#34;"));
    // Nested fields are rows named by their path: the answer's meta.tokens.input.
    assert!(generate.contains("<span class=\"field-parent\">meta.tokens.</span>input"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_script_on_the_docs_page_carries_spec_text() {
    let app = spawn(Backend::Sqlite).await;
    let (headers, page) = docs_page(&app).await;
    let scripts: Vec<&str> = page.split("<script").skip(1).collect();
    assert_eq!(scripts.len(), 2, "site.js and docs.js");
    for script in scripts {
        let tag = &script[..script.find('>').unwrap() + 1];
        assert!(tag.starts_with(" src=\"/assets/"), "inline script: {tag}");
        assert!(
            script[tag.len()..].starts_with("</script>"),
            "a script with a body: {script:.80}"
        );
    }
    // Spec text that is HTML (the /docs operation's example) is shown, escaped.
    assert_eq!(page.matches("<!doctype html>").count(), 1);
    assert!(page.contains("&#60;!doctype html&#62;"));
    // And the browser is told to run no inline script at all.
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
}

/// The URL the page links to for `name`, fingerprint and all.
fn linked(page: &str, name: &str) -> String {
    let start = page
        .find(&format!("\"/assets/{name}?v="))
        .unwrap_or_else(|| panic!("{name} is not linked"));
    let rest = &page[start + 1..];
    rest[..rest.find('"').unwrap()].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_served_with_their_type_and_caching_without_a_key_or_a_limit() {
    let app = spawn(Backend::Sqlite).await;
    let (_, page) = docs_page(&app).await;
    for (name, content_type, needle) in [
        ("site.css", "text/css; charset=utf-8", ".visually-hidden"),
        ("site.js", "text/javascript; charset=utf-8", "data-copy"),
        (
            "docs.js",
            "text/javascript; charset=utf-8",
            "sessionStorage",
        ),
        ("favicon.svg", "image/svg+xml", "<svg"),
    ] {
        let url = linked(&page, name);
        let response = app
            .http
            .get(format!("{}{url}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], content_type, "{url}");
        assert_eq!(
            headers["cache-control"], "public, max-age=31536000, immutable",
            "{url}"
        );
        assert!(!headers.contains_key("x-ratelimit-limit"), "{url}");
        let etag = headers["etag"].clone();
        assert!(response.text().await.unwrap().contains(needle), "{url}");

        // Without the fingerprint it must be revalidated, and is, by its ETag.
        let plain = app.get(&format!("/assets/{name}")).await;
        assert_eq!(plain.status(), 200);
        assert_eq!(plain.headers()["cache-control"], "no-cache");
        assert!(!plain.headers().contains_key("x-ratelimit-limit"));
        let again = app
            .http
            .get(format!("{}/assets/{name}", app.base))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{name}");
    }
    let missing = app
        .http
        .get(format!("{}/assets/nothing.css", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert!(body["error"].is_string());
}
