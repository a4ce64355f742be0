//! Reservations nothing will settle are released after the timeout, as events.
use std::sync::Arc;
use std::time::Duration;

use altframe::adapters::clock::ManualClock;
use altframe::adapters::subscriber::Subscriber;
use altframe::usecases::reservations::settle_stale;
use altframe_domain::account::AccountCommand;
use altframe_domain::generation::{GenerationOptions, Language};
use altframe_domain::image::{ImageFormat, ImageRef};
use altframe_domain::job::{JobCommand, Source};
use chrono::Utc;

use crate::on_both_backends;
use crate::support::{spawn_with, Backend, Options};

on_both_backends!(forgotten_reservations_are_released_after_the_timeout);

async fn forgotten_reservations_are_released_after_the_timeout(backend: Backend) {
    let clock = ManualClock::at(Utc::now());
    let app = spawn_with(
        backend,
        Options {
            clock: Arc::new(clock.clone()),
            // The service's own reaper stays out of the way: this test runs it by hand.
            settings: Arc::new(|s| s.tasks.maintenance_every = Duration::from_secs(3600)),
            ..Options::default()
        },
    )
    .await;
    let store = &app.services.store;
    let now = clock.now_utc();
    // A request that reserved and died before recording its job.
    store
        .accounts
        .execute(
            &app.account_id,
            AccountCommand::ReserveCredits {
                reservation_id: altframe_domain::ReservationId::new("res_orphan"),
                purpose: "job_orphan0000000000000000".into(),
                credits: 2,
                at: now,
            },
        )
        .await
        .unwrap();
    // A request that died during its model call.
    store
        .accounts
        .execute(
            &app.account_id,
            AccountCommand::ReserveCredits {
                reservation_id: altframe_domain::ReservationId::new("res_stuck"),
                purpose: "job_stuck00000000000000000".into(),
                credits: 1,
                at: now,
            },
        )
        .await
        .unwrap();
    let generation = JobCommand::GenerateImage {
        account_id: app.account_id.clone(),
        source: Source::Api,
        batch_id: None,
        image: ImageRef {
            url: None,
            sha256: "00".repeat(32),
            bytes: 1,
            format: ImageFormat::Png,
            width: 1,
            height: 1,
        },
        options: Box::new(GenerationOptions::defaults(Language::english())),
        reservation_id: altframe_domain::ReservationId::new("res_stuck"),
        credits: 1,
        at: now,
    };
    store
        .jobs
        .execute(
            &altframe_domain::JobId::new("job_stuck00000000000000000"),
            generation,
        )
        .await
        .unwrap();
    app.services
        .projector
        .catch_up_fully(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(app.remaining().await, 47);

    let timeout = Duration::from_secs(15 * 60);
    let reap = || settle_stale(&app.services.app, timeout);
    assert_eq!(reap().await.unwrap(), 0, "nothing is stale yet");
    clock.set(now + chrono::Duration::minutes(16));
    assert_eq!(reap().await.unwrap(), 2);
    app.services
        .process_manager
        .catch_up_fully(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(app.remaining().await, 50, "both released");
    let types = app.event_types().await;
    assert!(
        types.contains(&"JobFailed".to_string()),
        "the stuck job failed: {types:?}"
    );
    assert_eq!(types.iter().filter(|t| *t == "CreditsReleased").count(), 2);
}
