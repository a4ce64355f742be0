//! The running of it all: the command line, settings, start-up, the HTTP server and the
//! background tasks.
pub mod cli;
pub mod server;
pub mod settings;
pub mod tasks;
