//! Background tasks: the process manager, bulk workers, webhook delivery and the reaper.
pub mod bulk_worker;
pub mod process_manager;
pub mod reaper;
pub mod webhooks;
