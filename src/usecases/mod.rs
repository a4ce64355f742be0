//! Use cases: each runs the commands of one user action against the aggregates, in an order
//! that leaves a consistent state at every step, and keeps outside effects out of `handle()`.
pub mod accounts;
pub mod app;
pub mod audit;
pub mod bulk;
pub mod generate;
pub mod settled_here;
