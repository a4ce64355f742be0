//! Events stored in an older shape are still read by every reader.
use std::time::Duration;

use altframe::adapters::subscriber::Subscriber;
use altframe_domain::account::AccountCommand;
use altframe_domain::job::JobState;
use serde_json::{json, Value};

use crate::on_both_backends;
use crate::support::{spawn, Backend};

on_both_backends!(old_job_outcomes_are_upcast_for_aggregates_projections_and_the_process_manager);

async fn old_job_outcomes_are_upcast_for_aggregates_projections_and_the_process_manager(
    backend: Backend,
) {
    let app = spawn(backend).await;
    let store = &app.services.store;
    let job_id = "job_storedbeforebulk0000000";
    store
        .accounts
        .execute(
            &app.account_id,
            AccountCommand::ReserveCredits {
                reservation_id: altframe_domain::ReservationId::new("res_old"),
                purpose: job_id.into(),
                credits: 1,
                at: chrono::Utc::now(),
            },
        )
        .await
        .unwrap();
    let requested = json!({ "JobRequested": {
        "account_id": app.account_id, "source": "api", "batch_id": null,
        "image": { "url": null, "sha256": "00".repeat(32), "bytes": 10, "format": "png", "width": 1, "height": 1 },
        "options": { "mode": "standard", "language": "en", "keywords": [], "max_length": 125,
                     "fields": ["alt_text"], "page_url": null, "page_context": null,
                     "product": { "name": null, "sku": null, "attributes": {} }, "custom_prompt": null },
        "reservation_id": "res_old", "credits": 1, "at": "2026-11-25T12:00:00Z" } });
    // Version 1.0 of JobCompleted: no batch_id.
    let completed = json!({ "JobCompleted": {
        "account_id": app.account_id, "reservation_id": "res_old",
        "generation": { "results": { "alt_text": "An old answer" }, "model": "builtin",
                        "tokens": { "input": 0, "output": 0 }, "processing_ms": 5, "cost": 0 },
        "at": "2026-11-25T12:00:01Z" } });
    for (sequence, kind, payload) in [
        (1i64, "JobRequested", requested),
        (2, "JobCompleted", completed),
    ] {
        let sql = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                   VALUES ('Job', $1, $2, $3, '1.0', $4, $5)";
        match &store.db {
            altframe_projections::Db::Postgres(p) => {
                sqlx::query(sql)
                    .bind(job_id)
                    .bind(sequence)
                    .bind(kind)
                    .bind(&payload)
                    .bind(json!({}))
                    .execute(p)
                    .await
                    .unwrap();
            }
            altframe_projections::Db::Sqlite(p) => {
                sqlx::query(sql)
                    .bind(job_id)
                    .bind(sequence)
                    .bind(kind)
                    .bind(&payload)
                    .bind(json!({}))
                    .execute(p)
                    .await
                    .unwrap();
            }
        }
    }

    assert_eq!(
        store
            .jobs
            .load(&altframe_domain::JobId::new(job_id))
            .await
            .unwrap()
            .state(),
        JobState::Completed,
        "the aggregate loads"
    );
    app.services
        .process_manager
        .catch_up_fully(Duration::from_secs(10))
        .await
        .unwrap();
    let account = store.accounts.load(&app.account_id).await.unwrap();
    assert!(
        account
            .reservation(&altframe_domain::ReservationId::new("res_old"))
            .is_none(),
        "the process manager captured it"
    );
    let history: Value = app.get("/api/v1/history").await.json().await.unwrap();
    let job = &history["jobs"][0];
    assert_eq!(job["id"], job_id);
    assert_eq!(job["status"], "completed");
    assert_eq!(job["results"]["alt_text"], "An old answer");
}
