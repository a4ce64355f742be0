use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{spawn, Backend};

on_both_backends!(health_and_readiness_answer_without_a_key);

async fn health_and_readiness_answer_without_a_key(backend: Backend) {
    let app = spawn(backend).await;
    for (path, expected) in [
        ("/healthz", json!({ "status": "ok" })),
        ("/readyz", json!({ "status": "ready" })),
    ] {
        let response = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.json::<Value>().await.unwrap(), expected);
    }
    app.services.store.db.execute("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)", vec![]).await.unwrap();
    let response = app
        .http
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("migrations"),
        "{body}"
    );
}
