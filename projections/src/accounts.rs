//! The accounts read model: who the accounts are, for the CLI and for key issuing.
use altframe_domain::account::AccountEvent;
use serde::Serialize;

use crate::{on_db, timestamp, Db, Tx};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AccountRow {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub language: String,
    pub overage_enabled: bool,
    pub created_at: String,
}

pub(crate) async fn apply(tx: &mut Tx, id: &str, event: &AccountEvent) -> Result<(), sqlx::Error> {
    match event {
        AccountEvent::AccountOpened {
            name,
            plan,
            language,
            overage_enabled,
            at,
            ..
        } => {
            tx.execute(
                "INSERT INTO accounts (id, name, plan, language, overage_enabled, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                vec![
                    id.into(),
                    name.clone().into(),
                    plan.as_str().into(),
                    language.as_str().into(),
                    (*overage_enabled).into(),
                    timestamp(*at).into(),
                ],
            )
            .await?;
        }
        AccountEvent::OverageChanged { enabled, .. } => {
            tx.execute(
                "UPDATE accounts SET overage_enabled = $1 WHERE id = $2",
                vec![(*enabled).into(), id.into()],
            )
            .await?;
        }
        AccountEvent::PlanChanged {
            to,
            overage_enabled,
            ..
        } => {
            tx.execute(
                "UPDATE accounts SET plan = $1, overage_enabled = $2 WHERE id = $3",
                vec![to.as_str().into(), (*overage_enabled).into(), id.into()],
            )
            .await?;
        }
        AccountEvent::DefaultLanguageChanged { language, .. } => {
            tx.execute(
                "UPDATE accounts SET language = $1 WHERE id = $2",
                vec![language.as_str().into(), id.into()],
            )
            .await?;
        }
        AccountEvent::PlanChangeScheduled { .. }
        | AccountEvent::ScheduledPlanChangeCancelled { .. }
        | AccountEvent::BillingPeriodStarted { .. }
        | AccountEvent::ReservationIncreased { .. }
        | AccountEvent::ReservationReduced { .. }
        | AccountEvent::WebhookSecretRotated { .. }
        | AccountEvent::CreditsReserved { .. }
        | AccountEvent::CreditsCaptured { .. }
        | AccountEvent::CreditsReleased { .. } => {}
    }
    Ok(())
}

const COLUMNS: &str = "id, name, plan, language, overage_enabled, created_at";

pub async fn list(db: &Db) -> Result<Vec<AccountRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM accounts ORDER BY created_at, id");
    on_db!(db, pool => sqlx::query_as::<_, AccountRow>(&sql).fetch_all(pool).await)
}

pub async fn find(db: &Db, id: &str) -> Result<Option<AccountRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
    on_db!(db, pool => sqlx::query_as::<_, AccountRow>(&sql).bind(id).fetch_optional(pool).await)
}

/// What a request acting for an account needs of it: its plan and language, and a scheduled
/// downgrade with when it applies (from the usage read model).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ActingRow {
    pub id: String,
    pub plan: String,
    pub language: String,
    pub pending_plan: Option<String>,
    pub pending_plan_at: Option<String>,
}

pub async fn acting(db: &Db, id: &str) -> Result<Option<ActingRow>, sqlx::Error> {
    let sql = "SELECT a.id, a.plan, a.language, u.pending_plan, u.pending_plan_at
                 FROM accounts a LEFT JOIN usage u ON u.account_id = a.id
                WHERE a.id = $1";
    on_db!(db, pool => sqlx::query_as::<_, ActingRow>(sql).bind(id).fetch_optional(pool).await)
}
