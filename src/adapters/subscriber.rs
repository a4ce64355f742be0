//! What the projector and the process manager share: they follow the event feed from a checkpoint,
//! catching up when woken and on a poll, and can wait out Postgres transactions that still
//! hide committed events.
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

#[async_trait::async_trait]
pub trait Subscriber: Send + Sync + 'static {
    type Error: std::fmt::Display + Send;

    fn name(&self) -> &'static str;

    fn wake_signal(&self) -> &Notify;

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

    /// Asks the background loop to catch up now.
    fn wake(&self) {
        self.wake_signal().notify_one();
    }
}

/// How long a woken subscriber waits for more commits before catching up.
const COALESCE: Duration = Duration::from_millis(20);

/// Runs `subscriber` in the background: whenever woken (after `COALESCE`), and at least every
/// `poll`.
pub fn spawn<S: Subscriber>(subscriber: Arc<S>, poll: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = subscriber.catch_up().await {
                tracing::error!(subscriber = subscriber.name(), error = %e, "catching up failed; retrying");
            }
            tokio::select! {
                _ = subscriber.wake_signal().notified() => {
                    // Let the commits of concurrent requests gather, and apply them in one
                    // round: under load a round per request would cost more than the
                    // requests. Reads do not wait for this: they catch up themselves.
                    tokio::time::sleep(COALESCE).await;
                }
                _ = tokio::time::sleep(poll) => {}
            }
        }
    })
}
