//! Keeps the read models up to date from the event store.
//!
//! The framework's in-process query dispatch is not used: it runs after the commit, outside
//! its transaction, and only for this process's own commits. Instead every projection reads
//! the global order from its checkpoint. Commands wake the projector; a poll covers commits
//! made by other processes and anything a crash interrupted.
use std::sync::Arc;
use std::time::Duration;

use altframe_projections::{checkpoint, Db, Projection, ProjectionError};
use tokio::sync::{Mutex, Notify};

use crate::store::feed;

const BATCH: i64 = 500;

pub struct Projector {
    db: Db,
    running: Mutex<()>,
    wake: Notify,
}

impl Projector {
    pub fn new(db: Db) -> Arc<Projector> {
        Arc::new(Projector {
            db,
            running: Mutex::new(()),
            wake: Notify::new(),
        })
    }

    /// Applies every event committed before the call to every read model. Returns how many
    /// events were applied, summed over projections.
    pub async fn catch_up(&self) -> Result<usize, ProjectionError> {
        let _one_at_a_time = self.running.lock().await;
        let mut applied = 0;
        for projection in Projection::ALL {
            applied += self.catch_up_one(projection).await?;
        }
        Ok(applied)
    }

    /// Catches up until no committed event is left unapplied. On Postgres, an event only
    /// becomes readable once every older transaction in the cluster has ended, so a plain
    /// `catch_up` right after a commit can come back short; this waits (briefly) for those.
    /// Gives up quietly after `patience`: the background loop finishes the job.
    pub async fn catch_up_fully(&self, patience: Duration) -> Result<usize, ProjectionError> {
        let deadline = tokio::time::Instant::now() + patience;
        let mut applied = self.catch_up().await?;
        while self.has_pending().await? && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
            applied += self.catch_up().await?;
        }
        Ok(applied)
    }

    /// Whether any committed event lies beyond some projection's checkpoint.
    async fn has_pending(&self) -> Result<bool, ProjectionError> {
        for projection in Projection::ALL {
            if feed::has_events_after(&self.db, projection.name()).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn catch_up_one(&self, projection: Projection) -> Result<usize, ProjectionError> {
        let mut applied = 0;
        loop {
            let mut tx = self.db.begin().await?;
            let at = checkpoint::lock(&mut tx, projection.name()).await?;
            let events = feed::after(&mut tx, &at, BATCH).await?;
            let Some(last) = events.last() else {
                tx.commit().await?;
                return Ok(applied);
            };
            let next = checkpoint::Checkpoint {
                transaction_id: last.transaction_id.clone(),
                position: last.position,
            };
            for event in &events {
                projection.apply(&mut tx, event).await?;
            }
            checkpoint::save(&mut tx, projection.name(), &next).await?;
            tx.commit().await?;
            applied += events.len();
            if (events.len() as i64) < BATCH {
                return Ok(applied);
            }
        }
    }

    /// Asks the background loop to catch up now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Catches up whenever woken, and at least every `poll`.
    pub fn spawn(self: &Arc<Self>, poll: Duration) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                if let Err(e) = this.catch_up().await {
                    tracing::error!(error = %e, "projection failed; retrying");
                }
                tokio::select! {
                    _ = this.wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        })
    }
}
