use cqrs_es::test::TestFramework;

use super::*;
use crate::generation::{Language, Mode};
use crate::image::ImageFormat;

fn at() -> DateTime<Utc> {
    "2025-07-15T10:30:00Z".parse().unwrap()
}

fn options() -> Box<GenerationOptions> {
    Box::new(GenerationOptions {
        mode: Mode::Standard,
        ..GenerationOptions::defaults(Language::english())
    })
}

fn image() -> ImageRef {
    ImageRef {
        url: Some("https://example.com/photo.jpg".into()),
        sha256: "00".repeat(32),
        bytes: 1234,
        format: ImageFormat::Jpeg,
        width: 800,
        height: 600,
    }
}

fn requested() -> JobEvent {
    JobEvent::JobRequested {
        account_id: crate::AccountId::new("acct_1"),
        source: Source::Api,
        batch_id: None,
        image: image(),
        options: options(),
        reservation_id: crate::ReservationId::new("res_1"),
        credits: 1,
        cache_key: None,
        at: at(),
    }
}

fn generation() -> Generation {
    Generation {
        results: GeneratedText {
            alt_text: Some("A red bicycle".into()),
            ..Default::default()
        },
        translations: Default::default(),
        failed_languages: vec![],
        model: "builtin".into(),
        tokens: Tokens::default(),
        processing_ms: 5,
        cost: Micros::ZERO,
        judgement: None,
    }
}

#[test]
fn generate_image_requests_a_job() {
    TestFramework::<Job>::with(())
        .given_no_previous_events()
        .when(JobCommand::GenerateImage {
            account_id: crate::AccountId::new("acct_1"),
            source: Source::Api,
            batch_id: None,
            image: image(),
            options: options(),
            reservation_id: crate::ReservationId::new("res_1"),
            credits: 1,
            cache_key: None,
            at: at(),
        })
        .then_expect_events(vec![requested()]);
}

#[test]
fn completion_names_the_reservation_to_capture() {
    TestFramework::<Job>::with(())
        .given(vec![requested()])
        .when(JobCommand::CompleteJob {
            generation: generation(),
            at: at(),
        })
        .then_expect_events(vec![JobEvent::JobCompleted {
            account_id: crate::AccountId::new("acct_1"),
            batch_id: None,
            reservation_id: crate::ReservationId::new("res_1"),
            generation: Box::new(generation()),
            charge: Charge::default(),
            at: at(),
        }]);
}

#[test]
fn languages_not_delivered_are_left_out_of_the_charge() {
    let language = |c: &str| Language::parse(c).unwrap();
    let mut with_languages = options();
    with_languages.extra_languages = vec![language("fr"), language("de"), language("es")];
    let requested = JobEvent::JobRequested {
        account_id: crate::AccountId::new("acct_1"),
        source: Source::Api,
        batch_id: None,
        image: image(),
        options: with_languages,
        reservation_id: crate::ReservationId::new("res_1"),
        credits: 4,
        cache_key: None,
        at: at(),
    };
    let mut partial = generation();
    partial.failed_languages = vec![language("de")];
    TestFramework::<Job>::with(())
        .given(vec![requested])
        .when(JobCommand::CompleteJob {
            generation: partial.clone(),
            at: at(),
        })
        .then_expect_events(vec![JobEvent::JobCompleted {
            account_id: crate::AccountId::new("acct_1"),
            batch_id: None,
            reservation_id: crate::ReservationId::new("res_1"),
            generation: Box::new(partial),
            charge: Charge {
                unused: 1,
                language_credits: 2,
            },
            at: at(),
        }]);
}

#[test]
fn a_job_finishes_once() {
    let failed = JobEvent::JobFailed {
        account_id: crate::AccountId::new("acct_1"),
        batch_id: None,
        reservation_id: crate::ReservationId::new("res_1"),
        error: "model unavailable".into(),
        at: at(),
    };
    TestFramework::<Job>::with(())
        .given(vec![requested()])
        .when(JobCommand::FailJob {
            error: "model unavailable".into(),
            at: at(),
        })
        .then_expect_events(vec![failed.clone()]);
    TestFramework::<Job>::with(())
        .given(vec![requested(), failed])
        .when(JobCommand::CompleteJob {
            generation: generation(),
            at: at(),
        })
        .then_expect_error(JobError::AlreadyFinished);
}

#[test]
fn an_unrequested_job_cannot_finish() {
    TestFramework::<Job>::with(())
        .given_no_previous_events()
        .when(JobCommand::FailJob {
            error: "x".into(),
            at: at(),
        })
        .then_expect_error(JobError::NotRequested);
}

#[test]
fn a_job_is_requested_once() {
    TestFramework::<Job>::with(())
        .given(vec![requested()])
        .when(JobCommand::GenerateImage {
            account_id: crate::AccountId::new("acct_1"),
            source: Source::Api,
            batch_id: None,
            image: image(),
            options: options(),
            reservation_id: crate::ReservationId::new("res_2"),
            credits: 1,
            cache_key: None,
            at: at(),
        })
        .then_expect_error(JobError::AlreadyRequested);
}

#[test]
fn a_job_that_never_started_can_be_abandoned_once() {
    let abandon = || JobCommand::AbandonJob {
        account_id: crate::AccountId::new("acct_1"),
        batch_id: None,
        reservation_id: crate::ReservationId::new("res_1"),
        error: "image_url: could not fetch".into(),
        at: at(),
    };
    let failed = JobEvent::JobFailed {
        account_id: crate::AccountId::new("acct_1"),
        batch_id: None,
        reservation_id: crate::ReservationId::new("res_1"),
        error: "image_url: could not fetch".into(),
        at: at(),
    };
    TestFramework::<Job>::with(())
        .given_no_previous_events()
        .when(abandon())
        .then_expect_events(vec![failed.clone()]);
    TestFramework::<Job>::with(())
        .given(vec![failed])
        .when(abandon())
        .then_expect_error(JobError::AlreadyRequested);
    TestFramework::<Job>::with(())
        .given(vec![requested()])
        .when(abandon())
        .then_expect_error(JobError::AlreadyRequested);
}

/// The item of a batch a cached answer may stand for: its batch and reservation.
const ITEM: Option<(&str, &str)> = Some(("batch_1", "res_1"));

fn answered_for(item: Option<(&str, &str)>) -> JobEvent {
    JobEvent::JobAnsweredFromCache {
        account_id: crate::AccountId::new("acct_1"),
        source: Source::Api,
        bulk_item: item.map(|(batch, reservation)| BulkItemRef {
            batch_id: crate::BatchId::new(batch),
            reservation_id: crate::ReservationId::new(reservation),
        }),
        image: image(),
        options: options(),
        cached_from: crate::JobId::new("job_earlier"),
        generation: Box::new(generation()),
        at: at(),
    }
}

fn answered() -> JobEvent {
    answered_for(None)
}

fn answer_from_cache_for(item: Option<(&str, &str)>) -> JobCommand {
    JobCommand::AnswerFromCache {
        account_id: crate::AccountId::new("acct_1"),
        source: Source::Api,
        bulk_item: item.map(|(batch, reservation)| BulkItemRef {
            batch_id: crate::BatchId::new(batch),
            reservation_id: crate::ReservationId::new(reservation),
        }),
        image: image(),
        options: options(),
        cached_from: crate::JobId::new("job_earlier"),
        generation: generation(),
        at: at(),
    }
}

fn answer_from_cache() -> JobCommand {
    answer_from_cache_for(None)
}

#[test]
fn a_new_job_is_answered_from_the_cache_complete_and_uncharged() {
    TestFramework::<Job>::with(())
        .given_no_previous_events()
        .when(answer_from_cache())
        .then_expect_events(vec![answered()]);
    let mut job = Job::default();
    job.apply(answered());
    assert_eq!(job.state(), JobState::Completed);
    assert_eq!(job.charge(), Charge::default());
}

#[test]
fn a_bulk_item_answered_from_the_cache_names_its_batch_and_reservation() {
    TestFramework::<Job>::with(())
        .given_no_previous_events()
        .when(answer_from_cache_for(ITEM))
        .then_expect_events(vec![answered_for(ITEM)]);
    let mut job = Job::default();
    job.apply(answered_for(ITEM));
    assert_eq!(job.state(), JobState::Completed);
    assert_eq!(job.charge(), Charge::default(), "nothing captured");
    assert!(job.answered_from_cache(), "its reservation is released");
    // An item whose model call was already requested is past the cache.
    TestFramework::<Job>::with(())
        .given(vec![requested()])
        .when(answer_from_cache_for(ITEM))
        .then_expect_error(JobError::AlreadyRequested);
}

#[test]
fn a_job_answered_from_the_cache_is_finished() {
    TestFramework::<Job>::with(())
        .given(vec![answered()])
        .when(JobCommand::CompleteJob {
            generation: generation(),
            at: at(),
        })
        .then_expect_error(JobError::AlreadyFinished);
    TestFramework::<Job>::with(())
        .given(vec![requested()])
        .when(answer_from_cache())
        .then_expect_error(JobError::AlreadyRequested);
}

#[test]
fn a_request_recorded_before_the_cache_reads_without_a_key() {
    let mut stored = serde_json::to_value(requested()).unwrap();
    assert!(stored["JobRequested"].get("cache_key").is_none());
    stored["JobRequested"]
        .as_object_mut()
        .unwrap()
        .remove("cache_key");
    let read: JobEvent = serde_json::from_value(stored).unwrap();
    assert_eq!(read, requested());
}
