//! Reservations nothing will settle are released after the timeout, as events.
use std::sync::Arc;
use std::time::Duration;

use altframe::adapters::clock::ManualClock;
use altframe::adapters::subscriber::Subscriber;
use altframe::usecases::reservations::settle_stale;
use altframe_domain::account::AccountCommand;
use altframe_domain::generation::{GeneratedText, GenerationOptions, Language};
use altframe_domain::image::{ImageFormat, ImageRef};
use altframe_domain::job::{BulkItemRef, Generation, JobCommand, Source, Tokens};
use altframe_domain::{JobId, Micros, ReservationId};
use chrono::Utc;

use crate::on_both_backends;
use crate::support::{spawn_with, Backend, Options, TestApp};

/// The reference of a 1×1 PNG, for jobs recorded by hand.
fn one_pixel_png() -> ImageRef {
    ImageRef {
        url: None,
        sha256: "00".repeat(32),
        bytes: 1,
        format: ImageFormat::Png,
        width: 1,
        height: 1,
    }
}

/// A service in which neither the reaper nor the process manager runs by itself: the reaper,
/// run by hand, is the one that settles. Its clock is the test's.
async fn settled_by_hand(backend: Backend) -> (TestApp, ManualClock) {
    let clock = ManualClock::at(Utc::now());
    let app = spawn_with(
        backend,
        Options {
            clock: Arc::new(clock.clone()),
            settings: Arc::new(|s| {
                s.tasks.maintenance_every = Duration::from_secs(3600);
                s.tasks.projection_poll = Duration::from_secs(3600);
            }),
            ..Options::default()
        },
    )
    .await;
    (app, clock)
}

/// Reserves `credits` for `job_id` under `reservation_id`, as its request or batch would.
async fn reserve(app: &TestApp, job_id: &JobId, reservation_id: &ReservationId, credits: u32) {
    let reserve = AccountCommand::ReserveCredits {
        reservation_id: reservation_id.clone(),
        purpose: job_id.to_string(),
        credits,
        at: app.services.app.clock().now(),
    };
    app.services
        .store
        .accounts
        .execute(&app.account_id, reserve)
        .await
        .unwrap();
}

/// A generation by the builtin model of empty text, missing `failed_languages`.
fn generation(failed_languages: Vec<Language>) -> Generation {
    Generation {
        results: GeneratedText::default(),
        translations: Default::default(),
        failed_languages,
        model: "builtin".into(),
        tokens: Tokens::default(),
        processing_ms: 1,
        cost: Micros::ZERO,
        judgement: None,
    }
}

on_both_backends!(
    forgotten_reservations_are_released_after_the_timeout,
    a_completed_job_left_unsettled_is_charged_only_the_languages_it_delivered,
    a_bulk_item_answered_from_the_cache_and_left_unsettled_is_released,
);

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
        image: one_pixel_png(),
        options: Box::new(GenerationOptions::defaults(Language::english())),
        reservation_id: altframe_domain::ReservationId::new("res_stuck"),
        credits: 1,
        cache_key: None,
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

async fn a_completed_job_left_unsettled_is_charged_only_the_languages_it_delivered(
    backend: Backend,
) {
    let (app, clock) = settled_by_hand(backend).await;
    let store = &app.services.store;
    let now = clock.now_utc();
    let job_id = JobId::new("job_languages000000000000");
    let reservation_id = ReservationId::new("res_languages");
    reserve(&app, &job_id, &reservation_id, 3).await;
    let language = |code: &str| Language::parse(code).unwrap();
    let mut options = GenerationOptions::defaults(Language::english());
    options.extra_languages = vec![language("fr"), language("de")];
    let request = JobCommand::GenerateImage {
        account_id: app.account_id.clone(),
        source: Source::Api,
        batch_id: None,
        image: one_pixel_png(),
        options: Box::new(options),
        reservation_id,
        credits: 3,
        cache_key: None,
        at: now,
    };
    store.jobs.execute(&job_id, request).await.unwrap();
    let complete = JobCommand::CompleteJob {
        generation: generation(vec![language("de")]),
        at: now,
    };
    store.jobs.execute(&job_id, complete).await.unwrap();
    app.services
        .projector
        .catch_up_fully(Duration::from_secs(10))
        .await
        .unwrap();

    clock.set(now + chrono::Duration::minutes(16));
    let reaped = settle_stale(&app.services.app, Duration::from_secs(15 * 60)).await;
    assert_eq!(reaped.unwrap(), 1);
    let account = store.accounts.load(&app.account_id).await.unwrap();
    assert_eq!(
        account.remaining(),
        48,
        "the image and French; German went back"
    );
    let types = app.event_types().await;
    assert!(
        types.contains(&"ReservationReduced".to_string()),
        "{types:?}"
    );
}

async fn a_bulk_item_answered_from_the_cache_and_left_unsettled_is_released(backend: Backend) {
    let (app, clock) = settled_by_hand(backend).await;
    let now = clock.now_utc();
    // An item its batch reserved for, answered from the cache by its worker, before the
    // process manager released its credits (it lagged, or its process stopped).
    let job_id = JobId::new("job_cacheditem000000000000");
    let reservation_id = ReservationId::new("res_cached_item");
    reserve(&app, &job_id, &reservation_id, 1).await;
    let answer = JobCommand::AnswerFromCache {
        account_id: app.account_id.clone(),
        source: Source::Bulk,
        bulk_item: Some(BulkItemRef {
            batch_id: altframe_domain::BatchId::new("batch_cached"),
            reservation_id,
        }),
        image: one_pixel_png(),
        options: Box::new(GenerationOptions::defaults(Language::english())),
        cached_from: JobId::new("job_earlier00000000000000"),
        generation: generation(Vec::new()),
        at: now,
    };
    app.services
        .store
        .jobs
        .execute(&job_id, answer)
        .await
        .unwrap();
    app.services
        .projector
        .catch_up_fully(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(app.remaining().await, 49, "reserved, not yet released");

    clock.set(now + chrono::Duration::minutes(16));
    let reaped = settle_stale(&app.services.app, Duration::from_secs(15 * 60)).await;
    assert_eq!(reaped.unwrap(), 1);
    assert_eq!(app.remaining().await, 50, "released whole, not captured");
    let types = app.event_types().await;
    assert!(types.contains(&"CreditsReleased".to_string()), "{types:?}");
    assert!(!types.contains(&"CreditsCaptured".to_string()), "{types:?}");
}
