use chrono::{DateTime, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::credits::Charge;
use crate::generation::Language;
use crate::period::BillingPeriod;
use crate::plan::Plan;
use crate::Micros;

type AccountTest = TestFramework<Account>;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn opened(plan: Plan) -> AccountEvent {
    let t = at("2025-07-10T12:00:00Z");
    AccountEvent::AccountOpened {
        name: "Shop".into(),
        plan,
        language: Language::english(),
        overage_enabled: plan.overage_rate().is_some(),
        period: BillingPeriod::containing(t),
        allocation: plan.monthly_allocation(),
        at: t,
    }
}

fn reserved(id: &str, credits: u32, from_balance: u32, remaining: u32) -> AccountEvent {
    AccountEvent::CreditsReserved {
        reservation_id: crate::ReservationId::new(id),
        purpose: format!("job_{id}"),
        credits,
        from_balance,
        overage: credits - from_balance,
        remaining,
        at: at("2025-07-11T00:00:00Z"),
    }
}

fn reserve(id: &str, credits: u32, when: &str) -> AccountCommand {
    AccountCommand::ReserveCredits {
        reservation_id: crate::ReservationId::new(id),
        purpose: format!("job_{id}"),
        credits,
        at: at(when),
    }
}

#[test]
fn opening_gives_the_plan_allocation_for_the_current_month() {
    AccountTest::with(())
        .given_no_previous_events()
        .when(AccountCommand::OpenAccount {
            name: "Shop".into(),
            plan: Plan::Free,
            language: Language::english(),
            at: at("2025-07-10T12:00:00Z"),
        })
        .then_expect_events(vec![opened(Plan::Free)]);
}

#[test]
fn an_account_opens_once() {
    AccountTest::with(())
        .given(vec![opened(Plan::Free)])
        .when(AccountCommand::OpenAccount {
            name: "Again".into(),
            plan: Plan::Pro,
            language: Language::english(),
            at: at("2025-07-10T12:00:00Z"),
        })
        .then_expect_error(AccountError::AlreadyOpened);
}

#[test]
fn reserving_takes_credits_from_the_balance() {
    AccountTest::with(())
        .given(vec![opened(Plan::Free)])
        .when(reserve("r1", 2, "2025-07-11T00:00:00Z"))
        .then_expect_events(vec![reserved("r1", 2, 2, 48)]);
}

#[test]
fn reserving_more_than_the_balance_without_overage_is_refused() {
    AccountTest::with(())
        .given(vec![opened(Plan::Free), reserved("r1", 49, 49, 1)])
        .when(reserve("r2", 2, "2025-07-11T00:00:00Z"))
        .then_expect_error(AccountError::InsufficientCredits {
            needed: 2,
            remaining: 1,
        });
}

#[test]
fn reserving_beyond_the_balance_with_overage_records_the_overage() {
    AccountTest::with(())
        .given(vec![opened(Plan::Pro), reserved("r1", 4999, 4999, 1)])
        .when(reserve("r2", 2, "2025-07-11T00:00:00Z"))
        .then_expect_events(vec![reserved("r2", 2, 1, 0)]);
}

#[test]
fn a_reservation_id_is_used_once() {
    AccountTest::with(())
        .given(vec![opened(Plan::Free), reserved("r1", 1, 1, 49)])
        .when(reserve("r1", 1, "2025-07-11T00:00:00Z"))
        .then_expect_error(AccountError::DuplicateReservation(
            crate::ReservationId::new("r1"),
        ));
}

#[test]
fn capture_settles_a_reservation_and_prices_its_overage() {
    AccountTest::with(())
        .given(vec![opened(Plan::Pro), reserved("r1", 2, 1, 0)])
        .when(AccountCommand::CaptureCredits {
            charge: Charge::default(),
            reservation_id: crate::ReservationId::new("r1"),
            at: at("2025-07-11T00:00:01Z"),
        })
        .then_expect_events(vec![AccountEvent::CreditsCaptured {
            reservation_id: crate::ReservationId::new("r1"),
            purpose: "job_r1".into(),
            credits: 2,
            language_credits: 0,
            overage: 1,
            overage_rate: Micros(30_000),
            overage_cost: Micros(30_000),
            remaining: 0,
            at: at("2025-07-11T00:00:01Z"),
        }]);
}

#[test]
fn a_capture_gives_back_the_languages_not_delivered_overage_first() {
    AccountTest::with(())
        .given(vec![opened(Plan::Pro), reserved("r1", 3, 2, 0)])
        .when(AccountCommand::CaptureCredits {
            reservation_id: crate::ReservationId::new("r1"),
            charge: Charge {
                unused: 1,
                language_credits: 1,
            },
            at: at("2025-07-11T00:00:01Z"),
        })
        .then_expect_events(vec![
            AccountEvent::ReservationReduced {
                reservation_id: crate::ReservationId::new("r1"),
                purpose: "job_r1".into(),
                credits: 1,
                from_balance: 0,
                overage: 1,
                returned: 0,
                remaining: 0,
                at: at("2025-07-11T00:00:01Z"),
            },
            AccountEvent::CreditsCaptured {
                reservation_id: crate::ReservationId::new("r1"),
                purpose: "job_r1".into(),
                credits: 2,
                language_credits: 1,
                overage: 0,
                overage_rate: Micros(30_000),
                overage_cost: Micros::ZERO,
                remaining: 0,
                at: at("2025-07-11T00:00:01Z"),
            },
        ]);
    AccountTest::with(())
        .given(vec![opened(Plan::Free), reserved("r1", 3, 3, 47)])
        .when(AccountCommand::CaptureCredits {
            reservation_id: crate::ReservationId::new("r1"),
            charge: Charge {
                unused: 2,
                language_credits: 0,
            },
            at: at("2025-07-11T00:00:01Z"),
        })
        .then_expect_events(vec![
            AccountEvent::ReservationReduced {
                reservation_id: crate::ReservationId::new("r1"),
                purpose: "job_r1".into(),
                credits: 2,
                from_balance: 2,
                overage: 0,
                returned: 2,
                remaining: 49,
                at: at("2025-07-11T00:00:01Z"),
            },
            AccountEvent::CreditsCaptured {
                reservation_id: crate::ReservationId::new("r1"),
                purpose: "job_r1".into(),
                credits: 1,
                language_credits: 0,
                overage: 0,
                overage_rate: Micros::ZERO,
                overage_cost: Micros::ZERO,
                remaining: 49,
                at: at("2025-07-11T00:00:01Z"),
            },
        ]);
}

#[test]
fn languages_given_back_after_their_period_ended_do_not_return_to_the_new_balance() {
    let events = AccountTest::with(())
        .given(vec![opened(Plan::Free), reserved("r1", 3, 3, 47)])
        .when(AccountCommand::CaptureCredits {
            reservation_id: crate::ReservationId::new("r1"),
            charge: Charge {
                unused: 2,
                language_credits: 0,
            },
            at: at("2025-08-01T00:00:05Z"),
        })
        .inspect_result()
        .unwrap();
    assert!(matches!(
        events[0],
        AccountEvent::BillingPeriodStarted { remaining: 50, .. }
    ));
    assert!(
        matches!(
            events[1],
            AccountEvent::ReservationReduced {
                credits: 2,
                returned: 0,
                remaining: 50,
                ..
            }
        ),
        "{events:?}"
    );
    assert!(matches!(
        events[2],
        AccountEvent::CreditsCaptured {
            credits: 1,
            remaining: 50,
            ..
        }
    ));
}

#[test]
fn a_capture_charges_at_least_one_credit() {
    AccountTest::with(())
        .given(vec![opened(Plan::Free), reserved("r1", 2, 2, 48)])
        .when(AccountCommand::CaptureCredits {
            reservation_id: crate::ReservationId::new("r1"),
            charge: Charge {
                unused: 2,
                language_credits: 0,
            },
            at: at("2025-07-11T00:00:01Z"),
        })
        .then_expect_error(AccountError::UnusedExceedsReservation {
            reservation_id: crate::ReservationId::new("r1"),
            reserved: 2,
            unused: 2,
        });
}

#[test]
fn release_returns_the_balance_part() {
    AccountTest::with(())
        .given(vec![opened(Plan::Free), reserved("r1", 2, 2, 48)])
        .when(AccountCommand::ReleaseCredits {
            reservation_id: crate::ReservationId::new("r1"),
            reason: "model failed".into(),
            at: at("2025-07-11T00:00:01Z"),
        })
        .then_expect_events(vec![AccountEvent::CreditsReleased {
            reservation_id: crate::ReservationId::new("r1"),
            purpose: "job_r1".into(),
            credits: 2,
            returned: 2,
            reason: "model failed".into(),
            remaining: 50,
            at: at("2025-07-11T00:00:01Z"),
        }]);
}

#[test]
fn a_reservation_is_settled_exactly_once() {
    let captured = AccountEvent::CreditsCaptured {
        reservation_id: crate::ReservationId::new("r1"),
        purpose: "job_r1".into(),
        credits: 1,
        language_credits: 0,
        overage: 0,
        overage_rate: Micros::ZERO,
        overage_cost: Micros::ZERO,
        remaining: 49,
        at: at("2025-07-11T00:00:01Z"),
    };
    let given = vec![opened(Plan::Free), reserved("r1", 1, 1, 49), captured];
    AccountTest::with(())
        .given(given.clone())
        .when(AccountCommand::CaptureCredits {
            charge: Charge::default(),
            reservation_id: crate::ReservationId::new("r1"),
            at: at("2025-07-11T00:00:02Z"),
        })
        .then_expect_error(AccountError::ReservationNotOpen(crate::ReservationId::new(
            "r1",
        )));
    AccountTest::with(())
        .given(given)
        .when(AccountCommand::ReleaseCredits {
            reservation_id: crate::ReservationId::new("r1"),
            reason: "late".into(),
            at: at("2025-07-11T00:00:02Z"),
        })
        .then_expect_error(AccountError::ReservationNotOpen(crate::ReservationId::new(
            "r1",
        )));
}

#[test]
fn a_new_period_starts_before_the_first_command_after_the_1st_with_capped_rollover() {
    let result = AccountTest::with(())
        .given(vec![opened(Plan::Starter), reserved("r1", 100, 100, 900)])
        .when(reserve("r2", 1, "2025-08-02T09:00:00Z"))
        .inspect_result()
        .unwrap();
    let august = BillingPeriod::containing(at("2025-08-02T00:00:00Z"));
    assert_eq!(
        result[0],
        AccountEvent::BillingPeriodStarted {
            period: august,
            allocation: 1000,
            rollover: 900,
            expired: 0,
            remaining: 1900,
            at: august.start,
        }
    );
    assert!(matches!(
        result[1],
        AccountEvent::CreditsReserved {
            remaining: 1899,
            ..
        }
    ));
}

#[test]
fn free_plans_do_not_roll_over_and_idle_months_each_start_a_period() {
    let result = AccountTest::with(())
        .given(vec![opened(Plan::Free), reserved("r1", 10, 10, 40)])
        .when(reserve("r2", 1, "2025-10-05T00:00:00Z"))
        .inspect_result()
        .unwrap();
    let periods: Vec<_> = result
        .iter()
        .filter_map(|e| match e {
            AccountEvent::BillingPeriodStarted {
                period,
                rollover,
                expired,
                ..
            } => Some((period.start, *rollover, *expired)),
            _ => None,
        })
        .collect();
    assert_eq!(
        periods,
        vec![
            (at("2025-08-01T00:00:00Z"), 0, 40),
            (at("2025-09-01T00:00:00Z"), 0, 50),
            (at("2025-10-01T00:00:00Z"), 0, 50),
        ]
    );
}

#[test]
fn releasing_a_reservation_from_an_ended_period_returns_nothing() {
    let result = AccountTest::with(())
        .given(vec![opened(Plan::Free), reserved("r1", 5, 5, 45)])
        .when(AccountCommand::ReleaseCredits {
            reservation_id: crate::ReservationId::new("r1"),
            reason: "expired".into(),
            at: at("2025-08-01T00:00:05Z"),
        })
        .inspect_result()
        .unwrap();
    assert!(matches!(
        result.last(),
        Some(AccountEvent::CreditsReleased {
            returned: 0,
            remaining: 50,
            ..
        })
    ));
}

#[test]
fn overage_cannot_be_enabled_on_a_plan_without_it() {
    AccountTest::with(())
        .given(vec![opened(Plan::Starter)])
        .when(AccountCommand::SetOverage {
            enabled: true,
            at: at("2025-07-11T00:00:00Z"),
        })
        .then_expect_error(AccountError::NoOverageOnPlan(Plan::Starter));
}

#[test]
fn a_batch_reserves_all_its_items_or_none() {
    let batch = |credits: [u32; 3]| AccountCommand::ReserveBatchCredits {
        reservations: credits
            .iter()
            .enumerate()
            .map(|(i, c)| ReservationRequest {
                reservation_id: crate::ReservationId::new(format!("r{i}")),
                purpose: format!("job_r{i}"),
                credits: *c,
            })
            .collect(),
        at: at("2025-07-11T00:00:00Z"),
    };
    let events = AccountTest::with(())
        .given(vec![opened(Plan::Free)])
        .when(batch([1, 2, 1]))
        .inspect_result()
        .unwrap();
    assert_eq!(events.len(), 3);
    assert!(matches!(
        events[2],
        AccountEvent::CreditsReserved { remaining: 46, .. }
    ));
    AccountTest::with(())
        .given(vec![opened(Plan::Free), reserved("x", 48, 48, 2)])
        .when(batch([1, 1, 1]))
        .then_expect_error(AccountError::InsufficientCredits {
            needed: 3,
            remaining: 2,
        });
}

#[test]
fn a_reservation_can_grow_while_the_balance_covers_it() {
    AccountTest::with(())
        .given(vec![opened(Plan::Free), reserved("r1", 1, 1, 49)])
        .when(AccountCommand::IncreaseReservation {
            reservation_id: crate::ReservationId::new("r1"),
            credits: 1,
            at: at("2025-07-11T00:00:01Z"),
        })
        .then_expect_events(vec![AccountEvent::ReservationIncreased {
            reservation_id: crate::ReservationId::new("r1"),
            purpose: "job_r1".into(),
            credits: 1,
            from_balance: 1,
            overage: 0,
            remaining: 48,
            at: at("2025-07-11T00:00:01Z"),
        }]);
    AccountTest::with(())
        .given(vec![opened(Plan::Free), reserved("r1", 50, 50, 0)])
        .when(AccountCommand::IncreaseReservation {
            reservation_id: crate::ReservationId::new("r1"),
            credits: 1,
            at: at("2025-07-11T00:00:01Z"),
        })
        .then_expect_error(AccountError::InsufficientCredits {
            needed: 1,
            remaining: 0,
        });
}

#[test]
fn capture_after_a_top_up_charges_the_whole_reservation() {
    let increased = AccountEvent::ReservationIncreased {
        reservation_id: crate::ReservationId::new("r1"),
        purpose: "job_r1".into(),
        credits: 1,
        from_balance: 1,
        overage: 0,
        remaining: 48,
        at: at("2025-07-11T00:00:01Z"),
    };
    let events = AccountTest::with(())
        .given(vec![
            opened(Plan::Free),
            reserved("r1", 1, 1, 49),
            increased,
        ])
        .when(AccountCommand::CaptureCredits {
            charge: Charge::default(),
            reservation_id: crate::ReservationId::new("r1"),
            at: at("2025-07-11T00:00:02Z"),
        })
        .inspect_result()
        .unwrap();
    assert!(matches!(
        events[0],
        AccountEvent::CreditsCaptured {
            credits: 2,
            language_credits: 0,
            remaining: 48,
            ..
        }
    ));
}

#[test]
fn starting_due_periods_is_a_no_op_within_the_period() {
    AccountTest::with(())
        .given(vec![opened(Plan::Pro)])
        .when(AccountCommand::StartDuePeriods {
            at: at("2025-07-31T23:59:59Z"),
        })
        .then_expect_events(vec![]);
    let events = AccountTest::with(())
        .given(vec![opened(Plan::Pro)])
        .when(AccountCommand::StartDuePeriods {
            at: at("2025-08-01T00:00:00Z"),
        })
        .inspect_result()
        .unwrap();
    assert!(matches!(
        events.as_slice(),
        [AccountEvent::BillingPeriodStarted {
            rollover: 5000,
            remaining: 10000,
            ..
        }]
    ));
}

fn change_plan(plan: Plan, when: &str) -> AccountCommand {
    AccountCommand::ChangePlan { plan, at: at(when) }
}

#[test]
fn an_upgrade_applies_at_once_and_adds_the_difference_of_allocations() {
    AccountTest::with(())
        .given(vec![opened(Plan::Starter), reserved("r1", 100, 100, 900)])
        .when(change_plan(Plan::Pro, "2025-07-20T00:00:00Z"))
        .then_expect_events(vec![AccountEvent::PlanChanged {
            from: Plan::Starter,
            to: Plan::Pro,
            allocation: 5000,
            credits_added: 4000,
            remaining: 4900,
            overage_enabled: false,
            at: at("2025-07-20T00:00:00Z"),
        }]);
}

#[test]
fn a_downgrade_waits_for_the_next_period_and_then_sets_its_allocation() {
    let scheduled = AccountEvent::PlanChangeScheduled {
        from: Plan::Pro,
        to: Plan::Starter,
        effective_at: at("2025-08-01T00:00:00Z"),
        at: at("2025-07-20T00:00:00Z"),
    };
    AccountTest::with(())
        .given(vec![opened(Plan::Pro)])
        .when(change_plan(Plan::Starter, "2025-07-20T00:00:00Z"))
        .then_expect_events(vec![scheduled.clone()]);
    // Within the period nothing changes; the first command of August applies it.
    let events = AccountTest::with(())
        .given(vec![opened(Plan::Pro), scheduled])
        .when(reserve("r1", 1, "2025-08-02T00:00:00Z"))
        .inspect_result()
        .unwrap();
    assert_eq!(
        events[0],
        AccountEvent::PlanChanged {
            from: Plan::Pro,
            to: Plan::Starter,
            allocation: 1000,
            credits_added: 0,
            remaining: 5000,
            overage_enabled: false,
            at: at("2025-08-01T00:00:00Z"),
        }
    );
    // The rollover is capped at the new plan's allocation.
    assert!(matches!(
        events[1],
        AccountEvent::BillingPeriodStarted {
            allocation: 1000,
            rollover: 1000,
            expired: 4000,
            remaining: 2000,
            ..
        }
    ));
}

#[test]
fn naming_the_current_plan_cancels_a_scheduled_downgrade() {
    let scheduled = AccountEvent::PlanChangeScheduled {
        from: Plan::Pro,
        to: Plan::Free,
        effective_at: at("2025-08-01T00:00:00Z"),
        at: at("2025-07-20T00:00:00Z"),
    };
    AccountTest::with(())
        .given(vec![opened(Plan::Pro), scheduled.clone()])
        .when(change_plan(Plan::Pro, "2025-07-21T00:00:00Z"))
        .then_expect_events(vec![AccountEvent::ScheduledPlanChangeCancelled {
            to: Plan::Free,
            at: at("2025-07-21T00:00:00Z"),
        }]);
    AccountTest::with(())
        .given(vec![opened(Plan::Pro), scheduled])
        .when(change_plan(Plan::Free, "2025-07-21T00:00:00Z"))
        .then_expect_events(vec![]);
    AccountTest::with(())
        .given(vec![opened(Plan::Pro)])
        .when(change_plan(Plan::Pro, "2025-07-21T00:00:00Z"))
        .then_expect_error(AccountError::AlreadyOnPlan(Plan::Pro));
}

#[test]
fn the_default_language_changes_once_per_new_value() {
    let french = Language::parse("fr").unwrap();
    AccountTest::with(())
        .given(vec![opened(Plan::Free)])
        .when(AccountCommand::SetLanguage {
            language: french.clone(),
            at: at("2025-07-21T00:00:00Z"),
        })
        .then_expect_events(vec![AccountEvent::DefaultLanguageChanged {
            language: french,
            at: at("2025-07-21T00:00:00Z"),
        }]);
    AccountTest::with(())
        .given(vec![opened(Plan::Free)])
        .when(AccountCommand::SetLanguage {
            language: Language::english(),
            at: at("2025-07-21T00:00:00Z"),
        })
        .then_expect_events(vec![]);
}

#[test]
fn overage_is_priced_as_it_was_when_reserved_even_after_a_downgrade() {
    let scheduled = AccountEvent::PlanChangeScheduled {
        from: Plan::Pro,
        to: Plan::Starter,
        effective_at: at("2025-08-01T00:00:00Z"),
        at: at("2025-07-20T00:00:00Z"),
    };
    // Reserved on Pro with one credit of overage; captured after August made it Starter.
    let events = AccountTest::with(())
        .given(vec![
            opened(Plan::Pro),
            reserved("r0", 5000, 5000, 0),
            scheduled,
            reserved("r1", 2, 0, 0),
        ])
        .when(AccountCommand::CaptureCredits {
            charge: Charge::default(),
            reservation_id: crate::ReservationId::new("r1"),
            at: at("2025-08-01T00:00:05Z"),
        })
        .inspect_result()
        .unwrap();
    assert!(matches!(
        events[0],
        AccountEvent::PlanChanged {
            to: Plan::Starter,
            ..
        }
    ));
    assert!(
        matches!(
            events.last(),
            Some(AccountEvent::CreditsCaptured {
                overage: 2,
                overage_rate: Micros(30_000),
                overage_cost: Micros(60_000),
                ..
            })
        ),
        "{events:?}"
    );
}

#[test]
fn a_reservation_that_first_runs_into_overage_when_increased_takes_that_moments_rate() {
    let upgraded = AccountEvent::PlanChanged {
        from: Plan::Starter,
        to: Plan::Pro,
        allocation: 5000,
        credits_added: 4000,
        remaining: 0,
        overage_enabled: true,
        at: at("2025-07-12T00:00:00Z"),
    };
    let increased = AccountEvent::ReservationIncreased {
        reservation_id: crate::ReservationId::new("r1"),
        purpose: "job_r1".into(),
        credits: 1,
        from_balance: 0,
        overage: 1,
        remaining: 0,
        at: at("2025-07-12T00:00:01Z"),
    };
    let events = AccountTest::with(())
        .given(vec![
            opened(Plan::Starter),
            reserved("r1", 1, 1, 999),
            upgraded,
            increased,
            // Back to Starter (no overage) before the capture: the rate was fixed already.
            AccountEvent::PlanChangeScheduled {
                from: Plan::Pro,
                to: Plan::Starter,
                effective_at: at("2025-08-01T00:00:00Z"),
                at: at("2025-07-13T00:00:00Z"),
            },
        ])
        .when(AccountCommand::CaptureCredits {
            charge: Charge::default(),
            reservation_id: crate::ReservationId::new("r1"),
            at: at("2025-08-01T00:00:05Z"),
        })
        .inspect_result()
        .unwrap();
    assert!(
        matches!(
            events.last(),
            Some(AccountEvent::CreditsCaptured {
                overage: 1,
                overage_rate: Micros(30_000),
                ..
            })
        ),
        "{events:?}"
    );
}
