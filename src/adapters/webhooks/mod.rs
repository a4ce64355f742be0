//! Webhook messages: the `batch.completed` payload, its Standard Webhooks signature and the
//! retry schedule.
pub mod payload;
pub mod schedule;
pub mod signature;
