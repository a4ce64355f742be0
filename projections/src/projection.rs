use crate::{
    accounts, api_keys, batches, jobs, usage, work, DecodedEvent, ProjectionError, StoredEvent, Tx,
};

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

    pub async fn apply(self, tx: &mut Tx, event: &StoredEvent) -> Result<(), ProjectionError> {
        match (self, event.decode()?) {
            (Projection::Accounts, DecodedEvent::Account(e)) => {
                accounts::apply(tx, &event.aggregate_id, &e).await?
            }
            (Projection::ApiKeys, DecodedEvent::ApiKey(e)) => {
                api_keys::apply(tx, &event.aggregate_id, &e).await?
            }
            (Projection::Jobs, DecodedEvent::Job(e)) => {
                jobs::apply_job(tx, &event.aggregate_id, &e).await?
            }
            (Projection::Jobs, DecodedEvent::Batch(e)) => jobs::apply_batch(tx, &e).await?,
            (Projection::Batches, DecodedEvent::Batch(e)) => {
                batches::apply(tx, &event.aggregate_id, &e).await?
            }
            (Projection::Work, DecodedEvent::Batch(e)) => {
                work::apply_batch(tx, &event.aggregate_id, &e).await?
            }
            (Projection::Work, DecodedEvent::Job(e)) => {
                work::apply_job(tx, &event.aggregate_id, &e).await?
            }
            (Projection::Usage, DecodedEvent::Account(e)) => {
                usage::apply(tx, &event.aggregate_id, &e).await?
            }
            (Projection::Work, DecodedEvent::Account(e)) => {
                work::apply_account(tx, &event.aggregate_id, &e).await?
            }
            _ => {}
        }
        Ok(())
    }
}
