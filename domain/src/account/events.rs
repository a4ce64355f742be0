use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::generation::Language;
use crate::ids::ReservationId;
use crate::period::BillingPeriod;
use crate::plan::Plan;
use crate::{Credits, Micros};

/// Events carry what a reader needs (balances after the fact, prices), so read models and the
/// audit only copy and add, never re-derive business rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AccountEvent {
    AccountOpened {
        name: String,
        plan: Plan,
        language: Language,
        overage_enabled: bool,
        period: BillingPeriod,
        allocation: Credits,
        at: DateTime<Utc>,
    },
    /// A new billing period began: the balance is the allocation plus what rolled over.
    BillingPeriodStarted {
        period: BillingPeriod,
        allocation: Credits,
        rollover: Credits,
        /// Unreserved credits of the period that ended and did not roll over.
        expired: Credits,
        remaining: Credits,
        at: DateTime<Utc>,
    },
    CreditsReserved {
        reservation_id: ReservationId,
        purpose: String,
        credits: Credits,
        /// The part taken from the balance; the rest is overage.
        from_balance: Credits,
        overage: Credits,
        remaining: Credits,
        at: DateTime<Utc>,
    },
    CreditsCaptured {
        reservation_id: ReservationId,
        purpose: String,
        credits: Credits,
        /// The part of `credits` that paid for languages beyond the first.
        #[serde(default)]
        language_credits: Credits,
        overage: Credits,
        overage_rate: Micros,
        overage_cost: Micros,
        remaining: Credits,
        at: DateTime<Utc>,
    },
    CreditsReleased {
        reservation_id: ReservationId,
        purpose: String,
        credits: Credits,
        /// Credits given back to the balance: none when the reservation's period has ended.
        returned: Credits,
        reason: String,
        remaining: Credits,
        at: DateTime<Utc>,
    },
    OverageChanged {
        enabled: bool,
        at: DateTime<Utc>,
    },
    ReservationIncreased {
        reservation_id: ReservationId,
        purpose: String,
        /// Credits added to the reservation, split like a reservation's.
        credits: Credits,
        from_balance: Credits,
        overage: Credits,
        remaining: Credits,
        at: DateTime<Utc>,
    },
    /// Part of a reservation given back before its capture: the languages a job did not
    /// deliver. Overage goes back first, then the balance's part (to the balance only while
    /// the reservation's period lasts).
    ReservationReduced {
        reservation_id: ReservationId,
        purpose: String,
        credits: Credits,
        from_balance: Credits,
        overage: Credits,
        /// Credits given back to the balance.
        returned: Credits,
        remaining: Credits,
        at: DateTime<Utc>,
    },
    WebhookSecretRotated {
        secret: String,
        at: DateTime<Utc>,
    },
    /// The account is on another plan from `at`: at once for an upgrade, whose balance grows
    /// by the difference of the two allocations (`credits_added`); at the start of a period
    /// for a downgrade scheduled before, which adds nothing.
    PlanChanged {
        from: Plan,
        to: Plan,
        allocation: Credits,
        credits_added: Credits,
        remaining: Credits,
        /// Overage after the change: a plan without overage turns it off.
        overage_enabled: bool,
        at: DateTime<Utc>,
    },
    /// A downgrade, to take effect when the period after `at` starts (`effective_at`).
    PlanChangeScheduled {
        from: Plan,
        to: Plan,
        effective_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// A scheduled downgrade that will no longer happen.
    ScheduledPlanChangeCancelled {
        to: Plan,
        at: DateTime<Utc>,
    },
    DefaultLanguageChanged {
        language: Language,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> String {
        match self {
            AccountEvent::AccountOpened { .. } => "AccountOpened",
            AccountEvent::BillingPeriodStarted { .. } => "BillingPeriodStarted",
            AccountEvent::CreditsReserved { .. } => "CreditsReserved",
            AccountEvent::CreditsCaptured { .. } => "CreditsCaptured",
            AccountEvent::CreditsReleased { .. } => "CreditsReleased",
            AccountEvent::OverageChanged { .. } => "OverageChanged",
            AccountEvent::ReservationIncreased { .. } => "ReservationIncreased",
            AccountEvent::ReservationReduced { .. } => "ReservationReduced",
            AccountEvent::WebhookSecretRotated { .. } => "WebhookSecretRotated",
            AccountEvent::PlanChanged { .. } => "PlanChanged",
            AccountEvent::PlanChangeScheduled { .. } => "PlanChangeScheduled",
            AccountEvent::ScheduledPlanChangeCancelled { .. } => "ScheduledPlanChangeCancelled",
            AccountEvent::DefaultLanguageChanged { .. } => "DefaultLanguageChanged",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}
