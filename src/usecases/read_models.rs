//! The read models as a whole: catching up with the events, and rebuilding from them.
use super::{App, Failure};
use crate::adapters::subscriber::Subscriber;

/// How long a caught-up read is waited for, at most.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// Applies every event committed before the call.
pub async fn catch_up(app: &App) -> Result<(), Failure> {
    app.read_models.catch_up_fully(PATIENCE).await?;
    Ok(())
}

/// Empties every read model and applies every event again. Returns the events applied,
/// summed over read models. The work queue's own state (attempts, leases, held images) is
/// not a read model and stays as it is.
pub async fn rebuild(app: &App) -> Result<usize, Failure> {
    Ok(app.read_models.rebuild().await?)
}
