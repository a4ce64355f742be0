use crate::{accounts, api_keys, DecodedEvent, ProjectionError, StoredEvent, Tx};

/// The read models. Each keeps its own checkpoint, so one can be rebuilt without the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    Accounts,
    ApiKeys,
}

impl Projection {
    pub const ALL: [Projection; 2] = [Projection::Accounts, Projection::ApiKeys];

    pub fn name(self) -> &'static str {
        match self {
            Projection::Accounts => "accounts",
            Projection::ApiKeys => "api_keys",
        }
    }

    /// The tables this projection owns, emptied before a rebuild.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Projection::Accounts => &["accounts"],
            Projection::ApiKeys => &["api_keys"],
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
            _ => {}
        }
        Ok(())
    }
}
