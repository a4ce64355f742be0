use chrono::{DateTime, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::generation::{Language, Mode};

const BATCH: &str = "b47ac10b-58cc-4372-a567-0e02b2c3d479";

fn at() -> DateTime<Utc> {
    "2025-07-15T10:30:00Z".parse().unwrap()
}

fn item(n: u32) -> BatchItem {
    BatchItem {
        job_id: crate::JobId::new(format!("job_{n}")),
        reservation_id: crate::ReservationId::new(format!("res_{n}")),
        credits: 1,
        image_url: Some(format!("https://example.com/{n}.jpg")),
        inline_image: None,
        page_url: None,
        page_context: None,
        product: Product::default(),
        role: None,
        link_url: None,
    }
}

fn options() -> Box<GenerationOptions> {
    Box::new(GenerationOptions {
        mode: Mode::Ecommerce,
        ..GenerationOptions::defaults(Language::english())
    })
}

fn submitted(items: u32, webhook: bool) -> BatchEvent {
    BatchEvent::BatchSubmitted {
        batch_id: crate::BatchId::new(BATCH),
        account_id: crate::AccountId::new("acct_1"),
        items: (0..items).map(item).collect(),
        options: options(),
        webhook_url: webhook.then(|| "https://hooks.example/altframe".to_string()),
        credits_reserved: items,
        regenerate: false,
        at: at(),
    }
}

fn outcome(n: u32, succeeded: bool) -> BatchCommand {
    BatchCommand::RecordItemOutcome {
        job_id: crate::JobId::new(format!("job_{n}")),
        succeeded,
        at: at(),
    }
}

fn completed(n: u32) -> BatchEvent {
    BatchEvent::BatchItemCompleted {
        account_id: crate::AccountId::new("acct_1"),
        job_id: crate::JobId::new(format!("job_{n}")),
        at: at(),
    }
}

#[test]
fn submitting_records_the_items_and_their_reserved_credits() {
    TestFramework::<Batch>::with(())
        .given_no_previous_events()
        .when(BatchCommand::SubmitBatch {
            batch_id: crate::BatchId::new(BATCH),
            account_id: crate::AccountId::new("acct_1"),
            items: (0..3).map(item).collect(),
            options: options(),
            webhook_url: Some("https://hooks.example/altframe".into()),
            regenerate: false,
            at: at(),
        })
        .then_expect_events(vec![submitted(3, true)]);
}

#[test]
fn a_batch_holds_one_to_a_hundred_items() {
    let submit = |n: u32| BatchCommand::SubmitBatch {
        batch_id: crate::BatchId::new(BATCH),
        account_id: crate::AccountId::new("acct_1"),
        items: (0..n).map(item).collect(),
        options: options(),
        webhook_url: None,
        regenerate: false,
        at: at(),
    };
    TestFramework::<Batch>::with(())
        .given_no_previous_events()
        .when(submit(0))
        .then_expect_error(BatchError::BadSize);
    TestFramework::<Batch>::with(())
        .given_no_previous_events()
        .when(submit(101))
        .then_expect_error(BatchError::BadSize);
}

#[test]
fn the_last_outcome_finishes_the_batch_with_its_status_and_webhook_id() {
    let events = TestFramework::<Batch>::with(())
        .given(vec![submitted(2, true), completed(0)])
        .when(outcome(1, false))
        .inspect_result()
        .unwrap();
    assert_eq!(
        events[1],
        BatchEvent::BatchFinished {
            account_id: crate::AccountId::new("acct_1"),
            status: BatchStatus::Partial,
            completed: 1,
            failed: 1,
            webhook_id: Some("msg_b47ac10b58cc4372a5670e02b2c3d479".into()),
            at: at(),
        }
    );
}

#[test]
fn an_outcome_is_recorded_once_and_only_for_an_item() {
    TestFramework::<Batch>::with(())
        .given(vec![submitted(2, false), completed(0)])
        .when(outcome(0, true))
        .then_expect_error(BatchError::OutcomeKnown(crate::JobId::new("job_0")));
    TestFramework::<Batch>::with(())
        .given(vec![submitted(2, false)])
        .when(outcome(7, true))
        .then_expect_error(BatchError::UnknownItem(crate::JobId::new("job_7")));
}

#[test]
fn statuses_follow_the_outcomes() {
    assert_eq!(BatchStatus::of_outcomes(3, 0), BatchStatus::Completed);
    assert_eq!(BatchStatus::of_outcomes(0, 3), BatchStatus::Failed);
    assert_eq!(BatchStatus::of_outcomes(2, 1), BatchStatus::Partial);
}

#[test]
fn redelivery_waits_for_the_current_delivery_to_end() {
    let finished = BatchEvent::BatchFinished {
        account_id: crate::AccountId::new("acct_1"),
        status: BatchStatus::Completed,
        completed: 1,
        failed: 0,
        webhook_id: Some("msg_x".into()),
        at: at(),
    };
    let given = vec![submitted(1, true), completed(0), finished];
    TestFramework::<Batch>::with(())
        .given(given.clone())
        .when(BatchCommand::RequestRedelivery { at: at() })
        .then_expect_error(BatchError::DeliveryPending);
    let delivered = BatchEvent::WebhookAttempted {
        account_id: crate::AccountId::new("acct_1"),
        webhook_id: "msg_b47ac10b58cc4372a5670e02b2c3d479".into(),
        attempt: WebhookAttempt {
            attempt: 1,
            status: Some(200),
            error: None,
            delivered: true,
            next_attempt_at: None,
        },
        at: at(),
    };
    let mut after = given;
    after.push(delivered);
    TestFramework::<Batch>::with(())
        .given(after)
        .when(BatchCommand::RequestRedelivery { at: at() })
        .then_expect_events(vec![BatchEvent::WebhookRedeliveryRequested {
            account_id: crate::AccountId::new("acct_1"),
            webhook_id: "msg_b47ac10b58cc4372a5670e02b2c3d479".into(),
            at: at(),
        }]);
}

#[test]
fn a_batch_without_a_webhook_has_nothing_to_deliver() {
    TestFramework::<Batch>::with(())
        .given(vec![
            submitted(1, false),
            completed(0),
            BatchEvent::BatchFinished {
                account_id: crate::AccountId::new("acct_1"),
                status: BatchStatus::Completed,
                completed: 1,
                failed: 0,
                webhook_id: None,
                at: at(),
            },
        ])
        .when(BatchCommand::RequestRedelivery { at: at() })
        .then_expect_error(BatchError::NoWebhook);
}
