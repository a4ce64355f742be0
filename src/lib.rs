//! The AltFrame service: HTTP API, storage, image intake, vision providers and the CLI.
#![forbid(unsafe_code)]

pub mod app;
pub mod audit;
pub mod bulk_worker;
pub mod cli;
pub mod clock;
pub mod config;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod image;
pub mod metrics;
pub mod openapi;
pub mod outbound;
pub mod process_manager;
pub mod projector;
pub mod rate_limit;
pub mod reaper;
pub mod server;
pub mod service;
pub mod settled_here;
pub mod store;
pub mod subscriber;
pub mod vision;
pub mod webhooks;
