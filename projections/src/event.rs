use chrono::{DateTime, SecondsFormat, Utc};

use altframe_domain::account::AccountEvent;
use altframe_domain::api_key::ApiKeyEvent;
use altframe_domain::batch::BatchEvent;
use altframe_domain::job::JobEvent;

use crate::ProjectionError;

/// An event as the store holds it, with its place in the global order.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub position: i64,
    /// Postgres: the writing transaction's id (xid8, as text); SQLite: "0".
    pub transaction_id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// The event's JSON, as stored (after any upcasting).
    pub payload: String,
}

/// A stored event decoded into its aggregate's event type.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodedEvent {
    Account(AccountEvent),
    ApiKey(ApiKeyEvent),
    Job(JobEvent),
    Batch(BatchEvent),
    /// An aggregate this version does not project.
    Other,
}

impl StoredEvent {
    /// The checkpoint of a projection that has applied this event and all before it.
    pub fn checkpoint(&self) -> crate::checkpoint::Checkpoint {
        crate::checkpoint::Checkpoint {
            transaction_id: self.transaction_id.clone(),
            position: self.position,
        }
    }

    /// Where this event falls in the global order, as [`crate::checkpoint::Checkpoint::order`].
    pub fn order(&self) -> (u64, i64) {
        crate::checkpoint::order(&self.transaction_id, self.position)
    }

    pub fn decode(&self) -> Result<DecodedEvent, ProjectionError> {
        let err = |source| ProjectionError::Decode {
            position: self.position,
            event_type: self.event_type.clone(),
            source,
        };
        let payload = self.payload.as_str();
        Ok(match self.aggregate_type.as_str() {
            "Account" => DecodedEvent::Account(serde_json::from_str(payload).map_err(err)?),
            "ApiKey" => DecodedEvent::ApiKey(serde_json::from_str(payload).map_err(err)?),
            "Job" => DecodedEvent::Job(serde_json::from_str(payload).map_err(err)?),
            "Batch" => DecodedEvent::Batch(serde_json::from_str(payload).map_err(err)?),
            _ => DecodedEvent::Other,
        })
    }
}

/// How read models store instants: RFC 3339 in UTC with milliseconds, which sorts as text and
/// is what the API prints.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        let at: DateTime<Utc> = "2025-07-15T10:30:00.8204Z".parse().unwrap();
        assert_eq!(timestamp(at), "2025-07-15T10:30:00.820Z");
    }

    #[test]
    fn events_of_unknown_aggregates_are_skipped_and_bad_payloads_reported() {
        let mut e = StoredEvent {
            position: 7,
            transaction_id: "0".into(),
            aggregate_type: "Elsewhere".into(),
            aggregate_id: "x".into(),
            sequence: 1,
            event_type: "Something".into(),
            event_version: "1.0".into(),
            payload: "{}".into(),
        };
        assert_eq!(e.decode().unwrap(), DecodedEvent::Other);
        e.aggregate_type = "Account".into();
        assert!(matches!(
            e.decode(),
            Err(ProjectionError::Decode { position: 7, .. })
        ));
    }
}
