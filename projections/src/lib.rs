//! Read models and the SQL that keeps and reads them. Every read model is derived from events
//! alone: each projection applies events in global order, in one transaction with its
//! checkpoint, so none is missed or applied twice and any of them can be dropped and rebuilt.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod api_keys;
pub mod batches;
mod binary_copy;
pub mod checkpoint;
pub mod db;
mod event;
pub mod indexes;
pub mod jobs;
mod projection;
pub mod staged;
pub mod usage;
pub mod work;

pub use db::{Arg, Db, Tx};
pub use event::{timestamp, DecodedEvent, StoredEvent};
pub use projection::{Projection, Round};

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("read models are still behind the events after catching up")]
    Incomplete,
    #[error("event {position} ({event_type}) cannot be read: {source}")]
    Decode {
        position: i64,
        event_type: String,
        source: serde_json::Error,
    },
}
