//! AltFrame's domain: aggregates, their commands and events, and the value types that requests
//! are parsed into. Pure: no I/O, no clock, no randomness. Time and identifiers arrive in
//! commands, so every decision can be replayed and tested.
#![forbid(unsafe_code)]

pub mod account;
pub mod api_key;
pub mod batch;
pub mod credits;
pub mod generation;
pub mod ids;
pub mod image;
pub mod job;
pub mod languages;
pub mod money;
pub mod period;
pub mod plan;
pub mod text;
pub mod validation;

pub use credits::Credits;
pub use ids::{AccountId, BatchId, JobId, KeyId, ReservationId};
pub use money::Micros;
