//! Alt text fitted to its place, through the API on both backends: several languages in one
//! call (each beyond the first reserved, and charged only when delivered), the image's role,
//! decorative detection in `auto` mode, and clean output from both providers. The builtin
//! writes English only, so every other language it is asked for is listed in
//! `failed_languages` and given back.
mod clean;
mod languages;
mod place;

use altframe::usecases::audit;
use serde_json::Value;

use crate::support::TestApp;

pub fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

/// The account's only job in history.
pub async fn only_job(app: &TestApp) -> Value {
    let history: Value = app.get("/api/v1/history").await.json().await.unwrap();
    assert_eq!(
        history["jobs"].as_array().map(Vec::len),
        Some(1),
        "{history}"
    );
    history["jobs"][0].clone()
}

/// Runs the audit and asserts every check passed.
pub async fn assert_audit_reconciles(app: &TestApp) -> audit::AuditReport {
    let report = audit::audit(&app.services.app, &app.account_id, None, None)
        .await
        .expect("audit");
    let failed: Vec<_> = report.checks.iter().filter(|c| !c.ok).collect();
    assert!(failed.is_empty(), "audit mismatches: {failed:?}");
    report
}

/// Generates and asserts a 200.
pub async fn generate(app: &TestApp, body: Value) -> Value {
    let response = app.post_generate(&body).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}
