//! Webhooks the Standard Webhooks way: the signature of a message, and the retry schedule.
pub mod schedule;
pub mod signature;
