//! A process that dies between a job's outcome and its settlement loses nothing: the
//! settlement subscriber captures or releases from the events.
use altframe::adapters::subscriber::Subscriber;
use std::time::Duration;

use altframe_domain::account::AccountCommand;
use altframe_domain::generation::{GeneratedText, GenerationOptions, Language, Mode};
use altframe_domain::image::{ImageFormat, ImageRef};
use altframe_domain::job::{Generation, JobCommand, Source, Tokens};
use altframe_domain::Micros;

use crate::on_both_backends;
use crate::support::{spawn, Backend, TestApp};

on_both_backends!(outcomes_without_settlement_are_settled_from_the_events);

/// Runs a job's commands as a request would, then "crashes" before settling.
async fn job_left_unsettled(app: &TestApp, job_id: &str, reservation_id: &str, complete: bool) {
    let store = &app.services.store;
    let job_id = &altframe_domain::JobId::new(job_id);
    let now = chrono::Utc::now();
    store
        .accounts
        .execute(
            &app.account_id,
            AccountCommand::ReserveCredits {
                reservation_id: altframe_domain::ReservationId::new(reservation_id),
                purpose: job_id.to_string(),
                credits: 1,
                at: now,
            },
        )
        .await
        .unwrap();
    let request = JobCommand::GenerateImage {
        account_id: app.account_id.clone(),
        source: Source::Api,
        batch_id: None,
        image: ImageRef {
            url: None,
            sha256: "00".repeat(32),
            bytes: 10,
            format: ImageFormat::Png,
            width: 1,
            height: 1,
        },
        options: Box::new(GenerationOptions {
            mode: Mode::Standard,
            ..GenerationOptions::defaults(Language::english())
        }),
        reservation_id: altframe_domain::ReservationId::new(reservation_id),
        credits: 1,
        cache_key: None,
        at: now,
    };
    store.jobs.execute(job_id, request).await.unwrap();
    let outcome = if complete {
        JobCommand::CompleteJob {
            generation: Generation {
                results: GeneratedText::default(),
                translations: Default::default(),
                failed_languages: vec![],
                model: "builtin".into(),
                tokens: Tokens::default(),
                processing_ms: 1,
                cost: Micros::ZERO,
                judgement: None,
            },
            at: now,
        }
    } else {
        JobCommand::FailJob {
            error: "model down".into(),
            at: now,
        }
    };
    store.jobs.execute(job_id, outcome).await.unwrap();
}

async fn outcomes_without_settlement_are_settled_from_the_events(backend: Backend) {
    let app = spawn(backend).await;
    let before = app.remaining().await;
    job_left_unsettled(&app, "job_completed0000000000000", "res_completed", true).await;
    job_left_unsettled(&app, "job_failed000000000000000", "res_failed", false).await;
    assert_eq!(
        app.remaining().await,
        before - 2,
        "both reservations are still open"
    );

    app.services
        .process_manager
        .catch_up_fully(Duration::from_secs(10))
        .await
        .unwrap();
    let account = app
        .services
        .store
        .accounts
        .load(&app.account_id)
        .await
        .unwrap();
    assert!(
        account
            .reservation(&altframe_domain::ReservationId::new("res_completed"))
            .is_none()
            && account
                .reservation(&altframe_domain::ReservationId::new("res_failed"))
                .is_none()
    );
    assert_eq!(
        account.remaining(),
        before - 1,
        "the completed job is charged, the failed one is not"
    );

    // Settling again changes nothing: each reservation is settled exactly once.
    app.services
        .process_manager
        .catch_up_fully(Duration::from_secs(10))
        .await
        .unwrap();
    let types = app.event_types().await;
    assert_eq!(types.iter().filter(|t| *t == "CreditsCaptured").count(), 1);
    assert_eq!(types.iter().filter(|t| *t == "CreditsReleased").count(), 1);
}
