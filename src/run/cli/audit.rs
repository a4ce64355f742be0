//! `altframe audit`: the ledger of the audit use case, printed as text, JSON or CSV; the exit
//! status says whether it reconciles.
use altframe_domain::AccountId;

use super::{print_json, CliError};
use crate::usecases::audit::{self, AuditReport};
use crate::usecases::App;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    Text,
    Json,
    Csv,
}

pub async fn audit(
    app: &App,
    account: &str,
    from: Option<&str>,
    to: Option<&str>,
    format: AuditFormat,
) -> Result<(), CliError> {
    let from = from.map(|f| parse_instant(f, false)).transpose()?;
    let to = to.map(|t| parse_instant(t, true)).transpose()?;
    let report = audit::audit(app, &AccountId::new(account), from, to).await?;
    match format {
        AuditFormat::Text => print!("{}", to_text(&report)),
        AuditFormat::Json => print_json(&report)?,
        AuditFormat::Csv => print!("{}", to_csv(&report)),
    }
    if !report.ok {
        let failed: Vec<String> = report
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{} (expected {}, found {})", c.name, c.expected, c.actual))
            .collect();
        return Err(CliError::NotReconciled(failed.join("; ")));
    }
    Ok(())
}

/// A date means its whole day: from its first instant, or to its last.
fn parse_instant(raw: &str, end_of_day: bool) -> Result<chrono::DateTime<chrono::Utc>, CliError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let day =
        chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|source| CliError::BadDate {
            raw: raw.to_string(),
            source,
        })?;
    let time = if end_of_day {
        chrono::NaiveTime::from_hms_milli_opt(23, 59, 59, 999).unwrap_or_default()
    } else {
        chrono::NaiveTime::MIN
    };
    Ok(day.and_time(time).and_utc())
}

/// The report as text: the ledger, then each check.
fn to_text(report: &AuditReport) -> String {
    let mut out = format!(
        "Credit ledger of {} ({} events)\n\n",
        report.account_id, report.events
    );
    out.push_str(&format!(
        "{:>5}  {:<24}  {:<22}  {:<32}  {:>8}  {:>8}  {:>8}  {:>9}  {:>8}  {:>10}\n",
        "SEQ",
        "TIME",
        "EVENT",
        "FOR",
        "CREDITS",
        "BALANCE",
        "CHARGED",
        "LANGUAGES",
        "OVERAGE",
        "PRICE USD"
    ));
    for r in &report.rows {
        out.push_str(&format!(
            "{:>5}  {:<24}  {:<22}  {:<32}  {:>+8}  {:>8}  {:>8}  {:>9}  {:>8}  {:>10.6}\n",
            r.sequence,
            r.at,
            r.event,
            r.reference.as_deref().unwrap_or("-"),
            r.credits,
            r.balance,
            r.charged,
            r.language_credits,
            r.overage_credits,
            r.overage_cost_usd
        ));
    }
    out.push_str("\nReconciliation\n");
    for c in &report.checks {
        let mark = if c.ok { "ok      " } else { "MISMATCH" };
        out.push_str(&format!(
            "  {mark}  {}: expected {}, found {}\n",
            c.name, c.expected, c.actual
        ));
    }
    out.push_str(if report.ok {
        "\nThe ledger reconciles.\n"
    } else {
        "\nThe ledger does NOT reconcile.\n"
    });
    out
}

/// The ledger as CSV, one row per event.
fn to_csv(report: &AuditReport) -> String {
    let mut out = String::from(
        "sequence,time,event,reference,credits,balance,charged,overage_credits,overage_cost_usd,\
         language_credits\n",
    );
    for r in &report.rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{:.6},{}\n",
            r.sequence,
            r.at,
            r.event,
            r.reference.as_deref().unwrap_or(""),
            r.credits,
            r.balance,
            r.charged,
            r.overage_credits,
            r.overage_cost_usd,
            r.language_credits
        ));
    }
    out
}
