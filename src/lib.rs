//! The AltFrame service, in layers; a file's folder says what it may touch.
//!
//! - [`api`]: the API edge (HTTP routes and layers, OpenAPI). Calls use cases; never the
//!   event store or the work queue.
//! - [`mcp`]: the MCP server, another door onto the same use cases, for AI agents (over
//!   standard input and output, and at `/mcp` on the API). Like the API edge, it never reaches
//!   the event store or the work queue.
//! - [`usecases`]: what users and operators do (generate, submit a batch, issue a key, ...).
//!   The only code that issues commands to the aggregates.
//! - [`adapters`]: what touches the world: the event store and read models, the work queue,
//!   vision models, image intake, outbound HTTP, webhook signing, metrics, the clock.
//! - [`run`]: the running of it all: the command line, settings, start-up, the server and
//!   the background tasks.
//!
//! The aggregates live in the `altframe-domain` crate (pure: no I/O) and the read models in
//! `altframe-projections`.
#![forbid(unsafe_code)]

pub mod adapters;
pub mod api;
pub mod mcp;
pub mod run;
pub mod usecases;
