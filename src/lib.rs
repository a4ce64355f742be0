//! The AltFrame service: HTTP API, storage, image intake, vision providers and the CLI.
#![forbid(unsafe_code)]

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod http;
pub mod ids;
pub mod image;
pub mod outbound;
pub mod projector;
pub mod server;
pub mod service;
pub mod settlement;
pub mod store;
pub mod subscriber;
pub mod vision;
