use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{AccountCommand, AccountError, AccountEvent};
use crate::generation::Language;
use crate::ids::ReservationId;
use crate::period::BillingPeriod;
use crate::plan::Plan;
use crate::{Credits, Micros};

/// The account's state, kept small on purpose: it is snapshotted, and its size must not grow
/// with history. Only open reservations are remembered; settled ones live in the events.
///
/// Snapshots hold this struct as JSON, so its shape must stay readable: add fields with
/// `#[serde(default)]`. (cqrs-es falls back to a full replay on an unreadable snapshot but then
/// writes a second snapshot row, which its loader may pick at random.)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Account {
    pub(super) opened: Option<Opened>,
    pub(super) remaining: Credits,
    pub(super) reservations: BTreeMap<ReservationId, Reservation>,
    pub(super) webhook_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Opened {
    pub(super) plan: Plan,
    pub(super) language: Language,
    pub(super) overage_enabled: bool,
    pub(super) period: BillingPeriod,
    /// A downgrade that takes effect when the next period starts.
    #[serde(default)]
    pub(super) pending_plan: Option<Plan>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub purpose: String,
    pub credits: Credits,
    pub from_balance: Credits,
    pub overage: Credits,
    pub period_start: DateTime<Utc>,
    /// The price of its overage, fixed when it was reserved: a plan change before the
    /// capture does not re-price it. `None` in snapshots older than this field.
    #[serde(default)]
    pub overage_rate: Option<Micros>,
}

impl Account {
    pub fn remaining(&self) -> Credits {
        self.remaining
    }

    pub fn plan(&self) -> Option<Plan> {
        self.opened.as_ref().map(|o| o.plan)
    }

    pub fn language(&self) -> Option<&Language> {
        self.opened.as_ref().map(|o| &o.language)
    }

    pub fn overage_enabled(&self) -> bool {
        self.opened.as_ref().is_some_and(|o| o.overage_enabled)
    }

    /// The plan the account moves to when the next period starts, if a downgrade is scheduled.
    pub fn pending_plan(&self) -> Option<Plan> {
        self.opened.as_ref().and_then(|o| o.pending_plan)
    }

    pub fn reservation(&self, id: &ReservationId) -> Option<&Reservation> {
        self.reservations.get(id)
    }

    /// Open reservations, oldest id first.
    pub fn reservations(&self) -> impl Iterator<Item = (&ReservationId, &Reservation)> {
        self.reservations.iter()
    }

    pub fn webhook_secret(&self) -> Option<&str> {
        self.webhook_secret.as_deref()
    }

    fn open_reservation(&self, id: &ReservationId) -> Result<&Reservation, AccountError> {
        self.reservations
            .get(id)
            .ok_or_else(|| AccountError::ReservationNotOpen(id.clone()))
    }

    fn opened(&self) -> Result<&Opened, AccountError> {
        self.opened.as_ref().ok_or(AccountError::NotOpened)
    }

    /// Starts every billing period that has begun by `at`, so the decision that follows is
    /// taken on the right balance. Periods are started lazily, by the first command after
    /// midnight on the 1st; a month without commands is still a period of its own.
    async fn start_due_periods(&mut self, at: DateTime<Utc>, sink: &EventSink<Self>) {
        while let Some(opened) = &self.opened {
            if at < opened.period.end {
                return;
            }
            let next = BillingPeriod::containing(opened.period.end);
            if let Some(to) = opened.pending_plan {
                let event = AccountEvent::PlanChanged {
                    from: opened.plan,
                    to,
                    allocation: to.monthly_allocation(),
                    credits_added: 0,
                    remaining: self.remaining,
                    overage_enabled: opened.overage_enabled && to.overage_rate().is_some(),
                    at: next.start,
                };
                sink.write(event, self).await;
                continue;
            }
            let allocation = opened.plan.monthly_allocation();
            let rollover = if opened.plan.rolls_over() {
                self.remaining.min(allocation)
            } else {
                0
            };
            let event = AccountEvent::BillingPeriodStarted {
                period: next,
                allocation,
                rollover,
                expired: self.remaining - rollover,
                remaining: allocation + rollover,
                at: next.start,
            };
            sink.write(event, self).await;
        }
    }

    /// An upgrade applies at once, a downgrade at the next period; the current plan cancels a
    /// scheduled downgrade, and a plan already scheduled changes nothing.
    fn change_plan(
        &self,
        to: Plan,
        at: DateTime<Utc>,
    ) -> Result<Option<AccountEvent>, AccountError> {
        let opened = self.opened()?;
        let from = opened.plan;
        if to == from {
            return match opened.pending_plan {
                Some(pending) => Ok(Some(AccountEvent::ScheduledPlanChangeCancelled {
                    to: pending,
                    at,
                })),
                None => Err(AccountError::AlreadyOnPlan(to)),
            };
        }
        if opened.pending_plan == Some(to) {
            return Ok(None);
        }
        if to.tier() > from.tier() {
            let credits_added = to.monthly_allocation() - from.monthly_allocation();
            return Ok(Some(AccountEvent::PlanChanged {
                from,
                to,
                allocation: to.monthly_allocation(),
                credits_added,
                remaining: self.remaining + credits_added,
                overage_enabled: opened.overage_enabled,
                at,
            }));
        }
        Ok(Some(AccountEvent::PlanChangeScheduled {
            from,
            to,
            effective_at: opened.period.end,
            at,
        }))
    }

    fn reserve(
        &self,
        reservation_id: ReservationId,
        purpose: String,
        credits: Credits,
        at: DateTime<Utc>,
    ) -> Result<AccountEvent, AccountError> {
        let opened = self.opened()?;
        if credits == 0 {
            return Err(AccountError::EmptyReservation);
        }
        if self.reservations.contains_key(&reservation_id) {
            return Err(AccountError::DuplicateReservation(reservation_id));
        }
        let (from_balance, overage) = self.split(opened, credits)?;
        Ok(AccountEvent::CreditsReserved {
            reservation_id,
            purpose,
            credits,
            from_balance,
            overage,
            remaining: self.remaining - from_balance,
            at,
        })
    }

    /// How much of `credits` the balance covers, and how much would be overage; refused when
    /// the balance is short and overage is off.
    fn split(&self, opened: &Opened, credits: Credits) -> Result<(Credits, Credits), AccountError> {
        let from_balance = credits.min(self.remaining);
        let overage = credits - from_balance;
        if overage > 0 && !opened.overage_enabled {
            return Err(AccountError::InsufficientCredits {
                needed: credits,
                remaining: self.remaining,
            });
        }
        Ok((from_balance, overage))
    }

    fn increase(
        &self,
        reservation_id: ReservationId,
        credits: Credits,
        at: DateTime<Utc>,
    ) -> Result<AccountEvent, AccountError> {
        let opened = self.opened()?;
        let r = self.open_reservation(&reservation_id)?;
        if credits == 0 {
            return Err(AccountError::EmptyReservation);
        }
        let (from_balance, overage) = self.split(opened, credits)?;
        Ok(AccountEvent::ReservationIncreased {
            purpose: r.purpose.clone(),
            credits,
            from_balance,
            overage,
            remaining: self.remaining - from_balance,
            reservation_id,
            at,
        })
    }

    /// Gives back `unused` of a reservation about to be captured; `None` when nothing is.
    fn reduce(
        &self,
        reservation_id: &ReservationId,
        unused: Credits,
        at: DateTime<Utc>,
    ) -> Result<Option<AccountEvent>, AccountError> {
        let opened = self.opened()?;
        let r = self.open_reservation(reservation_id)?;
        if unused == 0 {
            return Ok(None);
        }
        if unused >= r.credits {
            return Err(AccountError::UnusedExceedsReservation {
                reservation_id: reservation_id.clone(),
                reserved: r.credits,
                unused,
            });
        }
        let overage = unused.min(r.overage);
        let from_balance = unused - overage;
        let returned = if r.period_start == opened.period.start {
            from_balance
        } else {
            0
        };
        Ok(Some(AccountEvent::ReservationReduced {
            reservation_id: reservation_id.clone(),
            purpose: r.purpose.clone(),
            credits: unused,
            from_balance,
            overage,
            returned,
            remaining: self.remaining + returned,
            at,
        }))
    }

    fn capture(
        &self,
        reservation_id: ReservationId,
        language_credits: Credits,
        at: DateTime<Utc>,
    ) -> Result<AccountEvent, AccountError> {
        let opened = self.opened()?;
        let r = self.open_reservation(&reservation_id)?;
        let rate = r
            .overage_rate
            .or_else(|| opened.plan.overage_rate())
            .unwrap_or(Micros::ZERO);
        Ok(AccountEvent::CreditsCaptured {
            purpose: r.purpose.clone(),
            credits: r.credits,
            language_credits: language_credits.min(r.credits),
            overage: r.overage,
            overage_rate: rate,
            overage_cost: rate.times(r.overage),
            remaining: self.remaining,
            reservation_id,
            at,
        })
    }

    fn release(
        &self,
        reservation_id: ReservationId,
        reason: String,
        at: DateTime<Utc>,
    ) -> Result<AccountEvent, AccountError> {
        let opened = self.opened()?;
        let r = self.open_reservation(&reservation_id)?;
        let returned = if r.period_start == opened.period.start {
            r.from_balance
        } else {
            0
        };
        Ok(AccountEvent::CreditsReleased {
            purpose: r.purpose.clone(),
            credits: r.credits,
            returned,
            reason,
            remaining: self.remaining + returned,
            reservation_id,
            at,
        })
    }
}

impl Aggregate for Account {
    const TYPE: &'static str = "Account";
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = AccountError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            AccountCommand::OpenAccount {
                name,
                plan,
                language,
                at,
            } => {
                if self.opened.is_some() {
                    return Err(AccountError::AlreadyOpened);
                }
                AccountEvent::AccountOpened {
                    name,
                    plan,
                    language,
                    overage_enabled: plan.overage_rate().is_some(),
                    period: BillingPeriod::containing(at),
                    allocation: plan.monthly_allocation(),
                    at,
                }
            }
            AccountCommand::ReserveCredits {
                reservation_id,
                purpose,
                credits,
                at,
            } => {
                self.opened()?;
                self.start_due_periods(at, sink).await;
                self.reserve(reservation_id, purpose, credits, at)?
            }
            AccountCommand::CaptureCredits {
                reservation_id,
                charge,
                at,
            } => {
                self.opened()?;
                self.start_due_periods(at, sink).await;
                if let Some(reduced) = self.reduce(&reservation_id, charge.unused, at)? {
                    sink.write(reduced, self).await;
                }
                self.capture(reservation_id, charge.language_credits, at)?
            }
            AccountCommand::ReleaseCredits {
                reservation_id,
                reason,
                at,
            } => {
                self.opened()?;
                self.start_due_periods(at, sink).await;
                self.release(reservation_id, reason, at)?
            }
            AccountCommand::ReserveBatchCredits { reservations, at } => {
                self.opened()?;
                self.start_due_periods(at, sink).await;
                let needed: Credits = reservations.iter().map(|r| r.credits).sum();
                let remaining = self.remaining;
                for r in reservations {
                    match self.reserve(r.reservation_id, r.purpose, r.credits, at) {
                        Ok(event) => sink.write(event, self).await,
                        // Refuse the whole batch, naming its whole cost.
                        Err(AccountError::InsufficientCredits { .. }) => {
                            return Err(AccountError::InsufficientCredits { needed, remaining })
                        }
                        Err(e) => return Err(e),
                    }
                }
                return Ok(());
            }
            AccountCommand::IncreaseReservation {
                reservation_id,
                credits,
                at,
            } => {
                self.opened()?;
                self.start_due_periods(at, sink).await;
                self.increase(reservation_id, credits, at)?
            }
            AccountCommand::StartDuePeriods { at } => {
                self.opened()?;
                self.start_due_periods(at, sink).await;
                return Ok(());
            }
            AccountCommand::RotateWebhookSecret { secret, at } => {
                self.opened()?;
                AccountEvent::WebhookSecretRotated { secret, at }
            }
            AccountCommand::ChangePlan { plan, at } => {
                self.opened()?;
                self.start_due_periods(at, sink).await;
                match self.change_plan(plan, at)? {
                    Some(event) => event,
                    None => return Ok(()),
                }
            }
            AccountCommand::SetLanguage { language, at } => {
                let opened = self.opened()?;
                if opened.language == language {
                    return Ok(());
                }
                AccountEvent::DefaultLanguageChanged { language, at }
            }
            AccountCommand::SetOverage { enabled, at } => {
                let opened = self.opened()?;
                if enabled && opened.plan.overage_rate().is_none() {
                    return Err(AccountError::NoOverageOnPlan(opened.plan));
                }
                AccountEvent::OverageChanged { enabled, at }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            AccountEvent::AccountOpened {
                plan,
                language,
                overage_enabled,
                period,
                allocation,
                ..
            } => {
                self.opened = Some(Opened {
                    plan,
                    language,
                    overage_enabled,
                    period,
                    pending_plan: None,
                });
                self.remaining = allocation;
            }
            AccountEvent::BillingPeriodStarted {
                period, remaining, ..
            } => {
                if let Some(o) = &mut self.opened {
                    o.period = period;
                }
                self.remaining = remaining;
            }
            AccountEvent::CreditsReserved {
                reservation_id,
                purpose,
                credits,
                from_balance,
                overage,
                remaining,
                ..
            } => {
                let period_start = self
                    .opened
                    .as_ref()
                    .map(|o| o.period.start)
                    .unwrap_or_default();
                let overage_rate = self.opened.as_ref().and_then(|o| o.plan.overage_rate());
                self.reservations.insert(
                    reservation_id,
                    Reservation {
                        purpose,
                        credits,
                        from_balance,
                        overage,
                        period_start,
                        overage_rate,
                    },
                );
                self.remaining = remaining;
            }
            AccountEvent::CreditsCaptured {
                reservation_id,
                remaining,
                ..
            }
            | AccountEvent::CreditsReleased {
                reservation_id,
                remaining,
                ..
            } => {
                self.reservations.remove(&reservation_id);
                self.remaining = remaining;
            }
            AccountEvent::OverageChanged { enabled, .. } => {
                if let Some(o) = &mut self.opened {
                    o.overage_enabled = enabled;
                }
            }
            AccountEvent::ReservationReduced {
                reservation_id,
                credits,
                from_balance,
                overage,
                remaining,
                ..
            } => {
                if let Some(r) = self.reservations.get_mut(&reservation_id) {
                    r.credits = r.credits.saturating_sub(credits);
                    r.from_balance = r.from_balance.saturating_sub(from_balance);
                    r.overage = r.overage.saturating_sub(overage);
                }
                self.remaining = remaining;
            }
            AccountEvent::ReservationIncreased {
                reservation_id,
                credits,
                from_balance,
                overage,
                remaining,
                ..
            } => {
                let rate = self.opened.as_ref().and_then(|o| o.plan.overage_rate());
                if let Some(r) = self.reservations.get_mut(&reservation_id) {
                    r.credits += credits;
                    r.from_balance += from_balance;
                    r.overage += overage;
                    // A reservation made without overage takes the rate of its first overage.
                    if overage > 0 {
                        r.overage_rate = r.overage_rate.or(rate);
                    }
                }
                self.remaining = remaining;
            }
            AccountEvent::WebhookSecretRotated { secret, .. } => {
                self.webhook_secret = Some(secret);
            }
            AccountEvent::PlanChanged {
                to,
                remaining,
                overage_enabled,
                ..
            } => {
                if let Some(o) = &mut self.opened {
                    o.plan = to;
                    o.overage_enabled = overage_enabled;
                    o.pending_plan = None;
                }
                self.remaining = remaining;
            }
            AccountEvent::PlanChangeScheduled { to, .. } => {
                if let Some(o) = &mut self.opened {
                    o.pending_plan = Some(to);
                }
            }
            AccountEvent::ScheduledPlanChangeCancelled { .. } => {
                if let Some(o) = &mut self.opened {
                    o.pending_plan = None;
                }
            }
            AccountEvent::DefaultLanguageChanged { language, .. } => {
                if let Some(o) = &mut self.opened {
                    o.language = language;
                }
            }
        }
    }
}
