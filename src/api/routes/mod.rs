//! The API's handlers, one file per resource, and the files our pages share.
pub mod assets;
pub mod batches;
pub mod bulk;
pub mod generate;
pub mod health;
pub mod history;
pub mod scan;
pub mod spec;
pub mod usage;
pub mod validate;
