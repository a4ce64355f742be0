//! The spec: `openapi.yaml` is exactly what the code generates, and `serve` publishes it with a
//! readable page.
use crate::on_both_backends;
use crate::support::{spawn, Backend};

#[test]
fn the_committed_spec_is_what_the_code_generates() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = altframe::api::openapi::yaml();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| "the end".to_string(), |n| format!("line {}", n + 1));
        panic!(
            "openapi.yaml differs from the code's spec (first at {line}). Regenerate it with:\n\n    cargo run -- openapi > openapi.yaml\n"
        );
    }
}

#[test]
fn the_spec_is_openapi_3_1_with_every_operation_and_both_security_schemes() {
    let doc = altframe::api::openapi::document();
    assert_eq!(doc["openapi"], "3.1.0");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["ApiKeyHeader"]["name"], "x-api-key");
    assert_eq!(schemes["BearerAuth"]["scheme"], "bearer");
    for (path, method) in [
        ("/api/v1/generate", "post"),
        ("/api/v1/generate/bulk", "post"),
        ("/api/v1/batches/{batch_id}", "get"),
        ("/api/v1/batches/{batch_id}/webhook", "get"),
        ("/api/v1/batches/{batch_id}/webhook/redeliver", "post"),
        ("/api/v1/history", "get"),
        ("/api/v1/usage", "get"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is missing");
        for status in ["401", "429", "500"] {
            assert!(
                op["responses"][status].is_object(),
                "{method} {path}: no {status}"
            );
        }
    }
    // One example per operation, whatever its content type.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let (_, success) = op["responses"]
                .as_object()
                .unwrap()
                .iter()
                .find(|(s, _)| s.starts_with('2'))
                .expect("a success response");
            let has_example = success["content"]
                .as_object()
                .unwrap()
                .values()
                .any(|c| c.get("example").is_some());
            assert!(has_example, "{method} {path}: no example");
        }
    }
    assert!(doc["webhooks"]["batch.completed"]["post"].is_object());
    let images = &doc["components"]["schemas"]["BulkRequest"]["properties"]["images"];
    assert_eq!(images["maxItems"], 100);
}

on_both_backends!(serve_publishes_the_spec_and_a_docs_page);

async fn serve_publishes_the_spec_and_a_docs_page(backend: Backend) {
    let app = spawn(backend).await;
    let spec = app
        .http
        .get(format!("{}/openapi.yaml", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(spec.status(), 200);
    assert_eq!(spec.headers()["content-type"], "application/yaml");
    assert_eq!(spec.text().await.unwrap(), altframe::api::openapi::yaml());
    let docs = app
        .http
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = docs.text().await.unwrap();
    for operation in [
        "generate",
        "generateBulk",
        "getBatch",
        "listHistory",
        "getUsage",
    ] {
        assert!(page.contains(&format!("id=\"{operation}\"")), "{operation}");
    }
}
