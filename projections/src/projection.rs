use std::collections::BTreeMap;

use crate::jobs::JobRow;
use crate::staged::Staged;
use crate::usage::UsageRow;
use crate::work::ReservationRow;
use crate::{
    accounts, api_keys, batches, jobs, usage, work, DecodedEvent, ProjectionError, StoredEvent, Tx,
};

/// The rows a round of events changes in memory, written by [`Round::finish`] in the round's
/// transaction (see `staged`). The busiest read models live here; the others write as they go.
#[derive(Default)]
pub struct Round {
    pub(crate) jobs: Staged<JobRow>,
    pub(crate) usage: Staged<UsageRow>,
    pub(crate) reservations: Staged<ReservationRow>,
    pub(crate) credit_totals: BTreeMap<&'static str, i64>,
}

impl Round {
    /// Loads, one statement per table, the rows the round's events will change.
    pub async fn prefetch(
        &mut self,
        tx: &mut Tx,
        events: &[(StoredEvent, DecodedEvent)],
    ) -> Result<(), sqlx::Error> {
        let ids = |wanted: fn(&DecodedEvent) -> bool| -> Vec<&str> {
            events
                .iter()
                .filter(|(_, decoded)| wanted(decoded))
                .map(|(event, _)| event.aggregate_id.as_str())
                .collect()
        };
        // A job whose row this round creates has nothing to load.
        let created: std::collections::HashSet<&str> = events
            .iter()
            .filter(|(_, decoded)| matches!(decoded, DecodedEvent::Job(e) if jobs::creates_row(e)))
            .map(|(event, _)| event.aggregate_id.as_str())
            .collect();
        let mut jobs = ids(|d| matches!(d, DecodedEvent::Job(_)));
        jobs.retain(|id| !created.contains(id));
        self.jobs.prefetch(tx, &jobs).await?;
        let accounts = ids(|d| matches!(d, DecodedEvent::Account(_)));
        self.usage.prefetch(tx, &accounts).await
    }

    pub async fn finish(self, tx: &mut Tx) -> Result<(), sqlx::Error> {
        self.jobs.flush(tx).await?;
        self.usage.flush(tx).await?;
        self.reservations.flush(tx).await?;
        usage::add_totals(tx, &self.credit_totals).await
    }
}

/// The read models. Each keeps its own checkpoint, so one can be rebuilt without the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    Accounts,
    ApiKeys,
    Jobs,
    Batches,
    Work,
    Usage,
}

impl Projection {
    pub const ALL: [Projection; 6] = [
        Projection::Accounts,
        Projection::ApiKeys,
        Projection::Jobs,
        Projection::Batches,
        Projection::Work,
        Projection::Usage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Projection::Accounts => "accounts",
            Projection::ApiKeys => "api_keys",
            Projection::Jobs => "jobs",
            Projection::Batches => "batches",
            Projection::Work => "work",
            Projection::Usage => "usage",
        }
    }

    /// The tables this projection owns, emptied before a rebuild.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Projection::Accounts => &["accounts"],
            Projection::ApiKeys => &["api_keys"],
            Projection::Jobs => &["jobs"],
            Projection::Batches => &["batches", "webhook_attempts"],
            Projection::Work => &["bulk_queue", "webhook_queue", "open_reservations"],
            Projection::Usage => &["usage", "credit_totals"],
        }
    }

    /// Every table of every read model.
    pub fn all_tables() -> Vec<&'static str> {
        Projection::ALL
            .iter()
            .flat_map(|p| p.tables().iter().copied())
            .collect()
    }

    /// Applies one event, decoded once by the caller for every projection.
    pub async fn apply(
        self,
        tx: &mut Tx,
        round: &mut Round,
        event: &StoredEvent,
        decoded: &DecodedEvent,
    ) -> Result<(), ProjectionError> {
        match (self, decoded) {
            (Projection::Accounts, DecodedEvent::Account(e)) => {
                accounts::apply(tx, &event.aggregate_id, e).await?
            }
            (Projection::ApiKeys, DecodedEvent::ApiKey(e)) => {
                api_keys::apply(tx, &event.aggregate_id, e).await?
            }
            (Projection::Jobs, DecodedEvent::Job(e)) => {
                jobs::apply_job(tx, round, &event.aggregate_id, e).await?
            }
            (Projection::Jobs, DecodedEvent::Batch(e)) => jobs::apply_batch(round, e),
            (Projection::Batches, DecodedEvent::Batch(e)) => {
                batches::apply(tx, &event.aggregate_id, e).await?
            }
            (Projection::Work, DecodedEvent::Batch(e)) => {
                work::apply_batch(tx, &event.aggregate_id, e).await?
            }
            (Projection::Work, DecodedEvent::Job(e)) => {
                work::apply_job(tx, &event.aggregate_id, e).await?
            }
            (Projection::Usage, DecodedEvent::Account(e)) => {
                usage::apply(tx, round, &event.aggregate_id, e).await?
            }
            (Projection::Work, DecodedEvent::Account(e)) => {
                work::apply_account(tx, round, &event.aggregate_id, e).await?
            }
            _ => {}
        }
        Ok(())
    }
}
