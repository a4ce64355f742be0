//! Integration tests: the real service on port 0, against real SQLite files and real Postgres
//! databases, one fresh store per test. One test binary keeps builds quick.
mod support;

mod audit;
mod auth;
mod bounds;
mod browser;
mod bulk;
mod cli;
mod crash;
mod credits;
mod dashboard;
mod docs;
mod errors;
mod fitted;
mod fitted_openai;
mod fuzz;
mod generate;
mod health;
mod history;
mod https;
mod idempotency;
mod intake;
mod layers;
mod metrics;
mod model_answers;
mod openai;
mod openapi;
mod owners;
mod projections;
mod queue;
mod rate_limits;
mod reaper;
mod rebuild;
mod settlement;
mod store;
mod upcast;
