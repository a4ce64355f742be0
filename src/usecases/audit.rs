//! `altframe audit`: replays an account's events into a credit ledger, checks that every event
//! agrees with the arithmetic before it, and reconciles the result with the usage read model
//! and with the job history. Any disagreement is reported by name.
use std::collections::HashMap;

use altframe_domain::account::AccountEvent;
use altframe_projections::{accounts, on_db, timestamp, usage};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use altframe_domain::{AccountId, ReservationId};
use cqrs_es::persist::{EventUpcaster, SerializedEvent};

use super::App;
use crate::adapters::store::upcasters;
use futures_util::TryStreamExt;

/// One ledger line: an event and what it did to the balance.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerRow {
    pub sequence: i64,
    pub at: String,
    pub event: String,
    /// What the event concerns: the job or batch item the credits were for, or the plan or
    /// language an account change moved to.
    pub reference: Option<String>,
    /// Change to the balance (credits available to spend).
    pub credits: i64,
    pub balance: i64,
    /// Credits charged by this event (captures only).
    pub charged: i64,
    /// The part of `charged` that paid for languages beyond the first.
    pub language_credits: i64,
    /// Credits charged beyond the balance, and their price.
    pub overage_credits: i64,
    pub overage_cost_usd: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub expected: String,
    pub actual: String,
    pub ok: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub account_id: String,
    pub events: usize,
    pub rows: Vec<LedgerRow>,
    pub checks: Vec<Check>,
    pub ok: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("account {0} has no events")]
    NoSuchAccount(AccountId),
    #[error("bringing read models up to date")]
    CatchUp(#[source] Box<super::Failure>),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event {sequence} of the account cannot be read: {source}")]
    Decode {
        sequence: i64,
        source: serde_json::Error,
    },
}

fn check(name: impl Into<String>, expected: impl ToString, actual: impl ToString) -> Check {
    let (expected, actual) = (expected.to_string(), actual.to_string());
    Check {
        ok: expected == actual,
        name: name.into(),
        expected,
        actual,
    }
}

/// Replays and reconciles the account. Rows are kept between `from` and `to` (inclusive,
/// either open); the checks always cover the whole history.
pub async fn audit(
    app: &App,
    account_id: &AccountId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<AuditReport, AuditError> {
    // Read as a stream and decoded straight from the text: an account's history can hold
    // millions of events, and none of them need be in memory at once.
    let sql = "SELECT sequence, event_type, event_version, CAST(payload AS TEXT) FROM events
                WHERE aggregate_type = 'Account' AND aggregate_id = $1 ORDER BY sequence";
    let upcasters = upcasters::all();
    let mut replay = Replay::default();
    let mut checks = Vec::new();
    let mut rows = Vec::new();
    let (mut events, mut last) = (0usize, 0i64);
    super::read_models::catch_up(app)
        .await
        .map_err(|e| AuditError::CatchUp(Box::new(e)))?;
    let store = &app.store;
    on_db!(&store.db, pool => {
        let mut stored = sqlx::query_as::<_, (i64, String, String, String)>(sql)
            .bind(account_id.as_str())
            .fetch(pool);
        while let Some((sequence, event_type, version, payload)) = stored.try_next().await? {
            let event = decode(&upcasters, account_id, sequence, event_type, version, &payload)?;
            let (row, at) = replay.apply(sequence, &event, &mut checks);
            if from.is_none_or(|f| at >= f) && to.is_none_or(|t| at <= t) {
                rows.push(row);
            }
            (events, last) = (events + 1, sequence);
        }
    });
    if events == 0 {
        return Err(AuditError::NoSuchAccount(account_id.clone()));
    }
    // Completeness: sequences run 1..=n with no gap, so nothing was skipped.
    checks.insert(0, check("event sequence has no gap", last, events));

    match usage::find(&store.db, account_id.as_str()).await? {
        Some(u) => {
            checks.push(check("usage.plan", &replay.plan, &u.plan));
            checks.push(check(
                "usage.monthly_allocation",
                replay.allocation,
                u.monthly_allocation,
            ));
            checks.push(check(
                "usage.pending_plan",
                replay.pending_plan.as_deref().unwrap_or("none"),
                u.pending_plan.as_deref().unwrap_or("none"),
            ));
            checks.push(check("usage.remaining", replay.balance, u.remaining));
            checks.push(check(
                "usage.used_this_period",
                replay.period_captured,
                u.used_this_period,
            ));
            checks.push(check(
                "usage.language_credits",
                replay.period_language,
                u.language_credits,
            ));
            checks.push(check(
                "usage.overage_credits",
                replay.period_overage,
                u.overage_credits,
            ));
            checks.push(check(
                "usage.overage_cost_micros",
                replay.period_overage_cost,
                u.overage_cost_micros,
            ));
        }
        None => checks.push(check("usage row exists", "yes", "no")),
    }
    match accounts::find(&store.db, account_id.as_str()).await? {
        Some(a) => checks.push(check("accounts.plan", &replay.plan, &a.plan)),
        None => checks.push(check("accounts row exists", "yes", "no")),
    }
    let history = history_totals(app, account_id).await?;
    // A job answered from the generation cache reserved and captured nothing: it is left out
    // of the totals below, and must show no credits of its own.
    checks.push(check(
        "history: credits of jobs answered from the cache",
        0,
        history.cached_credits,
    ));
    checks.push(check(
        "history: completed jobs = captures for jobs",
        replay.job_captures,
        history.completed_jobs,
    ));
    checks.push(check(
        "history: credits of completed jobs = credits captured for jobs",
        replay.job_captured_credits,
        history.completed_credits,
    ));
    checks.push(check(
        "history: language credits of completed jobs = language credits captured for jobs",
        replay.job_language_credits,
        history.completed_language_credits,
    ));
    checks.push(check(
        "reservations settled more than once",
        0,
        replay.double_settled,
    ));

    let ok = checks.iter().all(|c| c.ok);
    Ok(AuditReport {
        account_id: account_id.to_string(),
        events,
        rows,
        checks,
        ok,
    })
}

/// An account event as this version reads it: through the upcasters when one applies to its
/// type and version, else decoded directly.
fn decode(
    upcasters: &[Box<dyn EventUpcaster>],
    account_id: &AccountId,
    sequence: i64,
    event_type: String,
    version: String,
    payload: &str,
) -> Result<AccountEvent, AuditError> {
    let err = |source| AuditError::Decode { sequence, source };
    if !upcasters
        .iter()
        .any(|u| u.can_upcast(&event_type, &version))
    {
        return serde_json::from_str(payload).map_err(err);
    }
    let event = SerializedEvent::new(
        account_id.to_string(),
        usize::try_from(sequence).unwrap_or_default(),
        "Account".into(),
        event_type,
        version,
        serde_json::from_str(payload).map_err(err)?,
        Value::Null,
    );
    serde_json::from_value(upcasters::upcast(upcasters, event).payload).map_err(err)
}

/// What history shows of the account's jobs: its completed jobs that were generated (how
/// many, their credits, and the part for extra languages), and the credits it shows for jobs
/// answered from the cache (which must be none).
#[derive(sqlx::FromRow)]
struct HistoryTotals {
    completed_jobs: i64,
    completed_credits: i64,
    completed_language_credits: i64,
    cached_credits: i64,
}

async fn history_totals(app: &App, account_id: &AccountId) -> Result<HistoryTotals, sqlx::Error> {
    let generated = "status = 'completed' AND cached_from IS NULL";
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(CASE WHEN {generated} THEN 1 ELSE 0 END), 0) AS BIGINT)
                    AS completed_jobs,
                CAST(COALESCE(SUM(CASE WHEN {generated} THEN credits ELSE 0 END), 0) AS BIGINT)
                    AS completed_credits,
                CAST(COALESCE(SUM(CASE WHEN {generated} THEN language_credits ELSE 0 END), 0)
                    AS BIGINT) AS completed_language_credits,
                CAST(COALESCE(SUM(CASE WHEN cached_from IS NOT NULL
                                       THEN credits + language_credits ELSE 0 END), 0)
                    AS BIGINT) AS cached_credits
           FROM jobs WHERE account_id = $1"
    );
    on_db!(&app.store.db, pool => sqlx::query_as::<_, HistoryTotals>(&sql).bind(account_id.as_str()).fetch_one(pool).await)
}

/// The ledger arithmetic, done again from the events' own facts.
#[derive(Default)]
struct Replay {
    balance: i64,
    /// The plan, its allocation and a scheduled downgrade, as the events leave them.
    plan: String,
    allocation: i64,
    pending_plan: Option<String>,
    open: HashMap<ReservationId, (String, i64)>,
    period_captured: i64,
    period_language: i64,
    period_overage: i64,
    period_overage_cost: i64,
    job_captures: i64,
    job_captured_credits: i64,
    job_language_credits: i64,
    double_settled: i64,
}

impl Replay {
    /// The event's ledger row, and when it happened.
    fn apply(
        &mut self,
        sequence: i64,
        event: &AccountEvent,
        checks: &mut Vec<Check>,
    ) -> (LedgerRow, DateTime<Utc>) {
        let before = self.balance;
        let mut reference = None;
        let (mut overage_credits, mut overage_cost, mut charged) = (0i64, 0i64, 0i64);
        let mut language_charged = 0i64;
        let (name, at, recorded) = match event {
            AccountEvent::AccountOpened {
                plan,
                allocation,
                at,
                ..
            } => {
                self.balance = i64::from(*allocation);
                self.plan = plan.to_string();
                self.allocation = i64::from(*allocation);
                ("AccountOpened", *at, None)
            }
            AccountEvent::BillingPeriodStarted {
                allocation,
                rollover,
                remaining,
                at,
                ..
            } => {
                self.balance = i64::from(*allocation) + i64::from(*rollover);
                self.allocation = i64::from(*allocation);
                (
                    self.period_captured,
                    self.period_language,
                    self.period_overage,
                    self.period_overage_cost,
                ) = (0, 0, 0, 0);
                ("BillingPeriodStarted", *at, Some(*remaining))
            }
            AccountEvent::CreditsReserved {
                reservation_id,
                purpose,
                credits,
                from_balance,
                overage,
                remaining,
                at,
            } => {
                self.balance -= i64::from(*from_balance);
                if from_balance + overage != *credits {
                    checks.push(check(
                        format!("event {sequence}: reserved = from balance + overage"),
                        credits,
                        from_balance + overage,
                    ));
                }
                self.open.insert(
                    reservation_id.clone(),
                    (purpose.clone(), i64::from(*credits)),
                );
                reference = Some(purpose.clone());
                ("CreditsReserved", *at, Some(*remaining))
            }
            AccountEvent::ReservationIncreased {
                reservation_id,
                purpose,
                credits,
                from_balance,
                remaining,
                at,
                ..
            } => {
                self.balance -= i64::from(*from_balance);
                if let Some(open) = self.open.get_mut(reservation_id) {
                    open.1 += i64::from(*credits);
                }
                reference = Some(purpose.clone());
                ("ReservationIncreased", *at, Some(*remaining))
            }
            AccountEvent::ReservationReduced {
                reservation_id,
                purpose,
                credits,
                from_balance,
                overage,
                returned,
                remaining,
                at,
            } => {
                self.balance += i64::from(*returned);
                if from_balance + overage != *credits {
                    checks.push(check(
                        format!("event {sequence}: reduced = from balance + overage"),
                        credits,
                        from_balance + overage,
                    ));
                }
                if returned > from_balance {
                    checks.push(check(
                        format!("event {sequence}: returned ≤ reduced from the balance"),
                        from_balance,
                        returned,
                    ));
                }
                match self.open.get_mut(reservation_id) {
                    Some(open) => open.1 -= i64::from(*credits),
                    None => self.double_settled += 1,
                }
                reference = Some(purpose.clone());
                ("ReservationReduced", *at, Some(*remaining))
            }
            AccountEvent::CreditsReleased {
                reservation_id,
                purpose,
                returned,
                remaining,
                at,
                ..
            } => {
                self.balance += i64::from(*returned);
                if self.open.remove(reservation_id).is_none() {
                    self.double_settled += 1;
                }
                reference = Some(purpose.clone());
                ("CreditsReleased", *at, Some(*remaining))
            }
            AccountEvent::CreditsCaptured {
                language_credits,
                reservation_id,
                purpose,
                credits,
                overage,
                overage_rate,
                overage_cost: cost,
                remaining,
                at,
            } => {
                match self.open.remove(reservation_id) {
                    Some((_, held)) if held != i64::from(*credits) => checks.push(check(
                        format!("event {sequence}: captured = reserved for {reservation_id}"),
                        held,
                        credits,
                    )),
                    Some(_) => {}
                    None => self.double_settled += 1,
                }
                if language_credits > credits {
                    checks.push(check(
                        format!("event {sequence}: language credits ≤ credits captured"),
                        credits,
                        language_credits,
                    ));
                }
                if overage_rate.times(*overage) != *cost {
                    checks.push(check(
                        format!("event {sequence}: overage cost = credits × rate"),
                        overage_rate.times(*overage).0,
                        cost.0,
                    ));
                }
                self.period_captured += i64::from(*credits);
                self.period_language += i64::from(*language_credits);
                self.period_overage += i64::from(*overage);
                self.period_overage_cost += cost.0;
                if purpose.starts_with("job_") {
                    self.job_captures += 1;
                    self.job_captured_credits += i64::from(*credits);
                    self.job_language_credits += i64::from(*language_credits);
                }
                language_charged = i64::from(*language_credits);
                (overage_credits, overage_cost, charged) =
                    (i64::from(*overage), cost.0, i64::from(*credits));
                reference = Some(purpose.clone());
                ("CreditsCaptured", *at, Some(*remaining))
            }
            AccountEvent::OverageChanged { at, .. } => ("OverageChanged", *at, None),
            AccountEvent::WebhookSecretRotated { at, .. } => ("WebhookSecretRotated", *at, None),
            AccountEvent::PlanChanged {
                from,
                to,
                allocation,
                credits_added,
                remaining,
                at,
                ..
            } => {
                self.balance += i64::from(*credits_added);
                self.plan = to.to_string();
                self.allocation = i64::from(*allocation);
                self.pending_plan = None;
                reference = Some(format!("plan {from} -> {to}"));
                ("PlanChanged", *at, Some(*remaining))
            }
            AccountEvent::PlanChangeScheduled {
                from,
                to,
                effective_at,
                at,
            } => {
                self.pending_plan = Some(to.to_string());
                reference = Some(format!(
                    "plan {from} -> {to} from {}",
                    timestamp(*effective_at)
                ));
                ("PlanChangeScheduled", *at, None)
            }
            AccountEvent::ScheduledPlanChangeCancelled { to, at } => {
                self.pending_plan = None;
                reference = Some(format!("plan {to} no longer scheduled"));
                ("ScheduledPlanChangeCancelled", *at, None)
            }
            AccountEvent::DefaultLanguageChanged { language, at } => {
                reference = Some(format!("language {}", language.as_str()));
                ("DefaultLanguageChanged", *at, None)
            }
        };
        if let Some(recorded) = recorded {
            if i64::from(recorded) != self.balance {
                checks.push(check(
                    format!("event {sequence} ({name}): balance"),
                    self.balance,
                    recorded,
                ));
            }
        }
        let row = LedgerRow {
            sequence,
            at: timestamp(at),
            event: name.to_string(),
            reference,
            credits: self.balance - before,
            balance: self.balance,
            charged,
            language_credits: language_charged,
            overage_credits,
            overage_cost_usd: altframe_domain::Micros(overage_cost).as_dollars(),
        };
        (row, at)
    }
}
