//! Usage: an account's plan, billing period and balance.
use altframe_domain::account::AccountEvent;
use serde::Serialize;

use crate::staged::StagedRow;
use crate::{on_db, timestamp, Arg, Db, Round, Tx};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct UsageRow {
    pub account_id: String,
    pub plan: String,
    pub monthly_allocation: i64,
    pub remaining: i64,
    pub rollover: i64,
    pub used_this_period: i64,
    pub overage_credits: i64,
    pub overage_cost_micros: i64,
    pub overage_enabled: bool,
    pub overage_rate_micros: i64,
    /// The part of `used_this_period` that paid for languages beyond the first.
    pub language_credits: i64,
    pub period_start: String,
    pub period_end: String,
    /// A downgrade waiting for the next period, and when it applies.
    pub pending_plan: Option<String>,
    pub pending_plan_at: Option<String>,
}

impl StagedRow for UsageRow {
    const TABLE: &'static str = "usage";
    const COLUMNS: &'static [&'static str] = &[
        "account_id",
        "plan",
        "monthly_allocation",
        "remaining",
        "rollover",
        "used_this_period",
        "overage_credits",
        "overage_cost_micros",
        "overage_enabled",
        "overage_rate_micros",
        "language_credits",
        "period_start",
        "period_end",
        "pending_plan",
        "pending_plan_at",
    ];
    const TYPES: &'static [&'static str] = &[
        "text", "text", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "boolean",
        "bigint", "bigint", "text", "text", "text", "text",
    ];

    fn key(&self) -> &str {
        &self.account_id
    }

    fn values(&self) -> Vec<Arg> {
        vec![
            self.account_id.clone().into(),
            self.plan.clone().into(),
            self.monthly_allocation.into(),
            self.remaining.into(),
            self.rollover.into(),
            self.used_this_period.into(),
            self.overage_credits.into(),
            self.overage_cost_micros.into(),
            self.overage_enabled.into(),
            self.overage_rate_micros.into(),
            self.language_credits.into(),
            self.period_start.clone().into(),
            self.period_end.clone().into(),
            Arg::OptText(self.pending_plan.clone()),
            Arg::OptText(self.pending_plan_at.clone()),
        ]
    }
}

pub(crate) async fn apply(
    tx: &mut Tx,
    round: &mut Round,
    id: &str,
    event: &AccountEvent,
) -> Result<(), sqlx::Error> {
    add_to_totals(round, event);
    if let AccountEvent::AccountOpened {
        plan,
        overage_enabled,
        period,
        allocation,
        ..
    } = event
    {
        round.usage.put(UsageRow {
            account_id: id.to_string(),
            plan: plan.as_str().to_string(),
            monthly_allocation: i64::from(*allocation),
            remaining: i64::from(*allocation),
            rollover: 0,
            used_this_period: 0,
            overage_credits: 0,
            overage_cost_micros: 0,
            overage_enabled: *overage_enabled,
            overage_rate_micros: plan.overage_rate().map_or(0, |r| r.0),
            language_credits: 0,
            period_start: timestamp(period.start),
            period_end: timestamp(period.end),
            pending_plan: None,
            pending_plan_at: None,
        });
        return Ok(());
    }
    round.usage.update(tx, id, |row| row.apply(event)).await?;
    Ok(())
}

impl UsageRow {
    /// What an event after the account's opening does to its row.
    fn apply(&mut self, event: &AccountEvent) {
        match event {
            AccountEvent::AccountOpened { .. }
            | AccountEvent::WebhookSecretRotated { .. }
            | AccountEvent::DefaultLanguageChanged { .. } => {}
            AccountEvent::PlanChanged {
                to,
                allocation,
                remaining,
                overage_enabled,
                ..
            } => {
                self.plan = to.as_str().to_string();
                self.monthly_allocation = i64::from(*allocation);
                self.remaining = i64::from(*remaining);
                self.overage_enabled = *overage_enabled;
                self.overage_rate_micros = to.overage_rate().map_or(0, |r| r.0);
                self.pending_plan = None;
                self.pending_plan_at = None;
            }
            AccountEvent::PlanChangeScheduled {
                to, effective_at, ..
            } => {
                self.pending_plan = Some(to.as_str().to_string());
                self.pending_plan_at = Some(timestamp(*effective_at));
            }
            AccountEvent::ScheduledPlanChangeCancelled { .. } => {
                self.pending_plan = None;
                self.pending_plan_at = None;
            }
            AccountEvent::BillingPeriodStarted {
                period,
                allocation,
                rollover,
                remaining,
                ..
            } => {
                self.monthly_allocation = i64::from(*allocation);
                self.rollover = i64::from(*rollover);
                self.remaining = i64::from(*remaining);
                self.used_this_period = 0;
                self.language_credits = 0;
                self.overage_credits = 0;
                self.overage_cost_micros = 0;
                self.period_start = timestamp(period.start);
                self.period_end = timestamp(period.end);
            }
            AccountEvent::CreditsReserved { remaining, .. }
            | AccountEvent::ReservationIncreased { remaining, .. }
            | AccountEvent::ReservationReduced { remaining, .. }
            | AccountEvent::CreditsReleased { remaining, .. } => {
                self.remaining = i64::from(*remaining);
            }
            AccountEvent::CreditsCaptured {
                credits,
                language_credits,
                overage,
                overage_cost,
                remaining,
                ..
            } => {
                self.remaining = i64::from(*remaining);
                self.used_this_period += i64::from(*credits);
                self.language_credits += i64::from(*language_credits);
                self.overage_credits += i64::from(*overage);
                self.overage_cost_micros += overage_cost.0;
            }
            AccountEvent::OverageChanged { enabled, .. } => self.overage_enabled = *enabled,
        }
    }
}

/// Adds the event's credits to the round's share of the system-wide `credit_totals`.
fn add_to_totals(round: &mut Round, event: &AccountEvent) {
    let (movement, credits) = match event {
        AccountEvent::CreditsReserved { credits, .. }
        | AccountEvent::ReservationIncreased { credits, .. } => ("reserved", credits),
        AccountEvent::CreditsCaptured { credits, .. } => ("captured", credits),
        // A reduction gives part of a reservation back, as a release gives all of it.
        AccountEvent::CreditsReleased { credits, .. }
        | AccountEvent::ReservationReduced { credits, .. } => ("released", credits),
        _ => return,
    };
    *round.credit_totals.entry(movement).or_default() += i64::from(*credits);
}

/// Writes the round's additions to `credit_totals`.
pub(crate) async fn add_totals(
    tx: &mut Tx,
    totals: &std::collections::BTreeMap<&'static str, i64>,
) -> Result<(), sqlx::Error> {
    for (movement, credits) in totals {
        tx.execute(
            "INSERT INTO credit_totals (movement, credits) VALUES ($1, $2)
             ON CONFLICT (movement) DO UPDATE SET credits = credit_totals.credits + excluded.credits",
            vec![(*movement).into(), Arg::Int(*credits)],
        )
        .await?;
    }
    Ok(())
}

/// Credits reserved, captured and released across all accounts since the log began.
pub async fn credit_totals(db: &Db) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let sql = "SELECT movement, credits FROM credit_totals ORDER BY movement";
    on_db!(db, pool => sqlx::query_as::<_, (String, i64)>(sql).fetch_all(pool).await)
}

pub async fn find(db: &Db, account_id: &str) -> Result<Option<UsageRow>, sqlx::Error> {
    let sql = "SELECT account_id, plan, monthly_allocation, remaining, rollover, used_this_period,
                      overage_credits, overage_cost_micros, overage_enabled, overage_rate_micros,
                      language_credits, period_start, period_end, pending_plan, pending_plan_at
                 FROM usage WHERE account_id = $1";
    on_db!(db, pool => sqlx::query_as::<_, UsageRow>(sql).bind(account_id).fetch_optional(pool).await)
}

/// Accounts whose billing period ended by `now` (a new one is due), at most `limit`.
pub async fn due_for_new_period(
    db: &Db,
    now: chrono::DateTime<chrono::Utc>,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let sql = "SELECT account_id FROM usage WHERE period_end <= $1 ORDER BY period_end LIMIT $2";
    on_db!(db, pool => sqlx::query_scalar::<_, String>(sql)
        .bind(timestamp(now))
        .bind(limit)
        .fetch_all(pool)
        .await)
}
