//! Usage: an account's plan, billing period and balance.
use altframe_domain::account::AccountEvent;
use serde::Serialize;

use crate::{on_db, timestamp, Arg, Db, Tx};

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
    pub period_start: String,
    pub period_end: String,
}

pub(crate) async fn apply(tx: &mut Tx, id: &str, event: &AccountEvent) -> Result<(), sqlx::Error> {
    add_to_totals(tx, event).await?;
    let remaining = |r: u32| Arg::Int(i64::from(r));
    match event {
        AccountEvent::AccountOpened {
            plan,
            overage_enabled,
            period,
            allocation,
            ..
        } => {
            tx.execute(
                "INSERT INTO usage (account_id, plan, monthly_allocation, remaining, rollover,
                                    used_this_period, overage_credits, overage_cost_micros,
                                    overage_enabled, overage_rate_micros, period_start, period_end)
                 VALUES ($1, $2, $3, $3, 0, 0, 0, 0, $4, $5, $6, $7)",
                vec![
                    id.into(),
                    plan.as_str().into(),
                    Arg::Int(i64::from(*allocation)),
                    (*overage_enabled).into(),
                    Arg::Int(plan.overage_rate().map_or(0, |r| r.0)),
                    timestamp(period.start).into(),
                    timestamp(period.end).into(),
                ],
            )
            .await?;
        }
        AccountEvent::BillingPeriodStarted {
            period,
            allocation,
            rollover,
            remaining: r,
            ..
        } => {
            tx.execute(
                "UPDATE usage SET monthly_allocation = $1, rollover = $2, remaining = $3,
                        used_this_period = 0, overage_credits = 0, overage_cost_micros = 0,
                        period_start = $4, period_end = $5
                  WHERE account_id = $6",
                vec![
                    Arg::Int(i64::from(*allocation)),
                    Arg::Int(i64::from(*rollover)),
                    remaining(*r),
                    timestamp(period.start).into(),
                    timestamp(period.end).into(),
                    id.into(),
                ],
            )
            .await?;
        }
        AccountEvent::CreditsReserved { remaining: r, .. }
        | AccountEvent::ReservationIncreased { remaining: r, .. }
        | AccountEvent::CreditsReleased { remaining: r, .. } => {
            tx.execute(
                "UPDATE usage SET remaining = $1 WHERE account_id = $2",
                vec![remaining(*r), id.into()],
            )
            .await?;
        }
        AccountEvent::CreditsCaptured {
            credits,
            overage,
            overage_cost,
            remaining: r,
            ..
        } => {
            tx.execute(
                "UPDATE usage SET remaining = $1, used_this_period = used_this_period + $2,
                        overage_credits = overage_credits + $3,
                        overage_cost_micros = overage_cost_micros + $4
                  WHERE account_id = $5",
                vec![
                    remaining(*r),
                    Arg::Int(i64::from(*credits)),
                    Arg::Int(i64::from(*overage)),
                    Arg::Int(overage_cost.0),
                    id.into(),
                ],
            )
            .await?;
        }
        AccountEvent::OverageChanged { enabled, .. } => {
            tx.execute(
                "UPDATE usage SET overage_enabled = $1 WHERE account_id = $2",
                vec![(*enabled).into(), id.into()],
            )
            .await?;
        }
        AccountEvent::WebhookSecretRotated { .. } => {}
    }
    Ok(())
}

/// Keeps the system-wide `credit_totals`.
async fn add_to_totals(tx: &mut Tx, event: &AccountEvent) -> Result<(), sqlx::Error> {
    let (movement, credits) = match event {
        AccountEvent::CreditsReserved { credits, .. }
        | AccountEvent::ReservationIncreased { credits, .. } => ("reserved", credits),
        AccountEvent::CreditsCaptured { credits, .. } => ("captured", credits),
        AccountEvent::CreditsReleased { credits, .. } => ("released", credits),
        _ => return Ok(()),
    };
    tx.execute(
        "INSERT INTO credit_totals (movement, credits) VALUES ($1, $2)
         ON CONFLICT (movement) DO UPDATE SET credits = credit_totals.credits + excluded.credits",
        vec![movement.into(), Arg::Int(i64::from(*credits))],
    )
    .await?;
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
                      period_start, period_end
                 FROM usage WHERE account_id = $1";
    on_db!(db, pool => sqlx::query_as::<_, UsageRow>(sql).bind(account_id).fetch_optional(pool).await)
}
