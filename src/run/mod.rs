//! The running of it all: the command line, settings, start-up, the HTTP server, the MCP
//! server on standard input and output, the background tasks and the logs.
pub mod cli;
pub mod mcp;
pub mod server;
pub mod settings;
pub mod startup;
pub mod tasks;
pub mod telemetry;
