//! What the read models and the process manager share: they follow the event feed from a
//! checkpoint, and can wait out Postgres transactions that still hide committed events. The
//! loop that runs them in the background is `run::tasks`.
use std::time::Duration;

#[async_trait::async_trait]
pub trait Subscriber: Send + Sync + 'static {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Handles every event committed before the call. Returns how many it read.
    async fn catch_up(&self) -> Result<usize, Self::Error>;

    /// Whether a committed event lies beyond the checkpoint, readable or not yet.
    async fn has_pending(&self) -> Result<bool, Self::Error>;

    /// Catches up until no committed event is left unread. On Postgres an event becomes
    /// readable only once every older transaction in the cluster has ended, so a plain
    /// `catch_up` right after a commit can come back short; this waits for those, up to
    /// `patience`, then leaves the rest to the background loop.
    async fn catch_up_fully(&self, patience: Duration) -> Result<usize, Self::Error> {
        let deadline = tokio::time::Instant::now() + patience;
        let mut read = self.catch_up().await?;
        while self.has_pending().await? && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
            read += self.catch_up().await?;
        }
        Ok(read)
    }
}
