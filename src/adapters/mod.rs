//! What touches the world: databases, the network, the model, the clock and the OS's
//! randomness. Adapters know nothing of use cases, the API or the running of the service.
pub mod clock;
pub mod idempotency;
pub mod ids;
pub mod image;
pub mod key_usage;
pub mod logins;
pub mod metrics;
pub mod outbound;
pub mod page;
pub mod passwords;
pub mod queue;
pub mod rate_limits;
pub mod read_models;
pub mod sessions;
pub mod sign_in_limits;
pub mod store;
pub mod subscriber;
pub mod vision;
pub mod webhooks;
